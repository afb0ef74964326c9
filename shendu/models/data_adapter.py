"""Data for fit/evaluate/predict as batches: arrays (or lists/dicts of them, Tensors), Datasets, generators.

Arrays are never copied per epoch: a shuffled index array is gathered batch by batch, and float64 batches
become floatx (float32) one batch at a time. `validation_split` keeps the last fraction, before shuffling.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from shendu import backend, random
from shendu.tensor import Tensor
from shendu.utils.tree import flatten, map_structure, pack_sequence_as

Batch = tuple[Any, Any, Any]


def unpack_x_y_sample_weight(data: Any) -> Batch:
    """(x,), (x, y) or (x, y, sample_weight) as Keras unpacks a dataset element; anything else is x alone."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        f"Data is expected to be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(data)} elements"
    )


def _to_array(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, Tensor):
        return np.asarray(v)
    if isinstance(v, np.ndarray):
        return v
    return np.asarray(v)


def is_array_like(x: Any) -> bool:
    """Whether x is in-memory data (arrays, Tensors, lists, dicts of those) rather than a batch iterator."""
    if x is None or isinstance(x, (np.ndarray, Tensor, list, tuple, dict, int, float)):
        return True
    return hasattr(x, "__array__") and not hasattr(x, "__next__")


def standardize(x: Any, n_inputs: int | None = None) -> Any:
    """Arrays for data given as Tensors, nested Python lists of numbers, or lists/dicts of arrays."""
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: standardize(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        if _is_structure(x, n_inputs):
            return type(x)(standardize(v) for v in x)
        arr = np.asarray(x)
        if arr.dtype == np.float64:
            arr = arr.astype(backend.floatx())
        return arr
    return _to_array(x)


def _is_structure(x: list | tuple, n: int | None) -> bool:
    """A list of arrays (several inputs) rather than a nested list of numbers (one array)."""
    if not x:
        return False
    if any(isinstance(v, (np.ndarray, Tensor, dict)) for v in x):
        return True
    return n is not None and n > 1 and len(x) == n


# --- in-memory arrays -----------------------------------------------------------------------------
def num_samples(leaves: list[Any], what: str = "data") -> int:
    sizes = {len(a) if np.ndim(a) else 1 for a in leaves}
    if len(sizes) != 1:
        raise ValueError(
            f"Data cardinality is ambiguous: the {what} arrays have {sorted(sizes)} samples. "
            "Make sure all arrays contain the same number of samples."
        )
    return sizes.pop()


def train_validation_split(arrays: tuple[Any, ...], validation_split: float) -> tuple[tuple[Any, ...], tuple]:
    """Split (x, y, sample_weight) into the first (1 - validation_split) and the last validation_split samples."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be between 0 and 1 (exclusive), got {validation_split}")
    leaves = [a for part in arrays for a in flatten(part) if a is not None]
    n = num_samples(leaves)
    split_at = math.floor(n * (1.0 - validation_split))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={validation_split} of {n} samples leaves {split_at} for training and "
            f"{n - split_at} for validation; both need at least one sample"
        )

    def part(sl: slice) -> tuple:
        return tuple(None if a is None else map_structure(lambda v: v[sl], a) for a in arrays)

    return part(slice(0, split_at)), part(slice(split_at, None))


class ArrayDataAdapter:
    """Batches of in-memory arrays: a permutation of the indices per epoch, gathered one batch at a time (a single
    batch of all the samples is taken as it is)."""

    def __init__(self, x: Any, y: Any = None, sample_weight: Any = None, batch_size: int | None = None,
                 shuffle: bool | str = False) -> None:
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.x_leaves = flatten(x)
        self.y_leaves = flatten(y) if y is not None else []
        self.w_leaves = flatten(sample_weight) if sample_weight is not None else []
        all_leaves = self.x_leaves + self.y_leaves + self.w_leaves
        self.num_samples = num_samples(all_leaves, "x, y and sample_weight")
        self.batch_size = int(batch_size or 32)
        self.num_batches = max(1, math.ceil(self.num_samples / self.batch_size))
        self.shuffle = shuffle
        floatx = backend.floatx()
        self._cast = floatx if floatx != np.float64 else None
        self._has_y = y is not None
        self._has_w = sample_weight is not None

    def _take(self, leaves: list[np.ndarray], index: Any) -> list[np.ndarray]:
        out = []
        for a in leaves:
            b = a[index]
            if b.dtype == np.float64 and self._cast is not None:
                b = b.astype(self._cast)
            out.append(b)
        return out

    def __iter__(self) -> Iterator[Batch]:
        return self.batches()

    def batches(self, start: int = 0) -> Iterator[Batch]:
        """One pass (a new order drawn when shuffling), from its batch `start` on."""
        n, bs = self.num_samples, self.batch_size
        if self.shuffle == "batch":
            order = random.generator().permutation(self.num_batches)
            indices = None
        else:
            order = range(self.num_batches)
            # one batch holding every sample is the same set in any order (the mean loss and its gradient do not
            # change), so the copy of the whole data that a shuffle would make is skipped
            indices = random.generator().permutation(n) if self.shuffle and self.num_batches > 1 else None
        for b in order[start:]:
            index = slice(b * bs, min(n, (b + 1) * bs))
            if indices is not None:
                index = indices[index]
            x = pack_sequence_as(self.x, self._take(self.x_leaves, index))
            y = pack_sequence_as(self.y, self._take(self.y_leaves, index)) if self._has_y else None
            w = pack_sequence_as(self.sample_weight, self._take(self.w_leaves, index)) if self._has_w else None
            yield x, y, w

    def __len__(self) -> int:
        return self.num_batches


def is_keras_sequence(data: Any) -> bool:
    """A Keras Sequence / PyDataset, read by len() and [i]: no __iter__, or one (like ImageDataGenerator's endless
    iterators) that also has on_epoch_end."""
    indexable = hasattr(data, "__getitem__") and hasattr(data, "__len__")
    return not hasattr(data, "__iter__") or (indexable and callable(getattr(data, "on_epoch_end", None)))


class IterableDataAdapter:
    """Batches from a Dataset (re-iterable), a generator (one pass) or a Keras-style Sequence (len() and [i],
    with on_epoch_end() called after each pass): elements x, (x, y) or (x, y, w)."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.indexed = is_keras_sequence(data)
        self.reiterable = self.indexed or not hasattr(data, "__next__")
        try:
            self.num_batches: int | None = len(data)
        except TypeError:
            self.num_batches = None
        cardinality = getattr(data, "cardinality", None)
        self.infinite = callable(cardinality) and int(cardinality()) == -1  # a Dataset's is a 0-d Tensor
        self._cast = backend.floatx() if backend.floatx() != np.float64 else None

    def _convert(self, v: Any) -> Any:
        """A batch leaf as an array: a Tensor's own array (a Dataset's batches are Tensors; no copy), float64 cast
        to floatx."""
        if isinstance(v, Tensor):
            v = v.data
        elif not isinstance(v, np.ndarray):
            v = np.asarray(v)
        if v.dtype == np.float64 and self._cast is not None:
            v = v.astype(self._cast)
        return v

    def __iter__(self) -> Iterator[Batch]:
        return self.batches()

    def batches(self, start: int = 0) -> Iterator[Batch]:
        """One pass over the data (what is left of a generator), from its element `start` on."""
        source = self.data
        indexed = self.indexed
        elements = (source[i] for i in range(start, len(source))) if indexed else itertools.islice(source, start, None)
        for element in elements:
            x, y, w = unpack_x_y_sample_weight(element)
            yield (map_structure(self._convert, x), None if y is None else map_structure(self._convert, y),
                   None if w is None else map_structure(self._convert, w))
        if indexed and callable(getattr(source, "on_epoch_end", None)):
            source.on_epoch_end()

    def __len__(self) -> int:
        if self.num_batches is None:
            raise TypeError("the number of batches of this generator is unknown")
        return self.num_batches


def class_weight_fn(class_weight: dict[int, float]) -> Any:
    """A function y_batch -> per-sample weights from a {class index: weight} dict (labels sparse or one-hot)."""
    table = np.ones(max(int(k) for k in class_weight) + 1, dtype=backend.floatx())
    for k, v in class_weight.items():
        table[int(k)] = v

    def weights(y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim > 1 and y.shape[-1] > 1:
            labels = y.argmax(axis=-1)
        else:
            labels = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
            if labels.dtype.kind == "f":
                labels = np.rint(labels)
            labels = labels.astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= len(table)):
            missing = sorted(set(np.unique(labels).tolist()) - set(range(len(table))))
            raise ValueError(f"class_weight has no weight for class(es) {missing}; give a weight for every class")
        return table[labels]

    return weights


def make_adapter(x: Any, y: Any = None, sample_weight: Any = None, batch_size: int | None = None,
                 shuffle: bool | str = False, n_inputs: int | None = None) -> ArrayDataAdapter | IterableDataAdapter:
    """The adapter for this kind of data, with Keras's errors for arguments that do not apply to it."""
    if is_array_like(x):
        if x is None:
            raise ValueError("No data given: pass x (and y) as arrays, or a Dataset")
        return ArrayDataAdapter(standardize(x, n_inputs), standardize(y), standardize(sample_weight),
                                batch_size, shuffle)
    kind = type(x).__name__
    if y is not None:
        raise ValueError(f"y must not be given when x is a {kind} (it yields (x, y) batches itself); got y={type(y)}")
    if sample_weight is not None:
        raise ValueError(f"sample_weight must not be given when x is a {kind}: yield (x, y, sample_weight) instead")
    if batch_size is not None:
        raise ValueError(f"batch_size must not be given when x is a {kind}: it is batched already (use .batch(n))")
    if not hasattr(x, "__iter__") and not (hasattr(x, "__getitem__") and hasattr(x, "__len__")):
        raise TypeError(f"Unrecognized data type: x={kind}; expected arrays, a dict/list of arrays, a Dataset, "
                        "a generator, or a Sequence (len() and [i] giving batches)")
    return IterableDataAdapter(x)


class EpochIterator:
    """Yields (step, batch) for each epoch; with steps_per_epoch the stream continues across epochs.

    Re-iterable data (arrays, Datasets) starts a new pass when one ends; a generator that runs dry stops
    training with Keras's warning. `get_state`/`set_state` capture and restore the position in the data and the
    random states that order it (see `BackupAndRestore`): a restored iterator replays the current pass's start
    from the random states it began with, skips the batches already taken, and goes on as the original did.
    """

    def __init__(self, adapter: Any, steps_per_epoch: int | None = None, class_weight: dict | None = None) -> None:
        self.adapter = adapter
        if steps_per_epoch is None and getattr(adapter, "infinite", False):
            raise ValueError(
                "When passing an infinitely repeating dataset, specify steps_per_epoch (and validation_steps or "
                "steps for evaluation) so that an epoch ends"
            )
        self.steps_per_epoch = steps_per_epoch
        self._iterator: Iterator[Batch] | None = None
        self._cw = class_weight_fn(class_weight) if class_weight else None
        self.exhausted = False
        self._pass: dict[str, Any] | None = None  # the random states the current pass began with (None: no pass open)
        self._consumed = 0  # batches taken from the current pass
        self._step = 0  # steps taken in the current epoch
        self._resume: dict[str, Any] | None = None

    @property
    def num_steps(self) -> int | None:
        if self.steps_per_epoch is not None:
            return self.steps_per_epoch
        return getattr(self.adapter, "num_batches", None)

    def _weighted(self, batch: Batch) -> Batch:
        if self._cw is None:
            return batch
        x, y, w = batch
        if y is None or isinstance(y, (list, tuple, dict)):
            raise ValueError("class_weight is only supported for models with a single output and given labels")
        cw = self._cw(y)
        if w is None:
            return x, y, cw
        w = np.asarray(w)
        return x, y, cw.reshape(-1, *[1] * (w.ndim - 1)) * w

    def __iter__(self) -> Iterator[tuple[int, Batch]]:
        per_pass = self.steps_per_epoch is None
        self._step = 0
        if self._resume is not None:
            self._reopen(self._resume, per_pass)
        elif per_pass:
            self._open()
        while per_pass or self._step < self.steps_per_epoch:
            batch = self._next(new_pass=not per_pass)
            if batch is None:
                break
            self._step += 1
            yield self._step - 1, self._weighted(batch)
        if per_pass and self._step == 0 and not getattr(self.adapter, "reiterable", True):
            self._warn_dry()

    def _open(self) -> None:
        """Start a pass over the data, noting the random states it starts from."""
        self._pass, self._consumed = self._random_states(), 0
        self._iterator = iter(self.adapter)

    def _next(self, new_pass: bool) -> Batch | None:
        """The next batch of the current pass; with new_pass, of a new pass when it ends (None: no more data)."""
        for _ in range(2):
            if self._iterator is None:
                if not new_pass:
                    return None
                self._open()
            batch = next(self._iterator, None)
            if batch is not None:
                self._consumed += 1
                return batch
            self._iterator = self._pass = None
            if not new_pass or not getattr(self.adapter, "reiterable", True):
                break
        if new_pass:
            self._warn_dry()
        return None

    def _warn_dry(self) -> None:
        self.exhausted = True
        warnings.warn(
            "Your input ran out of data; interrupting training. Make sure that your dataset or generator can "
            "generate at least `steps_per_epoch * epochs` batches.",
            stacklevel=4,
        )

    # --- the position in the data, for BackupAndRestore ---------------------------------------------------------
    def _generators(self) -> dict[str, np.random.Generator]:
        """The generators that order the data: shendu's global one and those inside a Dataset pipeline."""
        found = find_generators(getattr(self.adapter, "data", None), _is_data_object, "data")
        return {"global": random.generator(), **found}

    def _random_states(self) -> dict[str, Any]:
        return {name: gen.bit_generator.state for name, gen in self._generators().items()}

    def _set_random_states(self, states: dict[str, Any]) -> None:
        set_generator_states(self._generators(), states, "the data")

    def get_state(self) -> dict[str, Any]:
        """Where this iterator is: steps taken this epoch, batches taken from the current pass, the random states
        that pass began with and those of now (JSON-ready)."""
        return {"step": self._step, "consumed": self._consumed if self._pass is not None else 0,
                "pass": self._pass, "current": self._random_states()}

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue, at the next epoch this iterator yields, from a `get_state()` of an identical iterator."""
        if not isinstance(state, dict) or set(state) != {"step", "consumed", "pass", "current"}:
            raise ValueError(f"EpochIterator.set_state: expected the dict of get_state(); got {state!r:.200}")
        set_generator_states(self._generators(), state["current"], "the data", check_only=True)
        self._resume = state

    def _reopen(self, state: dict[str, Any], per_pass: bool) -> None:
        """Replay the start of the saved pass (its order), skip the batches it had given, then restore the
        random states of the moment the state was taken."""
        self._resume, self._step, self._iterator = None, int(state["step"]), None
        if state["pass"] is None:
            self._set_random_states(state["current"])
            if per_pass:
                self._open()
            return
        self._set_random_states(state["pass"])
        rest = self.adapter.batches(int(state["consumed"]))
        first = next(rest, None)
        self._set_random_states(state["current"])
        if first is not None:
            self._pass, self._consumed = state["pass"], int(state["consumed"])
            self._iterator = itertools.chain([first], rest)


def _is_data_object(obj: Any) -> bool:
    return type(obj).__module__.startswith("shendu.data.")


def find_generators(root: Any, within: Callable[[Any], bool], prefix: str) -> dict[str, np.random.Generator]:
    """The NumPy generators reachable from root through objects for which within() holds (and lists, tuples and
    dicts of them), keyed by their attribute path from `prefix`: the same keys for an identically built twin."""
    found: dict[str, np.random.Generator] = {}
    seen: set[int] = set()
    todo: list[tuple[str, Any]] = [(prefix, root)]
    while todo:
        path, obj = todo.pop()
        if isinstance(obj, np.random.Generator):
            found.setdefault(path, obj)
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            items = [(f"{path}[{k!r}]", v) for k, v in obj.items()]
        elif isinstance(obj, (list, tuple)):
            items = [(f"{path}[{i}]", v) for i, v in enumerate(obj)]
        elif within(obj):
            items = [(f"{path}.{k}", v) for k, v in getattr(obj, "__dict__", {}).items()]
        else:
            continue
        todo.extend(reversed(items))
    return found


def set_generator_states(generators: dict[str, np.random.Generator], states: dict[str, Any], what: str,
                         check_only: bool = False) -> None:
    """Give each generator its saved state (check_only: only check that the names are the same on both sides)."""
    if not isinstance(states, dict) or set(generators) != set(states):
        saved = sorted(states) if isinstance(states, dict) else repr(states)[:100]
        raise ValueError(
            f"Cannot restore the random state of {what}: the saved state has generators {saved}, "
            f"this run has {sorted(generators)} (was the model or the data built differently?)"
        )
    if check_only:
        return
    for name, gen in generators.items():
        gen.bit_generator.state = states[name]

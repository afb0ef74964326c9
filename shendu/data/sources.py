"""Where elements come from: slices of in-memory arrays, one whole structure, a range, a Python generator, the
names of files."""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from shendu import backend, creation
from shendu.data.dataset import Dataset, check_callable, check_count
from shendu.data.plan import Slices
from shendu.data.spec import TensorSpec, dims, shape_fits
from shendu.data.structure import (
    as_bytes_array,
    describe,
    flatten,
    is_string_array,
    map_structure,
    packer,
)
from shendu.tensor import Tensor


def _leaf_array(x: Any) -> np.ndarray:
    """A user's leaf as an array: Tensors share memory, arrays stay; Python values take TensorFlow's dtypes
    (`creation.default_array`: floats float32, ints int32 where they fit), as `tf.data` converts them."""
    if isinstance(x, Tensor):
        return x.data
    return creation.default_array(x) if isinstance(x, (list, int, float, str, bytes)) else backend.as_array(x)


class TensorSliceDataset(Dataset):
    """from_tensor_slices (whole=False) and from_tensors (whole=True: one element, every array given a first axis
    of length one as a view)."""

    def __init__(self, tensors: Any, whole: bool = False) -> None:
        where = "Dataset.from_tensors" if whole else "Dataset.from_tensor_slices"
        if tensors is None:
            raise ValueError(f"{where}: got None; expected an array or a tuple/dict of arrays")
        try:
            structure = map_structure(_leaf_array, tensors)
        except ValueError as e:
            raise ValueError(f"{where}: a component could not become one array ({e}); "
                             "use a tuple, not a list, to pass several arrays") from e
        arrays = flatten(structure)
        if not arrays:
            raise ValueError(f"{where}: got an empty structure; expected at least one array")
        if any(a.dtype == object and not is_string_array(a) for a in arrays):
            raise ValueError(f"{where}: a component is ragged or mixed (NumPy dtype object): {describe(structure)}")
        if whole:
            arrays = [a[None] for a in arrays]
        elif any(a.ndim == 0 for a in arrays):
            raise ValueError(f"{where}: every component needs a first axis to slice; got {describe(structure)}")
        sizes = {len(a) for a in arrays}
        if len(sizes) > 1:
            raise ValueError(f"{where}: all components must have the same size along the first axis; "
                             f"got {describe(structure)}")
        self._n = sizes.pop()
        self._pack = packer(structure)
        self._plan = Slices(arrays, self._pack, lambda: iter((range(self._n),)))

    def _cardinality(self) -> int:
        return self._n

    def _element_spec(self) -> Any:
        return self._pack([TensorSpec(a.shape[1:], a.dtype) for a in self._plan.arrays])

    def _slices(self) -> Slices:
        return self._plan


class ArangeColumn:
    """start + i * step for i < n, computed when indexed (so Dataset.range(10**9) costs no memory)."""

    def __init__(self, start: int, step: int, n: int, dtype: np.dtype) -> None:
        self.start, self.step, self.n, self.dtype = start, step, n, dtype
        self.shape, self.ndim = (n,), 1

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            return self.dtype.type(self.start + int(index) * self.step)
        if isinstance(index, slice):
            r = range(self.n)[index]
            index = np.arange(r.start, r.stop, r.step)
        return (self.start + np.asarray(index, dtype=np.int64) * self.step).astype(self.dtype)


class RangeDataset(Dataset):
    def __init__(self, args: tuple, output_type: Any) -> None:
        if not 1 <= len(args) <= 3:
            raise TypeError(f"Dataset.range: expected range(stop), range(start, stop) or range(start, stop, step), "
                            f"got {len(args)} arguments")
        bounds = [check_count("Dataset.range", a) for a in args]
        if len(bounds) == 3 and bounds[2] == 0:
            raise ValueError("Dataset.range: step must not be zero")
        r = range(*bounds)
        self._dtype = np.dtype(output_type)
        self._plan = Slices([ArangeColumn(r.start, r.step, len(r), self._dtype)], lambda leaves: leaves[0],
                            lambda: iter((range(len(r)),)))
        self._n = len(r)

    def _cardinality(self) -> int:
        return self._n

    def _element_spec(self) -> Any:
        return TensorSpec((), self._dtype)

    def _slices(self) -> Slices:
        return self._plan


def as_dtype(dtype: Any, where: str) -> np.dtype:
    """A dtype argument as a NumPy dtype (tf.string, str and bytes: the object dtype of TensorFlow's strings)."""
    try:
        return creation.as_dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: {dtype!r} is not a dtype") from None


class GeneratorDataset(Dataset):
    def __init__(self, generator: Callable[..., Any], output_types: Any, output_shapes: Any, args: tuple,
                 output_signature: Any) -> None:
        where = "Dataset.from_generator"
        self._generator = check_callable(where, generator)
        self._args = tuple(a.numpy() if isinstance(a, Tensor) else a for a in args)  # TensorFlow passes NumPy values
        self._structure: Any = None
        if output_signature is not None:
            if output_types is not None or output_shapes is not None:
                raise TypeError(f"{where}: give output_signature, or output_types (and output_shapes), not both")
            specs = flatten(output_signature)
            if not all(hasattr(s, "shape") and hasattr(s, "dtype") for s in specs):
                raise TypeError(f"{where}: output_signature must be a structure of TensorSpecs, "
                                f"got {output_signature!r}")
            self._structure = output_signature
            output_types = map_structure(lambda s: s.dtype, output_signature)
            self._shapes: list[Any] | None = [dims(s.shape) for s in specs]
        else:
            self._shapes = None if output_shapes is None else _flatten_shapes(output_shapes)
            self._structure = output_types
        self._types = None if output_types is None else [as_dtype(t, where) for t in flatten(output_types)]

    def _element_spec(self) -> Any:
        if self._types is None:
            return None
        shapes = self._shapes or [None] * len(self._types)
        return packer(self._structure)([TensorSpec(s, t) for s, t in zip(shapes, self._types)])

    def _iterate(self) -> Iterator[Any]:
        where = "Dataset.from_generator"
        for element in self._generator(*self._args):
            leaves = flatten(element)
            expected = self._types or self._shapes
            if expected is not None and len(expected) != len(leaves):
                raise ValueError(f"{where}: the generator yielded {describe(element)}, which has {len(leaves)} "
                                 f"components; output_types/output_shapes describe {len(expected)}")
            arrays = [self._convert(x, i, where) for i, x in enumerate(leaves)]
            if self._shapes is not None:
                for a, shape in zip(arrays, self._shapes):
                    if not shape_fits(a.shape, dims(shape)):
                        raise ValueError(f"{where}: the generator yielded a component of shape {a.shape}; "
                                         f"output_shapes expects {tuple(shape)}")
            yield packer(element)(arrays)

    def _convert(self, x: Any, i: int, where: str) -> np.ndarray:
        if self._types is None:
            return _leaf_array(x)
        if self._types[i].kind == "O":
            return as_bytes_array(x, where)
        return np.asarray(x.data if isinstance(x, Tensor) else x, dtype=self._types[i])


def _flatten_shapes(shapes: Any) -> list[Any]:
    """Leaves of an output_shapes structure, where a shape is a tuple/list of ints and None."""
    if shapes is None or (isinstance(shapes, (tuple, list)) and
                          all(d is None or isinstance(d, (int, np.integer)) for d in shapes)):
        return [shapes]
    items = shapes.values() if isinstance(shapes, dict) else shapes
    return [leaf for item in items for leaf in _flatten_shapes(item)]


def list_files(file_pattern: Any, shuffle: bool | None, seed: int | None) -> Dataset:
    """The sorted names matching the glob pattern(s) as a dataset of byte strings, shuffled unless shuffle=False."""
    patterns = [file_pattern] if isinstance(file_pattern, (str, bytes)) else list(np.asarray(file_pattern).ravel())
    patterns = [p.decode() if isinstance(p, bytes) else str(p) for p in patterns]
    names = sorted({name for p in patterns for name in glob.glob(p)})
    if not names:
        shown = patterns if len(patterns) > 1 else patterns[0]
        raise ValueError(f"Dataset.list_files: no files matched pattern {shown}")
    ds = TensorSliceDataset(as_bytes_array(names, "Dataset.list_files"))
    return ds if shuffle is False else ds.shuffle(len(names), seed=seed)


class ElementsDataset(Dataset):
    """A list of internal elements held in memory (a window's component that cannot become one array)."""

    def __init__(self, elements: list[Any]) -> None:
        self._elements_list = elements

    def _cardinality(self) -> int:
        return len(self._elements_list)

    def _iterate(self) -> Iterator[Any]:
        return iter(self._elements_list)

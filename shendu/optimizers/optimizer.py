"""Optimizer base class: learning rate (float, schedule or callable), clipping, weight decay, slots and state.

One `apply_gradients` call runs Keras 3's sequence: clip the gradients, decay the weights
(w -= w * weight_decay * lr), run each subclass's update rule on `var.data` and its slots, update the weight EMA,
count the step, and finally apply each variable's constraint.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from shendu import backend, schedules
from shendu.ops import kernels
from shendu.parallel import batch_chunks, run_chunks
from shendu.tensor import Tensor
from shendu.variable import Variable

MIN_UPDATE_WORK = 1 << 19
"""Elements of a variable per thread before its compiled update is split over threads. It costs about 1 ns an
element (Adam's square root and division), and `run_chunks`' hand-off about 150 us on this 2-core VM: compiled Adam
on one variable, 1 thread against 2, 205k elements 162 / 286 us, 400k 283 / 363 us, 1M 610 / 589 us, 4M 2423 / 1417
us. Smaller variables of a dtype are updated together in one compiled call (`compiled.in_groups`)."""
MIN_PASSES_WORK = 1 << 17
"""The same for the NumPy passes (`_update_inplace`): about 3 ns an element, but each of Adam's fourteen passes hands
the GIL between the threads: 1 thread against 2, 150k elements 490 / 648 us, 205k 697 / 716 us, 400k 1590 / 1124 us,
1M 3990 / 2292 us."""


class LearningRate(float):
    """An optimizer's current learning rate: a float, which tf.keras code may also set in place as it would the
    variable TensorFlow keeps (`lr.assign(v)`, `keras.backend.set_value(optimizer.lr, v)`) and read as one
    (`lr.numpy()`)."""

    def __new__(cls, value: Any, optimizer: Optimizer) -> LearningRate:
        rate = super().__new__(cls, float(value))
        rate._optimizer = optimizer
        return rate

    def assign(self, value: Any) -> LearningRate:
        """Set the optimizer's rate to value (a float; a schedule or callable replaces it, as the attribute does)."""
        self._optimizer.learning_rate = value
        return self._optimizer.learning_rate

    def numpy(self) -> np.float32:
        return np.float32(self)


class Optimizer:
    """Base class of the optimizers: subclasses define `slot_names` and the readable rule `_update`, and may add
    its fast versions `_update_inplace` (NumPy passes) and `_update_compiled` (one numba loop).

    `_update(g, w, slots, lr, t)` is the formula on whole arrays at step t (counted from 1, Keras's `local_step`):
    it returns the new weights and the new value of each slot, and changes nothing itself. The fast versions give
    the same values with fewer passes over memory: `_coefficients(lr, t)` computes the step's scalars once, then
    `_update_inplace(g, w, slots, scratch, coeffs)` updates `w` (= `var.data`) and the slots in place, using
    `scratch`, `_n_scratch` work arrays shaped like `w` (contents undefined); `g` is read-only. They must be
    element-wise: a large variable is updated in slices on shendu's threads. `_step` picks the version (the
    compiled one where numba is on, else in place); setting `readable = True` (class or instance) runs `_update`,
    and so does a subclass that overrides `_update` alone (its parent's fast versions follow the parent's rule).
    `_update_compiled_group(gs, ws, slots, coeffs)` (optional) is `_update_compiled` on many small variables in one
    call (flat arrays, each variable's slots as a tuple in `slot_names` order), which saves the per-call Python.
    """

    _distribution: Any = None  # set by a tf.distribute strategy (shendu.distribute): combines the replicas' gradients

    _n_scratch = 1
    readable = False
    _update_inplace: Callable[..., None] | None = None
    _update_compiled: Callable[..., None] | None = None
    _update_compiled_group: Callable[..., None] | None = None

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        cls = type(self).__name__
        if "lr" in kwargs:  # tf.keras 1/2 spelling, still common in tutorials
            warnings.warn(f"{cls}: `lr` is deprecated, use `learning_rate`", DeprecationWarning, stacklevel=3)
            learning_rate = kwargs.pop("lr")
        self.decay = float(kwargs.pop("decay", 0.0) or 0.0)
        if kwargs:
            raise ValueError(f"{cls}: argument(s) not recognized: {kwargs}")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"{cls}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm),
                           ("weight_decay", weight_decay), ("decay", self.decay)):
            if value is not None and not value >= 0:
                raise ValueError(f"{cls}: `{arg}` must be >= 0. Received: {arg}={value}")
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError(f"{cls}: `ema_momentum` must be in the range [0, 1]. Received: {ema_momentum}")
            freq = ema_overwrite_frequency
            if freq and (not isinstance(freq, int) or freq < 1):
                raise ValueError(
                    f"{cls}: `ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                f"{cls}: `gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        self.name = name or re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls).lower()
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._learning_rate: Any = None
        self.learning_rate = learning_rate
        self._iterations = Variable(0, name="iteration", trainable=False, dtype=np.int64)
        self.built = False
        self._variables: list[Tensor] = []  # built variables, in build order
        self._slots: dict[int, dict[str, np.ndarray]] = {}  # id(var) -> slot name -> state array
        self._scratch: dict[int, tuple[np.ndarray, ...]] = {}
        self._flat: dict[int, tuple[np.ndarray, ...]] = {}  # id(var) -> its slots as flat views, for the grouped update
        self._keys: dict[int, str] = {}  # id(var) -> the name that prefixes its keys in get_state()
        self._pending: dict[str, np.ndarray] = {}  # set_state() entries for variables not built yet
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern[str] | None = None
        self._warned_missing = False

    # --- learning rate ---------------------------------------------------------------------------
    @property
    def learning_rate(self) -> LearningRate:
        """The current rate: the schedule's value at `iterations`, the callable's value, or the float; a float that
        can also be set in place (`learning_rate.assign(v)`), as TensorFlow's learning-rate variable.

        Legacy `decay=` is not included here (so callbacks that scale this value do not compound it).
        """
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = lr(int(self._iterations.data))
        elif callable(lr):
            lr = lr()
        return LearningRate(lr, self)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        """Set a float (replacing any schedule), a LearningRateSchedule, or a callable taking no arguments."""
        if callable(value):
            self._learning_rate = value
            return
        try:
            self._learning_rate = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"{type(self).__name__}: `learning_rate` must be a float, a LearningRateSchedule or a callable "
                f"taking no arguments; got {value!r}"
            ) from None

    lr = learning_rate  # tf.keras 2 alias (`optimizer.lr`)

    def _lr_at(self, raw_step: int) -> float:
        """The rate used by the update at this step: the current rate, divided by (1 + decay * step) if decay."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = float(lr(raw_step))
        elif callable(lr):
            lr = float(lr())
        return lr / (1.0 + self.decay * raw_step) if self.decay else lr

    @property
    def iterations(self) -> Tensor:
        """The number of updates applied (a 0-d int64 Variable, as in Keras; `int(opt.iterations)` reads it).

        With gradient accumulation this counts the real updates: calls // gradient_accumulation_steps.
        """
        if self.gradient_accumulation_steps:
            return Tensor(self._iterations.data // self.gradient_accumulation_steps)
        return self._iterations

    # --- building --------------------------------------------------------------------------------
    def slot_names(self) -> tuple[str, ...]:
        """Names of the per-variable state arrays of this optimizer, as configured."""
        return ()

    def _create_slots(self, w: np.ndarray) -> dict[str, np.ndarray]:
        xp = backend.get_array_module(w)  # the slots live where the weight lives (NumPy or CuPy)
        return {name: xp.zeros_like(w) for name in self.slot_names()}

    def build(self, var_list: Sequence[Tensor]) -> None:
        """Create the state of these variables (slots are otherwise created at their first update).

        State restored by `set_state` before building is loaded here; entries naming no variable raise.
        """
        self._build(var_list)
        self.built = True
        if self._pending:
            raise ValueError(
                f"{self.name}.build: the restored optimizer state has entries for unknown variables: "
                f"{sorted(self._pending)}; known variables: {sorted(self._keys.values())}"
            )

    def _build(self, var_list: Iterable[Tensor]) -> None:
        for var in var_list:
            k = id(var)
            if k in self._slots:
                continue
            if not isinstance(var, Tensor):
                raise TypeError(f"{self.name}: expected Variables to update, got {type(var).__name__}")
            w = var.data
            xp = backend.get_array_module(w)
            slots = self._create_slots(w)
            if self.use_ema:
                slots["average"] = xp.zeros_like(w)
            if self.gradient_accumulation_steps:
                slots["gradient_accumulator"] = xp.zeros_like(w)
            key = self._unique_key(getattr(var, "name", None) or f"variable_{len(self._variables)}")
            for slot, arr in slots.items():
                value = self._pending.pop(f"{key}/{slot}", None)
                if value is not None:
                    _load(arr, value, f"{key}/{slot}", self.name)
            self._variables.append(var)
            self._keys[k] = key
            self._slots[k] = slots
            self._scratch[k] = tuple(xp.empty_like(w) for _ in range(self._n_scratch))

    def state_key(self, var: Tensor) -> str | None:
        """The name that prefixes `var`'s slots in `get_state()` (f"{key}/{slot}"), or None if it has no state here."""
        return self._keys.get(id(var))

    def _unique_key(self, name: str) -> str:
        taken = set(self._keys.values())
        key, n = name, 1
        while key in taken:
            key, n = f"{name}_{n}", n + 1
        return key

    # --- applying gradients ----------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Tensor]]) -> Tensor:
        """Update each variable in place from its gradient (ndarray or Tensor; None skips the variable)."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])
        return self._iterations

    def apply(self, grads: Sequence[Any], variables: Sequence[Tensor] | None = None) -> None:
        """Same as `apply_gradients(zip(grads, variables))`; variables default to those the optimizer was built on."""
        grads = list(grads)
        if variables is None:
            if len(grads) != len(self._variables):
                raise ValueError(
                    f"{self.name}.apply: got {len(grads)} gradients but the optimizer was built on "
                    f"{len(self._variables)} variables; pass the variables explicitly"
                )
            variables = self._variables
        else:
            variables = list(variables)
            if len(grads) != len(variables):
                raise ValueError(f"{self.name}.apply: got {len(grads)} gradients for {len(variables)} variables")
        if any(id(v) not in self._slots for v in variables):
            self._build(variables)
            self.built = True
        gs, vs = [], []
        for g, v in zip(grads, variables):
            if g is not None:
                gs.append(self._as_gradient(g, v))
                vs.append(v)
        if not gs:
            raise ValueError(f"{self.name}: no gradients provided for any variable.")
        if len(gs) < len(variables) and not self._warned_missing:
            self._warned_missing = True
            missing = [getattr(v, "name", "?") for g, v in zip(grads, variables) if g is None]
            warnings.warn(f"{self.name}: gradients do not exist for variables {missing}; they are left unchanged.",
                          stacklevel=2)
        if self._distribution is not None:
            gs = self._distribution.reduce_gradients(gs)
        raw_step = int(self._iterations.data)
        if self.loss_scale_factor is not None:
            gs = [g / self.loss_scale_factor for g in gs]
        steps = self.gradient_accumulation_steps
        if not steps:
            self._step(gs, vs, raw_step, raw_step)
        elif (raw_step + 1) % steps:
            for g, v in zip(gs, vs):
                self._slots[id(v)]["gradient_accumulator"] += g
        else:
            for i, v in enumerate(vs):
                acc = self._slots[id(v)]["gradient_accumulator"]
                gs[i] = (gs[i] + acc) / steps
                acc.fill(0)
            self._step(gs, vs, raw_step, raw_step // steps)
        if self.use_ema:
            self._update_ema(raw_step // steps if steps else raw_step)
        self._iterations.data += 1
        for v in vs:
            constraint = getattr(v, "constraint", None)
            if constraint is not None:
                out = constraint(v.data)
                v.data[...] = out.data if isinstance(out, Tensor) else out

    def fused_update(self, variables: Sequence[Tensor]) -> tuple[list[tuple[np.ndarray, ...]], tuple[Any, ...]] | None:
        """For a compiled training step that applies this optimizer's rule itself, right after each gradient (the
        lean step's `ops.kernels_dense`): each variable's flat slots and this step's scalars, or None where
        `apply` must run. Covered by the optimizers that say so (Adam); the caller calls `advance()` after."""
        return None

    def advance(self) -> None:
        """Count an update made through `fused_update`."""
        self._iterations.data += 1

    def _plain_step(self, variables: Sequence[Tensor]) -> bool:
        """Whether `apply` on these variables would be the rule alone, on its compiled version: numba on, no
        clipping, weight decay, EMA, accumulation, loss scale, strategy or constraint, the slots built and flat."""
        clipped = self.clipnorm or self.global_clipnorm or self.clipvalue
        return (kernels.enabled() and not self.readable and not clipped and not self.weight_decay
                and not self.use_ema and not self.gradient_accumulation_steps
                and self.loss_scale_factor is None and self._distribution is None
                and all(id(v) in self._slots and type(v.data) is np.ndarray and v.data.flags.c_contiguous
                        and getattr(v, "constraint", None) is None for v in variables))

    def _as_gradient(self, g: Any, var: Tensor) -> np.ndarray:
        w = var.data
        if isinstance(g, Tensor):
            g = g.data
        elif not isinstance(g, np.ndarray) and not backend.is_device_array(g):
            g = np.asarray(g)
        if g.dtype != w.dtype:
            g = g.astype(w.dtype)
        if g.shape != w.shape:
            raise ValueError(
                f"{self.name}: the gradient of variable '{getattr(var, 'name', '?')}' has shape {g.shape} "
                f"but the variable has shape {w.shape}"
            )
        return g

    def _step(self, grads: list[np.ndarray], variables: list[Tensor], raw_step: int, step: int) -> None:
        """One update: clip, decay weights, then the subclass's rule for each variable, in the version chosen here."""
        grads = self._clip_gradients(grads)
        lr = self._lr_at(raw_step)
        if self.weight_decay:
            self._apply_weight_decay(variables, lr)
        t = step + 1
        if self.readable or not _written_for_update(type(self), "_update_inplace") or _on_device(variables):
            for g, v in zip(grads, variables):
                self._apply_readable(g, v.data, self._slots[id(v)], lr, t)
            return
        coeffs = self._coefficients(lr, t)
        compiled = kernels.enabled() and self._has_compiled_update()
        grouped = compiled and _written_for_update(type(self), "_update_compiled_group")
        groups: dict[np.dtype, tuple[list[np.ndarray], list[np.ndarray], list[tuple[np.ndarray, ...]]]] = {}
        for g, v in zip(grads, variables):
            w, slots, scratch = v.data, self._slots[id(v)], self._scratch[id(v)]
            if grouped and in_one_call(w):
                flat = self._flat_slots(id(v), slots)
                if flat is not None:  # a variable too small to split: updated with the others in one call
                    gs, ws, ss = groups.setdefault(w.dtype, ([], [], []))
                    gs.append(g.reshape(-1))
                    ws.append(w.reshape(-1))
                    ss.append(flat)
                    continue
            contiguous = all(a.flags.c_contiguous for a in (w, *slots.values(), *scratch))
            fast = compiled and contiguous and isinstance(w, np.ndarray)
            update = self._update_compiled if fast else self._update_inplace
            chunks = batch_chunks(w.size, 1, MIN_UPDATE_WORK if fast else MIN_PASSES_WORK)
            if len(chunks) == 1 or not contiguous:
                update(g, w, slots, scratch, coeffs)
            else:
                self._update_in_slices(update, g, w, slots, scratch, coeffs, chunks)
        for gs, ws, ss in groups.values():
            self._update_compiled_group(gs, ws, ss, coeffs)

    def _flat_slots(self, key: int, slots: dict[str, np.ndarray]) -> tuple[np.ndarray, ...] | None:
        """The slots of a variable as flat views in `slot_names` order (kept once made), or None when one is not
        contiguous."""
        flat = self._flat.get(key)
        if flat is None and all(a.flags.c_contiguous for a in slots.values()):
            flat = self._flat[key] = tuple(slots[n].reshape(-1) for n in self.slot_names())
        return flat

    def _apply_readable(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray], lr: float, t: int) -> None:
        """Run `_update` and write its results into `w` and the slot arrays (which keep their identity)."""
        new_w, new_slots = self._update(g, w, slots, lr, t)
        w[...] = new_w
        for name, value in new_slots.items():
            slots[name][...] = value

    def _update_in_slices(self, update: Callable[..., None], g: np.ndarray, w: np.ndarray,
                          slots: dict[str, np.ndarray], scratch: tuple[np.ndarray, ...], coeffs: Any,
                          chunks: list[slice]) -> None:
        """`update` on slices of a large variable's flattened arrays, on shendu's threads (the rules are
        element-wise, so the slices are independent)."""
        g, w = g.reshape(-1), w.reshape(-1)
        flat_slots = {n: a.reshape(-1) for n, a in slots.items()}
        flat_scratch = tuple(a.reshape(-1) for a in scratch)
        run_chunks(lambda sl: update(g[sl], w[sl], {n: a[sl] for n, a in flat_slots.items()},
                                     tuple(a[sl] for a in flat_scratch), coeffs), chunks)

    def _has_compiled_update(self) -> bool:
        """Whether `_update_compiled` covers this configuration (numba being on is checked apart)."""
        return _written_for_update(type(self), "_update_compiled")

    def _coefficients(self, lr: float, t: int) -> Any:
        """The scalars of step t that the fast versions use, computed once per step (by default the rate)."""
        return lr

    def _update(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray], lr: float,
                t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    # --- clipping and weight decay ---------------------------------------------------------------
    def _clip_gradients(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """Clipped copies (never in place: a gradient array may be shared). Keras's clipnorm/clipvalue/global."""
        if self.clipnorm:
            c = self.clipnorm
            out = []
            for g in grads:
                norm = _norm(g)
                out.append(g * (c / norm) if norm > c else g)
            return out
        if self.global_clipnorm:
            c = self.global_clipnorm
            norm = math.sqrt(sum(_norm(g) ** 2 for g in grads))
            if norm <= c:
                return grads
            scale = c / norm if math.isfinite(norm) else math.nan
            return [g * scale for g in grads]
        if self.clipvalue:
            return [backend.get_array_module(g).clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def exclude_from_weight_decay(self, var_list: Sequence[Tensor] | None = None,
                                  var_names: Sequence[str] | None = None) -> None:
        """Skip weight decay for these variables, or for those whose name contains one of var_names (regex)."""
        if self.built:
            raise ValueError(f"{self.name}: `exclude_from_weight_decay()` must be called before the optimizer is built")
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _apply_weight_decay(self, variables: list[Tensor], lr: float) -> None:
        """Decoupled weight decay, Keras style: w -= w * weight_decay * lr, before the gradient update."""
        factor = 1.0 - self.weight_decay * lr
        for v in variables:
            if id(v) in self._exclude_ids:
                continue
            if self._exclude_pattern is not None and self._exclude_pattern.search(getattr(v, "name", "")):
                continue
            v.data *= factor

    # --- exponential moving average of the weights ----------------------------------------------
    def _update_ema(self, step: int) -> None:
        """average = m * average + (1 - m) * w, with m = 0 at the first step; optionally copy it into w."""
        m = self.ema_momentum if step != 0 else 0.0
        for v in self._variables:
            k = id(v)
            avg, tmp = self._slots[k]["average"], self._scratch[k][0]
            avg *= m
            backend.get_array_module(tmp).multiply(v.data, 1.0 - m, out=tmp)  # one pass, on the weight's device
            avg += tmp
        freq = self.ema_overwrite_frequency
        if freq and (step + 1) % freq == 0:
            self.finalize_variable_values(self._variables)

    def finalize_variable_values(self, var_list: Sequence[Tensor]) -> None:
        """With use_ema, overwrite the variables with their moving averages (call at the end of training)."""
        if self.use_ema:
            for v in var_list:
                if id(v) in self._slots:
                    v.data[...] = self._slots[id(v)]["average"]

    def scale_loss(self, loss: Any) -> Any:
        """Multiply the loss by loss_scale_factor (if set) before computing gradients; updates divide it out."""
        return loss * self.loss_scale_factor if self.loss_scale_factor is not None else loss

    # --- state -----------------------------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """Copies of everything needed to resume exactly: "iterations", "learning_rate" (when a float) and
        each slot as f"{var.name}/{slot}" (a repeated name gets a suffix _1, _2, ... in build order)."""
        state: dict[str, np.ndarray] = {"iterations": np.array(int(self._iterations.data), dtype=np.int64)}
        if not callable(self._learning_rate):
            state["learning_rate"] = np.array(self._learning_rate, dtype=np.float64)
        for k, slots in self._slots.items():
            for slot, arr in slots.items():
                state[f"{self._keys[k]}/{slot}"] = arr.copy()
        state.update({key: np.array(value) for key, value in self._pending.items()})
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore `get_state()`'s output; on an optimizer not built yet, slots load when their variables build.

        Everything is checked before anything changes: a bad state (an iteration count that is not a whole number
        >= 0, a learning rate that is not finite, an array where a scalar belongs, slots of another shape than
        their variable or not of float data) raises ValueError naming the entry and leaves the optimizer as it was.
        """

        def refuse(key: str, problem: str) -> ValueError:
            return ValueError(f"{self.name}.set_state: entry '{key}' {problem}")

        state = {key: np.asarray(value) for key, value in state.items()}
        if "iterations" not in state:
            raise ValueError(f"{self.name}.set_state: the state has no 'iterations' entry; keys: {sorted(state)}")
        for key in ("iterations", "learning_rate"):
            value = state.get(key)
            if value is not None and value.shape != ():
                raise refuse(key, f"must be a scalar, got an array of shape {value.shape}")
            if value is not None and (value.dtype.kind not in "iuf" or not np.isfinite(value)):
                raise refuse(key, f"must be a finite number, got {value!r}")
        iterations = state.pop("iterations")
        if iterations < 0 or iterations != np.floor(iterations):
            raise refuse("iterations", f"must be a whole number >= 0, got {iterations}")
        iterations = int(iterations)
        lr = state.pop("learning_rate", None)
        for key, value in state.items():
            if value.dtype.kind != "f":
                raise refuse(key, f"must hold float data like its variable, got {value.dtype}")
        expected = {f"{self._keys[k]}/{slot}": arr for k, slots in self._slots.items() for slot, arr in slots.items()}
        missing = [key for key in expected if key not in state]
        if missing and len(missing) < len(expected):
            raise ValueError(f"{self.name}.set_state: the state lacks entries {missing}")
        unknown = sorted(key for key in state if key not in expected)
        if unknown and self.built:
            raise ValueError(
                f"{self.name}.set_state: entries for unknown variables: {unknown}; "
                f"known variables: {sorted(self._keys.values())}"
            )
        for key, arr in expected.items():
            if key in state and state[key].shape != arr.shape:
                raise ValueError(
                    f"{self.name}.set_state: '{key}' has shape {state[key].shape} but the optimizer expects {arr.shape}"
                )
        for key, arr in expected.items():
            if key in state:
                arr[...] = state.pop(key)
        self._iterations.data[...] = iterations
        if lr is not None and not callable(self._learning_rate):
            self._learning_rate = float(lr)
        self._pending = state

    # --- config ----------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (Keras 3 keys); a schedule is serialized, a callable rate is evaluated."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            lr = float(lr())
        config = {
            "name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue, "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum, "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Optimizer:
        """Rebuild from `get_config()` (also accepts tf.keras 2 configs with `is_legacy_optimizer`/`jit_compile`)."""
        config = dict(config)
        for key in ("is_legacy_optimizer", "jit_compile"):
            config.pop(key, None)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name='{self.name}' learning_rate={self._learning_rate!r}>"


def in_one_call(w: Any) -> bool:
    """Whether a variable's array is small enough that its compiled update is never split over threads (it goes
    with the other small variables in one call): a C-contiguous NumPy array of under 2 x MIN_UPDATE_WORK elements."""
    return type(w) is np.ndarray and w.size < 2 * MIN_UPDATE_WORK and w.flags.c_contiguous


def flush_subnormal(a: Any, scratch: Any = None) -> Any:
    """a (float32 or float64) with its values below the dtype's smallest normal number set to 0, in place; returns
    a. An optimizer state that decays (Adam's moments of a weight whose gradient stays 0: MNIST's border pixels)
    would otherwise sit at subnormal values for about a hundred steps, where x86 arithmetic runs 10-100x slower: 4,000
    such moments made Adam's step on 100k weights 42 -> 444 us. TensorFlow's CPU threads flush them to zero too.
    `scratch`, an array of a's shape and dtype free to overwrite, takes |a| instead of a new array (NumPy Adam on
    205k weights 0.71-0.73 -> 0.62-0.64 ms)."""
    if a.dtype in (np.float32, np.float64):
        xp = backend.get_array_module(a)
        magnitude = xp.abs(a) if scratch is None else xp.abs(a, out=scratch)
        a[magnitude < xp.finfo(a.dtype).tiny] = 0
    return a


def _norm(g: np.ndarray) -> float:
    """The L2 norm of an array, accumulated by BLAS (or the device's)."""
    flat = g.reshape(-1)
    return math.sqrt(float(backend.get_array_module(g).dot(flat, flat)))


def _on_device(variables: Sequence[Tensor]) -> bool:
    """Whether these variables live on a GPU: they are updated by the readable rule, written with operators and the
    array module's functions (the in-place and compiled versions are NumPy's)."""
    return backend.cupy is not None and any(backend.is_device_array(v.data) for v in variables)


def _load(arr: np.ndarray, value: Any, key: str, owner: str) -> None:
    value = np.asarray(value)
    if value.shape != arr.shape:
        raise ValueError(
            f"{owner}: the restored state '{key}' has shape {value.shape} but its variable needs {arr.shape}"
        )
    arr[...] = value


@functools.cache
def _written_for_update(cls: type, version: str) -> bool:
    """Whether cls has the fast `version` of its own `_update`: defined by the class that defines `_update`, or by
    a subclass of it (a fast version inherited from above an overriding `_update` would follow the old rule)."""
    owner = next((k for k in cls.__mro__ if vars(k).get(version) is not None), None)
    rule = next(k for k in cls.__mro__ if "_update" in vars(k))
    return owner is not None and issubclass(owner, rule)

"""Loss: the base class (per-sample `call`, weighted and reduced by calling the object) and its wrappers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import backend
from shendu.keras_mask import get_keras_mask
from shendu.losses.functions import FUNCTIONS
from shendu.losses.inputs import as_array, as_pred, match_rank
from shendu.ops import losses as loss_ops
from shendu.tensor import Tensor, make_tensor


def check_reduction(reduction: str | None) -> str:
    """A valid reduction name (None means "none"; tf.keras 2's "auto" means "sum_over_batch_size")."""
    reduction = {None: "none", "auto": "sum_over_batch_size"}.get(reduction, reduction)
    if reduction not in loss_ops.REDUCTIONS:
        raise ValueError(f"Loss: unknown reduction {reduction!r}; expected one of {loss_ops.REDUCTIONS}")
    return reduction


class Loss:
    """Base of the losses: `call(y_true, y_pred)` gives per-sample losses; calling the object weights and
    reduces them ("sum_over_batch_size": sum(w * loss) / number of losses; "sum"; "mean_with_sample_weight":
    divided by the sum of the weights; "none": the weighted losses).

    A Keras mask on y_pred (e.g. the sequences after Embedding(mask_zero=True)) weighs the masked steps zero and,
    for the mean, counts only the others: sum(w * mask * loss) / sum(mask), as Keras 3's `apply_mask`. So a
    custom training loop that calls the loss gets the masking that fit gets.
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        self.name = name or re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", type(self).__name__).lower()
        self.reduction = check_reduction(reduction)
        self.dtype = None if dtype is None else np.dtype(dtype)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The loss of a batch: a scalar Tensor in y_pred's graph (per-sample values for reduction "none")."""
        mask = get_keras_mask(y_pred)
        y_pred = as_pred(y_pred)
        if self.dtype is not None and y_pred.dtype != self.dtype:
            y_pred = y_pred.astype(self.dtype)
        if sample_weight is not None:
            sample_weight = as_array(sample_weight)
        return self._reduced(y_true, y_pred, sample_weight, mask)

    def _reduced(self, y_true: Any, y_pred: Tensor, sample_weight: Any, mask: Any) -> Tensor:
        values = self.call(y_true, y_pred)
        if not isinstance(values, Tensor):
            values = make_tensor(backend.as_array(values), None)
        return loss_ops.WeightedReduce.apply(values, sample_weight=sample_weight, reduction=self.reduction, mask=mask)

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """The per-sample losses (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "reduction": self.reduction}
        if self.dtype is not None:
            config["dtype"] = self.dtype.name
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, reduction={self.reduction}>"


class LossFunctionWrapper(Loss):
    """A Loss made of any function fn(y_true, y_pred, **kwargs) -> per-sample losses (y_true comes as a Tensor)."""

    def __init__(self, fn: Callable[..., Any], reduction: str | None = "sum_over_batch_size", name: str | None = None,
                 dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction, dtype)
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        y_pred = as_pred(y_pred)
        t = as_array(y_true).astype(y_pred.dtype, copy=False)
        t = match_rank(t, y_pred.ndim, y_pred.shape[-1] if y_pred.ndim else 0)
        return self.fn(make_tensor(t, None), y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn)), **self.fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        config = dict(config)
        fn = config.pop("fn")
        if isinstance(fn, str):
            if fn not in FUNCTIONS:
                raise ValueError(f"LossFunctionWrapper: unknown loss function {fn!r}; pass it in custom_objects")
            fn = FUNCTIONS[fn]
        return cls(fn, **config)


class BuiltinLoss(Loss):
    """A Keras loss class: the per-sample formula is one of the functions above, its options are attributes."""

    fn: Callable[..., Tensor]
    fused: Callable[..., Tensor] | None = None
    options: tuple[str, ...] = ()

    def _options(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.options}

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return type(self).fn(y_true, y_pred, **self._options())

    def _reduced(self, y_true: Any, y_pred: Tensor, sample_weight: Any, mask: Any) -> Tensor:
        if self.fused is None:
            return super()._reduced(y_true, y_pred, sample_weight, mask)
        return type(self).fused(y_true, y_pred, **self._options(), sample_weight=sample_weight,
                                reduction=self.reduction, mask=mask)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._options()}



"""Losses with Keras's names, arguments and reductions.

Functions (`mean_squared_error(y_true, y_pred)`, ...) give one loss per sample; Loss objects
(`MeanSquaredError()`) weight and reduce them to a scalar, by default "sum_over_batch_size":
sum(sample_weight * loss) / number of losses. y_true is an array (or a Tensor) and takes no gradient;
y_pred is a Tensor in the graph. A cross-entropy of the output of a Softmax or Sigmoid op starts from that
op's input, the logits, as Keras's TensorFlow backend does: stable, and with the gradient (softmax - target).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from shendu.losses.base import BuiltinLoss, Loss, LossFunctionWrapper
from shendu.losses.classes import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from shendu.losses.functions import (
    FUNCTIONS,
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from shendu.tensor import Tensor

CLASSES: dict[str, type[Loss]] = {c.__name__: c for c in (
    LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, LogCosh, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, CosineSimilarity,
)}

_CLASS_OF: dict[Callable[..., Tensor], type[Loss]] = {
    c.fn: c for c in CLASSES.values() if issubclass(c, BuiltinLoss)  # type: ignore[attr-defined]
}


def get(identifier: Any) -> Loss | None:
    """A Loss from a name ('mse', 'categorical_crossentropy', 'Huber', ...), a Loss class or instance,
    a function fn(y_true, y_pred) -> per-sample losses, or a config dict; None stays None.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        cls = _CLASS_OF.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    raise ValueError(f"losses.get: could not interpret loss identifier {identifier!r}")


def unknown_name(kind: str, name: str, known: list[str]) -> str:
    """The error message for an unknown loss or metric name: the close matches (difflib) if any, else every name."""
    close = difflib.get_close_matches(name, known, n=3)
    if close:
        return f"Unknown {kind} {name!r}; did you mean {' or '.join(map(repr, close))}?"
    return f"Unknown {kind} {name!r}; expected one of {sorted(known)}"


def serialize(loss: Loss | Callable[..., Any]) -> dict[str, Any] | str:
    """{"class_name": ..., "config": {...}} for a Loss; a function gives its name (yours then need custom_objects)."""
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    if callable(loss) and hasattr(loss, "__name__"):
        return loss.__name__
    raise ValueError(f"losses.serialize: expected a Loss or a loss function, got {loss!r}")


def deserialize(config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None) -> Loss:
    """Rebuild a Loss from `serialize`'s dict or a name; custom_objects maps names to your own classes/functions."""
    custom = custom_objects or {}
    if isinstance(config, str):
        found = custom.get(config) or CLASSES.get(config) or FUNCTIONS.get(config)
        if found is None:
            raise ValueError(unknown_name("loss", config, [*FUNCTIONS, *CLASSES, *custom]))
        return get(found)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"losses.deserialize: expected a name or a dict with 'class_name', got {config!r}")
    name, kwargs = config["class_name"], dict(config.get("config") or {})
    cls = custom.get(name) or CLASSES.get(name)
    if cls is None:
        raise ValueError(f"Unknown loss class {name!r}; expected one of {sorted(CLASSES)} or one in custom_objects")
    if isinstance(kwargs.get("fn"), str) and kwargs["fn"] in custom:
        kwargs["fn"] = custom[kwargs["fn"]]
    return cls.from_config(kwargs)


# Keras's short aliases of the functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

__all__ = [
    "KLD", "MAE", "MAPE", "MSE", "MSLE", "BinaryCrossentropy", "CategoricalCrossentropy", "CategoricalHinge",
    "CosineSimilarity", "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError",
    "Poisson", "SparseCategoricalCrossentropy", "SquaredHinge", "binary_crossentropy", "categorical_crossentropy",
    "categorical_hinge", "cosine_similarity", "deserialize", "get", "hinge", "huber", "kl_divergence", "kld",
    "kullback_leibler_divergence", "log_cosh", "logcosh", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "mse", "msle",
    "poisson", "serialize", "sparse_categorical_crossentropy", "squared_hinge",
]

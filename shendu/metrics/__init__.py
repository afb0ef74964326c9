"""Metrics with Keras's names: stateful objects (`update_state`, `result`, `reset_state`) on NumPy arrays.

`get` turns a name ('accuracy', 'mse', 'AUC', ...), a class, an instance, a function or a config into a Metric;
'accuracy'/'acc' and 'crossentropy'/'ce' become the binary, categorical or sparse variant that fits the data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shendu import losses as _losses
from shendu.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    Deferred,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    resolve_accuracy,
    resolve_crossentropy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from shendu.metrics.auc import AUC
from shendu.metrics.base import Mean, MeanMetricWrapper, Metric, Sum
from shendu.metrics.confusion import FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from shendu.metrics.loss_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    cosine_similarity,
)

# Keras re-exports the loss functions as metric functions (they return per-sample Tensors).
binary_crossentropy = _losses.binary_crossentropy
categorical_crossentropy = _losses.categorical_crossentropy
sparse_categorical_crossentropy = _losses.sparse_categorical_crossentropy
mean_squared_error = mse = MSE = _losses.mean_squared_error
mean_absolute_error = mae = MAE = _losses.mean_absolute_error
mean_absolute_percentage_error = mape = MAPE = _losses.mean_absolute_percentage_error
mean_squared_logarithmic_error = msle = MSLE = _losses.mean_squared_logarithmic_error
kl_divergence = kld = KLD = kullback_leibler_divergence = _losses.kl_divergence
log_cosh = logcosh = _losses.log_cosh
poisson = _losses.poisson
hinge = _losses.hinge
squared_hinge = _losses.squared_hinge
categorical_hinge = _losses.categorical_hinge

CLASSES: dict[str, type[Metric]] = {c.__name__: c for c in (
    AUC, Accuracy, BinaryAccuracy, BinaryCrossentropy, CategoricalAccuracy, CategoricalCrossentropy,
    CategoricalHinge, CosineSimilarity, FalseNegatives, FalsePositives, Hinge, KLDivergence, LogCoshError, Mean,
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanMetricWrapper, MeanSquaredError, MeanSquaredLogarithmicError,
    Poisson, Precision, Recall, RootMeanSquaredError, SparseCategoricalAccuracy, SparseCategoricalCrossentropy,
    SparseTopKCategoricalAccuracy, SquaredHinge, Sum, TopKCategoricalAccuracy, TrueNegatives, TruePositives,
)}

# Names of functions (and lower-case spellings) -> the metric class that averages them.
ALIASES: dict[str, type[Metric]] = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    **dict.fromkeys(("mean_squared_error", "mse", "MSE"), MeanSquaredError),
    **dict.fromkeys(("mean_absolute_error", "mae", "MAE"), MeanAbsoluteError),
    **dict.fromkeys(("mean_absolute_percentage_error", "mape", "MAPE"), MeanAbsolutePercentageError),
    **dict.fromkeys(("mean_squared_logarithmic_error", "msle", "MSLE"), MeanSquaredLogarithmicError),
    **dict.fromkeys(("root_mean_squared_error", "rmse"), RootMeanSquaredError),
    **dict.fromkeys(("log_cosh", "logcosh"), LogCoshError),
    **dict.fromkeys(("kl_divergence", "kld", "KLD", "kullback_leibler_divergence"), KLDivergence),
    "poisson": Poisson, "hinge": Hinge, "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "cosine_similarity": CosineSimilarity, "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "precision": Precision, "recall": Recall, "auc": AUC,
}

# Functions by name (for MeanMetricWrapper configs) and function -> class (for `get(function)`).
FUNCTIONS: dict[str, Callable[..., Any]] = {f.__name__: f for f in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy, cosine_similarity, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, kl_divergence, log_cosh, poisson, hinge, squared_hinge, categorical_hinge,
)}
_CLASS_OF: dict[Callable[..., Any], type[Metric]] = {
    accuracy: Accuracy, cosine_similarity: CosineSimilarity,
    **{f: ALIASES[name] for name, f in FUNCTIONS.items() if name in ALIASES},
}

_RESOLVED = {"accuracy": resolve_accuracy, "acc": resolve_accuracy, "crossentropy": resolve_crossentropy,
             "ce": resolve_crossentropy}


def get(identifier: Any, y_true: Any = None, y_pred: Any = None) -> Metric | None:
    """A Metric from a name, a Metric class or instance, a function fn(y_true, y_pred) -> values, or a config.

    'accuracy'/'acc' (and 'crossentropy'/'ce') pick their variant from sample y_true/y_pred as Keras does:
    binary if y_pred has one column, sparse categorical if y_true has a lower rank (or one column), else
    categorical; without samples the choice waits for the first batch. A name given as a function name
    ('mse', 'binary_accuracy') becomes the metric's name.
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str) and identifier in _RESOLVED:
        resolve = _RESOLVED[identifier]
        if y_true is None or y_pred is None:
            return Deferred(resolve, name=identifier)
        return resolve(y_true, y_pred, identifier)
    if isinstance(identifier, str) and identifier in ALIASES:
        return ALIASES[identifier](name=identifier)
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        cls = _CLASS_OF.get(identifier)
        return cls() if cls is not None else MeanMetricWrapper(identifier)
    raise ValueError(f"metrics.get: could not interpret metric identifier {identifier!r}")


def serialize(metric: Metric | Callable[..., Any]) -> dict[str, Any] | str:
    """{"class_name": ..., "config": {...}}; an 'accuracy' not yet resolved, or a function, gives its name."""
    if isinstance(metric, Deferred):
        return metric.name if metric.metric is None else serialize(metric.metric)
    if isinstance(metric, Metric):
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    if callable(metric) and hasattr(metric, "__name__"):
        return metric.__name__
    raise ValueError(f"metrics.serialize: expected a Metric or a metric function, got {metric!r}")


def deserialize(config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None) -> Metric:
    """Rebuild a Metric from `serialize`'s output or a name; custom_objects maps names to your classes/functions."""
    custom = custom_objects or {}
    if isinstance(config, str):
        if config in custom:
            return get(custom[config])
        if config in CLASSES:
            return CLASSES[config]()
        if config in ALIASES or config in _RESOLVED:
            return get(config)
        raise ValueError(_losses.unknown_name("metric", config, [*_RESOLVED, *ALIASES, *CLASSES, *custom]))
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"metrics.deserialize: expected a name or a dict with 'class_name', got {config!r}")
    name, kwargs = config["class_name"], dict(config.get("config") or {})
    cls = custom.get(name) or CLASSES.get(name)
    if cls is None:
        raise ValueError(f"Unknown metric class {name!r}; expected one of {sorted(CLASSES)} or one in custom_objects")
    if isinstance(kwargs.get("fn"), str) and kwargs["fn"] in custom:
        kwargs["fn"] = custom[kwargs["fn"]]
    return cls.from_config(kwargs)


__all__ = [
    "AUC", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "CategoricalAccuracy", "CategoricalCrossentropy",
    "CategoricalHinge", "CosineSimilarity", "FalseNegatives", "FalsePositives", "Hinge", "KLDivergence",
    "LogCoshError", "Mean", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanMetricWrapper",
    "MeanSquaredError", "MeanSquaredLogarithmicError", "Metric", "Poisson", "Precision", "Recall",
    "RootMeanSquaredError", "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy", "SquaredHinge", "Sum", "TopKCategoricalAccuracy", "TrueNegatives",
    "TruePositives", "accuracy", "binary_accuracy", "binary_crossentropy", "categorical_accuracy",
    "categorical_crossentropy", "categorical_hinge", "cosine_similarity", "deserialize", "get", "hinge",
    "kl_divergence", "kld", "log_cosh", "logcosh", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "mse", "msle",
    "poisson", "serialize", "sparse_categorical_accuracy", "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy", "squared_hinge", "top_k_categorical_accuracy",
]

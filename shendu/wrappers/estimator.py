"""scikit-learn's estimator protocol written out, so that the wrappers work in its tools without importing it.

What `sklearn.base.clone`, `GridSearchCV`, `Pipeline` and `check_is_fitted` ask of an estimator: `get_params` /
`set_params` over the constructor arguments (stored unchanged), `__sklearn_tags__` (built from sklearn's own
dataclasses, imported only when sklearn asks), `_more_tags` and `_estimator_type` for scikit-learn < 1.6, and
`__sklearn_is_fitted__`. Parameters are the public attributes without a trailing underscore, as SciKeras has them,
so that routed parameters such as `model__units=64` are parameters too.
"""

from __future__ import annotations

from typing import Any

ROUTING_PREFIXES = ("model", "fit", "compile", "predict", "optimizer", "loss", "metrics", "callbacks", "score")


class NotFittedError(ValueError, AttributeError):
    """Raised by predict/score/transform before fit (scikit-learn's `NotFittedError` when it is installed)."""


def not_fitted(estimator: Any, method: str) -> Exception:
    """The error for `method` called before fit: sklearn's NotFittedError class where sklearn is installed."""
    message = (f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments "
               f"before using {method}().")
    try:
        from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    except ImportError:
        return NotFittedError(message)
    return SklearnNotFittedError(message)


class Estimator:
    """get_params/set_params/repr/tags for the wrappers (the part of sklearn's BaseEstimator they need)."""

    _estimator_type: str | None = None
    _routing_prefixes: tuple[str, ...] = ()

    def _get_param_names(self) -> list[str]:
        return [k for k in vars(self) if not k.endswith("_") and not k.startswith("_")]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters (and routed ones such as `model__units`); with deep, those of nested
        estimators as `name__param` too."""
        params = {name: getattr(self, name) for name in self._get_param_names()}
        if deep:
            for name, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    params.update({f"{name}__{k}": v for k, v in value.get_params(deep=True).items()})
        return params

    def set_params(self, **params: Any) -> Estimator:
        """Set parameters, routed ones (`optimizer__learning_rate=1e-2`) and those of nested estimators included."""
        valid = self.get_params(deep=False)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            prefix, sep, rest = key.partition("__")
            if sep and prefix in self._routing_prefixes:
                setattr(self, key, value)
            elif sep and prefix in valid and hasattr(valid[prefix], "set_params"):
                nested.setdefault(prefix, {})[rest] = value
            elif key in valid:
                setattr(self, key, value)
            else:
                name = type(self).__name__
                raise ValueError(f"Invalid parameter {key!r} for estimator {name}. Set it in the constructor "
                                 f"({name}({key}=...)) or pick one of {sorted(valid)}")
        for prefix, sub in nested.items():
            valid[prefix].set_params(**sub)
        return self

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={_short(v)}" for k, v in self.get_params(deep=False).items() if v is not None)
        return f"{type(self).__name__}({params})"

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def _more_tags(self) -> dict[str, Any]:
        return {"poor_score": True, "non_deterministic": True, "requires_y": True, "multioutput": True}

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags, TransformerTags

        kind = self._estimator_type
        return Tags(estimator_type=kind, target_tags=TargetTags(required=True, multi_output=kind == "regressor"),
                    transformer_tags=TransformerTags(preserves_dtype=[]) if kind is None else None,
                    classifier_tags=ClassifierTags(poor_score=True) if kind == "classifier" else None,
                    regressor_tags=RegressorTags(poor_score=True) if kind == "regressor" else None,
                    non_deterministic=True, input_tags=InputTags(three_d_array=True))


def _short(value: Any) -> str:
    name = getattr(value, "__name__", None)
    return name if callable(value) and name else repr(value)

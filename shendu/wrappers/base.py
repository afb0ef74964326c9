"""BaseWrapper: a shendu/Keras model as a scikit-learn estimator, with SciKeras's parameters and routing.

`model` is a build function (called with the parameters routed to it: `model__units=64` or the extra constructor
keywords, and `meta`, `compile_kwargs`, `params` if it takes them), a Model (copied at each new fit, so every fit
starts from its weights) or None with `_keras_build_fn` defined. An uncompiled model is compiled with `optimizer`,
`loss` and `metrics` (classes take routed parameters: `optimizer__learning_rate`). `random_state` seeds the build
and the training so that a fit repeats exactly. Data are NumPy-like arrays with samples on the first axis.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from shendu import backend
from shendu.models import Model
from shendu.random import seeded
from shendu.wrappers.estimator import ROUTING_PREFIXES, Estimator, not_fitted
from shendu.wrappers.routing import accepts, classes_for_names, route_params, unflatten_params

FIT_KWARGS = {"batch_size", "epochs", "verbose", "validation_split", "shuffle", "class_weight", "sample_weight",
              "initial_epoch", "validation_steps", "validation_batch_size", "validation_freq"}
PREDICT_KWARGS = {"batch_size", "verbose", "steps"}
COMPILE_KWARGS = {"optimizer", "loss", "metrics", "loss_weights", "weighted_metrics", "run_eagerly"}


class BaseWrapper(Estimator):
    """The scikit-learn estimator API for a shendu model (SciKeras's BaseWrapper); see KerasClassifier and
    KerasRegressor."""

    _routing_prefixes = ROUTING_PREFIXES
    _fit_kwargs = FIT_KWARGS

    def __init__(self, model: Any = None, *, build_fn: Any = None, warm_start: bool = False,
                 random_state: int | np.random.RandomState | None = None, optimizer: Any = "rmsprop",
                 loss: Any = None, metrics: Any = None, batch_size: int | None = None,
                 validation_batch_size: int | None = None, verbose: int = 1, callbacks: Any = None,
                 validation_split: float = 0.0, shuffle: bool = True, run_eagerly: bool = False, epochs: int = 1,
                 **kwargs: Any) -> None:
        self.model = model
        self.build_fn = build_fn
        self.warm_start = warm_start
        self.random_state = random_state
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.validation_batch_size = validation_batch_size
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.run_eagerly = run_eagerly
        self.epochs = epochs
        vars(self).update(kwargs)
        self._user_params = set(kwargs)

    # --- state ------------------------------------------------------------------------------------
    @property
    def initialized_(self) -> bool:
        return hasattr(self, "model_")

    @property
    def current_epoch(self) -> int:
        """The number of epochs trained since the last fresh fit."""
        return len(getattr(self, "history_", {}).get("loss", []))

    def _get_metadata(self) -> dict[str, Any]:
        """What fit learned about the data (n_features_in_, classes_, target_type_, ...), for build functions."""
        return {k: v for k, v in vars(self).items() if len(k) > 1 and k[-1] == "_" and k[-2] != "_" and k[0] != "_"}

    # --- building ---------------------------------------------------------------------------------
    def _build_function(self) -> Callable[..., Any]:
        model = self.model
        if model is None and self.build_fn is not None:
            warnings.warn("build_fn is the old name of model: pass model= instead", stacklevel=4)
            model = self.build_fn
        if model is None:
            if not hasattr(self, "_keras_build_fn"):
                raise ValueError(f"{type(self).__name__}: pass model= (a build function or a Model), or define "
                                 "_keras_build_fn in a subclass")
            return self._keras_build_fn
        if isinstance(model, Model):
            return lambda: copy.deepcopy(model)
        if callable(model):
            return model
        raise TypeError(f"{type(self).__name__}: model must be a build function, a Model or None; got "
                        f"{type(model).__name__}")

    def _build_keras_model(self) -> Model:
        build = self._build_function()
        params = self.get_params()
        build_params = route_params(params, "model", self._user_params, strict=True)
        if accepts(build, "meta"):
            build_params["meta"] = self._get_metadata()
        if accepts(build, "compile_kwargs"):
            build_params["compile_kwargs"] = self._get_compile_kwargs()
        if accepts(build, "params"):
            build_params["params"] = params
        with seeded(self._random_state):
            model = build(**build_params)
        if not isinstance(model, Model):
            raise TypeError(f"{type(self).__name__}: the build function must return a Model; it returned "
                            f"{type(model).__name__}")
        return model

    def _get_compile_kwargs(self) -> dict[str, Any]:
        """compile()'s arguments: the constructor's, with classes (and names given routed parameters) built."""
        from shendu import losses, metrics, optimizers

        params = self.get_params()
        kwargs = route_params(params, "compile", COMPILE_KWARGS)
        kwargs["optimizer"] = self._resolve(kwargs["optimizer"], optimizers.get, params, "optimizer", strict=True)
        if not isinstance(kwargs["optimizer"], str):
            kwargs["optimizer"] = copy.deepcopy(kwargs["optimizer"])  # a fresh state at each new fit
        kwargs["loss"] = self._resolve(kwargs["loss"], losses.get, params, "loss")
        kwargs["metrics"] = self._resolve(kwargs["metrics"], metrics.get, params, "metrics")
        if kwargs["metrics"] is not None and not isinstance(kwargs["metrics"], (list, dict)):
            kwargs["metrics"] = [kwargs["metrics"]]
        kwargs.pop("run_eagerly", None)
        return kwargs

    @staticmethod
    def _resolve(items: Any, getter: Callable[[str], Any], params: dict[str, Any], where: str,
                 strict: bool = False) -> Any:
        routed = route_params(params, where, set(), strict=strict)
        if not routed:
            return items  # names stay names: compile resolves them ('accuracy' by the labels' kind)
        return unflatten_params(classes_for_names(items, getter), routed)

    def _ensure_compiled_model(self, X: np.ndarray) -> None:
        if self.model_.compiled:
            return
        kwargs = self._get_compile_kwargs()
        if kwargs["loss"] is None:
            kwargs["loss"] = self._default_loss(X)
        self.model_.compile(**kwargs)

    def _default_loss(self, X: np.ndarray) -> Any:
        raise ValueError(f"{type(self).__name__}: pass loss= or give a compiled model (the network was built "
                         "uncompiled and no loss was given)")

    def _initialize_callbacks(self) -> None:
        from shendu.callbacks import Callback

        params = self.get_params()

        def build(destination: str) -> list[Any]:
            if params.get(destination) is None:
                return []
            found = unflatten_params(params[destination], route_params(params, destination, set()))
            if isinstance(found, Mapping):
                found = list(found.values())
            elif isinstance(found, Callback):
                found = [found]
            if not isinstance(found, (list, tuple)) or not all(isinstance(cb, Callback) for cb in found):
                raise TypeError(f"{type(self).__name__}: {destination} must be a Callback, a Callback class, or a "
                                f"list or dict of them; got {found!r}")
            return list(found)

        shared = build("callbacks")
        self._fit_callbacks = shared + build("fit__callbacks")
        self._predict_callbacks = shared + build("predict__callbacks")

    # --- data -------------------------------------------------------------------------------------
    def _validate_data(self, X: Any = None, y: Any = None, reset: bool = False,
                       y_numeric: bool = False) -> tuple[Any, Any]:
        name = type(self).__name__
        if y is not None:
            y = _as_array(y, y_numeric, name, "y")
            if y.ndim > 2:
                raise ValueError(f"{name}: y must be 1-D or 2-D; got shape {y.shape}")
            if reset:
                self.target_type_ = self._type_of_target(y)
                self.y_dtype_, self.y_ndim_ = y.dtype, y.ndim
            elif self.y_ndim_ != y.ndim:
                raise ValueError(f"{name}: y has {y.ndim} dimensions, this estimator expects {self.y_ndim_}")
        if X is not None:
            X = _as_array(X, True, name, "X")
            if X.ndim < 2:
                raise ValueError(f"{name}: expected a 2-D array X (samples, features), got shape {X.shape}; "
                                 "reshape a single feature with X.reshape(-1, 1)")
            if X.dtype.kind == "f" and not np.isfinite(X).all():
                raise ValueError(f"{name}: X contains NaN or infinity")
            if reset:
                self.X_dtype_, self.X_shape_, self.n_features_in_ = X.dtype, X.shape, X.shape[1]
            elif X.shape[1:] != self.X_shape_[1:]:
                raise ValueError(f"{name}: X has shape {X.shape[1:]} per sample, this estimator was fitted on "
                                 f"{self.X_shape_[1:]}")
        if X is not None and y is not None and len(X) != len(y):
            raise ValueError(f"{name}: X and y have different numbers of samples: {len(X)} and {len(y)}")
        return X, y

    def _type_of_target(self, y: np.ndarray) -> str:
        from shendu.wrappers.targets import type_of_target

        return type_of_target(y)

    @staticmethod
    def _validate_sample_weight(X: np.ndarray, y: np.ndarray, sample_weight: Any) -> tuple[Any, Any, Any]:
        """Weights as a float array; samples of weight 0 dropped (as sklearn's estimators ignore them)."""
        weight = np.broadcast_to(np.asarray(sample_weight, dtype=backend.floatx()), (len(X),))
        if np.all(weight == 0):
            raise ValueError("No training samples had any weight; only zeros were passed in sample_weight")
        keep = weight != 0
        return X[keep], y[keep], weight[keep]

    # --- fit / predict ----------------------------------------------------------------------------
    def _initialize(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(self.random_state, np.random.RandomState):
            state = np.random.RandomState()
            state.set_state(self.random_state.get_state())
            self._random_state = int(state.randint(2**31 - 1))
        else:
            self._random_state = self.random_state
        X, y = self._validate_data(X, y, reset=True)
        self.target_encoder_ = self.target_encoder.fit(y)
        vars(self).update(self._target_metadata())
        self.model_ = self._build_keras_model()
        self._initialize_callbacks()
        return X, y

    def initialize(self, X: Any, y: Any = None) -> BaseWrapper:
        """Build the model for these data without training it (SciKeras's initialize)."""
        self._initialize(X, y)
        return self

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **kwargs: Any) -> BaseWrapper:
        """Build a new model (unless warm_start) and train it on (X, y) for `epochs` (fit__epochs, or epochs=)."""
        kwargs["epochs"] = kwargs.get("epochs", getattr(self, "fit__epochs", self.epochs))
        kwargs["initial_epoch"] = kwargs.get("initial_epoch", 0)
        self._fit(X, y, sample_weight, warm_start=self.warm_start, **kwargs)
        return self

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, **kwargs: Any) -> BaseWrapper:
        """Train one more epoch, keeping the weights and the history."""
        for name in ("epochs", "initial_epoch"):
            if name in kwargs:
                raise TypeError(f"{type(self).__name__}.partial_fit: invalid argument {name!r}: partial_fit always "
                                "trains for one epoch from the current one")
        self._fit(X, y, sample_weight, warm_start=True, epochs=1, initial_epoch=self.current_epoch, **kwargs)
        return self

    def _fit(self, X: Any, y: Any, sample_weight: Any, warm_start: bool, epochs: int, initial_epoch: int,
             **kwargs: Any) -> None:
        if (self.warm_start or warm_start) and self.initialized_:
            X, y = self._validate_data(X, y)
        else:
            X, y = self._initialize(X, y)
        self._ensure_compiled_model(X)
        if sample_weight is not None:
            X, y, sample_weight = self._validate_sample_weight(X, y, sample_weight)
        y = self.target_encoder_.transform(y)
        args = route_params(self.get_params(), "fit", self._fit_kwargs)
        args = {k: v for k, v in args.items() if not k.startswith("callbacks")}
        args.update(kwargs, sample_weight=sample_weight, epochs=initial_epoch + epochs, initial_epoch=initial_epoch,
                    callbacks=self._fit_callbacks)
        _full_batch(args, X, ("batch_size", "validation_batch_size"))
        with seeded(self._random_state):
            history = self.model_.fit(X, y, **args)
        if not warm_start or not hasattr(self, "history_") or initial_epoch == 0:
            self.history_ = {}
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(values)

    def _predict_raw(self, X: Any, **kwargs: Any) -> np.ndarray:
        if not self.initialized_:
            raise not_fitted(self, "predict")
        X, _ = self._validate_data(X)
        args = route_params(self.get_params(), "predict", PREDICT_KWARGS, strict=True)
        args = {k: v for k, v in args.items() if not k.startswith("callbacks")}
        args["callbacks"] = self._predict_callbacks
        args.update(kwargs)
        _full_batch(args, X, ("batch_size",))
        return self.model_.predict(X, **args)

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        """Predictions in the targets' form (labels for a classifier)."""
        outputs = self._predict_raw(X, **kwargs)
        return self.target_encoder_.inverse_transform(outputs)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The estimator's score of predict(X) against y: accuracy (classifier) or R^2 (regressor)."""
        _, y = self._validate_data(y=y)
        if sample_weight is not None:
            X, y, sample_weight = self._validate_sample_weight(np.asarray(X), y, sample_weight)
        params = route_params(self.get_params(), "score", set())
        return self.scorer(y, self.predict(X), sample_weight=sample_weight, **params)

    def _target_metadata(self) -> dict[str, Any]:
        return {}


def _as_array(values: Any, numeric: bool, name: str, what: str) -> np.ndarray:
    array = np.asarray(values)
    if numeric and array.dtype.kind in "OUS":
        try:
            array = array.astype(backend.floatx())
        except ValueError as error:
            raise ValueError(f"{name}: {what} must be numeric; got values of type {array.dtype} ({error})") from None
    return array


def _full_batch(args: dict[str, Any], X: np.ndarray, names: tuple[str, ...]) -> None:
    """batch_size=-1 means all samples in one batch (SciKeras)."""
    for name in names:
        if args.get(name) == -1:
            args[name] = X.shape[0]

"""Layer: the Keras layer contract. __init__(config) -> build(input_shape) -> call(inputs, training)."""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu import backend, grad_mode
from shendu.keras_mask import _masks, get_keras_mask, set_keras_mask
from shendu.tensor import Tensor
from shendu.utils.tree import flatten
from shendu.variable import Variable

_name_counts: dict[str, int] = {}

# The `training` flag of the outermost call in progress: a layer called without one inherits it, as in Keras,
# so a Dropout inside a custom layer or model is active during fit even when `training` is not passed down.
_training_context: list[bool | None] = [None]


def unique_name(base: str) -> str:
    """'dense', 'dense_1', 'dense_2', ... as Keras names layers and models."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def snake_case(name: str) -> str:
    """'Conv2D' -> 'conv2d', 'MaxPooling2D' -> 'max_pooling2d', as Keras derives default names."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def to_tensor(x: Any, dtype: Any = None) -> Any:
    """Inputs as Tensors (lists and tuples element by element); float data takes `dtype` (default floatx),
    as Keras autocasts a layer's inputs; integer data (labels, token ids) stays integer."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(to_tensor(v, dtype) for v in x)
    if isinstance(x, dict):
        return {k: to_tensor(v, dtype) for k, v in x.items()}
    arr = backend.as_array(x)
    if arr.dtype.kind == "f":
        arr = arr.astype(dtype or backend.floatx(), copy=False)
    return Tensor(arr)


def shape_of(x: Any) -> Any:
    """The shape (or list of shapes) of inputs, with the batch axis as given."""
    if isinstance(x, (list, tuple)):
        return [shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: shape_of(v) for k, v in x.items()}
    return tuple(x.shape)


class Layer:
    """Base of every layer: weights created lazily in `build`, the computation in `call`.

    A subclass sets its arguments in `__init__` (passing `**kwargs` up), creates weights with
    `add_weight` in `build(input_shape)`, computes in `call(inputs, training=None)`, and returns its
    arguments from `get_config()` so that `from_config` rebuilds it.
    """

    # Whether the class overrides `compute_mask` (set per class): such a layer may make a mask from maskless
    # inputs, so `__call__` asks it even then; other layers cost nothing extra while no tensor carries a mask.
    _makes_masks = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._makes_masks = cls.compute_mask is not Layer.compute_mask

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 input_shape: Sequence[int | None] | None = None, batch_input_shape: Sequence[int | None] | None = None,
                 input_dim: int | None = None, batch_size: int | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = np.dtype(dtype) if dtype is not None else backend.floatx()
        self.built = False
        self._trainable_weights: list[Variable] = []
        self._non_trainable_weights: list[Variable] = []
        self._layers: list[Layer] = []
        self._regularizers: list[tuple[Variable, Any]] = []
        self._call_losses: list[Tensor] = []
        self._inbound_nodes: list[Any] = []
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape: tuple[int | None, ...] | None = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size, *tuple(input_shape))
        else:
            self._batch_input_shape = None

    # --- sub-layer tracking ------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        """Track what is assigned as an attribute, as Keras does: sub-layers, and Variables made outside
        `add_weight` (`self.w = tf.Variable(5.0)` in a subclassed model) as this layer's weights. A Variable that a
        layer has already (a shared weight, the list of a model's variables its training step keeps) stays that
        layer's alone, so that no weight is counted or updated twice."""
        if name != "_layers" and "_layers" in self.__dict__:
            for v in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(v, Layer) and v is not self and not any(v is s for s in self._layers):
                    self._layers.append(v)
                elif isinstance(v, Variable) and not getattr(v, "_in_layer", False):
                    v._in_layer = True
                    (self._trainable_weights if v.trainable else self._non_trainable_weights).append(v)
        object.__setattr__(self, name, value)

    @property
    def trainable(self) -> bool:
        """Whether training updates this layer's weights. Setting it sets it on every sub-layer too (Keras 3) and
        tells the weights created trainable (`trainable`, `requires_grad`), so a GradientTape, like fit, takes
        gradients of exactly the trainable ones; setting it back to True unfreezes them all."""
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        self.__dict__["_trainable"] = value
        if "_layers" in self.__dict__:
            for v in self._trainable_weights:
                v.trainable = value
                if v.data.dtype.kind == "f":
                    v.requires_grad = value
            for layer in self._layers:
                layer.trainable = value

    # --- weights -----------------------------------------------------------------------------------
    def add_weight(self, name: str | None = None, shape: Sequence[int] = (), initializer: Any = None,
                   dtype: Any = None, trainable: bool = True, regularizer: Any = None,
                   constraint: Any = None) -> Variable:
        """Create a weight, initialize it, and track it (and its regularization penalty)."""
        from shendu import initializers, regularizers
        from shendu.saving.weight_budget import charge

        dtype = np.dtype(dtype) if dtype is not None else self.dtype
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        init = initializers.get(initializer)
        shape = tuple(int(s) for s in shape)
        charge(f"{self.name}/{name}", shape)  # a model being loaded may not create more than its file holds
        value = np.asarray(init(shape, dtype=dtype), dtype=dtype)
        n = len(self._trainable_weights) + len(self._non_trainable_weights)
        var = Variable(value, name=f"{self.name}/{name or f'variable_{n}'}", trainable=trainable, dtype=dtype)
        var.constraint = constraint
        var._in_layer = True
        (self._trainable_weights if trainable else self._non_trainable_weights).append(var)
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._regularizers.append((var, reg))
        return var

    def add_variable(self, shape: Sequence[int], initializer: Any, dtype: Any = None, trainable: bool = True,
                     autocast: bool = True, regularizer: Any = None, constraint: Any = None,
                     name: str | None = None) -> Variable:
        """Keras 3's `add_weight` with shape and initializer first. `autocast` is accepted for Keras's signature:
        shendu computes every layer in its own dtype."""
        return self.add_weight(name=name, shape=shape, initializer=initializer, dtype=dtype, trainable=trainable,
                               regularizer=regularizer, constraint=constraint)

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        out = [w for w in self._trainable_weights]
        for layer in self._layers:
            out.extend(layer.trainable_weights)
        return out

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return self.weights
        out = list(self._non_trainable_weights)
        for layer in self._layers:
            out.extend(layer.non_trainable_weights)
        return out

    @property
    def weights(self) -> list[Variable]:
        """All weights: this layer's trainable, then non-trainable, then its sub-layers' (Keras's order)."""
        out = self._trainable_weights + self._non_trainable_weights
        for layer in self._layers:
            out.extend(layer.weights)
        return out

    @property
    def variables(self) -> list[Variable]:
        return self.weights

    @property
    def trainable_variables(self) -> list[Variable]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[Variable]:
        return self.non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays (copies, from a GPU copied to the host), in the order of `weights`."""
        return [np.array(backend.to_host(w.data)) for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load weights in the order and shapes of `get_weights()`; says which one does not fit."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"Layer '{self.name}': set_weights expected a list of {len(own)} arrays "
                f"(shapes {[tuple(w.shape) for w in own]}), got {len(weights)}"
            )
        for var, value in zip(own, weights):
            arr = np.asarray(value)
            if arr.shape != var.shape:
                raise ValueError(
                    f"Layer '{self.name}': weight '{var.name}' has shape {var.shape}, got an array of shape {arr.shape}"
                )
        for var, value in zip(own, weights):
            var.assign(np.asarray(value, dtype=var.dtype))

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    # --- metrics -----------------------------------------------------------------------------------
    @property
    def metrics(self) -> list[Any]:
        """The Metric objects this layer holds as attributes, then those of its sub-layers (Keras 3's `metrics`)."""
        return self._tracked_metrics()

    def _tracked_metrics(self) -> list[Any]:
        """Metrics held as attributes here and in the sub-layers (a nested model's compiled metrics are not)."""
        from shendu.metrics.base import Metric

        out: list[Any] = []
        for key, value in self.__dict__.items():
            if isinstance(value, Metric):
                if all(value is not m for m in out):
                    out.append(value)
            elif key[0] != "_" and isinstance(value, (list, tuple)):  # a public list of metrics (not the weights)
                out.extend(v for v in value if isinstance(v, Metric) and all(v is not m for m in out))
        out.extend(m for m in self.__dict__.get("_added_metrics", {}).values() if all(m is not o for o in out))
        for layer in self._layers:
            out.extend(m for m in layer._tracked_metrics() if all(m is not o for o in out))
        return out

    def add_metric(self, value: Any, name: str | None = None, aggregation: str = "mean") -> None:
        """tf.keras 2's metric from inside `call`: `value` averaged (aggregation='mean') or summed ('sum') over the
        epoch and logged under `name`. Keras 3 removed it; holding a Metric as an attribute does the same."""
        from shendu.layers.symbolic import KerasTensor
        from shendu.metrics.base import Mean, Sum

        if not name:
            raise ValueError(f"Layer '{self.name}': add_metric() needs a name for the metric, got {name!r}")
        if aggregation not in ("mean", "sum"):
            raise ValueError(f"Layer '{self.name}': add_metric() aggregation must be 'mean' or 'sum', "
                             f"got {aggregation!r}")
        added = self.__dict__.setdefault("_added_metrics", {})
        if name not in added:
            added[name] = (Mean if aggregation == "mean" else Sum)(name=name)
        if not isinstance(value, KerasTensor):  # a symbolic call only declares the metric
            added[name].update_state(value)

    # --- losses ------------------------------------------------------------------------------------
    def add_loss(self, loss: Any) -> None:
        """Add a term to the training loss from inside `call` (e.g. a KL divergence or activity penalty)."""
        self._call_losses.append(loss if isinstance(loss, Tensor) else Tensor(loss))

    @property
    def losses(self) -> list[Tensor]:
        """Penalties to add to the loss: weight regularizers and `add_loss` terms of the last call."""
        out = [reg(var) for var, reg in self._regularizers] + list(self._call_losses)
        for layer in self._layers:
            out.extend(layer.losses)
        return out

    def _clear_call_losses(self) -> None:
        self._call_losses = []
        for layer in self._layers:
            layer._clear_call_losses()

    # --- the contract ------------------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Create the weights for inputs of this shape (the batch axis included, often None)."""
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement call(inputs, training=None)")

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for an input shape; by default found by running the layer on zeros."""
        from shendu.layers.symbolic import trace_output_shape

        return trace_output_shape(self, input_shape)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    # --- masks -------------------------------------------------------------------------------------
    @property
    def supports_masking(self) -> bool:
        """Whether the layer passes a Keras mask on (through `compute_mask`). As in Keras 3, True by default
        exactly when the class overrides `compute_mask`; layers that keep the time steps set it to True."""
        value = self.__dict__.get("_supports_masking")
        return self._makes_masks if value is None else value

    @supports_masking.setter
    def supports_masking(self, value: bool) -> None:
        self.__dict__["_supports_masking"] = bool(value)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the outputs: by default the incoming one (for a layer that supports masking)."""
        return mask

    def _set_output_masks(self, inputs: Any, outputs: Any, previous: Any) -> None:
        """Keras 3's mask metadata: outputs without a mask get `compute_mask(inputs, previous)`. A layer that
        does not support masking drops the mask, with Keras 3's warning; not when its outputs carry masks of
        their own (a model, whose layers passed the mask on)."""
        flat = [t for t in flatten(outputs) if isinstance(t, Tensor)]
        masked = [get_keras_mask(t) is not None for t in flat]
        if not self.supports_masking:
            if previous is not None and not any(masked):
                warnings.warn(
                    f"Layer '{self.name}' (of type {type(self).__name__}) was passed an input with a mask attached "
                    "to it. However, this layer does not support masking and will therefore destroy the mask "
                    "information. Downstream layers will not see the mask.",
                    stacklevel=3,
                )
            return
        if all(masked):
            return
        masks = self.compute_mask(inputs, previous)
        if masks is None:
            return
        for t, m in zip(flat, flatten(masks)):
            if m is not None and get_keras_mask(t) is None:
                set_keras_mask(t, m)

    @classmethod
    def _takes_mask(cls) -> bool:
        """Whether `call` names a `mask` argument, which Keras fills in from the inputs' masks (**kwargs does not)."""
        cached = cls.__dict__.get("_takes_mask_arg")
        if cached is None:
            cached = "mask" in inspect.signature(cls.call).parameters
            cls._takes_mask_arg = cached
        return cached

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        from shendu.layers.symbolic import KerasTensor, call_symbolic

        first = inputs[0] if isinstance(inputs, (list, tuple)) and inputs else inputs
        if isinstance(first, KerasTensor):
            return call_symbolic(self, inputs, args, kwargs)
        inputs = to_tensor(inputs, self.dtype)
        if not self.built:
            self._build_for(inputs)
        training = kwargs.get("training")
        if self._accepts("training"):
            if training is None and _training_context[0] is not None:
                training = kwargs["training"] = _training_context[0]
        elif "training" in kwargs:
            kwargs.pop("training")
        previous = None
        if _masks or "mask" in kwargs:  # some tensor carries a Keras mask (one test when none does)
            previous = kwargs.get("mask")
            if previous is None:
                previous = input_masks(inputs)
                if previous is not None and self._takes_mask():
                    kwargs["mask"] = previous
            if "mask" in kwargs and not self._accepts("mask"):
                kwargs.pop("mask")
        self._call_losses = []
        outer = _training_context[0]
        if training is None or training is outer:
            outputs = self.call(inputs, *args, **kwargs)
        else:
            _training_context[0] = training
            try:
                outputs = self.call(inputs, *args, **kwargs)
            finally:
                _training_context[0] = outer
        if previous is not None or self._makes_masks:
            self._set_output_masks(inputs, outputs, previous)
        return outputs

    def _build_for(self, inputs: Any) -> None:
        """Build from the inputs' shapes (batch axis as None) once."""
        shape = shape_of(inputs)
        if isinstance(shape, tuple):
            shape = (None, *shape[1:])
        elif isinstance(shape, list):
            shape = [(None, *s[1:]) if isinstance(s, tuple) else s for s in shape]
        with grad_mode.no_grad():
            self.build(shape)
        self.built = True

    @classmethod
    def _accepts(cls, arg: str) -> bool:
        """Whether this class's `call` takes the argument (checked once per class)."""
        key = f"_accepts_{arg}"
        cached = cls.__dict__.get(key)
        if cached is None:
            params = inspect.signature(cls.call).parameters
            cached = arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
            setattr(cls, key, cached)
        return cached

    @property
    def input_shape(self) -> Any:
        if self._inbound_nodes:
            return self._inbound_nodes[0].input_shapes
        if self._batch_input_shape is not None:
            return self._batch_input_shape
        raise AttributeError(f"Layer '{self.name}' has not been called yet, so it has no input_shape")

    @property
    def output_shape(self) -> Any:
        if self._inbound_nodes:
            return self._inbound_nodes[0].output_shapes
        raise AttributeError(f"Layer '{self.name}' has not been called on a symbolic input, so it has no output_shape")

    @property
    def output(self) -> Any:
        """The symbolic output(s) of this layer's first call in a functional graph (Keras's `layer.output`)."""
        if self._inbound_nodes:
            outputs = self._inbound_nodes[0].outputs
            return outputs[0] if len(outputs) == 1 else outputs
        raise AttributeError(f"Layer '{self.name}' has not been called on a symbolic input, so it has no output")

    @property
    def input(self) -> Any:
        """The symbolic input(s) of this layer's first call in a functional graph (Keras's `layer.input`)."""
        if self._inbound_nodes:
            node = self._inbound_nodes[0]
            return node.inputs if node.inputs != [] else node.outputs[0]
        raise AttributeError(f"Layer '{self.name}' has not been called on a symbolic input, so it has no input")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def input_masks(inputs: Any) -> Any:
    """The Keras masks the inputs carry, in their structure (a list of masks for a list of inputs, as Keras
    passes them), or None when none carries one."""
    if isinstance(inputs, Tensor):
        return get_keras_mask(inputs)
    if isinstance(inputs, (list, tuple)):
        masks = [input_masks(x) for x in inputs]
        return masks if any(m is not None for m in masks) else None
    if isinstance(inputs, dict):
        found = {k: input_masks(v) for k, v in inputs.items()}
        return found if any(m is not None for m in found.values()) else None
    return None


def clear_session() -> None:
    """Restart automatic layer names ('dense', 'dense_1', ...) from scratch, as Keras's `clear_session`."""
    _name_counts.clear()

"""Sequential: a plain stack of layers, each with one input and one output."""

from __future__ import annotations

from typing import Any

from shendu import backend
from shendu.layers.base import Layer
from shendu.layers.input_layer import InputLayer
from shendu.layers.symbolic import KerasTensor
from shendu.models.functional import adapt_input
from shendu.models.fusion import call_fused, fused_with
from shendu.models.model import Model


class Sequential(Model):
    """`Sequential([layers...])` or `.add(layer)`: built at once when the input shape is known (an `Input`, or
    `input_shape=` on the first layer), else on the first data. `model.layers` leaves the InputLayer out."""

    def __init__(self, layers: list[Any] | None = None, trainable: bool = True, name: str | None = None) -> None:
        super().__init__(trainable=trainable, name=name)
        self.__dict__["_input_layer"] = None  # not a tracked sub-layer: model.layers leaves it out
        self._chain: list[KerasTensor] = []
        self._plan: list[tuple[Layer, bool, tuple[Layer, ...] | None]] = []
        self._input_spec: Any = None
        self._input_inferred = False  # the input shape came from the first data: relaxed by later data
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._rebuild()

    # --- assembling --------------------------------------------------------------------------------
    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (an `Input(...)` or InputLayer only as the first)."""
        if isinstance(layer, KerasTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential '{self.name}': only Layer instances can be added; received {layer!r} "
                f"of type {type(layer).__name__}"
            )
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._layers:
                raise ValueError(f"Sequential '{self.name}': an InputLayer can only be the first layer")
            self.__dict__["_input_layer"] = layer
        else:
            if any(existing.name == layer.name for existing in self._layers):
                raise ValueError(
                    f"All layers added to a Sequential model should have unique names. Name '{layer.name}' is "
                    f"already the name of a layer in model '{self.name}'. Pass a unique `name` argument."
                )
            if not self._layers and self._input_layer is None:
                self.__dict__["_input_layer"] = _input_for(layer)
            self._layers.append(layer)
        if not rebuild:
            return
        if self._chain and not isinstance(layer, InputLayer):
            self._chain.append(self._symbolic(layer, self._chain[-1]))
            self._refresh()
        else:
            self._rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise TypeError(f"Sequential '{self.name}': there are no layers in the model")
        layer = self._layers.pop()
        if len(self._chain) > 1:
            self._chain.pop()
        self._refresh()
        return layer

    def _symbolic(self, layer: Layer, x: KerasTensor) -> KerasTensor:
        out = layer(x)
        if not isinstance(out, KerasTensor):
            raise ValueError(
                f"Sequential '{self.name}': all layers should have a single output tensor; layer '{layer.name}' "
                "has several. For multi-output layers, use the functional API."
            )
        return out

    def _rebuild(self) -> None:
        """Run the layers on the symbolic input (building them) when the input shape is known."""
        self._chain = []
        if self._input_layer is not None:
            x = self._input_layer.output
            self._chain.append(x)
            for layer in self._layers:
                x = self._symbolic(layer, x)
                self._chain.append(x)
            self._build_input_shape = self._input_layer.output.shape
        self._refresh()

    def _refresh(self) -> None:
        self._plan = [(layer, layer._accepts("training"), fused_with(self._layers, i))
                      for i, layer in enumerate(self._layers)]
        out = self._input_layer.output if self._input_layer is not None else None
        self._input_spec = (out.shape, out.dtype, self._input_layer.name) if out is not None else None
        self.built = bool(self._chain) and bool(self._layers)

    def build(self, input_shape: Any = None) -> None:
        """Build for inputs of this shape (batch axis included, e.g. (None, 784))."""
        if self._chain and self.built:
            return
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError(f"Sequential '{self.name}': build() needs an input_shape, e.g. (None, 784)")
        elif self._input_layer is None:
            if not isinstance(input_shape, (tuple, list)) or any(isinstance(d, (tuple, list)) for d in input_shape):
                raise ValueError(f"Sequential '{self.name}' takes a single input; got input_shape={input_shape!r}")
            self.__dict__["_input_layer"] = InputLayer(batch_shape=tuple(input_shape))
        self._rebuild()

    def _build_for(self, inputs: Any) -> None:
        shape = getattr(inputs, "shape", None)
        if shape is None:
            raise ValueError(f"Sequential '{self.name}' takes a single input array; got {type(inputs).__name__}")
        kind = inputs.data.dtype.kind
        dtype = inputs.data.dtype if kind in "iub" else backend.floatx()
        self.__dict__["_input_layer"] = InputLayer(batch_shape=(None, *shape[1:]), dtype=dtype)
        self._input_inferred = True
        self._rebuild()

    def _relax_input(self, inputs: Any) -> bool:
        """For an input shape inferred from data, as tf.keras does: data of the same rank whose sizes differ
        (a longer sequence) sets those axes to None and rebuilds the chain; False when that does not apply."""
        shape = getattr(inputs, "shape", None)
        ref = self._input_spec[0]
        if not self._input_inferred or shape is None or len(shape) != len(ref):
            return False
        relaxed = (None, *(r if r == d else None for r, d in zip(ref[1:], shape[1:])))
        self.__dict__["_input_layer"] = InputLayer(batch_shape=relaxed, dtype=self._input_spec[1])
        self._rebuild()
        return True

    # --- running -----------------------------------------------------------------------------------
    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        x = inputs
        if self._input_spec is not None:
            try:
                x = adapt_input(inputs, self._input_spec, self.name)
            except ValueError:
                if not self._relax_input(inputs):
                    raise
                x = adapt_input(inputs, self._input_spec, self.name)
        skip = 0
        for layer, takes_training, following in self._plan:
            if skip:  # this layer ran inside an earlier one's fused op
                skip -= 1
                continue
            if following is not None:
                fused = call_fused(layer, following, x)
                if fused is not None:
                    x, skip = fused
                    continue
            x = layer(x, training=training) if takes_training else layer(x)
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._chain:
            return self._chain[-1].shape
        return super().compute_output_shape(input_shape)

    # --- structure ---------------------------------------------------------------------------------
    @property
    def inputs(self) -> list[Any] | None:
        return [self._chain[0]] if self._chain else None

    @property
    def outputs(self) -> list[Any] | None:
        return [self._chain[-1]] if self._chain else None

    @property
    def input_names(self) -> list[str]:
        return [self._input_layer.name] if self._input_layer is not None else []

    def _known_output_names(self) -> list[str] | None:
        return [self._layers[-1].name] if self._layers else None

    @property
    def input_shape(self) -> Any:
        if self._chain:
            return self._chain[0].shape
        raise AttributeError(f"Sequential '{self.name}' has no input shape yet: it is built on its first data")

    @property
    def output_shape(self) -> Any:
        if self._chain:
            return self._chain[-1].shape
        raise AttributeError(f"Sequential '{self.name}' has no output shape yet: it is built on its first data")

    def layer_output_shapes(self) -> list[Any]:
        """The output shape of each layer in this model (for the summary)."""
        return [t.shape for t in self._chain[1:]] if self._chain else [None] * len(self._layers)

    # --- config ------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        from shendu.saving.serialization import serialize

        layers = [serialize(layer) for layer in self._layers]
        if self._input_layer is not None:
            layers.insert(0, serialize(self._input_layer))
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Sequential:
        from shendu.saving.serialization import deserialize

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config.get("layers", []):
            model.add(deserialize(entry, custom_objects), rebuild=False)
        model._rebuild()
        return model


def _input_for(layer: Layer) -> InputLayer | None:
    """The InputLayer implied by a first layer: its input_shape=..., or a nested model's single input."""
    shape = getattr(layer, "_batch_input_shape", None)
    if shape is not None:
        return InputLayer(batch_shape=tuple(shape))
    if isinstance(layer, Model):
        inputs = layer.inputs
        if inputs is not None and len(inputs) == 1:
            return InputLayer(batch_shape=inputs[0].shape, dtype=inputs[0].dtype)
    return None

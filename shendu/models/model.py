"""Model: a Layer that trains. Functional (`Model(inputs, outputs)`), Sequential and subclassed models share it."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from shendu import grad_mode
from shendu.layers.base import Layer
from shendu.models.trainer import Trainer


class Model(Trainer, Layer):
    """A group of layers with compile/fit/evaluate/predict (Keras's `keras.Model`).

    Built three ways: `Model(inputs, outputs)` on symbolic `Input`s (a graph of layer calls), `Sequential`
    (a stack), or a subclass that creates layers in `__init__` (tracked as attributes) and defines `call`.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from shendu.models.functional import Functional

            return Layer.__new__(Functional)
        return Layer.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        inputs = kwargs.pop("inputs", args[0] if args else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if len(args) > 2:
            raise TypeError(f"{type(self).__name__}: expected Model(inputs, outputs, name=None); got {len(args)} "
                            "positional arguments")
        Layer.__init__(self, **kwargs)
        self._graph: Any = None
        self._build_input_shape: Any = None
        self._init_trainer()
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError(f"Model '{self.name}': give both inputs and outputs (symbolic tensors from Input)")
            from shendu.models.functional import FunctionalGraph

            self._graph = FunctionalGraph(inputs, outputs, self.name)
            self._layers = list(self._graph.layers)
            self._build_input_shape = self._graph.input_shapes
            self.built = True

    # --- the forward pass --------------------------------------------------------------------------
    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        if self._graph is None:
            raise NotImplementedError(
                f"Model '{self.name}' ({type(self).__name__}) has no call(): a subclass of Model must define "
                "call(self, inputs, training=None), or build the model as Model(inputs, outputs)"
            )
        return self._graph.run(inputs, training, self.name, mask)

    def _build_for(self, inputs: Any) -> None:
        """Record the input shape from the first data; sub-layers build themselves during that call."""
        from shendu.layers.base import shape_of

        shape = shape_of(inputs)
        self._build_input_shape = _batchless(shape)
        self.built = True

    def build(self, input_shape: Any) -> None:
        """Create the weights for inputs of this shape by running the model once on zeros (batch of 1)."""
        if self.built and (self._graph is not None or self.weights):
            return
        if isinstance(input_shape, dict):
            zeros: Any = {k: _zeros(s) for k, s in input_shape.items()}
        elif isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            zeros = [_zeros(s) for s in input_shape]
        else:
            zeros = _zeros(input_shape)
        self._build_input_shape = input_shape
        self.built = True
        with grad_mode.no_grad():
            self(zeros, training=False)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._graph is not None:
            return self._graph.output_shapes
        return super().compute_output_shape(input_shape)

    # --- structure ---------------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name, or by index in `model.layers`."""
        if index is not None and name is not None:
            raise ValueError("get_layer: provide only a layer name or a layer index, not both")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: index {index} is out of range; model '{self.name}' has "
                                 f"{len(layers)} layers")
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"get_layer: no layer named '{name}' in model '{self.name}'; layers are "
                             f"{[layer.name for layer in layers]}")
        raise ValueError("get_layer: provide a layer name or a layer index")

    @property
    def inputs(self) -> list[Any] | None:
        return list(self._graph.inputs) if self._graph is not None else None

    @property
    def outputs(self) -> list[Any] | None:
        return list(self._graph.outputs) if self._graph is not None else None

    @property
    def input(self) -> Any:
        return self._single(self.inputs, "input")

    @property
    def output(self) -> Any:
        return self._single(self.outputs, "output")

    def _single(self, tensors: list[Any] | None, what: str) -> Any:
        if tensors is None:
            raise AttributeError(f"Model '{self.name}' has no symbolic {what}s (a subclassed model, or not built)")
        return tensors[0] if len(tensors) == 1 else tensors

    @property
    def input_names(self) -> list[str]:
        return list(self._graph.input_names) if self._graph is not None else []

    @property
    def output_names(self) -> list[str]:
        return list(self._known_output_names() or self._output_names or [])

    def _known_output_names(self) -> list[str] | None:
        """Output names fixed by the architecture (None for a subclassed model: found from its first output)."""
        return list(self._graph.output_names) if self._graph is not None else None

    @property
    def input_shape(self) -> Any:
        if self._graph is not None:
            return self._graph.input_shapes
        if self._build_input_shape is not None:
            return self._build_input_shape
        return super().input_shape

    @property
    def output_shape(self) -> Any:
        if self._graph is not None:
            return self._graph.output_shapes
        return super().output_shape

    # --- weights (shared layers counted once) ------------------------------------------------------
    @property
    def weights(self) -> list[Any]:
        return _unique(super().weights)

    @property
    def trainable_weights(self) -> list[Any]:
        return _unique(super().trainable_weights)

    @property
    def non_trainable_weights(self) -> list[Any]:
        return _unique(super().non_trainable_weights)

    # --- summary, config, saving -------------------------------------------------------------------
    def summary(self, line_length: int | None = None, positions: list[float] | None = None,
                print_fn: Any = None, expand_nested: bool = False, show_trainable: bool = False,
                layer_range: Any = None) -> None:
        """Print the table of layers, output shapes and parameter counts, then the totals (Keras's format)."""
        from shendu.models.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)

    def get_config(self) -> dict[str, Any]:
        if self._graph is not None:
            from shendu.models.functional import graph_config

            return graph_config(self)
        return super().get_config()

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Model:
        """The model a `get_config()` describes; custom layers it names are looked up in `custom_objects` too."""
        if "layers" in config and "input_layers" in config:
            from shendu.models.functional import graph_from_config

            inputs, outputs = graph_from_config(config, custom_objects)
            target = Model if cls is Model else cls
            return target(inputs=inputs, outputs=outputs, name=config.get("name"),
                          trainable=config.get("trainable", True))
        try:
            return cls(**config)
        except TypeError as err:
            raise TypeError(f"Unable to revive model from config: {cls.__name__}({sorted(config)}) failed with "
                            f"'{err}'. When overriding get_config(), make sure that the returned config contains all "
                            f"the arguments of {cls.__name__}.__init__, or override from_config() as well") from err

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as a JSON string (no weights), which `keras.models.model_from_json` reads back;
        keyword arguments go to `json.dumps` (e.g. indent=2)."""
        from shendu.saving.model_file import json_default
        from shendu.saving.serialization import serialize

        config = serialize(self)
        if self.built and self._graph is None and self._build_input_shape is not None:
            config["build_config"] = {"input_shape": self._build_input_shape}
        return json.dumps(config, default=json_default, **kwargs)

    def save(self, filepath: str | os.PathLike[str], overwrite: bool = True, save_format: str | None = None,
             **kwargs: Any) -> None:
        """Save architecture, weights and compile settings to one file (atomically), in the format the extension
        names as in Keras 3: `.keras` (Keras 3 archive), `.h5`/`.hdf5` (legacy Keras), `.shendu` (shendu's own,
        NumPy alone); the Keras formats need h5py."""
        from shendu import saving

        _check_overwrite(filepath, overwrite)
        saving.save_model(self, filepath, save_format=save_format)

    def save_weights(self, filepath: str | os.PathLike[str], overwrite: bool = True, **kwargs: Any) -> None:
        """Save the weights (atomically): `.weights.h5` in Keras 3's layout, `.h5` in tf.keras's (both need h5py),
        any other name (a TensorFlow checkpoint path, `.weights.shendu`) as shendu's safetensors file."""
        from shendu import saving

        _check_overwrite(filepath, overwrite)
        saving.save_weights(self, filepath)

    def load_weights(self, filepath: str | os.PathLike[str], skip_mismatch: bool = False, by_name: bool = False,
                     **kwargs: Any) -> Any:
        """Load weights from a file `save_weights` or `save` wrote, or Keras's `.weights.h5`, `.h5` or `.keras`
        files, checking every shape; returns a status whose `assert_consumed()` and `expect_partial()` pass (any
        mismatch has already raised)."""
        from shendu import saving

        return saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def export(self, filepath: str | os.PathLike[str], format: str = "tf_saved_model", verbose: bool | None = None,
               input_signature: Any = None, **kwargs: Any) -> None:
        """Export the model for inference (Keras 3's spelling): format="onnx" writes an ONNX file (see
        `shendu.onnx.export`; `opset_version=` picks the opset). shendu cannot write TensorFlow SavedModels."""
        if format != "onnx":
            raise ValueError(f"Model.export: shendu exports format='onnx' only (got format={format!r}; a TensorFlow "
                             "SavedModel needs TensorFlow): model.export(path, format='onnx')")
        from shendu import onnx

        opset = kwargs.pop("opset_version", None) or kwargs.pop("opset", None) or onnx.DEFAULT_OPSET
        if kwargs:
            raise TypeError(f"Model.export: unexpected arguments {sorted(kwargs)} for format='onnx'")
        onnx.export(self, filepath, opset=opset, input_signature=input_signature)
        if verbose:
            print(f"Saved artifact at '{os.fspath(filepath)}'.")

    def quantize(self, mode: str = "int8", calibration_data: Any = None, **kwargs: Any) -> None:
        """Keras 3's post-training quantization, in place: int8 kernels with per-channel scales for the Dense,
        Conv1D/2D and Embedding layers (see `shendu.compression.quantize`); `calibration_data` also fixes the
        int8 ranges of their inputs."""
        from shendu import compression

        compression.quantize(self, mode, calibration_data=calibration_data, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None) -> Model:
    """The model described by `model.to_json()`, with new weights (Keras's `keras.models.model_from_json`)."""
    from shendu.saving.model_file import shape_from_json
    from shendu.saving.serialization import deserialize

    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as err:
        raise ValueError(f"model_from_json: expected the JSON string of model.to_json(); {err}") from err
    model = deserialize(config, custom_objects)
    if not isinstance(model, Model):
        raise ValueError(f"model_from_json: the JSON describes a {type(model).__name__}, not a model")
    shape = (config.get("build_config") or {}).get("input_shape")
    if not model.built and shape is not None:
        model.build(shape_from_json(shape))
    return model


def _check_overwrite(filepath: Any, overwrite: bool) -> None:
    if not overwrite and os.path.exists(os.fspath(filepath)):
        raise FileExistsError(f"{os.fspath(filepath)} exists and overwrite=False")


def _unique(variables: list[Any]) -> list[Any]:
    seen: set[int] = set()
    out = []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _batchless(shape: Any) -> Any:
    if isinstance(shape, tuple):
        return (None, *shape[1:])
    if isinstance(shape, list):
        return [_batchless(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _batchless(s) for k, s in shape.items()}
    return shape


def _zeros(shape: Any) -> np.ndarray:
    from shendu import backend

    return np.zeros([1 if d is None else int(d) for d in shape], dtype=backend.floatx())

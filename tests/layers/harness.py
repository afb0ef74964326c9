"""The common checks every layer passes: build and call, compute_output_shape against the real output,
symbolic call, get_config/from_config round trip with the same output, save and load inside a model with
identical predictions, get/set_weights, and gradcheck
(float64) of the output with respect to the inputs and every weight."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

import shendu as sd
from shendu import layers
from shendu.layers import Layer

Shape = tuple[int, ...]


def random_inputs(shapes: Shape | Sequence[Shape], dtype: Any = "float32", seed: int = 0,
                  low: float = -2.0, high: float = 2.0) -> Any:
    """Uniform random arrays of the given shape(s), kept away from 0 so that kinks do not meet finite differences."""
    rng = np.random.default_rng(seed)

    def one(shape: Shape) -> np.ndarray:
        x = rng.uniform(low, high, shape)
        x[np.abs(x) < 0.05] += 0.1
        return x.astype(dtype)

    return [one(s) for s in shapes] if isinstance(shapes, list) else one(tuple(shapes))


def _tensors(x: Any) -> Any:
    return [sd.Tensor(v) for v in x] if isinstance(x, list) else sd.Tensor(x)


def _shapes(x: Any) -> Any:
    return [v.shape for v in x] if isinstance(x, list) else x.shape


def _none_batch(shape: Any) -> Any:
    return [(None, *s[1:]) for s in shape] if isinstance(shape, list) else (None, *shape[1:])


def _sublayers(layer: Layer) -> list[Layer]:
    out = [layer]
    for sub in layer._layers:
        out.extend(_sublayers(sub))
    return out


def call_with_weights(layer: Layer, inputs: Any, weights: Sequence[sd.Tensor], **kwargs: Any) -> Any:
    """Call the layer with its weight attributes swapped for the given tensors (so gradcheck can vary them)."""
    swapped = []
    for var, t in zip(layer.weights, weights):
        found = False
        for sub in _sublayers(layer):
            for key, value in list(vars(sub).items()):
                if value is var:
                    object.__setattr__(sub, key, t)
                    swapped.append((sub, key, var))
                    found = True
        assert found, f"weight {var.name} is not an attribute of {layer.name} or its sub-layers"
    try:
        return layer(inputs, **kwargs)
    finally:
        for sub, key, var in swapped:
            object.__setattr__(sub, key, var)


def check_layer(cls: type[Layer], kwargs: dict[str, Any] | None = None, input_shape: Any = (3, 4),
                input_data: Any = None, expected_output_shape: Any = None, gradcheck: bool = True,
                call_kwargs: dict[str, Any] | None = None) -> Layer:
    """Run a layer class through the common checks; returns the float32 layer it built."""
    kwargs = dict(kwargs or {})
    call_kwargs = dict(call_kwargs or {})
    data = random_inputs(input_shape) if input_data is None else input_data

    # build, call, output shape and dtype
    layer = cls(**kwargs)
    out = layer(_tensors(data), **call_kwargs)
    assert layer.built
    assert isinstance(out, sd.Tensor)
    assert out.dtype == np.float32, f"{cls.__name__}: float32 in, {out.dtype} out"
    if expected_output_shape is not None:
        assert out.shape == tuple(expected_output_shape)
    assert tuple(layer.compute_output_shape(_shapes(data))) == out.shape
    assert tuple(layer.compute_output_shape(_none_batch(_shapes(data)))) == (None, *out.shape[1:])

    # symbolic call gives the same shape with the batch axis unknown
    fresh = cls(**kwargs)
    shapes = _shapes(data)
    sym_in = [layers.Input(s[1:]) for s in shapes] if isinstance(shapes, list) else layers.Input(shapes[1:])
    sym_out = fresh(sym_in, **call_kwargs)
    assert sym_out.shape == (None, *out.shape[1:])

    # config round trip through JSON, with the same weights giving the same output
    config = layer.get_config()
    config = json.loads(json.dumps(config))
    clone = cls.from_config(config)
    assert clone.get_config() == config
    clone(_tensors(data), **call_kwargs)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(_tensors(data), **call_kwargs).numpy(), out.numpy(), rtol=1e-6, atol=1e-6)
    again = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert type(again) is cls and again.get_config() == config

    # save and load inside a model: the same predictions, exactly
    if not call_kwargs:
        fresh.set_weights(layer.get_weights())
        check_save_load(sd.models.Model(sym_in, sym_out), data)

    # get_weights / set_weights
    weights = layer.get_weights()
    assert [w.shape for w in weights] == [tuple(v.shape) for v in layer.weights]
    rng = np.random.default_rng(1)
    new = [rng.normal(size=w.shape).astype(w.dtype) for w in weights]
    layer.set_weights(new)
    for got, want in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    if weights:
        try:
            layer.set_weights(new[:-1])
        except ValueError:
            pass
        else:
            raise AssertionError("set_weights accepted too few arrays")

    if gradcheck:
        check_gradients(cls, kwargs, data, call_kwargs)
    return layer


def check_save_load(model: Any, data: Any) -> None:
    """Save the model to a file, load it back, and require identical predictions."""
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/layer.shendu"
        model.save(path)
        loaded = sd.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))


def check_gradients(cls: type[Layer], kwargs: dict[str, Any], data: Any, call_kwargs: dict[str, Any]) -> None:
    """gradcheck in float64 of the layer's output with respect to its inputs and each of its weights."""
    layer = cls(**{**kwargs, "dtype": "float64"})
    data64 = [np.asarray(v, np.float64) for v in data] if isinstance(data, list) else np.asarray(data, np.float64)
    layer(_tensors(data64), **call_kwargs)
    for w in layer.weights:  # random weights so that no gradient is trivially zero
        w.assign(np.random.default_rng(2).uniform(-1, 1, w.shape))
    n_in = len(data64) if isinstance(data64, list) else 1
    inputs = list(data64) if isinstance(data64, list) else [data64]

    def f(*args: sd.Tensor) -> sd.Tensor:
        xs = list(args[:n_in]) if isinstance(data64, list) else args[0]
        return call_with_weights(layer, xs, args[n_in:], **call_kwargs)

    assert sd.gradcheck(f, [*inputs, *[w.data for w in layer.weights]])

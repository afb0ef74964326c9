"""Flatten, Reshape, Permute, RepeatVector and the image reshapings (ZeroPadding, Cropping, UpSampling)."""

from __future__ import annotations

from shendu.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
from shendu.layers.reshaping_image import (
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from shendu.onnx.graph import Call, OnnxGraph
from shendu.onnx.registry import converts


@converts(Flatten)
def _flatten(g: OnnxGraph, call: Call) -> str:
    x, layer = call.x.name, call.layer
    if layer.data_format == "channels_first" and call.x.ndim > 2:
        x = g.transpose(x, [0, *range(2, call.x.ndim), 1], f"{layer.name}/channels_last")
    return g.reshape(x, [0, -1], layer.name)


@converts(Reshape)
def _reshape(g: OnnxGraph, call: Call) -> str:
    return g.reshape(call.x.name, [0, *call.layer.target_shape], call.layer.name)


@converts(Permute)
def _permute(g: OnnxGraph, call: Call) -> str:
    return g.transpose(call.x.name, [0, *call.layer.dims], call.layer.name)


@converts(RepeatVector)
def _repeat_vector(g: OnnxGraph, call: Call) -> str:
    """(batch, features) -> (batch, n, features)."""
    layer = call.layer
    x = g.unsqueeze(call.x.name, [1], f"{layer.name}/steps")
    return g.op("Tile", [x, g.ints([1, layer.n, 1], f"{layer.name}/repeats")], layer.name)


@converts(ZeroPadding1D, ZeroPadding2D)
def _zero_padding(g: OnnxGraph, call: Call) -> str:
    layer = call.layer
    begins = [0, *(p[0] for p in layer.padding), 0]
    ends = [0, *(p[1] for p in layer.padding), 0]
    return g.op("Pad", [call.x.name, g.ints(begins + ends, f"{layer.name}/pads")], layer.name, mode="constant")


@converts(Cropping1D, Cropping2D)
def _cropping(g: OnnxGraph, call: Call) -> str:
    """x[:, a0:-b0, a1:-b1] (an end of 0 cropped is the axis's end)."""
    layer = call.layer
    axes = list(range(1, layer.rank + 1))
    starts = [p[0] for p in layer.cropping]
    ends = [-p[1] if p[1] else 2 ** 63 - 1 for p in layer.cropping]
    return g.slice(call.x.name, starts, ends, axes, layer.name)


@converts(UpSampling1D, UpSampling2D)
def _upsampling(g: OnnxGraph, call: Call) -> str:
    """Resize of the spatial axes by integer factors: nearest (each value repeated) or bilinear (half-pixel
    centres, as Keras's resize)."""
    layer = call.layer
    sizes = [layer.size] if isinstance(layer, UpSampling1D) else list(layer.size)
    bilinear = getattr(layer, "interpolation", "nearest") == "bilinear"
    scales = g.const([1.0, *[float(s) for s in sizes], 1.0], f"{layer.name}/scales", "float32")
    attrs = ({"mode": "linear", "coordinate_transformation_mode": "half_pixel"} if bilinear else
             {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"})
    return g.op("Resize", [call.x.name, None, scales], layer.name, **attrs)

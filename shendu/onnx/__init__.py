"""ONNX export: `shendu.onnx.export(model, "model.onnx")` (or `model.export("model.onnx", format="onnx")`) writes
a Sequential or functional model as an ONNX graph that ONNX Runtime runs. Needs `pip install 'shendu[onnx]'`;
nothing here imports onnx until an export runs."""

from shendu.onnx.exporter import DEFAULT_OPSET, export, to_onnx
from shendu.onnx.registry import ExportError

__all__ = ["DEFAULT_OPSET", "ExportError", "export", "to_onnx"]

"""The check every export test makes: the file passes onnx.checker and ONNX Runtime's outputs equal predict's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import shendu.onnx


def run_onnx(onnxruntime: Any, path: Any, feeds: list[np.ndarray]) -> list[np.ndarray]:
    """The outputs of the ONNX file for these inputs (in the model's input order)."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, feeds)))


def check_export(model: Any, make_inputs: Callable[[int], list[np.ndarray]], onnx: Any, onnxruntime: Any,
                 tmp_path: Any, batches: tuple[int, ...] = (1, 5), atol: float = 1e-5, **kwargs: Any) -> Any:
    """Export, check the file, and compare ONNX Runtime with `model.predict` for two batch sizes."""
    path = tmp_path / f"{model.name}.onnx"
    shendu.onnx.export(model, path, **kwargs)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for batch in batches:
        feeds = make_inputs(batch)
        expected = model.predict(feeds if len(feeds) > 1 else feeds[0], verbose=0)
        expected = expected if isinstance(expected, list) else [expected]
        got = run_onnx(onnxruntime, path, feeds)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == np.asarray(e).shape
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=atol)
    return proto


def floats(*shape: int, seed: int = 0) -> Callable[[int], list[np.ndarray]]:
    """Random float32 inputs of (batch, *shape)."""
    def make(batch: int) -> list[np.ndarray]:
        return [np.random.default_rng(seed + batch).standard_normal((batch, *shape)).astype("float32")]
    return make


def token_ids(steps: int, vocab: int, seed: int = 0, pad: bool = True,
              empty_row: bool = True) -> Callable[[int], list[np.ndarray]]:
    """Random token ids (batch, steps) in [1, vocab), with padding zeros anywhere (post, pre and inside) when
    `pad`, and a last row of padding only with `empty_row` (batches over 2)."""
    def make(batch: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed + batch)
        ids = rng.integers(1, vocab, (batch, steps))
        if pad:
            ids[rng.random((batch, steps)) < 0.3] = 0
            ids[0, steps // 2:] = 0
            if empty_row and batch > 2:
                ids[-1] = 0
        return [ids.astype("int64")]
    return make

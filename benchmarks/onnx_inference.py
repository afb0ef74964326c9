"""Inference time per batch of the tutorials' MLP, CNN and an LSTM text classifier: shendu's `predict_on_batch`
against ONNX Runtime running the same weights exported with `shendu.onnx.export`.

The two are timed interleaved (one shendu call, one ONNX Runtime call, repeated; ONNX Runtime's threads do not
spin between calls), on random inputs; the median of each is printed with the ratio and the largest difference.
Run: `python benchmarks/onnx_inference.py`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import numpy as np
from common import skipped

BATCHES = (1, 64, 1024)


def models() -> dict:
    import shendu as sd
    from shendu.keras import Sequential, layers

    sd.random.seed(0)
    mlp = Sequential([layers.Input((28, 28)), layers.Flatten(), layers.Dense(128, activation="relu"),
                      layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")], name="mlp")
    cnn = Sequential([layers.Input((28, 28, 1)), layers.Conv2D(32, (3, 3), activation="relu"),
                      layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
                      layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(128, activation="relu"),
                      layers.Dropout(0.2), layers.Dense(10, activation="softmax")], name="cnn")
    lstm = Sequential([layers.Input((80,), dtype="int64"), layers.Embedding(10000, 32), layers.LSTM(64),
                       layers.Dense(1, activation="sigmoid")], name="lstm")
    rng = np.random.default_rng(0)
    return {
        "mlp": (mlp, lambda n: rng.random((n, 28, 28), dtype=np.float32)),
        "cnn": (cnn, lambda n: rng.random((n, 28, 28, 1), dtype=np.float32)),
        "lstm": (lstm, lambda n: rng.integers(1, 10000, (n, 80))),
    }


def median_times(fns: list, budget: float = 1.5, most: int = 200) -> list[float]:
    """Median seconds per call of each function, calling them in turn until `budget` seconds or `most` rounds."""
    times: list[list[float]] = [[] for _ in fns]
    start = time.perf_counter()
    while len(times[0]) < most and (len(times[0]) < 3 or time.perf_counter() - start < budget):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) for ts in times]


def main() -> None:
    try:
        import onnxruntime as ort

        import shendu.onnx
    except ImportError as err:
        skipped("onnxruntime", err)
        return
    print(f"inference time per batch, shendu predict_on_batch vs ONNX Runtime {ort.__version__} (CPU, "
          f"{os.cpu_count()} cores, interleaved, median)")
    folder = tempfile.mkdtemp()
    for name, (model, data) in models().items():
        path = os.path.join(folder, f"{name}.onnx")
        shendu.onnx.export(model, path)
        options = ort.SessionOptions()  # no spinning threads left behind to slow the interleaved shendu call
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        feed_name = session.get_inputs()[0].name
        for batch in BATCHES:
            x = data(batch)
            diff = np.abs(session.run(None, {feed_name: x})[0] - model.predict_on_batch(x)).max()
            feed = {feed_name: x}
            shendu_s, onnx_s = median_times([lambda m=model, x=x: m.predict_on_batch(x),
                                             lambda s=session, f=feed: s.run(None, f)])
            print(f"  {name:<5} batch {batch:>5}: shendu {shendu_s * 1e3:9.3f} ms   onnxruntime {onnx_s * 1e3:9.3f} ms"
                  f"   shendu/onnxruntime = {shendu_s / onnx_s:6.2f}x   (max |difference| {diff:.1e})")


if __name__ == "__main__":
    main()

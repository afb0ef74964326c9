"""int8 inference time per batch of the tutorials' CNN and MLP: shendu's float32 and int8 (`model.quantize("int8")`,
weights only, then calibrated inputs) `predict_on_batch` against ONNX Runtime running the same three models exported
with `shendu.onnx.export` (the int8 ones in QDQ form, `shendu/onnx/quantized.py`).

The six are timed interleaved (one call of each in turn, repeated; ONNX Runtime's threads do not spin between
calls), on random inputs in [0, 1) (calibrated on 256 of them); the median of each is printed, with the largest
difference of each int8 ONNX model from shendu's int8 model. Run: `python benchmarks/int8_inference.py`.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
from common import skipped
from onnx_inference import median_times

BATCHES = (64, 1024)


def float_models() -> dict:
    import shendu as sd
    from shendu.keras import Sequential, layers

    sd.random.seed(0)
    cnn = Sequential([layers.Input((28, 28, 1)), layers.Conv2D(32, (3, 3), activation="relu"),
                      layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
                      layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(128, activation="relu"),
                      layers.Dropout(0.2), layers.Dense(10)], name="cnn")
    mlp = Sequential([layers.Input((28, 28)), layers.Flatten(), layers.Dense(512, activation="relu"),
                      layers.Dense(512, activation="relu"), layers.Dense(10)], name="mlp")
    return {"cnn": cnn, "mlp": mlp}


def variants(model, x_calibration: np.ndarray) -> dict:
    """float32, int8 weights and int8 weights + calibrated inputs copies of `model`."""
    import shendu as sd
    from shendu.compression import calibrate

    out = {"float32": model}
    for name in ("int8", "int8 calibrated"):
        copy = sd.keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
        copy.quantize("int8")
        if name == "int8 calibrated":
            calibrate(copy, x_calibration)
        out[name] = copy
    return out


def main() -> None:
    try:
        import onnxruntime as ort

        import shendu.onnx
    except ImportError as err:
        skipped("onnxruntime", err)
        return
    print(f"inference time per batch: shendu predict_on_batch and ONNX Runtime {ort.__version__} (CPU, "
          f"{os.cpu_count()} cores, interleaved, median; shared machine, other work running)")
    folder = tempfile.mkdtemp()
    rng = np.random.default_rng(0)
    for name, model in float_models().items():
        shape = model.inputs[0].shape[1:]
        models = variants(model, rng.random((256, *shape), dtype=np.float32))
        sessions = {}
        for kind, m in models.items():
            path = os.path.join(folder, f"{name}_{kind.replace(' ', '_')}.onnx")
            shendu.onnx.export(m, path)
            options = ort.SessionOptions()
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            sessions[kind] = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            print(f"  {name} {kind}: ONNX file {os.path.getsize(path) / 1024:.0f} KB")
        feed_name = sessions["float32"].get_inputs()[0].name
        for batch in BATCHES:
            x = rng.random((batch, *shape), dtype=np.float32)
            fns = [lambda m=m, x=x: m.predict_on_batch(x) for m in models.values()]
            fns += [lambda s=s, f={feed_name: x}: s.run(None, f) for s in sessions.values()]
            for fn in fns:  # warm up: the first call compiles kernels and plans
                fn()
            times = median_times(fns, budget=3.0)
            print(f"  {name} batch {batch}:")
            for i, kind in enumerate(models):
                diff = np.abs(sessions[kind].run(None, {feed_name: x})[0] - models[kind].predict_on_batch(x)).max()
                print(f"    {kind:<16} shendu {times[i] * 1e3:8.2f} ms   onnxruntime {times[i + 3] * 1e3:8.2f} ms"
                      f"   (max |onnxruntime - shendu| {diff:.1e})")


if __name__ == "__main__":
    main()

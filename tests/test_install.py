"""The NumPy-only install: shendu imports, trains and saves with every optional extra hidden, and "numba not
installed" runs exactly the path that SHENDU_NUMBA=0 runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXTRAS = ("numba", "safetensors", "matplotlib", "torch", "tensorflow", "h5py")

# Trains a small CNN (a first layer, a Winograd-sized 3x3 convolution with 16 channels, pooling, dense), saves
# and loads it, tries a Keras file where h5py is hidden, and prints its predictions and which extras it could import.
SCRIPT = """
import importlib, json, os, sys
for name in sys.argv[1].split(","):
    if name:
        sys.modules[name] = None  # `import name` now raises ImportError, as if it were not installed
import numpy as np
import shendu as sd
from shendu.keras import Sequential, layers
from shendu.ops import kernels

def importable(name):
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False

sd.random.seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(32, 12, 12, 1)).astype("float32")
y = rng.integers(0, 3, size=32)
model = Sequential([layers.Conv2D(16, 3, activation="relu", input_shape=(12, 12, 1)), layers.MaxPooling2D(),
                    layers.Conv2D(16, 3, padding="same", activation="relu"), layers.Flatten(), layers.Dense(3)])
model.compile(optimizer="adam", loss=sd.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
path = os.path.join(sys.argv[2], "model.shendu")
model.save(path)
pred = model.predict(x, verbose=0)
again = sd.keras.models.load_model(path).predict(x, verbose=0)
keras_error = None
if "h5py" in sys.argv[1].split(","):
    try:
        model.save(os.path.join(sys.argv[2], "model.keras"))
    except ImportError as err:
        keras_error = str(err)
print(json.dumps({"keras_error": keras_error, "files": sorted(os.listdir(sys.argv[2])),
                  "compiled": kernels.enabled(), "loss": history.history["loss"], "pred": pred.tolist(),
                  "reloaded_equal": bool(np.array_equal(pred, again)),
                  "importable": [n for n in sys.argv[1].split(",") if n and importable(n)]}))
"""


def _run(tmp_path, hidden: tuple[str, ...], env: dict[str, str] | None = None) -> dict:
    out = tmp_path / "_".join(hidden or ("none",))
    out.mkdir()
    result = subprocess.run([sys.executable, "-c", SCRIPT, ",".join(hidden), str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_numpy_alone_trains_saves_and_loads(tmp_path):
    run = _run(tmp_path, EXTRAS)
    assert run["importable"] == [] and run["compiled"] is False
    assert run["reloaded_equal"]
    assert run["keras_error"] == ("Saving .keras files needs h5py: pip install 'shendu[keras]' (or use shendu's own "
                                  "format, which needs NumPy alone: model.save('model.shendu'))")
    assert run["files"] == ["model.shendu"]
    assert np.isfinite(run["loss"]).all() and run["loss"][1] < run["loss"][0]


def test_numba_missing_is_the_path_of_shendu_numba_0(tmp_path):
    """Hiding numba and setting SHENDU_NUMBA=0 give the same numbers bit for bit."""
    hidden = _run(tmp_path, ("numba",), {"SHENDU_NUMBA": "1"})
    switched_off = _run(tmp_path, (), {"SHENDU_NUMBA": "0"})
    assert hidden["compiled"] is False and switched_off["compiled"] is False
    assert hidden["loss"] == switched_off["loss"]
    assert hidden["pred"] == switched_off["pred"]

#!/usr/bin/env bash
# The package as users get it: build the sdist and the wheel, install each in a fresh venv (NumPy comes as its one
# dependency) and run a smoke test there: `shendu --version`, py.typed shipped, a model trained, saved and reloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-python3}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$python" -m build --outdir "$out/dist" . >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
version="$("$python" -c 'import runpy; print(runpy.run_path("shendu/_version.py")["__version__"])')"
for artifact in "$out"/dist/shendu-*.whl "$out"/dist/shendu-*.tar.gz; do
    venv="$out/venv-$(basename "$artifact")"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet "$artifact"
    test "$("$venv/bin/shendu" --version)" = "shendu $version"
    (cd "$out" && "$venv/bin/python" - <<'PY'
import importlib.resources
import numpy as np
import shendu as tf

assert importlib.resources.files("shendu").joinpath("py.typed").is_file(), "py.typed is not in the package"
x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
y = (x.sum(axis=1) > 0).astype("float32")
model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(8, activation="relu"),
                             tf.keras.layers.Dense(1, activation="sigmoid")])
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=2, verbose=0)
model.save("smoke.shendu")
again = tf.keras.models.load_model("smoke.shendu")
assert np.array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))
print("smoke test passed:", tf.__version__, tf.__file__)
PY
    )
    echo "== $(basename "$artifact"): installed in a fresh venv, smoke test passed"
done

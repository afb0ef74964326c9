"""Hostile and corrupted model files: checked dtypes and optimizer state, bounded reading (bombs under a memory
cap in a subprocess), and a ModelFileError naming the file and the problem for every malformed config."""

import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import shendu as sd
from shendu.keras import Input, Sequential, layers
from shendu.saving import ModelFileError, load_model, load_weights, safetensors_format, save_weights

WEIGHTS, OPTIMIZER, CONFIG, METADATA = "model.weights.safetensors", "optimizer.safetensors", "config.json", \
    "metadata.json"


@pytest.fixture
def saved(tmp_path):
    """A small trained model saved with its optimizer state; returns (path, model, x)."""
    sd.random.seed(0)
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    model = Sequential([Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x[:, :2], epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "m.shendu"
    model.save(path)
    return path, model, x


def _entries(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _rewrite(path, out, **replace):
    """A copy of the model zip at `out` with entries replaced (bytes) or removed (None); returns its path."""
    entries = {**_entries(path), **{k.replace("__", "."): v for k, v in replace.items()}}
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries.items():
            if data is not None:
                zf.writestr(name, data)
    return out


def _with(saved, tmp_path, **replace):
    return _rewrite(saved[0], tmp_path / "bad.shendu", **replace)


def _tensors(path, name):
    return safetensors_format.load(_entries(path)[name], name)


def _config(path):
    return json.loads(_entries(path)[CONFIG])


# --- 1. weight dtypes -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_integer_or_bool_weights_are_refused_naming_file_and_weight(saved, tmp_path, dtype):
    weights = {k: v.astype(dtype) for k, v in _tensors(saved[0], WEIGHTS).items()}
    bad = _with(saved, tmp_path, model__weights__safetensors=safetensors_format.numpy_save(weights))
    problem = rf"dtype mismatch.*layers/0/kernel.*float32, file {dtype}"
    with pytest.raises(ModelFileError, match=rf"{re.escape(str(bad))}.*{problem}"):
        load_model(bad)


def test_integer_weights_are_refused_by_load_weights_too(saved, tmp_path):
    model = saved[1]
    save_weights(model, tmp_path / "w.safetensors")
    weights = {k: v.astype("int32") for k, v in safetensors_format.load_file(tmp_path / "w.safetensors").items()}
    safetensors_format.save_file(weights, tmp_path / "w.safetensors")
    with pytest.raises(ModelFileError, match=r"w\.safetensors.*a float weight accepts only float data"):
        load_weights(model, tmp_path / "w.safetensors")


def test_float16_weights_load_with_a_warning(saved, tmp_path):
    path, model, x = saved
    weights = {k: v.astype("float16") for k, v in _tensors(path, WEIGHTS).items()}
    half = _with(saved, tmp_path, model__weights__safetensors=safetensors_format.numpy_save(weights))
    with pytest.warns(UserWarning, match="less precision"):
        again = load_model(half)
    assert again.weights[0].dtype == np.float32
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-2)


# --- 2. optimizer state -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("entry, value, problem", [
    ("iterations", np.array(-3, np.int64), "whole number >= 0"),
    ("iterations", np.array([1, 2], np.int64), "must be a scalar"),
    ("learning_rate", np.array(np.nan), "finite number"),
    ("learning_rate", np.ones(3), "must be a scalar"),
    ("kernel/momentum", np.zeros((5, 3), np.float32), r"has shape \(5, 3\).*\(4, 3\)"),
    ("kernel/velocity", np.zeros((4, 3), np.int32), "float data"),
])
def test_corrupt_optimizer_state_is_refused_naming_file_and_entry(saved, tmp_path, entry, value, problem):
    state = _tensors(saved[0], OPTIMIZER)
    entry = f"{saved[1].layers[0].name}/{entry}" if entry.startswith("kernel") else entry
    state[entry] = value
    bad = _with(saved, tmp_path, optimizer__safetensors=safetensors_format.numpy_save(state))
    with pytest.raises(ModelFileError, match=rf"{re.escape(str(bad))}: {OPTIMIZER}.*'{entry}'.*{problem}"):
        load_model(bad)
    assert load_model(bad, compile=False).predict  # without compiling, the state is not even read


def test_refused_state_leaves_the_optimizer_unchanged(saved):
    optimizer = saved[1].optimizer
    before = optimizer.get_state()
    with pytest.raises(ValueError, match="'learning_rate'"):
        optimizer.set_state({**before, "learning_rate": np.array(np.inf)})
    after = optimizer.get_state()
    assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)


# --- 3. bounded reading -----------------------------------------------------------------------------------------
_CAPPED = textwrap.dedent("""
    import resource, sys
    import shendu
    from shendu.saving import ModelFileError, load_model
    pages = int(open("/proc/self/statm").read().split()[0])
    limit = pages * resource.getpagesize() + int(sys.argv[2]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        load_model(sys.argv[1])
    except ModelFileError as err:
        print("REFUSED", err)
    except MemoryError:
        print("OUT OF MEMORY")
    else:
        print("LOADED")
""")


def _load_capped(path, headroom_mb=160):
    """load_model in a subprocess allowed `headroom_mb` MiB of address space beyond what importing shendu took."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the memory cap reads /proc/self/statm")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "1"}
    done = subprocess.run([sys.executable, "-c", _CAPPED, str(path), str(headroom_mb)], capture_output=True,
                          text=True, env=env, timeout=120)
    return done.stdout + done.stderr


def _deflated_entry(zf, name, size, fill=b" ", prefix=b""):
    """Write entry `name` of `size` bytes (prefix, then `fill` repeated), deflated, without holding it in memory."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    chunk = fill * 2**20
    with zf.open(info, "w", force_zip64=True) as f:
        f.write(prefix)
        left = size - len(prefix)
        while left > 0:
            f.write(chunk[:left])
            left -= len(chunk)


def _bomb(saved, tmp_path, name, size, prefix=b""):
    out = _rewrite(saved[0], tmp_path / "bomb.shendu", **{name.replace(".", "__"): None})
    with zipfile.ZipFile(out, "a", compresslevel=1) as zf:
        _deflated_entry(zf, name, size, b"\0" if name == WEIGHTS else b" ", prefix)
    return out


def test_config_bomb_is_refused_before_inflating(saved, tmp_path):
    bomb = _bomb(saved, tmp_path, CONFIG, 256 * 2**20)
    assert os.path.getsize(bomb) < 2**20
    out = _load_capped(bomb, headroom_mb=128)
    assert "REFUSED" in out and f"{CONFIG} declares {256 * 2**20} bytes" in out, out


def test_weights_bomb_is_refused_from_its_header_before_inflating(saved, tmp_path):
    header = {"layers/0/kernel": {"dtype": "F32", "shape": [8192, 8192], "data_offsets": [0, 2**28]}}
    text = json.dumps(header).encode()
    prefix = len(text).to_bytes(8, "little") + text
    bomb = _bomb(saved, tmp_path, WEIGHTS, len(prefix) + 2**28, prefix)
    assert os.path.getsize(bomb) < 2**20
    out = _load_capped(bomb, headroom_mb=128)
    assert "REFUSED" in out and "shape mismatch" in out and "(8192, 8192)" in out, out


def test_config_asking_for_more_weights_than_the_file_holds_is_refused_before_allocating(saved, tmp_path):
    config = _config(saved[0])
    config["config"]["layers"][1]["config"]["units"] = 50_000_000  # a (4, 50M) kernel: 800 MB
    bad = _with(saved, tmp_path, config__json=json.dumps(config).encode())
    out = _load_capped(bad, headroom_mb=300)
    assert "REFUSED" in out and re.search(r"weight 'dense(_\d+)?/kernel' of shape \(4, 50000000\)", out), out


def test_weights_entry_larger_than_its_header_implies_is_refused(saved, tmp_path):
    bad = _with(saved, tmp_path, model__weights__safetensors=_entries(saved[0])[WEIGHTS] + b"\0" * 64)
    with pytest.raises(ModelFileError, match=rf"{re.escape(str(bad))}: {WEIGHTS} is corrupted.*follow the header"):
        load_model(bad)


def test_entries_the_format_does_not_use_are_never_read(saved, tmp_path, monkeypatch):
    bad = _with(saved, tmp_path, junk__bin=b"\0" * 4096)
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    load_model(bad, compile=False)
    assert "junk.bin" not in opened and OPTIMIZER not in opened
    assert {CONFIG, METADATA, WEIGHTS} <= set(opened)


def test_a_corrupted_entry_is_reported_with_the_file(saved, tmp_path):
    raw = bytearray(saved[0].read_bytes())
    at = raw.find(b'"units": 3')
    raw[at + 9:at + 10] = b"7"  # same length, wrong CRC
    bad = tmp_path / "flipped.shendu"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match=rf"{re.escape(str(bad))} is corrupted: cannot read {CONFIG}"):
        load_model(bad)


# --- 4. malformed configs ---------------------------------------------------------------------------------------
def _nested(depth):
    return json.loads('{"class_name": "Sequential", "config": {"layers": [' * depth + "]}}" * depth)


@pytest.mark.parametrize("case, problem", [
    ("invalid utf-8", "not valid UTF-8"),
    ("a list", "holds a JSON array, expected an object"),
    ("no class_name", "no 'class_name'"),
    ("nested layer without class_name", "expected a dict with 'class_name'"),
    ("deep arrays", "nests deeper than"),
    ("deep models", "nests more than the 100 levels"),
    ("GAN without parts", r"GAN.from_config: the config lacks \['generator', 'discriminator'\]"),
    ("Lambda bytecode", r"never executed.*custom_objects=\{'lam': function\}"),
    ("Layer", "abstract base class"),
    ("nested Layer", "abstract base class"),
    ("a string config", "must be a JSON object"),
])
def test_malformed_config_is_a_model_file_error_naming_file_and_problem(saved, tmp_path, case, problem):
    from shendu.applications.gan import GAN

    config = _config(saved[0])
    inner = config["config"]
    lam = {"class_name": "Lambda", "config": {"name": "lam", "function": {
        "class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None}}}}
    raw = {
        "invalid utf-8": b'{"class_name": "\xff"}',
        "a list": json.dumps([config]),
        "no class_name": json.dumps({"config": inner}),
        "nested layer without class_name": json.dumps({**config, "config": {**inner, "layers": [{"config": {}}]}}),
        "deep arrays": "[" * 100_000 + "]" * 100_000,
        "deep models": json.dumps({**config, "config": {**inner, "layers": [_nested(300)]}}),
        "GAN without parts": json.dumps({"class_name": "GAN", "config": {"latent_dim": 4}}),
        "Lambda bytecode": json.dumps({**config, "config": {**inner, "layers": inner["layers"] + [lam]}}),
        "Layer": json.dumps({"class_name": "Layer", "config": {"name": "x"}}),
        "nested Layer": json.dumps({**config, "config": {**inner, "layers": inner["layers"] + [
            {"class_name": "Layer", "config": {"name": "l"}}]}}),
        "a string config": json.dumps({**config, "config": "Dense"}),
    }[case]
    bad = _with(saved, tmp_path, config__json=raw if isinstance(raw, bytes) else raw.encode())
    with pytest.raises(ModelFileError, match=rf"{re.escape(str(bad))}: {CONFIG}.*{problem}"):
        load_model(bad, custom_objects={"GAN": GAN})


def test_lambda_saved_as_code_loads_with_its_function_passed_by_layer_name(saved, tmp_path):
    path, model, x = saved
    config = _config(path)
    config["config"]["layers"].append({"class_name": "Lambda", "config": {"name": "double", "function": {
        "class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None}}}})
    bad = _with(saved, tmp_path, config__json=json.dumps(config).encode())
    again = load_model(bad, custom_objects={"double": lambda t: t * 2.0})
    np.testing.assert_allclose(again.predict(x, verbose=0), 2 * model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("metadata, problem", [
    ({"format": "shendu.model/99"}, r"format 'shendu.model/99'.*reads 'shendu.model/1' \(version 1\)"),
    ({"keras_version": "3.0.0"}, "not a shendu model file: metadata.json has format None"),
    ([1, 2], "metadata.json holds a JSON array"),
])
def test_format_tag_is_checked(saved, tmp_path, metadata, problem):
    bad = _with(saved, tmp_path, metadata__json=json.dumps(metadata).encode())
    with pytest.raises(ModelFileError, match=problem):
        load_model(bad)


def test_missing_metadata_is_reported(saved, tmp_path):
    bad = _with(saved, tmp_path, metadata__json=None)
    problem = f"is not a complete shendu model file: {METADATA} is missing"
    with pytest.raises(ModelFileError, match=rf"{re.escape(str(bad))} {problem}"):
        load_model(bad)

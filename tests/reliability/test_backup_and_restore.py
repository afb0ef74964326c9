"""BackupAndRestore: a fit killed with SIGKILL and started again ends with the weights of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import shendu as sd
from shendu.callbacks import BackupAndRestore
from shendu.keras import layers
from shendu.saving import ModelFileError

# One training run: argv = backup_dir, out.npz, save_freq, data kind, kill at "epoch" or "epoch:batch" (or "-").
SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import shendu as sd
    from shendu.keras import callbacks, layers

    backup, out, freq, kind, kill = sys.argv[1:]
    sd.random.set_seed(0)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(60, 4)), rng.integers(0, 3, size=60)
    model = sd.keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dropout(0.3),
                                 layers.Dropout(0.2, seed=5), layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    class Kill(callbacks.Callback):
        def on_train_begin(self, logs=None):
            print("resumed at update", int(model.optimizer.iterations))

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            if kill == str(epoch):
                os.kill(os.getpid(), signal.SIGKILL)

        def on_train_batch_end(self, batch, logs=None):
            if kill == f"{self.epoch}:{batch}":
                os.kill(os.getpid(), signal.SIGKILL)

    if kill.startswith("write:"):  # die inside the n-th backup's atomic write, before its rename
        replace, calls = os.replace, []

        def dying_replace(src, dst):
            calls.append(dst)
            if len(calls) == int(kill[6:]):
                os.kill(os.getpid(), signal.SIGKILL)
            replace(src, dst)

        os.replace = dying_replace

    cbs = [callbacks.BackupAndRestore(backup, save_freq="epoch" if freq == "epoch" else int(freq)), Kill()]
    if kind == "arrays":
        model.fit(x, y, batch_size=8, epochs=4, callbacks=cbs, verbose=0)
    else:
        data = sd.data.Dataset.from_tensor_slices((x, y)).shuffle(60).batch(8).repeat()
        model.fit(data, epochs=4, steps_per_epoch=5, callbacks=cbs, verbose=0)
    np.savez(out, *model.get_weights())
""")


def _run(tmp_path, name: str, freq: str, kind: str, kill: str) -> subprocess.CompletedProcess:
    root = os.path.dirname(os.path.dirname(sd.__file__))  # the shendu under test, not an installed one
    env = {**os.environ, "PYTHONPATH": root, "SHENDU_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    args = [sys.executable, str(script), str(tmp_path / "backup"), str(tmp_path / f"{name}.npz"), freq, kind, kill]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def _weights(path) -> list[np.ndarray]:
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.mark.parametrize(("freq", "kind", "kill", "updates"), [
    ("epoch", "arrays", "2", 16),  # killed as epoch 3 begins: resumes after epoch 2 (8 batches an epoch)
    ("3", "arrays", "2:5", 21),  # killed inside epoch 3, one batch after the backup of its 5th batch
    ("3", "dataset", "2:3", 12),  # a shuffled Dataset whose passes span epochs (steps_per_epoch=5 of 8 batches)
    ("3", "arrays", "write:5", 9),  # killed while writing the 5th backup (at update 12): the 4th is intact
])
def test_killed_run_resumes_bit_identically(tmp_path, freq, kind, kill, updates):
    full = _run(tmp_path, "full", freq, kind, "-")
    assert full.returncode == 0, full.stderr
    assert not (tmp_path / "backup").exists()  # delete_checkpoint=True: removed at the normal end

    killed = _run(tmp_path, "killed", freq, kind, kill)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (tmp_path / "backup" / "latest.backup.safetensors").exists()

    resumed = _run(tmp_path, "resumed", freq, kind, "-")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed at update {updates}\n" in resumed.stdout
    assert not (tmp_path / "backup" / "latest.backup.safetensors").exists()
    for a, b in zip(_weights(tmp_path / "full.npz"), _weights(tmp_path / "resumed.npz"), strict=True):
        assert np.array_equal(a, b)


def _model() -> sd.keras.Model:
    model = sd.keras.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_resume_sets_the_epoch_and_keeps_the_backup_when_asked(tmp_path):
    x, y = np.ones((8, 2), np.float32), np.zeros((8, 1), np.float32)
    model = _model()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    assert (tmp_path / "latest.backup.safetensors").exists()
    saved = model.get_weights()
    twin = _model()
    history = twin.fit(x, y, epochs=5, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    assert len(history.history["loss"]) == 2  # epochs 4 and 5 only
    assert int(twin.optimizer.iterations) == int(model.optimizer.iterations) + 2
    assert not any(np.array_equal(a, b) for a, b in zip(saved, twin.get_weights()))


def test_delete_keeps_other_files_in_the_backup_dir(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    _model().fit(np.ones((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])
    assert os.listdir(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"backup_dir": ""}, "backup_dir must be a non-empty path"),
    ({"backup_dir": "b", "save_freq": 0}, "save_freq must be 'epoch' or a positive integer"),
    ({"backup_dir": "b", "save_freq": "batch"}, "save_freq must be 'epoch' or a positive integer"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BackupAndRestore(**kwargs)


def test_a_backup_of_another_model_is_refused_by_name(tmp_path):
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    other = sd.keras.Sequential([layers.Dense(5, input_shape=(2,)), layers.Dense(1)])
    other.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"does not fit model .* remove it"):
        other.fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_a_file_that_is_not_a_backup_is_refused(tmp_path):
    sd.saving.safetensors_format.save_file({"a": np.zeros(2)}, tmp_path / "latest.backup.safetensors")
    with pytest.raises(ModelFileError, match="is not a shendu backup"):
        _model().fit(np.ones((4, 2)), np.zeros((4, 1)), verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_an_unbuilt_model_is_built_from_the_data_on_resume(tmp_path):
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)

    def unbuilt() -> sd.keras.Model:
        model = sd.keras.Sequential([layers.Dense(3), layers.Dense(1)])
        model.compile("sgd", "mse")
        return model

    first = unbuilt()
    first.fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    second = unbuilt()
    second.fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path)])  # nothing left to train
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        assert np.array_equal(a, b)


def test_seeded_op_streams_are_restored(tmp_path):
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    sd.random.set_seed(1)
    sd.random.uniform([2], seed=7)
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    expected = sd.random.uniform([2], seed=7).numpy()
    sd.random.set_seed(1)  # as a new process starts: the stream begins again
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path)])
    assert np.array_equal(sd.random.uniform([2], seed=7).numpy(), expected)


def test_a_backup_of_other_data_is_refused(tmp_path):
    x, y = np.ones((8, 2), np.float32), np.zeros((8, 1), np.float32)
    shuffled = sd.data.Dataset.from_tensor_slices((x, y)).shuffle(8).batch(4)
    _model().fit(shuffled, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    with pytest.raises(ValueError, match=r"does not fit model .* and its data .*random state of the data"):
        _model().fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_a_truncated_backup_is_refused_naming_the_file(tmp_path):
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    path = tmp_path / "latest.backup.safetensors"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ModelFileError, match=r"latest\.backup\.safetensors"):
        _model().fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])

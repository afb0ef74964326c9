"""Data-parallel training on 2 and 3 processes under mpiexec (one thread each) against one process on the same
global batches: identical weights on every rank, equal to the reference; files written by rank 0 only; a rank
that stops makes the others fail with an error naming it."""

import os
import subprocess
import sys

import numpy as np
import pytest

from shendu.distribute.launch import find_mpiexec

SCRIPT = os.path.join(os.path.dirname(__file__), "train_script.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 60


def _env(**extra):
    env = dict(os.environ, SHENDU_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=ROOT, **extra)
    return env


def _run(out, args, processes, **extra):
    """Run the script on `processes` processes (0: plainly, no MPI); the arrays each rank saved."""
    os.makedirs(out, exist_ok=True)
    command = [sys.executable, SCRIPT, str(out), *map(str, args)]
    if processes:
        command = [find_mpiexec(), "-n", str(processes), *command]
    done = subprocess.run(command, env=_env(**extra), capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    return [dict(np.load(os.path.join(out, f"rank{r}.npz"))) for r in range(max(processes, 1))]


def _assert_same(reference, result, rtol=1e-6):
    assert reference.keys() == result.keys()
    for key in reference:
        np.testing.assert_allclose(result[key], reference[key], rtol=rtol, atol=1e-9, err_msg=key)


@pytest.mark.parametrize("processes, optimizer, layer, n, batch", [
    (2, "sgd", "none", 21, 8),     # last batch 5 samples: 3 + 2
    (3, "adam", "none", 23, 9),    # 3 + 3 + 3, last batch 5: 2 + 2 + 1
    (2, "adam", "syncbn", 23, 9),
    (3, "sgd", "syncbn", 20, 7),
])
def test_equals_one_process_on_the_global_batch(mpi4py, tmp_path, processes, optimizer, layer, n, batch):
    args = (optimizer, layer, n, batch, 2)
    reference = _run(tmp_path / "one", args, 0)[0]
    ranks = _run(tmp_path / "many", args, processes)
    for result in ranks:
        _assert_same(reference, result)  # weights, predictions, History loss/val_loss, evaluate's scores


def test_batch_normalization_keeps_local_statistics_but_ranks_agree(mpi4py, tmp_path):
    ranks = _run(tmp_path / "bn", ("adam", "bn", 20, 10, 1), 2)
    reference = _run(tmp_path / "one", ("adam", "bn", 20, 10, 1), 0)[0]
    for key in ranks[0]:
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key])
    assert not np.allclose(ranks[0]["arr_0"], reference["arr_0"], rtol=1e-6)  # per-replica statistics differ


def test_only_rank_0_writes_checkpoints_and_logs(mpi4py, tmp_path):
    _run(tmp_path, ("sgd", "none", 16, 8, 2), 2, TEST_FILES="1")
    folders = [p for p in os.listdir(tmp_path) if p.startswith("pid")]
    assert len(folders) == 2
    folders = [p for p in folders if os.listdir(tmp_path / p)]
    assert len(folders) == 1
    assert sorted(os.listdir(tmp_path / folders[0])) == ["log.csv", "model.shendu"]
    with open(tmp_path / folders[0] / "log.csv") as f:
        assert len(f.read().strip().splitlines()) == 3  # a header and one line per epoch


def test_backup_and_restore_resumes_the_job(mpi4py, tmp_path):
    """2 epochs with a backup, then the same job asked for 4 resumes at epoch 3 and ends as 4 epochs in one go."""
    whole = _run(tmp_path / "whole", ("sgd", "none", 16, 8, 4), 2)[0]
    backup = str(tmp_path / "backup")
    _run(tmp_path / "first", ("sgd", "none", 16, 8, 2), 2, TEST_BACKUP=backup)
    resumed = _run(tmp_path / "resumed", ("sgd", "none", 16, 8, 4), 2, TEST_BACKUP=backup)[0]
    assert len(resumed["loss"]) == 2  # epochs 3 and 4 only
    for key in ("arr_0", "arr_1", "arr_2", "arr_3", "predictions"):
        np.testing.assert_allclose(resumed[key], whole[key], rtol=1e-9, err_msg=key)


def test_a_stopped_rank_is_named_by_the_others(mpi4py, tmp_path):
    command = [find_mpiexec(), "-n", "3", sys.executable, SCRIPT, str(tmp_path), "sgd", "none", "60", "6", "3", "1"]
    done = subprocess.run(command, env=_env(SHENDU_DIST_TIMEOUT="2"), capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    named = [rank for rank in (0, 2)
             if f"DistributedError: rank {rank} of 3: the gradient allreduce did not complete in 2 s; rank 1 " in out]
    assert named, out[-3000:]  # each survivor says it, unless the first to stop the job ends it first
    assert not os.path.exists(tmp_path / "rank0.npz")


def test_a_killed_rank_ends_the_job(mpi4py, tmp_path):
    command = [find_mpiexec(), "-n", "2", sys.executable, SCRIPT, str(tmp_path), "sgd", "none", "60", "6", "3", "1"]
    done = subprocess.run(command, env=_env(SHENDU_DIST_TIMEOUT="2", TEST_SIGNAL="SIGKILL"), capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert done.returncode != 0
    assert not os.path.exists(tmp_path / "rank0.npz")


@pytest.mark.skipif(not os.environ.get("SHENDU_DATA_DIR"), reason="SHENDU_DATA_DIR not set (MNIST)")
def test_example_prints_the_accuracy_of_one_process(mpi4py):
    example = [sys.executable, os.path.join(ROOT, "examples", "distributed_mnist.py"), "--samples", "1000",
               "--epochs", "1"]
    outputs = []
    for prefix in ([], [find_mpiexec(), "-n", "2"]):
        done = subprocess.run(prefix + example, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append([line for line in done.stdout.splitlines() if line.startswith("test accuracy")])
    assert len(outputs[0]) == 1 and outputs[0] == outputs[1]

"""Files written by atomic_write: what a kill -9 or SIGTERM mid-save leaves (nothing, after the next save) and the
permissions of saved files (the umask's, or the replaced file's)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shendu.saving.file_utils import STALE_AFTER_S, atomic_write, sweep_stale_temp_files

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and file modes as POSIX has them")
ROOT = Path(__file__).resolve().parents[2]
SAVER = """
import signal, sys, time
from shendu.saving.file_utils import atomic_write
if sys.argv[2] == "own-handler":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
with atomic_write(sys.argv[1]) as tmp, open(tmp, "wb") as f:
    f.write(b"half a checkpoint" * 4096)
    f.flush()
    print("writing", flush=True)
    for _ in range(600):  # short sleeps: Python runs a handler when the main thread next runs bytecode, so a
        time.sleep(0.1)   # SIGTERM just before a sleep began, or taken by another thread, waited out a 60 s one
"""


def save(path: Path, data: bytes) -> None:
    with atomic_write(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def killed_mid_save(target: Path, sig: int, mode: str = "") -> int:
    """Start a save of target in a subprocess, send it sig while it writes; returns its exit status."""
    child = subprocess.Popen([sys.executable, "-c", SAVER, str(target), mode], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout.readline() == "writing\n"
        child.send_signal(sig)
        return child.wait(timeout=60)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


def test_kill_9_mid_save_leaves_a_temp_file_that_the_next_save_removes(tmp_path):
    target = tmp_path / "model.shendu"
    save(target, b"epoch 1")
    assert killed_mid_save(target, signal.SIGKILL) == -signal.SIGKILL
    assert len(temp_files(tmp_path)) == 1 and target.read_bytes() == b"epoch 1"
    save(target, b"epoch 2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.shendu"] and target.read_bytes() == b"epoch 2"


def test_sigterm_mid_save_removes_the_temp_file_and_still_ends_the_process(tmp_path):
    target = tmp_path / "model.shendu"
    assert killed_mid_save(target, signal.SIGTERM) == -signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_a_programs_own_sigterm_handler_is_kept_and_the_temp_file_still_goes(tmp_path):
    target = tmp_path / "model.shendu"
    assert killed_mid_save(target, signal.SIGTERM, "own-handler") == 3
    assert list(tmp_path.iterdir()) == []


def test_the_sigterm_handler_is_put_back_after_a_save(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    save(tmp_path / "a.bin", b"x")
    assert signal.getsignal(signal.SIGTERM) == before


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_sweep_removes_only_stale_temp_files_of_its_own_pattern_for_that_target(tmp_path):
    old = time.time() - 2 * STALE_AFTER_S
    files = {
        f".tmp-shendu-{dead_pid()}-0123456789ab-m.shendu": False,   # its process is gone
        f".tmp-shendu-{os.getpid()}-0123456789ab-m.shendu": True,   # a save running now
        f".tmp-shendu-{os.getppid()}-00000000000a-m.shendu": False,  # running, but untouched for long
        ".tmp-k3j_x9q2m.shendu": True,                               # an earlier version's name, recent
        ".tmp-a1b2c3d4m.shendu": False,                              # the same, old
        f".tmp-shendu-{dead_pid()}-0123456789ab-other.shendu": True,  # another target's
        ".tmp-shendu-notes-m.shendu": True,                           # not our pattern: a user's file
        ".tmp-abcdefghother.shendu": True,
    }
    for name in files:
        (tmp_path / name).write_text("x")
    for name in (f".tmp-shendu-{os.getppid()}-00000000000a-m.shendu", ".tmp-a1b2c3d4m.shendu",
                 ".tmp-abcdefghother.shendu"):
        os.utime(tmp_path / name, (old, old))
    (tmp_path / f".tmp-shendu-{dead_pid()}-0123456789ab-m.shendu.d").mkdir()  # not a file: never touched
    save(tmp_path / "m.shendu", b"saved")
    kept = {name for name, keep in files.items() if keep}
    assert set(temp_files(tmp_path)) == kept | {p.name for p in tmp_path.glob("*.d")}
    assert sweep_stale_temp_files(tmp_path / "m.shendu") == []


@pytest.fixture
def umask():
    """Sets the process umask for the test (returns the setter); restores it afterwards."""
    before = os.umask(0o022)
    yield os.umask
    os.umask(before)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_of_a_normal_write(tmp_path, umask, mask, mode):
    umask(mask)
    save(tmp_path / "new.shendu", b"x")
    with open(tmp_path / "plain.bin", "wb") as f:
        f.write(b"x")
    assert stat.S_IMODE(os.stat(tmp_path / "new.shendu").st_mode) == mode
    assert stat.S_IMODE(os.stat(tmp_path / "plain.bin").st_mode) == mode


def test_overwriting_keeps_the_existing_files_mode(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "shared.shendu"
    save(target, b"v1")
    os.chmod(target, 0o640)
    save(target, b"v2")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640 and target.read_bytes() == b"v2"

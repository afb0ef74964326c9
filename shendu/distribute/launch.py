"""`shendu launch -n 4 train.py [args]`: the script on 4 processes through the MPI library's mpiexec."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence


def find_mpiexec() -> str | None:
    """SHENDU_MPIEXEC, else the mpiexec beside this Python (the mpich wheel puts it there), else the one on PATH."""
    named = os.environ.get("SHENDU_MPIEXEC")
    if named:
        return named
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("mpiexec") or shutil.which("mpirun")


def mpiexec_command(processes: int, script: str, args: Sequence[str], mpiexec: str,
                    threads: int | None = None) -> list[str]:
    """mpiexec -n N [-genv SHENDU_NUM_THREADS t] python script args (Open MPI's mpirun takes -x instead)."""
    command = [mpiexec, "-n", str(processes)]
    if threads is not None:
        open_mpi = "ompi" in os.path.basename(os.path.realpath(mpiexec)) or _is_open_mpi(mpiexec)
        for name in ("SHENDU_NUM_THREADS", "OMP_NUM_THREADS"):
            command += ["-x", f"{name}={threads}"] if open_mpi else ["-genv", name, str(threads)]
    return [*command, sys.executable, script, *args]


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in out or "OpenRTE" in out


def launch(processes: int, script: str, args: Sequence[str], threads: int | None = None) -> int:
    """Run the script on `processes` processes; returns mpiexec's exit status."""
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise FileNotFoundError("no mpiexec found: pip install 'shendu[dist]' (mpi4py and the mpich wheel), or "
                                "set SHENDU_MPIEXEC to your MPI's mpiexec")
    return subprocess.call(mpiexec_command(processes, script, args, mpiexec, threads))

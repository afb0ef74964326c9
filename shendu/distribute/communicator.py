"""The processes of a data-parallel job and their collectives: MPI through mpi4py, or one process alone.

MPI has no timeout on a blocking collective, so every collective here is the nonblocking one (Iallreduce, Ibcast,
Iallgatherv) polled with Test until a deadline. While it waits a rank answers the pings of the others; when the
deadline passes it pings every rank, and the ranks that do not answer within a grace period are named in a
`DistributedError` (dead, stopped or stuck). An uncaught exception in any rank aborts the whole job (as
`python -m mpi4py` does), so that no rank waits for one that has already failed.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from typing import Any

import numpy as np

_LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")
_PING, _PONG = 7301, 7302
_SPIN_SECONDS = 0.002  # poll Test without sleeping this long, then sleep 50 us between polls (frees the core)


class DistributedError(RuntimeError):
    """A collective did not complete: another rank died, stopped, or stopped calling the collectives."""


def launched_by_mpi() -> bool:
    """Whether this process was started by mpiexec/mpirun (their environment variables are set)."""
    return any(v in os.environ for v in _LAUNCHER_VARIABLES)


def default_timeout() -> float:
    """Seconds a collective may wait for the other ranks: SHENDU_DIST_TIMEOUT, else 300."""
    text = os.environ.get("SHENDU_DIST_TIMEOUT", "300")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"SHENDU_DIST_TIMEOUT must be a number of seconds; got {text!r}") from None
    if value <= 0:
        raise ValueError(f"SHENDU_DIST_TIMEOUT must be positive; got {text!r}")
    return value


class Communicator:
    """rank, size and the collectives on NumPy arrays; one process (size 1) when not launched by MPI."""

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = default_timeout() if timeout is None else float(timeout)
        self.comm: Any = None
        self.rank, self.size = 0, 1
        if launched_by_mpi():
            try:
                from mpi4py import MPI
            except ImportError:
                raise ImportError("Training across processes launched by mpiexec needs mpi4py: "
                                  "pip install 'shendu[dist]'") from None
            self.MPI = MPI
            self.comm = MPI.COMM_WORLD
            self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
            if self.size > 1:
                _abort_on_uncaught_exception(self)
        self._sends: list[Any] = []
        self.share: float | None = None  # this replica's share of the current global batch in fit (else None)
        self.peers = self.allgather_json({"host": socket.gethostname(), "pid": os.getpid()})

    # --- collectives (in place where they can be) ---------------------------------------------------------------
    def allreduce_(self, buf: np.ndarray, what: str = "allreduce") -> np.ndarray:
        """Sum buf over the ranks, in place (a contiguous array)."""
        if self.size > 1:
            self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, buf, op=self.MPI.SUM), what)
        return buf

    def broadcast_(self, buf: np.ndarray, what: str = "broadcast") -> np.ndarray:
        """Rank 0's buf on every rank, in place."""
        if self.size > 1:
            self._wait(self.comm.Ibcast(buf, root=0), what)
        return buf

    def allgatherv(self, array: np.ndarray, what: str = "allgather") -> list[np.ndarray]:
        """Every rank's array (same dtype and trailing shape, any length), in rank order."""
        array = np.ascontiguousarray(array)
        if self.size == 1:
            return [array]
        counts = np.zeros(self.size, np.int64)
        counts[self.rank] = len(array)
        self.allreduce_(counts, what)
        row = int(np.prod(array.shape[1:], dtype=np.int64))
        out = np.empty((int(counts.sum()), *array.shape[1:]), array.dtype)
        sizes = counts * row
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        kind = self.MPI._typedict[array.dtype.char]
        self._wait(self.comm.Iallgatherv([array, kind], [out, (sizes, offsets), kind]), what)
        return np.split(out, np.cumsum(counts)[:-1])

    def broadcast_json(self, value: Any, what: str = "broadcast") -> Any:
        """Rank 0's JSON-ready value on every rank (sent as JSON text: nothing is unpickled)."""
        if self.size == 1:
            return value
        data = np.frombuffer(json.dumps(value).encode(), np.uint8) if self.rank == 0 else np.empty(0, np.uint8)
        n = self.broadcast_(np.array([len(data)], np.int64), what)
        buf = np.empty(int(n[0]), np.uint8)
        if self.rank == 0:
            buf[:] = data
        return json.loads(self.broadcast_(buf, what).tobytes().decode())

    def allgather_json(self, value: Any, what: str = "allgather") -> list[Any]:
        """Every rank's JSON-ready value, in rank order."""
        if self.size == 1:
            return [value]
        parts = self.allgatherv(np.frombuffer(json.dumps(value).encode(), np.uint8), what)
        return [json.loads(p.tobytes().decode()) for p in parts]

    # --- waiting with a deadline ------------------------------------------------------------------------------
    def _wait(self, request: Any, what: str) -> None:
        """Poll request until done; past the deadline (or on an MPI error) name the ranks that do not answer."""
        start = time.monotonic()
        try:
            while not request.Test():
                now = time.monotonic()
                if now - start > _SPIN_SECONDS:
                    self._answer_pings()
                    time.sleep(5e-5)
                if now - start > self.timeout:
                    self._fail(what, f"did not complete in {self.timeout:g} s")
        except self.MPI.Exception as err:
            self._fail(what, f"failed ({err.Get_error_string().strip()})")

    def _answer_pings(self) -> None:
        status = self.MPI.Status()
        while self.comm.Iprobe(source=self.MPI.ANY_SOURCE, tag=_PING, status=status):
            source = status.Get_source()
            self.comm.Recv(np.empty(1, np.int64), source=source, tag=_PING)
            self._sends.append(self.comm.Isend(np.array([self.rank], np.int64), dest=source, tag=_PONG))

    def silent_ranks(self, grace: float) -> list[int]:
        """The ranks that do not answer a ping within `grace` seconds (answering the others' pings meanwhile)."""
        others = [r for r in range(self.size) if r != self.rank]
        for r in others:
            self._sends.append(self.comm.Isend(np.array([self.rank], np.int64), dest=r, tag=_PING))
        waiting, deadline = set(others), time.monotonic() + grace
        status = self.MPI.Status()
        while waiting and time.monotonic() < deadline:
            self._answer_pings()
            while self.comm.Iprobe(source=self.MPI.ANY_SOURCE, tag=_PONG, status=status):
                source = status.Get_source()
                self.comm.Recv(np.empty(1, np.int64), source=source, tag=_PONG)
                waiting.discard(source)
            time.sleep(1e-3)
        return sorted(waiting)

    def _fail(self, what: str, how: str) -> None:
        try:
            silent = self.silent_ranks(min(10.0, max(2.0, self.timeout / 4)))
        except Exception:  # the transport itself is broken: say what is known
            silent = []
        named = ", ".join(f"rank {r} (pid {self.peers[r]['pid']} on {self.peers[r]['host']})" for r in silent)
        who = (f"{named} did not answer: it died, was stopped or hangs" if silent
               else "no rank could be named (all answered a ping; one may have left the collectives)")
        raise DistributedError(f"rank {self.rank} of {self.size}: {what} {how}; {who}. Stopping the job.")


def _abort_on_uncaught_exception(comm: Communicator) -> None:
    """An uncaught exception prints its traceback (marked with the rank) and aborts every rank of the job."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        sys.stderr.write(f"[shendu rank {comm.rank}/{comm.size}] uncaught {kind.__name__}; aborting the job\n")
        previous(kind, value, tb)
        sys.stderr.flush()
        sys.stdout.flush()
        if isinstance(value, DistributedError):
            time.sleep(1.0)  # the other survivors reach their deadline about now: let them say it too
        comm.comm.Abort(1)

    sys.excepthook = hook

"""The `device` fixture: each test runs on NumPy (the reference), on the fake device (tests/gpu/fake_cupy.py: NumPy
behind CuPy's rules, so any host round trip or direct NumPy call on device data fails), and on CuPy with a GPU
(skipped, saying why, where there is none)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from shendu import backend
from tests.gpu import fake_cupy

BACKENDS = ["numpy", "fake-device", "cupy"]


class Device:
    """One backend under test: `put` moves host arrays there, `get` brings results back, `on_device` says whether
    arrays live off the host."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.on_device = name != "numpy"

    def put(self, x: Any) -> Any:
        return backend.to_device(np.asarray(x), 0) if self.on_device else np.asarray(x)

    def get(self, x: Any) -> np.ndarray:
        data = getattr(x, "data", x)
        if self.on_device:
            assert backend.is_device_array(data), f"{self.name}: the result came back on the host: {type(data)}"
        return backend.to_host(data)

    def scope(self) -> Any:
        """A `shendu.devices.device` block placing new tensors and weights on this backend's device."""
        from shendu import devices
        return devices.device("/GPU:0" if self.on_device else "/CPU:0")


@pytest.fixture(params=BACKENDS)
def device(request: pytest.FixtureRequest) -> Iterator[Device]:
    """The backend of a parity test; the device ones forbid implicit device-to-host copies."""
    name = request.param
    previous = backend.set_device_module(None)
    if name == "fake-device":
        backend.set_device_module(fake_cupy)
    elif name == "cupy" and backend.gpu_count() == 0:
        reason = f"cupy backend: {backend._missing} ({backend.GPU_INSTALL})"
        backend.set_device_module(previous)
        if os.environ.get("SHENDU_REQUIRE_GPU") == "1":  # scripts/gpu_check.sh: a GPU machine must run them
            pytest.fail(reason)
        pytest.skip(reason)
    forbid = backend.forbid_implicit_transfers(name != "numpy")
    try:
        yield Device(name)
    finally:
        backend.forbid_implicit_transfers(forbid)
        backend.set_device_module(previous)

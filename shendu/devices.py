"""Devices: where tensors live and ops run, in TensorFlow's and PyTorch's names (`shendu.device('/GPU:0')`,
`set_default_device('gpu')`, `tensor.to('cuda')`).

A device is the CPU (NumPy) or a CUDA GPU (CuPy, `pip install 'shendu[gpu]'`). New tensors and weights are created
on the placed device; an op runs where its inputs are, and inputs on two devices are an error naming both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from shendu import backend

_ALIASES = {"cpu": "CPU", "gpu": "GPU", "cuda": "GPU"}


def parse(name: Any) -> int | None:
    """The GPU index a device name means, None for the CPU: 'cpu', 'gpu', 'cuda:1', '/GPU:0', '/device:GPU:0',
    '/job:localhost/replica:0/task:0/device:GPU:0' (TensorFlow's and PyTorch's spellings, any case)."""
    if not isinstance(name, str):
        raise TypeError(f"shendu.device: expected a device name such as 'gpu', 'cuda:0', '/GPU:0' or 'cpu', got "
                        f"{type(name).__name__} {name!r}")
    kind, index = None, 0
    for part in name.strip("/").split("/"):
        fields = part.split(":")
        if fields[0] in ("job", "replica", "task") and len(fields) == 2:
            continue
        if fields[0] == "device":
            fields = fields[1:]
        kind = _ALIASES.get(fields[0].lower())
        if kind is None or len(fields) > 2 or (len(fields) == 2 and not fields[1].isdigit()):
            raise ValueError(f"shendu.device: cannot read the device name {name!r}; expected 'cpu', 'gpu', "
                             f"'cuda:N', '/CPU:0' or '/GPU:N'")
        index = int(fields[1]) if len(fields) == 2 else 0
    if kind is None:
        raise ValueError(f"shendu.device: the device name {name!r} names no device")
    if kind == "CPU":
        return None
    count = backend.gpu_count()
    if count == 0:
        backend.device_module(f"device {name!r}")
    if index >= count:
        raise ValueError(f"shendu.device: there is no GPU {index} ({name!r}); this machine has {count} GPU(s)")
    return index


def name(index: int | None) -> str:
    """TensorFlow's full name of a device: '/job:localhost/replica:0/task:0/device:GPU:0'."""
    kind = "CPU:0" if index is None else f"GPU:{index}"
    return f"/job:localhost/replica:0/task:0/device:{kind}"


def short_name(index: int | None) -> str:
    """'/CPU:0' or '/GPU:N', as error messages say it."""
    return "/CPU:0" if index is None else f"/GPU:{index}"


def list_gpus() -> list[str]:
    """The GPUs shendu can use, as '/GPU:N' (empty without CuPy or without a CUDA GPU)."""
    return [f"/GPU:{i}" for i in range(backend.gpu_count())]


def gpu_name(index: int = 0) -> str:
    """The GPU's product name (e.g. 'NVIDIA H100 80GB HBM3'), as CUDA reports it."""
    props = backend.device_module("gpu_name").cuda.runtime.getDeviceProperties(index)
    raw = props["name"]
    return raw.decode() if isinstance(raw, bytes) else str(raw)


@contextlib.contextmanager
def device(device_name: str | None) -> Iterator[None]:
    """Create tensors and weights on this device inside the block (`with shendu.device('/GPU:0'):`); None keeps
    the enclosing choice. A GPU on a machine without CuPy or a GPU raises, saying what to install."""
    if device_name is None:
        yield
        return
    backend.push_device(parse(device_name))
    try:
        yield
    finally:
        backend.pop_device()


def set_default_device(device_name: str | None) -> None:
    """Where tensors and weights are created outside any `device` block ('gpu', 'cuda:0', 'cpu'; None: the CPU),
    as PyTorch's `torch.set_default_device`."""
    backend.set_default_device(None if device_name is None else parse(device_name))


def get_default_device() -> str:
    """The device of `set_default_device` ('/CPU:0' or '/GPU:N')."""
    return short_name(backend.default_device())


def current_device() -> str:
    """Where a tensor created here would live ('/CPU:0' or '/GPU:N'): the innermost `device` block, else the
    default device."""
    return short_name(backend.placed_device())


def to(x: Any, device_name: str | None) -> Any:
    """The array on this device (copied when it lives elsewhere; None: the placed device)."""
    index = backend.placed_device() if device_name is None else parse(device_name)
    return backend.to_device(x, index)


def mixed_devices(op: str, arrays: Any) -> RuntimeError | None:
    """The error for an op given arrays on different devices, naming both; None when they share one.

    `Function.apply` asks this when a forward pass fails, so that a device mix-up reads as one."""
    seen: dict[int | None, int] = {}
    for i, a in enumerate(arrays):
        if hasattr(a, "shape") and hasattr(a, "dtype"):
            seen.setdefault(backend.array_device(a), i)
    if len(seen) < 2:
        return None
    (d0, i0), (d1, i1) = list(seen.items())[:2]
    return RuntimeError(f"{op}: expected all inputs on one device, but input {i0} is on {short_name(d0)} and input "
                        f"{i1} on {short_name(d1)}; move them with tensor.to('{short_name(d1 if d0 is None else d0)}') "
                        f"or create them inside `with shendu.device(...)`")


def check_same_device(op: str, *arrays: Any) -> None:
    """Raise `mixed_devices`'s error when the arrays live on different devices."""
    err = mixed_devices(op, arrays)
    if err is not None:
        raise err

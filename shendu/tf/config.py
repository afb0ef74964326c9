"""tf.config and tf.device: the devices shendu can really use, and TensorFlow's runtime switches.

shendu computes with NumPy on the CPU, and on CUDA GPUs through CuPy (`pip install 'shendu[gpu]'`): it lists the
CPU and the GPUs CuPy sees, and `tf.device('/GPU:0')` creates tensors and weights there (`shendu.devices`). On a
machine without a GPU, `tf.device('/GPU:0')` runs on the CPU with a warning, as TensorFlow's soft device placement
does. The thread counts map to shendu's own threads
(`shendu.set_num_threads`); the switches that mean nothing to an eager NumPy runtime (memory growth, XLA, graph
mode) are accepted where TensorFlow accepts them and documented as having no effect.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any, NamedTuple

from shendu import backend, devices, parallel


class PhysicalDevice(NamedTuple):
    """A device of the machine, as TensorFlow names it: PhysicalDevice(name='/physical_device:CPU:0', ...)."""

    name: str
    device_type: str


class LogicalDevice(NamedTuple):
    """A device operations run on, named as `tf.device` takes it: LogicalDevice(name='/device:CPU:0', ...)."""

    name: str
    device_type: str


class LogicalDeviceConfiguration(NamedTuple):
    """One logical device to make of a physical one (`set_logical_device_configuration`); memory_limit (MB) applies
    to a GPU."""

    memory_limit: int | None = None
    experimental_priority: int | None = None
    experimental_device_ordinal: int | None = None


VirtualDeviceConfiguration = LogicalDeviceConfiguration  # TensorFlow 2.0's name

_CPU = PhysicalDevice(name="/physical_device:CPU:0", device_type="CPU")
_VALID_DEVICE_TYPES = frozenset({"CPU", "GPU", "TPU", "CUSTOM", "EPU"})  # those TensorFlow's device names allow
_settings: dict[str, Any] = {"soft_device_placement": True, "inter_op_threads": 0}
_hidden_gpus: set[int] = set()  # GPU indices hidden by set_visible_devices
_warned_devices: set[str] = set()
_logical_cpus: list[LogicalDeviceConfiguration] = []  # the CPU's logical devices, when split


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The machine's devices shendu can use, of this type ("CPU", "GPU"; None for all): the CPU and the CUDA GPUs
    CuPy sees (none without CuPy). As TensorFlow, an unknown type (or "cpu" in lower case) gives an empty list."""
    return [d for d in _physical() if device_type is None or d.device_type == device_type]


def _physical() -> list[PhysicalDevice]:
    """The CPU, then each GPU as '/physical_device:GPU:N'."""
    gpus = [PhysicalDevice(name=f"/physical_device:GPU:{i}", device_type="GPU") for i in range(backend.gpu_count())]
    return [_CPU, *gpus]


def list_logical_devices(device_type: str | None = None) -> list[LogicalDevice]:
    """The devices operations can be placed on, named as `tf.device` takes them (e.g. '/device:CPU:0'): one per
    visible physical device, and as many CPUs as `set_logical_device_configuration` made of the CPU."""
    found = []
    for d in get_visible_devices(device_type):
        count = len(_logical_cpus) if d.device_type == "CPU" and _logical_cpus else 1
        found += [LogicalDevice(name=f"/device:{d.device_type}:{i if d.device_type == 'CPU' else _gpu_index(d)}",
                                device_type=d.device_type) for i in range(count)]
    return found


def set_logical_device_configuration(device: PhysicalDevice, logical_devices: Sequence[Any] | None) -> None:
    """Make several logical CPUs of the CPU (TensorFlow's way to try distribution strategies on one machine): they
    are the names '/CPU:0' ... '/CPU:n-1' that `list_logical_devices` and `tf.device` accept, all computing on the
    same processor. None goes back to one. A GPU cannot be split here: one logical GPU per physical GPU."""
    if not isinstance(device, PhysicalDevice) or device not in list_physical_devices():
        raise ValueError(f"tf.config.set_logical_device_configuration: unrecognized device {device!r}; expected one "
                         f"of tf.config.list_physical_devices()")
    configs = list(logical_devices) if logical_devices is not None else []
    if any(not isinstance(c, LogicalDeviceConfiguration) for c in configs):
        raise ValueError("tf.config.set_logical_device_configuration: expected a list of "
                         "tf.config.LogicalDeviceConfiguration")
    if device.device_type == "GPU":
        raise ValueError(f"tf.config.set_logical_device_configuration: shendu cannot split {device.name} into "
                         f"logical devices or cap its memory; each GPU is one logical device")
    _logical_cpus[:] = configs


def get_logical_device_configuration(device: PhysicalDevice) -> list[LogicalDeviceConfiguration] | None:
    """The logical devices set for this physical device, or None when none were set."""
    return list(_logical_cpus) if device.device_type == "CPU" and _logical_cpus else None


def get_visible_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The physical devices shendu may use: those it lists less the GPUs `set_visible_devices` hid."""
    return [d for d in list_physical_devices(device_type) if _gpu_index(d) not in _hidden_gpus]


def _gpu_index(d: PhysicalDevice) -> int | None:
    """The index of a GPU device, None for the CPU."""
    return int(d.name.rsplit(":", 1)[1]) if d.device_type == "GPU" else None


def set_visible_devices(devices: PhysicalDevice | Sequence[PhysicalDevice], device_type: str | None = None) -> None:
    """Choose the visible devices among `list_physical_devices(device_type)`: `set_visible_devices([], 'GPU')` hides
    the GPUs (tf.device then falls back to the CPU); hiding the CPU raises, as shendu always runs on it."""
    chosen = [devices] if isinstance(devices, PhysicalDevice) else list(devices)
    physical = _physical()
    for d in chosen:
        if d not in physical:
            raise ValueError(f"tf.config.set_visible_devices: unrecognized device {d!r}; expected one of "
                             f"tf.config.list_physical_devices(): {physical}")
    hidden = [d for d in list_physical_devices(device_type) if d not in chosen]
    if _CPU in hidden:
        raise ValueError(f"tf.config.set_visible_devices: shendu computes on the CPU and cannot hide it; "
                         f"got devices={chosen}, device_type={device_type!r}")
    _hidden_gpus.difference_update(_gpu_index(d) for d in chosen)
    _hidden_gpus.update(_gpu_index(d) for d in hidden)


def set_memory_growth(device: PhysicalDevice, enable: bool) -> None:
    """Memory growth is a GPU setting: accepted on a GPU (CuPy's memory pool already grows as needed); as
    TensorFlow, the CPU refuses it."""
    if device not in _physical():
        raise ValueError(f"tf.config.experimental.set_memory_growth: unrecognized device {device!r}; expected one "
                         f"of tf.config.list_physical_devices('GPU'): {list_physical_devices('GPU')}")
    if device.device_type != "GPU":
        raise ValueError(f"tf.config.experimental.set_memory_growth: cannot set memory growth on {device.name}: only "
                         f"GPUs have it")


def set_soft_device_placement(enabled: bool) -> None:
    """On (the default, as in TensorFlow 2): `tf.device` on a missing device runs on the CPU; off: it raises."""
    _settings["soft_device_placement"] = bool(enabled)


def get_soft_device_placement() -> bool:
    """Whether `tf.device` on a device shendu lacks falls back to the CPU."""
    return _settings["soft_device_placement"]


@contextlib.contextmanager
def device(device_name: str | None) -> Iterator[None]:
    """Create the tensors and weights inside on this device ('/CPU:0', '/GPU:0', '/device:GPU:1', ...; None for no
    choice); ops run where their inputs are.

    A device shendu lacks (a GPU on a machine without CuPy or a CUDA GPU, a hidden GPU, a TPU) runs on the CPU with a
    warning, once per device, as TensorFlow's soft device placement does; with `set_soft_device_placement(False)` it
    raises instead.
    """
    device_type, index = _parse_device(device_name)
    if device_type is None:
        yield
        return
    target = _placement(device_type, index, device_name)
    with devices.device("/CPU:0" if target is None else f"/GPU:{target}"):
        yield


def _placement(device_type: str, index: int | None, device_name: str) -> int | None:
    """The GPU index tf.device places on (None: the CPU), falling back to the CPU as soft placement says."""
    if device_type == "CPU" and (index in (None, 0) or index < len(_logical_cpus)):
        return None
    if device_type == "GPU":
        visible = [_gpu_index(d) for d in get_visible_devices("GPU")]
        wanted = visible[0] if index is None and visible else index
        if wanted in visible:
            return wanted
        reason = (f"it sees GPUs {visible}" if visible else
                  "the GPUs are hidden by set_visible_devices" if backend.gpu_count() else
                  f"no CUDA GPU with CuPy: {backend.GPU_INSTALL}")
    else:
        reason = "shendu computes on the CPU and CUDA GPUs"
    name = f"{device_type}:{'*' if index is None else index}"
    if not get_soft_device_placement():
        raise RuntimeError(f"tf.device: shendu has no device {name} ({reason}) and soft device placement is off")
    if name not in _warned_devices:
        _warned_devices.add(name)
        warnings.warn(f"tf.device({device_name!r}): shendu has no device {name} ({reason}); these operations run on "
                      f"the CPU", stacklevel=4)
    return None


def _parse_device(name: str | None) -> tuple[str | None, int | None]:
    """(device type, index) of a TensorFlow device name; the job, replica and task fields are read and ignored."""
    if name is None:
        return None, None
    if not isinstance(name, str):
        raise TypeError(f"tf.device: expected a device name string such as '/CPU:0' (or None), got "
                        f"{type(name).__name__}")
    device_type, index = None, None
    for part in name.split("/"):
        fields = part.split(":")
        if not part or (len(fields) == 2 and fields[0] in ("job", "replica", "task")):
            continue
        if len(fields) in (1, 2) and fields[0].upper() in _VALID_DEVICE_TYPES | {"CUDA"}:  # PyTorch's 'cuda:0'
            kind, number = fields[0].upper().replace("CUDA", "GPU"), fields[1] if len(fields) == 2 else "*"
        elif len(fields) == 3 and fields[0] == "device":
            kind, number = fields[1].upper(), fields[2]
        else:
            raise ValueError(f"tf.device: cannot read the device name {name!r} (unknown part {part!r}); expected "
                             f"e.g. '/CPU:0', '/GPU:0' or '/job:localhost/replica:0/task:0/device:CPU:0'")
        if device_type is not None:
            raise ValueError(f"tf.device: the device name {name!r} names more than one device type")
        if number != "*" and not number.isdigit():
            raise ValueError(f"tf.device: the device index in {name!r} must be a number or '*', got {number!r}")
        device_type, index = kind, None if number == "*" else int(number)
    return device_type, index


def set_intra_op_parallelism_threads(num_threads: int) -> None:
    """Threads inside one operation: shendu's batch threads (`shendu.set_num_threads`); 0 goes back to the default,
    a count that follows the cores other programs leave free."""
    if int(num_threads) < 0:
        raise ValueError(f"tf.config.threading.set_intra_op_parallelism_threads: expected a count >= 0 (0 lets "
                         f"shendu choose), got {num_threads}")
    if int(num_threads) == 0:
        parallel.use_adaptive_threads()
    else:
        parallel.set_num_threads(int(num_threads))


def get_intra_op_parallelism_threads() -> int:
    """The threads shendu's operations use (`shendu.get_num_threads()`): a count, where TensorFlow reports 0 for
    its default."""
    return parallel.get_num_threads()


def set_inter_op_parallelism_threads(num_threads: int) -> None:
    """Threads running independent operations at once: kept, but without effect, since shendu runs eagerly one
    operation after another; the work inside each operation is split by `set_intra_op_parallelism_threads`."""
    if int(num_threads) < 0:
        raise ValueError(f"tf.config.threading.set_inter_op_parallelism_threads: expected a count >= 0, got "
                         f"{num_threads}")
    _settings["inter_op_threads"] = int(num_threads)


def get_inter_op_parallelism_threads() -> int:
    """The value given to `set_inter_op_parallelism_threads` (0, TensorFlow's "let the system choose", by default)."""
    return _settings["inter_op_threads"]


def run_functions_eagerly(run_eagerly: bool) -> None:
    """shendu always runs `tf.function`s eagerly (it builds no graphs): True is what it does; False changes nothing."""
    if not isinstance(run_eagerly, bool):
        raise TypeError(f"tf.config.run_functions_eagerly: expected a bool, got {run_eagerly!r}")


def functions_run_eagerly() -> bool:
    """Always True: `tf.function` in shendu calls the Python function as it is."""
    return True


def set_jit(enabled: bool | str) -> None:
    """XLA compilation: accepted without effect; shendu has no XLA (its compiled loops are numba's, always on when
    numba is installed)."""


def enable_op_determinism() -> None:
    """Same seeds, same bits on every run: fixes shendu's thread count at the cores this process may use
    (`parallel.set_num_threads`). By default the count follows the machine's load, and with it the batch chunks and
    BLAS's thread count; OpenBLAS rounds some products differently on one thread and on two (a 64 x 784 @ 784 x 128
    one does). Chunks are always combined in a fixed order. As with TensorFlow's, a busy machine then runs slower."""
    parallel.set_num_threads(parallel.available_cores())


experimental = SimpleNamespace(
    list_physical_devices=list_physical_devices, list_logical_devices=list_logical_devices,
    get_visible_devices=get_visible_devices, set_visible_devices=set_visible_devices,
    set_memory_growth=set_memory_growth, enable_op_determinism=enable_op_determinism,
    set_virtual_device_configuration=set_logical_device_configuration,
    get_virtual_device_configuration=get_logical_device_configuration,
    VirtualDeviceConfiguration=LogicalDeviceConfiguration,
)
"""tf.config.experimental: the names TensorFlow 2.0 code still calls there."""
threading = SimpleNamespace(
    set_intra_op_parallelism_threads=set_intra_op_parallelism_threads,
    get_intra_op_parallelism_threads=get_intra_op_parallelism_threads,
    set_inter_op_parallelism_threads=set_inter_op_parallelism_threads,
    get_inter_op_parallelism_threads=get_inter_op_parallelism_threads,
)
"""tf.config.threading."""
optimizer = SimpleNamespace(set_jit=set_jit)
"""tf.config.optimizer (graph optimizer settings; shendu has no graph)."""

__all__: list[str] = ["device"]  # the top-level tf.device; the rest is reached as tf.config.<name>

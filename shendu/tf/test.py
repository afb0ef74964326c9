"""tf.test: the GPU probes TensorFlow scripts print at start-up, answered from the devices shendu really uses."""

from __future__ import annotations

import importlib.util

from shendu.tf import config


def is_gpu_available(cuda_only: bool = False, min_cuda_compute_capability: tuple[int, int] | None = None) -> bool:
    """Whether shendu can compute on a GPU: CuPy sees a CUDA GPU (TensorFlow deprecates this probe for
    `tf.config.list_physical_devices('GPU')`, which says the same)."""
    return bool(config.list_physical_devices("GPU"))


def gpu_device_name() -> str:
    """The name of the first GPU ('/device:GPU:0'), or '' when there is none, as in TensorFlow."""
    gpus = config.list_logical_devices("GPU")
    return gpus[0].name if gpus else ""


def is_built_with_cuda() -> bool:
    """Whether shendu's CUDA backend is installed (CuPy, `pip install 'shendu[gpu]'`), GPU or not."""
    return importlib.util.find_spec("cupy") is not None


def is_built_with_gpu_support() -> bool:
    """The same as `is_built_with_cuda`: CUDA through CuPy is shendu's one GPU backend."""
    return is_built_with_cuda()


__all__ = ["gpu_device_name", "is_built_with_cuda", "is_built_with_gpu_support", "is_gpu_available"]

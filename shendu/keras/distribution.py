"""keras.distribution: data parallelism over the processes of an MPI job (shendu.distribute)."""

from shendu.distribute.keras_distribution import DataParallel, distribution, list_devices, set_distribution

__all__ = ["DataParallel", "distribution", "list_devices", "set_distribution"]

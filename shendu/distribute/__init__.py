"""Data-parallel training over the processes of an MPI job (`pip install 'shendu[dist]'`, `mpiexec -n 4 python
train.py` or `shendu launch -n 4 train.py`), with tf.distribute's and Keras 3's names. See docs/distributed.md."""

from shendu.distribute.communicator import DistributedError
from shendu.distribute.keras_distribution import DataParallel, distribution, list_devices, set_distribution
from shendu.distribute.strategy import (
    CommunicationOptions,
    InputContext,
    MirroredStrategy,
    MultiWorkerMirroredStrategy,
    ReduceOp,
    Strategy,
    get_strategy,
    has_strategy,
)

__all__ = [
    "CommunicationOptions", "DataParallel", "DistributedError", "InputContext", "MirroredStrategy",
    "MultiWorkerMirroredStrategy", "ReduceOp", "Strategy", "distribution", "get_strategy", "has_strategy",
    "list_devices", "set_distribution",
]

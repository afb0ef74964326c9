"""Callbacks with Keras's names: hooks into fit/evaluate/predict for logging, checkpoints and schedules."""

from shendu.callbacks.backup_and_restore import BackupAndRestore
from shendu.callbacks.callback import Callback, CallbackList
from shendu.callbacks.csv_logger import CSVLogger
from shendu.callbacks.early_stopping import EarlyStopping
from shendu.callbacks.history import History
from shendu.callbacks.lambda_callback import LambdaCallback
from shendu.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from shendu.callbacks.model_checkpoint import ModelCheckpoint
from shendu.callbacks.progbar_logger import ProgbarLogger
from shendu.callbacks.tensorboard import TensorBoard
from shendu.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
    "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "TensorBoard",
    "TerminateOnNaN",
]

"""tf.keras.utils."""

from shendu.random import set_random_seed
from shendu.saving import custom_object_scope, get_registered_name, get_registered_object, register_keras_serializable
from shendu.utils import (
    Progbar,
    get_file,
    normalize,
    pad_sequences,
    plot_history,
    plot_images,
    timeseries_dataset_from_array,
    to_categorical,
)
from shendu.utils.dataset_from_directory import text_dataset_from_directory
from shendu.utils.image_dataset import image_dataset_from_directory

__all__ = [
    "Progbar", "custom_object_scope", "get_file", "get_registered_name", "get_registered_object",
    "image_dataset_from_directory", "normalize", "text_dataset_from_directory",
    "pad_sequences", "plot_history", "plot_images", "register_keras_serializable", "set_random_seed",
    "timeseries_dataset_from_array", "to_categorical",
]

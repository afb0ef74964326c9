"""tf.keras.utils."""

from shendu.layers.feature_space import FeatureSpace
from shendu.random import set_random_seed
from shendu.saving import custom_object_scope, get_registered_name, get_registered_object, register_keras_serializable
from shendu.utils import (
    Progbar,
    get_file,
    normalize,
    pad_sequences,
    plot_history,
    plot_images,
    split_dataset,
    timeseries_dataset_from_array,
    to_categorical,
)
from shendu.utils.dataset_from_directory import text_dataset_from_directory
from shendu.utils.image_dataset import image_dataset_from_directory
from shendu.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from shendu.utils.plot_model import model_to_dot, plot_model

__all__ = [
    "FeatureSpace", "Progbar", "custom_object_scope", "get_file", "get_registered_name", "get_registered_object",
    "image_dataset_from_directory", "normalize", "text_dataset_from_directory", "array_to_img", "img_to_array",
    "load_img", "save_img", "model_to_dot", "plot_model",
    "pad_sequences", "plot_history", "plot_images", "register_keras_serializable", "set_random_seed", "split_dataset",
    "timeseries_dataset_from_array", "to_categorical",
]

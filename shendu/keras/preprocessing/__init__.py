"""tf.keras.preprocessing: the Keras 2 paths that tutorials still import from."""

from shendu.keras.preprocessing import image, sequence
from shendu.utils.dataset_from_directory import text_dataset_from_directory
from shendu.utils.image_dataset import image_dataset_from_directory
from shendu.utils.timeseries import timeseries_dataset_from_array

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]

"""tf.keras.preprocessing.image: ImageDataGenerator, its iterators and transforms, and the image file helpers."""

from shendu.utils.image_dataset import image_dataset_from_directory
from shendu.utils.image_generator import ImageDataGenerator
from shendu.utils.image_iterators import DirectoryIterator, Iterator, NumpyArrayIterator
from shendu.utils.image_transform import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    flip_axis,
)
from shendu.utils.image_utils import array_to_img, img_to_array, load_img, save_img

__all__ = [
    "DirectoryIterator", "ImageDataGenerator", "Iterator", "NumpyArrayIterator", "apply_affine_transform",
    "apply_brightness_shift", "apply_channel_shift", "array_to_img", "flip_axis", "image_dataset_from_directory",
    "img_to_array", "load_img", "save_img",
]

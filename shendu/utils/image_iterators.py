"""The batch iterators of ImageDataGenerator: over arrays (flow) and over a folder of class subfolders
(flow_from_directory). Each is a Keras Sequence (len() batches, [i], on_epoch_end reshuffles) that model.fit takes,
and also an endless iterator (next(it), for x, y in it) as in Keras.
"""

from __future__ import annotations

import os
from collections.abc import Iterator as IteratorABC
from typing import Any

import numpy as np

from shendu import backend
from shendu import random as sd_random
from shendu.utils.image_utils import COLOR_MODES, img_to_array, load_img

IMAGE_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")
CLASS_MODES = ("categorical", "binary", "sparse", "input", None)


class Iterator:
    """Batches of n samples in a shuffled (or fixed) order; subclasses build a batch from its sample indices."""

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"{type(self).__name__}: batch_size must be a positive integer; got {batch_size!r}")
        self.n, self.batch_size, self.shuffle, self.seed = n, int(batch_size), shuffle, seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array: np.ndarray | None = None
        self._rng = np.random.default_rng(seed) if seed is not None else sd_random.generator()

    def _set_index_array(self) -> None:
        self.index_array = self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, idx: int) -> Any:
        if not 0 <= idx < len(self):
            raise IndexError(f"{type(self).__name__}: asked for batch {idx}, but there are {len(self)} batches")
        if self.index_array is None:
            self._set_index_array()
        self.total_batches_seen += 1
        return self._batch(self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)])

    def on_epoch_end(self) -> None:
        """A new order for the next epoch (when shuffling)."""
        self._set_index_array()

    def reset(self) -> None:
        """Start next() over from the first batch of a new order."""
        self.batch_index = 0

    def __iter__(self) -> IteratorABC:
        return self

    def __next__(self) -> Any:
        """The next batch, endlessly: a new order starts after the last batch of each pass (as Keras)."""
        if self.batch_index == 0:
            self._set_index_array()
        start = self.batch_index * self.batch_size
        self.batch_index = self.batch_index + 1 if start + self.batch_size < self.n else 0
        self.total_batches_seen += 1
        return self._batch(self.index_array[start:start + self.batch_size])

    next = __next__

    def _batch(self, index_array: np.ndarray) -> Any:
        raise NotImplementedError

    def _transformed(self, x: np.ndarray) -> np.ndarray:
        """One sample through the generator's random transform and standardization."""
        gen = self.image_data_generator
        params = gen.get_random_transform(x.shape, rng=self._rng)
        return gen.standardize(gen.apply_transform(x, params))


class NumpyArrayIterator(Iterator):
    """Batches (x, y[, sample_weight]) or x of augmented images from a rank-4 array (what ImageDataGenerator.flow
    returns); subset takes the validation part (the first validation_split of the samples) or the rest."""

    def __init__(self, x: Any, y: Any, image_data_generator: Any, batch_size: int = 32, shuffle: bool = False,
                 sample_weight: Any = None, seed: int | None = None, data_format: str | None = None,
                 subset: str | None = None, ignore_class_split: bool = False, dtype: Any = None) -> None:
        self.dtype = np.dtype(dtype or backend.floatx())
        x = np.asarray(x)
        for name, other in (("y (labels)", y), ("sample_weight", sample_weight)):
            if other is not None and len(other) != len(x):
                raise ValueError(f"ImageDataGenerator.flow: x (images) and {name} should have the same length; "
                                 f"found x.shape = {x.shape}, {name.split()[0]}.shape = {np.shape(other)}")
        y = None if y is None else np.asarray(y)
        sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f'ImageDataGenerator.flow: subset must be "training" or "validation"; got {subset!r}')
            cut = int(len(x) * image_data_generator._validation_split)
            if (y is not None and not ignore_class_split
                    and not np.array_equal(np.unique(y[:cut]), np.unique(y[cut:]))):
                raise ValueError("ImageDataGenerator.flow: training and validation subsets have different classes "
                                 "after the split. If your arrays are sorted by label, shuffle them first (or pass "
                                 "ignore_class_split=True).")
            part = slice(None, cut) if subset == "validation" else slice(cut, None)
            x = x[part]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else sample_weight[part]
        if x.ndim != 4:
            raise ValueError(f"ImageDataGenerator.flow: x should have rank 4 (samples, height, width, channels); "
                             f"got an array of shape {x.shape}")
        self.x, self.y, self.sample_weight = x.astype(self.dtype, copy=False), y, sample_weight
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        super().__init__(len(x), batch_size, shuffle, seed)

    def _batch(self, index_array: np.ndarray) -> Any:
        batch_x = np.stack([self._transformed(self.x[j].copy()) for j in index_array]).astype(self.dtype, copy=False)
        if self.y is None:
            return batch_x
        if self.sample_weight is None:
            return batch_x, self.y[index_array]
        return batch_x, self.y[index_array], self.sample_weight[index_array]


class DirectoryIterator(Iterator):
    """Batches of augmented images read from directory/<class>/... image files (flow_from_directory); classes are
    the sorted subfolder names unless given, labels follow class_mode as in Keras."""

    def __init__(self, directory: str | os.PathLike, image_data_generator: Any,
                 target_size: tuple[int, int] = (256, 256), color_mode: str = "rgb", classes: list[str] | None = None,
                 class_mode: str | None = "categorical", batch_size: int = 32, shuffle: bool = True,
                 seed: int | None = None, data_format: str | None = None, follow_links: bool = False,
                 subset: str | None = None, interpolation: str = "nearest", keep_aspect_ratio: bool = False,
                 dtype: Any = None) -> None:
        where = "ImageDataGenerator.flow_from_directory"
        if color_mode not in COLOR_MODES:
            raise ValueError(f'{where}: color_mode must be "rgb", "rgba" or "grayscale"; got {color_mode!r}')
        if class_mode not in CLASS_MODES:
            raise ValueError(f"{where}: class_mode must be one of {CLASS_MODES}; got {class_mode!r}")
        if subset not in (None, "training", "validation"):
            raise ValueError(f'{where}: subset must be "training" or "validation"; got {subset!r}')
        self.directory = os.fspath(directory)
        if not os.path.isdir(self.directory):
            raise FileNotFoundError(f"{where}: no directory at {self.directory}")
        self.image_data_generator = image_data_generator
        self.target_size, self.color_mode, self.class_mode = tuple(target_size), color_mode, class_mode
        self.data_format, self.interpolation, self.keep_aspect_ratio = data_format, interpolation, keep_aspect_ratio
        self.dtype = np.dtype(dtype or backend.floatx())
        if not classes:
            classes = sorted(d for d in os.listdir(self.directory) if os.path.isdir(os.path.join(self.directory, d)))
        self.num_classes = len(classes)
        self.class_indices = {name: i for i, name in enumerate(classes)}
        split = image_data_generator._validation_split if subset else 0.0
        self.filenames: list[str] = []
        labels = []
        for name in classes:
            files = _image_files(os.path.join(self.directory, name), follow_links)
            cut = int(split * len(files))
            files = files[:cut] if subset == "validation" else files[cut:]
            self.filenames += [os.path.join(name, f) for f in files]
            labels += [self.class_indices[name]] * len(files)
        self.classes = np.array(labels, dtype=np.int32)
        self.samples = len(self.filenames)
        self.filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def labels(self) -> np.ndarray:
        return self.classes

    def _batch(self, index_array: np.ndarray) -> Any:
        images = []
        for j in index_array:
            img = load_img(self.filepaths[j], color_mode=self.color_mode, target_size=self.target_size,
                           interpolation=self.interpolation, keep_aspect_ratio=self.keep_aspect_ratio)
            images.append(self._transformed(img_to_array(img, data_format=self.data_format, dtype=self.dtype)))
        batch_x = np.stack(images).astype(self.dtype, copy=False)
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        if self.class_mode in ("binary", "sparse"):
            return batch_x, self.classes[index_array].astype(self.dtype)
        if self.class_mode == "categorical":
            return batch_x, np.eye(self.num_classes, dtype=self.dtype)[self.classes[index_array]]
        return batch_x


def _image_files(folder: str, follow_links: bool) -> list[str]:
    """The image files under folder (recursively, sorted as Keras walks them), relative to it."""
    found = []
    for root, _, files in sorted(os.walk(folder, followlinks=follow_links), key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(IMAGE_FORMATS):
                found.append(os.path.relpath(os.path.join(root, name), folder))
    return found

"""Keras's *_dataset_from_directory: a folder of class subfolders as a Dataset of (data, label) batches.

The file list is made once (class subfolders in alphanumeric order, or `class_names`' order; files sorted, then
shuffled with `seed`); each batch of paths is read when the pipeline reaches it, on the prefetch thread. This module
holds the indexing, the validation split and the labels shared by `text_dataset_from_directory` and
`image_dataset_from_directory` (in `image_dataset.py`), and the text reader itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import random
from shendu.data import AUTOTUNE, Dataset

LABEL_MODES = ("int", "categorical", "binary", None)


def check_arguments(where: str, labels: Any, label_mode: str | None, class_names: list[str] | None,
                    validation_split: float | None, subset: str | None, shuffle: bool, seed: int | None) -> None:
    """Keras's argument errors, naming the function."""
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple, np.ndarray)):
        raise ValueError(f"{where}: labels must be 'inferred', None, or a list/tuple of integer labels (one per "
                         f"file, in the alphanumeric order of the file paths); got {labels!r}")
    if class_names is not None and labels != "inferred":
        raise ValueError(f"{where}: class_names can only be given with labels='inferred'")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"{where}: label_mode must be one of {LABEL_MODES}, got {label_mode!r}")
    if validation_split is not None and validation_split != 0 and not 0 < validation_split < 1:
        raise ValueError(f"{where}: validation_split must be between 0 and 1, got {validation_split}")
    if bool(validation_split) != bool(subset):
        raise ValueError(f"{where}: if subset is set, validation_split must be set, and inversely")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f"{where}: subset must be 'training', 'validation' or 'both', got {subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(f"{where}: with validation_split and shuffle=True, give a seed so that the training and "
                         "validation subsets do not overlap")


def _class_folders(directory: str, class_names: list[str] | None, where: str) -> list[str]:
    folders = sorted(d for d in os.listdir(directory)
                     if os.path.isdir(os.path.join(directory, d)) and not d.startswith("."))
    if class_names is None:
        return folders
    if not set(class_names) <= set(folders):
        raise ValueError(f"{where}: class_names {list(class_names)} are not subfolders of {directory} "
                         f"(found: {folders})")
    return list(class_names)


def _files_under(folder: str, formats: tuple[str, ...], follow_links: bool) -> list[str]:
    """Files with an allowed extension anywhere under folder, sorted by folder then name."""
    found = []
    for root, _, files in sorted(os.walk(folder, followlinks=follow_links), key=lambda entry: entry[0]):
        found.extend(os.path.join(root, name) for name in sorted(files) if name.lower().endswith(formats))
    return found


def index_directory(directory: str, labels: Any, formats: tuple[str, ...], class_names: list[str] | None,
                    shuffle: bool, seed: int | None, follow_links: bool, where: str,
                    verbose: bool = True) -> tuple[list[str], np.ndarray | None, list[Any] | None]:
    """(file paths, integer labels or None, class names or None), shuffled with `seed` when shuffle."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{where}: {directory} is not a directory")
    if labels == "inferred":
        class_names = _class_folders(directory, class_names, where)
        per_class = [_files_under(os.path.join(directory, c), formats, follow_links) for c in class_names]
        paths = [p for files in per_class for p in files]
        label_array = np.repeat(np.arange(len(class_names), dtype=np.int32), [len(f) for f in per_class])
    else:
        paths = _files_under(directory, formats, follow_links)
        label_array = None if labels is None else np.asarray(labels, dtype=np.int32)
        if label_array is not None and len(label_array) != len(paths):
            raise ValueError(f"{where}: {len(label_array)} labels given, but {len(paths)} files found in {directory}")
        class_names = None if label_array is None else sorted(set(label_array.tolist()))
    if verbose:
        classes = "" if class_names is None else f" belonging to {len(class_names)} classes"
        print(f"Found {len(paths)} files{classes}.")
    if shuffle:
        seed = int(random.generator().integers(1_000_000)) if seed is None else seed
        order = np.random.RandomState(seed).permutation(len(paths))
        paths = [paths[i] for i in order]
        label_array = None if label_array is None else label_array[order]
    return paths, label_array, class_names


def split(paths: list[str], labels: np.ndarray | None, validation_split: float | None, subset: str,
          verbose: bool = True) -> tuple[list[str], np.ndarray | None]:
    """The training part (all but the last validation_split fraction) or the validation part."""
    if not validation_split:
        return paths, labels
    n_val = int(validation_split * len(paths))
    cut = len(paths) - n_val
    if subset == "training":
        if verbose:
            print(f"Using {cut} files for training.")
        return paths[:cut], None if labels is None else labels[:cut]
    if verbose:
        print(f"Using {n_val} files for validation.")
    return paths[cut:], None if labels is None else labels[cut:]


def encode_labels(labels: np.ndarray, label_mode: str, num_classes: int, where: str) -> np.ndarray:
    """int32 indices ('int'), float32 one-hot rows ('categorical') or float32 (n, 1) zeros and ones ('binary')."""
    if label_mode == "binary":
        if num_classes != 2:
            raise ValueError(f"{where}: label_mode='binary' needs exactly 2 classes, found {num_classes}")
        return labels.astype(np.float32)[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[labels]
    return labels


def build(paths: list[str], labels: np.ndarray | None, label_mode: str | None, num_classes: int,
          load: Callable[[np.ndarray], np.ndarray], batch_size: int | None, shuffle: bool, seed: int | None,
          shuffle_each_epoch: bool, where: str) -> Dataset:
    """The Dataset of one subset: slices of (paths, labels), shuffled per epoch, batched, read by `load`."""
    path_array = np.empty(len(paths), dtype=object)
    path_array[:] = paths
    with_labels = labels is not None and label_mode is not None
    data = (path_array, encode_labels(labels, label_mode, num_classes, where)) if with_labels else path_array
    ds = Dataset.from_tensor_slices(data)
    if shuffle and shuffle_each_epoch:
        ds = ds.shuffle(batch_size * 8 if batch_size is not None else 1024, seed=seed)
    if batch_size is not None:
        ds = ds.batch(batch_size)

    def read(batch_paths: Any, batch_labels: Any = None) -> Any:
        items = np.asarray(batch_paths)
        loaded = _gathered([load(p) for p in items.ravel()], items.shape)
        return loaded if batch_labels is None else (loaded, batch_labels)

    return ds.map(read).prefetch(AUTOTUNE)


def _gathered(values: list[Any], shape: tuple[int, ...]) -> np.ndarray:
    """What `load` read for a batch of paths (or one path, shape ()) as one array: texts as an object array."""
    if isinstance(values[0], bytes):
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out.reshape(shape)
    return np.stack(values) if shape else values[0]


def from_directory(where: str, directory: Any, labels: Any, label_mode: str | None, class_names: list[str] | None,
                   batch_size: int | None, shuffle: bool, seed: int | None, validation_split: float | None,
                   subset: str | None, follow_links: bool, verbose: bool, formats: tuple[str, ...],
                   load: Callable[[Any], np.ndarray], kind: str) -> Dataset | list[Dataset]:
    """The shared body of the *_dataset_from_directory functions; `load` reads one file."""
    check_arguments(where, labels, label_mode, class_names, validation_split, subset, shuffle, seed)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if batch_size is not None and (isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1):
        raise ValueError(f"{where}: batch_size must be a positive integer or None, got {batch_size!r}")
    seed = int(random.generator().integers(1_000_000)) if seed is None and shuffle else seed
    paths, label_array, names = index_directory(os.fspath(directory), labels, formats, class_names, shuffle, seed,
                                                follow_links, where, verbose)
    num_classes = len(names) if names is not None else 0
    subsets = ["training", "validation"] if subset == "both" else [subset]
    datasets = []
    for part in subsets:
        part_paths, part_labels = split(paths, label_array, validation_split, part, verbose)
        if not part_paths:
            name = f"{part} " if subset == "both" else ""
            raise ValueError(f"{where}: no {name}{kind} found in directory {directory}; allowed formats: "
                             f"{', '.join(formats)}")
        ds = build(part_paths, part_labels, label_mode, num_classes, load, batch_size, shuffle, seed,
                   part != "validation" or subset != "both", where)
        ds.class_names = names
        ds.file_paths = part_paths
        datasets.append(ds)
    return datasets if subset == "both" else datasets[0]


def _read_text(max_length: int | None) -> Callable[[Any], bytes]:
    def load(path: Any) -> bytes:
        with open(path, "rb") as f:
            data = f.read()
        return data if max_length is None else data[:max_length]
    return load


def text_dataset_from_directory(directory: Any, labels: Any = "inferred", label_mode: str | None = "int",
                                class_names: list[str] | None = None, batch_size: int | None = 32,
                                max_length: int | None = None, shuffle: bool = True, seed: int | None = None,
                                validation_split: float | None = None, subset: str | None = None,
                                follow_links: bool = False, verbose: bool = True) -> Dataset | list[Dataset]:
    """(texts, labels) batches from `directory/<class>/*.txt`: texts as string tensors (bytes, cut to max_length
    bytes), labels as label_mode says. subset='both' gives [training, validation]."""
    where = "text_dataset_from_directory"
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or
                                   max_length < 0):
        raise ValueError(f"{where}: max_length must be a non-negative integer or None, got {max_length!r}")
    return from_directory(where, directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                          validation_split, subset, follow_links, verbose, (".txt",), _read_text(max_length),
                          "text files")

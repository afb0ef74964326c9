"""Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale images of clothing in 10 classes (Keras's loader).

The data comes as the four gzipped IDX files Zalando publishes; each is found like every shendu dataset file
($SHENDU_DATA_DIR, the cache, then a hash-checked download) and parsed from its IDX header, without pickle.
"""

from __future__ import annotations

import gzip

import numpy as np

from shendu.datasets._fetch import READ_ERRORS, InvalidDatasetFileError, Mirror, corrupted, locate

_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_ZALANDO = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# The sha256 of each file (Zalando's md5s are 8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd...).
FILES = {
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}
MIRRORS = {name: (Mirror(_KERAS + name, sha), Mirror(_ZALANDO + name, sha)) for name, sha in FILES.items()}
SUBDIR = "fashion-mnist"  # the cache folder: MNIST's raw files have the same four names
NUM_CLASSES = 10
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")
_LABELS_MAGIC, _IMAGES_MAGIC = 2049, 2051  # IDX: 0x0000 0x08 (unsigned byte) 0x01 or 0x03 (number of dimensions)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((x_train, y_train), (x_test, y_test)) as uint8 arrays of shapes (60000, 28, 28), (60000,), (10000, 28, 28),
    (10000,); labels 0-9 name CLASS_NAMES.

    Each of the four files is looked for in $SHENDU_DATA_DIR/fashion-mnist, then $SHENDU_DATA_DIR, then in the cache
    (~/.shendu/datasets/fashion-mnist, or $SHENDU_CACHE_DIR/datasets/fashion-mnist), then downloaded there from
    MIRRORS with its sha256 checked. A file the user provides is checked by its content (IDX header, sizes, labels
    in 0-9).
    """
    splits = []
    for prefix in ("train", "t10k"):
        labels = read_idx(_locate(f"{prefix}-labels-idx1-ubyte.gz"), _LABELS_MAGIC, ())
        images_path = _locate(f"{prefix}-images-idx3-ubyte.gz")
        images = read_idx(images_path, _IMAGES_MAGIC, (28, 28))
        if len(images) != len(labels):
            raise InvalidDatasetFileError(f"{images_path} holds {len(images)} images but its labels file holds "
                                          f"{len(labels)} labels")
        if labels.size and labels.max() >= NUM_CLASSES:
            raise InvalidDatasetFileError(f"fashion_mnist: the {prefix} labels hold label {labels.max()}; "
                                          "Fashion-MNIST labels are 0-9")
        splits.append((images, labels))
    return splits[0], splits[1]


def _locate(fname: str) -> str:
    return locate(fname, MIRRORS[fname], "fashion_mnist.load_data", SUBDIR).path


def read_idx(path: str, magic: int, item_shape: tuple[int, ...]) -> np.ndarray:
    """The uint8 array of a gzipped IDX file: big-endian int32 magic, one int32 size per axis, then the bytes.

    Checks the magic number, the item shape and that the payload holds exactly the declared number of items.
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except READ_ERRORS as error:
        raise corrupted(path, "gzip file", error) from error
    ndim = 1 + len(item_shape)
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise InvalidDatasetFileError(f"{path}: {len(raw)} bytes is shorter than an IDX header ({header} bytes): "
                                      "truncated or corrupted")
    found_magic, *dims = (int(v) for v in np.frombuffer(raw, ">i4", count=1 + ndim))
    if found_magic != magic:
        raise InvalidDatasetFileError(f"{path}: IDX magic number {found_magic}; expected {magic} (uint8 data of "
                                      f"{ndim} dimension{'s' if ndim > 1 else ''})")
    if tuple(dims[1:]) != item_shape:
        raise InvalidDatasetFileError(f"{path}: items of shape {tuple(dims[1:])}; expected {item_shape}")
    expected = dims[0] * int(np.prod(item_shape))
    if len(raw) - header != expected:
        raise InvalidDatasetFileError(f"{path}: the header announces {dims[0]} items ({expected} bytes) but "
                                      f"{len(raw) - header} bytes follow it (truncated or corrupted)")
    return np.frombuffer(bytearray(raw), np.uint8, offset=header).reshape(dims[0], *item_shape)

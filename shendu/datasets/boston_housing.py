"""Boston Housing: 506 districts of the 1970s Boston suburbs, 13 attributes each, median house value in k$ (Keras's
loader). Keras warns of an ethical problem with its "B" attribute; california_housing is the suggested replacement.
"""

from __future__ import annotations

from shendu.datasets._fetch import Mirror, locate
from shendu.datasets._regression import ArrayPair, check_test_split, read_xy, split

MIRRORS = (Mirror("https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz",
                  "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"),)
FEATURES = 13


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2,
              seed: int = 113) -> tuple[ArrayPair, ArrayPair]:
    """((x_train, y_train), (x_test, y_test)): x of shape (n, 13), y (n,), shuffled with RandomState(seed) and the
    last test_split kept for test, as Keras does. The file is found like mnist.npz."""
    check_test_split("boston_housing.load_data", test_split)
    x, y = read_xy(locate(path, MIRRORS, "boston_housing.load_data"), FEATURES)
    return split(x, y, test_split, seed)

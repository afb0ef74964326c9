"""California Housing: 20,640 block groups of the 1990 U.S. census, 8 features each, median house value in dollars
(Keras's loader); version="small" keeps the first 600 as a stand-in for boston_housing.
"""

from __future__ import annotations

from shendu.datasets._fetch import Mirror, locate
from shendu.datasets._regression import ArrayPair, check_test_split, read_xy, split

MIRRORS = (Mirror("https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz",
                  "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"),)
FEATURES = 8
FEATURE_NAMES = ("MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude")
SMALL = 600


def load_data(version: str = "large", path: str = "california_housing.npz", test_split: float = 0.2,
              seed: int = 113) -> tuple[ArrayPair, ArrayPair]:
    """((x_train, y_train), (x_test, y_test)): x of shape (n, 8), y (n,); "small" keeps the first 600 samples, then
    they are shuffled with RandomState(seed) and the last test_split kept for test, as Keras does."""
    check_test_split("california_housing.load_data", test_split)
    if version not in ("small", "large"):
        raise ValueError(f"california_housing.load_data: version must be 'small' or 'large'; got {version!r}")
    x, y = read_xy(locate(path, MIRRORS, "california_housing.load_data"), FEATURES)
    if version == "small":
        x, y = x[:SMALL], y[:SMALL]
    return split(x, y, test_split, seed)

"""Training curves and image grids with matplotlib, an optional extra (`pip install shendu[plot]`).

With a path the figure is drawn off screen on the Agg canvas and written there (no window, nothing left in pyplot);
without one it is a pyplot figure, for `plt.show()` or a notebook. Both functions return the Figure.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

_LOG_SCALED = ("learning_rate", "lr")


def _new_figure(who: str, figsize: tuple[float, float], path: str | os.PathLike | None) -> Any:
    """A constrained-layout Figure: on an Agg canvas when it is to be written to a file, else from pyplot."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(f"{who} needs matplotlib, which is not installed: pip install shendu[plot] "
                          "(or pip install matplotlib)") from error
    if path is None:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize, layout="constrained")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: str | os.PathLike | None) -> None:
    if path is not None:
        figure.savefig(os.fspath(path), dpi=100)


def plot_history(history: Any, path: str | os.PathLike | None = None) -> Any:
    """Loss and metric curves per epoch, one panel per metric, training and validation ('val_' + name) together.

    history: what `fit` returns (a History) or its `.history` dict. A learning rate in the logs gets its own panel
    on a log scale, without a legend. Writes a PNG (or any format matplotlib knows from the suffix) to path when given.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs:
        raise ValueError(f"plot_history: expected a History or a non-empty dict of per-epoch values, got {history!r}")
    names = [k for k in logs if not k.startswith("val_")]
    names += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in logs]
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    figure = _new_figure("plot_history", (4.5 * ncols, 3.4 * nrows), path)
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    epochs = max(len(np.ravel(v)) for v in logs.values())
    for ax, name in zip(axes, names):
        for key, label, style in ((name, "train", "o-"), (f"val_{name}", "validation", "s--")):
            values = np.asarray(logs.get(key, []), dtype=float).ravel()
            if values.size:
                ax.plot(np.arange(1, values.size + 1), values, style, label=label, markersize=4)
        if epochs <= 12:
            ax.set_xticks(range(1, epochs + 1))
        else:
            ax.xaxis.get_major_locator().set_params(integer=True)
        if name in _LOG_SCALED:
            ax.set_yscale("log")
        else:
            ax.legend()
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    _save(figure, path)
    return figure


def _classes(values: Any, n: int, what: str) -> np.ndarray | None:
    """Class indices from labels or predictions: (n,), (n, 1), or one-hot/probabilities (n, k) -> argmax."""
    if values is None:
        return None
    arr = np.asarray(values)
    if arr.ndim == 2:
        arr = arr[:, 0] if arr.shape[1] == 1 else arr.argmax(axis=1)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"plot_images: {what} must be one class per image ({n} images), or one row of scores per "
                         f"image; got shape {np.shape(values)}")
    return arr


def _as_images(images: Any) -> tuple[np.ndarray, float]:
    """(n, h, w) or (n, h, w, 3|4) pixels and the value that is white: 255 for integers or floats above 1, else 1."""
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 3 or (arr.ndim == 4 and arr.shape[-1] in (3, 4))):
        raise ValueError("plot_images: expected images of shape (n, height, width), (n, height, width, 1) or "
                         f"(n, height, width, 3), got {arr.shape}")
    white = 255.0 if arr.dtype.kind in "ui" or (arr.size and float(arr.max()) > 1.0) else 1.0
    return arr, white


def plot_images(images: Any, labels: Any = None, predictions: Any = None, path: str | os.PathLike | None = None,
                ncols: int = 8, class_names: Sequence[str] | None = None) -> Any:
    """A grid of images titled "label / prediction"; a wrong prediction's title is red.

    labels and predictions: class indices, or one-hot rows / predicted probabilities (their argmax is taken);
    class_names turns indices into names. Pixels are 0-1 floats or 0-255. Writes the figure to path when given.
    """
    pixels, white = _as_images(images)
    n = len(pixels)
    if n == 0:
        raise ValueError("plot_images: no images to plot")
    truth = _classes(labels, n, "labels")
    guess = _classes(predictions, n, "predictions")

    def name(index: Any) -> str:
        return str(class_names[int(index)]) if class_names is not None else str(index)

    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    figure = _new_figure("plot_images", (1.5 * ncols, 1.7 * nrows), path)
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= n:
            continue
        image = pixels[i].astype(np.float32) / white
        ax.imshow(np.clip(image, 0.0, 1.0), cmap="gray" if image.ndim == 2 else None, vmin=0.0, vmax=1.0)
        parts = [name(v[i]) for v in (truth, guess) if v is not None]
        wrong = truth is not None and guess is not None and truth[i] != guess[i]
        if parts:
            ax.set_title(" / ".join(parts), color="red" if wrong else "black", fontsize=9)
    _save(figure, path)
    return figure

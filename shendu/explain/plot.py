"""Attributions drawn for people: heatmaps over the input images (one row per sample, one column per method) and
tokens coloured by their scores, as PNG (matplotlib, the `plot` extra) or, for tokens, HTML (no extra needed)."""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shendu.saving.file_utils import atomic_write

SIGNS = ("absolute_value", "all", "positive", "negative")


def _figure(who: str, figsize: tuple[float, float], layout: str | None = "constrained") -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"{who} needs matplotlib: pip install 'shendu[plot]'") from None
    figure = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def _write(figure: Any, path: str | os.PathLike | None, dpi: int) -> None:
    if path is not None:
        suffix = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
        with atomic_write(path) as tmp:
            figure.savefig(tmp, format=suffix, dpi=dpi)


def normalize(attribution: np.ndarray, sign: str = "absolute_value", outlier_percent: float = 2.0) -> np.ndarray:
    """One map per sample scaled to [0, 1] ([-1, 1] for sign='all'), channels summed, the top `outlier_percent`
    of magnitudes clipped so that one extreme pixel does not wash out the rest (Captum's `visualize_image_attr`)."""
    if sign not in SIGNS:
        raise ValueError(f"plot_attributions: sign must be one of {SIGNS}, got {sign!r}")
    a = np.asarray(attribution, dtype=np.float64)
    a = {"absolute_value": np.abs(a), "all": a, "positive": np.maximum(a, 0), "negative": np.maximum(-a, 0)}[sign]
    scale = np.percentile(np.abs(a), 100 - outlier_percent) if a.size else 0.0
    if scale <= 0:
        scale = np.abs(a).max() if a.size and np.abs(a).max() > 0 else 1.0
    return np.clip(a / scale, -1.0, 1.0)


def _image(x: np.ndarray) -> np.ndarray:
    """An image for imshow: (H, W) grey or (H, W, 3) colour, scaled to [0, 1]."""
    img = np.asarray(x, dtype=np.float64)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    lo, hi = img.min(), img.max()
    return (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)


def _map(a: np.ndarray, shape: tuple[int, int], who: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 3:
        a = a.sum(axis=-1)
    if a.shape != shape:
        raise ValueError(f"{who}: an attribution map of shape {a.shape} does not match the image's {shape}")
    return a


def plot_attributions(x: Any, attributions: Any, path: str | os.PathLike | None = None, *,
                      labels: Sequence[str] | None = None, sign: str = "absolute_value", cmap: str | None = None,
                      alpha: float = 0.55, outlier_percent: float = 2.0, size: float = 1.8, dpi: int = 80) -> Any:
    """Each image of x (batch, H, W[, C]) beside its attribution heatmaps drawn over it.

    attributions: an array (batch, H, W[, C]) or a dict {method name: array}, one column each (channels are summed;
    Grad-CAM's (batch, H, W) maps fit too). labels: one row title per image. sign: 'absolute_value' (default),
    'positive', 'negative', or 'all' (a blue-white-red scale around 0). Writes a PNG to path; returns the Figure.
    """
    who = "plot_attributions"
    images = np.asarray(x)
    if images.ndim == 4 and images.shape[-1] not in (1, 3):
        raise ValueError(f"{who}: images must be (batch, H, W), (batch, H, W, 1) or (batch, H, W, 3); got "
                         f"{images.shape}")
    if images.ndim not in (3, 4):
        raise ValueError(f"{who}: expected a batch of images (batch, H, W[, C]), got shape {images.shape}")
    methods = dict(attributions) if isinstance(attributions, Mapping) else {"attribution": attributions}
    n, shape = images.shape[0], images.shape[1:3]
    for name, a in methods.items():
        if len(a) != n:
            raise ValueError(f"{who}: '{name}' has {len(a)} maps for {n} images")
    if labels is not None and len(labels) != n:
        raise ValueError(f"{who}: got {len(labels)} labels for {n} images")
    cmap = cmap or ("bwr" if sign == "all" else "jet")
    figure = _figure(who, (size * (len(methods) + 1), size * n + 0.3))
    axes = figure.subplots(n, len(methods) + 1, squeeze=False)
    for i in range(n):
        img = _image(images[i])
        axes[i, 0].imshow(img, cmap="gray" if img.ndim == 2 else None)
        axes[i, 0].set_ylabel(labels[i] if labels is not None else "", fontsize=8)
        for j, (name, a) in enumerate(methods.items(), start=1):
            heat = normalize(_map(a[i], shape, who), sign, outlier_percent)
            axes[i, j].imshow(img, cmap="gray" if img.ndim == 2 else None)
            axes[i, j].imshow(heat, cmap=cmap, alpha=alpha, vmin=-1 if sign == "all" else 0, vmax=1)
            if i == 0:
                axes[i, j].set_title(name, fontsize=9)
        if i == 0:
            axes[i, 0].set_title("input", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    _write(figure, path, dpi)
    return figure


def _rows(tokens: Any, attributions: Any, who: str) -> list[tuple[list[str], np.ndarray]]:
    """(tokens, scores) per sentence; scores beyond a sentence's tokens (padding) are dropped."""
    sentences = [tokens] if tokens and isinstance(tokens[0], str) else list(tokens)
    scores = np.asarray(attributions, dtype=np.float64) if not isinstance(attributions, list) else attributions
    scores = [scores] if len(sentences) == 1 and np.ndim(scores) == 1 else list(scores)
    if len(scores) != len(sentences):
        raise ValueError(f"{who}: got {len(scores)} attribution rows for {len(sentences)} sentences")
    rows = []
    for words, s in zip(sentences, scores):
        s = np.asarray(s, dtype=np.float64).ravel()
        if len(s) < len(words):
            raise ValueError(f"{who}: {len(words)} tokens but only {len(s)} scores")
        rows.append(([str(w) for w in words], s[:len(words)]))
    return rows


def _rgba(score: float) -> tuple[float, float, float, float]:
    """Green for evidence for the target, red against, stronger with the magnitude (score in [-1, 1])."""
    return (0.1, 0.6, 0.1, abs(score) * 0.8) if score >= 0 else (0.85, 0.1, 0.1, abs(score) * 0.8)


def plot_token_attributions(tokens: Any, attributions: Any, path: str | os.PathLike | None = None, *,
                            labels: Sequence[str] | None = None) -> Any:
    """Tokens coloured by their attribution (green for, red against the target; scaled per sentence by its largest
    magnitude). tokens: a list of words or one list per sentence. A path ending in .html is written as HTML (no
    matplotlib needed) and the HTML text returned; otherwise a PNG is drawn and the Figure returned."""
    who = "plot_token_attributions"
    rows = _rows(tokens, attributions, who)
    if labels is not None and len(labels) != len(rows):
        raise ValueError(f"{who}: got {len(labels)} labels for {len(rows)} sentences")
    scaled = [(words, s / (np.abs(s).max() or 1.0)) for words, s in rows]
    if path is not None and os.fspath(path).lower().endswith((".html", ".htm")):
        lines = []
        for k, (words, s) in enumerate(scaled):
            spans = " ".join(f'<span title="{v:+.3f}" style="background: rgba({int(r * 255)},{int(g * 255)},'
                             f'{int(b * 255)},{a:.2f}); padding: 1px 2px">{html.escape(w)}</span>'
                             for w, v, (r, g, b, a) in zip(words, s, map(_rgba, s)))
            label = f"<b>{html.escape(labels[k])}</b> " if labels is not None else ""
            lines.append(f"<p>{label}{spans}</p>")
        text = "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n" + "\n".join(lines) + \
            "\n</body></html>\n"
        with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        return text
    return _token_png(scaled, labels, path)


def _token_png(rows: list[tuple[list[str], np.ndarray]], labels: Sequence[str] | None,
               path: str | os.PathLike | None) -> Any:
    """Tokens laid out left to right with coloured boxes, wrapped at the figure's width."""
    width, line = 9.0, 0.32
    lines_needed = sum(1 + sum(len(w) + 1 for w in words) // 95 + (labels is not None) for words, _ in rows)
    figure = _figure("plot_token_attributions", (width, line * lines_needed + 0.3), layout=None)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    renderer = figure.canvas.get_renderer()
    height_px = figure.get_figheight() * figure.dpi
    y = height_px - 0.6 * line * figure.dpi
    for k, (words, s) in enumerate(rows):
        x = 6.0
        if labels is not None:
            ax.text(x, y, labels[k], fontsize=9, weight="bold", transform=None, va="center")
            y -= line * figure.dpi
        for w, v in zip(words, s):
            t = ax.text(x, y, w, fontsize=9, transform=None, va="center",
                        bbox={"facecolor": _rgba(v), "edgecolor": "none", "pad": 1.5})
            extent = t.get_window_extent(renderer)
            if extent.x1 > width * figure.dpi - 6 and x > 6:
                x, y = 6.0, y - line * figure.dpi
                t.set_position((x, y))
                extent = t.get_window_extent(renderer)
            x = extent.x1 + 5
        y -= line * figure.dpi * 1.15
    _write(figure, path, int(figure.dpi))
    return figure

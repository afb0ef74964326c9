"""Helpers for the docs' executed examples: quote the library's source, embed a figure, seed everything.

A chapter prints `source(...)` from an ```python exec="on"``` block to quote the code that computes a formula
(read from the installed package at build time, so the text cannot drift from the code), and `figure(fig, alt)`
from a block with `html="on"` to show a matplotlib figure drawn at build time.
"""

from __future__ import annotations

import base64
import html
import importlib
import inspect
import io
import random
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _resolve(name: str) -> Any:
    """The object a dotted name refers to: the longest importable module prefix, then attributes."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"source: cannot import any prefix of {name!r}")


def source(obj: Any, title: str | None = None) -> str:
    """Markdown of obj's current source (an object or a dotted name) in a fenced python block, captioned with its
    file and first line."""
    target = _resolve(obj) if isinstance(obj, str) else obj
    target = inspect.unwrap(target)
    code = textwrap.dedent(inspect.getsource(target)).rstrip()
    lines, first = inspect.getsourcelines(target)
    path = Path(inspect.getsourcefile(target) or "?").resolve()
    try:
        path_text = path.relative_to(ROOT).as_posix()
    except ValueError:
        path_text = path.name
    caption = title or getattr(target, "__qualname__", str(obj))
    last = first + len(lines) - 1
    return f'```python title="{caption} — {path_text}, lines {first}-{last}"\n{code}\n```\n'


def figure(fig: Any, alt: str, dpi: int = 90) -> str:
    """An <img> of the matplotlib figure as an inline base64 PNG; the figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="shendu-figure" alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{data}">'


def seed_everything(seed: int = 0) -> None:
    """Seed shendu, NumPy's global generator and Python's `random`, so that each page builds the same way."""
    random.seed(seed)
    np.random.seed(seed)
    from shendu.random import set_random_seed

    set_random_seed(seed)

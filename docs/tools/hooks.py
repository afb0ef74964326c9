"""MkDocs hooks: make `shendu_docs` and the package importable by the executed blocks, headless and seeded."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent.parent


def on_startup(command: str, dirty: bool = False) -> None:
    """Before the build: docs/tools and the repository on sys.path, matplotlib without a display, one seed."""
    for path in (str(TOOLS), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    import matplotlib

    matplotlib.use("Agg")
    from shendu_docs import seed_everything

    seed_everything(0)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Reseed before each page so that a page's executed examples give the same output in every build."""
    from shendu_docs import seed_everything

    seed_everything(0)
    return markdown

"""A griffe extension for the API pages: shendu's docstrings write formulas in plain text (`rho*v + (1-rho)*g**2`),
so their `*` are escaped outside code spans, lest Markdown read them as emphasis."""

from __future__ import annotations

import re
from typing import Any

import griffe

_CODE_OR_STAR = re.compile(r"(`+)(.+?)\1|\*")
_FENCE = re.compile(r"^\s*(```|~~~)")


def escape_stars(text: str) -> str:
    """text with every `*` outside code (backtick spans, fenced blocks, `>>>` examples) escaped as `\\*`."""
    lines, fenced = text.split("\n"), False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and not line.lstrip().startswith((">>>", "...")):
            lines[i] = _CODE_OR_STAR.sub(lambda m: m.group(0) if m.group(1) else r"\*", line)
    return "\n".join(lines)


class FormulaDocstrings(griffe.Extension):
    """Escape the asterisks of each object's docstring once it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = escape_stars(obj.docstring.value)

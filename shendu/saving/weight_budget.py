"""A cap on the weights a model being loaded may create: the elements its weights file holds.

`load_model` builds the model from its config inside `weight_budget(n, source)`; `Layer.add_weight` calls
`charge` before allocating, so a config implying more parameters than the file holds (say `Dense(50_000_000)`
in a 3 KB file) is refused before its weights are allocated. Outside a budget `charge` does nothing.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from shendu.saving.file_utils import ModelFileError

_state = threading.local()


@contextmanager
def weight_budget(elements: int, source: str) -> Iterator[None]:
    """Within this block (in this thread), the weights created may hold `elements` numbers in all."""
    previous = getattr(_state, "budget", None)
    _state.budget = [elements, 0, source]
    try:
        yield
    finally:
        _state.budget = previous


def charge(weight: str, shape: tuple[int, ...]) -> None:
    """Count a weight about to be created against the active budget; ModelFileError when it would exceed it."""
    budget = getattr(_state, "budget", None)
    if budget is None:
        return
    limit, used, source = budget
    n = math.prod(shape)
    if any(d < 0 for d in shape):
        raise ModelFileError(f"{source}: the config asks for weight '{weight}' of shape {shape}, with a negative size")
    if used + n > limit:
        raise ModelFileError(
            f"{source}: the config asks for weight '{weight}' of shape {shape} ({n} numbers), but the weights file "
            f"holds {limit} numbers in all ({used} already used): the config and the weights do not match"
        )
    budget[1] = used + n

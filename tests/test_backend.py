"""The backend: default dtype policy and the malloc setting that keeps freed memory for reuse."""

import sys

import numpy as np
import pytest

from shendu import backend


def test_floatx_default_and_set():
    assert backend.floatx() == np.float32
    backend.set_floatx("float64")
    try:
        assert backend.floatx() == np.float64
    finally:
        backend.set_floatx("float32")
    with pytest.raises(ValueError, match="floating"):
        backend.set_floatx("int32")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_keep_freed_memory_applies_unless_opted_out(monkeypatch):
    assert backend.keep_freed_memory() is True
    monkeypatch.setenv("SHENDU_KEEP_FREED_MEMORY", "0")
    assert backend.keep_freed_memory() is False

"""Fixtures shared by the test files."""

from __future__ import annotations

import pytest

from shendu.ops import kernels

COMPILED = [False, pytest.param(True, marks=pytest.mark.skipif(kernels.numba is None, reason="numba not installed"))]


@pytest.fixture(params=COMPILED, ids=["numpy", "compiled"])
def compiled(request):
    """Runs the test with the compiled loops (numba) off, then on; the setting restored afterwards."""
    before = kernels.set_enabled(request.param)
    yield request.param
    kernels.set_enabled(before)

"""The `version` fixture: a test runs once per version of the update rules."""

import pytest

from shendu.ops import kernels
from shendu.optimizers.optimizer import Optimizer

VERSIONS = ["readable", "inplace",
            pytest.param("compiled", marks=pytest.mark.skipif(kernels.numba is None, reason="numba not installed"))]


@pytest.fixture(params=VERSIONS)
def version(request, monkeypatch):
    """Runs the test with the readable `_update`, then the in-place NumPy passes, then the compiled loops."""
    monkeypatch.setattr(Optimizer, "readable", request.param == "readable")
    before = kernels.set_enabled(request.param == "compiled")
    yield request.param
    kernels.set_enabled(before)

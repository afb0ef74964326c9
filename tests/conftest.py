"""Fixtures shared by the test files. A test that needs an optional extra (torch, numba, safetensors, ...) asks
for it by fixture, so that it alone skips where the extra is missing and every other test still runs."""

from __future__ import annotations

import importlib

import pytest

from shendu.ops import kernels

COMPILED = [False, pytest.param(True, marks=pytest.mark.skipif(kernels.numba is None, reason="numba not installed"))]


def _extra(name: str):
    """The module `name`, or a skip saying which extra is missing."""
    try:
        return importlib.import_module(name)
    except ImportError:
        pytest.skip(f"{name} is not installed")


@pytest.fixture(scope="session")
def torch():
    """PyTorch, the reference of the parity tests (skips the test without it)."""
    return _extra("torch")


@pytest.fixture(scope="session")
def numba():
    """numba, for the tests of the compiled loops themselves (skips the test without it)."""
    return _extra("numba")


@pytest.fixture(scope="session")
def safetensors():
    """The safetensors package, for the tests of files it writes (skips the test without it)."""
    return _extra("safetensors")


@pytest.fixture(scope="session")
def matplotlib():
    """matplotlib with the file-only Agg backend (skips the test without it)."""
    mpl = _extra("matplotlib")
    mpl.use("Agg")
    return mpl


@pytest.fixture(scope="session")
def pydot():
    """pydot, for the tests of the DOT graphs plot_model builds (skips the test without it)."""
    return _extra("pydot")


@pytest.fixture(scope="session")
def pillow():
    """Pillow's PIL.Image, for the tests that read and write image files (skips the test without it)."""
    return _extra("PIL.Image")


@pytest.fixture(scope="session")
def h5py():
    """h5py, for Keras's HDF5 files (.keras, .weights.h5, legacy .h5; skips the test without it)."""
    return _extra("h5py")


@pytest.fixture(scope="session")
def onnx():
    """The onnx package, for the ONNX export (skips the test without it)."""
    return _extra("onnx")


@pytest.fixture(scope="session")
def onnxruntime():
    """ONNX Runtime, which runs the exported graphs in the tests (skips the test without it)."""
    return _extra("onnxruntime")


@pytest.fixture(scope="session")
def tensorboard():
    """The tensorboard package: the event-file writer and its reader (skips the test without it)."""
    return _extra("tensorboard")


@pytest.fixture(scope="session")
def optuna():
    """optuna, behind the Bayesian and Hyperband tuners (skips the test without it)."""
    mod = _extra("optuna")
    mod.logging.set_verbosity(mod.logging.WARNING)
    return mod


@pytest.fixture(scope="session")
def sklearn():
    """scikit-learn, for the tests of the wrappers in its model selection tools (skips the test without it)."""
    return _extra("sklearn")


@pytest.fixture(scope="session")
def tensorflow():
    """TensorFlow with Keras 3, the reference of the Keras-file round trips (skips the test without it)."""
    return _extra("tensorflow")


@pytest.fixture(scope="session")
def captum():
    """Captum, PyTorch's attribution library: the reference of the explanation methods (skips the test without it)."""
    return _extra("captum.attr")


@pytest.fixture(scope="session")
def mpi4py():
    """mpi4py with an MPI library, for the multi-process tests (skips the test without them)."""
    return _extra("mpi4py.MPI")


@pytest.fixture(params=COMPILED, ids=["numpy", "compiled"])
def compiled(request):
    """Runs the test with the compiled loops (numba) off, then on; the setting restored afterwards."""
    before = kernels.set_enabled(request.param)
    yield request.param
    kernels.set_enabled(before)

"""The raw-tensor linear regression example learns w and b with the engine alone."""

import importlib.util
import os

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_raw_tensor_linear_regression_learns_w_and_b(capsys):
    spec = importlib.util.spec_from_file_location("lr", os.path.join(ROOT, "examples", "linear_regression_tensors.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    w, b = module.main()
    assert w == pytest.approx(3.0, abs=0.03) and b == pytest.approx(2.0, abs=0.03)
    assert "learned w" in capsys.readouterr().out

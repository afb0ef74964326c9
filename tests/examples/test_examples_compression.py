"""examples/compression_mnist.py: the student's size, the NumPy product timing helper, and a tiny end-to-end run on
an MNIST subset that prints the table."""

import importlib
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples"))
example = importlib.import_module("compression_mnist")
needs_mnist = pytest.mark.skipif(not os.environ.get("SHENDU_DATA_DIR"), reason="SHENDU_DATA_DIR not set")


def test_student_has_about_a_quarter_of_the_parameters():
    teacher, student = example.cnn(), example.student()
    assert teacher.count_params() == 225_034  # the tutorials' CNN
    assert 0.2 < student.count_params() / teacher.count_params() < 0.3


def test_matmul_seconds_times_both_products():
    f32, i32 = example.matmul_seconds(8, 16, 4, repeats=1)
    assert f32 > 0 and i32 > 0


@needs_mnist
def test_tiny_run_prints_every_row():
    report = example.main(["--train", "128", "--test", "64", "--epochs", "1"])
    for name in ("float32 CNN", "50% sparse", "80% sparse", "90% sparse", "int8 weights |",
                 "calibrated int8 inputs", "distilled", "trained alone"):
        assert f"| {name}" in report or name in report
    rows = [line for line in report.splitlines() if line.startswith("| ") and "test accuracy" not in line]
    assert len(rows) == 8
    nonzero = {line.split(" | ")[0]: int(line.split(" | ")[2].replace(",", "")) for line in rows}
    assert nonzero["| 90% sparse (pruned, fine-tuned)"] < 0.11 * nonzero["| float32 CNN"]
    assert "128 training and 64 test images" in report

"""A layer method hooks a layer only for the thread that runs it: another thread using the model meanwhile gets the
model's usual output and is not caught."""

import threading

import numpy as np

from shendu.explain._layers import capture, unfused
from tests.explain.models import images, small_cnn


def test_another_thread_runs_the_layer_as_usual_while_one_captures():
    model = unfused(small_cnn())
    x = images()
    expected = model(x).numpy()
    results = []
    with capture(model.get_layer("conv_a"), "test") as seen:
        worker = threading.Thread(target=lambda: results.append(model(x).numpy()))
        worker.start()
        worker.join()
        assert seen.calls == 0
        model(x)
        assert seen.calls == 1 and seen.tensor is not None
    np.testing.assert_array_equal(results[0], expected)

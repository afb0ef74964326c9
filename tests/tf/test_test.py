"""tf.test's GPU probes answer from the devices shendu really uses: no GPU yet."""

from __future__ import annotations

import shendu as tf
from shendu.tf import test as tf_test


def test_gpu_probes_say_there_is_none():
    assert tf_test.is_gpu_available() is False and tf_test.is_gpu_available(cuda_only=True) is False
    assert tf_test.gpu_device_name() == ""
    assert tf_test.is_built_with_cuda() is False and tf_test.is_built_with_gpu_support() is False
    assert tf_test.is_gpu_available() == bool(tf.config.list_physical_devices("GPU"))

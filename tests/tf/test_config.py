"""tf.config and tf.device: the CPU as TensorFlow names it, no GPU, threads mapped to shendu's, and TensorFlow's
soft device placement for a device shendu lacks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import shendu as tf
from shendu import parallel
from shendu.tf import config

CPU = config.PhysicalDevice(name="/physical_device:CPU:0", device_type="CPU")


@pytest.fixture
def restore_threads():
    with parallel.num_threads(tf.get_num_threads()):
        yield
    config.set_inter_op_parallelism_threads(0)


def test_devices_are_the_cpu_as_tensorflow_names_it():
    assert tf.config.list_physical_devices() == [CPU]
    assert tf.config.list_physical_devices("CPU") == [CPU] and tf.config.list_physical_devices("GPU") == []
    assert tf.config.list_physical_devices("cpu") == []  # TensorFlow's types are upper case; others list nothing
    assert CPU.name == "/physical_device:CPU:0" and CPU._fields == ("name", "device_type")
    assert repr(CPU) == "PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')"
    logical = tf.config.list_logical_devices()
    assert logical == [config.LogicalDevice(name="/device:CPU:0", device_type="CPU")]
    assert tf.config.get_visible_devices() == [CPU] and tf.config.list_logical_devices("GPU") == []
    assert tf.config.experimental.list_physical_devices("GPU") == []  # TensorFlow 2.0's spelling


def test_visible_devices_accept_the_cpu_and_hide_nothing_else():
    tf.config.set_visible_devices([], "GPU")  # the usual "hide the GPUs": there are none
    tf.config.set_visible_devices(tf.config.list_physical_devices("CPU"))
    tf.config.experimental.set_visible_devices(CPU, "CPU")
    with pytest.raises(ValueError, match="cannot hide it"):
        tf.config.set_visible_devices([])
    with pytest.raises(ValueError, match="unrecognized device"):
        tf.config.set_visible_devices([config.PhysicalDevice("/physical_device:GPU:0", "GPU")])
    assert tf.config.get_visible_devices() == [CPU]


def test_memory_growth_is_for_gpus_as_in_tensorflow():
    for gpu in tf.config.list_physical_devices("GPU"):  # the tutorial loop does nothing
        tf.config.experimental.set_memory_growth(gpu, True)
    with pytest.raises(ValueError, match="only GPUs have it"):
        tf.config.experimental.set_memory_growth(CPU, True)
    with pytest.raises(ValueError, match="unrecognized device"):
        tf.config.experimental.set_memory_growth("GPU:0", True)


def test_intra_op_threads_are_shendus_threads(restore_threads):
    tf.config.threading.set_intra_op_parallelism_threads(2)
    assert tf.get_num_threads() == 2 and tf.config.threading.get_intra_op_parallelism_threads() == 2
    tf.config.threading.set_intra_op_parallelism_threads(0)  # the default: the count follows the free cores again
    assert parallel._num_threads is None
    assert tf.config.threading.get_intra_op_parallelism_threads() == tf.get_num_threads() >= 1
    with pytest.raises(ValueError, match="set_intra_op_parallelism_threads: expected a count >= 0"):
        tf.config.threading.set_intra_op_parallelism_threads(-1)


def test_inter_op_threads_are_kept(restore_threads):
    assert tf.config.threading.get_inter_op_parallelism_threads() == 0
    tf.config.threading.set_inter_op_parallelism_threads(3)
    assert tf.config.threading.get_inter_op_parallelism_threads() == 3
    with pytest.raises(ValueError, match="set_inter_op_parallelism_threads"):
        tf.config.threading.set_inter_op_parallelism_threads(-2)


def test_functions_always_run_eagerly_and_jit_is_accepted():
    tf.config.run_functions_eagerly(True)
    tf.config.run_functions_eagerly(False)
    assert tf.config.functions_run_eagerly() is True
    with pytest.raises(TypeError, match="run_functions_eagerly: expected a bool"):
        tf.config.run_functions_eagerly("yes")
    assert tf.config.optimizer.set_jit(True) is None


def test_op_determinism_fixes_the_thread_count(monkeypatch):
    """The adaptive count follows the load (here the policy has fallen to one thread); determinism fixes it at the
    cores this process may use, so that the chunks and BLAS's threads no longer change from run to run."""
    monkeypatch.setattr(parallel._policy, "threads", 1)
    monkeypatch.setattr(parallel._policy, "can_look", False)
    assert parallel.threads_now() == 1
    before = parallel._num_threads
    try:
        tf.config.experimental.enable_op_determinism()
        assert parallel.threads_now() == parallel.available_cores() == parallel.get_num_threads()
    finally:
        if before is None:
            parallel.use_adaptive_threads()
        else:
            parallel.set_num_threads(before)


@pytest.mark.parametrize("name", ["/CPU:0", "/cpu:0", "/device:CPU:0", "cpu", "CPU:*",
                                  "/job:localhost/replica:0/task:0/device:CPU:0", None])
def test_device_on_the_cpu_runs_as_usual(name):
    assert tf.device is config.device  # the top-level tf.device
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.device(name):
            out = tf.constant([1.0, 2.0]) * 3.0
    np.testing.assert_array_equal(np.asarray(out.data), [3.0, 6.0])


def test_device_on_a_gpu_falls_back_to_the_cpu_with_one_warning(monkeypatch):
    monkeypatch.setattr(config, "_warned_devices", set())
    warning = r"no device GPU:0 \(no CUDA GPU with CuPy: pip install 'shendu\[gpu\]'.*\); these operations run on"
    with pytest.warns(UserWarning, match=warning), tf.device("/GPU:0"):
        out = tf.constant([2.0]) + 1.0
    np.testing.assert_array_equal(np.asarray(out.data), [3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.device("/device:GPU:0"):  # said once
            pass


def test_device_without_soft_placement_raises():
    assert tf.config.get_soft_device_placement() is True
    tf.config.set_soft_device_placement(False)
    try:
        with pytest.raises(RuntimeError, match="no device GPU:1"), tf.device("/gpu:1"):
            pass
        with tf.device("/CPU:0"):
            pass
    finally:
        tf.config.set_soft_device_placement(True)


@pytest.mark.parametrize(("name", "error", "match"), [
    ("banana", ValueError, "unknown part 'banana'"),
    ("/device:CPU:x", ValueError, "must be a number"),
    ("/CPU:0/GPU:0", ValueError, "more than one device type"),
    (0, TypeError, "expected a device name string"),
])
def test_device_names_are_checked(name, error, match):
    with pytest.raises(error, match=match), tf.device(name):
        pass


def test_the_cpu_split_into_logical_devices():
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.experimental.set_virtual_device_configuration(
            cpu, [tf.config.experimental.VirtualDeviceConfiguration() for _ in range(3)])
        assert [d.name for d in tf.config.list_logical_devices("CPU")] == [f"/device:CPU:{i}" for i in range(3)]
        assert len(tf.config.get_logical_device_configuration(cpu)) == 3
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a configured logical CPU is a device: no fallback warning
            with tf.device("/CPU:2"):
                assert (tf.constant([1.0]) * 2).numpy().tolist() == [2.0]
        with pytest.warns(UserWarning, match="no device CPU:3"), tf.device("/CPU:3"):
            pass
        with pytest.raises(ValueError, match=r"expected a list of tf\.config\.LogicalDeviceConfiguration"):
            tf.config.set_logical_device_configuration(cpu, [1])
        with pytest.raises(ValueError, match="unrecognized device"):
            tf.config.set_logical_device_configuration("CPU:0", [tf.config.LogicalDeviceConfiguration()])
        gpu = config.PhysicalDevice(name="/physical_device:GPU:0", device_type="GPU")
        with pytest.raises(ValueError, match=r"(unrecognized device|cannot split)"):
            tf.config.set_logical_device_configuration(gpu, [tf.config.LogicalDeviceConfiguration(1024)])
    finally:
        tf.config.set_logical_device_configuration(cpu, None)
    assert tf.config.list_logical_devices("CPU") == [config.LogicalDevice(name="/device:CPU:0", device_type="CPU")]
    assert tf.config.get_logical_device_configuration(cpu) is None

"""The placement API: listing GPUs, `device` blocks, the default device, `Tensor.to`/`.cpu()`/`.numpy()`, and the
errors for a missing GPU and for mixed devices. Without a GPU it runs against the fake device (tests/gpu/fake_cupy)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import shendu as sd
from shendu import backend, devices, layers, models
from shendu.tf import config
from tests.gpu import fake_cupy


@pytest.fixture
def no_gpu():
    """A machine without CuPy or without a GPU (skips where a real one is present)."""
    previous = backend.set_device_module(None)
    if backend.gpu_count():
        backend.set_device_module(previous)
        pytest.skip("this machine has a GPU")
    yield
    backend.set_device_module(previous)


@pytest.fixture
def fake_gpu():
    """One fake GPU, implicit device-to-host copies forbidden; the default device and hidden GPUs restored after."""
    previous = backend.set_device_module(fake_cupy)
    forbid = backend.forbid_implicit_transfers(True)
    yield
    backend.set_default_device(None)
    config._hidden_gpus.clear()
    backend.forbid_implicit_transfers(forbid)
    backend.set_device_module(previous)


def test_without_a_gpu_listing_is_empty_and_asking_says_what_to_install(no_gpu):
    assert sd.config.list_physical_devices("GPU") == [] and devices.list_gpus() == []
    assert sd.config.list_physical_devices() == [config.PhysicalDevice("/physical_device:CPU:0", "CPU")]
    for ask in (lambda: sd.set_default_device("gpu"), lambda: sd.constant([1.0]).to("cuda"),
                lambda: devices.device("/GPU:0").__enter__()):
        with pytest.raises(RuntimeError, match=r"needs a GPU, but .*: pip install 'shendu\[gpu\]' \(.*cupy-cuda12x\)"):
            ask()
    assert devices.current_device() == "/CPU:0"


def test_gpus_are_listed_as_tensorflow_names_them(fake_gpu):
    gpu = config.PhysicalDevice("/physical_device:GPU:0", "GPU")
    assert sd.config.list_physical_devices("GPU") == [gpu] and devices.list_gpus() == ["/GPU:0"]
    assert sd.config.list_logical_devices("GPU") == [config.LogicalDevice("/device:GPU:0", "GPU")]
    assert sd.test.is_gpu_available() and sd.test.gpu_device_name() == "/device:GPU:0"
    assert devices.gpu_name(0) == "fake CuPy device"
    sd.config.experimental.set_memory_growth(gpu, True)  # the tutorial's call is accepted on a GPU


def test_tensors_made_in_a_device_block_live_there_and_copy_back_explicitly(fake_gpu):
    with sd.device("/GPU:0"):
        t = sd.constant([1.0, 2.0]) * 3.0
        assert devices.current_device() == "/GPU:0"
    assert devices.current_device() == "/CPU:0"
    assert t.device == "/job:localhost/replica:0/task:0/device:GPU:0" and backend.is_device_array(t.data)
    host = t.numpy()
    assert type(host) is np.ndarray and host.tolist() == [3.0, 6.0]
    with pytest.raises(RuntimeError, match="implicit copy of an array on /GPU:0 to the host"):
        np.asarray(t)
    back = t.cpu()
    assert type(back.data) is np.ndarray and back.device.endswith("CPU:0") and back.numpy().tolist() == [3.0, 6.0]
    assert np.shape(t) == (2,)  # shape queries need no copy


def test_to_is_differentiable_and_a_noop_where_the_tensor_is(fake_gpu):
    x = sd.Variable([1.0, -2.0])
    assert x.to("cpu") is x
    y = x.to("cuda:0")
    assert y.to("/GPU:0") is y and backend.is_device_array(y.data)
    ((y * y).sum()).backward()
    assert type(x.grad.data) is np.ndarray and x.grad.numpy().tolist() == [2.0, -4.0]


def test_default_device_and_nested_blocks(fake_gpu):
    sd.set_default_device("gpu")
    assert sd.get_default_device() == "/GPU:0" and backend.is_device_array(sd.Tensor([1.0]).data)
    with sd.device("/CPU:0"):
        assert type(sd.Tensor([1.0]).data) is np.ndarray
        with sd.device("cuda"):
            assert backend.is_device_array(sd.zeros((2,)).data)
    sd.set_default_device("cpu")
    assert sd.get_default_device() == "/CPU:0" and type(sd.Tensor([1.0]).data) is np.ndarray


def test_mixing_devices_names_both(fake_gpu):
    on_cpu = sd.constant([1.0, 2.0])
    with sd.device("/GPU:0"):
        on_gpu = sd.constant([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"input 0 is on /CPU:0 and input 1 on /GPU:0"):
        on_cpu + on_gpu
    with pytest.raises(RuntimeError, match=r"input 0 is on /GPU:0 and input 1 on /CPU:0"):
        on_gpu * on_cpu
    assert devices.mixed_devices("MatMul", [on_gpu.data, on_gpu.data]) is None


def test_any_op_given_arrays_on_two_devices_names_both(fake_gpu):
    on_cpu = sd.constant(np.ones((2, 3), np.float32))
    with sd.device("/GPU:0"):
        on_gpu = sd.constant(np.ones((3, 2), np.float32))
    with pytest.raises(RuntimeError, match=r"MatMul: expected all inputs on one device, but input 0 is on /CPU:0 "
                                           r"and input 1 on /GPU:0"):
        sd.matmul(on_cpu, on_gpu)
    with pytest.raises(RuntimeError, match=r"Concat.*input 0 is on /GPU:0 and input 1 on /CPU:0"):
        sd.concat([on_gpu, sd.constant(np.ones((3, 2), np.float32))], axis=0)


def test_models_built_in_a_device_block_keep_their_weights_there(fake_gpu):
    with sd.device("/GPU:0"):
        model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)])
        out = model(np.ones((5, 4), np.float32))
    assert model.weights and all(backend.is_device_array(w.data) for w in model.weights)
    assert backend.is_device_array(out.data) and out.shape == (5, 2)


def test_get_weights_copies_the_weights_to_the_host(fake_gpu):
    with sd.device("/GPU:0"):
        layer = layers.Dense(2)
        layer.build((None, 3))
    assert all(type(w) is np.ndarray for w in layer.get_weights())


def test_tf_device_places_on_the_gpu_and_falls_back_when_it_is_hidden(fake_gpu, monkeypatch):
    with sd.device("/device:GPU:0"):
        assert backend.is_device_array(sd.constant([1.0]).data)
    monkeypatch.setattr(config, "_warned_devices", set())
    sd.config.set_visible_devices([], "GPU")
    assert sd.config.get_visible_devices("GPU") == [] and sd.config.list_physical_devices("GPU")
    with pytest.warns(UserWarning, match="hidden by set_visible_devices"), sd.device("/GPU:0"):
        assert type(sd.constant([1.0]).data) is np.ndarray
    sd.config.set_visible_devices(sd.config.list_physical_devices())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with sd.device("/GPU:0"):
            assert backend.is_device_array(sd.constant([1.0]).data)


@pytest.mark.parametrize(("name", "match"), [("tpu", "cannot read"), ("cuda:3", "no GPU 3"), ("gpu:x", "cannot read")])
def test_device_names_are_checked(fake_gpu, name, match):
    with pytest.raises(ValueError, match=match):
        devices.parse(name)
    assert devices.parse("/job:localhost/replica:0/task:0/device:GPU:0") == 0 and devices.parse("CPU") is None


def test_a_gpu_is_not_split_into_logical_devices(fake_gpu):
    gpu = sd.config.list_physical_devices("GPU")[0]
    with pytest.raises(ValueError, match=r"cannot split /physical_device:GPU:0 into logical devices"):
        config.set_logical_device_configuration(gpu, [config.LogicalDeviceConfiguration(memory_limit=1024)])
    assert [d.name for d in config.list_logical_devices("GPU")] == ["/device:GPU:0"]

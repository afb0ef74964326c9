"""One process (no mpiexec, NumPy alone): the strategies have one replica and everything works as without them."""

import itertools

import numpy as np
import pytest

import shendu as tf
from shendu import keras
from shendu.distribute import data as ddata
from shendu.distribute import training
from shendu.distribute.launch import mpiexec_command


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.layers.Dense(4, activation="relu", input_shape=(3,)),
                              keras.layers.SyncBatchNormalization(), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 3)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


@pytest.mark.parametrize("make", [tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy,
                                  keras.distribution.DataParallel])
def test_one_replica_trains_as_without_a_strategy(make):
    x, y = _data()
    plain = _model()
    plain.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    strategy = make()
    assert strategy.num_replicas_in_sync == 1
    with strategy.scope():
        model = _model()
    assert model.distribute_strategy is strategy
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(history.history["loss"]) == 2
    np.testing.assert_array_equal(model.predict(x, verbose=0), plain.predict(x, verbose=0))


def test_set_distribution_applies_to_models_compiled_after():
    dist = keras.distribution.DataParallel()
    keras.distribution.set_distribution(dist)
    try:
        assert keras.distribution.distribution() is dist
        assert _model().distribute_strategy is dist
        assert keras.distribution.list_devices() == ["cpu:0"]
    finally:
        keras.distribution.set_distribution(None)
    assert _model().distribute_strategy is None
    with pytest.raises(TypeError, match="set_distribution"):
        keras.distribution.set_distribution("data")


def test_reduce_run_and_distributed_dataset():
    strategy = tf.distribute.MirroredStrategy()
    value = np.array([[1.0, 2.0], [3.0, 5.0]], "float32")
    np.testing.assert_allclose(strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None).numpy(), value)
    np.testing.assert_allclose(strategy.reduce("MEAN", value, axis=0).numpy(), [2.0, 3.5])
    np.testing.assert_allclose(strategy.reduce("SUM", value, axis=1).numpy(), [3.0, 8.0])
    assert strategy.run(lambda a, b: a * b, args=(3, 4)) == 12
    ds = tf.data.Dataset.from_tensor_slices((value, np.array([0, 1]))).batch(1)
    batches = list(strategy.experimental_distribute_dataset(ds))
    assert len(batches) == 2
    np.testing.assert_array_equal(batches[1][0].numpy(), value[1:])
    with strategy.scope(), pytest.raises(ValueError, match="another strategy"), \
            tf.distribute.MirroredStrategy().scope():
        pass


def test_split_bounds_cover_the_batch_in_order():
    for n, p in ((10, 3), (5, 2), (7, 7), (9, 3)):
        bounds = [ddata.split_bounds(n, p, r) for r in range(p)]
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
        assert max(hi - lo for lo, hi in bounds) - min(hi - lo for lo, hi in bounds) <= 1
    with pytest.raises(ValueError, match="2 samples for 3 replicas"):
        ddata.split_bounds(2, 3, 0)


def test_buckets_hold_at_most_the_limit():
    arrays = [np.zeros(n, "float32") for n in (10, 10, 30, 5)]
    buckets = training._buckets(arrays, 80)
    assert [[a.size for a in b] for b in buckets] == [[10, 10], [30], [5]]


def test_sync_batch_normalization_is_batch_normalization_in_one_process():
    x = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    sync, plain = keras.layers.SyncBatchNormalization(), keras.layers.BatchNormalization()
    np.testing.assert_allclose(sync(x, training=True).numpy(), plain(x, training=True).numpy(), rtol=1e-6)
    np.testing.assert_allclose(sync.moving_mean.numpy(), plain.moving_mean.numpy(), rtol=1e-6)
    assert keras.layers.deserialize(keras.layers.serialize(sync)).__class__ is keras.layers.SyncBatchNormalization


def test_launch_command_and_cli_errors(capsys):
    from shendu import cli

    command = mpiexec_command(4, "train.py", ["--epochs", "2"], "/usr/bin/mpiexec.hydra", threads=1)
    assert command[:3] == ["/usr/bin/mpiexec.hydra", "-n", "4"]
    assert command[-3:] == ["train.py", "--epochs", "2"]
    assert command[3:6] == ["-genv", "SHENDU_NUM_THREADS", "1"]
    for argv, message in ((["launch", "-n", "0", "x.py"], "expected a positive integer"),
                          (["launch", "-n", "2", "no/such/script.py"], "no such file")):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]

"""tf.train: Checkpoint round trips that resume training exactly, the restore status checks, CheckpointManager,
latest_checkpoint and the file format (safetensors keyed by object path, atomic, refused when corrupted)."""

from __future__ import annotations

import gc
import os
import warnings

import numpy as np
import pytest

import shendu as tf
from shendu.saving import safetensors_format
from shendu.saving.file_utils import ModelFileError
from shendu.tf import train

X = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
Y = X.sum(axis=1, keepdims=True)


def make_model(optimizer: str = "adam") -> tf.keras.Model:
    """A compiled model with trainable and non-trainable weights (BatchNormalization's moving statistics)."""
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(4, activation="relu"),
                                 tf.keras.layers.BatchNormalization(), tf.keras.layers.Dense(1)])
    opt = tf.keras.optimizers.Adam(0.01) if optimizer == "adam" else tf.keras.optimizers.SGD(0.1, momentum=0.9)
    model.compile(opt, "mse")
    return model


def counter(value: int = 0) -> tf.Variable:
    return tf.Variable(value, dtype="int64", trainable=False)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_round_trip_resumes_training_exactly(tmp_path, optimizer):
    model = make_model(optimizer)
    for _ in range(3):
        model.train_on_batch(X, Y)
    ckpt = tf.train.Checkpoint(model=model, optimizer=model.optimizer, step=counter(3))
    path = ckpt.save(tmp_path / "ckpt")

    twin = make_model(optimizer)  # new layer names (dense_2, ...): matched by path, not by name
    restored = tf.train.Checkpoint(model=twin, optimizer=twin.optimizer, step=counter())
    restored.restore(path).assert_consumed()
    assert int(restored.step.data) == 3
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    again = tf.train.Checkpoint(model=twin, optimizer=twin.optimizer, step=restored.step).save(tmp_path / "again")
    before, after = (dict(tf.train.list_variables(p)) for p in (path, again))
    assert before == after and any("/slots/" in key for key in before)
    for key in before:  # every weight, slot and count, the save counter included
        np.testing.assert_array_equal(tf.train.load_variable(path, key), tf.train.load_variable(again, key))
    for _ in range(2):
        model.train_on_batch(X, Y)
        twin.train_on_batch(X, Y)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(twin.optimizer.iterations.data) == 5


def test_manual_loop_with_a_variable_and_momentum(tmp_path):
    """A custom loop over a Variable (autograd + apply_gradients) resumes exactly, slots included."""

    def run(w, opt, steps):
        for _ in range(steps):
            loss = ((w * w) * np.array([1.0, 2.0, 3.0], dtype="float32")).sum()
            loss.backward()
            opt.apply_gradients([(w.grad, w)])
            w.zero_grad()

    w, opt = tf.Variable(np.ones(3, dtype="float32")), tf.keras.optimizers.SGD(0.1, momentum=0.9)
    run(w, opt, 2)
    path = tf.train.Checkpoint(w=w, opt=opt).write(tmp_path / "state")
    assert tf.train.list_variables(path) == [("opt/iterations", []), ("opt/learning_rate", []),
                                             ("opt/slots/w/momentum", [3]), ("w", [3])]
    w2, opt2 = tf.Variable(np.zeros(3, dtype="float32")), tf.keras.optimizers.SGD(0.1, momentum=0.9)
    tf.train.Checkpoint(w=w2, opt=opt2).read(path).assert_consumed()
    run(w, opt, 2)
    run(w2, opt2, 2)
    np.testing.assert_array_equal(w.data, w2.data)


def test_save_numbers_files_and_updates_the_state_file(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(np.arange(3.0)))
    prefix = os.path.join(tmp_path, "sub", "ckpt")
    first, second = ckpt.save(prefix), ckpt.save(prefix)
    assert (first, second) == (prefix + "-1", prefix + "-2")
    assert os.path.isfile(second + ".safetensors") and int(ckpt.save_counter.data) == 2
    assert tf.train.latest_checkpoint(os.path.dirname(prefix)) == second
    text = (tmp_path / "sub" / "checkpoint").read_text()
    assert 'model_checkpoint_path: "ckpt-2"' in text
    assert not [f for f in os.listdir(os.path.dirname(prefix)) if f.startswith(".tmp")]  # atomic: no leftovers

    again = tf.train.Checkpoint(v=tf.Variable(np.zeros(3)))
    again.restore(first).assert_consumed()
    assert int(again.save_counter.data) == 1
    assert again.save(prefix) == prefix + "-2"  # numbering continues from the restored counter


def test_file_is_safetensors_with_path_keys(tmp_path, safetensors):
    model = make_model()
    model.train_on_batch(X, Y)
    path = tf.train.Checkpoint(model=model, optimizer=model.optimizer).write(tmp_path / "w")
    import safetensors.numpy as st

    values = st.load_file(path + ".safetensors")
    np.testing.assert_array_equal(values["model/layer-0/kernel"], model.layers[0].kernel.data)
    np.testing.assert_array_equal(values["model/layer-1/moving_mean"], model.layers[1].moving_mean.data)
    assert values["optimizer/slots/model/layer-2/bias/velocity"].shape == (1,)
    assert int(values["optimizer/iterations"]) == 1


def test_numpy_writer_reads_back(tmp_path, monkeypatch):
    """Without the safetensors package the NumPy writer and reader do the same job."""
    monkeypatch.setattr(safetensors_format, "_st", None)
    v = tf.Variable(np.arange(6.0).reshape(2, 3))
    path = tf.train.Checkpoint(v=v).write(tmp_path / "w")
    w = tf.Variable(np.zeros((2, 3)))
    tf.train.Checkpoint(v=w).read(path).assert_consumed()
    np.testing.assert_array_equal(w.data, v.data)


def test_restore_of_a_written_checkpoint_expects_the_save_counter(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    path = ckpt.write(tmp_path / "w")
    assert path == os.fspath(tmp_path / "w")
    ckpt.read(path).assert_consumed()
    status = ckpt.restore(path).expect_partial()
    with pytest.raises(AssertionError, match="save_counter"):
        status.assert_consumed()
    with pytest.raises(AssertionError, match=r"no value in it: \['save_counter'\]"):
        status.assert_existing_objects_matched()


def test_status_assertions_name_what_did_not_match(tmp_path):
    model = make_model()
    model.train_on_batch(X, Y)
    path = tf.train.Checkpoint(model=model, optimizer=model.optimizer).save(tmp_path / "ckpt")

    inference = tf.train.Checkpoint(model=make_model())  # the optimizer's values stay in the file
    status = inference.restore(path).expect_partial()
    status.assert_existing_objects_matched().assert_nontrivial_match()
    with pytest.raises(AssertionError, match="optimizer/iterations"):
        status.assert_consumed()

    extra = tf.train.Checkpoint(model=make_model(), optimizer=tf.keras.optimizers.Adam(), extra=tf.Variable(0.0))
    status = extra.restore(path).expect_partial()
    with pytest.raises(AssertionError, match="extra"):
        status.assert_existing_objects_matched()

    unrelated = tf.train.Checkpoint(other=tf.Variable(0.0)).restore(path).expect_partial()
    with pytest.raises(AssertionError, match="nothing in it matched"):
        unrelated.assert_nontrivial_match()


def test_partial_restore_warns_unless_expected(tmp_path):
    path = tf.train.Checkpoint(a=tf.Variable(1.0), b=tf.Variable(2.0)).write(tmp_path / "w")
    with pytest.warns(UserWarning, match="partial.*'b'"):
        tf.train.Checkpoint(a=tf.Variable(0.0)).read(path)
        gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf.train.Checkpoint(a=tf.Variable(0.0)).read(path).expect_partial()
        gc.collect()


def test_restore_none_restores_nothing():
    v = tf.Variable(5.0)
    status = tf.train.Checkpoint(v=v).restore(None)
    assert status.expect_partial() is status
    with pytest.raises(AssertionError, match="save_path=None"):
        status.assert_consumed()
    assert float(v.data) == 5.0


def test_shape_mismatch_raises_and_changes_nothing(tmp_path):
    path = tf.train.Checkpoint(a=tf.Variable(np.ones(2)), b=tf.Variable(np.ones(3))).write(tmp_path / "w")
    a, b = tf.Variable(np.zeros(2)), tf.Variable(np.zeros(4))
    with pytest.raises(ValueError, match=r"b: checkpoint \(3,\), object \(4,\)"):
        tf.train.Checkpoint(a=a, b=b).read(path)
    np.testing.assert_array_equal(a.data, 0.0)


class Net(tf.keras.Model):
    """The subclassed model of TensorFlow's checkpoint guide: not built until its first call."""

    def __init__(self, units: int = 5) -> None:
        super().__init__()
        self.l1 = tf.keras.layers.Dense(units)

    def call(self, x):
        return self.l1(x)


def guide_step(net, opt, x, y):
    """One step of the guide's custom loop, on shendu's autograd."""
    loss = ((net(x) - y) ** 2).mean()
    loss.backward()
    variables = net.trainable_variables
    opt.apply_gradients([(v.grad, v) for v in variables])
    for v in variables:
        v.zero_grad()


def test_restore_into_an_unbuilt_model_waits_for_its_weights(tmp_path):
    x, y = X[:4, :1], Y[:4].repeat(5, axis=1)
    net, opt = Net(), tf.keras.optimizers.Adam(0.1)
    for _ in range(3):
        guide_step(net, opt, x, y)
    path = tf.train.Checkpoint(step=counter(3), optimizer=opt, net=net).save(tmp_path / "ckpt")

    fresh, fresh_opt = Net(), tf.keras.optimizers.Adam(0.1)
    ckpt = tf.train.Checkpoint(step=counter(), optimizer=fresh_opt, net=fresh)
    status = ckpt.restore(path)
    assert int(ckpt.step.data) == 3 and int(fresh_opt.iterations.data) == 3  # restored at once
    status.assert_existing_objects_matched()  # the layer has no weights yet: nothing exists unmatched
    with pytest.raises(AssertionError, match="net/layer-0/kernel"):
        status.assert_consumed()
    np.testing.assert_array_equal(fresh(x).data, net(x).data)  # its first call already uses the saved weights
    status.assert_consumed()
    guide_step(net, opt, x, y)
    guide_step(fresh, fresh_opt, x, y)
    np.testing.assert_array_equal(fresh.l1.kernel.data, net.l1.kernel.data)  # the Adam slots came back too


def test_deferred_restore_checks_shapes_when_the_weights_appear(tmp_path):
    net = Net()
    net(X[:2, :1])
    path = tf.train.Checkpoint(net=net).write(tmp_path / "w")
    wider = Net(units=6)
    tf.train.Checkpoint(net=wider).read(path).expect_partial()
    with pytest.raises(ValueError, match=r"net/layer-0/kernel: checkpoint \(1, 5\), object \(1, 6\)"):
        wider(X[:2, :1])


def test_missing_corrupted_and_foreign_files_raise_naming_the_file(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(np.arange(4.0)))
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at .*nothing"):
        ckpt.restore(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="is a folder"):
        ckpt.restore(tmp_path)
    path = ckpt.save(tmp_path / "ckpt")
    file = tmp_path / "ckpt-1.safetensors"
    file.write_bytes(file.read_bytes()[:-5])
    with pytest.raises(ModelFileError, match=r"ckpt-1\.safetensors is corrupted or truncated"):
        ckpt.restore(path)
    safetensors_format.save_file({"v": np.zeros(4)}, tmp_path / "weights.safetensors")
    with pytest.raises(ModelFileError, match="not a shendu checkpoint"):
        ckpt.restore(tmp_path / "weights")


def test_containers_nested_checkpoints_and_root(tmp_path):
    v1, v2, v3, v4 = (tf.Variable(np.full(2, float(i))) for i in range(1, 5))
    ckpt = tf.train.Checkpoint(inner=tf.train.Checkpoint(v=v1), vs=[v2, v3], d={"a": v4})
    path = ckpt.write(tmp_path / "w")
    assert [name for name, _ in tf.train.list_variables(path)] == ["d/a", "inner/v", "vs/0", "vs/1"]
    np.testing.assert_array_equal(tf.train.load_variable(path, "vs/1"), [3.0, 3.0])
    assert ckpt.inner.v is v1

    model = make_model()
    root_path = tf.train.Checkpoint(model).write(tmp_path / "root")
    assert ("layer-0/kernel", [3, 4]) in tf.train.list_variables(root_path)

    shared = tf.train.Checkpoint(model=model, kernel=model.layers[0].kernel).write(tmp_path / "shared")
    names = [name for name, _ in tf.train.list_variables(shared)]
    assert "model/layer-0/kernel" in names and "kernel" not in names  # one value per variable


def test_untrackable_objects_are_refused():
    with pytest.raises(ValueError, match=r"'x' \(Tensor\) holds no checkpointable state"):
        tf.train.Checkpoint(x=tf.constant([1.0]))
    with pytest.raises(ValueError, match=r"'xs\[1\]' \(int\)"):
        tf.train.Checkpoint(xs=[tf.Variable(1.0), 3])
    with pytest.raises(ValueError, match="name is taken"):
        tf.train.Checkpoint(save_counter=tf.Variable(1.0))


def test_latest_checkpoint_and_state_of_an_empty_folder(tmp_path):
    assert tf.train.latest_checkpoint(tmp_path) is None
    assert tf.train.latest_checkpoint(tmp_path / "missing") is None
    assert tf.train.get_checkpoint_state(tmp_path) is None
    (tmp_path / "checkpoint").write_text("garbage\n")
    with pytest.raises(ModelFileError, match="checkpoint is not a checkpoint state file"):
        tf.train.latest_checkpoint(tmp_path)


def test_manager_keeps_the_newest_and_recovers_its_list(tmp_path):
    model = make_model()
    ckpt = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    manager = tf.train.CheckpointManager(ckpt, tmp_path, max_to_keep=2)
    assert manager.latest_checkpoint is None
    paths = [manager.save() for _ in range(4)]
    assert paths == [os.path.join(tmp_path, f"ckpt-{n}") for n in (1, 2, 3, 4)]
    assert manager.checkpoints == paths[2:] and manager.latest_checkpoint == paths[3]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-3.safetensors", "ckpt-4.safetensors"]
    assert tf.train.latest_checkpoint(tmp_path) == paths[3]

    state = tf.train.get_checkpoint_state(tmp_path)
    assert state.all_model_checkpoint_paths == paths[2:]
    later = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), tmp_path, 2, checkpoint_name="ckpt")
    assert later.checkpoints == paths[2:] and later.latest_checkpoint == paths[3]
    assert manager.save(checkpoint_number=100) == os.path.join(tmp_path, "ckpt-100")
    assert int(ckpt.save_counter.data) == 5  # counted even with an explicit number


def test_manager_keep_all_interval_and_restore_or_initialize(tmp_path):
    step = counter()
    ckpt = tf.train.Checkpoint(step=step)
    calls = []
    manager = tf.train.CheckpointManager(ckpt, tmp_path, max_to_keep=None, step_counter=step,
                                         checkpoint_interval=10, init_fn=lambda: calls.append(1))
    assert manager.restore_or_initialize() is None and calls == [1]
    saved = []
    for n in range(25):
        step.assign(n)
        saved.append(manager.save())
    assert [p for p in saved if p] == [os.path.join(tmp_path, f"ckpt-{n}") for n in (1, 2, 3)]  # steps 0, 10, 20
    step.assign(20)
    assert manager.save(check_interval=False) is None  # the same step is never saved twice
    restored = tf.train.Checkpoint(step=counter())
    again = tf.train.CheckpointManager(restored, tmp_path, max_to_keep=None)
    assert again.restore_or_initialize() == os.path.join(tmp_path, "ckpt-3")
    assert int(restored.step.data) == 20


def test_manager_preserves_one_every_n_hours(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(train.time, "time", lambda: clock[0])
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(0.0)), tmp_path, max_to_keep=1,
                                         keep_checkpoint_every_n_hours=1)
    for _ in range(6):
        manager.save()
        clock[0] += 1800.0  # half an hour
    # a checkpoint dropped from the kept list survives when written an hour after the last one preserved
    kept = sorted(f for f in os.listdir(tmp_path) if f.endswith(".safetensors"))
    assert kept == ["ckpt-3.safetensors", "ckpt-5.safetensors", "ckpt-6.safetensors"]
    assert manager.checkpoints == [os.path.join(tmp_path, "ckpt-6")]


def test_manager_arguments_are_checked(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(0.0))
    with pytest.raises(ValueError, match="positive integer or None for max_to_keep, got 0"):
        tf.train.CheckpointManager(ckpt, tmp_path, max_to_keep=0)
    with pytest.raises(ValueError, match="needs a step_counter"):
        tf.train.CheckpointManager(ckpt, tmp_path, max_to_keep=1, checkpoint_interval=5)
    with pytest.raises(TypeError, match=r"expected a tf\.train\.Checkpoint, got Sequential"):
        tf.train.CheckpointManager(make_model(), tmp_path, max_to_keep=1)

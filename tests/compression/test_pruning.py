"""Magnitude pruning: TFMOT's schedules, masks kept through training and the model file, strip_pruning, summary."""

import numpy as np
import pytest

import shendu as sd
from shendu import compression as c
from shendu.compression.pruning_callbacks import prune_step
from shendu.keras import Sequential, layers


def _tfmot_polynomial(step, initial, final, begin, end, power):
    """TFMOT's PolynomialDecay.__call__ (pruning_schedule.py), transcribed."""
    p = min(1.0, max(0.0, (step - begin) / (end - begin)))
    return (initial - final) * (1 - p) ** power + final


def _tfmot_should_prune(step, begin, end, frequency):
    return step >= begin and (step <= end or end < 0) and (step - begin) % frequency == 0


@pytest.mark.parametrize("step", [0, 3, 10, 25, 50, 99, 100, 101, 150])
def test_schedules_match_tfmot_formulas(step):
    poly = c.PolynomialDecay(0.1, 0.8, begin_step=10, end_step=100, power=3, frequency=5)
    should, sparsity = poly(step)
    assert should == _tfmot_should_prune(step, 10, 100, 5)
    assert sparsity == pytest.approx(_tfmot_polynomial(step, 0.1, 0.8, 10, 100, 3), abs=1e-12)
    const = c.ConstantSparsity(0.6, begin_step=3, end_step=-1, frequency=7)
    assert const(step) == (_tfmot_should_prune(step, 3, -1, 7), 0.6)


def test_schedule_errors_and_config_round_trip():
    with pytest.raises(ValueError, match="target_sparsity"):
        c.ConstantSparsity(1.0, 0)
    with pytest.raises(ValueError, match="end_step cannot be -1"):
        c.PolynomialDecay(0.0, 0.5, 0, -1)
    poly = c.PolynomialDecay(0.2, 0.9, 5, 50, power=2, frequency=3)
    again = c.PruneLowMagnitude(layers.Dense(2), pruning_schedule=poly.get_config()).pruning_schedule
    assert again.get_config() == poly.get_config()


def _model():
    sd.random.seed(0)
    model = Sequential([layers.Dense(16, activation="relu", input_shape=(8,), name="hidden"),
                        layers.Dense(3, name="out")])
    model.compile("adam", "mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.random((64, 8), dtype=np.float32), rng.random((64, 3), dtype=np.float32)


def _pruned_and_trained(sparsity=0.75, **kwargs):
    x, y = _data()
    pruned = c.prune_low_magnitude(_model(), c.ConstantSparsity(sparsity, 0, frequency=1), **kwargs)
    pruned.compile(optimizer="adam", loss="mse")
    pruned.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[c.UpdatePruningStep()])
    return pruned


def test_pruned_weights_stay_zero_through_adam_training_and_save_load(tmp_path):
    pruned = _pruned_and_trained()
    x, y = _data()
    wrappers = [layer for layer in pruned.layers if isinstance(layer, c.PruneLowMagnitude)]
    assert len(wrappers) == 2
    for layer in wrappers:
        kernel, mask = layer.layer.kernel.data, layer.pruning_vars[0][1].data
        assert np.count_nonzero(mask == 0) == round(0.75 * mask.size)
        assert np.all(kernel[mask == 0] == 0)
        assert int(layer.pruning_step.data) == 12  # 3 epochs x 4 batches
    assert c.get_sparsity(pruned) == {"hidden/kernel": 0.75, "out/kernel": 0.75}
    # frequency large: masks stay fixed while Adam's momentum pushes on the pruned weights; the constraint holds them
    for layer in wrappers:
        layer.pruning_schedule = c.ConstantSparsity(0.75, 0, frequency=10_000)
    masks = [layer.pruning_vars[0][1].data.copy() for layer in wrappers]
    pruned.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[c.UpdatePruningStep()])
    for layer, mask in zip(wrappers, masks):
        assert np.all(layer.layer.kernel.data[mask == 0] == 0)
        assert np.count_nonzero(layer.layer.kernel.data[mask == 1]) == np.count_nonzero(mask)
    path = tmp_path / "pruned.shendu"
    pruned.save(path)
    loaded = sd.keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), pruned.predict(x, verbose=0))
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[c.UpdatePruningStep()])
    assert c.get_sparsity(loaded) == {"hidden/kernel": 0.75, "out/kernel": 0.75}
    assert int(loaded.layers[0].pruning_step.data) == 24


def test_training_without_the_callback_says_so():
    x, y = _data()
    pruned = c.prune_low_magnitude(_model())
    pruned.compile("adam", "mse")
    with pytest.raises(RuntimeError, match="UpdatePruningStep"):
        pruned.fit(x, y, epochs=1, verbose=0)


def test_strip_pruning_gives_a_plain_model_with_the_zeros():
    pruned = _pruned_and_trained()
    x, _ = _data()
    plain = c.strip_pruning(pruned)
    assert [type(layer).__name__ for layer in plain.layers] == ["Dense", "Dense"]
    assert len(plain.weights) == 4
    np.testing.assert_array_equal(plain.predict(x, verbose=0), pruned.predict(x, verbose=0))
    assert c.get_sparsity(plain) == {"hidden/kernel": 0.75, "out/kernel": 0.75}
    plain.layers[0].kernel.data[...] = 1.0  # independent of the pruned model
    assert c.get_sparsity(pruned)["hidden/kernel"] == 0.75


def test_global_pruning_uses_one_threshold_across_layers():
    model = _model()
    model.get_layer("out").kernel.data[...] *= 10  # the output layer's weights all outrank the hidden layer's
    pruned = c.prune_low_magnitude(model, c.ConstantSparsity(0.5, 0, frequency=1), global_pruning=True)
    for layer in pruned.layers:
        layer.pruning_step.assign(np.asarray(0, dtype=np.int64))
    before = [np.abs(layer.layer.kernel.data).ravel() for layer in pruned.layers]
    cut = np.sort(np.concatenate(before))[88]  # 176 weights, the 88 smallest go
    prune_step(pruned.layers)
    expected = {"hidden/kernel": np.mean(before[0] < cut), "out/kernel": np.mean(before[1] < cut)}
    assert c.get_sparsity(pruned) == pytest.approx(expected)
    assert expected["hidden/kernel"] > 0.6 and expected["out/kernel"] < 0.1
    thresholds = {float(layer.pruning_vars[0][2].data) for layer in pruned.layers}
    hidden = pruned.layers[0].layer.kernel.data
    assert len(thresholds) == 1 and np.abs(hidden[hidden != 0]).min() == thresholds.pop()
    trained = _pruned_and_trained(0.5, global_pruning=True)
    magnitudes = np.concatenate([layer.layer.kernel.data.ravel() for layer in trained.layers])
    assert np.count_nonzero(magnitudes) == magnitudes.size // 2


def test_block_sparsity_zeroes_whole_blocks():
    layer = c.PruneLowMagnitude(layers.Dense(6), block_size=(2, 3))
    layer.build((None, 4))
    layer.update_masks(0.5)
    mask = layer.pruning_vars[0][1].data
    blocks = mask.reshape(2, 2, 2, 3)
    assert np.all(blocks.min(axis=(1, 3)) == blocks.max(axis=(1, 3)))
    assert mask.mean() == 0.5
    with pytest.raises(ValueError, match="2-D"):
        c.PruneLowMagnitude(layers.Conv2D(2, 3), block_size=(2, 2)).build((None, 5, 5, 1))


def test_unsupported_layer_and_summary_shows_sparsity():
    with pytest.raises(ValueError, match="cannot prune layer"):
        c.prune_low_magnitude(layers.Flatten())
    lines = []
    _pruned_and_trained().summary(print_fn=lines.append)
    assert sum("(75.0% sparse)" in line for line in lines) == 2


def test_rnn_and_conv_kernels_are_pruned():
    sd.random.seed(1)
    model = Sequential([layers.Conv1D(4, 3, input_shape=(10, 2)), layers.LSTM(5), layers.Dense(2)])
    pruned = c.prune_low_magnitude(model, c.ConstantSparsity(0.5, 0, frequency=1))
    pruned.compile("adam", "mse")
    x, y = np.random.rand(8, 10, 2).astype("float32"), np.random.rand(8, 2).astype("float32")
    pruned.fit(x, y, epochs=1, batch_size=4, verbose=0, callbacks=[c.UpdatePruningStep()])
    sparsity = c.get_sparsity(pruned)
    assert len(sparsity) == 4 and all(s == pytest.approx(0.5, abs=0.02) for s in sparsity.values())


def test_pruning_summaries_write_sparsity(tmp_path, tensorboard):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    x, y = _data()
    pruned = c.prune_low_magnitude(_model(), c.ConstantSparsity(0.5, 0, frequency=1))
    pruned.compile("adam", "mse")
    pruned.fit(x, y, epochs=2, batch_size=16, verbose=0,
               callbacks=[c.UpdatePruningStep(), c.PruningSummaries(str(tmp_path))])
    events = EventAccumulator(str(tmp_path / "metrics"), size_guidance={"tensors": 0, "scalars": 0})
    events.Reload()
    tags = events.Tags()
    names = tags.get("tensors", []) + tags.get("scalars", [])
    assert any(name.endswith("mask/sparsity") for name in names)

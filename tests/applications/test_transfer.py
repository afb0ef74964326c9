"""Freezing and fine-tuning as the Keras transfer-learning guide does it, on a small MobileNetV2: a frozen base has
no trainable weights and its BatchNormalization runs in inference mode even under training=True (Keras 3); a head
over `base(x, training=False)` trains alone; unfreezing the top blocks with a low learning rate trains those only."""

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.applications.mobilenet_v2 import MobileNetV2


def _base():
    sd.random.set_seed(0)
    return MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(32, 32, 3), pooling="avg")


def _data(n=8):
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (n, 32, 32, 3)).astype("float32"), rng.integers(0, 3, n)


def _snapshot(weights):
    return [np.array(w.numpy(), copy=True) for w in weights]


def _changed(weights, before):
    return [w.name for w, b in zip(weights, before) if not np.array_equal(w.numpy(), b)]


def test_frozen_base_has_only_non_trainable_weights():
    base = _base()
    total = len(base.weights)
    assert len(base.trainable_weights) == 156 and len(base.non_trainable_weights) == 104  # BN moving statistics
    base.trainable = False
    assert base.trainable_weights == [] and len(base.non_trainable_weights) == total
    assert all(not layer.trainable for layer in base.layers)
    base.trainable = True
    assert len(base.trainable_weights) == 156


def test_frozen_batch_normalization_runs_in_inference_mode():
    base = _base()
    x, _ = _data()
    base.trainable = False
    stats = [w for w in base.weights if "moving" in w.name]
    before = _snapshot(stats)
    inference = base(x, training=False).numpy()
    np.testing.assert_array_equal(base(x, training=True).numpy(), inference)
    assert _changed(stats, before) == []
    base.trainable = True  # trainable again: training=True uses batch statistics and moves the moving ones
    assert np.abs(base(x, training=True).numpy() - inference).max() > 1e-3
    assert len(_changed(stats, before)) == len(stats)


def test_feature_extraction_then_fine_tuning():
    base = _base()
    x, y = _data()
    base.trainable = False
    inputs = sd.keras.Input((32, 32, 3))
    features = base(inputs, training=False)
    outputs = layers.Dense(3, activation="softmax")(layers.Dropout(0.2)(features))
    model = sd.keras.Model(inputs, outputs)
    model.compile(optimizer=sd.keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    assert len(model.trainable_weights) == 2  # the head's kernel and bias
    before = _snapshot(base.weights)
    head_before = _snapshot(model.layers[-1].weights)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert _changed(base.weights, before) == []
    assert len(_changed(model.layers[-1].weights, head_before)) == 2

    base.trainable = True
    for layer in base.layers[:-6]:  # keep all but the last block's projection and the top convolution frozen
        layer.trainable = False
    model.compile(optimizer=sd.keras.optimizers.Adam(1e-5), loss="sparse_categorical_crossentropy")
    top = [w for layer in base.layers[-6:] for w in layer.trainable_weights]
    assert {w.name for w in top} <= {w.name for w in model.trainable_weights}
    assert len(model.trainable_weights) == len(top) + 2
    before = _snapshot(base.weights)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    changed = set(_changed(base.weights, before))
    assert changed <= {w.name for w in top}  # nothing below the top moves, nor any moving statistic
    assert {"Conv_1/kernel", "Conv_1_bn/beta", "block_16_project/kernel"} <= changed


@pytest.mark.parametrize("training", [True, False])
def test_unfrozen_base_called_with_training_false_keeps_statistics(training):
    """The guide's point: with `base(x, training=False)` the BatchNormalization layers stay in inference mode after
    unfreezing, so fine-tuning does not wreck what they learned; training=True would update them."""
    base = _base()
    x, y = _data()
    inputs = sd.keras.Input((32, 32, 3))
    model = sd.keras.Model(inputs, layers.Dense(3, activation="softmax")(base(inputs, training=training)))
    model.compile(optimizer=sd.keras.optimizers.SGD(1e-4), loss="sparse_categorical_crossentropy")
    stats = [w for w in base.weights if "moving" in w.name]
    before = _snapshot(stats)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert (len(_changed(stats, before)) == len(stats)) if training else _changed(stats, before) == []

"""Layer fusion in Sequential models: Conv2D + MaxPooling2D, and two such pairs in a row, run as one op with the
values, gradients and training of the layers run one by one, and only where nothing the layers' own calls do is
skipped."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.keras import Sequential, layers
from shendu.keras_mask import set_keras_mask
from shendu.models import fusion, sequential
from shendu.ops import conv_pool


def cnn(fuse: bool | str, activation: str = "relu", padding: str = "valid") -> Sequential:
    """The test CNN: two conv/pool pairs, fused as a chain (True), as two pairs ("pairs") or not at all (False)."""
    sd.random.seed(7)
    with pytest.MonkeyPatch.context() as mp:
        if not fuse:
            mp.setattr(sequential, "fused_with", lambda layers, i: None)
        elif fuse == "pairs":
            mp.setattr(sequential, "fused_with", lambda layers, i: (fusion.fused_with(layers, i) or (None,))[:1]
                       if fusion.fused_with(layers, i) else None)
        return Sequential([
            layers.Conv2D(4, 3, activation=activation, padding=padding, input_shape=(9, 8, 2)),
            layers.MaxPooling2D(2, padding=padding),
            layers.Conv2D(3, (2, 3), strides=(1, 2), activation=activation, use_bias=False),
            layers.MaxPooling2D((2, 1)),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ])


@pytest.fixture
def spy(monkeypatch):
    """The fused ops' applications in turn: 1 for a pair, 2 for a chain of two."""
    calls = []
    for op, mark in ((conv_pool.Conv2DMaxPool, 1), (conv_pool.ConvPoolChain, 2)):
        apply = op.apply
        monkeypatch.setattr(op, "apply", lambda *a, _apply=apply, _mark=mark, **k: calls.append(_mark) or
                            _apply(*a, **k))
    return calls


@pytest.mark.parametrize("fuse", [True, "pairs"])
@pytest.mark.parametrize(("activation", "padding"), [("relu", "valid"), ("linear", "same")])
def test_fused_sequential_trains_as_the_layers_one_by_one(spy, fuse, activation, padding, compiled):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 9, 8, 2)).astype("float32"), rng.integers(0, 3, 16)
    models = [cnn(fuse, activation, padding), cnn(False, activation, padding)]
    for model in models:
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")  # linear in the gradients
    fused, layered = models[0].predict(x, verbose=0), models[1].predict(x, verbose=0)
    if compiled:  # pairs with few input taps (in predict: all) run as the compiled loop, summing in another order
        np.testing.assert_allclose(fused, layered, rtol=1e-6, atol=1e-7)
    else:
        np.testing.assert_array_equal(fused, layered)
    assert spy == ([2] if fuse is True else [1, 1])  # the fused model's conv/pool layers, none of the other's
    for model in models:
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_other_activations_masks_and_symbolic_inputs_run_the_layers(spy):
    model = cnn(True, activation="tanh")
    model.predict(np.zeros((2, 9, 8, 2), "float32"), verbose=0)
    assert spy == []  # tanh after the pool would not be the same
    model = cnn(True)
    x = sd.Tensor(np.ones((2, 9, 8, 2), "float32"))
    set_keras_mask(x, np.ones((2, 9), bool))
    with pytest.warns(UserWarning, match="does not support masking"):
        model(x)
    assert spy == [1]  # the first pair ran layer by layer (the conv dropped the mask), the second fused alone
    out = model(layers.Input((9, 8, 2)))
    assert tuple(out.shape) == (None, 3) and spy == [1]


def test_fused_call_reports_bad_inputs_as_the_layers_do():
    conv, pool = cnn(True).layers[:2]
    with pytest.raises(ValueError, match="built for inputs with 2 channels"):
        fusion.call_fused(conv, (pool,), sd.Tensor(np.zeros((2, 9, 8, 3), "float32")))
    with pytest.raises(ValueError, match="smaller than pool_size"):
        fusion.call_fused(conv, (pool,), sd.Tensor(np.zeros((2, 3, 8, 2), "float32")))
    with pytest.raises(ValueError, match="is smaller than the kernel"):  # the chain checks its second pair too
        fusion.call_fused(conv, tuple(cnn(True).layers[1:4]), sd.Tensor(np.zeros((2, 5, 8, 2), "float32")))

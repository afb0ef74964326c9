"""The model-randomisation sanity check (Adebayo et al. 2018) on a task whose answer is known: a bright 3x3 patch
in the left or right half of a noisy image decides the class. A trained CNN's saliency must sit on the patch, and a
randomly re-initialised copy's must differ from it (low rank correlation), else the method explains nothing."""

import numpy as np

import shendu as sd
from shendu import explain
from shendu.keras import Sequential, layers, losses


def patch_task(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 10, 10, 1), dtype=np.float32) * 0.3
    y = rng.integers(0, 2, n)
    where = np.zeros(x.shape, dtype=bool)
    for i in range(n):
        r, c = rng.integers(0, 8), rng.integers(0, 3) + 5 * y[i]
        x[i, r:r + 3, c:c + 3] = 1.0
        where[i, r:r + 3, c:c + 3] = True
    return x, y, where


def cnn(seed):
    sd.random.seed(seed)
    model = Sequential([layers.Input((10, 10, 1)), layers.Conv2D(8, (3, 3), activation="relu"),
                        layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(2)])  # logits
    model.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def rank_correlation(a, b):
    """Spearman's rho per sample: the Pearson correlation of the ranks."""
    ra = np.argsort(np.argsort(a.reshape(len(a), -1), axis=1), axis=1).astype(float)
    rb = np.argsort(np.argsort(b.reshape(len(b), -1), axis=1), axis=1).astype(float)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    return (ra * rb).sum(axis=1) / np.sqrt((ra ** 2).sum(axis=1) * (rb ** 2).sum(axis=1))


def on_patch_density(a, where):
    """Mean |attribution| on the patch over the mean elsewhere, per sample (1: no preference)."""
    n, a = len(a), np.abs(a).reshape(len(a), -1)
    inside = where.reshape(n, -1)
    return (a * inside).sum(axis=1) / inside.sum(axis=1) / ((a * ~inside).sum(axis=1) / (~inside).sum(axis=1))


def test_saliency_finds_the_patch_and_changes_on_a_randomised_model():
    x, y, _ = patch_task(600, 0)
    model = cnn(0)
    model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    x_test, y_test, where = patch_task(20, 1)
    assert (model.predict(x_test, verbose=0).argmax(axis=1) == y_test).mean() >= 0.95
    random = cnn(1)  # the same network, randomly re-initialised
    trained, shuffled = explain.saliency(model, x_test, y_test), explain.saliency(random, x_test, y_test)
    assert np.median(on_patch_density(trained, where)) > 1.6  # about 2.0
    assert np.median(on_patch_density(trained, where)) > np.median(on_patch_density(shuffled, where)) + 0.4
    assert np.median(rank_correlation(trained, shuffled)) < 0.35  # about 0.2
    occluded = explain.occlusion(model, x_test, y_test, window=(3, 3))
    assert np.median(on_patch_density(occluded, where)) > 4  # about 5.6

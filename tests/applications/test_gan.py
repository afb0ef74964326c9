"""GAN: one step against a PyTorch reference, what each side's step may touch, training mode, fit, shapes, saving."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest

import shendu as sd
from shendu import layers, optimizers
from shendu.applications.gan import GAN, class_quality, frechet_distance
from shendu.callbacks import Callback
from shendu.layers.base import Layer
from shendu.models import Model, Sequential, load_model
from shendu.utils.image_grid import image_grid, save_image_grid

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "generative.md")


def tiny_gan(seed: int = 7, batchnorm: bool = True) -> GAN:
    sd.random.seed(0)
    generator = Sequential([layers.Dense(3, activation="tanh", input_shape=(2,)), layers.Dense(4)])
    middle = [layers.BatchNormalization()] if batchnorm else []
    discriminator = Sequential([layers.Dense(5, input_shape=(4,)), *middle, layers.LeakyReLU(0.2),
                                layers.Dense(1, activation="sigmoid")])
    return GAN(generator, discriminator, latent_dim=2, seed=seed)


def real_batch(n: int = 6) -> np.ndarray:
    return np.random.default_rng(1).normal(1.0, 0.5, (n, 4)).astype("float32")


def test_one_step_matches_a_pytorch_reference() -> None:
    torch = pytest.importorskip("torch")
    gan = tiny_gan(seed=7)
    gan.compile(optimizers.SGD(0.1), optimizers.SGD(0.05), label_smoothing=0.1)
    g0 = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in gan.generator.get_weights()]
    d0 = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in gan.discriminator.get_weights()]
    x = real_batch()
    logs = gan.train_step(x)

    rng = np.random.default_rng(7)
    z1, z2 = (torch.tensor(rng.standard_normal((6, 2)).astype("float32"), dtype=torch.float64) for _ in range(2))
    gk1, gb1, gk2, gb2 = g0
    moving = [d0[4].detach().clone(), d0[5].detach().clone()]  # d0: kernel, bias, gamma, beta, moving, kernel, bias

    def generator(z):
        return torch.tanh(z @ gk1 + gb1) @ gk2 + gb2

    def discriminator(v, w):
        h = v @ w[0] + w[1]
        mean, var = h.mean(0), h.var(0, unbiased=False)
        moving[0] = 0.99 * moving[0] + 0.01 * mean.detach()
        moving[1] = 0.99 * moving[1] + 0.01 * var.detach()
        h = torch.nn.functional.leaky_relu((h - mean) / torch.sqrt(var + 1e-3) * w[2] + w[3], 0.2)
        return torch.sigmoid(h @ w[6] + w[7])

    def bce(target, p):
        return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()

    trainable = [0, 1, 2, 3, 6, 7]
    fake = generator(z1).detach()
    real = torch.tensor(x, dtype=torch.float64)
    d_loss = 0.5 * (bce(0.9, discriminator(real, d0)) + bce(0.0, discriminator(fake, d0)))
    grads = torch.autograd.grad(d_loss, [d0[i] for i in trainable])
    d1 = list(d0)
    for i, g in zip(trainable, grads):
        d1[i] = (d0[i] - 0.1 * g).detach()
    g_loss = bce(1.0, discriminator(generator(z2), d1))
    g_grads = torch.autograd.grad(g_loss, g0)
    g1 = [(w - 0.05 * g).detach() for w, g in zip(g0, g_grads)]
    d1[4], d1[5] = moving

    assert logs["d_loss"] == pytest.approx(d_loss.item(), rel=1e-5)
    assert logs["g_loss"] == pytest.approx(g_loss.item(), rel=1e-5)
    for ours, ref in zip(gan.discriminator.get_weights(), d1):
        np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-5, atol=1e-6)
    for ours, ref in zip(gan.generator.get_weights(), g1):
        np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-5, atol=1e-6)


def test_generator_step_moves_only_the_generator() -> None:
    gan = tiny_gan()
    gan.compile(optimizers.Adam(0.01), optimizers.Adam(0.01))
    gan.discriminator_step(real_batch())
    d_before = [np.array(v.data) for v in gan.discriminator.trainable_weights]
    g_before = gan.generator.get_weights()
    gan.generator_step(6)
    for v, before in zip(gan.discriminator.trainable_weights, d_before):
        np.testing.assert_array_equal(v.data, before)
        assert v.grad is None, f"{v.name} received a gradient in the generator step"
        assert v.requires_grad, "the discriminator's weights must take gradients again after the generator step"
    assert all(not np.array_equal(a, b) for a, b in zip(gan.generator.get_weights(), g_before))


def test_discriminator_step_moves_only_the_discriminator() -> None:
    gan = tiny_gan()
    gan.compile(optimizers.Adam(0.01), optimizers.Adam(0.01))
    g_before, d_before = gan.generator.get_weights(), gan.discriminator.trainable_weights
    d_before = [np.array(v.data) for v in d_before]
    gan.discriminator_step(real_batch())
    for a, b in zip(gan.generator.get_weights(), g_before):
        np.testing.assert_array_equal(a, b)
    assert all(v.grad is None for v in gan.generator.trainable_weights)
    assert all(not np.array_equal(v.data, b) for v, b in zip(gan.discriminator.trainable_weights, d_before))


class TrainingSpy(Layer):
    """Records the training flag of every call."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.flags: list = []

    def call(self, inputs, training=None):
        self.flags.append(training)
        return inputs


def test_discriminator_runs_in_training_mode_in_both_steps() -> None:
    sd.random.seed(0)
    spy = TrainingSpy()
    dropout = layers.Dropout(0.5)
    generator = Sequential([layers.Dense(4, input_shape=(2,))])
    discriminator = Sequential([layers.Dense(8, input_shape=(4,)), spy, dropout, layers.Dense(1, activation="sigmoid")])
    gan = GAN(generator, discriminator, latent_dim=2, seed=0)
    gan.compile(optimizers.SGD(0.01), optimizers.SGD(0.01))
    spy.flags.clear()
    gan.train_step(real_batch(64))
    assert spy.flags == [True, True, True]  # real batch, fake batch, generator step
    with sd.no_grad():
        out = discriminator.layers[0](real_batch(64))
        dropped = dropout(out, training=True)
    assert (np.asarray(dropped) == 0).mean() > 0.3  # the same layer is active when training


def test_fit_logs_both_losses_to_progress_bar_history_and_callbacks(capsys: pytest.CaptureFixture) -> None:
    gan = tiny_gan(batchnorm=False)
    gan.compile(optimizers.Adam(1e-3), optimizers.Adam(1e-3))
    seen: list = []

    class Recorder(Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(dict(logs))

        def on_epoch_end(self, epoch, logs=None):
            seen.append(("epoch", epoch, dict(logs)))

    history = gan.fit(real_batch(40), epochs=2, batch_size=16, callbacks=[Recorder()], verbose=1)
    out = capsys.readouterr().out
    assert "d_loss" in out and "g_loss" in out and "Epoch 2/2" in out
    assert set(history.history) == {"d_loss", "g_loss"} and len(history.history["d_loss"]) == 2
    batches = [s for s in seen if isinstance(s, dict)]
    assert len(batches) == 6 and set(batches[0]) == {"d_loss", "g_loss"}
    epoch_end = [s for s in seen if isinstance(s, tuple)]
    assert epoch_end[1][2]["d_loss"] == pytest.approx(history.history["d_loss"][1])
    assert int(gan.d_optimizer.iterations) == 6 and int(gan.g_optimizer.iterations) == 6


def test_fit_learns_a_gaussian() -> None:
    sd.random.seed(0)
    generator = Sequential([layers.Dense(16, activation="relu", input_shape=(4,)), layers.Dense(2)])
    discriminator = Sequential([layers.Dense(16, activation="relu", input_shape=(2,)),
                                layers.Dense(1, activation="sigmoid")])
    gan = GAN(generator, discriminator, latent_dim=4, seed=1)
    gan.compile(optimizers.Adam(2e-3, beta_1=0.5), optimizers.Adam(2e-3, beta_1=0.5), label_smoothing=0.1)
    target = np.array([2.0, -1.0])
    real = (np.random.default_rng(0).normal(size=(1024, 2)) * 0.3 + target).astype("float32")
    errors: list = []

    class MeanError(Callback):
        def on_epoch_end(self, epoch, logs=None):
            errors.append(np.abs(gan.generate(2000, seed=0).mean(0) - target).max())

    gan.fit(real, epochs=25, batch_size=64, verbose=0, callbacks=[MeanError()])
    assert errors[0] > 2.0 and max(errors[-5:]) < 0.3, np.round(errors, 2)


def test_generate_is_repeatable_with_a_seed_and_uses_inference_mode() -> None:
    gan = tiny_gan()
    a, b, c = gan.generate(5, seed=3), gan.generate(5, seed=3), gan.generate(5, seed=4)
    assert a.shape == (5, 4) and isinstance(a, np.ndarray)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    z = np.random.default_rng(3).standard_normal((5, 2)).astype("float32")
    np.testing.assert_allclose(a, gan.generator.predict(z, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(gan.predict(z, verbose=0), a, rtol=1e-6)


def test_mismatched_shapes_raise_at_compile_naming_both() -> None:
    generator = Sequential([layers.Dense(3, input_shape=(2,))])
    discriminator = Sequential([layers.Dense(1, input_shape=(4,))])
    gan = GAN(generator, discriminator, latent_dim=2)
    with pytest.raises(ValueError, match=r"\(None, 3\).*\(None, 4\)"):
        gan.compile()
    with pytest.raises(ValueError, match="latent_dim is 5"):
        GAN(Sequential([layers.Dense(4, input_shape=(2,))]), discriminator, latent_dim=5).compile()


def test_mismatched_shapes_raise_at_the_first_step_for_subclassed_models() -> None:
    class Generator(Model):
        def __init__(self) -> None:
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, z):
            return self.dense(z)

    gan = GAN(Generator(), Sequential([layers.Dense(1, activation="sigmoid")]), latent_dim=2)
    gan.compile()
    with pytest.raises(ValueError, match=r"generator's output shape \(None, 3\).*real data's shape \(None, 4\)"):
        gan.fit(real_batch(), epochs=1, verbose=0)


def test_compile_errors() -> None:
    gan = tiny_gan()
    with pytest.raises(RuntimeError, match="compile"):
        gan.fit(real_batch(), verbose=0)
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="separate optimizers"):
        gan.compile(opt, opt)
    with pytest.raises(ValueError, match="label_smoothing"):
        gan.compile(label_smoothing=1.0)
    with pytest.raises(ValueError, match="latent_dim"):
        GAN(gan.generator, gan.discriminator, latent_dim=0)


def test_non_finite_loss_stops_fit(capsys: pytest.CaptureFixture) -> None:
    gan = tiny_gan(batchnorm=False)
    gan.compile(optimizers.SGD(0.1), optimizers.SGD(0.1))
    real = real_batch(32)
    real[5, 0] = np.nan
    history = gan.fit(real, epochs=3, batch_size=8, shuffle=False, verbose=0)
    assert len(history.history["d_loss"]) == 1
    assert "not finite" in capsys.readouterr().out


def test_generator_and_discriminator_save_and_load(tmp_path) -> None:
    gan = tiny_gan()
    gan.compile(optimizers.Adam(1e-3), optimizers.Adam(1e-3), label_smoothing=0.2)
    gan.fit(real_batch(32), epochs=1, batch_size=8, verbose=0)
    gan.generator.save(tmp_path / "g.shendu")
    gan.discriminator.save(tmp_path / "d.shendu")
    z, x = np.random.default_rng(0).standard_normal((4, 2)), real_batch(4)
    np.testing.assert_array_equal(load_model(tmp_path / "g.shendu").predict(z, verbose=0),
                                  gan.generator.predict(z, verbose=0))
    np.testing.assert_array_equal(load_model(tmp_path / "d.shendu").predict(x, verbose=0),
                                  gan.discriminator.predict(x, verbose=0))
    gan.save(tmp_path / "gan.shendu")
    again = load_model(tmp_path / "gan.shendu", custom_objects={"GAN": GAN})
    assert isinstance(again, GAN) and again.latent_dim == 2 and again.label_smoothing == 0.2
    np.testing.assert_array_equal(again.generate(8, seed=1), gan.generate(8, seed=1))
    np.testing.assert_array_equal(again.discriminator.predict(x, verbose=0), gan.discriminator.predict(x, verbose=0))


def test_documented_custom_train_step_runs() -> None:
    with open(DOCS, encoding="utf-8") as f:
        text = f.read()
    code = text.split("<!-- custom-train-step -->\n```python\n", 1)[1].split("```", 1)[0]
    scope: dict = {"__name__": "docs_generative"}
    exec(compile(code, "docs/generative.md", "exec"), scope)
    history, samples = scope["history"], scope["samples"]
    assert set(history.history) == {"d_loss", "g_loss"} and len(history.history["g_loss"]) == 20
    np.testing.assert_allclose(samples.mean(0), [2.0, -1.0], atol=0.3)


def test_frechet_distance_against_its_closed_form() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3)) @ rng.normal(size=(3, 3))
    b = rng.normal(size=(3000, 3)) @ rng.normal(size=(3, 3)) + 1.0
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    trace_root = np.sqrt(np.linalg.eigvals(s_a @ s_b).real.clip(0)).sum()  # tr sqrt(S_a S_b) by another route
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a + s_b) - 2 * trace_root
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    assert abs(frechet_distance(a, a)) < 1e-9
    with pytest.raises(ValueError, match="same d"):
        frechet_distance(a, b[:, :2])


def test_class_quality() -> None:
    p = np.array([[0.95, 0.05, 0.0], [0.6, 0.4, 0.0], [0.01, 0.98, 0.01], [0.0, 0.99, 0.01]])
    q = class_quality(p)
    assert q["confident"] == 0.75 and q["coverage"] == 2 and q["min_share"] == 0.0
    np.testing.assert_allclose(q["class_shares"], [0.5, 0.5, 0.0])


def _decode_png(path) -> np.ndarray:
    with open(path, "rb") as f:
        blob = f.read()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, color = struct.unpack(">IIBB", blob[16:26])
    idat, pos = b"", 8
    while pos < len(blob):
        (length,) = struct.unpack(">I", blob[pos:pos + 4])
        if blob[pos + 4:pos + 8] == b"IDAT":
            idat += blob[pos + 8:pos + 8 + length]
        pos += 12 + length
    assert depth == 8 and color == 0
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, width + 1)
    return rows[:, 1:]


def test_image_grid_png(tmp_path) -> None:
    images = np.linspace(-1, 1, 5 * 3 * 2).reshape(5, 3, 2, 1)
    grid = image_grid(images, ncols=3, padding=1, value_range=(-1, 1))
    assert grid.shape == (2 * 4 + 1, 3 * 3 + 1) and grid.dtype == np.uint8
    np.testing.assert_array_equal(grid[1:4, 1:3], np.round((images[0, ..., 0] + 1) / 2 * 255))
    assert grid[0].min() == 255 and grid[5:8, 7:9].min() == 255  # padding and the empty sixth cell
    path = save_image_grid(images, tmp_path / "grid.png", ncols=3, value_range=(-1, 1))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        np.testing.assert_array_equal(_decode_png(path), grid)
    assert os.path.getsize(path) > 0
    with pytest.raises(ValueError, match=r"\(n, h, w\)"):
        image_grid(np.zeros((2, 3)))


def test_mixture_prior_samples_near_its_fixed_means() -> None:
    base = tiny_gan()
    gan = GAN(base.generator, base.discriminator, latent_dim=2, latent_components=3, latent_spread=0.01, latent_seed=5)
    means = np.random.default_rng(5).standard_normal((3, 2))
    np.testing.assert_allclose(gan.latent_means, means, rtol=1e-6)
    z = gan.sample_latent(3000, np.random.default_rng(0))
    distance = np.linalg.norm(z[:, None, :] - means[None], axis=2)
    assert distance.min(1).max() < 0.06  # every z within a few spreads of one mean
    shares = np.bincount(distance.argmin(1), minlength=3) / len(z)
    np.testing.assert_allclose(shares, 1 / 3, atol=0.04)  # components drawn uniformly
    np.testing.assert_allclose(z.std(0), means.std(0), rtol=0.15)  # spread is the means', not N(0, I)'s
    assert GAN(gan.generator, gan.discriminator, latent_dim=2).sample_latent(3000, np.random.default_rng(0)).std() > 0.9


def test_mixture_prior_drives_generate_and_survives_saving(tmp_path) -> None:
    base = tiny_gan()
    gan = GAN(base.generator, base.discriminator, latent_dim=2, seed=7, latent_components=4, latent_spread=0.3)
    gan.compile(optimizers.Adam(1e-3), optimizers.Adam(1e-3))
    gan.fit(real_batch(32), epochs=1, batch_size=8, verbose=0)
    z = gan.sample_latent(6, np.random.default_rng(2))
    np.testing.assert_allclose(gan.generate(6, seed=2), gan.generator.predict(z, verbose=0), rtol=1e-6)
    gan.save(tmp_path / "gan.shendu")
    again = load_model(tmp_path / "gan.shendu", custom_objects={"GAN": GAN})
    assert (again.latent_components, again.latent_spread, again.latent_seed) == (4, 0.3, 0)
    np.testing.assert_array_equal(again.latent_means, gan.latent_means)
    np.testing.assert_array_equal(again.generate(8, seed=1), gan.generate(8, seed=1))


@pytest.mark.parametrize("kwargs, message", [({"latent_components": -1}, "latent_components must be an integer >= 0"),
                                             ({"latent_components": 2.5}, "latent_components"),
                                             ({"latent_spread": 0.0}, "latent_spread must be positive")])
def test_mixture_prior_bad_arguments(kwargs, message) -> None:
    base = tiny_gan()
    with pytest.raises(ValueError, match=message):
        GAN(base.generator, base.discriminator, latent_dim=2, **kwargs)

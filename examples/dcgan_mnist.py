"""A DCGAN on MNIST (Radford et al. 2015) sized for a CPU: Dense -> Reshape -> Conv2DTranspose + BatchNormalization
+ LeakyReLU generator, Conv2D + BatchNormalization discriminator, Adam(beta_1=0.5) at 2e-4 for the generator and
4e-4 for the discriminator (two time scales), held for half the steps and then decayed, one-sided label
smoothing 0.1, batch 32, z from a mixture of 200 Gaussians of spread 0.35
(GAN's latent_components), and an exponential moving average of the generator's weights (what is sampled and saved).
`--tutorial` trains the Keras DCGAN tutorial's larger networks instead. Measured (docs/generative.md): 6 epochs in
24 min on 2 shared cores; 90.7% of 10,000 samples labelled with confidence > 0.9 (goal 90%), all ten digits, the
smallest 6.9%, Fréchet distance 11.63 (real vs real 14.10).

    python examples/dcgan_mnist.py [--output out] [--epochs 6] [--latent-components 200] [--tutorial]

Writes a grid of 64 samples (the same noise every time) after each epoch, dcgan_epoch_NN.png, and the trained
generator and discriminator (dcgan_generator.shendu, dcgan_discriminator.shendu) to the output folder. Then it
measures the samples instead of judging them by eye (docs/generative.md): the CNN of examples/mnist_cnn.py
(loaded from out/mnist_cnn.shendu, or trained here for --classifier-epochs and saved there) labels 10,000
generated digits; it prints the share labelled with confidence > 0.9, the class coverage, and the Fréchet distance
between generated and real test digits in the classifier's 128-unit penultimate layer, with the distance between
the two halves of the real test set beside it for scale.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from mnist_cnn import build_model

import shendu as sd
from shendu import grad_mode, layers, optimizers, schedules
from shendu.applications.gan import GAN, class_quality, frechet_distance
from shendu.callbacks import Callback
from shendu.datasets import mnist
from shendu.layers.convolutional import Conv2D, Conv2DTranspose
from shendu.layers.pooling import MaxPooling2D
from shendu.layers.reshaping_image import UpSampling2D
from shendu.models import Sequential, load_model
from shendu.utils.image_grid import save_image_grid

CUSTOM_OBJECTS = {"Conv2D": Conv2D, "MaxPooling2D": MaxPooling2D}  # until shendu.layers exports them
EPOCHS, BATCH_SIZE, LEARNING_RATE, D_LEARNING_RATE, EMA_MOMENTUM = 6, 32, 2e-4, 4e-4, 0.9995
D_WIDTH, G_WIDTH = 64, 128
LATENT_COMPONENTS, LATENT_SPREAD = 200, 0.35  # the mixture prior of GAN(latent_components=...)
CLASSIFIER_EPOCHS = 5  # examples/mnist_cnn.py's, so a judge trained here is the network that example saves


def mnist_images() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as float32 images in [0, 1] of shape (n, 28, 28, 1), with their labels."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return ((x_train / 255.0).astype("float32")[..., None], y_train), ((x_test / 255.0).astype("float32")[..., None],
                                                                       y_test)


def mnist_classifier(path: str, data: tuple, epochs: int = CLASSIFIER_EPOCHS) -> Sequential:
    """The CNN of examples/mnist_cnn.py, loaded from `path` or trained here as that example trains it (seed 0,
    Adam, batch 64, 5 epochs) and saved there."""
    if os.path.exists(path):
        print(f"classifier: {path}")
        return load_model(path, custom_objects=CUSTOM_OBJECTS)
    (x_train, y_train), (x_test, y_test) = data
    sd.random.seed(0)
    model = build_model()
    print(f"training the classifier of examples/mnist_cnn.py for {epochs} epochs")
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=2)
    print(f"classifier test accuracy {model.evaluate(x_test, y_test, verbose=0)[1]:.4f}; saved to {path}")
    model.save(path)
    return model


def penultimate(classifier: Sequential, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The classifier's features before its last Dense layer (the 128 ReLU units; Dropout is off)."""
    out = []
    with grad_mode.no_grad():
        for i in range(0, len(images), batch_size):
            h = sd.Tensor(images[i:i + batch_size])
            for layer in classifier.layers[:-2]:
                h = layer(h, training=False)
            out.append(h.numpy())
    return np.concatenate(out)


def report_quality(name: str, generated: np.ndarray, classifier: Sequential, x_test: np.ndarray) -> dict:
    """Print and return the measure of docs/generative.md for images in [0, 1]: confident share, class coverage,
    Fréchet distances (generated vs real test half A, real half B vs real half A, 5,000 images each)."""
    q = class_quality(classifier.predict(generated, batch_size=500, verbose=0), threshold=0.9)
    real = class_quality(classifier.predict(x_test, batch_size=500, verbose=0), threshold=0.9)
    half_a, half_b = penultimate(classifier, x_test[:5000]), penultimate(classifier, x_test[5000:10000])
    q["fd"] = frechet_distance(penultimate(classifier, generated[:5000]), half_a)
    q["fd_real"] = frechet_distance(half_b, half_a)
    shares = " ".join(f"{d}:{s:.1%}" for d, s in enumerate(q["class_shares"]))
    print(f"{name}: {len(generated)} samples")
    print(f"  classified with confidence > 0.9: {q['confident']:.1%} (goal >= 90%; real test digits: "
          f"{real['confident']:.1%})")
    print(f"  class coverage: {q['coverage']}/10, smallest class {q['min_share']:.1%} (goal: none under 5%)")
    print(f"  class shares: {shares}")
    print(f"  Fréchet distance in the classifier's features: generated vs real {q['fd']:.2f}; real vs real "
          f"{q['fd_real']:.2f} (two disjoint halves of the test set)")
    return q


class SampleGrid(Callback):
    """Writes the generator's images for a fixed batch of noise (drawn once from the GAN's latent prior) after each
    epoch; with a g_optimizer that keeps an exponential moving average of the weights (use_ema=True), the images are
    those of the averaged generator."""

    def __init__(self, folder: str, prefix: str, n: int = 64, image_shape: tuple = (28, 28)) -> None:
        super().__init__()
        self.folder, self.prefix, self.n, self.image_shape = folder, prefix, n, image_shape
        self.z: np.ndarray | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.z is None:
            self.z = self.model.sample_latent(self.n, np.random.default_rng(1234))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        generator = self.model.generator
        current = generator.get_weights()
        self.model.g_optimizer.finalize_variable_values(generator.trainable_weights)  # no-op without use_ema
        images = generator.predict(self.z, verbose=0).reshape(-1, *self.image_shape)
        generator.set_weights(current)
        path = os.path.join(self.folder, f"{self.prefix}_epoch_{epoch + 1:02d}.png")
        save_image_grid(images, path, ncols=8, value_range=(-1, 1), scale=2)


def generator(latent_dim: int, width: int = 128) -> Sequential:
    """The default generator, sized for a CPU: Dense -> 7x7xwidth -> 14x14x(width/2) -> 28x28x1 (tanh), 4x4
    stride-2 Conv2DTranspose steps, each hidden one followed by BatchNormalization and LeakyReLU(0.2)."""
    return Sequential([
        layers.Dense(7 * 7 * width, use_bias=False, input_shape=(latent_dim,)),
        layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.Reshape((7, 7, width)),
        Conv2DTranspose(width // 2, 4, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(0.2),
        Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),
    ], name="generator")


def discriminator(width: int = 64) -> Sequential:
    """The default discriminator: 28x28x1 -> 14x14xwidth -> 7x7x(2 width) -> 4x4x(4 width) (stride-2 convolutions,
    4x4, 4x4 and 3x3, the last two followed by BatchNormalization, LeakyReLU 0.2) -> Dense(1, sigmoid). The third
    convolution sees the whole digit; without it the discriminator passes hybrid shapes (docs/generative.md)."""
    return Sequential([
        Conv2D(width, 4, strides=2, padding="same", input_shape=(28, 28, 1)), layers.LeakyReLU(0.2),
        Conv2D(2 * width, 4, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        Conv2D(4 * width, 3, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Flatten(), layers.Dense(1, activation="sigmoid"),
    ], name="discriminator")


def tutorial_generator(latent_dim: int, upsampling: bool = False) -> Sequential:
    """The Keras/TensorFlow DCGAN tutorial's generator: Dense -> 7x7x256 -> 7x7x128 -> 14x14x64 -> 28x28x1 (tanh),
    each step a 5x5 Conv2DTranspose (strides 1, 2, 2) then BatchNormalization and LeakyReLU; `upsampling` makes the
    two stride-2 steps UpSampling2D + Conv2D."""
    def up(filters: int, **kwargs: object) -> list:
        if upsampling:
            return [UpSampling2D(), Conv2D(filters, 5, padding="same", **kwargs)]
        return [Conv2DTranspose(filters, 5, strides=2, padding="same", **kwargs)]

    return Sequential([
        layers.Dense(7 * 7 * 256, use_bias=False, input_shape=(latent_dim,)),
        layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.Reshape((7, 7, 256)),
        Conv2DTranspose(128, 5, padding="same", use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(0.2),
        *up(64, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(0.2),
        *up(1, activation="tanh"),
    ], name="generator")


def tutorial_discriminator() -> Sequential:
    """The tutorial's discriminator: 28x28x1 -> 14x14x64 -> 7x7x128 (5x5 stride-2 convolutions, LeakyReLU 0.2,
    Dropout 0.3) -> Dense(1, sigmoid)."""
    return Sequential([
        Conv2D(64, 5, strides=2, padding="same", input_shape=(28, 28, 1)), layers.LeakyReLU(0.2), layers.Dropout(0.3),
        Conv2D(128, 5, strides=2, padding="same"), layers.LeakyReLU(0.2), layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(1, activation="sigmoid"),
    ], name="discriminator")


def learning_rate(peak: float, steps: int) -> schedules.LearningRateSchedule:
    """Constant for the first half of the steps, then a cosine down to 0 (written as CosineDecay with a flat
    'warm-up' from peak to peak), so that training ends on small steps rather than in the middle of a swing."""
    half = max(steps // 2, 1)
    return schedules.CosineDecay(peak, decay_steps=half, warmup_target=peak, warmup_steps=steps - half)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="out", help="folder for the images and models (default: out)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--train-size", type=int, default=60000, help="train on the first N training images")
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--latent-components", type=int, default=LATENT_COMPONENTS,
                        help="z from a mixture of this many fixed Gaussians (0: z ~ N(0, I))")
    parser.add_argument("--latent-spread", type=float, default=LATENT_SPREAD,
                        help="standard deviation of each component")
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE,
                        help="the generator's Adam peak (held for half the steps, then decayed to 0)")
    parser.add_argument("--d-learning-rate", type=float, default=D_LEARNING_RATE,
                        help="the discriminator's Adam peak (by default twice the generator's: two time scales)")
    parser.add_argument("--ema", type=float, default=EMA_MOMENTUM,
                        help="momentum of the generator's weight average that is sampled and saved (0: none)")
    parser.add_argument("--d-width", type=int, default=D_WIDTH,
                        help="filters of the discriminator's first convolution (then 2x and 4x)")
    parser.add_argument("--g-width", type=int, default=G_WIDTH,
                        help="channels of the generator's 7x7 layer (then half at 14x14)")
    parser.add_argument("--tutorial", action="store_true",
                        help="the Keras DCGAN tutorial's networks (about 4 times the work per step)")
    parser.add_argument("--upsampling", action="store_true",
                        help="with --tutorial: UpSampling2D + Conv2D instead of Conv2DTranspose")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the noise draws")
    parser.add_argument("--classifier-epochs", type=int, default=CLASSIFIER_EPOCHS)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)

    sd.random.seed(args.seed)
    data = mnist_images()
    (x_train, _), (x_test, _) = data
    real = x_train[:args.train_size] * 2 - 1  # tanh range
    if args.tutorial:
        nets = tutorial_generator(args.latent_dim, args.upsampling), tutorial_discriminator()
    else:
        nets = generator(args.latent_dim, args.g_width), discriminator(args.d_width)
    gan = GAN(*nets, latent_dim=args.latent_dim, seed=args.seed, latent_components=args.latent_components,
              latent_spread=args.latent_spread)
    steps = args.epochs * -(-len(real) // args.batch_size)
    g_optimizer = optimizers.Adam(learning_rate(args.learning_rate, steps), beta_1=0.5, use_ema=args.ema > 0,
                                  ema_momentum=args.ema)
    gan.compile(d_optimizer=optimizers.Adam(learning_rate(args.d_learning_rate, steps), beta_1=0.5),
                g_optimizer=g_optimizer, label_smoothing=0.1)
    gan.generator.summary()
    gan.discriminator.summary()
    start = time.time()
    gan.fit(real, epochs=args.epochs, batch_size=args.batch_size, callbacks=[SampleGrid(args.output, "dcgan")])
    minutes = (time.time() - start) / 60
    print(f"trained on {len(real)} images, {args.epochs} epochs of batch {args.batch_size}, in {minutes:.1f} min "
          f"({minutes / max(args.epochs, 1):.2f} min per epoch)")
    g_optimizer.finalize_variable_values(gan.generator.trainable_weights)  # the averaged generator from here on
    gan.generator.save(os.path.join(args.output, "dcgan_generator.shendu"))
    gan.discriminator.save(os.path.join(args.output, "dcgan_discriminator.shendu"))

    classifier = mnist_classifier(os.path.join(args.output, "mnist_cnn.shendu"), data, args.classifier_epochs)
    generated = (gan.generate(10000, seed=0) + 1) / 2
    save_image_grid(generated[:100], os.path.join(args.output, "dcgan_samples.png"), ncols=10, scale=2)
    report_quality("DCGAN", generated, classifier, x_test)


if __name__ == "__main__":
    main()

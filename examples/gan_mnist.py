"""The Dense GAN of the tutorials on MNIST: a generator from 100-d noise (Dense 256-512-784 with LeakyReLU and
BatchNormalization, tanh output), a discriminator Dense(128)-Dense(128)-Dense(1, sigmoid), RMSprop on both sides.

    python examples/gan_mnist.py [--output out] [--epochs 30]

Writes a grid of 64 samples after each epoch (gan_epoch_NN.png) and the generator (gan_generator.shendu), then
measures 10,000 samples as examples/dcgan_mnist.py does (the CNN of examples/mnist_cnn.py labels them).
"""

from __future__ import annotations

import argparse
import os
import time

from dcgan_mnist import CLASSIFIER_EPOCHS, SampleGrid, mnist_classifier, mnist_images, report_quality

import shendu as sd
from shendu import layers, optimizers
from shendu.applications.gan import GAN
from shendu.models import Sequential
from shendu.utils.image_grid import save_image_grid

LATENT_DIM = 100


def generator() -> Sequential:
    return Sequential([
        layers.Dense(256, input_shape=(LATENT_DIM,)), layers.LeakyReLU(0.2), layers.BatchNormalization(momentum=0.8),
        layers.Dense(512), layers.LeakyReLU(0.2), layers.BatchNormalization(momentum=0.8),
        layers.Dense(28 * 28, activation="tanh"), layers.Reshape((28, 28, 1)),
    ], name="generator")


def discriminator() -> Sequential:
    return Sequential([
        layers.Flatten(input_shape=(28, 28, 1)),
        layers.Dense(128), layers.LeakyReLU(0.2),
        layers.Dense(128), layers.LeakyReLU(0.2),
        layers.Dense(1, activation="sigmoid"),
    ], name="discriminator")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="out", help="folder for the images and models (default: out)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--classifier-epochs", type=int, default=CLASSIFIER_EPOCHS)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)

    sd.random.seed(0)
    data = mnist_images()
    (x_train, _), (x_test, _) = data
    gan = GAN(generator(), discriminator(), latent_dim=LATENT_DIM, seed=0)
    gan.compile(d_optimizer=optimizers.RMSprop(2e-4), g_optimizer=optimizers.RMSprop(2e-4), label_smoothing=0.1)
    start = time.time()
    gan.fit(x_train * 2 - 1, epochs=args.epochs, batch_size=args.batch_size, verbose=2,
            callbacks=[SampleGrid(args.output, "gan")])
    print(f"trained {args.epochs} epochs of batch {args.batch_size} in {(time.time() - start) / 60:.1f} min")
    gan.generator.save(os.path.join(args.output, "gan_generator.shendu"))

    classifier = mnist_classifier(os.path.join(args.output, "mnist_cnn.shendu"), data, args.classifier_epochs)
    generated = (gan.generate(10000, seed=0) + 1) / 2
    save_image_grid(generated[:100], os.path.join(args.output, "gan_samples.png"), ncols=10, scale=2)
    report_quality("Dense GAN", generated, classifier, x_test)


if __name__ == "__main__":
    main()

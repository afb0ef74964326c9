"""Three autoencoders on MNIST, as in the Keras blog's "Building Autoencoders in Keras": a dense one (784-128-32),
a convolutional one (Conv/MaxPooling down to 4x4x8, UpSampling back) and a denoising convolutional one (trained
to map images with Gaussian noise of stddev 0.5 to the clean images).

    python examples/autoencoder_mnist.py [--output out] [--epochs 10] [--conv-epochs 3]

Prints each model's reconstruction error on the test set (mean squared error and binary cross-entropy per pixel)
and writes PNG grids to the output folder: originals above reconstructions (ae_dense.png, ae_conv.png), noisy /
denoised / clean rows (ae_denoising.png), and samples decoded from random codes (ae_dense_samples.png: codes drawn
from a Gaussian fitted to the test set's codes; a plain autoencoder has no prior, which is what a VAE adds).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from dcgan_mnist import mnist_images

import shendu as sd
from shendu import layers
from shendu.layers.convolutional import Conv2D
from shendu.layers.pooling import MaxPooling2D
from shendu.layers.reshaping_image import UpSampling2D
from shendu.models import Sequential
from shendu.utils.image_grid import save_image_grid


def dense_autoencoder() -> tuple[Sequential, Sequential]:
    encoder = Sequential([layers.Flatten(input_shape=(28, 28, 1)), layers.Dense(128, activation="relu"),
                          layers.Dense(32, activation="relu")], name="dense_encoder")
    decoder = Sequential([layers.Dense(128, activation="relu", input_shape=(32,)),
                          layers.Dense(784, activation="sigmoid"), layers.Reshape((28, 28, 1))], name="dense_decoder")
    return encoder, decoder


def conv_autoencoder() -> tuple[Sequential, Sequential]:
    encoder = Sequential([
        Conv2D(16, 3, activation="relu", padding="same", input_shape=(28, 28, 1)), MaxPooling2D(2, padding="same"),
        Conv2D(8, 3, activation="relu", padding="same"), MaxPooling2D(2, padding="same"),
        Conv2D(8, 3, activation="relu", padding="same"), MaxPooling2D(2, padding="same"),  # (4, 4, 8)
    ], name="conv_encoder")
    decoder = Sequential([
        Conv2D(8, 3, activation="relu", padding="same", input_shape=(4, 4, 8)), UpSampling2D(),
        Conv2D(8, 3, activation="relu", padding="same"), UpSampling2D(),
        Conv2D(16, 3, activation="relu"), UpSampling2D(),  # 'valid': 16x16 -> 14x14, then 28x28
        Conv2D(1, 3, activation="sigmoid", padding="same"),
    ], name="conv_decoder")
    return encoder, decoder


def denoising_autoencoder(filters: int = 16) -> Sequential:
    """The Keras blog's denoiser (32 filters there; 16 by default here, 3x cheaper on a small CPU)."""
    return Sequential([
        Conv2D(filters, 3, activation="relu", padding="same", input_shape=(28, 28, 1)), MaxPooling2D(2, padding="same"),
        Conv2D(filters, 3, activation="relu", padding="same"), MaxPooling2D(2, padding="same"),
        Conv2D(filters, 3, activation="relu", padding="same"), UpSampling2D(),
        Conv2D(filters, 3, activation="relu", padding="same"), UpSampling2D(),
        Conv2D(1, 3, activation="sigmoid", padding="same"),
    ], name="denoising_autoencoder")


def errors(reconstructed: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Per-pixel mean squared error and binary cross-entropy."""
    p = np.clip(reconstructed, 1e-7, 1 - 1e-7)
    bce = -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))
    return float(np.mean((reconstructed - target) ** 2)), float(bce)


def train(model: Sequential, x: np.ndarray, y: np.ndarray, epochs: int, name: str) -> None:
    model.compile(optimizer="adam", loss="binary_crossentropy")
    start = time.time()
    model.fit(x, y, epochs=epochs, batch_size=128, shuffle=True, verbose=2)
    print(f"{name}: {epochs} epochs in {(time.time() - start) / 60:.1f} min")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="out", help="folder for the images (default: out)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the dense autoencoder")
    parser.add_argument("--conv-epochs", type=int, default=3, help="epochs of each convolutional autoencoder")
    parser.add_argument("--denoiser-filters", type=int, default=16)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    sd.random.seed(0)
    (x_train, _), (x_test, _) = mnist_images()
    shown = x_test[:10]
    results = {}

    encoder, decoder = dense_autoencoder()
    dense = Sequential([encoder, decoder], name="dense_autoencoder")
    train(dense, x_train, x_train, args.epochs, "dense autoencoder")
    results["dense 784-128-32"] = errors(dense.predict(x_test, verbose=0), x_test)
    save_image_grid(np.concatenate([shown, dense.predict(shown, verbose=0)]), os.path.join(args.output,
                    "ae_dense.png"), ncols=10, scale=2)
    codes = encoder.predict(x_test, verbose=0)
    rng = np.random.default_rng(0)
    random_codes = rng.multivariate_normal(codes.mean(0), np.cov(codes, rowvar=False), 40).clip(0).astype("float32")
    save_image_grid(decoder.predict(random_codes, verbose=0), os.path.join(args.output, "ae_dense_samples.png"),
                    ncols=10, scale=2)

    encoder, decoder = conv_autoencoder()
    conv = Sequential([encoder, decoder], name="conv_autoencoder")
    train(conv, x_train, x_train, args.conv_epochs, "convolutional autoencoder")
    results["convolutional (code 4x4x8)"] = errors(conv.predict(x_test, verbose=0), x_test)
    save_image_grid(np.concatenate([shown, conv.predict(shown, verbose=0)]), os.path.join(args.output,
                    "ae_conv.png"), ncols=10, scale=2)

    noisy_train = np.clip(x_train + rng.normal(0, 0.5, x_train.shape), 0, 1).astype("float32")
    noisy_test = np.clip(x_test + rng.normal(0, 0.5, x_test.shape), 0, 1).astype("float32")
    denoiser = denoising_autoencoder(args.denoiser_filters)
    train(denoiser, noisy_train, x_train, args.conv_epochs, "denoising autoencoder")
    denoised = denoiser.predict(noisy_test, verbose=0)
    results["denoising, on noisy test images"] = errors(denoised, x_test)
    results["(noisy test images themselves)"] = errors(noisy_test, x_test)
    save_image_grid(np.concatenate([noisy_test[:10], denoised[:10], shown]), os.path.join(args.output,
                    "ae_denoising.png"), ncols=10, scale=2)

    print("test reconstruction error per pixel (10,000 test images)")
    for name, (mse, bce) in results.items():
        print(f"  {name:34s} MSE {mse:.4f}   BCE {bce:.4f}")
    print(f"images written to {args.output}/ae_*.png")


if __name__ == "__main__":
    main()

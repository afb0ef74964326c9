"""A variational autoencoder on MNIST (Kingma & Welling 2013), the Keras example's 784-512-2: the encoder gives
z_mean and z_log_var, the `Sampling` layer draws z = z_mean + exp(z_log_var / 2) · ε and adds the KL divergence to
N(0, I) with add_loss, the decoder maps z back to pixels; the loss is the per-pixel binary cross-entropy plus KL/784
(the negative evidence lower bound divided by the number of pixels).

    python examples/vae_mnist.py [--output out] [--epochs 20] [--latent-dim 2]

Prints the test reconstruction error and the two loss terms, measures 10,000 samples as examples/dcgan_mnist.py does,
and writes to the output folder: originals above reconstructions (vae_reconstructions.png), samples decoded from
z ~ N(0, I) (vae_samples.png) and, for a 2-D latent space, the decoded 15x15 grid of z values (vae_manifold.png).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from dcgan_mnist import CLASSIFIER_EPOCHS, mnist_classifier, mnist_images, report_quality

import shendu as sd
from shendu import layers
from shendu.applications.autoencoder import Sampling
from shendu.layers import Input
from shendu.models import Model, Sequential
from shendu.utils.image_grid import save_image_grid


def build_vae(latent_dim: int) -> tuple[Model, Model, Sequential]:
    """(vae, encoder to [z_mean, z_log_var], decoder)."""
    images = Input(shape=(28, 28, 1))
    h = layers.Dense(512, activation="relu")(layers.Flatten()(images))
    z_mean = layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
    z = Sampling(kl_weight=1 / 784)([z_mean, z_log_var])
    decoder = Sequential([layers.Dense(512, activation="relu", input_shape=(latent_dim,)),
                          layers.Dense(784, activation="sigmoid"), layers.Reshape((28, 28, 1))], name="decoder")
    return Model(images, decoder(z), name="vae"), Model(images, [z_mean, z_log_var], name="encoder"), decoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="out", help="folder for the images (default: out)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--classifier-epochs", type=int, default=CLASSIFIER_EPOCHS)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    sd.random.seed(0)
    data = mnist_images()
    (x_train, _), (x_test, _) = data

    vae, encoder, decoder = build_vae(args.latent_dim)
    vae.compile(optimizer="adam", loss="binary_crossentropy")
    vae.summary()
    start = time.time()
    vae.fit(x_train, x_train, epochs=args.epochs, batch_size=128, validation_data=(x_test, x_test), verbose=2)
    print(f"trained {args.epochs} epochs in {(time.time() - start) / 60:.1f} min")

    z_mean, z_log_var = encoder.predict(x_test, verbose=0)
    reconstructed = decoder.predict(z_mean, verbose=0)  # the posterior means: a deterministic reconstruction
    p = np.clip(reconstructed, 1e-7, 1 - 1e-7)
    bce = -np.mean(x_test * np.log(p) + (1 - x_test) * np.log(1 - p))
    kl = np.mean(np.sum(0.5 * (np.exp(z_log_var) + z_mean**2 - 1 - z_log_var), axis=1))
    print(f"test reconstruction (decoded z_mean): MSE {np.mean((reconstructed - x_test) ** 2):.4f}, "
          f"BCE {bce:.4f} per pixel; KL {kl:.2f} nats per image; negative ELBO ~ {bce * 784 + kl:.1f} nats per image")

    save_image_grid(np.concatenate([x_test[:10], reconstructed[:10]]), os.path.join(args.output,
                    "vae_reconstructions.png"), ncols=10, scale=2)
    z = np.random.default_rng(0).standard_normal((10000, args.latent_dim)).astype("float32")
    samples = decoder.predict(z, verbose=0)
    save_image_grid(samples[:100], os.path.join(args.output, "vae_samples.png"), ncols=10, scale=2)
    if args.latent_dim == 2:
        ticks = np.linspace(-2, 2, 15, dtype="float32")
        grid = np.array([[x, y] for y in ticks[::-1] for x in ticks], dtype="float32")
        save_image_grid(decoder.predict(grid, verbose=0), os.path.join(args.output, "vae_manifold.png"), ncols=15,
                        padding=0, scale=2)

    classifier = mnist_classifier(os.path.join(args.output, "mnist_cnn.shendu"), data, args.classifier_epochs)
    report_quality("VAE samples, z ~ N(0, I)", samples, classifier, x_test)
    print(f"images written to {args.output}/vae_*.png")


if __name__ == "__main__":
    main()

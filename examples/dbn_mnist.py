"""A deep belief network on MNIST (Hinton, Osindero & Teh 2006, smaller): RBMs 784-500-500 pre-trained greedily with
CD-1, converted to a Keras Sequential of Dense(sigmoid) layers plus a softmax output and fine-tuned with fit; beside
it the same network from random (Glorot) initialisation, and the same network pre-trained as stacked autoencoders.

    python examples/dbn_mnist.py [--output out] [--pretrain-epochs 10] [--epochs 10] [--labels 1000]

Each network is fine-tuned twice: on all 60,000 labelled training images, and on only the first --labels of them
(where unsupervised pre-training on all the images matters most). Prints the test accuracies side by side and writes
the first RBM's filters (dbn_filters.png) and samples of the DBN (dbn_samples.png) to the output folder.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from dcgan_mnist import mnist_images

import shendu as sd
from shendu import layers, optimizers
from shendu.applications.autoencoder import StackedAutoencoder
from shendu.applications.dbn import DBN
from shendu.models import Sequential
from shendu.utils.image_grid import save_image_grid

SIZES = [784, 500, 500]


def random_twin(seed: int) -> Sequential:
    sd.random.seed(seed)
    return Sequential([layers.Dense(SIZES[1], activation="sigmoid", input_shape=(SIZES[0],))]
                      + [layers.Dense(n, activation="sigmoid") for n in SIZES[2:]]
                      + [layers.Dense(10, activation="softmax")])


def fine_tune(model: Sequential, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
              epochs: int) -> float:
    """Adam(1e-3), batch 64; returns the test accuracy."""
    model.compile(optimizer=optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
    return float(model.evaluate(x_test, y_test, verbose=0)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="out", help="folder for the images (default: out)")
    parser.add_argument("--pretrain-epochs", type=int, default=10, help="epochs of CD-1 per RBM")
    parser.add_argument("--autoencoder-epochs", type=int, default=5, help="epochs per stacked autoencoder")
    parser.add_argument("--epochs", type=int, default=10, help="fine-tuning epochs on all labels")
    parser.add_argument("--labels", type=int, default=1000, help="size of the small labelled set")
    parser.add_argument("--few-label-epochs", type=int, default=50)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = mnist_images()
    x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)

    start = time.time()
    dbn = DBN(SIZES, learning_rate=0.1, k=1, batch_size=64, seed=0)
    dbn.pretrain(x_train, epochs=args.pretrain_epochs, verbose=2)
    print(f"DBN pre-training: {(time.time() - start) / 60:.1f} min")
    filters = dbn.rbms[0].W.T[:100].reshape(-1, 28, 28)
    filters = (filters - filters.min(axis=(1, 2), keepdims=True)) / np.ptp(filters, axis=(1, 2), keepdims=True)
    save_image_grid(filters, os.path.join(args.output, "dbn_filters.png"), ncols=10, scale=2)
    save_image_grid(dbn.sample(100, steps=1000, seed=0).reshape(-1, 28, 28), os.path.join(args.output,
                    "dbn_samples.png"), ncols=10, scale=2)

    start = time.time()
    sd.random.seed(0)
    sae = StackedAutoencoder(SIZES, activation="sigmoid", loss="binary_crossentropy")
    sae.pretrain(x_train, epochs=args.autoencoder_epochs, batch_size=64, verbose=2)
    print(f"stacked autoencoder pre-training: {(time.time() - start) / 60:.1f} min")

    starts = {"DBN (RBM pre-training)": lambda: dbn.to_model(num_classes=10),
              "stacked autoencoders": lambda: sae.to_model(num_classes=10),
              "random initialisation": lambda: random_twin(1)}
    few = slice(0, args.labels)
    results = {}
    for name, make in starts.items():
        start = time.time()
        sd.random.seed(1)
        full = fine_tune(make(), x_train, y_train, x_test, y_test, args.epochs)
        sd.random.seed(1)
        small = fine_tune(make(), x_train[few], y_train[few], x_test, y_test, args.few_label_epochs)
        results[name] = (full, small)
        print(f"fine-tuned {name} in {(time.time() - start) / 60:.1f} min")

    print(f"test accuracy of {'-'.join(map(str, SIZES))}-10 (sigmoid), Adam 1e-3, batch 64")
    print(f"  {'start':26s} {'60,000 labels, ' + str(args.epochs) + ' ep':>22s} "
          f"{f'{args.labels:,} labels, {args.few_label_epochs} ep':>22s}")
    for name, (full, small) in results.items():
        print(f"  {name:26s} {full:22.4f} {small:22.4f}")


if __name__ == "__main__":
    main()

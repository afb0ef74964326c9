"""Data-parallel training of the tutorials' MNIST multilayer perceptron on several processes (MPI).

    mpiexec -n 2 python examples/distributed_mnist.py      # or: shendu launch -n 2 examples/distributed_mnist.py
    python examples/distributed_mnist.py                   # the same run in one process

Each process trains on its half of every global batch of 128 and all apply the averaged gradients, so both
commands print the same final test accuracy (97.7% after 3 epochs; float32 rounding may move the last digit).
Only rank 0 prints and saves. Needs `pip install 'shendu[dist]'` for the multi-process run.
"""

import argparse

import numpy as np

import shendu as tf
from shendu import keras


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch, split over the processes")
    parser.add_argument("--samples", type=int, default=60000, help="training images used (fewer for a quick run)")
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = (x_train[:args.samples] / 255.0).astype("float32")
    y_train = y_train[:args.samples]
    x_test = (x_test / 255.0).astype("float32")

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([
            keras.layers.Flatten(input_shape=(28, 28)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=2 if strategy.is_chief else 0)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    predicted = model.predict(x_test[:10], verbose=0).argmax(axis=1)
    if strategy.is_chief:
        print(f"replicas: {strategy.num_replicas_in_sync}")
        print(f"first test predictions: {predicted.tolist()} (labels {y_test[:10].tolist()})")
        print(f"test accuracy: {accuracy:.4f}  test loss: {loss:.4f}")
        assert np.isfinite(loss)


if __name__ == "__main__":
    main()

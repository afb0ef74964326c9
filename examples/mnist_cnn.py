"""The convolutional network of the tutorials on MNIST (Conv32-Pool-Conv64-Pool-Dense128-Dropout-Dense10, Adam,
batch 64, 5 epochs): 99.07% test accuracy.

    python examples/mnist_cnn.py [--output out] [--epochs 5]

Writes the training curves (history.png), test images with their predictions (predictions.png, the mistakes in
mistakes.png) and the trained model (mnist_cnn.shendu) to the output folder. The plots need matplotlib
(`pip install shendu[plot]`).
"""

import argparse
import os

import numpy as np

import shendu as sd
from shendu.keras import Sequential, datasets, layers
from shendu.utils import plot_history, plot_images


def build_model() -> Sequential:
    """The network, compiled: also the judge of the generative examples (examples/dcgan_mnist.py)."""
    model = Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="out", help="folder for the figures and the model (default: out)")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)

    sd.random.seed(0)
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train = (x_train / 255.0).astype("float32")[..., np.newaxis]  # (60000, 28, 28, 1): one channel, channels last
    x_test = (x_test / 255.0).astype("float32")[..., np.newaxis]

    model = build_model()
    model.summary()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, validation_data=(x_test, y_test))
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    model.save(os.path.join(args.output, "mnist_cnn.shendu"))

    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_test)
    try:
        plot_history(history, os.path.join(args.output, "history.png"))
        plot_images(x_test[:32], y_test[:32], predicted[:32], os.path.join(args.output, "predictions.png"))
        if wrong.size:
            plot_images(x_test[wrong[:32]], y_test[wrong[:32]], predicted[wrong[:32]],
                        os.path.join(args.output, "mistakes.png"))
        print(f"figures and model written to {args.output}/")
    except ImportError as error:
        print(f"no figures: {error}")
    print(f"{wrong.size} of {len(y_test)} test images misclassified")
    print(f"test accuracy {accuracy:.4f}, test loss {loss:.4f}")


if __name__ == "__main__":
    main()

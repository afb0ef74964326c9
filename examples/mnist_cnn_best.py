"""A stronger MNIST network: two 3x3 convolutions per stage with batch normalization, dropout after each stage,
random rotations, shifts and zooms of the training images, and a learning rate that decays each epoch: 99.51% test
accuracy after 12 epochs (seed 0, measured with shendu[fast]: about 47 s an epoch on 2 cores). Without the stage
dropout and with a faster decay (0.75 an epoch, 10 epochs) it measured 99.40% (99.45% on the pure-NumPy path).

    python examples/mnist_cnn_best.py [--output out] [--epochs 12]

The augmentation layers act only in training (fit), so evaluate and predict see the images as they are. Writes
history_best.png, mistakes_best.png and mnist_cnn_best.shendu to the output folder (the plots need matplotlib).
"""

import argparse
import os

import numpy as np

import shendu as sd
from shendu.keras import Sequential, callbacks, datasets, layers
from shendu.utils import plot_history, plot_images

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output", default="out", help="folder for the figures and the model (default: out)")
parser.add_argument("--epochs", type=int, default=12)
args = parser.parse_args()
os.makedirs(args.output, exist_ok=True)

sd.random.seed(0)
(x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
x_train = (x_train / 255.0).astype("float32")[..., np.newaxis]
x_test = (x_test / 255.0).astype("float32")[..., np.newaxis]


def conv_bn_relu(filters: int) -> list:
    """Conv (no bias: BatchNormalization's beta plays its part) -> BatchNormalization -> ReLU."""
    return [layers.Conv2D(filters, (3, 3), use_bias=False), layers.BatchNormalization(), layers.Activation("relu")]


model = Sequential([
    layers.Input(shape=(28, 28, 1)),
    layers.RandomRotation(0.03, fill_mode="constant"),  # up to +-11 degrees
    layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),  # up to +-2.8 pixels
    layers.RandomZoom(0.1, fill_mode="constant"),
    *conv_bn_relu(32), *conv_bn_relu(32), layers.MaxPooling2D((2, 2)), layers.Dropout(0.25),  # 28 -> 26 -> 24 -> 12
    *conv_bn_relu(64), *conv_bn_relu(64), layers.MaxPooling2D((2, 2)), layers.Dropout(0.25),  # 12 -> 10 -> 8 -> 4
    layers.Flatten(),
    layers.Dense(128, use_bias=False), layers.BatchNormalization(), layers.Activation("relu"),
    layers.Dropout(0.3),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()
schedule = callbacks.LearningRateScheduler(lambda epoch: 1e-3 * 0.8**epoch)  # 1e-3 down to 8.6e-5 at epoch 12
history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, validation_data=(x_test, y_test),
                    callbacks=[schedule])
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
model.save(os.path.join(args.output, "mnist_cnn_best.shendu"))

predicted = model.predict(x_test, verbose=0).argmax(axis=1)
wrong = np.flatnonzero(predicted != y_test)
try:
    plot_history(history, os.path.join(args.output, "history_best.png"))
    if wrong.size:
        plot_images(x_test[wrong[:48]], y_test[wrong[:48]], predicted[wrong[:48]],
                    os.path.join(args.output, "mistakes_best.png"))
    print(f"figures and model written to {args.output}/")
except ImportError as error:
    print(f"no figures: {error}")
print(f"{wrong.size} of {len(y_test)} test images misclassified")
print(f"test accuracy {accuracy:.4f}, test loss {loss:.4f}")

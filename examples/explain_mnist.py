"""Explaining two trained models with shendu.explain: the tutorials' MNIST CNN (saliency, integrated gradients,
SmoothGrad, Grad-CAM and occlusion for a few test digits, in one figure) and a sentence-polarity classifier
(rt-polarity; integrated gradients through the word embeddings, one score per token).

The CNN is the one of examples/mnist_cnn.py with its last layer giving logits (the softmax goes into the loss):
a saturated probability has almost no gradient, so attributions explain the logit, as in Captum's and Keras's
Grad-CAM tutorials. Data from $SHENDU_DATA_DIR (mnist.npz, rt-polarity/):

    SHENDU_DATA_DIR=../shared/data python examples/explain_mnist.py [--output docs/images] [--train 6000]
"""

import argparse
import os
import time

import numpy as np

import shendu as sd
from shendu import explain
from shendu.datasets import mnist, rt_polarity
from shendu.keras import Model, Sequential, layers, losses


def mnist_cnn() -> Sequential:
    model = Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu", name="last_conv"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10),  # logits
    ])
    model.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def explain_digits(args: argparse.Namespace) -> None:
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = (x_train[:args.train] / 255.0).astype("float32")[..., np.newaxis]
    x_test = (x_test / 255.0).astype("float32")[..., np.newaxis]
    model = mnist_cnn()
    model.fit(x_train, y_train[:args.train], epochs=args.epochs, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(x_test[:2000], y_test[:2000], verbose=0)
    print(f"MNIST CNN trained on {args.train} images: test accuracy {accuracy:.4f} (first 2,000 test images)")

    x = x_test[:args.digits]
    predicted = model.predict(x, verbose=0).argmax(axis=1)
    start = time.perf_counter()
    ig, delta = explain.integrated_gradients(model, x, steps=args.steps, return_convergence_delta=True)
    maps = {
        "saliency": explain.saliency(model, x),
        "integrated gradients": ig,
        "SmoothGrad": explain.smooth_grad(model, x, samples=args.samples, seed=0),
        "Grad-CAM": explain.grad_cam(model, x, "last_conv"),
        "occlusion 4x4": explain.occlusion(model, x, window=(4, 4), stride=2),
    }
    logits = model.predict(x, verbose=0)[np.arange(len(x)), predicted]
    print(f"attributions of {len(x)} digits in {time.perf_counter() - start:.1f} s; integrated gradients: "
          f"largest |completeness error| {np.abs(delta).max():.2e} for logits of {np.abs(logits).min():.1f} to "
          f"{np.abs(logits).max():.1f}")
    labels = [f"true {t}, predicted {p}" for t, p in zip(y_test[:len(x)], predicted)]
    path = os.path.join(args.output, "explain_mnist.png")
    explain.plot_attributions(x, maps, path, labels=labels)
    print(f"wrote {path}")


def explain_sentences(args: argparse.Namespace) -> None:
    (x_train, y_train), (x_test, y_test) = rt_polarity.load_data()
    x_train, y_train = x_train[:args.sentences], y_train[:args.sentences]
    vectorize = layers.TextVectorization(max_tokens=10000, output_sequence_length=40, standardize="lower")
    vectorize.adapt(x_train)
    ids_train, ids_test = vectorize(x_train).numpy(), vectorize(x_test).numpy()
    tokens = layers.Input((40,), dtype="int64")
    embedded = layers.Embedding(vectorize.vocabulary_size(), 32, name="embedding")(tokens)
    features = layers.GlobalMaxPooling1D()(layers.Conv1D(64, 3, activation="relu")(embedded))
    model = Model(tokens, layers.Dense(1)(layers.Dropout(0.5)(features)))  # the logit of "positive"
    model.compile(optimizer="adam", loss=losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(ids_train, y_train, epochs=args.epochs, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(ids_test, y_test, verbose=0)
    print(f"sentence-polarity CNN trained on {len(ids_train)} sentences: held-out accuracy {accuracy:.4f}")

    pick = [i for i in range(len(x_test)) if len(str(x_test[i]).split()) <= 14][:args.show]
    scores, delta = explain.token_attributions(model, ids_test[pick], layer="embedding", steps=args.steps,
                                               return_convergence_delta=True)
    print(f"token attributions: largest |completeness error| {np.abs(delta).max():.2e}")
    vocabulary = vectorize.get_vocabulary()
    words = [[vocabulary[i] for i in row if i != 0] for row in ids_test[pick]]
    logits = model.predict(ids_test[pick], verbose=0)[:, 0]
    labels = [f"{'positive' if y_test[i] else 'negative'} review, P(positive) = {1 / (1 + np.exp(-z)):.2f}"
              for i, z in zip(pick, logits)]
    for path in (os.path.join(args.output, "explain_tokens.png"), os.path.join(args.output, "explain_tokens.html")):
        explain.plot_token_attributions(words, scores, path, labels=labels)
        print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="out", help="folder for the figures (default: out)")
    parser.add_argument("--train", type=int, default=6000, help="MNIST training images (default 6000)")
    parser.add_argument("--sentences", type=int, default=9595, help="rt-polarity training sentences (default all)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--digits", type=int, default=5, help="test digits to explain")
    parser.add_argument("--show", type=int, default=8, help="test sentences to explain")
    parser.add_argument("--steps", type=int, default=50, help="integrated-gradients steps")
    parser.add_argument("--samples", type=int, default=50, help="SmoothGrad samples")
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    sd.random.seed(0)
    explain_digits(args)
    sd.random.seed(0)
    explain_sentences(args)


if __name__ == "__main__":
    main()

"""The `shendu` command: train, evaluate, predict with and summarize models on the standard datasets."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def _mlp() -> Any:
    """The tutorials' MNIST multilayer perceptron, 784-128-64-10."""
    from shendu.keras import Sequential, layers

    return Sequential([
        layers.Flatten(input_shape=(28, 28)),
        layers.Dense(128, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="mlp")


def _cnn() -> Any:
    """The tutorials' MNIST convolutional network (Conv32-Pool-Conv64-Pool-Dense128-Dropout-Dense10, 225,034
    weights), after a Reshape that adds the channel axis so that it takes the (28, 28) images as they load."""
    from shendu.keras import Sequential, layers

    return Sequential([
        layers.Reshape((28, 28, 1), input_shape=(28, 28)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ], name="cnn")


ARCHITECTURES: dict[str, Callable[[], Any]] = {"mlp": _mlp, "cnn": _cnn}


def _load(dataset: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A dataset by name, pixels scaled to [0, 1]."""
    from shendu.keras import datasets

    loader = getattr(datasets, dataset, None)
    if loader is None:
        raise SystemExit(f"shendu: unknown dataset {dataset!r}; known: mnist, fashion_mnist")
    (x, y), (xt, yt) = loader.load_data()
    return (x.astype("float32") / 255.0, y), (xt.astype("float32") / 255.0, yt)


def train(args: argparse.Namespace) -> None:
    import shendu as sd

    if args.seed is not None:
        sd.random.seed(args.seed)
    (x, y), (xt, yt) = _load(args.dataset)
    model = ARCHITECTURES[args.model]()
    model.compile(optimizer=args.optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, validation_split=args.validation_split,
              verbose=args.verbose)
    loss, acc = model.evaluate(xt, yt, verbose=0)
    model.save(args.output)
    print(f"test accuracy {acc:.4f}  test loss {loss:.4f}  (model saved to {args.output})")


def evaluate(args: argparse.Namespace) -> None:
    from shendu.keras.models import load_model

    model = load_model(args.path)
    _, (xt, yt) = _load(args.dataset)
    loss, acc = model.evaluate(xt, yt, verbose=args.verbose)
    print(f"test accuracy {acc:.4f}  test loss {loss:.4f}")


def predict(args: argparse.Namespace) -> None:
    from shendu.keras.models import load_model

    model = load_model(args.path)
    _, (xt, yt) = _load(args.dataset)
    probs = model.predict(xt[: args.count], verbose=0)
    for i, (p, label) in enumerate(zip(probs, yt[: args.count])):
        print(f"image {i}: predicted {int(p.argmax())} (p={p.max():.3f}), label {int(label)}")


def summary(args: argparse.Namespace) -> None:
    from shendu.keras.models import load_model

    load_model(args.path, compile=False).summary()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shendu", description="Train and use shendu models from the shell.")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model on a dataset, save it and print its test accuracy")
    t.add_argument("model", choices=sorted(ARCHITECTURES))
    t.add_argument("--dataset", default="mnist")
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--optimizer", default="adam")
    t.add_argument("--validation-split", type=float, default=0.0)
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    t.add_argument("--output", default=None, help="where to save the model (default: <model>.shendu)")
    t.set_defaults(func=train)
    for name, func, helptext in (("evaluate", evaluate, "evaluate a saved model on a dataset's test split"),
                                 ("predict", predict, "print a saved model's predictions for test images"),
                                 ("summary", summary, "print a saved model's layers and parameter counts")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("path", help="a model file written by `shendu train` or model.save()")
        if name != "summary":
            p.add_argument("--dataset", default="mnist")
        if name == "evaluate":
            p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
        if name == "predict":
            p.add_argument("--count", type=int, default=10)
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "output", "") is None:
        args.output = f"{args.model}.shendu"
    try:
        args.func(args)
    except (FileNotFoundError, ValueError) as err:
        print(f"shendu: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

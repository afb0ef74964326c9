"""The `shendu` command: train, evaluate, predict with and summarize models on the standard datasets.

No input ends in a traceback: a bad argument is one line on stderr and exit status 2 (argparse's convention), a
failure (a missing or malformed model file, a dataset that cannot be read) one line and exit status 1.
"""

from __future__ import annotations

import argparse
import os
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
DATASETS = ("fashion_mnist", "mnist")


def _load(dataset: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A dataset by name (one of DATASETS: 28x28 images, as the architectures take), pixels scaled to [0, 1]."""
    from shendu.keras import datasets

    (x, y), (xt, yt) = getattr(datasets, dataset).load_data()
    return (x.astype("float32") / 255.0, y), (xt.astype("float32") / 255.0, yt)


def _load_model(path: str, compile: bool = True) -> Any:
    """The model saved at path; any error while reading it becomes a ModelFileError naming the file."""
    from shendu.keras.models import load_model
    from shendu.saving.file_utils import ModelFileError

    try:
        return load_model(path, compile=compile)
    except (OSError, ValueError):
        raise
    except Exception as err:  # a malformed file must not end in a traceback
        raise ModelFileError(f"{path}: cannot load the model ({type(err).__name__}: {err})") from err


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _check_output(path: str) -> str | None:
    """Why the model could not be saved at path (checked before training), or None."""
    if os.path.isdir(path):
        return f"--output {path} is a directory; give a file name such as {os.path.join(path, 'model.shendu')}"
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        return f"--output {path}: {folder} is a file, not a directory"
    if not os.access(folder, os.W_OK):
        return f"--output {path}: the directory {folder} is not writable"
    return None


def train(args: argparse.Namespace) -> None:
    import shendu as sd

    if args.seed is not None:
        sd.random.seed(args.seed)
    (x, y), (xt, yt) = _load(args.dataset)
    model = ARCHITECTURES[args.model]()
    model.compile(optimizer=args.optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, validation_split=args.validation_split,
              verbose=args.verbose)
    scores = _scores(model.evaluate(xt, yt, verbose=0, return_dict=True))
    model.save(args.output)
    print(f"{scores}  (model saved to {args.output})")


def _scores(logs: dict[str, float]) -> str:
    """'test accuracy A  test loss L' (the accuracy where the model was compiled with it)."""
    accuracy = f"test accuracy {logs['accuracy']:.4f}  " if "accuracy" in logs else ""
    return f"{accuracy}test loss {logs['loss']:.4f}"


def evaluate(args: argparse.Namespace) -> None:
    model = _load_model(args.path)
    _, (xt, yt) = _load(args.dataset)
    print(_scores(model.evaluate(xt, yt, verbose=args.verbose, return_dict=True)))


def predict(args: argparse.Namespace) -> None:
    model = _load_model(args.path, compile=False)
    _, (xt, yt) = _load(args.dataset)
    probs = model.predict(xt[: args.count], verbose=0)
    for i, (p, label) in enumerate(zip(probs, yt[: args.count])):
        print(f"image {i}: predicted {int(p.argmax())} (p={p.max():.3f}), label {int(label)}")


def summary(args: argparse.Namespace) -> None:
    _load_model(args.path, compile=False).summary()


def export(args: argparse.Namespace) -> None:
    from shendu import onnx

    onnx.export(_load_model(args.path, compile=False), args.output, opset=args.opset)
    print(f"exported {args.path} to {args.output} (ONNX opset {args.opset})")


def launch(args: argparse.Namespace) -> None:
    from shendu.distribute.launch import launch as run

    status = run(args.processes, args.script, args.args, args.threads)
    if status:
        raise SystemExit(status)


class _Parser(argparse.ArgumentParser):
    """argparse's parser, reporting a bad argument in one line on stderr (exit status 2)."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from shendu._version import __version__
    from shendu.onnx.exporter import DEFAULT_OPSET

    parser = _Parser(prog="shendu", description="Train and use shendu models from the shell.")
    parser.add_argument("--version", action="version", version=f"shendu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train a model on a dataset, save it and print its test accuracy")
    t.add_argument("model", choices=sorted(ARCHITECTURES))
    t.add_argument("--dataset", default="mnist", choices=DATASETS)
    t.add_argument("--epochs", type=_positive_int, default=5)
    t.add_argument("--batch-size", type=_positive_int, default=64)
    t.add_argument("--optimizer", default="adam")
    t.add_argument("--validation-split", type=_fraction, default=0.0)
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
            p.add_argument("--dataset", default="mnist", choices=DATASETS)
        if name == "evaluate":
            p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
        if name == "predict":
            p.add_argument("--count", type=_positive_int, default=10)
        p.set_defaults(func=func)
    e = sub.add_parser("export", help="write a saved model as an ONNX file (needs shendu[onnx])")
    e.add_argument("path", help="a model file written by `shendu train` or model.save()")
    e.add_argument("output", help="the ONNX file to write, e.g. model.onnx")
    e.add_argument("--opset", type=_positive_int, default=DEFAULT_OPSET,
                   help=f"the ONNX opset (default {DEFAULT_OPSET})")
    e.set_defaults(func=export)
    la = sub.add_parser("launch", help="run a training script on N processes with mpiexec (needs shendu[dist])")
    la.add_argument("-n", "--processes", type=_positive_int, required=True, help="the number of processes")
    la.add_argument("--threads", type=_positive_int, default=None, help="shendu's threads per process")
    la.add_argument("script", help="the Python script each process runs")
    la.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    la.set_defaults(func=launch)
    return parser


def _check_train_args(args: argparse.Namespace) -> str | None:
    """What argparse cannot check alone, before training: the optimizer's name and where the model will be saved."""
    from shendu import optimizers
    from shendu.saving.dispatch import MODEL_EXTENSIONS

    if args.output is None:
        args.output = f"{args.model}.shendu"
    problem = _check_output(args.output)
    if problem is not None:
        return problem
    if not args.output.lower().endswith(MODEL_EXTENSIONS):
        return f"argument --output: {args.output} must end in one of {', '.join(MODEL_EXTENSIONS)}"
    try:
        optimizers.get(args.optimizer)
    except ValueError as err:
        return f"argument --optimizer: {err}"
    return None


def _check_export_args(args: argparse.Namespace) -> str | None:
    """Whether the output can be written and the opset is one the exporter writes (before loading the model)."""
    from shendu.onnx.exporter import MIN_OPSET

    problem = _check_output(args.output)
    if problem is not None:
        return problem.replace("--output ", "output ", 1)
    if args.opset < MIN_OPSET:
        return f"argument --opset: the export writes opset {MIN_OPSET} or newer, got {args.opset}"
    return None


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; 0 on success, 1 on a failure (one line on stderr); bad arguments exit with status 2."""
    args = build_parser().parse_args(argv)
    problem = _check_train_args(args) if args.command == "train" else None
    if args.command == "export":
        problem = _check_export_args(args)
    if args.command == "launch" and not os.path.isfile(args.script):
        problem = f"argument script: no such file: {args.script}"
    if problem is not None:
        print(f"shendu {args.command}: error: {problem}", file=sys.stderr)
        raise SystemExit(2)
    try:
        args.func(args)
    except (OSError, ValueError) as err:
        print(f"shendu {args.command}: {_one_line(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"shendu {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # no traceback for any input: the error's kind and message in one line
        print(f"shendu {args.command}: {type(err).__name__}: {_one_line(err)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

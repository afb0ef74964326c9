"""Transfer learning offline: a small CNN pretrained on MNIST, reused on scikit-learn's 8x8 digits (upsampled to
MNIST's 28x28 layout) as a frozen feature extractor and fine-tuned, against the same network trained from scratch,
with 50, 100, 200 and 500 labelled examples.

    python examples/transfer_digits.py [--output out] [--pretrain-samples 12000] [--pretrain-epochs 2]
                                       [--labels 50 100 200 500] [--steps 300] [--repeats 3]

Needs MNIST (shendu.datasets.mnist; SHENDU_DATA_DIR or the cache) and scikit-learn (`pip install shendu[sklearn]`).
Prints a markdown table of test accuracy (mean over repeats, each a different labelled subset) and writes it with the
plot of accuracy against labels (transfer_digits.png, needs matplotlib) to the output folder.
"""

import argparse
import os

import numpy as np

import shendu as sd
from shendu.keras import Input, Model, Sequential, datasets, layers, optimizers

METHODS = ("scratch", "frozen", "fine-tuned")


def feature_extractor() -> Sequential:
    """The convolutional base: two conv-pool stages and a 64-unit feature layer (the part that transfers)."""
    return Sequential([
        Input((28, 28, 1)),
        layers.Conv2D(16, 3, activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(32, 3, activation="relu", name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(64, activation="relu", name="features"),
    ], name="base")


def classifier(base: Model, training: bool | None = None) -> Model:
    """base, then dropout and a new 10-way softmax head; training=False keeps the base in inference mode."""
    inputs = Input((28, 28, 1))
    x = base(inputs, training=training) if training is not None else base(inputs)
    outputs = layers.Dense(10, activation="softmax", name="head")(layers.Dropout(0.3)(x))
    return Model(inputs, outputs)


def pretrain(samples: int, epochs: int, seed: int = 0) -> tuple[Sequential, float]:
    """The base trained with a head on `samples` MNIST training images; returns it and its MNIST test accuracy."""
    sd.random.set_seed(seed)
    (x, y), (xt, yt) = datasets.mnist.load_data()
    idx = np.random.default_rng(seed).permutation(len(x))[:samples]
    x = (x[idx] / 255.0).astype("float32")[..., None]
    base = feature_extractor()
    model = classifier(base)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y[idx], epochs=epochs, batch_size=64, verbose=0)
    _, accuracy = model.evaluate((xt[:2000] / 255.0).astype("float32")[..., None], yt[:2000], verbose=0)
    return base, float(accuracy)


def load_digits_28() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits (values 0-16) as MNIST-like images: resized to 20x20 (bilinear), padded to 28x28
    (MNIST centres a 20x20 digit), scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = (digits.images / 16.0).astype("float32")[..., None]
    big = sd.image.resize(small, (20, 20)).numpy()
    return np.clip(np.pad(big, ((0, 0), (4, 4), (4, 4), (0, 0))), 0.0, 1.0), digits.target


def run(base: Sequential, data: tuple, n: int, steps: int, seed: int) -> dict[str, float]:
    """Test accuracy of the three methods trained on the same n labelled examples for about `steps` batches each
    (fine-tuning: half as many more, after the frozen stage)."""
    x_pool, y_pool, x_test, y_test = data
    idx = np.random.default_rng(seed).permutation(len(x_pool))[:n]
    x, y = x_pool[idx], y_pool[idx]
    batch = min(32, n)
    epochs = max(1, round(steps * batch / n))
    fit = dict(epochs=epochs, batch_size=batch, verbose=0)
    out = {}

    sd.random.set_seed(seed)
    scratch = classifier(feature_extractor())
    scratch.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    scratch.fit(x, y, **fit)
    out["scratch"] = scratch.evaluate(x_test, y_test, verbose=0)[1]

    sd.random.set_seed(seed)
    transferred = feature_extractor()
    transferred.set_weights(base.get_weights())
    transferred.trainable = False
    model = classifier(transferred, training=False)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, **fit)
    out["frozen"] = model.evaluate(x_test, y_test, verbose=0)[1]

    transferred.trainable = True  # fine-tune everything, with a learning rate ten times lower
    model.compile(optimizer=optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, **{**fit, "epochs": max(1, epochs // 2)})
    out["fine-tuned"] = model.evaluate(x_test, y_test, verbose=0)[1]
    return {k: float(v) for k, v in out.items()}


def markdown_table(labels: list[int], results: dict[int, dict[str, list[float]]]) -> str:
    """Mean (and spread over repeats) test accuracy per method and number of labels."""
    lines = ["| labels | " + " | ".join(METHODS) + " |", "|---:|" + "---:|" * len(METHODS)]
    for n in labels:
        cells = [f"{np.mean(results[n][m]):.3f} ± {np.std(results[n][m]):.3f}" for m in METHODS]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(labels: list[int], results: dict[int, dict[str, list[float]]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for method, marker in zip(METHODS, "osD"):
        means = [np.mean(results[n][method]) for n in labels]
        stds = [np.std(results[n][method]) for n in labels]
        ax.errorbar(labels, means, yerr=stds, marker=marker, capsize=3, label=method)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(labels)
    ax.set_xticklabels([str(n) for n in labels])
    ax.set_xlabel("labelled examples (8x8 digits, upsampled)")
    ax.set_ylabel("test accuracy")
    ax.set_title("MNIST-pretrained CNN on scikit-learn digits")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[int, dict[str, list[float]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="out", help="folder for the table and the plot (default: out)")
    parser.add_argument("--pretrain-samples", type=int, default=12000)
    parser.add_argument("--pretrain-epochs", type=int, default=2)
    parser.add_argument("--labels", type=int, nargs="+", default=[50, 100, 200, 500])
    parser.add_argument("--steps", type=int, default=300, help="batches of training per method on the digits")
    parser.add_argument("--repeats", type=int, default=3, help="labelled subsets per size (the table's mean)")
    parser.add_argument("--test-size", type=int, default=797, help="digits held out for testing")
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)

    base, mnist_accuracy = pretrain(args.pretrain_samples, args.pretrain_epochs)
    print(f"pretrained on {args.pretrain_samples} MNIST images for {args.pretrain_epochs} epochs: "
          f"MNIST test accuracy {mnist_accuracy:.4f}")
    x, y = load_digits_28()
    order = np.random.default_rng(0).permutation(len(x))
    test, pool = order[:args.test_size], order[args.test_size:]
    data = (x[pool], y[pool], x[test], y[test])
    results: dict[int, dict[str, list[float]]] = {n: {m: [] for m in METHODS} for n in args.labels}
    for n in args.labels:
        for r in range(args.repeats):
            scores = run(base, data, n, args.steps, seed=1000 * r + n)
            for method, score in scores.items():
                results[n][method].append(score)
        print(f"{n:4d} labels: " + ", ".join(f"{m} {np.mean(results[n][m]):.3f}" for m in METHODS))
    table = markdown_table(args.labels, results)
    print(table)
    with open(os.path.join(args.output, "transfer_digits.md"), "w", encoding="utf-8") as f:
        f.write(table + "\n")
    try:
        plot(args.labels, results, os.path.join(args.output, "transfer_digits.png"))
        print(f"table and plot written to {args.output}/")
    except ImportError as error:
        print(f"no plot: {error}")
    return results


if __name__ == "__main__":
    main()

"""Tuning the MNIST multilayer perceptron as the tutorials' tuning chapter does, on a subset so that it runs in minutes.

1. a grid over learning rate x batch size (the scikit-learn wrapper, scored on a held-out validation set);
2. a Bayesian search over the network's width, depth and dropout (`shendu.tuner.BayesianOptimization`, KerasTuner's
   API; optuna's TPE sampler behind it);
3. k-fold cross-validation of the best network (`cross_val_score` with the wrapper; without scikit-learn, folds
   made with `Dataset.shard`), then its accuracy on the 10,000 test images.

Prints markdown tables and writes tuning_mnist.png (matplotlib) to --output. The full chapter trains on 60,000
images for many epochs; the defaults here (10,000 training and 2,000 validation images, 3 epochs per fit) keep it
to a few minutes on two cores, so the accuracies are those of short runs on small data.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time

import numpy as np

from shendu import keras
from shendu.data import Dataset
from shendu.wrappers import KerasClassifier

RATES = (3e-4, 1e-3, 3e-3, 1e-2)
BATCHES = (32, 128, 512)


def mlp(units: int = 128, layers: int = 2, dropout: float = 0.2, classes: int = 10) -> keras.Model:
    """The tutorial's MLP on flattened 28x28 images: `layers` ReLU layers of `units` with dropout, a softmax unit per
    class."""
    model = keras.Sequential([keras.Input((784,))])
    for _ in range(layers):
        model.add(keras.layers.Dense(units, activation="relu"))
        model.add(keras.layers.Dropout(dropout))
    model.add(keras.layers.Dense(classes, activation="softmax"))
    return model


def load(n_train: int, n_val: int, seed: int) -> tuple[np.ndarray, ...]:
    """A random subset of MNIST's training images (train and validation parts) and the full test set, in [0, 1]."""
    (x, y), (x_test, y_test) = keras.datasets.mnist.load_data()
    order = np.random.default_rng(seed).permutation(len(x))[:n_train + n_val]
    x = x[order].reshape(-1, 784).astype("float32") / 255.0
    return x[:n_train], y[order][:n_train], x[n_train:], y[order][n_train:], \
        x_test.reshape(-1, 784).astype("float32") / 255.0, y_test


def classifier(epochs: int, seed: int, **params: object) -> KerasClassifier:
    return KerasClassifier(mlp, optimizer="adam", loss="sparse_categorical_crossentropy", epochs=epochs, verbose=0,
                           random_state=seed, **params)


def grid_search(data: tuple[np.ndarray, ...], epochs: int, seed: int) -> dict[tuple[float, int], float]:
    """Validation accuracy for every (learning rate, batch size) of the grid."""
    x, y, x_val, y_val = data[:4]
    clf = classifier(epochs, seed)
    scores = {}
    for rate, batch in itertools.product(RATES, BATCHES):
        clf.set_params(optimizer__learning_rate=rate, batch_size=batch).fit(x, y)
        scores[(rate, batch)] = clf.score(x_val, y_val)
    return scores


def bayesian_search(data: tuple[np.ndarray, ...], rate: float, batch: int, epochs: int, trials: int,
                    seed: int) -> list[dict]:
    """The trials of a Bayesian search over units/layers/dropout at the grid's best rate and batch size."""
    from shendu import tuner as kt

    def build(hp: kt.HyperParameters) -> keras.Model:
        model = mlp(hp.Int("units", 32, 256, step=32), hp.Int("layers", 1, 3),
                    hp.Float("dropout", 0.0, 0.5, step=0.1))
        model.compile(keras.optimizers.Adam(rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    x, y, x_val, y_val = data[:4]
    with tempfile.TemporaryDirectory() as directory:
        search = kt.BayesianOptimization(build, objective="val_accuracy", max_trials=trials, seed=seed,
                                         directory=directory, project_name="mlp", overwrite=True)
        search.search(x, y, epochs=epochs, batch_size=batch, validation_data=(x_val, y_val), verbose=0)
        done = [t for t in search.oracle.trials.values() if t.score is not None]
    done.sort(key=lambda t: t.trial_id)
    return [{**t.hyperparameters.values, "score": t.score} for t in done]


def cross_validate(data: tuple[np.ndarray, ...], params: dict, folds: int, epochs: int, seed: int) -> np.ndarray:
    """k-fold accuracies of the best network on train + validation images (sklearn, else Dataset.shard folds)."""
    x, y = np.concatenate([data[0], data[2]]), np.concatenate([data[1], data[3]])
    clf = classifier(epochs, seed, **params)
    try:
        from sklearn.model_selection import StratifiedKFold, cross_val_score
    except ImportError:
        indices = np.arange(len(x))
        scores = []
        for k in range(folds):
            test = np.array([int(i) for i in Dataset.from_tensor_slices(indices).shard(folds, k).as_numpy_iterator()])
            train = np.setdiff1d(indices, test)
            scores.append(clf.fit(x[train], y[train]).score(x[test], y[test]))
        return np.array(scores)
    return cross_val_score(clf, x, y, cv=StratifiedKFold(folds, shuffle=True, random_state=seed))


def tables(grid: dict, trials: list[dict], cv: np.ndarray, test_accuracy: float, args: argparse.Namespace) -> str:
    lines = [f"Subset: {args.train} training / {args.val} validation images, {args.epochs} epoch(s) per fit, "
             f"seed {args.seed}.", "", "Grid (validation accuracy):", "",
             "| learning rate | " + " | ".join(f"batch {b}" for b in BATCHES) + " |",
             "|---|" + "---|" * len(BATCHES)]
    lines += [f"| {r:g} | " + " | ".join(f"{grid[(r, b)]:.4f}" for b in BATCHES) + " |" for r in RATES]
    lines += ["", "Bayesian search (validation accuracy):", "",
              "| trial | units | layers | dropout | accuracy | best so far |", "|---|---|---|---|---|---|"]
    best = 0.0
    for i, t in enumerate(trials):
        best = max(best, t["score"])
        lines.append(f"| {i} | {t['units']} | {t['layers']} | {t['dropout']:.1f} | {t['score']:.4f} | {best:.4f} |")
    lines += ["", f"{len(cv)}-fold cross-validation of the best network:", "",
              "| " + " | ".join(f"fold {k + 1}" for k in range(len(cv))) + " | mean | std |",
              "|" + "---|" * (len(cv) + 2),
              "| " + " | ".join(f"{s:.4f}" for s in cv) + f" | {cv.mean():.4f} | {cv.std():.4f} |", "",
              f"test accuracy {test_accuracy:.4f} (best network trained on the training subset, 10,000 test images)"]
    return "\n".join(lines)


def plot(grid: dict, trials: list[dict], cv: np.ndarray, path: str) -> bool:
    """Grid heat map, objective per trial with the best so far, and the fold accuracies; False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    values = np.array([[grid[(r, b)] for b in BATCHES] for r in RATES])
    image = axes[0].imshow(values, cmap="viridis")
    axes[0].set(xticks=range(len(BATCHES)), xticklabels=BATCHES, yticks=range(len(RATES)),
                yticklabels=[f"{r:g}" for r in RATES], xlabel="batch size", ylabel="learning rate",
                title="grid: validation accuracy")
    for (i, j), v in np.ndenumerate(values):
        axes[0].text(j, i, f"{v:.3f}", ha="center", va="center", color="white" if v < values.max() else "black")
    fig.colorbar(image, ax=axes[0])
    scores = [t["score"] for t in trials]
    axes[1].plot(range(len(scores)), scores, "o", label="trial")
    axes[1].plot(range(len(scores)), np.maximum.accumulate(scores), "-", label="best so far")
    axes[1].set(xlabel="trial", ylabel="validation accuracy", title="Bayesian search: units/layers/dropout")
    axes[1].legend()
    axes[2].bar(range(1, len(cv) + 1), cv)
    axes[2].axhline(cv.mean(), color="k", linestyle="--", label=f"mean {cv.mean():.4f}")
    axes[2].set(xlabel="fold", ylabel="accuracy", ylim=(min(cv) - 0.05, 1.0), title="cross-validation of the best")
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=10000, help="training images (a random subset)")
    parser.add_argument("--val", type=int, default=2000, help="validation images")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit")
    parser.add_argument("--trials", type=int, default=8, help="trials of the Bayesian search")
    parser.add_argument("--folds", type=int, default=5, help="folds of the cross-validation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=".", help="folder for tuning_mnist.png")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    data = load(args.train, args.val, args.seed)
    grid = grid_search(data, args.epochs, args.seed)
    rate, batch = max(grid, key=grid.get)
    trials = bayesian_search(data, rate, batch, args.epochs, args.trials, args.seed)
    best = max(trials, key=lambda t: t["score"])
    params = {"optimizer__learning_rate": rate, "batch_size": batch, "model__units": best["units"],
              "model__layers": best["layers"], "model__dropout": best["dropout"]}
    cv = cross_validate(data, params, args.folds, args.epochs, args.seed)
    final = classifier(args.epochs, args.seed, **params).fit(data[0], data[1])
    report = tables(grid, trials, cv, final.score(data[4], data[5]), args)
    print(report)
    os.makedirs(args.output, exist_ok=True)
    path = os.path.join(args.output, "tuning_mnist.png")
    print(f"figure {path}" if plot(grid, trials, cv, path) else "no figures (pip install matplotlib)")
    print(f"reproduce: python examples/tuning_mnist.py --train {args.train} --val {args.val} --epochs {args.epochs} "
          f"--trials {args.trials} --folds {args.folds} --seed {args.seed}  ({time.perf_counter() - start:.0f} s)")
    return report


if __name__ == "__main__":
    main()

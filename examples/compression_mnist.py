"""Compressing the tutorials' MNIST CNN (examples/mnist_cnn.py, here with logits out): magnitude pruning to 50%, 80%
and 90% sparsity, int8 post-training quantization (weights only, then with calibrated int8 inputs), and a distilled
student with about a quarter of the parameters against the same student trained alone. Prints a markdown table.

    SHENDU_DATA_DIR=/work/shared/data python examples/compression_mnist.py [--train 20000] [--epochs 3]

The CNN, trained on --train images, is also the teacher. The students learn from only --student-train labelled
images (the setting of Hinton et al. 2015, where soft targets help most), each pair from the same initial weights,
over several seeds (mean +- std). Subsets and few epochs keep it to a few minutes on two cores (said in the output).
"""

import argparse
import os
import tempfile
import time
import zlib

import numpy as np

import shendu as sd
from shendu import compression
from shendu.keras import Sequential, datasets, layers, losses

SPARSITIES = (0.5, 0.8, 0.9)


def cnn(filters: tuple[int, int] = (32, 64), units: int = 128) -> Sequential:
    """The tutorials' CNN (Conv32-Pool-Conv64-Pool-Dense128-Dropout-Dense10) with logits out; narrower for a student."""
    model = Sequential([
        layers.Conv2D(filters[0], (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(filters[1], (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(units, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10),
    ])
    model.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def student() -> Sequential:
    """Conv8-Pool-Conv16-Pool-Dense128-Dense10: about a quarter of the CNN's parameters."""
    return cnn((8, 16), 128)


def accuracy(model, x, y) -> float:
    return float(np.mean(model.predict(x, batch_size=500, verbose=0).argmax(axis=1) == y))


def file_sizes(model, folder: str, name: str) -> tuple[int, int]:
    """(bytes of the .shendu model file without optimizer state, bytes once zlib-compressed): the file stores zeros
    as zeros, so pruning pays off only compressed."""
    path = os.path.join(folder, f"{name}.shendu")
    copy = sd.keras.models.clone_model(model)  # the same model without the optimizer's state
    copy.set_weights(model.get_weights())
    copy.save(path)
    with open(path, "rb") as f:
        data = f.read()
    return len(data), len(zlib.compress(data, 6))


def predict_seconds(model, x, repeats: int = 3) -> float:
    """The best of a few timed predictions over x, batch 500."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(x, batch_size=500, verbose=0)
        best = min(best, time.perf_counter() - start)
    return best


def matmul_seconds(rows: int, inner: int, cols: int, repeats: int = 5) -> tuple[float, float]:
    """(float32 product, int8 operands accumulated in int32) of (rows x inner) @ (inner x cols) in NumPy: its integer
    products do not use BLAS, which is why int8 saves size but not time here."""
    rng = np.random.default_rng(0)
    a, b = rng.random((rows, inner), dtype=np.float32), rng.random((inner, cols), dtype=np.float32)
    qa = rng.integers(-127, 128, (rows, inner), dtype=np.int8)
    qb = rng.integers(-127, 128, (inner, cols), dtype=np.int8)
    times = []
    for fn in (lambda: a @ b, lambda: qa.astype(np.int32) @ qb.astype(np.int32)):
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        times.append(best)
    return times[0], times[1]


def prune(base, sparsity: float, x, y, epochs: int, batch_size: int):
    """Fine-tune a copy of the trained CNN while PolynomialDecay raises the sparsity over one epoch, then strip."""
    copy = cnn()
    copy.set_weights(base.get_weights())
    steps = -(-len(x) // batch_size)
    schedule = compression.PolynomialDecay(0.0, sparsity, begin_step=0, end_step=steps, frequency=max(steps // 10, 1))
    pruned = compression.prune_low_magnitude(copy, schedule)
    pruned.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[compression.UpdatePruningStep()])
    return compression.strip_pruning(pruned)


def student_pair(teacher, x, y, seed: int, temperature: float, epochs: int, batch_size: int):
    """(distilled student, same student trained alone): the same initial weights and batch order, one trained by the
    Keras example's Distiller (alpha 0.1), the other by `fit` on the labels."""
    sd.random.seed(100 + seed)
    init = student().get_weights()
    pair = []
    for distilled in (True, False):
        sd.random.seed(1000 + seed)
        pupil = student()
        pupil.set_weights(init)
        trainer = pupil
        if distilled:
            trainer = compression.Distiller(student=pupil, teacher=teacher)
            trainer.compile(optimizer="adam", metrics=["accuracy"],
                            student_loss_fn=losses.SparseCategoricalCrossentropy(from_logits=True),
                            distillation_loss_fn=losses.KLDivergence(), alpha=0.1, temperature=temperature)
        trainer.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
        pair.append(pupil)
    return pair


def row(name: str, model, x, y, folder: str, seconds: float | None = None, accuracies: list | None = None) -> str:
    """A table row; `accuracies` (one per seed) are shown as mean +- std instead of the model's own accuracy."""
    size, packed = file_sizes(model, folder, name.split()[0].replace("%", ""))
    timing = "" if seconds is None else f"{seconds * 1000:.0f} ms"
    acc = (f"{accuracy(model, x, y):.4f}" if accuracies is None else
           f"{np.mean(accuracies):.4f} ± {np.std(accuracies):.4f} ({len(accuracies)} seeds)")
    return (f"| {name} | {acc} | {compression.count_nonzero_params(model):,} | "
            f"{size / 1024:.0f} KB | {packed / 1024:.0f} KB | {timing} |")


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=20000, help="training images of the CNN (default 20000)")
    parser.add_argument("--test", type=int, default=2000, help="test images (default 2000 of 10000)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the CNN's training (default 3); pruning "
                        "fine-tunes one epoch")
    parser.add_argument("--student-train", type=int, default=1000, help="labelled images of the students "
                        "(default 1000, the first of the CNN's)")
    parser.add_argument("--student-epochs", type=int, default=20, help="epochs of each student (default 20)")
    parser.add_argument("--seeds", type=int, default=3, help="student pairs, each from its own seed (default 3)")
    parser.add_argument("--temperature", type=float, default=4.0, help="distillation temperature (default 4)")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    sd.random.seed(0)
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train = (x_train[:args.train] / 255.0).astype("float32")[..., np.newaxis]
    x_test = (x_test[:args.test] / 255.0).astype("float32")[..., np.newaxis]
    y_train, y_test = y_train[:args.train], y_test[:args.test]
    fit = {"epochs": args.epochs, "batch_size": args.batch_size}
    lines = [f"MNIST subset: {args.train} training and {args.test} test images; the CNN (also the teacher) trained "
             f"{args.epochs} epochs, pruning fine-tunes 1 epoch (batch {args.batch_size}); the students learn from "
             f"{args.student_train} of the labelled images for {args.student_epochs} epochs (alpha 0.1, temperature "
             f"{args.temperature:g}). A full run gives higher accuracies.", "",
             "| model | test accuracy | non-zero params | .shendu file | zlib-compressed | predict time |",
             "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as folder:
        base = cnn()
        base.fit(x_train, y_train, verbose=0, **fit)
        lines.append(row("float32 CNN", base, x_test, y_test, folder, predict_seconds(base, x_test)))
        for sparsity in SPARSITIES:
            pruned = prune(base, sparsity, x_train, y_train, 1, args.batch_size)
            lines.append(row(f"{sparsity:.0%} sparse (pruned, fine-tuned)", pruned, x_test, y_test, folder))
        int8 = cnn()
        int8.set_weights(base.get_weights())
        int8.quantize("int8")
        lines.append(row("int8 weights", int8, x_test, y_test, folder, predict_seconds(int8, x_test)))
        compression.calibrate(int8, x_train[:500])
        lines.append(row("int8 weights + calibrated int8 inputs", int8, x_test, y_test, folder,
                         predict_seconds(int8, x_test)))
        x_few, y_few = x_train[:args.student_train], y_train[:args.student_train]
        pairs = [student_pair(base, x_few, y_few, seed, args.temperature, args.student_epochs, args.batch_size)
                 for seed in range(args.seeds)]
        pupil, alone = pairs[0]
        share = pupil.count_params() / base.count_params()
        lines.append(row(f"student ({share:.0%} of the params), distilled", pupil, x_test, y_test, folder,
                         accuracies=[accuracy(p, x_test, y_test) for p, _ in pairs]))
        lines.append(row("same student trained alone", alone, x_test, y_test, folder,
                         accuracies=[accuracy(a, x_test, y_test) for _, a in pairs]))
    f32, i32 = matmul_seconds(args.test, 1600, 128)
    lines += ["", f"NumPy ({args.test} x 1600) @ (1600 x 128), the CNN's Dense layer: float32 {f32 * 1000:.1f} ms, "
              f"int8 operands in int32 {i32 * 1000:.1f} ms ({i32 / f32:.1f}x slower): int8 here saves size, not time."]
    report = "\n".join(lines)
    print(report)
    return report


if __name__ == "__main__":
    main()

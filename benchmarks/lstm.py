"""Recurrent networks in shendu (numba and NumPy-only paths), PyTorch eager, Keras/TensorFlow and JAX, each in its own
process, one epoch timed after a warm-up (the fastest of `--repeats` epochs counts).

- lstm: the tutorials' two-layer LSTM: LSTM(64, return_sequences=True) -> LSTM(64) -> Dense(10, softmax), Adam,
  sparse categorical cross-entropy, batches of 64 sequences of 50 steps with 10 features, 10,000 generated sequences.
- gru: the same network with GRU(64) layers (Keras's reset_after=True, which is PyTorch's GRU).
- bilstm: the sentence-polarity model of examples/sentiment_rt_polarity.py: Embedding(vocabulary, 64, mask_zero=True)
  -> Bidirectional(LSTM(32, dropout=0.3)) -> Dropout(0.5) -> Dense(1, sigmoid), binary cross-entropy, batch 64, the
  9,595 training sentences of rt-polarity as 50 token ids (padded at the end; lower-cased words, the 10,000 most
  frequent). PyTorch runs packed sequences (its form of the mask) and JAX a masked scan; both draw one input-dropout
  mask per sequence for the two directions, where Keras and shendu draw one per direction. Without the data
  ($SHENDU_DATA_DIR/rt-polarity), random token sequences of the same shape and vocabulary are used (it says so).

JAX runs the whole training step under `jax.jit` (inputs projected for all steps, then `jax.lax.scan`), `optax.adam`.
The goal printed beside each case: shendu at most 0.8x the fastest peer's time.

Run: `python benchmarks/lstm.py [--cases lstm,gru,bilstm] [--repeats N] [--threads N]
[--frameworks shendu,shendu-numpy,pytorch,keras,jax] [--peer-python /path/to/python]` (the peers run in that
interpreter, e.g. a venv with torch, tensorflow, jax and optax; shendu in this one).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from common import report, skipped, thread_env, timed

BATCH, STEPS, FEATURES, UNITS, CLASSES, SAMPLES, LR = 64, 50, 10, 64, 10, 10_000, 1e-3
VOCAB, LENGTH, EMBED, BI_UNITS = 10_000, 50, 64, 32
FRAMEWORKS = ("shendu", "shendu-numpy", "pytorch", "keras", "jax")
LABELS = {"shendu": "shendu", "shendu-numpy": "shendu (NumPy)", "pytorch": "pytorch", "keras": "keras/tensorflow",
          "jax": "jax"}
CASES = ("lstm", "gru", "bilstm")
GOAL = 0.8


def make_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequences whose class is the feature with the largest mean over the steps (a whole-sequence property)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, STEPS, FEATURES)).astype("float32")
    y = x.mean(axis=1).argmax(axis=1).astype("int64")
    return x, y


def polarity_ids(path: str) -> str:
    """Write rt-polarity's sentences as (n, LENGTH) int64 ids (0 padding at the end, 1 unknown, 2... by frequency)
    with their labels to `path`; random tokens of the same shape and vocabulary when the data is not there.
    Returns where the data came from."""
    from collections import Counter

    from shendu.datasets import rt_polarity
    from shendu.datasets._fetch import DatasetNotFoundError

    try:
        (x, y), (xt, yt) = rt_polarity.load_data()
    except (DatasetNotFoundError, OSError) as err:
        rng = np.random.default_rng(0)
        arrays = {}
        for name, n in (("train", 9595), ("test", 1067)):
            ids = rng.integers(2, VOCAB, size=(n, LENGTH))
            ids[np.arange(LENGTH) >= rng.integers(5, LENGTH + 1, size=(n, 1))] = 0
            arrays[f"x_{name}"], arrays[f"y_{name}"] = ids, rng.integers(0, 2, size=n)
        np.savez(path, **arrays)
        return f"random tokens ({type(err).__name__}: rt-polarity not found)"
    counts = Counter(w for s in x for w in s.lower().split())
    index = {w: i + 2 for i, (w, _) in enumerate(counts.most_common(VOCAB - 2))}

    def encode(texts: np.ndarray) -> np.ndarray:
        out = np.zeros((len(texts), LENGTH), np.int64)
        for row, s in enumerate(texts):
            ids = [index.get(w, 1) for w in s.lower().split()][:LENGTH]
            out[row, :len(ids)] = ids
        return out

    np.savez(path, x_train=encode(x), y_train=y, x_test=encode(xt), y_test=yt)
    return "rt-polarity"


def load_case(case: str, data: str | None) -> tuple:
    if case == "bilstm":
        d = np.load(data)
        return (d["x_train"], d["y_train"]), (d["x_test"], d["y_test"])
    return make_data(SAMPLES, 0), make_data(2_000, 1)


# --- shendu ----------------------------------------------------------------------------------------------------------
def run_shendu(case: str, data: tuple, repeats: int) -> tuple[float, float]:
    import shendu as sd
    from shendu.keras import Sequential, layers

    (x, y), (xt, yt) = data
    sd.random.seed(0)
    if case == "bilstm":
        model = Sequential([layers.Input((LENGTH,), dtype="int64"), layers.Embedding(VOCAB, EMBED, mask_zero=True),
                            layers.Bidirectional(layers.LSTM(BI_UNITS, dropout=0.3)), layers.Dropout(0.5),
                            layers.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    else:
        rnn = layers.LSTM if case == "lstm" else layers.GRU
        model = Sequential([rnn(UNITS, return_sequences=True, input_shape=(STEPS, FEATURES)), rnn(UNITS),
                            layers.Dense(CLASSES, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    model.compile(optimizer=sd.keras.optimizers.Adam(LR), loss=loss, metrics=["accuracy"])
    model.fit(x[:640], y[:640], batch_size=BATCH, epochs=1, verbose=0)
    secs = min(timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0))[0] for _ in range(repeats))
    return secs, model.evaluate(xt, yt, verbose=0)[1]


# --- PyTorch ---------------------------------------------------------------------------------------------------------
def run_torch(case: str, data: tuple, repeats: int) -> tuple[float, float]:
    import torch
    from torch import nn

    (x, y), (xt, yt) = data
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            rnn = nn.LSTM if case == "lstm" else nn.GRU
            self.rnn1 = rnn(FEATURES, UNITS, batch_first=True)
            self.rnn2 = rnn(UNITS, UNITS, batch_first=True)
            self.dense = nn.Linear(UNITS, CLASSES)

        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            seq, _ = self.rnn1(inputs)
            _, h = self.rnn2(seq)
            return self.dense((h[0] if case == "lstm" else h)[-1])

    class Polarity(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.rnn = nn.LSTM(EMBED, BI_UNITS, batch_first=True, bidirectional=True)
            self.dense = nn.Linear(2 * BI_UNITS, 1)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            emb = self.embed(ids)
            if self.training:  # Keras's LSTM dropout: one input mask per sequence, the same at every step
                emb = emb * torch.bernoulli(torch.full((len(ids), 1, EMBED), 0.7)) / 0.7
            lengths = (ids != 0).sum(1).clamp(min=1)
            packed = nn.utils.rnn.pack_padded_sequence(emb, lengths, batch_first=True, enforce_sorted=False)
            _, (h, _) = self.rnn(packed)
            out = nn.functional.dropout(torch.cat([h[0], h[1]], 1), 0.5, self.training)
            return self.dense(out)[:, 0]

    model = Polarity() if case == "bilstm" else Net()
    opt = torch.optim.Adam(model.parameters(), lr=LR, eps=1e-7)
    loss_fn = nn.BCEWithLogitsLoss() if case == "bilstm" else nn.CrossEntropyLoss()
    xs = torch.from_numpy(x)
    ys = torch.from_numpy(y.astype("float32") if case == "bilstm" else y)

    def epoch(n: int = len(x)) -> None:
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss_fn(model(xs[idx]), ys[idx]).backward()
            opt.step()

    epoch(640)
    secs = min(timed(epoch)[0] for _ in range(repeats))
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(xt)).numpy()
    pred = (out > 0).astype(int) if case == "bilstm" else out.argmax(1)
    return secs, float((pred == yt).mean())


# --- Keras / TensorFlow ----------------------------------------------------------------------------------------------
def run_keras(case: str, data: tuple, repeats: int) -> tuple[float, float]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    (x, y), (xt, yt) = data
    keras.utils.set_random_seed(0)
    if case == "bilstm":
        model = keras.Sequential([keras.Input((LENGTH,), dtype="int64"),
                                  keras.layers.Embedding(VOCAB, EMBED, mask_zero=True),
                                  keras.layers.Bidirectional(keras.layers.LSTM(BI_UNITS, dropout=0.3)),
                                  keras.layers.Dropout(0.5), keras.layers.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    else:
        rnn = keras.layers.LSTM if case == "lstm" else keras.layers.GRU
        model = keras.Sequential([keras.Input((STEPS, FEATURES)), rnn(UNITS, return_sequences=True), rnn(UNITS),
                                  keras.layers.Dense(CLASSES, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(LR), loss=loss, metrics=["accuracy"])
    model.fit(x[:640], y[:640], batch_size=BATCH, epochs=1, verbose=0)
    secs = min(timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0))[0] for _ in range(repeats))
    return secs, float(model.evaluate(xt, yt, verbose=0)[1])


# --- JAX -------------------------------------------------------------------------------------------------------------
def run_jax(case: str, data: tuple, repeats: int) -> tuple[float, float]:
    import jax
    import jax.numpy as jnp
    import optax

    (x, y), (xt, yt) = data
    keys = iter(jax.random.split(jax.random.PRNGKey(0), 16))

    def dense_init(fan_in: int, fan_out: int) -> jnp.ndarray:
        limit = np.sqrt(6 / (fan_in + fan_out))
        return jax.random.uniform(next(keys), (fan_in, fan_out), jnp.float32, -limit, limit)

    def rnn_init(features: int, units: int) -> dict:
        gates = 4 if case != "gru" else 3
        bias = jnp.zeros((gates * units,)).at[units:2 * units].set(1.0 if case != "gru" else 0.0)
        params = {"w": dense_init(features, gates * units), "u": dense_init(units, gates * units) * 0.5, "b": bias}
        if case == "gru":
            params["rb"] = jnp.zeros((gates * units,))
        return params

    def lstm_step(p: dict, carry: tuple, proj: jnp.ndarray) -> tuple:
        h, c = carry
        z = proj + h @ p["u"]
        i, f, g, o = jnp.split(z, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        return jax.nn.sigmoid(o) * jnp.tanh(c), c

    def gru_step(p: dict, carry: tuple, proj: jnp.ndarray) -> tuple:
        (h,) = carry
        rec = h @ p["u"] + p["rb"]
        xz, xr, xh = jnp.split(proj, 3, axis=-1)
        hz, hr, hh = jnp.split(rec, 3, axis=-1)
        z, r = jax.nn.sigmoid(xz + hz), jax.nn.sigmoid(xr + hr)
        return (z * h + (1 - z) * jnp.tanh(xh + r * hh),)

    def scan(p: dict, xs: jnp.ndarray, mask: jnp.ndarray | None = None, reverse: bool = False) -> tuple:
        """The states over time-major xs (steps, batch, features): (all h, final h); masked steps keep the state."""
        step = lstm_step if case != "gru" else gru_step
        units = p["u"].shape[0]
        proj = xs @ p["w"] + p["b"]
        carry0 = tuple(jnp.zeros((xs.shape[1], units)) for _ in range(2 if case != "gru" else 1))

        def body(carry: tuple, inputs: tuple) -> tuple:
            new = step(p, carry, inputs[0])
            if mask is not None:
                new = tuple(jnp.where(inputs[1][:, None], n, o) for n, o in zip(new, carry, strict=True))
            return new, new[0]

        last, hs = jax.lax.scan(body, carry0, (proj, proj[..., 0] if mask is None else mask), reverse=reverse)
        return hs, last[0]

    if case == "bilstm":
        params = {"embed": jax.random.uniform(next(keys), (VOCAB, EMBED), jnp.float32, -0.05, 0.05),
                  "fw": rnn_init(EMBED, BI_UNITS), "bw": rnn_init(EMBED, BI_UNITS),
                  "dw": dense_init(2 * BI_UNITS, 1), "db": jnp.zeros((1,))}

        def forward(p: dict, ids: jnp.ndarray, key: jnp.ndarray | None) -> jnp.ndarray:
            emb = p["embed"][ids]
            if key is not None:
                k1, k2 = jax.random.split(key)
                emb = emb * jax.random.bernoulli(k1, 0.7, (ids.shape[0], 1, EMBED)) / 0.7
            xs, mask = jnp.swapaxes(emb, 0, 1), ids.T != 0
            h = jnp.concatenate([scan(p["fw"], xs, mask)[1], scan(p["bw"], xs, mask, reverse=True)[1]], axis=1)
            if key is not None:
                h = h * jax.random.bernoulli(k2, 0.5, h.shape) / 0.5
            return (h @ p["dw"] + p["db"])[:, 0]

        def loss_fn(p: dict, xb: jnp.ndarray, yb: jnp.ndarray, key: jnp.ndarray) -> jnp.ndarray:
            return optax.sigmoid_binary_cross_entropy(forward(p, xb, key), yb).mean()
    else:
        params = {"r1": rnn_init(FEATURES, UNITS), "r2": rnn_init(UNITS, UNITS), "dw": dense_init(UNITS, CLASSES),
                  "db": jnp.zeros((CLASSES,))}

        def forward(p: dict, xb: jnp.ndarray, key: jnp.ndarray | None) -> jnp.ndarray:
            hs, _ = scan(p["r1"], jnp.swapaxes(xb, 0, 1))
            _, h = scan(p["r2"], hs)
            return h @ p["dw"] + p["db"]

        def loss_fn(p: dict, xb: jnp.ndarray, yb: jnp.ndarray, key: jnp.ndarray) -> jnp.ndarray:
            return optax.softmax_cross_entropy_with_integer_labels(forward(p, xb, key), yb).mean()

    opt = optax.adam(LR, eps=1e-7)

    @jax.jit
    def train_step(p: dict, state: tuple, xb: jnp.ndarray, yb: jnp.ndarray, key: jnp.ndarray) -> tuple:
        loss, grads = jax.value_and_grad(loss_fn)(p, xb, yb, key)
        updates, state = opt.update(grads, state, p)
        return optax.apply_updates(p, updates), state, loss

    state = opt.init(params)
    rng = np.random.default_rng(0)
    yf = y.astype("float32") if case == "bilstm" else y.astype("int32")
    key = jax.random.PRNGKey(1)

    def epoch(n: int = len(x)) -> None:
        nonlocal params, state, key
        perm = rng.permutation(n)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            key, sub = jax.random.split(key)
            params, state, _ = train_step(params, state, x[idx], yf[idx], sub)
        jax.block_until_ready(params)

    epoch(640)
    epoch(len(x) % BATCH or BATCH)  # compiles the last, smaller batch's step too
    secs = min(timed(epoch)[0] for _ in range(repeats))
    out = np.asarray(jax.jit(lambda p, xb: forward(p, xb, None))(params, xt))
    pred = (out > 0).astype(int) if case == "bilstm" else out.argmax(1)
    return secs, float((pred == yt).mean())


RUNNERS = {"shendu": run_shendu, "shendu-numpy": run_shendu, "pytorch": run_torch, "keras": run_keras, "jax": run_jax}
TITLES = {"lstm": f"Two-layer LSTM({UNITS}), Adam, batch {BATCH}, {SAMPLES} sequences of {STEPS}x{FEATURES}",
          "gru": f"Two-layer GRU({UNITS}), Adam, batch {BATCH}, {SAMPLES} sequences of {STEPS}x{FEATURES}",
          "bilstm": f"Sentence polarity: Embedding({VOCAB}, {EMBED}, mask) + Bidirectional(LSTM({BI_UNITS}, "
                    f"dropout 0.3)), Adam, batch {BATCH}, sequences of {LENGTH} ids"}


def run(name: str, case: str, args: argparse.Namespace, data: str | None) -> dict | None:
    """One framework on one case in its own process (the peers in --peer-python); its JSON result or None."""
    python = sys.executable if name.startswith("shendu") else args.peer_python
    cmd = [python, __file__, "--worker", name, "--cases", case, "--repeats", str(args.repeats)]
    env = thread_env(args.threads)
    if name == "shendu-numpy":
        env["SHENDU_NUMBA"] = "0"
    if data:
        cmd += ["--data", data]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        skipped(LABELS[name], RuntimeError((proc.stderr.strip().splitlines() or ["no output"])[-1]))
        return None
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, from " + ", ".join(CASES))
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per framework; the fastest counts")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated, from " + ", ".join(FRAMEWORKS))
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every framework (BLAS, OpenMP, TF's pools); default: each framework's own")
    parser.add_argument("--peer-python", default=os.environ.get("PEER_PYTHON", sys.executable),
                        help="the interpreter that runs PyTorch, Keras and JAX (default: $PEER_PYTHON or this one)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        secs, acc = RUNNERS[args.worker](args.cases, load_case(args.cases, args.data), args.repeats)
        print(json.dumps({"secs": secs, "acc": float(acc)}))
        return
    threads = f"{args.threads} thread(s) each" if args.threads else "default threads"
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            data, source = None, ""
            if case == "bilstm":
                data = os.path.join(tmp, "polarity.npz")
                source = f", data: {polarity_ids(data)}"
            rows = {}
            for name in args.frameworks.split(","):
                result = run(name, case, args, data)
                if result is not None:
                    rows[LABELS[name]] = (result["secs"], result["acc"])
            if not rows:
                continue
            report(f"{TITLES[case]}{source}; {os.cpu_count()} cores, {threads}, best of {args.repeats} epochs", rows)
            peers = {k: v[0] for k, v in rows.items() if not k.startswith("shendu")}
            if peers:
                fastest = min(peers, key=peers.get)
                for label in (k for k in rows if k.startswith("shendu")):
                    ratio = rows[label][0] / peers[fastest]
                    print(f"  goal: {label} at most {GOAL}x the fastest peer ({fastest}): measured {ratio:.2f}x, "
                          f"{'met' if ratio <= GOAL else 'not met'}")


if __name__ == "__main__":
    main()

"""A character-level LSTM language model: it learns to predict the next character of a text, then writes new text.

The text is the file named on the command line, or by default the rt-polarity snippets (both files, one snippet a
line, from $SHENDU_DATA_DIR/rt-polarity/). The last 10% is held out; the model (Embedding, LSTM, Dense over the
characters) trains on windows of the rest to predict each next character, reports bits per character on the
held-out text, and samples new text at temperatures 0.2, 0.5 and 1.0.

    python examples/char_lm.py [text file] [--epochs 5] [--units 128] [--batch-size 32] [--length 64]
                                          [--max-chars 600000]
"""

import argparse
import math
import os
import time

import numpy as np

import shendu as sd
from shendu.datasets import rt_polarity
from shendu.keras import Sequential, layers, losses, optimizers

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("text", nargs="?", help="a text file (UTF-8, or Latin-1 when it is not UTF-8)")
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--units", type=int, default=128)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--max-chars", type=int, default=600_000, help="use at most this many characters of the text")
parser.add_argument("--length", type=int, default=64, help="characters per training window")
args = parser.parse_args()


def read_text(path: str | None) -> tuple[str, str]:
    if path is None:
        folder = rt_polarity.locate()
        parts = []
        for name in ("rt-polarity.pos", "rt-polarity.neg"):
            with open(os.path.join(folder, name), encoding="latin-1") as f:
                parts.append(f.read())
        return "".join(parts), f"rt-polarity snippets ({folder})"
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8"), path
    except UnicodeDecodeError:
        return raw.decode("latin-1"), f"{path} (Latin-1)"


sd.random.seed(0)
rng = np.random.default_rng(0)
text, source = read_text(args.text)
if args.text is None:  # interleave the positive and negative snippets so both halves hold both kinds
    lines = text.splitlines()
    rng.shuffle(lines)
    text = "\n".join(line.strip() for line in lines) + "\n"
text = text[:args.max_chars]
split = int(len(text) * 0.9)
train_text, held_out = text[:split], text[split:]
chars = sorted(set(train_text))
UNKNOWN = len(chars)  # characters of the held-out text never seen in training
index = {c: i for i, c in enumerate(chars)}
vocab = len(chars) + 1
print(f"{source}: {len(text):,} characters, {len(chars)} distinct; training on {len(train_text):,}, "
      f"holding out {len(held_out):,}")


def encode(s: str) -> np.ndarray:
    return np.array([index.get(c, UNKNOWN) for c in s], dtype=np.int64)


def windows(ids: np.ndarray, length: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive windows: inputs ids[i : i + length], targets shifted by one character."""
    n = (len(ids) - 1 - offset) // length
    x = ids[offset:offset + n * length].reshape(n, length)
    y = ids[offset + 1:offset + 1 + n * length].reshape(n, length)
    return x, y


train_ids, held_ids = encode(train_text), encode(held_out)
model = Sequential([
    layers.Input((None,), dtype="int64"),
    layers.Embedding(vocab, 32),
    layers.LSTM(args.units, return_sequences=True),
    layers.Dense(vocab),
])
model.compile(optimizer=optimizers.Adam(0.003, clipnorm=5.0),
              loss=losses.SparseCategoricalCrossentropy(from_logits=True))
model.summary()
x_held, y_held = windows(held_ids, args.length)
start = time.perf_counter()
for epoch in range(args.epochs):
    x, y = windows(train_ids, args.length, offset=int(rng.integers(args.length)))  # new window boundaries
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=2)
    nats = model.evaluate(x_held, y_held, batch_size=256, verbose=0)
    print(f"epoch {epoch + 1}: held-out {nats / math.log(2):.3f} bits per character")
seconds = time.perf_counter() - start
bpc = model.evaluate(x_held, y_held, batch_size=256, verbose=0) / math.log(2)
print(f"held-out bits per character: {bpc:.3f} over {x_held.size:,} characters "
      f"(uniform over the characters: {math.log2(vocab):.3f}); {seconds:.0f} s of training")


def sample(seed: str, temperatures: tuple[float, ...], n: int = 300) -> list[str]:
    """Continue seed once per temperature, drawing each character from softmax(logits / temperature)."""
    ids = np.tile(encode(seed), (len(temperatures), 1))
    t = np.array(temperatures)[:, None]
    for _ in range(n):
        logits = model.predict(ids[:, -args.length:], verbose=0)[:, -1].astype(np.float64)
        logits[:, UNKNOWN] = -np.inf
        p = np.exp((logits - logits.max(1, keepdims=True)) / t)
        p /= p.sum(1, keepdims=True)
        nxt = np.array([rng.choice(vocab, p=row) for row in p])
        ids = np.concatenate([ids, nxt[:, None]], axis=1)
    return ["".join(chars[i] for i in row[len(seed):]) for row in ids]


seed = held_out[:60]
print(f"\nseed (from the held-out text): {seed!r}")
for temperature, continuation in zip((0.2, 0.5, 1.0), sample(seed, (0.2, 0.5, 1.0))):
    print(f"\n--- temperature {temperature} ---\n{seed}{continuation}")

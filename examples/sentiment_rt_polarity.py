"""Sentiment of movie-review snippets (rt-polarity): TextVectorization, then a bidirectional LSTM and a 1-D CNN.

Both models learn their word embeddings from scratch on the 9,595 training sentences of the seeded 90/10 split and
are scored on the 1,067 held-out ones (Kim's 2014 CNN with random embeddings reaches about 76%). The number of
epochs is the one with the lowest loss on a 10% validation split of the training sentences; the final model is
then trained on all of them. The snippets come tokenized
(punctuation split off), so the text is only lower-cased: "!" and "?" stay tokens. The data is read from
$SHENDU_DATA_DIR/rt-polarity/ or from the folder given on the command line:

    SHENDU_DATA_DIR=../shared/data python examples/sentiment_rt_polarity.py [folder]
"""

import sys
import time

import numpy as np

import shendu as sd
from shendu.datasets import rt_polarity
from shendu.keras import Model, Sequential, callbacks, layers

MAX_TOKENS, LENGTH, EMBED = 10000, 50, 128

sd.random.seed(0)
(x_train, y_train), (x_test, y_test) = rt_polarity.load_data(sys.argv[1] if len(sys.argv) > 1 else None)
print(f"{len(x_train)} training and {len(x_test)} test sentences, e.g. {str(x_train[0])!r} -> {y_train[0]}")

vectorize = layers.TextVectorization(max_tokens=MAX_TOKENS, output_sequence_length=LENGTH, standardize="lower")
vectorize.adapt(x_train)
ids_train, ids_test = vectorize(x_train).numpy(), vectorize(x_test).numpy()
vocabulary = vectorize.vocabulary_size()
print(f"vocabulary: {vocabulary} tokens; the 10 most frequent: {vectorize.get_vocabulary()[2:12]}")


def train(name, build, max_epochs):
    """Pick the number of epochs on a 10% validation split of the training sentences (lowest validation loss),
    then train a fresh model on all of them for that many epochs and score it on the held-out sentences."""
    start = time.perf_counter()
    sd.random.seed(0)
    model = build()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.summary()
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=1)
    history = model.fit(ids_train, y_train, epochs=max_epochs, batch_size=64, validation_split=0.1, callbacks=[stop],
                        verbose=2)
    epochs = int(np.argmin(history.history["val_loss"])) + 1
    print(f"{name}: lowest validation loss after {epochs} epoch(s); training on all {len(ids_train)} sentences")
    sd.random.seed(0)
    model = build()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(ids_train, y_train, epochs=epochs, batch_size=64, verbose=2)
    _, accuracy = model.evaluate(ids_test, y_test, verbose=0)
    print(f"{name}: held-out accuracy {accuracy:.4f} ({time.perf_counter() - start:.0f} s in all)")
    return accuracy


def bidirectional_lstm():
    return Sequential([
        layers.Input((LENGTH,), dtype="int64"),
        layers.Embedding(vocabulary, 64, mask_zero=True),
        layers.Bidirectional(layers.LSTM(32, dropout=0.3)),  # input dropout inside the LSTM keeps the padding mask
        layers.Dropout(0.5),
        layers.Dense(1, activation="sigmoid"),
    ])


def kim_cnn():
    """Kim's CNN: windows of 3, 4 and 5 words, 100 filters each, max over time, dropout."""
    tokens = layers.Input((LENGTH,), dtype="int64")
    embedded = layers.SpatialDropout1D(0.3)(layers.Embedding(vocabulary, EMBED)(tokens))
    pooled = [layers.GlobalMaxPooling1D()(layers.Conv1D(100, width, activation="relu")(embedded))
              for width in (3, 4, 5)]
    features = layers.Dropout(0.5)(layers.Concatenate()(pooled))
    return Model(tokens, layers.Dense(1, activation="sigmoid")(features))


results = {"Embedding + Bidirectional LSTM(32, dropout 0.3)": train("Bidirectional LSTM", bidirectional_lstm, 6),
           "Embedding + Conv1D(3/4/5 x 100) + GlobalMaxPooling1D": train("1-D CNN", kim_cnn, 6)}
print(f"\nheld-out accuracy on rt-polarity ({len(ids_test):,} sentences):")
for name, accuracy in results.items():
    print(f"  {name:54s} {accuracy:.4f}")
print(f"  {'majority class':54s} {max(np.mean(y_test), 1 - np.mean(y_test)):.4f}")

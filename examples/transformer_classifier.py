"""A Transformer encoder block classifying the sentiment of movie-review snippets (rt-polarity).

The keras.io "text classification with Transformer" model on the polarity data: token and position embeddings
(id 0 is padding and is kept out of the attention), one TransformerEncoder block (2 heads, feed-forward width 64),
average pooling over the steps and a small classifier head. As in sentiment_rt_polarity.py, the number of epochs is
chosen on a 10% validation split and the final model trained on all 9,595 training sentences, then scored on the
1,067 held-out ones. The data comes from $SHENDU_DATA_DIR/rt-polarity/ or the folder given on the command line:

    SHENDU_DATA_DIR=../shared/data python examples/transformer_classifier.py [folder]
"""

import sys
import time

import numpy as np

import shendu as sd
from shendu.datasets import rt_polarity
from shendu.keras import Model, callbacks, layers

MAX_TOKENS, LENGTH, EMBED, HEADS, FF = 10000, 50, 32, 2, 64

(x_train, y_train), (x_test, y_test) = rt_polarity.load_data(sys.argv[1] if len(sys.argv) > 1 else None)
vectorize = layers.TextVectorization(max_tokens=MAX_TOKENS, output_sequence_length=LENGTH, standardize="lower")
vectorize.adapt(x_train)
ids_train, ids_test = vectorize(x_train).numpy(), vectorize(x_test).numpy()


def transformer_classifier() -> Model:
    tokens = layers.Input((LENGTH,), dtype="int64")
    x = layers.TokenAndPositionEmbedding(vectorize.vocabulary_size(), LENGTH, EMBED, mask_zero=True)(tokens)
    x = layers.TransformerEncoder(intermediate_dim=FF, num_heads=HEADS, dropout=0.1)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    return Model(tokens, layers.Dense(1, activation="sigmoid")(x))


def compiled() -> Model:
    sd.random.seed(0)
    model = transformer_classifier()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


start = time.perf_counter()
model = compiled()
model.summary()
stop = callbacks.EarlyStopping(monitor="val_loss", patience=1)
history = model.fit(ids_train, y_train, epochs=8, batch_size=64, validation_split=0.1, callbacks=[stop], verbose=2)
epochs = int(np.argmin(history.history["val_loss"])) + 1
print(f"lowest validation loss after {epochs} epoch(s); training on all {len(ids_train)} sentences")
model = compiled()
model.fit(ids_train, y_train, epochs=epochs, batch_size=64, verbose=2)
_, accuracy = model.evaluate(ids_test, y_test, verbose=0)
print(f"Transformer encoder classifier: held-out accuracy {accuracy:.4f} on {len(ids_test)} sentences "
      f"({time.perf_counter() - start:.0f} s in all; majority class {max(y_test.mean(), 1 - y_test.mean()):.4f})")

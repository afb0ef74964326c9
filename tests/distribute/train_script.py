"""Run by the multi-process tests under mpiexec (and alone, for the one-process reference): train a small model
on fixed data and save the final weights of this rank to OUT/rank{r}.npz.

argv: out_dir optimizer(sgd|adam) layer(bn|syncbn|none) n_samples batch_size epochs [kill_rank]
"""

import os
import signal
import sys

import numpy as np

import shendu as tf
from shendu import keras

out, opt, norm, n, batch, epochs = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
stop_rank = int(sys.argv[7]) if len(sys.argv) > 7 else -1
tf.set_floatx("float64")
rng = np.random.default_rng(0)
x = rng.normal(size=(n, 6))
y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("int64")
strategy = tf.distribute.MultiWorkerMirroredStrategy()
rank = strategy.rank
with strategy.scope():
    keras.utils.set_random_seed(1 + rank)  # different initial weights per rank: the broadcast must fix them
    norm_layer = {"bn": [keras.layers.BatchNormalization()], "none": [],
                  "syncbn": [keras.layers.SyncBatchNormalization()]}[norm]
    model = keras.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(6,)), *norm_layer,
                              keras.layers.Dense(2, activation="softmax")])
    optimizer = keras.optimizers.SGD(0.1) if opt == "sgd" else keras.optimizers.Adam(0.01)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])


class Stop(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if rank == stop_rank and batch == 1:
            os.kill(os.getpid(), getattr(signal, os.environ.get("TEST_SIGNAL", "SIGSTOP")))


callbacks = [Stop()]
if os.environ.get("TEST_FILES"):  # each rank names its own folder: only the chief's may get files
    mine = os.path.join(out, f"pid{os.getpid()}")
    os.makedirs(mine)
    callbacks += [keras.callbacks.ModelCheckpoint(os.path.join(mine, "model.shendu")),
                  keras.callbacks.CSVLogger(os.path.join(mine, "log.csv"))]
if os.environ.get("TEST_BACKUP"):
    callbacks.append(keras.callbacks.BackupAndRestore(os.environ["TEST_BACKUP"], delete_checkpoint=False))
history = model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks,
                    validation_data=(x[:7], y[:7]))
predictions = model.predict(x, batch_size=batch, verbose=0)
scores = model.evaluate(x, y, batch_size=batch, verbose=0)
np.savez(os.path.join(out, f"rank{rank}.npz"), *model.get_weights(), predictions=predictions,
         loss=np.array(history.history["loss"]), val_loss=np.array(history.history["val_loss"]),
         scores=np.array(scores))

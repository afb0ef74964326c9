"""Every callback hook receives a logs dict, as Keras 3 passes them (the custom-callback guide's CustomCallback)."""

import numpy as np

import shendu as sd
from shendu import keras

HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_test_begin", "on_test_end",
         "on_predict_begin", "on_predict_end", "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
         "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end"]


class GuideCallback(keras.callbacks.Callback):
    """The hooks written out as in the guide, each calling logs.keys()."""

    def __init__(self):
        super().__init__()
        self.seen = {}

    def _keep(self, name, logs):
        self.seen.setdefault(name, []).append(list(logs.keys()))

    def on_train_begin(self, logs=None):
        self._keep("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._keep("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._keep("on_epoch_begin", logs)

    def on_epoch_end(self, epoch, logs=None):
        self._keep("on_epoch_end", logs)

    def on_test_begin(self, logs=None):
        self._keep("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._keep("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._keep("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._keep("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._keep("on_train_batch_begin", logs)

    def on_train_batch_end(self, batch, logs=None):
        self._keep("on_train_batch_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._keep("on_test_batch_begin", logs)

    def on_test_batch_end(self, batch, logs=None):
        self._keep("on_test_batch_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._keep("on_predict_batch_begin", logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._keep("on_predict_batch_end", logs)


def test_every_hook_gets_a_dict_with_keras_3_keys():
    sd.random.seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mean_absolute_error"])
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    cb = GuideCallback()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, validation_split=0.5, callbacks=[cb])
    model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[cb])
    model.predict(x, batch_size=4, verbose=0, callbacks=[cb])
    metrics = ["loss", "mean_absolute_error"]
    epoch = [*metrics, "val_loss", "val_mean_absolute_error"]
    assert set(cb.seen) == set(HOOKS)
    for hook in ["on_train_begin", "on_epoch_begin", "on_test_begin", "on_predict_begin", "on_predict_end",
                 "on_train_batch_begin", "on_test_batch_begin", "on_predict_batch_begin"]:
        assert all(keys == [] for keys in cb.seen[hook]), hook
    assert cb.seen["on_train_batch_end"] == [metrics]
    assert all(keys == metrics for keys in cb.seen["on_test_batch_end"] + cb.seen["on_test_end"])
    assert cb.seen["on_epoch_end"] == [epoch] and cb.seen["on_train_end"] == [epoch]
    assert cb.seen["on_predict_batch_end"] == [["outputs"], ["outputs"]]


def test_the_old_batch_aliases_get_a_dict_too():
    seen = []

    class Old(keras.callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(list(logs.keys()))

        def on_batch_end(self, batch, logs=None):
            seen.append(list(logs.keys()))

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 1)), batch_size=4, verbose=0, callbacks=[Old()])
    assert seen == [[], ["loss"]]

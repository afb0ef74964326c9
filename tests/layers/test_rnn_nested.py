"""RNN(cell) over nested inputs and states of any rank: the nested-cell example of Keras's RNN guide."""

import numpy as np

import shendu as tf
from shendu import keras


@keras.saving.register_keras_serializable(package="NestedRNN")
class NestedCell(keras.layers.Layer):
    """The guide's cell: states of shapes (unit_1,) and (unit_2, unit_3), inputs (i1,) and (i2, i3) per step."""

    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
        self.state_size = [tf.TensorShape([unit_1]), tf.TensorShape([unit_2, unit_3])]
        self.output_size = [tf.TensorShape([unit_1]), tf.TensorShape([unit_2, unit_3])]
        super().__init__(**kwargs)

    def build(self, input_shapes):
        i1, i2, i3 = input_shapes[0][1], input_shapes[1][1], input_shapes[1][2]
        self.kernel_1 = self.add_weight(shape=(i1, self.unit_1), initializer="uniform", name="kernel_1")
        self.kernel_2_3 = self.add_weight(shape=(i2, i3, self.unit_2, self.unit_3), initializer="uniform",
                                          name="kernel_2_3")

    def call(self, inputs, states):
        input_1, input_2 = tf.nest.flatten(inputs)
        s1, s2 = states
        output_1 = tf.matmul(input_1, self.kernel_1)
        output_2_3 = tf.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        return (output_1, output_2_3), (s1 + output_1, s2 + output_2_3)

    def get_config(self):
        return {**super().get_config(), "unit_1": self.unit_1, "unit_2": self.unit_2, "unit_3": self.unit_3}


def _data(n=6, t=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random((n, t, 3)).astype("float32"), rng.random((n, t, 4, 2)).astype("float32")]


def _model(**rnn_kwargs):
    rnn = keras.layers.RNN(NestedCell(5, 2, 3), **rnn_kwargs)
    input_1, input_2 = keras.Input((None, 3)), keras.Input((None, 4, 2))
    return keras.models.Model([input_1, input_2], rnn((input_1, input_2))), rnn


def test_output_shapes_and_values_equal_the_step_formulas():
    model, rnn = _model(return_state=True)
    assert [o.shape.as_list() for o in model.outputs] == [[None, 5], [None, 2, 3], [None, 5], [None, 2, 3]]
    x1, x2 = _data()
    o1, o23, s1, s23 = model.predict([x1, x2], verbose=0)
    k1, k23 = rnn.cell.kernel_1.numpy(), rnn.cell.kernel_2_3.numpy()
    np.testing.assert_allclose(o1, x1[:, -1] @ k1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(o23, np.einsum("bij,ijkl->bkl", x2[:, -1], k23), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s1, np.einsum("bti,ik->bk", x1, k1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s23, np.einsum("btij,ijkl->bkl", x2, k23), rtol=1e-5, atol=1e-6)


def test_return_sequences_stacks_each_output():
    model, rnn = _model(return_sequences=True)
    x1, x2 = _data(t=5)
    o1, o23 = model.predict([x1, x2], verbose=0)
    assert o1.shape == (6, 5, 5) and o23.shape == (6, 5, 2, 3)
    np.testing.assert_allclose(o1, x1 @ rnn.cell.kernel_1.numpy(), rtol=1e-5, atol=1e-6)


def test_guide_training_and_saving(tmp_path):
    model, _ = _model()
    model.compile(optimizer="adam", loss="mse")
    x = _data(n=8)
    targets = [np.random.default_rng(1).random((8, 5)), np.random.default_rng(2).random((8, 2, 3))]
    history = model.fit(x, targets, batch_size=4, epochs=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "nested.shendu"
    model.save(path)
    loaded = keras.models.load_model(path)
    for a, b in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(a, b)

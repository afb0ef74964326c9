"""tf.function: the decorator's forms, methods, input_signature checks and conversions, concrete functions."""

import numpy as np
import pytest

import shendu as tf
from shendu.tf.tf_function import PolymorphicFunction, function


def test_decorator_forms_run_the_function_eagerly():
    calls = []

    @function
    def bare(x):
        calls.append(1)
        return x * 2

    @function(jit_compile=True, reduce_retracing=True, autograph=False)
    def configured(x, y=1.0):
        return x + y

    def plain(x):
        return x - 1

    wrapped = function(plain)
    assert float(bare(tf.constant(2.0))) == 4.0 and float(bare(tf.constant(3.0))) == 6.0
    assert len(calls) == 2  # Python side effects run at every call
    assert float(configured(1.0, y=2.0)) == 3.0 and wrapped(5) == 4
    assert isinstance(bare, PolymorphicFunction) and bare.__name__ == "bare" and wrapped.python_function is plain
    with pytest.raises(TypeError, match="expected a function"):
        function(3)


def test_gradients_flow_through_a_tf_function():
    v = tf.Variable([1.0, 2.0])

    @function
    def loss_fn(scale):
        return (v * v * scale).sum()

    with tf.GradientTape() as tape:
        loss = loss_fn(3.0)
    np.testing.assert_array_equal(tape.gradient(loss, v).numpy(), [6.0, 12.0])


def test_methods_bind_to_their_object():
    class Scaler:
        def __init__(self, k):
            self.k = k

        @function
        def __call__(self, x):
            return x * self.k

        @function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def scaled(self, x):
            return x * self.k

    a, b = Scaler(2.0), Scaler(3.0)
    assert float(a(tf.constant(1.0))) == 2.0 and float(b(tf.constant(1.0))) == 3.0
    np.testing.assert_array_equal(b.scaled(tf.constant([1.0, 2.0])).numpy(), [3.0, 6.0])
    np.testing.assert_array_equal(b.scaled(x=[1.0]).numpy(), [3.0])
    assert isinstance(Scaler.scaled, PolymorphicFunction)


def test_a_keras_model_with_a_decorated_call_trains():
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = tf.keras.layers.Dense(1)

        @function
        def call(self, inputs):
            return self.dense(inputs)

    model = Net()
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    history = model.fit(x, x.sum(axis=1, keepdims=True), epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_input_signature_checks_shape_and_dtype():
    @function(input_signature=[tf.TensorSpec([1, None])])
    def constrained(t):
        return t

    assert constrained(tf.constant([[1.0, 2.0]])).shape == (1, 2)
    assert constrained(tf.constant([[1.0, 2.0, 3.0, 4.0]])).shape == (1, 4)
    with pytest.raises(TypeError, match=r"Binding inputs to tf.function `constrained` failed.*\(2, 2\)"):
        constrained(tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(TypeError, match="dtype int32 does not fit"):
        constrained(tf.constant([[1, 2]]))
    with pytest.raises(TypeError, match="dtype float64 does not fit"):
        constrained(np.ones((1, 2)))
    with pytest.raises(TypeError, match="2 positional arguments"):
        constrained(tf.constant([[1.0]]), tf.constant([[1.0]]))
    with pytest.raises(TypeError, match="missing argument `t`"):
        constrained()
    with pytest.raises(TypeError, match="extra keywords"):
        constrained(tf.constant([[1.0]]), other=1)


def test_input_signature_converts_python_values_and_keeps_tensors():
    seen = []

    @function(input_signature=[tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.int64)])
    def f(x, n):
        seen.append((x, n))
        return x * 2

    v = tf.Variable([1.0, 2.0])
    f(v, 3)
    assert seen[0][0] is v  # a tensor passes as it is (gradients keep flowing)
    f([1, 2, 3], np.int64(4))
    x, n = seen[1]
    assert isinstance(x, tf.Tensor) and x.dtype == np.float32 and n.dtype == np.int64 and int(n) == 4
    with pytest.raises(TypeError, match="cannot be converted to int64"):
        f([1.0], 2.5)


def test_nested_input_signature():
    @function(input_signature=[{"a": tf.TensorSpec([None]), "b": [tf.TensorSpec([2]), tf.TensorSpec([])]}])
    def f(inputs):
        return inputs["a"].sum() + inputs["b"][0].sum() + inputs["b"][1]

    assert float(f({"b": [[1.0, 2.0], 3.0], "a": [4.0]})) == 10.0
    with pytest.raises(TypeError, match="dict with the keys"):
        f({"a": [4.0]})
    with pytest.raises(TypeError, match=r"argument `inputs\['b'\]\[0\]`"):
        f({"a": [4.0], "b": [[1.0], 3.0]})
    with pytest.raises(TypeError, match=r"must hold tf\.TensorSpec"):
        function(lambda x: x, input_signature=[(2, 3)])


def test_concrete_functions():
    @function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def double(x):
        return x * 2

    concrete = double.get_concrete_function()
    np.testing.assert_array_equal(concrete(tf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])
    assert concrete.structured_input_signature == ((tf.TensorSpec([None], tf.float32),), {})
    with pytest.raises(TypeError, match="does not fit"):
        concrete(tf.constant([[1.0]]))
    with pytest.raises(ValueError, match="without arguments"):
        double.get_concrete_function(tf.constant([1.0]))

    @function
    def scale(x, factor):
        return x * factor

    by_spec = scale.get_concrete_function(tf.TensorSpec([None], tf.float32), 10.0)
    np.testing.assert_array_equal(by_spec(tf.constant([1.0, 2.0])).numpy(), [10.0, 20.0])
    by_tensor = scale.get_concrete_function(tf.constant([[1.0]]), 2.0)
    np.testing.assert_array_equal(by_tensor(x=tf.constant([[3.0]])).numpy(), [[6.0]])
    with pytest.raises(TypeError, match="does not fit"):
        by_tensor(tf.constant([3.0]))


def test_a_callable_object_can_be_wrapped():
    model = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=(3,))])
    x = np.ones((4, 3), np.float32)
    wrapped = function(model)
    np.testing.assert_array_equal(wrapped(x).numpy(), model(x).numpy())
    assert "Sequential" in repr(wrapped)

"""The Distiller: the loss composition against a hand computation, the teacher frozen, the student saved alone."""

import numpy as np
import pytest

import shendu as sd
from shendu.compression import Distiller
from shendu.keras import Sequential, layers, losses, optimizers


def _pair():
    sd.random.seed(0)
    teacher = Sequential([layers.Dense(16, activation="relu", input_shape=(6,)), layers.Dense(3)])
    student = Sequential([layers.Dense(4, activation="relu", input_shape=(6,)), layers.Dense(3)])
    rng = np.random.default_rng(0)
    return teacher, student, rng.random((32, 6), dtype=np.float32), rng.integers(0, 3, 32)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_loss_is_the_keras_example_composition():
    teacher, student, x, y = _pair()
    distiller = Distiller(student=student, teacher=teacher)
    distiller.compile(optimizer=optimizers.SGD(0.0), metrics=["sparse_categorical_accuracy"],
                      student_loss_fn=losses.SparseCategoricalCrossentropy(from_logits=True),
                      distillation_loss_fn=losses.KLDivergence(), alpha=0.3, temperature=4)
    s, t = student.predict(x, verbose=0).astype(np.float64), teacher.predict(x, verbose=0).astype(np.float64)
    hard = np.mean(-np.log(_softmax(s)[np.arange(32), y]))
    p, q = _softmax(t / 4), _softmax(s / 4)
    soft = np.mean(np.sum(p * np.log(p / q), axis=1)) * 16
    logs = distiller.fit(x, y, batch_size=32, epochs=1, verbose=0).history
    assert logs["student_loss"][0] == pytest.approx(hard, rel=1e-4)
    assert logs["distillation_loss"][0] == pytest.approx(soft, rel=1e-4)
    assert logs["loss"][0] == pytest.approx(0.3 * hard + 0.7 * soft, rel=1e-4)


def test_training_moves_the_student_only_and_the_student_saves_alone(tmp_path):
    teacher, student, x, y = _pair()
    frozen = [w.copy() for w in teacher.get_weights()]
    start = [w.copy() for w in student.get_weights()]
    distiller = Distiller(student=student, teacher=teacher)
    distiller.compile(optimizer="adam", metrics=["sparse_categorical_accuracy"],
                      student_loss_fn=losses.SparseCategoricalCrossentropy(from_logits=True),
                      distillation_loss_fn=losses.KLDivergence())
    distiller.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, teacher.get_weights()))
    assert not any(np.array_equal(a, b) for a, b in zip(start, student.get_weights()))
    results = distiller.evaluate(x, y, verbose=0, return_dict=True)
    assert set(results) >= {"loss", "student_loss", "distillation_loss", "sparse_categorical_accuracy"}
    np.testing.assert_allclose(distiller.predict(x, verbose=0), student.predict(x, verbose=0))
    student.save(tmp_path / "student.shendu")
    again = sd.keras.models.load_model(tmp_path / "student.shendu")
    np.testing.assert_array_equal(again.predict(x, verbose=0), student.predict(x, verbose=0))
    with pytest.raises(NotImplementedError, match=r"distiller\.student\.save"):
        distiller.save(tmp_path / "distiller.shendu")

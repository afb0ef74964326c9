"""Knowledge distillation as the Keras example ("Knowledge Distillation", keras-io): a `Distiller(student, teacher)`
model trains the student on the labels and on the teacher's softened outputs.

loss = alpha * student_loss(y, s) + (1 - alpha) * distillation_loss(softmax(t / T), softmax(s / T)) * T^2

with s and t the student's and teacher's logits and T the temperature (the T^2 keeps the soft term's gradients
at the scale of the hard one's, Hinton et al. 2015). The teacher is frozen; save `distiller.student` alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shendu import grad_mode
from shendu.activations import softmax
from shendu.metrics.base import Mean
from shendu.models import data_adapter as da
from shendu.models.model import Model
from shendu.tensor import Tensor


class Distiller(Model):
    """Trains `student` to match the labels and `teacher`'s temperature-softened outputs (both give logits)."""

    def __init__(self, student: Model, teacher: Model, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.teacher = teacher
        self.student = student
        self.student_loss_tracker = Mean(name="student_loss")
        self.distillation_loss_tracker = Mean(name="distillation_loss")

    def compile(self, optimizer: Any = "adam", metrics: Any = None, student_loss_fn: Any = None,  # type: ignore[override]
                distillation_loss_fn: Any = None, alpha: float = 0.1, temperature: float = 3, **kwargs: Any) -> None:
        """The Keras example's arguments: the optimizer and metrics of the student, its loss on the labels, the loss
        between softened distributions (e.g. KLDivergence()), the weight alpha of the student loss, and T."""
        from shendu import losses

        if student_loss_fn is None or distillation_loss_fn is None:
            raise ValueError("Distiller.compile: give student_loss_fn (e.g. SparseCategoricalCrossentropy("
                             "from_logits=True)) and distillation_loss_fn (e.g. KLDivergence())")
        if not 0.0 <= float(alpha) <= 1.0 or float(temperature) <= 0:
            raise ValueError(f"Distiller.compile: alpha must be in [0, 1] and temperature > 0, got alpha={alpha}, "
                             f"temperature={temperature}")
        super().compile(optimizer=optimizer, metrics=metrics, **kwargs)
        self.student_loss_fn = losses.get(student_loss_fn)
        self.distillation_loss_fn = losses.get(distillation_loss_fn)
        self.alpha = float(alpha)
        self.temperature = float(temperature)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return self.student(inputs, training=training)

    @property
    def trainable_weights(self) -> list[Any]:
        """The student's: the teacher is not trained."""
        return self.student.trainable_weights

    def distillation_loss(self, teacher_predictions: Any, student_predictions: Tensor) -> Tensor:
        """distillation_loss_fn(softmax(t / T), softmax(s / T)) * T^2."""
        t = self.temperature
        soft_teacher = softmax(Tensor(getattr(teacher_predictions, "data", teacher_predictions)) / t, axis=1)
        return self.distillation_loss_fn(soft_teacher.data, softmax(student_predictions / t, axis=1)) * (t * t)

    def train_step(self, data: Any) -> Mapping[str, Any]:
        """One update of the student on alpha * student loss + (1 - alpha) * distillation loss."""
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        with grad_mode.no_grad():
            teacher_predictions = self.teacher(x, training=False)
        tvars = self.student.trainable_weights
        for v in tvars:
            v.grad = None
            v.requires_grad = True
        student_predictions = self.student(x, training=True)
        student_loss = self.student_loss_fn(y, student_predictions, sample_weight)
        distillation_loss = self.distillation_loss(teacher_predictions, student_predictions)
        loss = student_loss * self.alpha + distillation_loss * (1 - self.alpha)
        loss.backward()
        self.optimizer.apply_gradients([(v.grad.data, v) for v in tvars if v.grad is not None])
        n = len(y)
        self._loss_tracker.update_state(float(loss.data), n)
        self.student_loss_tracker.update_state(float(student_loss.data), n)
        self.distillation_loss_tracker.update_state(float(distillation_loss.data), n)
        return self.compute_metrics(x, y, student_predictions, sample_weight)

    def test_step(self, data: Any) -> Mapping[str, Any]:
        """The student's loss on the labels (the 'loss', as the Keras example evaluates), the distillation loss and
        the metrics."""
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        student_predictions = self.student(x, training=False)
        student_loss = self.student_loss_fn(y, student_predictions, sample_weight)
        teacher_predictions = self.teacher(x, training=False)
        distillation_loss = self.distillation_loss(teacher_predictions, student_predictions)
        self.distillation_loss_tracker.update_state(float(distillation_loss.data), len(y))
        self._loss_tracker.update_state(float(student_loss.data), len(y))
        self.student_loss_tracker.update_state(float(student_loss.data), len(y))
        return self.compute_metrics(x, y, student_predictions, sample_weight)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"Distiller '{self.name}' is a training harness, not saved itself: save the "
                                  "trained student alone, distiller.student.save(path)")

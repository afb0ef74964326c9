"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization (Keras 3 arguments and weights)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu import backend, constraints, initializers, regularizers
from shendu.layers.base import Layer
from shendu.ops import Reshape
from shendu.ops.normalization import BatchNorm, Normalize
from shendu.tensor import Tensor


class _Affine(Layer):
    """Shared arguments of the normalizations with a learned scale gamma and offset beta (a Keras mask passes
    through them)."""

    supports_masking = True

    def __init__(self, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None, gamma_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"{type(self).__name__} '{self.name}': epsilon must be a positive float, got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma: Tensor | None = None
        self.beta: Tensor | None = None

    def _add_gamma_beta(self, shape: tuple[int, ...], scale: bool, center: bool) -> None:
        """gamma then beta, Keras's weight order."""
        if scale:
            self.gamma = self.add_weight("gamma", shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if center:
            self.beta = self.add_weight("beta", shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)

    def _params(self) -> list[Tensor]:
        """gamma and beta as op inputs; cut from the graph when the layer is frozen."""
        params = [p for p in (self.gamma, self.beta) if p is not None]
        return params if self.trainable else [p.detach() for p in params]

    def _axis_size(self, input_shape: Any, axis: int) -> int:
        shape = tuple(input_shape)
        if not -len(shape) <= axis < len(shape):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': axis {axis} is out of range for input shape {shape}"
            )
        if shape[axis] is None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': axis {axis} of the input must have a known size, "
                f"got shape {shape}"
            )
        return int(shape[axis])

    def _check_input(self, inputs: Tensor, axes: Sequence[int], sizes: Sequence[int]) -> None:
        if inputs.ndim != self._ndim or any(inputs.shape[a] != n for a, n in zip(axes, sizes)):
            expected = ["?"] * self._ndim
            for a, n in zip(axes, sizes):
                expected[a] = str(n)
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected inputs of shape ({', '.join(expected)}) "
                f"(built for it), got shape {tuple(inputs.shape)}"
            )

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


class BatchNormalization(_Affine):
    """y = gamma (x - mean) / sqrt(var + epsilon) + beta, one mean/var per index of `axis` (the channels).

    Training (training=True and the layer trainable): the batch's mean and biased variance, and
    moving = moving * momentum + batch * (1 - momentum) for both statistics (Keras uses the biased
    variance here too; PyTorch the unbiased one). Otherwise (training None/False, or trainable=False,
    which freezes the layer as in Keras 3): the moving statistics. Weights: [gamma, beta, moving_mean,
    moving_variance]; the moving statistics are non-trainable. A mask (batch, steps) given or carried by the
    inputs (one axis fewer than them, as Keras 3 requires) keeps the padded steps out of the batch statistics.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, synchronized: bool = False, **kwargs: Any) -> None:
        super().__init__(epsilon=epsilon, center=center, scale=scale, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                         gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                         gamma_constraint=gamma_constraint, **kwargs)
        if not isinstance(axis, int):
            raise TypeError(f"BatchNormalization '{self.name}': axis must be an int, got {axis!r}")
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization '{self.name}': momentum must be in [0, 1], got {momentum!r}")
        self.axis = axis
        self.momentum = float(momentum)
        self.synchronized = bool(synchronized)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape: Any) -> None:
        dim = self._axis_size(input_shape, self.axis)
        self._ndim = len(tuple(input_shape))
        self._add_gamma_beta((dim,), self.scale, self.center)
        self.moving_mean = self.add_weight("moving_mean", (dim,), initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (dim,),
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.built = True

    def call(self, inputs: Tensor, training: bool | None = None, mask: Any = None) -> Tensor:
        self._check_input(inputs, (self.axis,), (self.moving_mean.shape[0],))
        if mask is not None and np.ndim(getattr(mask, "data", mask)) != inputs.ndim - 1:
            raise ValueError(f"BatchNormalization '{self.name}': the mask must have one axis fewer than the inputs; "
                             f"got mask shape {np.shape(getattr(mask, 'data', mask))} for inputs {inputs.shape}")
        args = {"axis": self.axis, "epsilon": self.epsilon, "scale": self.scale, "center": self.center}
        if not (training and self.trainable):
            return BatchNorm.apply(inputs, *self._params(), mean=self.moving_mean.data.copy(),
                                   variance=self.moving_variance.data.copy(), **args)
        if mask is not None:
            return self._masked_batch(inputs, np.asarray(getattr(mask, "data", mask), dtype=bool))
        stats: dict[str, Any] = {}
        y = BatchNorm.apply(inputs, *self._params(), stats=stats, **args)
        self._update_moving(stats["mean"], stats["variance"])
        return y

    def _update_moving(self, mean: np.ndarray, variance: np.ndarray) -> None:
        for var, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            var.data *= self.momentum
            var.data += (1.0 - self.momentum) * batch

    def _masked_batch(self, inputs: Tensor, mask: np.ndarray) -> Tensor:
        """Training with a mask, Keras 3's masked moments: w = mask[..., None], n = sum(w) + eps,
        mean = sum(w x) / n, var = sum(w (w x - mean)^2) / n over all axes but `axis`, then the usual affine map."""
        axis = self.axis % inputs.ndim
        axes = tuple(i for i in range(inputs.ndim) if i != axis)
        w = Tensor(mask[..., None].astype(inputs.dtype))
        n = w.sum(axis=axes, keepdims=True) + backend.epsilon()
        weighted = inputs * w
        mean = weighted.sum(axis=axes, keepdims=True) / n
        variance = (w * (weighted - mean) ** 2).sum(axis=axes, keepdims=True) / n
        y = (inputs - mean) / (variance + self.epsilon).sqrt()
        shape = tuple(inputs.shape[i] if i == axis else 1 for i in range(inputs.ndim))
        if self.gamma is not None:
            y = y * self.gamma.reshape(*shape)
        if self.beta is not None:
            y = y + self.beta.reshape(*shape)
        self._update_moving(mean.data.reshape(-1), variance.data.reshape(-1))
        return y

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
        }


class LayerNormalization(_Affine):
    """y = gamma (x - mean) / sqrt(var + epsilon) + beta, mean and var over `axis` (int or list) per sample.

    gamma and beta have the shape of the normalized axes. With rms_scaling=True, y = gamma x /
    sqrt(mean(x^2) + epsilon) (RMS normalization: no mean, no beta). Weights: [gamma, beta].
    """

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, rms_scaling: bool = False, **kwargs: Any) -> None:
        super().__init__(epsilon=epsilon, center=center, scale=scale, **kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis: int | list[int] = [int(a) for a in axis]
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(f"LayerNormalization '{self.name}': axis must be an int or a list of ints, got {axis!r}")
        self.rms_scaling = bool(rms_scaling)

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        self._ndim = len(shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        sizes = [self._axis_size(shape, a) for a in axes]
        self._axes = tuple(a % self._ndim for a in axes)
        self._param_shape = tuple(shape[i] if i in self._axes else 1 for i in range(self._ndim))
        self._sizes = sizes
        self._add_gamma_beta(tuple(sizes), self.scale or self.rms_scaling, self.center and not self.rms_scaling)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        self._check_input(inputs, self._axes, self._sizes)
        return Normalize.apply(inputs, *self._params(), axes=self._axes, epsilon=self.epsilon,
                               param_shape=self._param_shape, scale=self.gamma is not None,
                               center=self.beta is not None, rms=self.rms_scaling)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "rms_scaling": self.rms_scaling}


class GroupNormalization(_Affine):
    """The channels of `axis` split into `groups`; each sample's group is normalized over its channels and all
    non-batch axes: y = gamma (x - mean) / sqrt(var + epsilon) + beta, gamma and beta per channel.

    groups=-1 makes one group per channel (instance normalization); groups=1 is layer normalization over
    all non-batch axes. Weights: [gamma, beta].
    """

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, **kwargs: Any) -> None:
        super().__init__(epsilon=epsilon, center=center, scale=scale, **kwargs)
        if not isinstance(groups, int) or (groups < 1 and groups != -1):
            raise ValueError(f"GroupNormalization '{self.name}': groups must be a positive int or -1, got {groups!r}")
        self.groups = groups
        self.axis = int(axis)

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        dim = self._axis_size(shape, self.axis)
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups or dim % self.groups:
            raise ValueError(
                f"GroupNormalization '{self.name}': the {dim} channels of axis {self.axis} cannot be split into "
                f"{self.groups} equal groups"
            )
        self._ndim = len(shape)
        self._axis = self.axis % self._ndim
        if self._axis == 0:
            raise ValueError(f"GroupNormalization '{self.name}': axis {self.axis} is the batch axis")
        a = self._axis
        grouped = self._ndim + 1
        self._reduce = tuple(i for i in range(1, grouped) if i != a)
        self._param_shape = tuple(self.groups if i == a else dim // self.groups if i == a + 1 else 1
                                  for i in range(grouped))
        self._add_gamma_beta((dim,), self.scale, self.center)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        dim = self._param_shape[self._axis] * self._param_shape[self._axis + 1]
        self._check_input(inputs, (self._axis,), (dim,))
        shape = inputs.shape
        grouped = (*shape[:self._axis], self.groups, dim // self.groups, *shape[self._axis + 1:])
        y = Normalize.apply(Reshape.apply(inputs, shape=grouped), *self._params(), axes=self._reduce,
                            epsilon=self.epsilon, param_shape=self._param_shape, scale=self.scale,
                            center=self.center)
        return Reshape.apply(y, shape=shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups, "axis": self.axis}

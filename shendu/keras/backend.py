"""tf.keras.backend: the dtype policy, epsilon, the session reset and the small helpers tutorials call as `K.*`
(Keras 2's tensor functions, `K.mean`, `K.std`, ..., are the tf.* functions under their backend names).

shendu computes channels-last only, so `image_data_format()` is always 'channels_last'.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from shendu import backend as _backend
from shendu import random as _random
from shendu.backend import epsilon, set_epsilon, set_floatx
from shendu.layers import base as _base
from shendu.layers.symbolic import KerasTensor
from shendu.optimizers.optimizer import LearningRate
from shendu.tensor import Tensor
from shendu.tf.array_ops import concat as concatenate
from shendu.tf.array_ops import expand_dims, reshape, squeeze, stack
from shendu.tf.creation import cast, constant, ones, zeros
from shendu.tf.math_ops import abs, exp, log, sqrt, square
from shendu.tf.math_ops import reduce_max as max
from shendu.tf.math_ops import reduce_mean as mean
from shendu.tf.math_ops import reduce_min as min
from shendu.tf.math_ops import reduce_std as std
from shendu.tf.math_ops import reduce_sum as sum
from shendu.tf.math_ops import reduce_variance as var
from shendu.variable import Variable

__all__ = [
    "abs", "cast", "concatenate", "constant", "exp", "expand_dims", "log", "max", "mean", "min", "ones", "reshape",
    "sqrt", "square", "squeeze", "stack", "std", "sum", "var", "zeros",
    "clear_session", "count_params", "epsilon", "floatx", "get_value", "image_data_format", "int_shape",
    "is_keras_tensor", "random_normal", "set_epsilon", "set_floatx", "set_image_data_format", "set_value",
]


def floatx() -> str:
    """The default float type as Keras names it: 'float32' unless changed with `set_floatx`."""
    return _backend.floatx().name


def clear_session(free_memory: bool = True) -> None:
    """Restart automatic layer and model names ('dense', 'dense_1', ...) and, by default, collect freed memory.

    As in Keras, the random state is left as it is: a seed set with `set_random_seed` keeps its stream."""
    _base.clear_session()
    if free_memory:
        gc.collect()


def get_value(x: Any) -> Any:
    """The value of a tensor or variable as a NumPy array; anything else (a Python number) is returned as given."""
    if isinstance(x, KerasTensor):
        raise ValueError(f"get_value: {x!r} is a symbolic tensor (from keras.Input), which has no value; "
                         "call the model on data to get values")
    if isinstance(x, Tensor):
        return np.array(x.numpy())
    return x


def set_value(x: Any, value: Any) -> None:
    """Set a variable's value from a NumPy array or number of its shape (or an optimizer's learning rate)."""
    if isinstance(x, LearningRate):
        x.assign(float(np.asarray(value)))
        return
    if not isinstance(x, Variable):
        hint = (" A Python number, such as optimizer.learning_rate, cannot be changed in place: assign the "
                "attribute instead (optimizer.learning_rate = value)" if isinstance(x, (int, float)) else "")
        raise TypeError(f"set_value: expected a variable (a layer weight or tf.Variable); got {type(x).__name__} "
                        f"{x!r}.{hint}")
    x.assign(np.asarray(value, dtype=x.dtype))


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                  seed: int | None = None) -> Tensor:
    """Samples from N(mean, stddev^2), in floatx unless a dtype is given (tf.keras's `backend.random_normal`)."""
    return _random.normal(shape, mean=mean, stddev=stddev, dtype=dtype or floatx(), seed=seed)


def image_data_format() -> str:
    """'channels_last': images are (batch, height, width, channels) in shendu."""
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Accepts 'channels_last', the one layout shendu computes; 'channels_first' is refused with the way round it."""
    if data_format == "channels_last":
        return
    if data_format == "channels_first":
        raise ValueError("set_image_data_format: 'channels_first' is not supported; shendu works channels-last "
                         "(batch, ..., channels). Transpose the inputs, e.g. with Permute((2, 3, 1)) for images")
    raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                     f"Received: data_format={data_format!r}")


def int_shape(x: Any) -> tuple[int | None, ...]:
    """The shape of a tensor, variable, symbolic tensor or array as a tuple of ints (None where unknown)."""
    shape = getattr(x, "shape", None)
    if shape is None:
        raise TypeError(f"int_shape: expected a tensor, variable or array; got {type(x).__name__} {x!r}")
    return tuple(None if d is None else int(d) for d in shape)


def count_params(x: Any) -> int:
    """The number of values in a variable or tensor."""
    return int(np.prod(int_shape(x), dtype=np.int64))


def is_keras_tensor(x: Any) -> bool:
    """Whether x is a symbolic tensor of the functional API (from keras.Input or a layer called on one)."""
    return isinstance(x, KerasTensor)

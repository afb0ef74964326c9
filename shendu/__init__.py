"""shendu (深度, "depth"): deep learning from first principles on NumPy, with a Keras-compatible API.

`import shendu as tf` gives tutorial code what it uses of TensorFlow: `tf.keras`, `tf.constant`, `tf.cast`,
`tf.float32`, ... while `shendu.tensor`, `backward()` and `shendu.ops` show how it works underneath.
"""

import numpy as _np

from shendu import (
    activations,
    applications,
    callbacks,
    constraints,
    data,
    datasets,
    initializers,
    keras,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    random,
    regularizers,
    schedules,
    utils,
)
from shendu.backend import floatx, get_array_module, set_floatx
from shendu.creation import (
    arange,
    cast,
    constant,
    convert_to_tensor,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from shendu.functions import concatenate, maximum, minimum, pad, stack, where
from shendu.grad_mode import enable_grad, is_grad_enabled, no_grad
from shendu.gradcheck import GradcheckError, gradcheck
from shendu.ops import Function
from shendu.parallel import get_num_threads, set_num_threads
from shendu.tensor import Tensor
from shendu.variable import Variable

float16, float32, float64 = _np.dtype("float16"), _np.dtype("float32"), _np.dtype("float64")
int8, int16, int32, int64, uint8, bool_ = (_np.dtype(t) for t in ("int8", "int16", "int32", "int64", "uint8", "bool"))

__version__ = "0.1.0"

__all__ = [
    "Function", "GradcheckError", "Tensor", "Variable", "activations", "applications", "arange", "bool_",
    "callbacks", "cast",
    "concatenate", "constant", "constraints", "convert_to_tensor", "data", "datasets", "enable_grad", "float16",
    "float32", "float64", "floatx", "get_array_module", "get_num_threads", "gradcheck", "initializers", "int16",
    "int32", "int64", "int8", "is_grad_enabled", "keras", "layers", "losses", "maximum", "metrics", "minimum",
    "models", "no_grad", "ones", "ones_like", "optimizers", "pad", "random", "regularizers", "schedules",
    "set_floatx", "set_num_threads", "stack", "tensor", "uint8", "utils", "where", "zeros", "zeros_like",
]

"""shendu (深度, "depth"): deep learning from first principles on NumPy, with a Keras-compatible API."""

from shendu import random
from shendu.backend import floatx, get_array_module, set_floatx
from shendu.creation import arange, ones, ones_like, tensor, zeros, zeros_like
from shendu.functions import concatenate, maximum, minimum, pad, stack, where
from shendu.grad_mode import enable_grad, is_grad_enabled, no_grad
from shendu.gradcheck import GradcheckError, gradcheck
from shendu.ops import Function
from shendu.tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "Function", "GradcheckError", "Tensor", "arange", "concatenate", "enable_grad", "floatx",
    "get_array_module", "gradcheck", "is_grad_enabled", "maximum", "minimum", "no_grad", "ones",
    "ones_like", "pad", "random", "set_floatx", "stack", "tensor", "where", "zeros", "zeros_like",
]

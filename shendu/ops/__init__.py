"""The differentiable ops: each a `Function` with forward and backward on raw arrays."""

from shendu.ops import losses, nn  # op families used as `ops.nn.X`, `ops.losses.X`
from shendu.ops.arithmetic import Add, Div, Maximum, Minimum, Mul, Neg, Pow, PowScalar, Sub
from shendu.ops.cast import AsType
from shendu.ops.elementwise import Abs, Clip, Exp, LeakyReLU, Log, ReLU, Sigmoid, Sqrt, Tanh
from shendu.ops.function import Function, sum_to_shape
from shendu.ops.linalg import MatMul
from shendu.ops.reduce import Max, Mean, Min, Sum, Var
from shendu.ops.shape import Concatenate, GetItem, Pad, Reshape, Stack, Transpose, Where
from shendu.ops.softmax import LogSoftmax, Softmax

__all__ = [
    "Abs", "Add", "AsType", "Clip", "Concatenate", "Div", "Exp", "Function", "GetItem", "LeakyReLU",
    "Log", "LogSoftmax", "MatMul", "Max", "Maximum", "Mean", "Min", "Minimum", "Mul", "Neg", "Pad",
    "Pow", "PowScalar", "ReLU", "Reshape", "Sigmoid", "Softmax", "Sqrt", "Stack", "Sub", "Sum",
    "Tanh", "Transpose", "Var", "Where", "losses", "nn", "sum_to_shape",
]

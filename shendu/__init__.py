"""shendu (深度, "depth"): deep learning from first principles on NumPy, with a Keras-compatible API.

`import shendu as tf` gives tutorial code what it uses of TensorFlow: `tf.keras`, `tf.constant`, `tf.cast`,
`tf.float32`, ... while `shendu.tensor`, `backward()` and `shendu.ops` show how it works underneath.
"""

from shendu import (
    activations,
    applications,
    callbacks,
    compression,
    constraints,
    data,
    datasets,
    distribute,
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
from shendu import tf as _tf
from shendu._version import __version__ as __version__
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
from shendu.devices import get_default_device, set_default_device
from shendu.functions import concatenate
from shendu.grad_mode import enable_grad, is_grad_enabled, no_grad
from shendu.gradcheck import GradcheckError, gradcheck
from shendu.ops import Function
from shendu.parallel import get_num_threads, set_num_threads
from shendu.tensor import Tensor
from shendu.tf import *  # noqa: F403  (the tf.* names: constant, reduce_sum, GradientTape, ...)
from shendu.tf import (
    config,
    debugging,
    errors,
    image,
    linalg,
    nest,
    nn,
    saved_model,
    signal,
    strings,
    summary,
    test,
    train,
    version,
)
from shendu.tf import math_ops as math
from shendu.tf.debugging import assert_equal, assert_greater, assert_less, assert_rank
from shendu.tf.print_ops import print as print  # tf.print; left out of __all__, so `import *` keeps the builtin
from shendu.variable import Variable

__all__ = [
    *_tf.__all__, "activations", "applications", "arange", "assert_equal", "assert_greater", "assert_less",
    "assert_rank", "callbacks", "cast", "compression", "concatenate", "config", "constant", "constraints",
    "convert_to_tensor", "data", "datasets", "debugging", "distribute", "enable_grad", "errors", "floatx", "Function",
    "get_array_module", "get_default_device", "get_num_threads", "gradcheck", "GradcheckError", "image",
    "initializers", "is_grad_enabled", "keras", "layers", "linalg", "losses", "math", "metrics", "models", "nest",
    "nn", "no_grad", "ones", "ones_like", "optimizers", "random", "regularizers", "saved_model", "schedules",
    "set_default_device", "set_floatx", "set_num_threads", "signal", "strings", "summary", "Tensor", "tensor", "test",
    "train", "utils", "Variable", "version", "zeros", "zeros_like"
]

"""The TensorFlow 2 face of shendu: `import shendu as tf` runs tf.* code. Each function is a thin adapter over
shendu's ops (no formula of its own) with TensorFlow's names, arguments and defaults; shendu is eager, as
TensorFlow 2 is by default. The top-level names come from the modules below; tf.math, tf.nn, tf.linalg, tf.image,
tf.signal, tf.strings, tf.config, tf.train and tf.saved_model are these modules (tf.random is `shendu.random`,
tf.data is `shendu.data`)."""

from shendu import initializers
from shendu.tensor_shape import TensorShape
from shendu.tensor_spec import TensorSpec
from shendu.tf import (
    array_ops,
    config,
    control_flow,
    creation,
    custom_gradients,
    math_ops,
    module,
    tape,
    tensor_array,
    tf_function,
)
from shendu.tf.array_ops import *  # noqa: F403
from shendu.tf.config import *  # noqa: F403
from shendu.tf.control_flow import *  # noqa: F403
from shendu.tf.creation import *  # noqa: F403
from shendu.tf.creation import bool_ as bool  # a module-level `bool` in creation.py would hide the builtin there
from shendu.tf.custom_gradients import *  # noqa: F403
from shendu.tf.math_ops import *  # noqa: F403
from shendu.tf.module import *  # noqa: F403
from shendu.tf.tape import *  # noqa: F403
from shendu.tf.tensor_array import *  # noqa: F403
from shendu.tf.tf_function import *  # noqa: F403

# TensorFlow's top-level names of the Keras initializers (same defaults: tf.random_normal_initializer is stddev 0.05)
constant_initializer, ones_initializer, zeros_initializer = initializers.Constant, initializers.Ones, initializers.Zeros
random_normal_initializer, random_uniform_initializer = initializers.RandomNormal, initializers.RandomUniform

__all__ = [*array_ops.__all__, *config.__all__, *control_flow.__all__, *creation.__all__, *custom_gradients.__all__,
           *math_ops.__all__, *module.__all__, *tape.__all__, *tensor_array.__all__, *tf_function.__all__,
           "TensorShape", "TensorSpec", "bool", "constant_initializer", "ones_initializer", "random_normal_initializer",
           "random_uniform_initializer", "zeros_initializer"]

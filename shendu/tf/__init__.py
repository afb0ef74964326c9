"""The TensorFlow 2 face of shendu: `import shendu as tf` runs tf.* code. Each function is a thin adapter over
shendu's ops (no formula of its own) with TensorFlow's names, arguments and defaults; shendu is eager, as
TensorFlow 2 is by default. The top-level names come from the modules below; tf.math, tf.nn, tf.linalg, tf.image,
tf.signal, tf.strings, tf.config, tf.train and tf.saved_model are these modules (tf.random is `shendu.random`,
tf.data is `shendu.data`)."""

from shendu.tf import array_ops, config, creation, function, math_ops, shape, tape
from shendu.tf.array_ops import *  # noqa: F403
from shendu.tf.config import *  # noqa: F403
from shendu.tf.creation import *  # noqa: F403
from shendu.tf.function import *  # noqa: F403
from shendu.tf.math_ops import *  # noqa: F403
from shendu.tf.shape import *  # noqa: F403
from shendu.tf.tape import *  # noqa: F403

__all__ = [*array_ops.__all__, *config.__all__, *creation.__all__, *function.__all__, *math_ops.__all__,
           *shape.__all__, *tape.__all__]

"""tf.version: VERSION is shendu's own version (labelled as such), not a TensorFlow release.

TensorFlow code prints `tf.__version__` or `tf.version.VERSION` to log its setup; under `import shendu as tf` it
logs shendu's version, and GIT_VERSION and COMPILER_VERSION say that it is shendu and what it runs on.
"""

from __future__ import annotations

import platform

import numpy as np

from shendu._version import __version__

VERSION: str = __version__
"""shendu's version (e.g. "0.1.0"), not a TensorFlow version."""
GIT_VERSION: str = f"shendu v{VERSION}"
"""shendu's release tag, where TensorFlow gives the git describe of its build."""
COMPILER_VERSION: str = (f"shendu {VERSION}: no compiled core, Python {platform.python_version()} "
                         f"on NumPy {np.__version__}")
"""What shendu runs on: it has no C++ core to name a compiler for."""

__all__ = ["COMPILER_VERSION", "GIT_VERSION", "VERSION"]

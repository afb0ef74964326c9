"""tf.version and tf.__version__ are shendu's own version, labelled as such."""

from __future__ import annotations

import shendu as tf
from shendu import _version


def test_version_is_shendus():
    assert tf.__version__ == tf.version.VERSION == _version.__version__
    assert tf.version.VERSION.count(".") == 2
    assert f"shendu v{tf.version.VERSION}" == tf.version.GIT_VERSION
    assert tf.version.COMPILER_VERSION.startswith(f"shendu {tf.version.VERSION}: ")
    assert "NumPy" in tf.version.COMPILER_VERSION

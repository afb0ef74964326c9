"""shendu's version, in a module of its own so that `shendu/__init__.py` and `tf.version` read it without a cycle."""

__version__ = "0.1.0"

"""tf.config and tf.device: the devices shendu can really use."""

from __future__ import annotations

__all__: list[str] = []

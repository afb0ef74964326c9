"""The tf.keras-compatible namespace: `from shendu.keras import layers` as `from tensorflow.keras import layers`.

Aliases only; every name here is defined elsewhere in shendu.
"""

from shendu.keras import (
    activations,
    applications,
    backend,
    callbacks,
    constraints,
    datasets,
    distribution,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    preprocessing,
    regularizers,
    saving,
    utils,
    wrappers,
)
from shendu.layers import Input
from shendu.models import Model, Sequential

__all__ = [
    "Input", "Model", "Sequential", "activations", "applications", "backend", "callbacks", "constraints", "datasets",
    "distribution", "initializers", "layers", "losses", "metrics", "models", "optimizers", "preprocessing",
    "regularizers", "saving", "utils", "wrappers",
]

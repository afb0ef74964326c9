"""Models with Keras's API: the functional `Model(inputs, outputs)`, `Sequential`, and subclassed `Model`s.

GAN, RBM, DBN, Sampling and StackedAutoencoder are re-exported from `shendu.applications`."""

from typing import Any

from shendu.models.functional import Functional
from shendu.models.model import Model
from shendu.models.sequential import Sequential
from shendu.saving import load_model, save_model

_APPLICATIONS = frozenset({"DBN", "GAN", "RBM", "Sampling", "StackedAutoencoder", "class_quality", "frechet_distance"})

__all__ = [
    "DBN", "GAN", "RBM", "Functional", "Model", "Sampling", "Sequential", "StackedAutoencoder", "class_quality",
    "frechet_distance", "load_model", "save_model",
]


def __getattr__(name: str) -> Any:
    """The application models (`shendu.applications`) under their public names here, imported on first use: they
    are built on this package, so importing them at the top would be a cycle."""
    if name not in _APPLICATIONS:
        raise AttributeError(f"module 'shendu.models' has no attribute {name!r}")
    from shendu import applications

    value = globals()[name] = getattr(applications, name)
    return value

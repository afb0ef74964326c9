"""The application models keep their public names in shendu.models, and the engine never imports them."""

import ast
import pathlib

import pytest

import shendu
from shendu import applications, models

NAMES = ["DBN", "GAN", "RBM", "Sampling", "StackedAutoencoder", "class_quality", "frechet_distance"]


@pytest.mark.parametrize("name", NAMES)
def test_shendu_models_re_exports_the_application(name):
    assert getattr(models, name) is getattr(applications, name)
    assert name in models.__all__ and name in applications.__all__


def test_unknown_names_of_shendu_models_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'NotAModel'"):
        _ = models.NotAModel


def _imported(node: ast.AST) -> list[str]:
    """The dotted names an import statement brings in (`from a import b` gives a and a.b)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return []


def test_no_module_below_applications_imports_it():
    """A lower floor never imports a higher one: only the lazy re-export in shendu/models/__init__.py and the
    tf.keras face (shendu/keras/, floor 9) name it."""
    root = pathlib.Path(shendu.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("applications/", "keras/")) or rel in ("__init__.py", "models/__init__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if any(name.startswith("shendu.applications") for name in _imported(node)):
                offenders.append(rel)
    assert offenders == []

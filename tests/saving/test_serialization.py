"""Layer serialization: serialize/deserialize, the custom-object registry, custom_objects and clear errors."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

import shendu
from shendu import activations, initializers, layers, regularizers
from shendu.saving import object_registration


@layers.register_keras_serializable(package="TestPkg")
class Doubler(layers.Layer):
    """A custom layer: y = factor * x."""

    def __init__(self, factor: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(Doubler):
    pass


def test_serialize_gives_class_name_and_config():
    d = layers.serialize(layers.Dense(3, activation="tanh", name="d"))
    assert d["class_name"] == "Dense"
    assert d["config"]["name"] == "d" and d["config"]["activation"] == "tanh"
    rebuilt = layers.deserialize(json.loads(json.dumps(d)))
    assert isinstance(rebuilt, layers.Dense) and rebuilt.units == 3 and rebuilt.activation is activations.tanh


def test_registered_layer_round_trips_under_its_registered_name():
    d = layers.serialize(Doubler(3.0))
    assert d["class_name"] == "TestPkg>Doubler"
    rebuilt = layers.deserialize(d)
    assert isinstance(rebuilt, Doubler) and rebuilt.factor == 3.0
    assert object_registration.get_registered_object("TestPkg>Doubler") is Doubler


def test_unknown_class_raises_naming_it_and_the_remedy():
    d = layers.serialize(Unregistered(1.5))
    with pytest.raises(ValueError, match=r"Unknown layer: 'Unregistered'.*register_keras_serializable.*custom_objects"):
        layers.deserialize(d)
    rebuilt = layers.deserialize(d, custom_objects={"Unregistered": Unregistered})
    assert type(rebuilt) is Unregistered and rebuilt.factor == 1.5


def test_keras3_style_dicts_with_registered_name_are_read():
    d = {"module": None, "class_name": "Doubler", "registered_name": "TestPkg>Doubler", "config": {"factor": 4.0}}
    assert layers.deserialize(d).factor == 4.0


def test_custom_objects_reach_nested_configs():
    def my_act(x):
        return x * 2.0

    layer = layers.Dense(2, activation=my_act, name="custom_act")
    config = layers.serialize(layer)
    assert config["config"]["activation"] == "my_act"
    with pytest.raises(ValueError, match="Unknown activation 'my_act'"):
        layers.deserialize(config)
    rebuilt = layers.deserialize(config, custom_objects={"my_act": my_act})
    assert rebuilt.activation is my_act
    with layers.custom_object_scope({"my_act": my_act}):
        assert layers.deserialize(config).activation is my_act


def test_registered_functions_and_objects_resolve_by_name():
    @layers.register_keras_serializable(package="TestPkg", name="cube")
    def cube(x):
        return x * x * x

    assert activations.serialize(cube) == "TestPkg>cube"
    assert activations.get("TestPkg>cube") is cube

    @layers.register_keras_serializable(package="TestPkg")
    class HalfInit(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return np.full(shape, 0.5, dtype=dtype or "float32")

    layer = layers.Dense(2, kernel_initializer=HalfInit())
    config = layer.get_config()
    assert config["kernel_initializer"] == {"class_name": "TestPkg>HalfInit", "config": {}}
    clone = layers.Dense.from_config(config)
    clone.build((None, 3))
    np.testing.assert_array_equal(clone.kernel.numpy(), np.full((3, 2), 0.5, np.float32))


def test_register_requires_get_config_on_classes():
    class NoConfig:
        pass

    with pytest.raises(ValueError, match="get_config"):
        layers.register_keras_serializable()(NoConfig)


def test_input_layer_and_regularizer_configs():
    rebuilt = layers.deserialize(layers.serialize(layers.InputLayer(shape=(3,), name="in")))
    assert rebuilt.output.shape == (None, 3)
    reg = regularizers.deserialize({"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}})
    assert (reg.l1, reg.l2) == (0.1, 0.2)
    with pytest.raises(ValueError, match="Unknown regularizer: 'L3'"):
        regularizers.deserialize({"class_name": "L3", "config": {}})


def test_the_saving_floor_imports_nothing_above_it_and_the_leaves_import_it_at_the_top():
    root = Path(shendu.__file__).parent
    for path in (root / "saving").glob("*.py"):
        tree = ast.parse(path.read_text())
        names = [node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.module]
        names += [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
        above = [n for n in names if n.split(".")[0] == "shendu" and not n.startswith("shendu.saving")]
        assert not above, f"{path.name} imports {above}"
    for leaf in ("activations", "initializers", "constraints", "regularizers"):
        tree = ast.parse((root / f"{leaf}.py").read_text())
        nested = [node.lineno for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef)
                  for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))]
        assert not nested, f"{leaf}.py imports inside functions at lines {nested}"

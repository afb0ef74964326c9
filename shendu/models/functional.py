"""The functional API: the graph of layer calls (Nodes) from `Input`s to outputs, run in topological order."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.keras_mask import get_keras_mask, set_keras_mask
from shendu.layers.input_layer import InputLayer
from shendu.layers.symbolic import KerasTensor, Node
from shendu.models.layer_order import keras_layer_order
from shendu.models.model import Model
from shendu.tensor import Tensor
from shendu.utils.tree import flatten, map_structure


def _node_tensors(node: Node) -> list[KerasTensor]:
    """Every symbolic tensor a node reads: its inputs and any inside its extra arguments."""
    found = flatten(node.inputs) + flatten(list(node.args)) + flatten(list(node.kwargs.values()))
    return [t for t in found if isinstance(t, KerasTensor)]


def _has_tensor(x: Any) -> bool:
    return any(isinstance(t, KerasTensor) for t in flatten(x))


class _Step:
    """One layer call of the plan, with its inputs resolved to slots of the value list."""

    __slots__ = ("layer", "node", "fetch", "slot", "args", "kwargs", "dynamic", "out_slots", "training")

    def __init__(self, node: Node, slots: dict[int, int]) -> None:
        self.layer = node.layer
        self.node = node
        self.slot = slots[id(node.inputs)] if isinstance(node.inputs, KerasTensor) else None
        slot_of = (lambda t: slots[id(t)] if isinstance(t, KerasTensor) else _Const(t))  # noqa: E731
        self.fetch = map_structure(slot_of, node.inputs)
        self.dynamic = _has_tensor(list(node.args)) or _has_tensor(list(node.kwargs.values()))
        self.args = map_structure(slot_of, node.args) if self.dynamic else node.args
        self.kwargs = map_structure(slot_of, node.kwargs) if self.dynamic else dict(node.kwargs)
        self.out_slots = [slots[id(t)] for t in node.outputs]
        self.training = "training" not in node.kwargs and self.layer._accepts("training")


class _Const:
    """A non-tensor value inside a node's inputs (kept as given)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _resolve(spec: Any, values: list[Any]) -> Any:
    """What a step reads: each slot index in `spec` replaced by its value, each `_Const` by the value it holds."""
    return map_structure(lambda s: s.value if isinstance(s, _Const) else values[s], spec)


class FunctionalGraph:
    """The nodes between `inputs` and `outputs` in an order where each runs after those it reads from."""

    def __init__(self, inputs: Any, outputs: Any, model_name: str, losses: list[KerasTensor] | None = None) -> None:
        self.model_name = model_name
        self.input_struct = inputs
        self.output_struct = outputs
        self.inputs: list[KerasTensor] = flatten(inputs)
        self.outputs: list[KerasTensor] = flatten(outputs)
        self.loss_tensors: list[KerasTensor] = list(losses or [])
        for what, tensors in (("inputs", self.inputs), ("outputs", self.outputs), ("losses", self.loss_tensors)):
            for t in tensors:
                if not isinstance(t, KerasTensor):
                    raise TypeError(
                        f"Model '{model_name}': {what} must be symbolic tensors (from keras.Input and layer calls); "
                        f"got {type(t).__name__}"
                    )
        for t in self.inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(
                    f"Model '{model_name}': inputs must come from Input(); {t.name} is the output of layer "
                    f"'{t.node.layer.name}'"
                )
        self.input_names = list(inputs) if isinstance(inputs, dict) else [t.node.layer.name for t in self.inputs]
        self.output_names = (list(outputs) if isinstance(outputs, dict)
                             else [t.node.layer.name for t in self.outputs])
        self.nodes = self._topological_nodes()
        self.layers = keras_layer_order(self.inputs, [*self.outputs, *self.loss_tensors], _node_tensors)
        names = [layer.name for layer in self.layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Model '{model_name}': all layer names should be unique; repeated: {duplicates}")
        self._plan()

    def _topological_nodes(self) -> list[Node]:
        input_ids = {id(t) for t in self.inputs}
        order: list[Node] = [t.node for t in self.inputs]
        done = {id(n) for n in order}
        for out in [*self.outputs, *self.loss_tensors]:
            stack = [(out.node, iter(_node_tensors(out.node)))] if id(out.node) not in done else []
            while stack:
                node, deps = stack[-1]
                for t in deps:
                    if id(t.node) in done:
                        continue
                    if isinstance(t.node.layer, InputLayer) and id(t) not in input_ids:
                        raise ValueError(
                            f"Graph disconnected: model '{self.model_name}' cannot obtain the value of tensor "
                            f"{t.name} (the Input '{t.node.layer.name}') needed by layer '{node.layer.name}'; "
                            f"pass it in the model's inputs. The inputs given are {self.input_names}"
                        )
                    if any(n is t.node for n, _ in stack):
                        raise ValueError(f"Model '{self.model_name}': the graph has a cycle at '{t.node.layer.name}'")
                    stack.append((t.node, iter(_node_tensors(t.node))))
                    break
                else:
                    stack.pop()
                    done.add(id(node))
                    order.append(node)
        return order

    def _plan(self) -> None:
        slots: dict[int, int] = {}
        for node in self.nodes:
            for t in node.outputs:
                slots[id(t)] = len(slots)
        self.n_slots = len(slots)
        self.input_slots = [slots[id(t)] for t in self.inputs]
        self.output_slots = [slots[id(t)] for t in self.outputs]
        self.loss_slots = [slots[id(t)] for t in self.loss_tensors]
        self.steps = [_Step(node, slots) for node in self.nodes if not isinstance(node.layer, InputLayer)]
        self._specs = [(t.shape, t.dtype, name) for t, name in zip(self.inputs, self.input_names)]

    @property
    def input_shapes(self) -> Any:
        shapes = [t.shape for t in self.inputs]
        if isinstance(self.input_struct, dict):
            return dict(zip(self.input_names, shapes))
        return shapes[0] if len(shapes) == 1 and not isinstance(self.input_struct, (list, tuple)) else shapes

    @property
    def output_shapes(self) -> Any:
        shapes = [t.shape for t in self.outputs]
        if isinstance(self.output_struct, dict):
            return dict(zip(self.output_names, shapes))
        return shapes[0] if len(shapes) == 1 and not isinstance(self.output_struct, (list, tuple)) else shapes

    def flatten_inputs(self, inputs: Any) -> list[Any]:
        """The model's inputs in the order of `self.inputs`, from a single value, a list or a dict by name."""
        n = len(self.inputs)
        if isinstance(inputs, dict):
            missing = [k for k in self.input_names if k not in inputs]
            if missing:
                raise ValueError(
                    f"Model '{self.model_name}': missing input(s) {missing} in the dict of inputs; it has keys "
                    f"{sorted(inputs)} and the model's inputs are {self.input_names}"
                )
            return [inputs[k] for k in self.input_names]
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != n:
                raise ValueError(
                    f"Model '{self.model_name}' expects {n} input(s) {self.input_names}, but it received "
                    f"{len(inputs)} input tensors"
                )
            return list(inputs)
        if n != 1:
            raise ValueError(
                f"Model '{self.model_name}' expects {n} inputs {self.input_names}; pass a list or a dict by name"
            )
        return [inputs]

    def flatten_masks(self, mask: Any) -> list[Any]:
        """The masks given to `model(x, mask=...)`, one per input (None where none): a single mask for a
        single-input model, a list in the order of the inputs, or a dict by input name."""
        n = len(self.inputs)
        if mask is None:
            return [None] * n
        if isinstance(mask, dict):
            unknown = sorted(set(mask) - set(self.input_names))
            if unknown:
                raise ValueError(f"Model '{self.model_name}': masks given for unknown input(s) {unknown}; the "
                                 f"model's inputs are {self.input_names}")
            return [mask.get(k) for k in self.input_names]
        if n == 1:
            return [mask[0] if isinstance(mask, (list, tuple)) and len(mask) == 1 else mask]
        if not isinstance(mask, (list, tuple)) or len(mask) != n:
            raise ValueError(f"Model '{self.model_name}' has {n} inputs {self.input_names}: give mask= as a list of "
                             f"{n} masks (None where an input has none) or a dict by input name")
        return list(mask)

    def run(self, inputs: Any, training: bool | None, model_name: str, mask: Any = None,
            losses: list[Any] | None = None) -> Any:
        """The outputs for these inputs; a given mask is attached to its (adapted) input first, as Keras 3 does.
        The values of the symbolic losses (`model.add_loss`) are appended to `losses` when it is given."""
        values: list[Any] = [None] * self.n_slots
        masks = self.flatten_masks(mask)
        for slot, x, spec, m in zip(self.input_slots, self.flatten_inputs(inputs), self._specs, masks):
            values[slot] = adapt_input(x, spec, model_name)
            if m is not None:
                if values[slot] is x:  # a new tensor, so that the caller's own tensor does not keep the mask
                    values[slot] = x.reshape(*x.shape)
                set_keras_mask(values[slot], m)
        for step in self.steps:
            x = values[step.slot] if step.slot is not None else _resolve(step.fetch, values)
            if step.dynamic:
                args, kwargs = _resolve(step.args, values), _resolve(step.kwargs, values)
            else:
                args, kwargs = step.args, step.kwargs
            out = (step.layer(x, *args, training=training, **kwargs) if step.training
                   else step.layer(x, *args, **kwargs))
            if len(step.out_slots) == 1:
                values[step.out_slots[0]] = out
            else:
                for slot, o in zip(step.out_slots, flatten(out)):
                    values[slot] = o
        outs = [values[s] for s in self.output_slots]
        if losses is not None:
            losses.extend(values[s] for s in self.loss_slots)
        if isinstance(self.output_struct, dict):
            return dict(zip(self.output_names, outs))
        if isinstance(self.output_struct, (list, tuple)):
            return outs
        return outs[0]


def adapt_input(x: Any, spec: tuple[tuple, np.dtype, str], model_name: str, index: int = 0) -> Tensor:
    """Check x against an Input's shape and dtype the way Keras does: one missing or extra trailing axis of
    length 1 is added or removed; any other mismatch is a ValueError naming the model, input and shapes.
    A Keras mask x carries stays on the adapted tensor."""
    if not isinstance(x, Tensor):
        from shendu.layers.base import to_tensor

        return _adapt(to_tensor(x), spec, model_name)
    y = _adapt(x, spec, model_name)
    if y is not x:
        mask = get_keras_mask(x)
        if mask is not None:
            set_keras_mask(y, mask)
    return y


def _adapt(x: Tensor, spec: tuple[tuple, np.dtype, str], model_name: str) -> Tensor:
    ref, dtype, name = spec
    given = shape = x.data.shape
    if len(shape) != len(ref):
        if len(shape) == len(ref) - 1 and ref[-1] == 1:
            shape = (*shape, 1)
        elif len(shape) == len(ref) + 1 and shape[-1] == 1:
            shape = shape[:-1]
        else:
            raise _shape_error(model_name, name, ref, given)
    for d, r in zip(shape[1:], ref[1:]):
        if r is not None and d != r:
            raise _shape_error(model_name, name, ref, given)
    if shape is not given:
        x = x.reshape(*shape)
    if x.data.dtype != dtype and (dtype.kind == "f" or x.data.dtype.kind == "f"):
        x = x.astype(dtype)
    return x


def _shape_error(model_name: str, input_name: str, ref: tuple, shape: tuple) -> ValueError:
    return ValueError(
        f"Input '{input_name}' of model '{model_name}' is incompatible with the data: expected shape={tuple(ref)}, "
        f"found shape={tuple(shape)}"
    )


class Functional(Model):
    """A model defined by `Model(inputs, outputs)` (Keras's Functional); `Model(...)` returns one."""

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(inputs=inputs, outputs=outputs, name=name, trainable=trainable, **kwargs)

    def add_loss(self, loss: Any) -> None:
        """A term for the training loss. A symbolic tensor computed from the model's inputs (e.g.
        `tf.reduce_mean(x) * 0.1`) becomes part of the graph and is evaluated (summed) at each call."""
        if not isinstance(loss, KerasTensor):
            super().add_loss(loss)
            return
        graph = self._graph
        self._graph = FunctionalGraph(graph.input_struct, graph.output_struct, self.name,
                                      [*graph.loss_tensors, loss])
        self._layers = list(self._graph.layers)

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        losses: list[Any] = []
        out = self._graph.run(inputs, training, self.name, mask, losses)
        for value in losses:
            super().add_loss(value if value.ndim == 0 else value.sum())
        return out

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Model:
        """The model of a functional config, with its symbolic losses added back."""
        if not config.get("added_losses"):
            return super().from_config(config, custom_objects)
        losses: list[KerasTensor] = []
        inputs, outputs = graph_from_config(config, custom_objects, losses)
        model = cls(inputs=inputs, outputs=outputs, name=config.get("name"), trainable=config.get("trainable", True))
        for loss in losses:
            model.add_loss(loss)
        return model

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """None: the outputs keep the masks the model's layers attached to them (a layer that drops a mask warns
        itself), so the model adds none, and does not warn when given `mask=` for outputs that have none."""
        return None


# --- config ---------------------------------------------------------------------------------------
def graph_config(model: Model) -> dict[str, Any]:
    """Keras's functional config: each layer with the calls that feed it, and the input/output tensors."""
    from shendu.saving.serialization import serialize

    graph = model._graph
    node_index: dict[int, int] = {}
    layer_nodes: dict[int, list[Node]] = {}
    for node in graph.nodes:
        nodes = layer_nodes.setdefault(id(node.layer), [])
        node_index[id(node)] = len(nodes)
        nodes.append(node)

    def history(t: KerasTensor) -> list[Any]:
        return [t.node.layer.name, node_index[id(t.node)], t.index]

    def encode(x: Any) -> Any:
        if isinstance(x, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(x.shape), "dtype": x.dtype.name, "keras_history": history(x)}}
        if isinstance(x, (list, tuple)):
            return [encode(v) for v in x]
        if isinstance(x, dict):
            return {k: encode(v) for k, v in x.items()}
        return encode_constant(x)

    layers = []
    for layer in graph.layers:
        entry = serialize(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [] if isinstance(layer, InputLayer) else [
            {"args": [encode(n.inputs), *encode(list(n.args))], "kwargs": encode(n.kwargs)}
            for n in layer_nodes[id(layer)]
        ]
        layers.append(entry)

    def ends(struct: Any) -> Any:
        if isinstance(struct, dict):
            return {k: history(t) for k, t in struct.items()}
        if isinstance(struct, (list, tuple)):
            return [history(t) for t in struct]
        return [history(struct)]

    config = {"name": model.name, "trainable": model.trainable, "layers": layers,
              "input_layers": ends(graph.input_struct), "output_layers": ends(graph.output_struct),
              "single_input": not isinstance(graph.input_struct, (list, tuple, dict)),
              "single_output": not isinstance(graph.output_struct, (list, tuple, dict))}
    if graph.loss_tensors:
        config["added_losses"] = [history(t) for t in graph.loss_tensors]
    return config


def encode_constant(x: Any) -> Any:
    """A non-tensor call argument as JSON: slices, `...`, arrays (and constant tensors), dtypes tagged."""
    if isinstance(x, slice):
        return {"class_name": "__slice__", "config": {"start": encode_constant(x.start),
                                                      "stop": encode_constant(x.stop),
                                                      "step": encode_constant(x.step)}}
    if x is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(x, np.dtype) or (isinstance(x, type) and issubclass(x, np.generic)):
        return {"class_name": "__dtype__", "config": {"name": np.dtype(x).name}}
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (np.ndarray, Tensor)):
        arr = np.asarray(x.data if isinstance(x, Tensor) else x)
        return {"class_name": "__numpy__", "config": {"value": arr.tolist(), "dtype": arr.dtype.name}}
    return x


def decode_constant(x: dict[str, Any]) -> Any:
    """The value `encode_constant` tagged, or x itself."""
    kind, config = x.get("class_name"), x.get("config")
    if kind == "__slice__":
        return slice(config["start"], config["stop"], config["step"])
    if kind == "__ellipsis__":
        return Ellipsis
    if kind == "__dtype__":
        return np.dtype(config["name"])
    if kind == "__numpy__":
        return np.asarray(config["value"], dtype=config["dtype"])
    return x


def graph_from_config(config: dict[str, Any], custom_objects: dict[str, Any] | None = None,
                      losses: list[KerasTensor] | None = None) -> tuple[Any, Any]:
    """Recreate the layers and replay their calls; returns (inputs, outputs) for `Model(inputs, outputs)`. The
    symbolic losses of the config (`added_losses`) are appended to `losses` when it is given."""
    from shendu.saving.serialization import deserialize

    created: dict[tuple[str, int], list[KerasTensor]] = {}
    pending: list[tuple[Any, str, int, dict]] = []
    for entry in config["layers"]:
        layer = deserialize({"class_name": entry["class_name"], "config": entry["config"]}, custom_objects)
        if isinstance(layer, InputLayer):
            created[(entry["name"], 0)] = [layer.output]
        for i, node in enumerate(entry.get("inbound_nodes", [])):
            pending.append((layer, entry["name"], i, node))  # the config's name: a custom get_config may omit it

    def decode(x: Any) -> Any:
        if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
            name, node, index = x["config"]["keras_history"]
            return created[(name, node)][index]
        if isinstance(x, list):
            return [decode(v) for v in x]
        if isinstance(x, dict):
            return decode_constant({k: decode(v) for k, v in x.items()})
        return x

    while pending:
        progress: set[int] = set()
        for item in pending:
            layer, name, i, node = item
            try:
                args, kwargs = decode(node["args"]), decode(node.get("kwargs", {}))
            except KeyError:
                continue
            out = layer(*args, **kwargs)
            created[(name, i)] = flatten(out)
            progress.add(id(item))
        if not progress:
            names = sorted({name for _, name, _, _ in pending})
            raise ValueError(f"Model config: cannot rebuild the calls of layer(s) {names}; their inputs are missing")
        pending = [p for p in pending if id(p) not in progress]

    def ends(struct: Any, single: bool) -> Any:
        if isinstance(struct, dict):
            return {k: created[(h[0], h[1])][h[2]] for k, h in struct.items()}
        tensors = [created[(h[0], h[1])][h[2]] for h in struct]
        return tensors[0] if single and len(tensors) == 1 else tensors

    if losses is not None:
        losses.extend(created[(h[0], h[1])][h[2]] for h in config.get("added_losses", []))
    return (ends(config["input_layers"], config.get("single_input", False)),
            ends(config["output_layers"], config.get("single_output", False)))

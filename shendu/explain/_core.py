"""What every attribution method shares: the inputs as arrays, the target class of each sample, and the gradient
of the chosen outputs with respect to the inputs, computed in batches through shendu's autograd."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from shendu.tensor import Tensor, grad


def as_inputs(x: Any, who: str) -> tuple[list[np.ndarray], bool]:
    """The model's inputs as a list of arrays with a batch axis, and whether they came as a list."""
    several = isinstance(x, (list, tuple))
    arrays = [np.asarray(a.data if isinstance(a, Tensor) else a) for a in (x if several else [x])]
    if not arrays:
        raise ValueError(f"{who}: got no inputs")
    n = arrays[0].shape[0] if arrays[0].ndim else None
    for i, a in enumerate(arrays):
        if a.ndim == 0 or a.shape[0] != n:
            raise ValueError(f"{who}: every input needs the same batch axis first; input {i} has shape {a.shape}, "
                             f"input 0 has {arrays[0].shape}")
        if a.dtype.kind not in "fiub":
            raise ValueError(f"{who}: input {i} must be numeric, got dtype {a.dtype}")
    return arrays, several


def float_inputs(arrays: list[np.ndarray], who: str) -> list[np.ndarray]:
    """The inputs in floating point; token ids cannot carry a gradient, so they are refused with the way out."""
    for i, a in enumerate(arrays):
        if a.dtype.kind != "f":
            raise ValueError(f"{who}: input {i} has integer dtype {a.dtype} (token ids?) and no gradient; attribute "
                             f"through the embedding with layer='<embedding layer name>' instead")
    return arrays


def pack(arrays: list[Any], several: bool) -> Any:
    """One result per input: a list when the inputs were a list, else the single array."""
    return list(arrays) if several else arrays[0]


def forward(model: Any, arrays: Sequence[Any]) -> Tensor:
    """The model's output Tensor on these inputs, in inference mode (dropout off, moving statistics)."""
    out = model(list(arrays) if len(arrays) > 1 else arrays[0], training=False)
    if isinstance(out, (list, tuple)):
        raise ValueError(f"explain: model '{model.name}' has {len(out)} outputs; attribution needs a single output "
                         f"(build a Model(model.inputs, model.outputs[i]) for the one to explain)")
    if out.ndim not in (1, 2):
        raise ValueError(f"explain: model '{model.name}' gives outputs of shape {out.shape}; expected (batch, "
                         f"classes) or (batch,)")
    return out


def predict(model: Any, arrays: Sequence[np.ndarray], batch_size: int = 32) -> np.ndarray:
    """The model's outputs as (batch, classes) without recording a graph."""
    from shendu import grad_mode

    n = arrays[0].shape[0]
    with grad_mode.no_grad():
        parts = [forward(model, [a[i:i + batch_size] for a in arrays]).numpy() for i in range(0, n, batch_size)]
    out = np.concatenate(parts)
    return out.reshape(n, -1)


def targets(model: Any, arrays: Sequence[np.ndarray], target: Any, who: str, batch_size: int = 32) -> np.ndarray:
    """One class index per sample: `target` (an int for all, or one per sample), else the predicted class
    (argmax of the output; the only unit of a single-output model)."""
    n = arrays[0].shape[0]
    if target is None:
        return predict(model, arrays, batch_size).argmax(axis=1)
    t = np.asarray(target)
    if t.dtype.kind not in "iu":
        raise ValueError(f"{who}: target must be a class index (an int or one int per sample), got {target!r}")
    t = np.broadcast_to(t, (n,)) if t.ndim == 0 else t
    if t.shape != (n,):
        raise ValueError(f"{who}: target needs one class index per sample ({n}), got shape {t.shape}")
    return t.astype(np.int64)


def selected(out: Tensor, target: np.ndarray, who: str) -> Tensor:
    """The sum over the batch of each sample's target output: its gradient is each sample's own gradient."""
    flat = out.reshape((out.shape[0], -1))
    classes = flat.shape[1]
    if target.size and (target.min() < 0 or target.max() >= classes):
        raise ValueError(f"{who}: target class {int(target.max() if target.max() >= classes else target.min())} is "
                         f"out of range for a model with {classes} output(s)")
    return flat[np.arange(flat.shape[0]), target].sum()


def batched(n: int, batch_size: int) -> range:
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"explain: batch_size must be a positive int, got {batch_size!r}")
    return range(0, n, int(batch_size))


def gradients(model: Any, arrays: Sequence[np.ndarray], target: np.ndarray, who: str,
              batch_size: int = 32) -> tuple[list[np.ndarray], np.ndarray]:
    """d output[i, target[i]] / d input for each input and sample, and the selected outputs themselves."""
    n = arrays[0].shape[0]
    grads: list[list[np.ndarray]] = [[] for _ in arrays]
    values = []
    for i in batched(n, batch_size):
        leaves = [Tensor(a[i:i + batch_size], requires_grad=True) for a in arrays]
        out = forward(model, leaves)
        chosen = selected(out, target[i:i + batch_size], who)
        values.append(out.numpy().reshape(len(leaves[0].data), -1)[np.arange(len(leaves[0].data)),
                                                                    target[i:i + batch_size]])
        for j, g in enumerate(grad([chosen], leaves)):
            grads[j].append(np.zeros_like(leaves[j].data) if g is None else g.numpy())
    return [np.concatenate(g) for g in grads], np.concatenate(values)


def layer_gradients(model: Any, arrays: Sequence[np.ndarray], target: np.ndarray, layer: Any, who: str,
                    batch_size: int = 32, replace: Callable[[np.ndarray, slice], np.ndarray] | None = None,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The layer's output, d output[i, target[i]] / d layer output, and the selected outputs, for every sample.

    `replace(layer_output, rows)`, when given, gives the array the layer passes on instead of its own output (for
    the interpolated embeddings of layer integrated gradients); the gradient is taken at that array.
    """
    from shendu.explain._layers import capture, unfused

    graph = unfused(model)
    n = arrays[0].shape[0]
    acts, grads, values = [], [], []
    for i in batched(n, batch_size):
        rows = slice(i, min(i + batch_size, n))
        with capture(layer, who, None if replace is None else (lambda a, r=rows: replace(a, r))) as seen:
            out = forward(graph, [a[rows] for a in arrays])
        leaf = seen.tensor
        chosen = selected(out, target[rows], who)
        values.append(out.numpy().reshape(rows.stop - rows.start, -1)[np.arange(rows.stop - rows.start),
                                                                      target[rows]])
        (g,) = grad([chosen], [leaf])
        acts.append(leaf.numpy())
        grads.append(np.zeros_like(leaf.data) if g is None else g.numpy())
    return np.concatenate(acts), np.concatenate(grads), np.concatenate(values)


def layer_output(model: Any, arrays: Sequence[np.ndarray], layer: Any, who: str, batch_size: int = 32) -> np.ndarray:
    """The layer's output on these inputs. The rest of the model also runs but its result is not used: an all-padding
    baseline may make it 0/0 (a masked mean over no tokens), so NumPy's warnings are off for that part."""
    from shendu import grad_mode
    from shendu.explain._layers import capture, unfused

    graph = unfused(model)
    parts = []
    with grad_mode.no_grad(), np.errstate(all="ignore"):
        for i in batched(arrays[0].shape[0], batch_size):
            with capture(layer, who) as seen:
                forward(graph, [a[i:i + batch_size] for a in arrays])
            parts.append(seen.tensor.numpy())
    return np.concatenate(parts)

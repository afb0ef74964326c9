"""The TensorBoard callback's embeddings (embeddings_freq): each Embedding layer's matrix as a TSV file beside a
`projector_config.pbtxt` in log_dir, which TensorBoard's Projector reads (`tensor_path`), no TensorFlow checkpoint
needed."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from shendu.saving.file_utils import atomic_write


def embedding_layers(model: Any) -> list[Any]:
    from shendu.layers.embedding import Embedding

    return [layer for layer in model.layers if isinstance(layer, Embedding)]


def tsv_name(layer: Any) -> str:
    return f"{layer.name}_embeddings.tsv"


def write_projector_config(model: Any, log_dir: str, metadata: str | dict[str, str] | None) -> None:
    """Write `<log_dir>/projector_config.pbtxt` naming each Embedding layer's TSV and its metadata file (one path for
    all layers, or a {layer name: path} dict; an unknown layer name raises, as in Keras)."""
    from google.protobuf import text_format
    from tensorboard.plugins import projector

    by_layer = dict(metadata) if isinstance(metadata, dict) else {}
    config = projector.ProjectorConfig()
    for layer in embedding_layers(model):
        embedding = config.embeddings.add()
        embedding.tensor_name = f"{layer.name}/embeddings"
        embedding.tensor_path = tsv_name(layer)
        if isinstance(metadata, str):
            embedding.metadata_path = metadata
        elif layer.name in by_layer:
            embedding.metadata_path = by_layer.pop(layer.name)
    if by_layer:
        raise ValueError(f"TensorBoard: embeddings_metadata names no Embedding layer of the model: {sorted(by_layer)}")
    with atomic_write(os.path.join(log_dir, "projector_config.pbtxt")) as tmp, open(tmp, "w") as f:
        f.write(text_format.MessageToString(config))


def write_embeddings(model: Any, log_dir: str) -> None:
    """Write each Embedding layer's current matrix (input_dim rows, tab-separated) to its TSV in log_dir."""
    for layer in embedding_layers(model):
        with atomic_write(os.path.join(log_dir, tsv_name(layer))) as tmp:
            np.savetxt(tmp, np.asarray(layer.embeddings.numpy()), delimiter="\t", fmt="%.7g")

"""timeseries_dataset_from_array: sliding windows over a series as a Dataset, as Keras's utility of that name."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.data.dataset import Dataset


def _positive(name: str, value: Any, length: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"timeseries_dataset_from_array: `{name}` must be a positive integer, got {value!r}")
    if name != "sequence_length" and value >= length:
        raise ValueError(f"timeseries_dataset_from_array: `{name}` must be lower than the length of the data, "
                         f"got {name}={value} for data of length {length}")
    return int(value)


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> Dataset:
    """A Dataset of (windows, targets) batches (windows only when targets is None) over data[start_index:end_index].

    Window i starts at s_i = start_index + i * sequence_stride and holds data[s_i + j * sampling_rate] for
    j < sequence_length; its target is targets[s_i] (targets[i] belongs to the window that starts at data[i]).
    Only whole windows are made, and at most len(targets) of them. shuffle draws the window order from
    np.random.RandomState(seed) as Keras does (without TensorFlow's extra buffer shuffle); batch_size=None yields
    single windows. Windows are gathered per batch, so memory stays that of the series.
    """
    data = np.asarray(data)
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"timeseries_dataset_from_array: `start_index` must be 0 or greater, got {start_index}")
        if start_index >= n:
            raise ValueError(f"timeseries_dataset_from_array: `start_index` must be lower than the length of the "
                             f"data, got start_index={start_index} for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"timeseries_dataset_from_array: `end_index` must be higher than `start_index`, got "
                             f"start_index={start_index} and end_index={end_index}")
        if end_index >= n:
            raise ValueError(f"timeseries_dataset_from_array: `end_index` must be lower than the length of the data, "
                             f"got end_index={end_index} for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"timeseries_dataset_from_array: `end_index` must be higher than 0, got {end_index}")
    length = _positive("sequence_length", sequence_length, n)
    rate = _positive("sampling_rate", sampling_rate, n)
    stride = _positive("sequence_stride", sequence_stride, n)
    start = start_index or 0
    end = n if end_index is None else end_index

    num_seqs = end - start - (length - 1) * rate
    if targets is not None:
        targets = np.asarray(targets)
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(int(1e6))
        np.random.RandomState(seed).shuffle(positions)
    series = data[start:end]
    target_series = None if targets is None else targets[start:end]
    offsets = np.arange(length) * rate

    def windows(pos: Any) -> Any:
        pos = np.asarray(pos)  # the Dataset hands map functions Tensors
        x = series[pos[..., None] + offsets]
        return x if target_series is None else (x, target_series[pos])

    ds = Dataset.from_tensor_slices(positions)
    if batch_size is not None:
        ds = ds.batch(int(batch_size))
    return ds.map(windows)

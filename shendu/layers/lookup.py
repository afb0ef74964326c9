"""StringLookup and IntegerLookup: tokens -> integer ids (or one_hot / multi_hot / count / tf_idf vectors), and
back with invert=True, with Keras 3's arguments and index layout.

Ids: the mask token at 0 (when given, in 'int' mode), then num_oov_indices out-of-vocabulary ids, then the
vocabulary. `adapt` orders the vocabulary by frequency, ties broken by the token, higher first (Keras's
`np.lexsort((tokens, counts))[::-1]`). With several OOV ids an unknown integer goes to `value % num_oov_indices`
(as Keras); an unknown string goes to shendu's stable hash (see `hashing.py`), which is not Keras's FarmHash.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from typing import Any

import numpy as np

from shendu.layers.category_encoding import MODES, encode, encoded_shape, int_ids
from shendu.layers.hashing import stable_hash
from shendu.layers.preprocessing import DataLayer, adapt_batches
from shendu.tensor import Tensor

OUTPUT_MODES = ("int", *MODES, "tf_idf")


class IndexLookup(DataLayer):
    """The lookup both StringLookup and IntegerLookup are: a vocabulary, its special ids, the encodings."""

    _dtype: Any = object  # the tokens' array dtype (object: Python strings)

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token: Any, oov_token: Any,
                 vocabulary: Any = None, idf_weights: Any = None, invert: bool = False, output_mode: str = "int",
                 sparse: bool = False, pad_to_max_tokens: bool = False, vocabulary_size: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        who = self._who
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"{who}: output_mode must be one of {OUTPUT_MODES}, got {output_mode!r}")
        if max_tokens is not None and (not isinstance(max_tokens, (int, np.integer)) or max_tokens <= 1):
            raise ValueError(f"{who}: if set, max_tokens must be an integer greater than 1, got {max_tokens!r}")
        if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, (int, np.integer)) \
                or num_oov_indices < 0:
            raise ValueError(f"{who}: num_oov_indices must be an integer >= 0, got {num_oov_indices!r}")
        if invert and output_mode != "int":
            raise ValueError(f"{who}: output_mode must be 'int' when invert is true, got {output_mode!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{who}: pad_to_max_tokens=True needs max_tokens")
        if sparse:
            raise NotImplementedError(f"{who}: sparse=True is not supported (shendu has no sparse tensors)")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = None if mask_token is None else self._token(mask_token)
        self.oov_token = self._token(oov_token)
        self.invert, self.output_mode, self.sparse = bool(invert), output_mode, False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.output_dtype = self._dtype if invert else "int64" if output_mode == "int" else None
        self._tokens: list[Any] = []
        self._index: dict[Any, int] = {}
        self._idf: np.ndarray | None = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError(f"{who}: idf_weights need a vocabulary")

    @property
    def _who(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _token(self, value: Any) -> Any:
        raise NotImplementedError

    # --- the vocabulary ------------------------------------------------------------------------------------------
    @property
    def _oov_start(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    @property
    def _token_start(self) -> int:
        return self._oov_start + self.num_oov_indices

    def _special_tokens(self) -> list[Any]:
        return [self.mask_token] * self._oov_start + [self.oov_token] * self.num_oov_indices

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[Any]:
        """The vocabulary in id order; with the special tokens, a token's position is its id."""
        return (self._special_tokens() if include_special_tokens else []) + list(self._tokens)

    def vocabulary_size(self) -> int:
        """The number of ids, special ones included."""
        return self._token_start + len(self._tokens)

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Use these tokens (a list or array, or a file with one per line), with or without the special tokens
        in front; idf_weights (one per token) go with output_mode='tf_idf'."""
        who = self._who
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{who}: idf_weights must be set if output_mode is 'tf_idf'")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{who}: idf_weights should only be set if output_mode is 'tf_idf', got output_mode="
                             f"{self.output_mode!r}")
        if isinstance(vocabulary, (str, os.PathLike)):
            if not os.path.isfile(vocabulary):
                raise ValueError(f"{who}: vocabulary file {vocabulary} does not exist")
            with open(vocabulary, encoding=getattr(self, "encoding", "utf-8")) as f:
                vocabulary = f.read().splitlines()
        values = np.asarray(getattr(vocabulary, "data", vocabulary), dtype=object).reshape(-1).tolist()
        tokens = [self._token(v) for v in values]
        special = self._special_tokens()
        found_special = len(special) > 0 and tokens[:len(special)] == special
        if found_special:
            tokens = tokens[len(special):]
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(f"{who}: found the mask token {self.mask_token!r} at an unexpected place in the "
                             f"vocabulary; leave out the mask and OOV tokens, or put them only at its start in this "
                             f"order: {special}")
        if self.num_oov_indices > 0 and self.oov_token in tokens:
            raise ValueError(f"{who}: found the OOV token {self.oov_token!r} at an unexpected place in the "
                             f"vocabulary; leave out the mask and OOV tokens, or put them only at its start in this "
                             f"order: {special}")
        repeated = sorted((t for t, n in Counter(tokens).items() if n > 1), key=str)
        if repeated:
            raise ValueError(f"{who}: the vocabulary has repeated terms {repeated[:10]}; make its terms unique")
        size = self._token_start + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"{who}: the vocabulary has {size} entries (special ones included), more than "
                             f"max_tokens={self.max_tokens}")
        idf = None
        if idf_weights is not None:
            idf = np.asarray(getattr(idf_weights, "data", idf_weights), dtype=np.float64).reshape(-1)
            given = len(tokens) + (len(special) if found_special else 0)
            if idf.size != given:
                raise ValueError(f"{who}: idf_weights must have one weight per vocabulary entry ({given}), got "
                                 f"{idf.size}")
            if not found_special:
                idf = np.concatenate([np.full(self._token_start, idf.mean() if idf.size else 0.0), idf])
        self._set(tokens, idf)

    def _set(self, tokens: list[Any], idf: np.ndarray | None) -> None:
        self._tokens = tokens
        self._index = {t: i for i, t in enumerate(tokens, self._token_start)}
        self._idf = None if idf is None else idf.astype(self.dtype)

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn the vocabulary from data (an array or list, or a Dataset or iterable of batches): the
        max_tokens most frequent tokens (mask and OOV tokens left out), and for 'tf_idf' their
        idf = log(1 + documents / (1 + documents holding the token)), a document being a row (a 1-D batch is one)."""
        counts: Counter[Any] = Counter()
        docs: Counter[Any] = Counter()
        num_docs = 0
        for arr in adapt_batches(self, data, steps):
            flat = [self._token(v) for v in arr.reshape(-1).tolist()]
            counts.update(flat)
            if self.output_mode == "tf_idf":
                rows = 1 if arr.ndim < 2 else arr.shape[0]
                width = len(flat) // rows if rows else 0
                for r in range(rows):
                    docs.update(set(flat[r * width:(r + 1) * width]))
                num_docs += rows
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[:max(self.max_tokens - self._token_start, 0)]
        tokens = [t for t, _ in ranked]
        idf = None
        if self.output_mode == "tf_idf":
            learned = np.array([math.log(1 + num_docs / (1 + docs[t])) for t in tokens], dtype=np.float64)
            idf = np.concatenate([np.full(self._token_start, learned.mean() if learned.size else 0.0), learned])
        self._set(tokens, idf)

    # --- the layer ------------------------------------------------------------------------------------------------
    def _values(self, inputs: Any) -> np.ndarray:
        return np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs, dtype=object)

    def call(self, inputs: Any) -> Tensor:
        if self.invert:
            return self._invert(inputs)
        arr = self._values(inputs)
        flat = [self._token(v) for v in arr.reshape(-1).tolist()]
        ids = np.fromiter((self._index.get(t, -1) for t in flat), dtype=np.int64, count=len(flat))
        masked = np.array([t == self.mask_token for t in flat], dtype=bool) if self.mask_token is not None \
            else np.zeros(len(flat), dtype=bool)
        oov = (ids < 0) & ~masked
        if oov.any():
            ids[oov] = self._oov_ids([t for t, o in zip(flat, oov) if o])
        ids[masked] = 0 if self.output_mode == "int" else -1
        ids = ids.reshape(arr.shape)
        if self.output_mode == "int":
            return Tensor(ids)
        depth = self._depth()
        if self.output_mode != "tf_idf":
            return Tensor(encode(ids, self.output_mode, depth, self.dtype, who=self._who))
        idf = np.zeros(depth, dtype=self.dtype)
        idf[:self._idf.size] = self._idf
        return Tensor(encode(ids, "count", depth, self.dtype, np.where(ids >= 0, idf[np.maximum(ids, 0)], 0),
                             who=self._who))

    def _oov_ids(self, tokens: list[Any]) -> np.ndarray:
        if self.num_oov_indices == 0:
            raise ValueError(f"{self._who}: when num_oov_indices=0 all inputs should be in the vocabulary, found OOV "
                             f"values {tokens[:10]}; consider setting num_oov_indices=1")
        if self.num_oov_indices == 1:
            return np.full(len(tokens), self._oov_start, dtype=np.int64)
        if self._dtype is object:
            return stable_hash(tokens, self.num_oov_indices) + self._oov_start
        return np.asarray(tokens, dtype=np.int64) % self.num_oov_indices + self._oov_start

    def _depth(self) -> int:
        if self.pad_to_max_tokens:
            return self.max_tokens
        if not self._tokens:
            raise ValueError(f"{self._who}: with output_mode={self.output_mode!r} and pad_to_max_tokens=False, set "
                             "the vocabulary before calling the layer: pass vocabulary= or call adapt")
        return self.vocabulary_size()

    def _invert(self, inputs: Any) -> Tensor:
        ids = int_ids(inputs, self._who)
        vocab = self.get_vocabulary()
        out = [vocab[i] if 0 <= i < len(vocab) else self.oov_token for i in ids.reshape(-1).tolist()]
        if self.mask_token is not None:
            out = [self.mask_token if i == 0 else t for i, t in zip(ids.reshape(-1).tolist(), out)]
        return Tensor(np.array(out, dtype=str if self._dtype is object else self._dtype).reshape(ids.shape))

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        return encoded_shape(tuple(input_shape), "count" if self.output_mode == "tf_idf" else self.output_mode,
                             depth)

    def get_config(self) -> dict[str, Any]:
        idf = None if self._idf is None else self._idf[self._token_start:].tolist()
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token, "mask_token": self.mask_token,
                "output_mode": self.output_mode, "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary": list(self._tokens) or None, "idf_weights": idf if self._tokens else None,
                "vocabulary_size": self.vocabulary_size()}


class StringLookup(IndexLookup):
    """Strings -> ids (or encoded vectors) over a vocabulary of strings; invert=True maps ids back to strings.

    >>> StringLookup(vocabulary=["a", "b", "c", "d"])([["a", "c", "d"], ["d", "z", "b"]])  # [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: str | None = None,
                 oov_token: str = "[UNK]", vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False, sparse: bool = False,
                 encoding: str = "utf-8", **kwargs: Any) -> None:
        if kwargs.pop("vocabulary_dtype", "string") not in ("string", "str"):
            raise ValueError("StringLookup: vocabulary_dtype must be 'string'; use IntegerLookup for integers")
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                         output_mode, sparse, pad_to_max_tokens, **kwargs)

    def _token(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.decode(self.encoding)
        if isinstance(value, np.generic) and value.dtype.kind in "US":
            return self._token(value.item())
        raise TypeError(f"StringLookup: expected strings, got {type(value).__name__} {value!r}")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocabulary_dtype": "string", "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Integers -> ids (or encoded vectors) over a vocabulary of integers; invert=True maps ids back to integers.

    >>> IntegerLookup(vocabulary=[12, 36, 1138, 42])([[12, 1138, 42], [42, 1000, 36]])  # [[1, 3, 4], [4, 0, 2]]
    """

    _dtype = np.int64

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: int | None = None,
                 oov_token: int = -1, vocabulary: Any = None, vocabulary_dtype: str = "int64", idf_weights: Any = None,
                 invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, **kwargs: Any) -> None:
        if vocabulary_dtype not in ("int64", "int32"):
            raise ValueError(f"IntegerLookup: vocabulary_dtype must be 'int64' or 'int32', got {vocabulary_dtype!r}")
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                         output_mode, sparse, pad_to_max_tokens, **kwargs)

    def _token(self, value: Any) -> int:
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            return int(value)
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():  # a line of a vocabulary file
            return int(value)
        raise TypeError(f"IntegerLookup: expected integers, got {type(value).__name__} {value!r}")

    def _values(self, inputs: Any) -> np.ndarray:
        return int_ids(inputs, self._who).astype(object)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}

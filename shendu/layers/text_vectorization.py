"""TextVectorization: strings -> token ids (or multi-hot / count vectors), with Keras 3's arguments and vocabulary.

The pipeline is Keras's: standardize (lower-case, strip ASCII punctuation), split (on whitespace, or into
characters), look each token up in a vocabulary learned by `adapt` (most frequent first, ties broken by the token,
higher first), with '' (padding, id 0) and '[UNK]' (out of vocabulary, id 1) reserved in 'int' mode.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from shendu import backend
from shendu.data.dataset import Dataset
from shendu.layers.preprocessing import DataLayer
from shendu.tensor import Tensor

MASK_TOKEN = ""
OOV_TOKEN = "[UNK]"
STRIP_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')  # Keras's DEFAULT_STRIP_REGEX
_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")  # TensorFlow's split on ASCII whitespace
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_MODES = ("int", "multi_hot", "count")


class TextVectorization(DataLayer):
    """Map strings to token ids (output_mode='int'), or to multi-hot or count vectors over the vocabulary.

    Input: a string, or strings shaped (batch,) or (batch, 1). 'int' gives int64 ids (batch, length), padded with 0
    at the end to the longest text of the batch, or padded/truncated at the end to output_sequence_length.
    'multi_hot' and 'count' give float32 (batch, vocabulary_size) (max_tokens when pad_to_max_tokens), column 0
    counting out-of-vocabulary tokens. standardize and split may be callables (str -> str and str -> list of
    tokens). The vocabulary comes from `adapt(data)` (strings, or a Dataset / iterable of batches of strings),
    from `vocabulary=` (a list or a file with one token per line) or from `set_vocabulary`; it is part of the
    config, so a saved model keeps it.
    """

    def __init__(self, max_tokens: int | None = None, standardize: str | Callable[[str], str] | None = _STANDARDIZE[0],
                 split: str | Callable[[str], list[str]] | None = "whitespace", ngrams: Any = None,
                 output_mode: str = "int", output_sequence_length: int | None = None, pad_to_max_tokens: bool = False,
                 vocabulary: Any = None, idf_weights: Any = None, sparse: bool = False, ragged: bool = False,
                 encoding: str = "utf-8", vocabulary_size: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = f"TextVectorization '{self.name}'"
        if output_mode == "binary":
            output_mode = "multi_hot"
        if standardize is not None and not callable(standardize) and standardize not in _STANDARDIZE:
            raise ValueError(f"{name}: standardize must be None, a callable or one of {_STANDARDIZE}, "
                             f"got {standardize!r}")
        if split is not None and not callable(split) and split not in _SPLIT:
            raise ValueError(f"{name}: split must be None, a callable or one of {_SPLIT}, got {split!r}")
        if output_mode not in (*_MODES, "one_hot", "tf_idf"):
            raise ValueError(f"{name}: output_mode must be one of {_MODES}, got {output_mode!r}")
        unsupported = {"ngrams": ngrams is not None, f"output_mode={output_mode!r}": output_mode not in _MODES,
                       "sparse=True": bool(sparse), "ragged=True": bool(ragged), "idf_weights": idf_weights is not None}
        missing = [k for k, v in unsupported.items() if v]
        if missing:
            raise NotImplementedError(f"{name}: {', '.join(missing)} not supported; use ngrams=None, output_mode one "
                                      f"of {_MODES}, dense outputs")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(f"{name}: output_sequence_length must not be set when output_mode is not 'int', "
                                 f"got output_sequence_length={output_sequence_length}")
            if not isinstance(output_sequence_length, (int, np.integer)) or output_sequence_length < 0:
                raise ValueError(f"{name}: output_sequence_length must be None or a non-negative integer, "
                                 f"got {output_sequence_length!r}")
        if max_tokens is not None and (not isinstance(max_tokens, (int, np.integer)) or max_tokens <= 1):
            raise ValueError(f"{name}: max_tokens must be None or an integer > 1, got {max_tokens!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{name}: pad_to_max_tokens=True needs max_tokens")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.standardize = standardize
        self.split = split
        self.ngrams = None
        self.output_mode = output_mode
        self.output_sequence_length = None if output_sequence_length is None else int(output_sequence_length)
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.encoding = encoding
        self.output_dtype = "int64" if output_mode == "int" else None
        self._tokens: list[str] = []
        self._index: dict[str, int] = {}
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # --- vocabulary ------------------------------------------------------------------------------------------
    @property
    def _special(self) -> list[str]:
        """The reserved tokens in front of the learned ones: '' and '[UNK]' in 'int' mode, '[UNK]' otherwise."""
        return [MASK_TOKEN, OOV_TOKEN] if self.output_mode == "int" else [OOV_TOKEN]

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The vocabulary in id order; with the special tokens, a token's position is its id."""
        return (self._special if include_special_tokens else []) + list(self._tokens)

    def vocabulary_size(self) -> int:
        """The number of ids, special tokens included."""
        return len(self._special) + len(self._tokens)

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Use these tokens (a list/array, or a path to a file with one per line), with or without the special
        tokens in front; repeated tokens and a vocabulary larger than max_tokens are errors."""
        name = f"TextVectorization '{self.name}'"
        if idf_weights is not None:
            raise NotImplementedError(f"{name}: idf_weights (output_mode='tf_idf') is not supported")
        if isinstance(vocabulary, (str, os.PathLike)):
            if not os.path.isfile(vocabulary):
                raise ValueError(f"{name}: vocabulary file {vocabulary} does not exist")
            with open(vocabulary, encoding=self.encoding) as f:
                tokens = f.read().splitlines()
            while tokens and tokens[-1] == "":
                tokens.pop()
        else:
            tokens = [_text(t, self.encoding) for t in np.asarray(vocabulary, dtype=object).ravel()]
        if not tokens:
            raise ValueError(f"{name}: cannot set an empty vocabulary")
        special = self._special
        if tokens[:len(special)] == special:
            tokens = tokens[len(special):]
        repeated = sorted(t for t, n in Counter(tokens).items() if n > 1)
        if repeated:
            raise ValueError(f"{name}: the vocabulary has repeated tokens {repeated[:10]}")
        if MASK_TOKEN in tokens:
            raise ValueError(f"{name}: the padding token '' may only come first in the vocabulary "
                             f"(followed by {OOV_TOKEN!r})")
        size = len(special) + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"{name}: the vocabulary has {size} entries (special tokens included), more than "
                             f"max_tokens={self.max_tokens}")
        self._set_tokens(tokens)

    def _set_tokens(self, tokens: list[str]) -> None:
        self._tokens = list(tokens)
        start = len(self._special)
        self._index = {t: i for i, t in enumerate(self._tokens, start)}

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary from strings: the max_tokens most frequent tokens (after standardize and split),
        ties broken by the token, higher first (Keras's order). data: strings (list or array), a Dataset or any
        iterable of batches of strings; steps limits the number of batches read."""
        counts: Counter[str] = Counter()
        for batch in self._batches(data, steps):
            for tokens in self._tokenize(batch):
                counts.update(tokens)
        counts.pop(MASK_TOKEN, None)
        counts.pop(OOV_TOKEN, None)
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[:self.max_tokens - len(self._special)]
        self._set_tokens([t for t, _ in ranked])

    def _batches(self, data: Any, steps: int | None) -> Iterable[Any]:
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, (str, bytes, list, tuple, np.ndarray)):
            return [data]
        if not isinstance(data, (Dataset, Iterable)):
            raise TypeError(f"TextVectorization '{self.name}': adapt expects strings, a Dataset or an iterable of "
                            f"batches of strings, got {type(data).__name__}")
        batches = iter(data) if steps is None else (b for _, b in zip(range(steps), data))
        return (self._check_batch(b) for b in batches)

    def _check_batch(self, batch: Any) -> Any:
        if isinstance(batch, tuple) and any(isinstance(b, (np.ndarray, Tensor)) for b in batch):
            raise TypeError(f"TextVectorization '{self.name}': adapt expects batches of strings, got a tuple of "
                            "arrays; for a dataset of (text, label) pairs adapt on `ds.map(lambda x, y: x)`")
        return batch

    # --- text processing --------------------------------------------------------------------------------------
    def _texts(self, inputs: Any) -> list[str]:
        """Inputs (a string, or strings of shape (batch,) or (batch, 1)) as a flat list of Python strings."""
        arr = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs, dtype=object)
        if arr.ndim > 1 and self.split is not None and (arr.shape[-1] != 1 or arr.ndim > 2):
            raise ValueError(f"TextVectorization '{self.name}': expected strings of shape (batch,) or (batch, 1), "
                             f"got shape {arr.shape}")
        return [_text(s, self.encoding) for s in arr.reshape(-1)]

    def _standardize(self, text: str) -> str:
        mode = self.standardize
        if callable(mode):  # it may return a str or a 0-d array or Tensor of one (tf.strings functions do)
            return _text(np.asarray(mode(text), dtype=object).item(), self.encoding)
        if mode in ("lower", "lower_and_strip_punctuation"):
            text = text.lower()
        if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = STRIP_PUNCTUATION.sub("", text)
        return text

    def _split(self, text: str) -> list[str]:
        if self.split is None:
            return [text]
        if callable(self.split):  # a list of str, or a 1-D array or Tensor of them (tf.strings.split gives one)
            return [_text(t, self.encoding) for t in np.asarray(self.split(text), dtype=object).reshape(-1)]
        if self.split == "character":
            return list(text)
        return [t for t in _WHITESPACE.split(text) if t]

    def _tokenize(self, inputs: Any) -> list[list[str]]:
        return [self._split(self._standardize(t)) for t in self._texts(inputs)]

    # --- the layer ---------------------------------------------------------------------------------------------
    def call(self, inputs: Any) -> Tensor:
        scalar = np.ndim(inputs.data if isinstance(inputs, Tensor) else inputs) == 0
        docs = self._tokenize(inputs)
        if self.output_mode == "int":
            ids = [[self._index.get(t, 0 if t == MASK_TOKEN else 1) for t in doc] for doc in docs]
            length = self.output_sequence_length
            if length is None:
                length = max((len(d) for d in ids), default=0)
            out = np.zeros((len(ids), length), dtype=np.int64)
            for row, doc in zip(out, ids):
                doc = doc[:length]
                row[:len(doc)] = doc
            return Tensor(out[0] if scalar else out)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        out = np.zeros((len(docs), depth), dtype=backend.floatx())
        for row, doc in zip(out, docs):
            ids = [self._index.get(t, 0) for t in doc if t != MASK_TOKEN]
            if self.output_mode == "count":
                np.add.at(row, ids, 1)
            else:
                row[ids] = 1
        return Tensor(out[0] if scalar else out)

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        shape = tuple(input_shape)
        batch = shape[0] if shape else None
        if self.output_mode == "int":
            return (batch, self.output_sequence_length)
        return (batch, self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size())

    def get_config(self) -> dict[str, Any]:
        from shendu.saving.object_registration import get_registered_name

        def fn(x: Any) -> Any:
            return get_registered_name(x) if callable(x) else x

        return {**super().get_config(), "max_tokens": self.max_tokens, "standardize": fn(self.standardize),
                "split": fn(self.split), "ngrams": None, "output_mode": self.output_mode,
                "output_sequence_length": self.output_sequence_length, "pad_to_max_tokens": self.pad_to_max_tokens,
                "sparse": False, "ragged": False,
                "vocabulary": self.get_vocabulary(include_special_tokens=False) or None, "idf_weights": None,
                "encoding": self.encoding, "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> TextVectorization:
        from shendu.saving.object_registration import get_registered_object

        config = dict(config)
        for key, builtin in (("standardize", _STANDARDIZE), ("split", _SPLIT)):
            value = config.get(key)
            if isinstance(value, str) and value not in builtin:
                fn = get_registered_object(value, custom_objects)
                if fn is None:
                    raise ValueError(f"TextVectorization: cannot rebuild its {key} function '{value}' from a config; "
                                     "register it with @register_keras_serializable() or pass custom_objects")
                config[key] = fn
        return cls(**config)


def _text(value: Any, encoding: str) -> str:
    """A Python string from a str, bytes or NumPy string scalar."""
    if isinstance(value, bytes):
        return value.decode(encoding)
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):
        return _text(value.item(), encoding)
    raise TypeError(f"TextVectorization: expected strings, got {type(value).__name__} {value!r}")

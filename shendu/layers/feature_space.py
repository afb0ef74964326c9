"""FeatureSpace (Keras 3's `keras.utils.FeatureSpace`): one object that preprocesses a dict of structured features
(floats normalized, rescaled or discretized; integer and string categories looked up or hashed; crosses of
features), learns what it needs from a Dataset of dicts with `adapt`, and gives one concatenated vector (or a dict).

Features are processed in sorted name order, crosses after them, as Keras does. A cross hashes the raw values with
shendu's stable hash (see `hashing.py`), so its bins differ from Keras's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu.layers.base import Layer
from shendu.layers.category_encoding import CategoryEncoding
from shendu.layers.discretization import Discretization
from shendu.layers.hashing import HashedCrossing, Hashing
from shendu.layers.lookup import IntegerLookup, StringLookup
from shendu.layers.preprocessing import Normalization, Rescaling
from shendu.tensor import Tensor

_DTYPES = {"float32": np.float32, "int64": np.int64, "string": object}


def _named(name: str | None) -> dict[str, str]:
    """The preprocessor's layer name for a named preset, as Keras names it."""
    return {"name": f"{name}_preprocessor"} if name else {}


class Feature:
    """One feature: the input dtype ('float32', 'int64' or 'string'), its preprocessing layer (None: as given)
    and output_mode ('float', 'int' or 'one_hot': ids one-hot encoded after the preprocessor)."""

    def __init__(self, dtype: str, preprocessor: Layer | None, output_mode: str) -> None:
        if dtype not in _DTYPES:
            raise ValueError(f"FeatureSpace feature: dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
        if output_mode not in ("float", "int", "one_hot"):
            raise ValueError(f"FeatureSpace feature: output_mode must be 'float', 'int' or 'one_hot', got "
                             f"{output_mode!r}")
        self.dtype, self.preprocessor, self.output_mode = dtype, preprocessor, output_mode

    def get_config(self) -> dict[str, Any]:
        from shendu.saving.serialization import serialize

        return {"dtype": self.dtype, "output_mode": self.output_mode,
                "preprocessor": None if self.preprocessor is None else serialize(self.preprocessor)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Feature:
        from shendu.saving.serialization import deserialize

        pre = config.get("preprocessor")
        return cls(config["dtype"], None if pre is None else deserialize(pre), config["output_mode"])


class Cross:
    """A cross of features (by name), hashed into crossing_dim bins."""

    def __init__(self, feature_names: Sequence[str], crossing_dim: int, output_mode: str = "one_hot") -> None:
        if len(feature_names) < 2:
            raise ValueError(f"FeatureSpace cross: name at least two features, got {list(feature_names)}")
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"FeatureSpace cross: output_mode must be 'int' or 'one_hot', got {output_mode!r}")
        self.feature_names, self.crossing_dim, self.output_mode = tuple(feature_names), int(crossing_dim), output_mode

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict[str, Any]:
        return {"feature_names": list(self.feature_names), "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}


class FeatureSpace:
    """features: {name: preset string or Feature}; presets 'float', 'float_rescaled', 'float_normalized',
    'float_discretized', 'integer_categorical', 'integer_hashed', 'string_categorical', 'string_hashed'.
    crosses: Cross objects or tuples of names (crossing_dim bins). output_mode 'concat' or 'dict'."""

    def __init__(self, features: dict[str, Any], output_mode: str = "concat", crosses: Sequence[Any] | None = None,
                 crossing_dim: int = 32, hashing_dim: int = 32, num_discretization_bins: int = 32,
                 name: str | None = None) -> None:
        if not isinstance(features, dict) or not features:
            raise ValueError(f"FeatureSpace: features must be a non-empty dict of name -> preset or Feature, got "
                             f"{features!r}")
        if output_mode not in ("concat", "dict"):
            raise ValueError(f"FeatureSpace: output_mode must be 'concat' or 'dict', got {output_mode!r}")
        self.name = name or "feature_space"
        self.output_mode = output_mode
        self.crossing_dim, self.hashing_dim = int(crossing_dim), int(hashing_dim)
        self.num_discretization_bins = int(num_discretization_bins)
        self.features = {n: self._feature(n, f) for n, f in features.items()}
        self.crosses = [c if isinstance(c, Cross) else Cross(c, self.crossing_dim) for c in crosses or []]
        for cross in self.crosses:
            unknown = [n for n in cross.feature_names if n not in self.features]
            if unknown:
                raise ValueError(f"FeatureSpace: cross {cross.name!r} names unknown features {unknown}")
            kinds = [self.features[n].dtype for n in cross.feature_names]
            if "float32" in kinds:
                raise ValueError(f"FeatureSpace: cross {cross.name!r} may only cross integer and string features")
        self.crossers = {c.name: HashedCrossing(c.crossing_dim, output_mode=c.output_mode) for c in self.crosses}
        self._encoders: dict[str, CategoryEncoding] = {}
        self._inputs: dict[str, Any] | None = None
        self._encoded: Any = None

    # --- presets (Keras's class methods) --------------------------------------------------------------------------
    @staticmethod
    def float(name: str | None = None) -> Feature:
        return Feature("float32", None, "float")

    @staticmethod
    def float_rescaled(scale: float = 1.0, offset: float = 0.0, name: str | None = None) -> Feature:
        return Feature("float32", Rescaling(scale=scale, offset=offset, **_named(name)), "float")

    @staticmethod
    def float_normalized(name: str | None = None) -> Feature:
        return Feature("float32", Normalization(axis=-1, **_named(name)), "float")

    @staticmethod
    def float_discretized(num_bins: int, bin_boundaries: Sequence[float] | None = None, output_mode: str = "one_hot",
                          name: str | None = None) -> Feature:
        return Feature("float32", Discretization(num_bins=None if bin_boundaries else num_bins,
                                                 bin_boundaries=bin_boundaries, **_named(name)), output_mode)

    @staticmethod
    def integer_categorical(max_tokens: int | None = None, num_oov_indices: int = 1, output_mode: str = "one_hot",
                            name: str | None = None) -> Feature:
        return Feature("int64", IntegerLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                                                  **_named(name)), output_mode)

    @staticmethod
    def string_categorical(max_tokens: int | None = None, num_oov_indices: int = 1, output_mode: str = "one_hot",
                           name: str | None = None) -> Feature:
        return Feature("string", StringLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                                                  **_named(name)), output_mode)

    @staticmethod
    def integer_hashed(num_bins: int, output_mode: str = "one_hot", name: str | None = None) -> Feature:
        return Feature("int64", Hashing(num_bins=num_bins, **_named(name)), output_mode)

    @staticmethod
    def string_hashed(num_bins: int, output_mode: str = "one_hot", name: str | None = None) -> Feature:
        return Feature("string", Hashing(num_bins=num_bins, **_named(name)), output_mode)

    @staticmethod
    def cross(feature_names: Sequence[str], crossing_dim: int, output_mode: str = "one_hot") -> Cross:
        return Cross(feature_names, crossing_dim, output_mode)

    @staticmethod
    def feature(dtype: str, preprocessor: Layer | None, output_mode: str) -> Feature:
        return Feature(dtype, preprocessor, output_mode)

    def _feature(self, name: str, spec: Any) -> Feature:
        if isinstance(spec, Feature):
            return spec
        presets = {"float": lambda: self.float(), "float_rescaled": lambda: self.float_rescaled(),
                   "float_normalized": lambda: self.float_normalized(),
                   "float_discretized": lambda: self.float_discretized(self.num_discretization_bins),
                   "integer_categorical": lambda: self.integer_categorical(),
                   "integer_hashed": lambda: self.integer_hashed(self.hashing_dim),
                   "string_categorical": lambda: self.string_categorical(),
                   "string_hashed": lambda: self.string_hashed(self.hashing_dim)}
        if spec not in presets:
            raise ValueError(f"FeatureSpace: feature {name!r} must be a Feature or one of {sorted(presets)}, got "
                             f"{spec!r}")
        return presets[spec]()

    # --- adapt ------------------------------------------------------------------------------------------------------
    def adapt(self, dataset: Any) -> None:
        """Learn each adaptable preprocessor (normalization, discretization, lookups) from a Dataset (or iterable)
        of dicts of features, batched or not."""
        from shendu.layers.preprocessing import adapt_batches

        names = [n for n, f in self.features.items() if hasattr(f.preprocessor, "adapt")
                 and not (isinstance(f.preprocessor, Discretization) and f.preprocessor.num_bins is None)
                 and not (isinstance(f.preprocessor, Normalization) and f.preprocessor.input_mean is not None)]
        columns: dict[str, list[np.ndarray]] = {n: [] for n in names}
        for element in dataset:
            if not isinstance(element, dict):
                raise TypeError(f"FeatureSpace: adapt expects a Dataset of dicts of features, got elements of type "
                                f"{type(element).__name__}")
            missing = [n for n in names if n not in element]
            if missing:
                raise ValueError(f"FeatureSpace: adapt data lacks the features {missing}")
            for n in names:
                columns[n].append(self._column(element[n], n))
        for n in names:
            pre = self.features[n].preprocessor
            pre.adapt(iter([np.asarray(b) for b in adapt_batches(pre, iter(columns[n]))]))
        self._encoders = {}
        self._inputs = self._encoded = None

    # --- calling ------------------------------------------------------------------------------------------------------
    def _column(self, value: Any, name: str) -> np.ndarray:
        """A feature's values as a (batch, 1) array of its dtype."""
        arr = np.asarray(value.data if isinstance(value, Tensor) else value)
        arr = arr.reshape(-1, 1) if arr.ndim < 2 else arr
        kind = self.features[name].dtype
        return arr.astype(object) if kind == "string" else arr.astype(_DTYPES[kind])

    def _encoder(self, name: str, feature: Feature) -> CategoryEncoding | None:
        if feature.output_mode != "one_hot":
            return None
        if name not in self._encoders:
            pre = feature.preprocessor
            depth = pre.num_bins if isinstance(pre, Hashing) else len(pre.bin_boundaries) + 1 \
                if isinstance(pre, Discretization) else pre.vocabulary_size()
            self._encoders[name] = CategoryEncoding(num_tokens=depth, output_mode="one_hot")
        return self._encoders[name]

    def _apply(self, data: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name in sorted(self.features):
            feature = self.features[name]
            x = data[name]
            if feature.preprocessor is not None:
                x = feature.preprocessor(x)
            encoder = self._encoder(name, feature)
            out[name] = encoder(x) if encoder is not None else x
        for cross in sorted(self.crosses, key=lambda c: c.name):
            out[cross.name] = self.crossers[cross.name]([data[n] for n in cross.feature_names])
        return out

    def __call__(self, data: dict[str, Any]) -> Any:
        """Preprocess a dict of features (a batch, or one sample of scalars): one concatenated float vector per
        sample, or a dict of the encoded features (output_mode='dict')."""
        if not isinstance(data, dict):
            raise TypeError(f"FeatureSpace: expects a dict of features, got {type(data).__name__}")
        missing = [n for n in self.features if n not in data]
        if missing:
            raise ValueError(f"FeatureSpace: the data lacks the features {missing}")
        single = all(np.ndim(v.data if isinstance(v, Tensor) else v) == 0 for v in data.values())
        out = self._apply({n: self._column(data[n], n) for n in self.features})
        arrays = {n: np.asarray(v.data if isinstance(v, Tensor) else v) for n, v in out.items()}
        if self.output_mode == "dict":
            return {n: Tensor(a[0] if single else a) for n, a in arrays.items()}
        merged = np.concatenate([a.astype(np.float32) for a in arrays.values()], axis=-1)
        return Tensor(merged[0] if single else merged)

    def get_inputs(self) -> dict[str, Any]:
        """A symbolic `Input(shape=(1,))` per feature, named by it and of its dtype."""
        from shendu.layers.input_layer import Input

        if self._inputs is None:
            self._inputs = {n: Input(shape=(1,), dtype=_DTYPES[f.dtype], name=n)
                            for n, f in sorted(self.features.items())}
        return self._inputs

    def get_encoded_features(self) -> Any:
        """The features processed symbolically from `get_inputs()`: the input of a model that learns on them."""
        from shendu.layers.merge import Concatenate

        if self._encoded is None:
            out = self._apply(self.get_inputs())
            if self.output_mode == "dict":
                self._encoded = out
            else:
                parts = list(out.values())
                self._encoded = parts[0] if len(parts) == 1 else Concatenate(axis=-1)(parts)
        return self._encoded

    def get_config(self) -> dict[str, Any]:
        return {"features": {n: f.get_config() for n, f in self.features.items()}, "output_mode": self.output_mode,
                "crosses": [c.get_config() for c in self.crosses], "crossing_dim": self.crossing_dim,
                "hashing_dim": self.hashing_dim, "num_discretization_bins": self.num_discretization_bins,
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FeatureSpace:
        config = dict(config)
        config["features"] = {n: Feature.from_config(f) for n, f in config["features"].items()}
        config["crosses"] = [Cross(**c) for c in config.get("crosses") or []]
        return cls(**config)

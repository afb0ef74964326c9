"""HyperModel: a search space of models. `build(hp)` makes one model from the hyperparameters; `fit(hp, model,
*args, **kwargs)` trains it (by default `model.fit`) and may tune fit's own arguments, e.g. `batch_size`."""

from __future__ import annotations

from typing import Any

from shendu.tuner import errors


class HyperModel:
    """Subclass it and override `build(hp)`; override `fit` to tune training (batch size, epochs) or to return
    the objective itself: a History, a dict of metrics holding the objective, or one float to minimize."""

    def __init__(self, name: str | None = None, tunable: bool = True) -> None:
        self.name = name
        self.tunable = tunable
        self._build = self.build
        self.build = self._build_wrapper

    def build(self, hp: Any) -> Any:
        """The model for the hyperparameters `hp`."""
        raise NotImplementedError(f"{type(self).__name__}.build(hp) is not implemented: override it to return a model")

    def _build_wrapper(self, hp: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.tunable:
            hp = hp.copy()  # the hyperparameters it declares stay out of the search space
        return self._build(hp, *args, **kwargs)

    def declare_hyperparameters(self, hp: Any) -> None:
        """Declare hyperparameters before the first build (optional)."""

    def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Train the model; `kwargs` are those of `tuner.search` with the tuner's callbacks appended."""
        return model.fit(*args, **kwargs)


class DefaultHyperModel(HyperModel):
    """A HyperModel around a `build_model(hp)` function."""

    def __init__(self, build: Any, name: str | None = None, tunable: bool = True) -> None:
        super().__init__(name=name, tunable=tunable)
        self.build = build


def get_hypermodel(hypermodel: Any) -> HyperModel | None:
    """A HyperModel from a HyperModel or a build function (None stays None)."""
    if hypermodel is None or isinstance(hypermodel, HyperModel):
        return hypermodel
    if not callable(hypermodel):
        raise errors.FatalValueError(f"hypermodel: expected a build(hp) function or a shendu.tuner.HyperModel, "
                                     f"got {type(hypermodel).__name__}")
    return DefaultHyperModel(hypermodel)

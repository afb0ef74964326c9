"""Tuner: runs the search. It asks the oracle for a trial, builds the model from the trial's hyperparameters,
trains it (`HyperModel.fit`, by default `model.fit` with the arguments of `search`), reports the result and
keeps the best epoch's weights of each trial in `directory/project_name/trial_<id>/`."""

from __future__ import annotations

import copy
import os
import shutil
import traceback
from typing import Any

from shendu.tuner import errors, reporting
from shendu.tuner import results as results_mod
from shendu.tuner.hypermodel import get_hypermodel
from shendu.tuner.json_files import load_json, save_json
from shendu.tuner.oracle import Oracle
from shendu.tuner.trial import Trial, TrialStatus
from shendu.tuner.tuner_callbacks import BUILD_CONFIG, SaveBestEpoch, TunerCallback

CHECKPOINT = "checkpoint.weights.safetensors"


class Tuner:
    """The base of GridSearch, RandomSearch, BayesianOptimization and Hyperband (KerasTuner's Tuner).

    Subclass it and override `run_trial(trial, *args, **kwargs)` to tune anything: it returns the objective
    (a float, a dict of metrics or a History). optimizer, loss and metrics, when given, recompile every model.
    """

    def __init__(self, oracle: Oracle, hypermodel: Any = None, max_model_size: int | None = None,
                 optimizer: Any = None, loss: Any = None, metrics: Any = None, directory: str | None = None,
                 project_name: str | None = None, tuner_id: str | None = None, overwrite: bool = False,
                 executions_per_trial: int = 1, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        if not isinstance(oracle, Oracle):
            raise ValueError(f"{type(self).__name__}: expected a shendu.tuner.Oracle, got {type(oracle).__name__}")
        if hypermodel is None and type(self).run_trial is Tuner.run_trial:
            raise ValueError(f"{type(self).__name__}: hypermodel=None is only possible in a Tuner subclass that "
                             "overrides run_trial; pass a build_model(hp) function or a HyperModel")
        if isinstance(executions_per_trial, bool) or int(executions_per_trial) != executions_per_trial \
                or executions_per_trial < 1:
            raise ValueError(f"{type(self).__name__}: executions_per_trial must be a positive int, "
                             f"got {executions_per_trial!r}")
        self.oracle = oracle
        self.hypermodel = get_hypermodel(hypermodel)
        self.max_model_size = max_model_size
        self.optimizer, self.loss, self.metrics = optimizer, loss, metrics
        self.executions_per_trial = int(executions_per_trial)
        self.directory = os.fspath(directory) if directory is not None else "."
        self.project_name = project_name or "untitled_project"
        self.tuner_id = tuner_id or os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
        self.oracle._set_project_dir(self.directory, self.project_name)
        if overwrite:
            self._clear_project()
        if not overwrite and os.path.exists(self._get_tuner_fname()):
            print(f"Reloading Tuner from {self._get_tuner_fname()}")
            self.reload()
        else:
            self._populate_initial_space()

    def _clear_project(self) -> None:
        path = os.path.join(self.directory, self.project_name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        self.oracle._on_overwrite()

    def _populate_initial_space(self) -> None:
        """Build the hypermodel with default values until every conditional scope has been active once, so that
        the oracle knows the whole space before the first trial."""
        if self.hypermodel is None:
            return
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)
        never_active: list = []
        once_active: list = []
        hp = self.oracle.get_space()
        while True:
            self.hypermodel.build(hp)
            self.oracle.update_space(hp)
            for scope in hp.active_scopes:
                if scope not in once_active:
                    once_active.append(copy.deepcopy(scope))
                if scope in never_active:
                    never_active.remove(scope)
            for scope in hp.inactive_scopes:
                if scope not in once_active and scope not in never_active:
                    never_active.append(copy.deepcopy(scope))
            if not never_active:
                break
            hp = self.oracle.get_space()
            for condition in never_active[0]:
                hp.values[condition.name] = condition.values[0]
            hp.ensure_active_values()
            once_active.append(never_active.pop(0))

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run trials until the oracle stops; the arguments go to `HyperModel.fit` (by default `model.fit`)."""
        if "verbose" in fit_kwargs:
            self.oracle.verbose = fit_kwargs["verbose"]
        self.on_search_begin()
        while True:
            self.pre_create_trial()
            trial = self.oracle.create_trial(self.tuner_id)
            if trial.status == TrialStatus.STOPPED:
                break
            if trial.status == TrialStatus.IDLE:
                continue
            self.on_trial_begin(trial)
            self._try_run_and_update_trial(trial, *fit_args, **fit_kwargs)
            self.on_trial_end(trial)
        self.on_search_end()

    def _try_run_and_update_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> None:
        try:
            self._run_and_update_trial(trial, *fit_args, **fit_kwargs)
            trial.status = TrialStatus.COMPLETED
        except errors.FatalError:
            raise
        except Exception as err:
            trial.status = TrialStatus.FAILED if isinstance(err, errors.FailedTrialError) else TrialStatus.INVALID
            trial.message = traceback.format_exc()

    def _run_and_update_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> None:
        results = self.run_trial(trial, *fit_args, **fit_kwargs)
        if self.oracle.get_trial(trial.trial_id).metrics.exists(self.oracle.objective.name):
            return  # run_trial reported through oracle.update_trial itself (KerasTuner's older way)
        objective = self.oracle.objective
        results_mod.validate_trial_results(results, objective, "Tuner.run_trial()")
        trial.history = results_mod.histories(results)
        self.oracle.update_trial(trial.trial_id, results_mod.convert_to_metrics_dict(results, objective),
                                 step=results_mod.get_best_step(results, objective))

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        """Build and fit the model `executions_per_trial` times; the list of results (one per execution)."""
        checkpoint = SaveBestEpoch(self.oracle.objective, self._get_checkpoint_fname(trial.trial_id))
        user_callbacks = list(kwargs.pop("callbacks", None) or [])
        outcomes = []
        for execution in range(self.executions_per_trial):
            run_kwargs = dict(kwargs)
            callbacks = self._deepcopy_callbacks(user_callbacks)
            callbacks += [*self._trial_callbacks(trial, execution), TunerCallback(self, trial), checkpoint]
            run_kwargs["callbacks"] = callbacks
            outcomes.append(self._build_and_fit_model(trial, *args, **run_kwargs))
            checkpoint.flush()
            if trial.pruned:
                break
        return outcomes

    def _trial_callbacks(self, trial: Trial, execution: int) -> list:
        """Callbacks a tuner adds to one execution of a trial (Hyperband: the pruning report)."""
        return []

    def _build_and_fit_model(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        hp = trial.hyperparameters
        model = self._try_build(hp)
        results = self.hypermodel.fit(hp, model, *args, **kwargs)
        results_mod.validate_trial_results(results, self.oracle.objective, "HyperModel.fit()")
        return results

    def _try_build(self, hp: Any) -> Any:
        from shendu.layers.base import clear_session
        from shendu.models import Model

        clear_session()
        model = self.hypermodel.build(hp)
        if not isinstance(model, Model):
            raise errors.FatalTypeError(f"shendu.tuner: the build function (or HyperModel.build) must return a "
                                        f"shendu model; it returned {type(model).__name__}")
        self._override_compile_args(model)
        if self.max_model_size and model.built:
            size = int(sum(w.numpy().size for w in model.trainable_weights))
            if size > self.max_model_size:
                raise errors.FailedTrialError(f"oversized model: {size} parameters > max_model_size "
                                              f"{self.max_model_size}")
        return model

    def _override_compile_args(self, model: Any) -> None:
        if not (self.optimizer or self.loss or self.metrics):
            return
        from shendu import optimizers

        args = dict(getattr(model, "_compile_args", None) or {})
        optimizer = getattr(model, "optimizer", None)
        if self.optimizer:
            optimizer = self.optimizer if isinstance(self.optimizer, str) else \
                optimizers.deserialize(optimizers.serialize(self.optimizer))
        if self.loss:
            args["loss"] = self.loss
        if self.metrics:
            args["metrics"] = self.metrics
        model.compile(optimizer=optimizer, **args)

    def _deepcopy_callbacks(self, callbacks: list) -> list:
        try:
            return copy.deepcopy(callbacks)
        except Exception as err:
            raise errors.FatalValueError(f"shendu.tuner: the callbacks of a search are copied for every trial, "
                                         f"and copy.deepcopy({callbacks}) failed: {err}") from err

    def load_model(self, trial: Trial) -> Any:
        """The trial's model with the weights of its best epoch."""
        path = self._get_checkpoint_fname(trial.trial_id)
        if not os.path.exists(path):
            raise FileNotFoundError(f"shendu.tuner: trial {trial.trial_id} has no saved weights at {path} (its fit "
                                    "logged no epoch here, or it ran on another machine)")
        model = self._try_build(trial.hyperparameters)
        build_config = os.path.join(os.path.dirname(path), BUILD_CONFIG)
        if not model.built and os.path.exists(build_config):
            from shendu.saving.model_file import shape_from_json

            shape = load_json(build_config).get("input_shape")
            if shape is not None:
                model.build(shape_from_json(shape))
        model.load_weights(path)
        return model

    def on_epoch_begin(self, trial: Trial, model: Any, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of each epoch of a trial's fit."""

    def on_batch_begin(self, trial: Trial, model: Any, batch: int, logs: dict | None = None) -> None:
        """Called before each training batch of a trial's fit."""

    def on_batch_end(self, trial: Trial, model: Any, batch: int, logs: dict | None = None) -> None:
        """Called after each training batch of a trial's fit."""

    def on_epoch_end(self, trial: Trial, model: Any, epoch: int, logs: dict | None = None) -> None:
        """Called at the end of each epoch of a trial's fit, with the epoch's logs."""

    def pre_create_trial(self) -> None:
        """Called before each `oracle.create_trial`."""

    def on_trial_begin(self, trial: Trial) -> None:
        """Called before a trial runs."""

    def on_trial_end(self, trial: Trial) -> None:
        """Hands the finished trial to the oracle and saves the state."""
        self.oracle.end_trial(trial)
        self.save()

    def on_search_begin(self) -> None:
        """Called at the start of `search`."""
        self.oracle.on_search_begin()

    def on_search_end(self) -> None:
        """Called at the end of `search`."""

    def get_best_models(self, num_models: int = 1) -> list:
        """The best trials' models with their best epoch's weights, best first."""
        return [self.load_model(trial) for trial in self.oracle.get_best_trials(num_models)]

    def get_best_hyperparameters(self, num_trials: int = 1) -> list:
        """The best trials' hyperparameters, best first (`tuner.hypermodel.build(hp)` rebuilds a model)."""
        return [trial.hyperparameters for trial in self.oracle.get_best_trials(num_trials)]

    def search_space_summary(self, extended: bool = False) -> None:
        """Print the search space."""
        reporting.search_space_summary(self.oracle.get_space())

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best `num_trials` trials with their hyperparameters and scores."""
        reporting.results_summary(self.oracle, self.project_dir, num_trials)

    @property
    def remaining_trials(self) -> int | None:
        return self.oracle.remaining_trials()

    def get_state(self) -> dict[str, Any]:
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Nothing of the tuner's own to restore (the oracle holds the search)."""

    def save(self) -> None:
        self.oracle.save()
        save_json(self._get_tuner_fname(), self.get_state())

    def reload(self) -> None:
        self.oracle.reload()
        self.set_state(load_json(self._get_tuner_fname()))

    @property
    def project_dir(self) -> str:
        path = os.path.join(self.directory, self.project_name)
        os.makedirs(path, exist_ok=True)
        return path

    def get_trial_dir(self, trial_id: str) -> str:
        path = os.path.join(self.project_dir, f"trial_{trial_id}")
        os.makedirs(path, exist_ok=True)
        return path

    def _get_checkpoint_fname(self, trial_id: str) -> str:
        return os.path.join(self.get_trial_dir(trial_id), CHECKPOINT)

    def _get_tuner_fname(self) -> str:
        return os.path.join(self.directory, self.project_name, f"{self.tuner_id}.json")

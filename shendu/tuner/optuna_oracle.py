"""The oracles built on optuna (`pip install 'shendu[tune]'`): a study holds the search, so that several
processes, or machines, can work on one search through optuna's storage.

Each trial is an optuna trial: `ask` gives it values (define-by-run, only active hyperparameters), `report` gets
the objective after each epoch (Hyperband's pruner), `tell` gets its score, or PRUNED or FAIL. The storage is
a journal file `optuna_journal.log` in the project directory unless `storage=` names another journal file or a
database URL ("sqlite:///search.db", "postgresql://..."). The finished trial's record (trial.json's content) is
kept in the study as a user attribute, so every worker sees every trial.

Bookkeeping in the study, by user attribute: "shendu_trial" (the finished trial's record), "shendu_worker"
(host:pid:id of the process running it) and "shendu_skip" on optuna trials that are not trials of the search:
a draw that repeated the values of an earlier trial (told the earlier value, or FAIL, and drawn again), and a
draw past max_trials when workers raced. A trial left RUNNING by a process that stopped on this host is told
FAIL when a search starts, and its values are queued again (`enqueue_trial`).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import uuid
from typing import Any

from shendu.tuner.hp_types import Boolean, Choice, Fixed, Float, Int
from shendu.tuner.hyperparameters import HyperParameters
from shendu.tuner.json_files import load_json, to_json_ready
from shendu.tuner.oracle import Oracle
from shendu.tuner.trial import Trial, TrialStatus

JOURNAL = "optuna_journal.log"
SKIP, RECORD, WORKER = "shendu_skip", "shendu_trial", "shendu_worker"


def import_optuna() -> Any:
    """optuna, or one line saying how to install it."""
    try:
        import optuna
    except ImportError:
        raise ImportError("shendu.tuner's BayesianOptimization and Hyperband need optuna: "
                          "pip install 'shendu[tune]'") from None
    return optuna


def suggest(trial: Any, hp: Any) -> Any:
    """The value of `hp` for an optuna trial: a uniform, log-uniform or stepped int/float where optuna has that
    distribution, else a categorical over the hyperparameter's values (log with a step, reverse_log)."""
    if isinstance(hp, Fixed):
        return hp.value
    if isinstance(hp, Boolean):
        return trial.suggest_categorical(hp.name, [True, False])
    if isinstance(hp, Choice):
        return trial.suggest_categorical(hp.name, list(hp.values))
    if isinstance(hp, Int):
        if hp.sampling == "linear":
            return trial.suggest_int(hp.name, hp.min_value, int(hp.values[-1]), step=hp.step)
        if hp.sampling == "log" and hp.step is None:
            return trial.suggest_int(hp.name, hp.min_value, hp.max_value, log=True)
    if isinstance(hp, Float):
        if hp.sampling == "linear" and hp.step is None:
            return trial.suggest_float(hp.name, hp.min_value, hp.max_value)
        if hp.sampling == "linear":
            return trial.suggest_float(hp.name, hp.min_value, round(hp.values[-1], 12), step=hp.step)
        if hp.sampling == "log" and hp.step is None:
            return trial.suggest_float(hp.name, hp.min_value, hp.max_value, log=True)
    return trial.suggest_categorical(hp.name, list(hp.values))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class OptunaOracle(Oracle):
    """An Oracle whose trials live in an optuna study; subclasses choose the sampler and the pruner."""

    def __init__(self, objective: Any = None, max_trials: int | None = None, seed: int | None = None,
                 hyperparameters: Any = None, allow_new_entries: bool = True, tune_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3, storage: Any = None,
                 study_name: str | None = None) -> None:
        super().__init__(objective=objective, max_trials=max_trials, hyperparameters=hyperparameters,
                         allow_new_entries=allow_new_entries, tune_new_entries=tune_new_entries, seed=seed,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials)
        import_optuna()
        self.storage = storage
        self.study_name = study_name
        self._study: Any = None
        self._live: dict[str, Any] = {}
        self._worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"

    def _make_sampler(self, optuna: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}._make_sampler is not implemented")

    def _make_pruner(self, optuna: Any) -> Any:
        return optuna.pruners.NopPruner()

    def _storage(self) -> Any:
        """An optuna storage: a journal file for a path (default: the project's), else the URL or object given."""
        optuna = import_optuna()
        where = self.storage if self.storage is not None else os.path.join(self._project_dir, JOURNAL)
        if isinstance(where, (str, os.PathLike)) and "://" not in os.fspath(where):
            path = os.path.abspath(os.fspath(where))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
        return where

    @property
    def study(self) -> Any:
        """The optuna study of the search (created, or loaded when it exists)."""
        if self._study is None:
            optuna = import_optuna()
            optuna.logging.set_verbosity(optuna.logging.WARNING)  # the tuner prints its own line per trial
            direction = "maximize" if self.objective.direction == "max" else "minimize"
            study = optuna.create_study(storage=self._storage(), sampler=self._make_sampler(optuna),
                                        pruner=self._make_pruner(optuna), study_name=self._study_name(),
                                        direction=direction, load_if_exists=True)
            if study.direction.name.lower() != direction:
                raise ValueError(f"{type(self).__name__}: the study '{study.study_name}' in {self.storage} is to "
                                 f"{study.direction.name.lower()}, but the objective {self.objective} is to "
                                 f"{direction}; use another project_name or study_name, or overwrite=True")
            self._study = study
        return self._study

    def _study_name(self) -> str:
        return self.study_name or str(self._project_name)

    def _on_overwrite(self) -> None:
        self._study = None
        if self.storage is None:
            return  # the journal was in the project directory, which the tuner removed
        optuna = import_optuna()
        with contextlib.suppress(KeyError):
            optuna.delete_study(study_name=self._study_name(), storage=self._storage())

    def _is_real(self, frozen: Any) -> bool:
        """Whether an optuna trial is a trial of the search (not a repeat, a surplus draw or an orphan)."""
        if SKIP in frozen.user_attrs:
            return False
        return frozen.state.name != "FAIL" or RECORD in frozen.user_attrs

    def _real_trials(self, before: int | None = None) -> list:
        trials = self.study.get_trials(deepcopy=False)
        return [t for t in trials if self._is_real(t) and (before is None or t.number < before)]

    def on_search_begin(self) -> None:
        """Tell FAIL the trials that a stopped process on this host left RUNNING, and queue their values again."""
        optuna = import_optuna()
        study = self.study
        host, pid, _ = self._worker.split(":")
        for frozen in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            worker = str(frozen.user_attrs.get(WORKER, "")).split(":")
            if len(worker) != 3 or worker[0] != host or frozen.user_attrs.get(SKIP):
                continue
            if (worker[1] == pid and ":".join(worker) != self._worker) or \
                    (worker[1] != pid and not _alive(int(worker[1]))):
                study.tell(frozen.number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
                study.enqueue_trial(frozen.params, user_attrs={"shendu_retry_of": frozen.number})

    def _new_trial(self, tuner_id: str) -> Trial:
        optuna = import_optuna()
        study = self.study
        for _ in range(self._max_collisions + 1):
            if self.max_trials and len(self._real_trials()) >= self.max_trials:
                return self._start_trial(tuner_id, "", TrialStatus.STOPPED, None)
            ask = study.ask()
            if self.max_trials and len(self._real_trials(before=ask.number)) >= self.max_trials:
                ask.set_user_attr(SKIP, "beyond max_trials")
                study.tell(ask, state=optuna.trial.TrialState.FAIL)
                return self._start_trial(tuner_id, "", TrialStatus.STOPPED, None)
            values = self._suggest(ask)
            twin = self._twin(ask)
            if twin is None:
                break
            ask.set_user_attr(SKIP, f"repeats trial {twin.number}")
            if twin.state.name == "COMPLETE":
                study.tell(ask, twin.value)
            else:
                study.tell(ask, state=optuna.trial.TrialState.FAIL)
        else:
            return self._start_trial(tuner_id, "", TrialStatus.STOPPED, None)  # the space is exhausted
        ask.set_user_attr(WORKER, self._worker)
        trial_id = self._trial_id(ask.number)
        self._live[trial_id] = ask
        return self._start_trial(tuner_id, trial_id, TrialStatus.RUNNING, values)

    def _suggest(self, ask: Any) -> dict[str, Any]:
        """Values for the active hyperparameters, in the order of the space (a parent before its children)."""
        hps = self.hyperparameters.copy()
        hps.values = {}
        for hp in hps.space:
            if hps.is_active(hp):
                hps.values[hp.name] = suggest(ask, hp)
        return hps.values

    def _twin(self, ask: Any) -> Any:
        """The earlier real trial with the same values as `ask`, if any."""
        key = json.dumps(ask.params, sort_keys=True, default=str)
        for frozen in self._real_trials():
            if frozen.number != ask.number and json.dumps(frozen.params, sort_keys=True, default=str) == key:
                return frozen
        return None

    def report_intermediate(self, trial_id: str, value: float, step: int) -> bool:
        """Report the objective after `step` epochs; whether the pruner stops the trial."""
        ask = self._live.get(trial_id)
        if ask is None:
            return False
        ask.report(value, step)
        return bool(ask.should_prune())

    def _finish(self, trial: Trial) -> None:
        optuna = import_optuna()
        ask = self._live.pop(trial.trial_id, None)
        if ask is None:
            return
        ask.set_user_attr(RECORD, to_json_ready(trial.get_state()))
        state = optuna.trial.TrialState
        if trial.status == TrialStatus.COMPLETED and trial.pruned:
            self.study.tell(ask, state=state.PRUNED)
        elif trial.status == TrialStatus.COMPLETED:
            self.study.tell(ask, float(trial.score))
        else:
            self.study.tell(ask, state=state.FAIL)

    def _sync(self) -> None:
        """Add the trials other workers finished (their records in the study) to `self.trials`."""
        for frozen in self._real_trials():
            record = frozen.user_attrs.get(RECORD)
            if record and record.get("trial_id") not in self._live:
                self.trials[record["trial_id"]] = Trial.from_state(record)

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        self._sync()
        return super().get_best_trials(num_trials)

    def remaining_trials(self) -> int | None:
        return None if not self.max_trials else self.max_trials - len(self._real_trials())

    def get_state(self) -> dict[str, Any]:
        storage = self.storage if isinstance(self.storage, (str, os.PathLike, type(None))) else repr(self.storage)
        return {"hyperparameters": self.hyperparameters.get_config(), "seed": self.seed,
                "study_name": self._study_name(), "storage": None if storage is None else os.fspath(storage)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.hyperparameters = HyperParameters.from_config(state["hyperparameters"])
        self.seed = state["seed"]

    def reload(self) -> None:
        """The space from oracle.json; the trials from the study."""
        path = self._get_oracle_fname()
        if os.path.exists(path):
            self.set_state(load_json(path))
        self.trials = {}
        self._sync()

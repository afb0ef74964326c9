"""Oracle: decides the hyperparameter values of each trial and keeps the record of the search.

`create_trial` hands out a trial (retries first, then `populate_space`), `update_trial` records its metrics,
`end_trial` scores it and decides on a retry. The record is KerasTuner's layout in `directory/project_name`:
`trial_<id>/trial.json` per trial and `oracle.json` for the oracle's own state, written after every change, so
a new tuner on the same directory (overwrite=False) continues the search: trials that were running when the
process stopped are run again, completed ones are not repeated.
"""

from __future__ import annotations

import collections
import glob
import hashlib
import json
import os
import random
from typing import Any

import numpy as np

from shendu.tuner import objective as obj_module
from shendu.tuner.hyperparameters import HyperParameters
from shendu.tuner.json_files import load_json, save_json
from shendu.tuner.reporting import Display
from shendu.tuner.trial import Trial, TrialStatus


class Oracle:
    """The base of the search algorithms; a subclass implements `populate_space(trial_id)`, which returns
    {"status": RUNNING, "values": {...}}, or the status IDLE or STOPPED without values."""

    def __init__(self, objective: Any = None, max_trials: int | None = None,
                 hyperparameters: HyperParameters | None = None, allow_new_entries: bool = True,
                 tune_new_entries: bool = True, seed: int | None = None, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3) -> None:
        self.objective = obj_module.create_objective(objective)
        if max_trials is not None and (isinstance(max_trials, bool) or int(max_trials) != max_trials
                                       or max_trials < 1):
            raise ValueError(f"{type(self).__name__}: max_trials must be a positive int or None, got {max_trials!r}")
        self.max_trials = None if max_trials is None else int(max_trials)
        if not hyperparameters and not (tune_new_entries and allow_new_entries):
            raise ValueError(f"{type(self).__name__}: with tune_new_entries=False or allow_new_entries=False, give "
                             "the search space through the `hyperparameters` argument")
        self.hyperparameters = hyperparameters or HyperParameters()
        self.allow_new_entries = allow_new_entries
        self.tune_new_entries = tune_new_entries
        self.trials: dict[str, Trial] = {}
        self.ongoing_trials: dict[str, Trial] = {}
        self.start_order: list[str] = []
        self.end_order: list[str] = []
        self._run_times: dict[str, int] = collections.defaultdict(int)
        self._retry_queue: list[str] = []
        self.tuner_ids: set[str] = set()
        self.seed = random.randint(1, 10000) if seed is None else int(seed)
        self._seed_state = self.seed
        self._tried_so_far: set[str] = set()
        self._id_to_hash: dict[str, str] = {}
        self._max_collisions = 20
        self.max_retries_per_trial = max_retries_per_trial
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self._directory: str | None = None
        self._project_name: str | None = None
        self._display = Display(self)

    @property
    def verbose(self) -> int:
        return self._display.verbose

    @verbose.setter
    def verbose(self, value: Any) -> None:
        self._display.verbose = 1 if value == "auto" else int(value)

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """The values of a new trial: {"status": "RUNNING", "values": {...}} or {"status": "STOPPED"}."""
        raise NotImplementedError(f"{type(self).__name__}.populate_space(trial_id) is not implemented")

    def on_search_begin(self) -> None:
        """Called when a search starts (the optuna oracles fail the trials a stopped process left running)."""

    def _on_overwrite(self) -> None:
        """Forget an earlier search: the tuner has removed the project directory (overwrite=True)."""

    def score_trial(self, trial: Trial) -> None:
        """The score of a completed trial: the objective's best value over the steps it reported."""
        trial.score = trial.metrics.get_best_value(self.objective.name)
        trial.best_step = trial.metrics.get_best_step(self.objective.name)

    def create_trial(self, tuner_id: str) -> Trial:
        """A trial for the tuner `tuner_id`: its unfinished one, a trial to retry, or a new one."""
        if tuner_id in self.ongoing_trials:
            return self.ongoing_trials[tuner_id]
        self.tuner_ids.add(tuner_id)
        if self._retry_queue:
            trial = self.trials[self._retry_queue.pop()]
            trial.status = TrialStatus.RUNNING
            self.ongoing_trials[tuner_id] = trial
            self.save()
            self._display.on_trial_begin(trial)
            return trial
        return self._new_trial(tuner_id)

    def _new_trial(self, tuner_id: str) -> Trial:
        """A new trial from `populate_space`, or a STOPPED one once max_trials trials exist."""
        trial_id = self._trial_id(len(self.trials))
        if self.max_trials and len(self.trials) >= self.max_trials:
            response: dict[str, Any] = {"status": TrialStatus.STOPPED}
        else:
            response = self.populate_space(trial_id)
        return self._start_trial(tuner_id, trial_id, response["status"], response.get("values"))

    def _trial_id(self, number: int) -> str:
        """KerasTuner's trial id: the trial's number padded with zeros to the width of max_trials."""
        return f"{number:0{len(str(self.max_trials or 10))}d}"

    def _start_trial(self, tuner_id: str, trial_id: str, status: str, values: dict[str, Any] | None) -> Trial:
        """The Trial with these values; a RUNNING one is recorded, saved and announced."""
        hyperparameters = self.hyperparameters.copy()
        hyperparameters.values = dict(values or {})
        trial = Trial(hyperparameters, trial_id=trial_id, status=status)
        if trial.status == TrialStatus.RUNNING:
            self._record_values(trial)
            self.ongoing_trials[tuner_id] = trial
            self.trials[trial_id] = trial
            self.start_order.append(trial_id)
            self._save_trial(trial)
            self.save()
            self._display.on_trial_begin(trial)
        return trial

    def update_trial(self, trial_id: str, metrics: dict[str, float], step: int = 0) -> Trial:
        """Record the metrics a trial reached at `step` (the epoch; 0 for a trial without steps)."""
        trial = self.trials[trial_id]
        if self.objective.name not in metrics:
            raise ValueError(f"update_trial: the metrics of trial {trial_id} lack the objective "
                             f"'{self.objective.name}'; they have {sorted(metrics)}")
        for name, value in metrics.items():
            if not trial.metrics.exists(name):
                trial.metrics.register(name, self.objective.direction if name == self.objective.name else None)
            trial.metrics.update(name, value, step=step)
        self._save_trial(trial)
        return trial

    def end_trial(self, trial: Trial) -> None:
        """Finish a trial whose status is COMPLETED, INVALID (retried while retries last) or FAILED."""
        record = self.trials[trial.trial_id]
        record.hyperparameters, record.status, record.message = trial.hyperparameters, trial.status, trial.message
        record.history, record.pruned = trial.history, trial.pruned
        trial = record
        self.update_space(trial.hyperparameters)
        if trial.status == TrialStatus.COMPLETED:
            self.score_trial(trial)
            if trial.score is None or np.isnan(trial.score):
                trial.status = TrialStatus.INVALID
                trial.message = trial.message or f"the objective '{self.objective.name}' is NaN or missing"
        self._record_values(trial)
        self._run_times[trial.trial_id] += 1
        retried = self._retry(trial)
        if not retried:
            self.end_order.append(trial.trial_id)
        self._save_trial(trial)
        for tuner_id, ongoing in list(self.ongoing_trials.items()):
            if ongoing.trial_id == trial.trial_id:
                self.ongoing_trials.pop(tuner_id)
        self.save()
        if not retried:
            self._finish(trial)
        self._display.on_trial_end(trial)
        if not retried:
            self._check_consecutive_failures()

    def _finish(self, trial: Trial) -> None:
        """Called once per trial when it is over (not when it will be retried): the optuna oracles tell optuna."""

    def _retry(self, trial: Trial) -> bool:
        if trial.status != TrialStatus.INVALID:
            return False
        allowed = self.max_retries_per_trial + 1
        if self._run_times[trial.trial_id] >= allowed:
            trial.status = TrialStatus.FAILED
            return False
        if self.verbose:
            print(f"Trial {trial.trial_id} failed {self._run_times[trial.trial_id]} times; "
                  f"{allowed - self._run_times[trial.trial_id]} retries left.")
        self._retry_queue.append(trial.trial_id)
        return True

    def _check_consecutive_failures(self) -> None:
        streak = 0
        for trial_id in self.end_order:
            trial = self.trials[trial_id]
            streak = streak + 1 if trial.status == TrialStatus.FAILED else 0
            if streak >= self.max_consecutive_failed_trials:
                raise RuntimeError(f"shendu.tuner: {streak} consecutive trials failed "
                                   f"(max_consecutive_failed_trials={self.max_consecutive_failed_trials}); the last "
                                   f"error:\n{trial.message or ''}")

    def get_space(self) -> HyperParameters:
        """A copy of the search space."""
        return self.hyperparameters.copy()

    def update_space(self, hyperparameters: HyperParameters) -> None:
        """Add the hyperparameters a build declared that the space does not hold yet."""
        new = [hp for hp in hyperparameters.space if not self.hyperparameters._exists(hp.name, hp.conditions)]
        if new and not self.allow_new_entries:
            raise RuntimeError(f"shendu.tuner: allow_new_entries=False, but the hypermodel declared {new}")
        if self.tune_new_entries:
            self.hyperparameters.merge(new)

    def get_trial(self, trial_id: str) -> Trial:
        return self.trials[trial_id]

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """The completed trials, best score first (then the others, to fill `num_trials`)."""
        done = [t for t in self.trials.values() if t.status == TrialStatus.COMPLETED and t.score is not None]
        ranked = sorted(done, key=lambda t: t.score, reverse=self.objective.direction == "max")
        if len(ranked) < num_trials:
            ranked += [t for t in self.trials.values() if t not in ranked]
        return ranked[:num_trials]

    def remaining_trials(self) -> int | None:
        return None if not self.max_trials else self.max_trials - len(self.trials)

    def get_state(self) -> dict[str, Any]:
        return {"ongoing_trials": {tid: t.trial_id for tid, t in self.ongoing_trials.items()},
                "hyperparameters": self.hyperparameters.get_config(), "start_order": self.start_order,
                "end_order": self.end_order, "run_times": dict(self._run_times), "retry_queue": self._retry_queue,
                "seed": self.seed, "seed_state": self._seed_state, "tried_so_far": sorted(self._tried_so_far),
                "id_to_hash": self._id_to_hash}

    def set_state(self, state: dict[str, Any]) -> None:
        self.ongoing_trials = {tid: self.trials[trial_id] for tid, trial_id in state["ongoing_trials"].items()
                               if trial_id in self.trials}
        self.hyperparameters = HyperParameters.from_config(state["hyperparameters"])
        self.start_order = list(state["start_order"])
        self.end_order = list(state["end_order"])
        self._run_times = collections.defaultdict(int, state["run_times"])
        self._retry_queue = list(state["retry_queue"])
        self.seed = state["seed"]
        self._seed_state = state["seed_state"]
        self._tried_so_far = set(state["tried_so_far"])
        self._id_to_hash = dict(state["id_to_hash"])

    def _set_project_dir(self, directory: str, project_name: str) -> None:
        self._directory = str(directory)
        self._project_name = project_name

    @property
    def _project_dir(self) -> str:
        if self._directory is None:
            raise RuntimeError(f"{type(self).__name__}: no project directory yet (a Tuner sets it)")
        path = os.path.join(self._directory, str(self._project_name))
        os.makedirs(path, exist_ok=True)
        return path

    def _get_oracle_fname(self) -> str:
        return os.path.join(self._project_dir, "oracle.json")

    def _get_trial_dir(self, trial_id: str) -> str:
        path = os.path.join(self._project_dir, f"trial_{trial_id}")
        os.makedirs(path, exist_ok=True)
        return path

    def _save_trial(self, trial: Trial) -> None:
        trial.save(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"))

    def save(self) -> None:
        save_json(self._get_oracle_fname(), self.get_state())

    def reload(self) -> None:
        """Read the trials and the oracle's state back from the project directory; running trials get retried."""
        for path in sorted(glob.glob(os.path.join(glob.escape(self._project_dir), "trial_*", "trial.json"))):
            trial = Trial.load(path)
            self.trials[trial.trial_id] = trial
        try:
            self.set_state(load_json(self._get_oracle_fname()))
        except (KeyError, TypeError) as err:
            raise RuntimeError(f"shendu.tuner: cannot continue the search in {self._project_dir} ({err!r}); use "
                               "another project_name or pass overwrite=True") from None
        for trial in self.ongoing_trials.values():
            self._retry_queue.append(trial.trial_id)
        self.ongoing_trials = {}

    def _compute_values_hash(self, values: dict[str, Any]) -> str:
        text = json.dumps({k: values[k] for k in sorted(values)}, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def _duplicate(self, values: dict[str, Any]) -> bool:
        return self._compute_values_hash(values) in self._tried_so_far

    def _record_values(self, trial: Trial) -> None:
        hps = trial.hyperparameters
        hps.ensure_active_values()
        new = self._compute_values_hash(hps.values)
        self._tried_so_far.add(new)
        old = self._id_to_hash.get(trial.trial_id)
        if old is not None and old != new:
            self._tried_so_far.discard(old)
        self._id_to_hash[trial.trial_id] = new

    def _random_values(self) -> dict[str, Any] | None:
        """Values drawn at random for the active hyperparameters, not tried before; None after 20 collisions."""
        for _ in range(self._max_collisions + 1):
            hps = HyperParameters()
            for hp in self.hyperparameters.space:
                hps.merge([hp])
                if hps.is_active(hp):
                    hps.values[hp.name] = hp.random_sample(self._seed_state)
                    self._seed_state += 1
            if not self._duplicate(hps.values):
                return hps.values
        return None

"""The Tuner with real shendu models (NumPy alone): it finds the clearly best learning rate, honours
EarlyStopping (the objective is the best epoch's value and its weights are kept), prints its progress and
summaries, retries and fails trials as KerasTuner does, and continues a stopped search without repeats."""

import json
import os

import numpy as np
import pytest

import shendu.tuner as kt
from shendu import keras
from tests.tuner.problems import Grid, Quadratic, build_linear, linear_data, tiny_model


def test_grid_search_finds_the_clearly_best_learning_rate(tmp_path, capsys):
    (x, y), (xv, yv) = linear_data()
    keras.utils.set_random_seed(0)
    tuner = kt.GridSearch(build_linear, objective="val_loss", directory=tmp_path, project_name="lr")
    tuner.search(x, y, epochs=4, batch_size=16, validation_data=(xv, yv), verbose=2)
    best_trial = tuner.oracle.get_best_trials(1)[0]
    assert tuner.get_best_hyperparameters(1)[0]["lr"] == 0.3
    scores = {t.hyperparameters["lr"]: t.score for t in tuner.oracle.trials.values()}
    assert scores[0.3] < 0.1 * min(scores[1e-3], scores[1e-4])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Trial ")]
    assert len(lines) == 3  # one line per trial: its values, its objective and the best so far
    assert lines[-1].startswith("Trial 3 COMPLETED") and "val_loss=" in lines[-1] and "lr=0.3" in lines[-1]
    assert f"best val_loss={best_trial.score:.5g}" in lines[-1]
    model = tuner.get_best_models(1)[0]  # rebuilt with the best epoch's weights from the trial's checkpoint
    assert model.evaluate(xv, yv, verbose=0) == pytest.approx(best_trial.score, rel=1e-5)
    record = json.loads((tmp_path / "lr" / f"trial_{best_trial.trial_id}" / "trial.json").read_text())
    assert record["status"] == "COMPLETED" and record["hyperparameters"]["values"] == {"lr": 0.3}
    assert record["score"] == pytest.approx(best_trial.score)
    assert len(record["history"][0]["val_loss"]) == 4 and record["best_step"] == int(np.argmin(
        record["history"][0]["val_loss"]))
    assert os.path.exists(os.path.join(tmp_path, "lr", "oracle.json"))


def test_early_stopping_is_honoured_and_the_objective_is_the_best_epoch(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(48, 1)).astype("float32")
    xv = rng.uniform(-1, 1, size=(16, 1)).astype("float32")

    def build(hp):
        model = keras.Sequential([keras.layers.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(hp.Fixed("lr", 0.1)), loss="mse")
        return model

    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=1, directory=tmp_path, project_name="es")
    # validation targets of the opposite sign: val_loss only grows, so EarlyStopping stops after patience epochs
    tuner.search(x, 2 * x, epochs=20, validation_data=(xv, -2 * xv), verbose=0,
                 callbacks=[keras.callbacks.EarlyStopping(patience=2)])
    trial = tuner.oracle.get_best_trials(1)[0]
    val_loss = trial.history[0]["val_loss"]
    assert len(val_loss) == 3 and val_loss[0] < val_loss[1] < val_loss[2]
    assert trial.best_step == 0 and trial.score == pytest.approx(val_loss[0])
    model = tuner.get_best_models()[0]
    assert model.evaluate(xv, -2 * xv, verbose=0) == pytest.approx(val_loss[0], rel=1e-5)


def test_hypermodel_fit_may_tune_batch_size_and_executions_average(tmp_path):
    (x, y), (xv, yv) = linear_data()
    seen = []

    class Tuned(kt.HyperModel):
        def build(self, hp):
            return build_linear(hp)

        def fit(self, hp, model, *args, **kwargs):
            batch_size = hp.Choice("batch_size", [8, 48])
            seen.append((batch_size, len(kwargs["callbacks"])))
            return model.fit(*args, batch_size=batch_size, **kwargs)

    tuner = kt.RandomSearch(Tuned(), objective="val_loss", max_trials=2, seed=3, executions_per_trial=2,
                            directory=tmp_path)
    tuner.search(x, y, epochs=2, validation_data=(xv, yv), verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(seen) == 4 and {n for _, n in seen} == {3}  # the user's callback + the tuner's two
    assert "batch_size" in [hp.name for hp in tuner.oracle.get_space().space]  # declared in fit, then tuned
    for trial in tuner.oracle.trials.values():
        assert len(trial.history) == 2  # one per execution
        bests = [min(h["val_loss"]) for h in trial.history]
        assert trial.score == pytest.approx(np.mean(bests))


def test_objective_from_fit_float_dict_and_summaries(tmp_path, capsys):
    tuner = kt.GridSearch(Grid(), objective=kt.Objective("score", "min"), max_trials=3, directory=tmp_path,
                          project_name="sum")
    tuner.search_space_summary()
    tuner.search(verbose=0)
    tuner.results_summary(2)
    out = capsys.readouterr().out
    assert "Search space summary\nDefault search space size: 2\na (Int)" in out
    assert "b (Choice)\n{'default': None, 'conditions': [], 'values': [10, 20, 30, 40], 'ordered': True}" in out
    assert f"Results in {os.path.join(str(tmp_path), 'sum')}\nShowing 2 best trials" in out
    assert 'Objective(name="score", direction="min")' in out
    summary = out.split("Results summary")[1]
    assert summary.index("Score: 2.0") < summary.index("Score: 3.0")
    assert "Trial 0 summary\nHyperparameters:\na: 1\nb: 10\nScore: 2.0" in summary
    assert "Trial 2 summary" not in summary


def test_failed_trials_are_retried_then_counted_and_fatal_errors_stop(tmp_path, capsys):
    attempts = []

    def build(hp):
        attempts.append(hp["k"] if "k" in hp else hp.Int("k", 0, 9))
        if len(attempts) > 1:
            raise RuntimeError("build broke")
        return tiny_model()

    class Broken(kt.HyperModel):
        def build(self, hp):
            return build(hp)

        def fit(self, hp, model, *a, **k):
            return 1.0

    tuner = kt.RandomSearch(Broken(), max_trials=10, seed=0, max_retries_per_trial=1,
                            max_consecutive_failed_trials=2, directory=tmp_path)
    with pytest.raises(RuntimeError, match="2 consecutive trials failed"):
        tuner.search()
    statuses = [t.status for t in tuner.oracle.trials.values()]
    assert statuses == ["FAILED", "FAILED"] and len(attempts) == 1 + 4  # initial build, 2 trials x 2 runs
    out = capsys.readouterr().out
    assert "retries left" in out and "RuntimeError: build broke" in out

    class NoModel(kt.HyperModel):
        def build(self, hp):
            hp.Int("k", 0, 3)
            return None

    with pytest.raises(kt.errors.FatalTypeError, match="must return a shendu model"):
        kt.RandomSearch(NoModel(), max_trials=2, directory=tmp_path, project_name="nm").search()
    with pytest.raises(kt.errors.FatalValueError, match="lacks the objective 'val_accuracy'"):
        kt.GridSearch(Grid(), objective="val_accuracy", directory=tmp_path, project_name="d").search()
    with pytest.raises(ValueError, match="cannot tell whether to minimize or maximize"):
        kt.RandomSearch(Grid(), objective="score", directory=tmp_path)


@pytest.mark.parametrize("tuner_class, problem", [(kt.RandomSearch, Quadratic), (kt.GridSearch, Grid)])
def test_a_stopped_search_continues_without_repeating_trials(tmp_path, tuner_class, problem):
    kwargs = dict(max_trials=6, directory=tmp_path, project_name="resume", seed=5)
    if problem is Grid:
        kwargs["objective"] = kt.Objective("score", "min")
    first = problem(crash_on_call=4)
    with pytest.raises(KeyboardInterrupt):
        tuner_class(first, **kwargs).search(verbose=0)  # 3 trials done, the 4th running when the process "dies"
    second = problem()
    tuner = tuner_class(second, **kwargs)
    assert tuner.remaining_trials == 2  # the running trial is retried, then two new ones
    tuner.search(verbose=0)
    key = (lambda c: tuple(sorted(c.items()))) if problem is Quadratic else (lambda c: c)
    assert key(second.calls[0]) == key(first.calls[3])  # the interrupted trial first
    assert not {key(c) for c in second.calls} & {key(c) for c in first.calls[:3]}
    trials = list(tuner.oracle.trials.values())
    values = {tuple(sorted(t.hyperparameters.values.items())) for t in trials}
    assert len(trials) == 6 and len(values) == 6 and all(t.status == "COMPLETED" for t in trials)
    tuner.search(verbose=0)  # a finished search stays finished
    assert len(second.calls) == 3


def test_overwrite_starts_afresh_and_bad_arguments(tmp_path):
    kt.RandomSearch(Quadratic(), max_trials=2, directory=tmp_path, project_name="p").search(verbose=0)
    model = Quadratic()
    kt.RandomSearch(model, max_trials=2, directory=tmp_path, project_name="p", overwrite=True).search(verbose=0)
    assert len(model.calls) == 2
    with pytest.raises(TypeError, match=r"unexpected arguments \['max_epoch'\]"):
        kt.RandomSearch(Quadratic(), max_epoch=3, directory=tmp_path)
    with pytest.raises(ValueError, match="hypermodel=None"):
        kt.RandomSearch(None, directory=tmp_path)
    with pytest.raises(ValueError, match="max_trials must be a positive int"):
        kt.RandomSearch(Quadratic(), max_trials=0, directory=tmp_path)


def test_a_tuner_subclass_may_tune_anything(tmp_path):
    class Blackbox(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Float("x", -2.0, 2.0)
            return x * x + 2 * x + 1

    tuner = Blackbox(max_trials=30, seed=0, directory=tmp_path)
    tuner.search(verbose=0)
    assert tuner.get_best_hyperparameters()[0]["x"] == pytest.approx(-1.0, abs=0.15)


def test_plot_trials_writes_a_png(tmp_path, matplotlib):
    tuner = kt.RandomSearch(Quadratic(), max_trials=5, seed=2, directory=tmp_path)
    tuner.search(verbose=0)
    figure = kt.plot_trials(tuner, tmp_path / "trials.png")
    assert (tmp_path / "trials.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = figure.axes[0].get_lines()
    scores = sorted((int(t.trial_id), t.score) for t in tuner.oracle.trials.values())
    assert list(lines[0].get_ydata()) == pytest.approx([s for _, s in scores])
    assert list(lines[-1].get_ydata()) == pytest.approx(np.minimum.accumulate([s for _, s in scores]))

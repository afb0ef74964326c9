"""BayesianOptimization and Hyperband on optuna: they find the optimum of a synthetic problem, Hyperband
prunes trials that fall behind, a stopped search continues without repeats, and two processes share one
search through a journal file."""

import os
import subprocess
import sys
import textwrap

import pytest

import shendu.tuner as kt
from shendu.tuner.hyperband import hyperband_trials
from tests.tuner.problems import Quadratic, tiny_model


def test_bayesian_optimization_finds_the_optimum(tmp_path, optuna):
    tuner = kt.BayesianOptimization(Quadratic(), max_trials=25, num_initial_points=6, seed=0, directory=tmp_path,
                                    project_name="bo")
    tuner.search(verbose=0)
    best = tuner.get_best_hyperparameters()[0]
    assert best["units"] == 16 and best["x"] == pytest.approx(0.3, abs=0.05)
    study = tuner.oracle.study
    assert isinstance(study.sampler, optuna.samplers.TPESampler)
    assert len([t for t in study.trials if t.state.name == "COMPLETE"]) == 25
    assert os.path.exists(tmp_path / "bo" / "optuna_journal.log")
    assert tuner.oracle.get_best_trials()[0].score == pytest.approx(study.best_value)


def test_bayesian_a_stopped_search_continues_without_repeats(tmp_path, optuna):
    kwargs = dict(max_trials=6, seed=1, num_initial_points=2, directory=tmp_path, project_name="resume")
    first = Quadratic(crash_on_call=4)
    with pytest.raises(KeyboardInterrupt):
        kt.BayesianOptimization(first, **kwargs).search(verbose=0)
    second = Quadratic()
    tuner = kt.BayesianOptimization(second, **kwargs)
    tuner.search(verbose=0)
    assert second.calls[0] == first.calls[3]  # the interrupted trial's values are run again, first
    assert len(second.calls) == 3
    trials = tuner.oracle.get_best_trials(10)
    values = {tuple(sorted(t.hyperparameters.values.items())) for t in trials}
    assert len(trials) == 6 and len(values) == 6 and all(t.status == "COMPLETED" for t in trials)
    states = sorted(t.state.name for t in tuner.oracle.study.trials)
    assert states == ["COMPLETE"] * 6 + ["FAIL"]  # the interrupted optuna trial


def test_hyperband_prunes_trials_that_fall_behind(tmp_path, optuna):
    class Epochs(kt.HyperModel):
        """A custom training loop: the objective after epoch e is (x - 0.3)^2 + 1 / (e + 1)."""

        def build(self, hp):
            hp.Float("x", 0.0, 1.0)
            return tiny_model()

        def fit(self, hp, model, *args, epochs=1, callbacks=(), **kwargs):
            for callback in callbacks:
                callback.set_model(model)
            model.stop_training = False
            history = {"val_loss": []}
            for epoch in range(epochs):
                history["val_loss"].append((hp["x"] - 0.3) ** 2 + 1 / (epoch + 1))
                for callback in callbacks:
                    callback.on_epoch_end(epoch, {"val_loss": history["val_loss"][-1]})
                if model.stop_training:
                    break
            return {"val_loss": min(history["val_loss"]), "epochs": len(history["val_loss"])}

    tuner = kt.Hyperband(Epochs(), objective="val_loss", max_epochs=9, factor=3, seed=0, directory=tmp_path)
    tuner.search(epochs=100, verbose=0)
    trials = tuner.oracle.get_best_trials(100)
    assert len(trials) == hyperband_trials(9, 3) == tuner.oracle.max_trials
    pruned = [t for t in trials if t.pruned]
    full = [t for t in trials if not t.pruned]
    assert pruned and full
    assert all(t.metrics.get_best_value("epochs") <= 9 for t in pruned)
    assert sum(t.metrics.get_best_value("epochs") < 9 for t in pruned) >= len(trials) // 2  # stopped early
    assert all(t.metrics.get_best_value("epochs") == 9 for t in full)  # search's epochs=100 became max_epochs
    assert sum(t.state.name == "PRUNED" for t in tuner.oracle.study.trials) == len(pruned)
    best = tuner.get_best_hyperparameters()[0]
    assert best["x"] == pytest.approx(0.3, abs=0.1)


def test_hyperband_with_a_real_model_stops_fit_cleanly(tmp_path, optuna):
    import numpy as np

    from shendu import keras

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(32, 1)).astype("float32")

    def build(hp):
        model = keras.Sequential([keras.layers.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(hp.Float("lr", 1e-4, 0.3, sampling="log")), loss="mse")
        return model

    tuner = kt.Hyperband(build, objective="val_loss", max_epochs=4, factor=2, seed=1, directory=tmp_path)
    tuner.search(x, 2 * x, validation_split=0.25, verbose=0)
    trials = tuner.oracle.get_best_trials(100)
    assert len(trials) == hyperband_trials(4, 2)
    assert any(t.pruned and len(t.history[0]["val_loss"]) < 4 for t in trials)
    best = trials[0]
    model = tuner.get_best_models()[0]
    assert model.evaluate(x[24:], 2 * x[24:], verbose=0) == pytest.approx(best.score, rel=1e-5)


WORKER = textwrap.dedent("""
    import os, sys, time
    import shendu.tuner as kt
    from tests.tuner.problems import tiny_model

    class Slow(kt.HyperModel):
        def build(self, hp):
            hp.Float("x", 0.0, 1.0)
            return tiny_model()

        def fit(self, hp, model, *args, **kwargs):
            time.sleep(0.1)
            return (hp["x"] - 0.3) ** 2

    directory, journal, me, other = sys.argv[1:]
    tuner = kt.BayesianOptimization(Slow(), max_trials=10, seed=int(me), directory=directory,
                                    project_name="shared", storage=journal, study_name="one_search")
    open(os.path.join(directory, f"ready{me}"), "w").close()
    while not os.path.exists(os.path.join(directory, f"ready{other}")):
        time.sleep(0.01)
    tuner.search(verbose=0)
""")


def test_two_processes_share_one_search_through_a_journal_file(tmp_path, optuna):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    journal = str(tmp_path / "search.journal")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    workers = [subprocess.Popen([sys.executable, str(script), str(tmp_path), journal, me, other], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for me, other in (("1", "2"), ("2", "1"))]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    study = optuna.load_study(study_name="one_search", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(journal)))
    done = [t for t in study.trials if t.state.name == "COMPLETE" and "shendu_skip" not in t.user_attrs]
    assert len(done) == 10 and len(study.trials) == 10
    pids = {t.user_attrs["shendu_worker"].split(":")[1] for t in done}
    assert pids == {str(w.pid) for w in workers}  # both processes ran trials
    ids = sorted(t.user_attrs["shendu_trial"]["trial_id"] for t in done)
    assert ids == [f"{n:02d}" for n in range(10)]
    tuner = kt.BayesianOptimization(Quadratic(), max_trials=10, directory=tmp_path, project_name="shared",
                                    storage=journal, study_name="one_search")
    assert tuner.remaining_trials == 0 and len(tuner.oracle.get_best_trials(20)) == 10


def test_without_optuna_one_line_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r"need optuna: pip install 'shendu\[tune\]'"):
        kt.BayesianOptimization(Quadratic(), directory=tmp_path)
    with pytest.raises(ImportError, match=r"need optuna"):
        kt.Hyperband(Quadratic(), directory=tmp_path)

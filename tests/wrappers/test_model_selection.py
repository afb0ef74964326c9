"""The wrappers inside scikit-learn: clone, tags, check_is_fitted, GridSearchCV (the same scores as a hand-written
loop over the same folds), RandomizedSearchCV, cross_val_score, cross_validate and a Pipeline with StandardScaler."""

import numpy as np
import pytest

from shendu.wrappers import KerasClassifier, KerasRegressor
from tests.wrappers.helpers import blobs, linear, mlp, regression


def classifier(**kwargs):
    settings = {"optimizer": "adam", "optimizer__learning_rate": 0.05, "epochs": 2, "batch_size": 16, "verbose": 0,
                "random_state": 0, **kwargs}
    return KerasClassifier(mlp, **settings)


def test_clone_copies_the_parameters_and_drops_the_fitted_state(sklearn):
    from sklearn.base import clone

    X, y = blobs()
    clf = classifier(model__units=5).fit(X, y)
    copy = clone(clf)
    assert copy.get_params()["model__units"] == 5 and copy.get_params()["optimizer__learning_rate"] == 0.05
    assert not hasattr(copy, "model_") and hasattr(clf, "model_")


def test_tags_and_check_is_fitted(sklearn):
    from sklearn.base import is_classifier, is_regressor
    from sklearn.exceptions import NotFittedError
    from sklearn.utils import get_tags
    from sklearn.utils.validation import check_is_fitted

    clf = classifier()
    assert is_classifier(clf) and is_regressor(KerasRegressor(linear))
    assert get_tags(clf).classifier_tags.poor_score and get_tags(clf).non_deterministic
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict(np.zeros((2, 4)))
    X, y = blobs()
    check_is_fitted(clf.fit(X, y))


def test_score_equals_sklearn_metrics_of_predict(sklearn):
    from sklearn.metrics import accuracy_score, r2_score

    X, y = blobs()
    weights = np.linspace(0.5, 2, len(y))
    clf = classifier().fit(X, y)
    assert clf.score(X, y) == pytest.approx(accuracy_score(y, clf.predict(X)))
    assert clf.score(X, y, sample_weight=weights) == pytest.approx(accuracy_score(y, clf.predict(X),
                                                                                  sample_weight=weights))
    Xr, yr = regression()
    reg = KerasRegressor(linear, loss="mse", epochs=2, verbose=0, random_state=0).fit(Xr, yr)
    assert reg.score(Xr, yr) == pytest.approx(r2_score(yr, reg.predict(Xr)))
    assert reg.score(Xr, yr, sample_weight=weights) == pytest.approx(r2_score(yr, reg.predict(Xr),
                                                                             sample_weight=weights))


def test_grid_search_gives_the_scores_of_a_hand_written_loop_over_the_same_folds(sklearn):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    X, y = blobs(48)
    grid = {"model__units": [4, 8], "optimizer__learning_rate": [0.01, 0.1]}
    folds = list(StratifiedKFold(n_splits=3).split(X, y))
    search = GridSearchCV(classifier(), grid, cv=folds).fit(X, y)
    for i, params in enumerate(search.cv_results_["params"]):
        by_hand = []
        for train, test in folds:
            clf = classifier(**params).fit(X[train], y[train])
            by_hand.append(np.mean(clf.predict(X[test]) == y[test]))
        np.testing.assert_allclose([search.cv_results_[f"split{k}_test_score"][i] for k in range(3)], by_hand)
    assert search.best_estimator_.model_.layers[0].units == search.best_params_["model__units"]
    assert len(set(search.cv_results_["mean_test_score"])) > 1  # the grid changes something


def test_randomized_search_cross_val_score_and_cross_validate(sklearn):
    from sklearn.model_selection import RandomizedSearchCV, cross_val_score, cross_validate

    X, y = blobs()
    scores = cross_val_score(classifier(), X, y, cv=3)
    assert scores.shape == (3,) and ((scores >= 0) & (scores <= 1)).all()
    np.testing.assert_allclose(cross_val_score(classifier(), X, y, cv=3), scores)  # random_state: repeatable
    result = cross_validate(classifier(), X, y, cv=3, return_train_score=True, return_estimator=True)
    np.testing.assert_allclose(result["test_score"], scores)
    assert all(est.n_features_in_ == 4 for est in result["estimator"])
    search = RandomizedSearchCV(classifier(), {"model__units": [2, 4, 8, 16], "epochs": [1, 2]}, n_iter=3, cv=2,
                                random_state=0).fit(X, y)
    assert len(search.cv_results_["params"]) == 3 and search.best_params_["model__units"] in (2, 4, 8, 16)


def test_pipeline_with_standard_scaler_and_string_labels(sklearn):
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = blobs(90)
    X = X * 50 + 200  # far from standardized: the scaler matters
    labels = np.array(["low", "mid", "high"])[y]
    pipe = make_pipeline(StandardScaler(), classifier(epochs=20))
    pipe.fit(X, labels)
    assert set(pipe.predict(X)) <= {"low", "mid", "high"} and pipe.score(X, labels) > 0.8
    assert cross_val_score(pipe, X, labels, cv=3).shape == (3,)
    search = GridSearchCV(pipe, {"kerasclassifier__model__units": [4, 8]}, cv=2).fit(X, labels)
    best = search.best_params_["kerasclassifier__model__units"]
    assert search.best_estimator_[-1].get_params()["model__units"] == best


def test_regressor_in_cross_val_score(sklearn):
    from sklearn.model_selection import KFold, cross_val_score

    X, y = regression()
    reg = KerasRegressor(linear, loss="mse", optimizer="adam", optimizer__learning_rate=0.1, epochs=20, batch_size=16,
                         verbose=0, random_state=0)
    scores = cross_val_score(reg, X, y, cv=KFold(3))
    assert (scores > 0.5).all()

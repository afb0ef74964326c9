"""KerasClassifier and KerasRegressor with NumPy alone: parameters, routing, label encoding, fit/predict/score,
warm start and partial_fit (SciKeras's behaviour)."""

import numpy as np
import pytest

from shendu import keras, optimizers
from shendu.wrappers import KerasClassifier, KerasRegressor
from shendu.wrappers.scores import accuracy_score, r2_score
from tests.wrappers.helpers import blobs, linear, mlp, regression


def test_get_params_returns_the_constructor_arguments_unchanged_and_routed_ones():
    callbacks = [keras.callbacks.EarlyStopping(patience=2)]
    clf = KerasClassifier(mlp, epochs=3, callbacks=callbacks, model__units=16, optimizer__learning_rate=0.1)
    params = clf.get_params()
    assert params["model"] is mlp and params["callbacks"] is callbacks
    assert params["epochs"] == 3 and params["model__units"] == 16 and params["optimizer__learning_rate"] == 0.1
    assert params["optimizer"] == "rmsprop" and params["loss"] is None and params["class_weight"] is None
    rebuilt = KerasClassifier(**params)  # what sklearn.base.clone does
    assert all(rebuilt.get_params()[k] is v for k, v in params.items())


def test_set_params_sets_plain_and_routed_parameters_and_rejects_unknown_ones():
    clf = KerasClassifier(mlp)
    assert clf.set_params(epochs=5, model__units=3, fit__batch_size=4) is clf
    assert clf.epochs == 5 and clf.get_params()["model__units"] == 3 and clf.get_params()["fit__batch_size"] == 4
    with pytest.raises(ValueError, match="Invalid parameter 'epoch'"):
        clf.set_params(epoch=2)


def test_routed_parameters_reach_the_build_function_the_optimizer_and_fit():
    X, y = blobs()
    clf = KerasClassifier(mlp, model__units=5, optimizer="sgd", optimizer__learning_rate=0.123, optimizer__momentum=0.5,
                          fit__epochs=2, verbose=0, random_state=0)
    clf.fit(X, y)
    assert clf.model_.layers[0].units == 5
    assert isinstance(clf.model_.optimizer, optimizers.SGD)
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.123)
    assert float(clf.model_.optimizer.momentum) == pytest.approx(0.5)
    assert len(clf.history_["loss"]) == 2  # fit__epochs wins over epochs=1


def test_user_keywords_go_to_the_build_function_and_meta_describes_the_data():
    seen = {}

    def build(hidden, meta):
        seen.update(meta)
        return mlp(hidden, meta)

    X, y = blobs()
    KerasClassifier(build, hidden=3, verbose=0).fit(X, y)
    assert seen["n_features_in_"] == 4 and seen["n_classes_"] == 3 and seen["target_type_"] == "multiclass"
    np.testing.assert_array_equal(seen["classes_"], [0, 1, 2])


def test_string_labels_round_trip_and_score_is_the_accuracy_of_predict():
    X, y = blobs(90)
    labels = np.array(["cat", "dog", "emu"])[y]
    clf = KerasClassifier(mlp, optimizer="adam", optimizer__learning_rate=0.05, epochs=20, batch_size=16, verbose=0,
                          random_state=1).fit(X, labels)
    assert clf.target_type_ == "multiclass" and list(clf.classes_) == ["cat", "dog", "emu"]
    assert clf.model_.loss == "sparse_categorical_crossentropy"  # chosen for k softmax units
    predicted = clf.predict(X)
    assert predicted.dtype.kind == "U" and set(predicted) <= {"cat", "dog", "emu"}
    assert clf.score(X, labels) == pytest.approx(np.mean(predicted == labels))
    assert clf.score(X, labels) > 0.8
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], predicted)


def test_binary_labels_with_one_sigmoid_unit_get_binary_crossentropy_and_two_probability_columns():
    X, _ = blobs()
    labels = np.where(X[:, 0] > 0, 7, -3)

    def build(meta):
        return keras.Sequential([keras.Input((meta["n_features_in_"],)), keras.layers.Dense(1, activation="sigmoid")])

    clf = KerasClassifier(build, optimizer="adam", optimizer__learning_rate=0.1, epochs=10, verbose=0,
                          random_state=0).fit(X, labels)
    assert clf.target_type_ == "binary" and clf.model_.loss == "binary_crossentropy"
    proba = clf.predict_proba(X)
    raw = clf.model_.predict(X, verbose=0)[:, 0]
    np.testing.assert_allclose(proba, np.column_stack([1 - raw, raw]), rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), np.where(raw > 0.5, 7, -3))
    assert clf.score(X, labels) > 0.9


def test_categorical_crossentropy_trains_on_one_hot_rows():
    X, y = blobs()
    clf = KerasClassifier(mlp, loss="categorical_crossentropy", epochs=1, verbose=0).fit(X, y + 10)
    encoded = clf.target_encoder_.transform(np.array([10, 12]))
    np.testing.assert_array_equal(encoded, [[1, 0, 0], [0, 0, 1]])
    assert set(clf.predict(X)) <= {10, 11, 12}


def test_random_state_makes_fits_repeat_exactly():
    X, y = blobs()
    a = KerasClassifier(mlp, epochs=2, batch_size=8, verbose=0, random_state=3).fit(X, y)
    b = KerasClassifier(mlp, epochs=2, batch_size=8, verbose=0, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_ == b.history_


def test_a_compiled_model_instance_is_copied_so_each_fit_starts_from_its_weights():
    X, y = blobs()
    model = mlp(4, {"n_features_in_": 4, "n_classes_": 3})
    model.compile("adam", "sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    clf = KerasClassifier(model, epochs=2, verbose=0, shuffle=False)
    first = clf.fit(X, y).predict_proba(X)
    second = clf.fit(X, y).predict_proba(X)
    np.testing.assert_allclose(first, second, rtol=1e-6)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # the user's model untouched
    assert clf.model_ is not model


def test_warm_start_and_partial_fit_keep_training_the_same_network():
    X, y = blobs()
    clf = KerasClassifier(mlp, epochs=1, verbose=0, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    model = clf.model_
    clf.partial_fit(X, y)
    assert clf.model_ is model and clf.current_epoch == 2 and len(clf.history_["loss"]) == 2
    clf.fit(X, y)  # not warm: a new network
    assert clf.model_ is not model and clf.current_epoch == 1
    clf.set_params(warm_start=True)
    model = clf.model_
    clf.fit(X, y)
    assert clf.model_ is model
    with pytest.raises(TypeError, match="partial_fit always trains for one epoch"):
        clf.partial_fit(X, y, epochs=3)


def test_class_weight_and_sample_weight_drop_or_weigh_samples():
    X, y = blobs()
    clf = KerasClassifier(mlp, epochs=1, verbose=0, class_weight="balanced")
    weights = clf._with_class_weight(y, None)
    counts = np.bincount(y)
    np.testing.assert_allclose(weights, len(y) / (3 * counts[y]))
    with pytest.raises(ValueError, match="only zeros"):
        clf.fit(X, y, sample_weight=np.zeros(len(y)))


def test_callbacks_given_as_classes_are_built_with_routed_parameters():
    X, y = blobs()
    clf = KerasClassifier(mlp, epochs=1, verbose=0, callbacks=[keras.callbacks.EarlyStopping],
                          callbacks__0__monitor="loss", callbacks__0__patience=7).fit(X, y)
    (callback,) = clf._fit_callbacks
    assert isinstance(callback, keras.callbacks.EarlyStopping) and callback.patience == 7
    with pytest.raises(TypeError, match="takes no routed parameters"):
        KerasClassifier(mlp, verbose=0, optimizer=optimizers.Adam(), optimizer__learning_rate=1.0).fit(X, y)


def test_regressor_score_is_r2_of_predict_and_keeps_the_targets_shape():
    X, y = regression()
    reg = KerasRegressor(linear, loss="mse", optimizer="adam", optimizer__learning_rate=0.1, epochs=40,
                         batch_size=16, verbose=0, random_state=0).fit(X, y)
    predicted = reg.predict(X)
    assert predicted.shape == (60,) and reg.n_outputs_ == 1
    assert reg.score(X, y) == pytest.approx(r2_score(y, predicted))
    assert reg.score(X, y) > 0.9
    two = np.column_stack([y, -y])

    def build(meta):
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(meta["n_outputs_"])])

    assert KerasRegressor(build, loss="mse", verbose=0).fit(X, two).predict(X).shape == (60, 2)


def test_errors_name_the_estimator_and_what_was_wrong():
    X, y = blobs()
    with pytest.raises(ValueError, match="KerasRegressor: pass loss="):
        KerasRegressor(linear, verbose=0).fit(X, y.astype(float))
    with pytest.raises(ValueError, match="not fitted yet"):
        KerasClassifier(mlp).predict(X)
    clf = KerasClassifier(mlp, verbose=0).fit(X, y)
    with pytest.raises(ValueError, match=r"shape \(3,\) per sample"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="2-D array X"):
        clf.fit(X[:, 0], y)
    with pytest.raises(TypeError, match="must return a Model"):
        KerasClassifier(lambda: "nope", verbose=0).fit(X, y)


def test_numpy_scores_match_their_definitions():
    assert accuracy_score([1, 2, 3, 4], [1, 2, 0, 0]) == 0.5
    assert accuracy_score([1, 2, 3, 4], [1, 2, 0, 0], sample_weight=[1, 1, 0, 2]) == 0.5
    assert accuracy_score([[1, 0], [1, 1]], [[1, 0], [1, 0]]) == 0.5  # subset accuracy
    y, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.0, 2.5, 4.0])
    assert r2_score(y, p) == pytest.approx(1 - 0.5 / 5.0)
    assert r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0 and r2_score([2.0, 2.0], [1.0, 2.0]) == 0.0


def test_a_network_with_more_outputs_than_classes_is_a_clear_error():
    X, y = blobs()

    def ten_units(meta):
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])

    clf = KerasClassifier(ten_units, verbose=0).fit(X, y)
    with pytest.raises(ValueError, match="the network has 10 outputs but fit saw 3 classes"):
        clf.predict(X)


def test_a_loss_name_with_routed_parameters_becomes_its_class():
    X, y = blobs()

    def logits(meta):
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(meta["n_classes_"])])

    clf = KerasClassifier(logits, loss="sparse_categorical_crossentropy", loss__from_logits=True, verbose=0).fit(X, y)
    assert isinstance(clf.model_.loss, keras.losses.SparseCategoricalCrossentropy) and clf.model_.loss.from_logits


def test_the_wrappers_import_and_fit_without_sklearn(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import numpy as np\nfrom shendu import keras\nfrom shendu.wrappers import KerasClassifier\n"
            "X = np.random.default_rng(0).normal(size=(20, 3)).astype('float32'); y = (X[:, 0] > 0).astype(int)\n"
            "b = lambda meta: keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation='softmax')])\n"
            "clf = KerasClassifier(b, verbose=0).fit(X, y)\n"
            "try:\n    KerasClassifier(b).predict(X)\nexcept ValueError as e:\n    print(type(e).__module__)\n"
            "print(clf.score(X, y) == np.mean(clf.predict(X) == y))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["shendu.wrappers.estimator", "True"]

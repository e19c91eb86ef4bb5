"""StackedLSTMClassifier round trips: save/load, pickle, skops, ONNX, threads."""

import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_slstm import StackedLSTMClassifier, StackedLSTMRegressor, pad_sequences
from sklearn_slstm._state import InconsistentVersionWarning

FAST = {"hidden_layer_sizes": (6,), "max_iter": 2, "random_state": 0}

LABELS = {
    "strings": np.array(["f0", "f1"]),
    "ints": np.array([-4, 9]),
    "bools": np.array([False, True]),
}


@pytest.fixture(scope="module", params=list(LABELS))
def fitted(request, sine_classes):
    X, y = sine_classes
    labels = LABELS[request.param]
    y = labels[(y == "f1").astype(int)]
    rng = np.random.default_rng(0)
    X = pad_sequences([row[: rng.integers(8, 17)] for row in X])
    return StackedLSTMClassifier(**FAST, bidirectional=True).fit(X, y), X


def _assert_same(loaded, clf, X):
    assert type(loaded) is StackedLSTMClassifier
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.get_params() == clf.get_params()


def test_pickle_round_trip(fitted):
    clf, X = fitted
    _assert_same(pickle.loads(pickle.dumps(clf)), clf, X)


def test_save_load_round_trip(fitted, tmp_path):
    pytest.importorskip("safetensors")
    clf, X = fitted
    path = tmp_path / "model.safetensors"
    clf.save(path, key="secret")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _assert_same(StackedLSTMClassifier.load(path, key="secret"), clf, X)


def test_a_classifier_file_is_no_regressor_file(fitted, tmp_path):
    pytest.importorskip("safetensors")
    clf, _ = fitted
    path = tmp_path / "model.safetensors"
    clf.save(path)
    with pytest.raises(ValueError, match="not written by StackedLSTMRegressor.save"):
        StackedLSTMRegressor.load(path)


def test_save_refuses_class_weight_keys_json_cannot_hold(sine_classes, tmp_path):
    pytest.importorskip("safetensors")
    X, y = sine_classes
    y = (y == "f1").astype(int)
    clf = StackedLSTMClassifier(**FAST, class_weight={0: 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        clf.save(tmp_path / "model.safetensors")
    clf.set_params(class_weight={"0": 2.0}).save(tmp_path / "model.safetensors")


def test_skops_round_trip(fitted):
    sio = pytest.importorskip("skops.io")
    clf, X = fitted
    dumped = sio.dumps(clf)
    assert sio.get_untrusted_types(data=dumped) == [
        "sklearn_slstm._classifier.StackedLSTMClassifier"
    ]
    loaded = sio.loads(dumped, trusted=sio.get_untrusted_types(data=dumped))
    _assert_same(loaded, clf, X)


def test_other_version_warns(fitted, monkeypatch):
    from sklearn_slstm import _version

    clf, X = fitted
    monkeypatch.setattr(_version, "__version__", "0.0.1")
    stored = pickle.dumps(clf)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="StackedLSTMClassifier"):
        loaded = pickle.loads(stored)
    _assert_same(loaded, clf, X)


def test_bad_classes_in_a_state_are_refused(fitted):
    clf, _ = fitted
    state = clf.__getstate__()
    for bad in (["b", "a"], ["a", 1], ["a"], [1.5, float("nan")]):
        state["fitted"]["classes_"] = bad
        with pytest.raises(ValueError, match="classes_"):
            StackedLSTMClassifier().__setstate__(state)


def test_onnx_probabilities_match_predict_proba(fitted, tmp_path):
    pytest.importorskip("onnxscript")
    onnxruntime = pytest.importorskip("onnxruntime")
    clf, X = fitted
    path = clf.to_onnx(tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(
        str(path), providers=["CPUExecutionProvider"]
    )
    assert [output.name for output in session.get_outputs()] == ["probabilities"]
    (proba,) = session.run(None, {"X": X[:, :, np.newaxis].astype(np.float32)})
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


def test_fits_in_threads_equal_sequential_fits(sine_classes):
    X, y = sine_classes
    params = {**FAST, "hidden_layer_sizes": (4, 4), "dropout": 0.3}
    models = [
        StackedLSTMClassifier(**{**params, "random_state": seed}, early_stopping=True)
        for seed in (0, 1)
    ]
    sequential = [clone(model).fit(X, y) for model in models]
    with ThreadPoolExecutor(2) as pool:
        threaded = list(pool.map(lambda model: clone(model).fit(X, y), models))
    for got, expected in zip(threaded, sequential, strict=True):
        np.testing.assert_array_equal(got.predict_proba(X), expected.predict_proba(X))
        assert got.loss_curve_ == expected.loss_curve_

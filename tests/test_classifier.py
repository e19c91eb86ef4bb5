"""StackedLSTMClassifier: labels, probabilities, weights, heads and padding.

Model selection and calibration around it: test_compositions-style checks at
the end; persistence, ONNX and threads with the regressor's tests.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from sklearn_slstm import StackedLSTMClassifier, StackedLSTMRegressor, pad_sequences
from sklearn_slstm._training import ValidationSplit

# A small net trained briefly at the regressor's higher peak rate.
FAST = {
    "hidden_layer_sizes": (8,),
    "max_iter": 4,
    "learning_rate_init": 0.03,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def fitted(sine_classes):
    X, y = sine_classes
    return StackedLSTMClassifier(**FAST).fit(X, y)


def test_documented_attributes_after_fit(fitted):
    for name in StackedLSTMClassifier._fitted_attributes:
        if name not in StackedLSTMClassifier._optional_attributes:
            assert hasattr(fitted, name), name
    assert fitted.scaling_ == "global"
    assert fitted.classes_.tolist() == ["f0", "f1"]
    assert fitted.validation_scores_ is None
    assert len(fitted.loss_curve_) == fitted.n_iter_ == 4


def test_learns_the_frequency_and_probabilities_are_consistent(fitted, sine_classes):
    X, y = sine_classes
    assert fitted.score(X, y) > 0.9
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(np.log(proba), fitted.predict_log_proba(X))
    np.testing.assert_array_equal(
        fitted.predict(X), fitted.classes_[proba.argmax(axis=1)]
    )


@pytest.mark.parametrize(
    "labels",
    [np.array([3, 7]), np.array([False, True]), np.array(["no", "yes"], dtype=object)],
    ids=["int", "bool", "object"],
)
def test_any_label_type(sine_classes, labels):
    X, y = sine_classes
    y = labels[(y == "f1").astype(int)]
    clf = StackedLSTMClassifier(**FAST).fit(X, y)
    assert clf.classes_.tolist() == sorted(labels.tolist())
    assert set(clf.predict(X)) <= set(labels.tolist())
    assert clf.score(X, y) > 0.9


def test_multiclass(sine_classes_3):
    X, y = sine_classes_3
    clf = StackedLSTMClassifier(**{**FAST, "max_iter": 10}).fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 3)
    assert clf.net_.module_.head.out_features == 3
    assert clf.score(X, y) > 0.8


def test_multilabel_and_one_class_are_refused(sine_classes):
    X, y = sine_classes
    indicator = np.stack([y == "f0", y == "f1"], axis=1).astype(int)
    with pytest.raises(ValueError, match="Multilabel and multioutput"):
        StackedLSTMClassifier(**FAST).fit(X, indicator)
    with pytest.raises(ValueError, match="at least 2 classes"):
        StackedLSTMClassifier(**FAST).fit(X, np.full(len(X), "a"))
    with pytest.raises(ValueError, match="Unknown label type"):
        StackedLSTMClassifier(**FAST).fit(X, np.linspace(0, 1, len(X)))


@pytest.mark.parametrize("head", ["pool", "last"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_sequence_predicts_the_same_whatever_its_padding(
    sine_classes, head, bidirectional
):
    X, y = sine_classes
    rng = np.random.default_rng(0)
    sequences = [row[: rng.integers(6, 17)] for row in X]
    clf = StackedLSTMClassifier(**FAST, head=head, bidirectional=bidirectional).fit(
        pad_sequences(sequences), y
    )
    pre = clf.predict_proba(pad_sequences(sequences))
    post = clf.predict_proba(pad_sequences(sequences, padding="post"))
    alone = np.concatenate(
        [clf.predict_proba(sequence[np.newaxis, -16:]) for sequence in X[:3]]
    )
    np.testing.assert_allclose(pre, post, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(alone, clf.predict_proba(X[:3]), rtol=1e-6)


def test_heads_differ_and_regressor_keeps_the_last_step(sine_classes):
    X, y = sine_classes
    pool = StackedLSTMClassifier(**FAST).fit(X, y)
    last = StackedLSTMClassifier(**FAST, head="last").fit(X, y)
    assert pool.net_.module_.head.in_features == 2 * 8
    assert last.net_.module_.head.in_features == 8
    reg = StackedLSTMRegressor(**FAST).fit(X, (y == "f1").astype(float))
    assert reg.net_.module_.head_reads == "last"


def test_class_weight_multiplies_sample_weight(sine_classes):
    X, y = sine_classes
    weights = np.random.default_rng(0).uniform(0.5, 2, len(X))
    for class_weight in ({"f0": 3.0}, "balanced"):
        with_class_weight = StackedLSTMClassifier(
            **FAST, class_weight=class_weight
        ).fit(X, y, sample_weight=weights)
        combined = weights * compute_sample_weight(
            {"f0": 3.0, "f1": 1.0}
            if isinstance(class_weight, dict)
            else _balanced(y, weights),
            y,
        )
        by_hand = StackedLSTMClassifier(**FAST).fit(X, y, sample_weight=combined)
        np.testing.assert_allclose(
            with_class_weight.predict_proba(X), by_hand.predict_proba(X), rtol=1e-5
        )


def _balanced(y, weights):
    classes, encoded = np.unique(y, return_inverse=True)
    counts = np.bincount(encoded, weights=weights)
    return dict(zip(classes, counts.sum() / (len(classes) * counts), strict=True))


def test_a_strong_class_weight_predicts_that_class(sine_classes):
    X, y = sine_classes
    clf = StackedLSTMClassifier(**FAST, class_weight={"f0": 1000, "f1": 1e-4})
    assert np.mean(clf.fit(X, y).predict(X) == "f0") > 0.9


def test_partial_fit_needs_classes_first(sine_classes):
    X, y = sine_classes
    clf = StackedLSTMClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "classes_")
    clf.partial_fit(
        X[:10][y[:10] == "f0"], y[:10][y[:10] == "f0"], classes=["f1", "f0"]
    )
    assert clf.classes_.tolist() == ["f0", "f1"]
    for _ in range(3):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 4
    with pytest.raises(ValueError, match="not the same as the classes_"):
        clf.partial_fit(X, y, classes=["f0", "f2"])
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(X, np.where(y == "f0", "f9", y))
    with pytest.raises(ValueError, match="balanced"):
        clone(clf).set_params(class_weight="balanced").partial_fit(
            X, y, classes=["f0", "f1"]
        )


def test_warm_start_refuses_new_classes(sine_classes):
    X, y = sine_classes
    clf = StackedLSTMClassifier(**FAST, warm_start=True).fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 8
    with pytest.raises(ValueError, match="not among the classes"):
        clf.fit(X, np.where(y == "f0", "f9", y))
    assert clf.n_iter_ == 8


def test_early_stopping_scores_accuracy_on_a_stratified_split(sine_classes):
    X, y = sine_classes
    clf = StackedLSTMClassifier(
        **{**FAST, "max_iter": 6}, early_stopping=True, validation_fraction=0.25
    ).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert all(0 <= score <= 1 for score in clf.validation_scores_)
    assert clf.best_validation_score_ in clf.validation_scores_


def test_stratified_split_keeps_class_shares():
    import torch
    from skorch.dataset import Dataset

    y = torch.tensor([0] * 80 + [1] * 20)
    dataset = Dataset(torch.zeros(100, 3, 1), y)
    split = ValidationSplit(0.2, stratify=True)
    for seed in range(5):
        train, valid = split(dataset, generator=torch.Generator().manual_seed(seed))
        assert len(valid) == 20 and len(train) == 80
        assert torch.bincount(valid.y).tolist() == [16, 4]


def test_model_selection(sine_classes):
    X, y = sine_classes
    clf = StackedLSTMClassifier(**FAST)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    for scoring in ("accuracy", "neg_log_loss"):
        scores = cross_val_score(clf, X, y, cv=cv, scoring=scoring)
        assert np.isfinite(scores).all()
    assert cross_val_score(clf, X, y, cv=cv).mean() > 0.8
    search = GridSearchCV(
        clf, {"hidden_layer_sizes": [(4,), (4, 4)]}, cv=cv, scoring="accuracy"
    ).fit(X, y)
    assert search.best_params_["hidden_layer_sizes"] in [(4,), (4, 4)]


def test_pipeline_and_calibration(sine_classes):
    X, y = sine_classes
    pipe = make_pipeline(StandardScaler(), StackedLSTMClassifier(**FAST)).fit(X, y)
    assert pipe.score(X, y) > 0.9
    calibrated = CalibratedClassifierCV(StackedLSTMClassifier(**FAST), cv=2).fit(X, y)
    proba = calibrated.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert calibrated.score(X, y) > 0.8

"""sample_weight in fit and partial_fit, directly and through metadata routing."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_slstm import ConformalIntervalRegressor, StackedLSTMRegressor

SMALL = {"hidden_layer_sizes": (6,), "max_iter": 3, "random_state": 0}


@pytest.fixture(scope="module")
def weights():
    """Integer weights 0 to 3 for the 300 rows of ``sine_data``."""
    return np.random.RandomState(0).randint(0, 4, size=300)


def test_no_weights_equal_unit_weights(sine_data):
    X, y = sine_data
    reg = StackedLSTMRegressor(**{**SMALL, "early_stopping": True})
    plain = clone(reg).fit(X, y)
    ones = clone(reg).fit(X, y, sample_weight=np.ones(len(X)))
    np.testing.assert_array_equal(plain.predict(X), ones.predict(X))
    assert plain.loss_curve_ == ones.loss_curve_
    assert plain.validation_scores_ == ones.validation_scores_


@pytest.mark.parametrize("early_stopping", [False, True])
def test_zero_weights_equal_dropping_rows(sine_data, weights, early_stopping):
    X, y = sine_data
    reg = StackedLSTMRegressor(**{**SMALL, "early_stopping": early_stopping})
    kept = weights > 0
    weighted = clone(reg).fit(X, y, sample_weight=kept.astype(float))
    dropped = clone(reg).fit(X[kept], y[kept])
    np.testing.assert_array_equal(weighted.predict(X), dropped.predict(X))
    assert weighted.loss_curve_ == dropped.loss_curve_


def test_zero_weights_equal_dropping_rows_in_partial_fit(sine_data, weights):
    X, y = sine_data
    kept = weights > 0
    weighted = StackedLSTMRegressor(**SMALL)
    dropped = StackedLSTMRegressor(**SMALL)
    for _ in range(2):
        weighted.partial_fit(X, y, sample_weight=kept.astype(float))
        dropped.partial_fit(X[kept], y[kept])
    np.testing.assert_array_equal(weighted.predict(X), dropped.predict(X))


def test_integer_weights_equal_repeated_rows_in_full_batches(sine_data, weights):
    # Exact up to float rounding when every epoch is one batch (batch_size at
    # least the number of repeated rows), without early stopping (the split
    # would differ) or dropout (masks depend on the batch's shape), and with
    # per-window or no scaling (global statistics count repeated rows).
    X, y = sine_data
    reg = StackedLSTMRegressor(
        hidden_layer_sizes=(6,), max_iter=20, batch_size=1000, random_state=0
    )
    weighted = clone(reg).fit(X, y, sample_weight=weights)
    repeated = clone(reg).fit(X.repeat(weights, axis=0), y.repeat(weights, axis=0))
    np.testing.assert_allclose(
        weighted.predict(X), repeated.predict(X), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-4)
    # In mini-batches the two fits take different steps: close, not equal.
    unequal = clone(reg).set_params(batch_size=16)
    weighted = clone(unequal).fit(X, y, sample_weight=weights)
    repeated = clone(unequal).fit(X.repeat(weights, axis=0), y.repeat(weights, axis=0))
    assert not np.allclose(weighted.predict(X), repeated.predict(X), atol=1e-5)


def test_weights_scale_free(sine_data, weights):
    X, y = sine_data
    reg = StackedLSTMRegressor(**SMALL)
    once = clone(reg).fit(X, y, sample_weight=weights)
    scaled = clone(reg).fit(X, y, sample_weight=weights * 4.0)
    np.testing.assert_allclose(once.predict(X), scaled.predict(X), rtol=1e-5)


def test_weights_pull_the_model_towards_heavy_rows(sine_data):
    X, y = sine_data
    # Two contradicting targets for the same sequences: the weights decide.
    X2 = np.vstack([X, X])
    y2 = np.vstack([y, -y])
    heavy_first = np.r_[np.full(len(X), 10.0), np.ones(len(X))]
    reg = StackedLSTMRegressor(
        hidden_layer_sizes=(6,), max_iter=5, scaling=None, random_state=0
    )
    first = clone(reg).fit(X2, y2, sample_weight=heavy_first).predict(X)
    second = clone(reg).fit(X2, y2, sample_weight=heavy_first[::-1]).predict(X)
    assert np.abs(first - y).mean() < np.abs(first + y).mean() / 3
    assert np.abs(second + y).mean() < np.abs(second - y).mean() / 3


def test_validation_loss_and_score_are_weighted(sine_data, weights):
    X, y = sine_data
    reg = StackedLSTMRegressor(**{**SMALL, "early_stopping": True})
    weighted = clone(reg).fit(X, y, sample_weight=weights + 1.0)
    unweighted = clone(reg).fit(X, y)
    history = weighted.net_.history
    assert history[-1, "valid_loss"] != unweighted.net_.history[-1, "valid_loss"]
    assert weighted.validation_scores_ != unweighted.validation_scores_
    # An epoch's loss is the weighted mean over its batches.
    batches = [batch for batch in history[-1, "batches"] if "train_weight" in batch]
    total = sum(batch["train_weight"] for batch in batches)
    mean = sum(batch["train_loss"] * batch["train_weight"] for batch in batches)
    assert history[-1, "train_loss"] == pytest.approx(mean / total, rel=1e-6)


@pytest.mark.parametrize(
    ("sample_weight", "message"),
    [
        (-np.ones(300), "Negative values in data passed to"),
        (np.ones(299), "sample_weight.shape == "),
        (np.zeros(300), "at least one non-zero"),
    ],
)
def test_bad_weights_raise(sine_data, sample_weight, message):
    X, y = sine_data
    with pytest.raises(ValueError, match=message):
        StackedLSTMRegressor(**SMALL).fit(X, y, sample_weight=sample_weight)


def test_request_methods_exist():
    reg = StackedLSTMRegressor()
    with sklearn.config_context(enable_metadata_routing=True):
        assert reg.set_fit_request(sample_weight=True) is reg
        assert reg.set_partial_fit_request(sample_weight=True) is reg
        routing = reg.get_metadata_routing()
        assert routing.fit.requests["sample_weight"] is True
        assert routing.partial_fit.requests["sample_weight"] is True


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def test_weights_through_pipeline(sine_data, weights, routing):
    X, y = sine_data
    reg = StackedLSTMRegressor(**SMALL).set_fit_request(sample_weight=True)
    pipe = make_pipeline(FunctionTransformer(), reg).fit(X, y, sample_weight=weights)
    direct = clone(reg).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(pipe.predict(X), direct.predict(X))
    unweighted = clone(reg).fit(X, y)
    assert not np.array_equal(pipe.predict(X), unweighted.predict(X))


def test_weights_through_grid_search(sine_data, weights, routing):
    X, y = sine_data
    kept = weights > 0
    # The scorer (the estimator's score, R^2) also accepts weights, so it
    # must say whether it wants them.
    reg = (
        StackedLSTMRegressor(**SMALL)
        .set_fit_request(sample_weight=True)
        .set_score_request(sample_weight=True)
    )
    grid = {"hidden_layer_sizes": [(4,), (6,)]}
    search = GridSearchCV(reg, grid, cv=2).fit(X, y, sample_weight=kept * 1.0)
    # The refit saw the weights: zero weights are the same as no rows.
    refit = clone(reg).set_params(**search.best_params_).fit(X[kept], y[kept])
    np.testing.assert_array_equal(search.predict(X), refit.predict(X))


def test_weights_through_cross_validate(sine_data, weights, routing):
    X, y = sine_data
    reg = (
        StackedLSTMRegressor(**SMALL)
        .set_fit_request(sample_weight=True)
        .set_score_request(sample_weight=False)
    )
    cv = KFold(2)
    result = cross_validate(
        reg,
        X,
        y,
        cv=cv,
        params={"sample_weight": weights},
        return_estimator=True,
    )
    for (train, _), fitted in zip(cv.split(X), result["estimator"], strict=True):
        expected = clone(reg).fit(X[train], y[train], sample_weight=weights[train])
        np.testing.assert_array_equal(fitted.predict(X), expected.predict(X))


def test_conformal_passes_weights_on(sine_data, weights):
    X, y = sine_data
    for estimator in (StackedLSTMRegressor(**SMALL), Ridge()):
        conformal = ConformalIntervalRegressor(estimator, random_state=0)
        conformal.fit(X, y, sample_weight=weights)
        X_train, _, y_train, _, w_train, _ = train_test_split(
            X, y, weights, test_size=0.2, random_state=0
        )
        expected = clone(estimator).fit(X_train, y_train, sample_weight=w_train)
        np.testing.assert_array_equal(conformal.predict(X), expected.predict(X))
        unweighted = clone(estimator).fit(X_train, y_train)
        assert not np.array_equal(conformal.predict(X), unweighted.predict(X))

"""Split-conformal intervals: coverage on fresh data, quantile rule, validation.

scikit-learn's estimator checks on ConformalIntervalRegressor:
test_estimator_checks.py.
"""

import math

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_slstm import (
    ConformalIntervalRegressor,
    StackedLSTMRegressor,
    make_damped_sine,
    make_windows,
)
from sklearn_slstm._conformal import _conformal_rank

COVERAGE = 0.9
# Coverage is measured within this many points of COVERAGE. With 10,000
# calibration and 10,000 test samples, its standard deviation is about 0.4
# points (for 5,000 and 5,000, about 0.6), so 2 points is a stable check.
TOLERANCE = 0.02


def coverage_per_step(reg, X, y):
    lower, upper = reg.predict_interval(X)
    return ((lower <= y) & (y <= upper)).mean(axis=0)


@pytest.fixture(scope="module")
def fresh_waves():
    """10,000 test waves, never seen by any fit."""
    return make_damped_sine(n_samples=10_000, random_state=100)


@pytest.fixture(scope="module")
def ridge_conformal():
    """Ridge fitted on 2,000 waves and calibrated on 10,000."""
    X, y = make_damped_sine(n_samples=12_000, random_state=0)
    reg = ConformalIntervalRegressor(
        Ridge(), coverage=COVERAGE, calibration_fraction=10 / 12, random_state=0
    )
    return reg.fit(X, y)


def test_ridge_coverage_per_step_on_fresh_data(ridge_conformal, fresh_waves):
    assert ridge_conformal.n_calibration_ == 10_000
    covered = coverage_per_step(ridge_conformal, *fresh_waves)
    assert covered.shape == (5,)
    np.testing.assert_allclose(covered, COVERAGE, atol=TOLERANCE)


def test_lstm_coverage_per_step_on_fresh_data():
    X, y = make_damped_sine(n_samples=6_000, n_timesteps=20, random_state=0)
    X_test, y_test = make_damped_sine(n_samples=5_000, n_timesteps=20, random_state=1)
    lstm = StackedLSTMRegressor(
        hidden_layer_sizes=(8,), max_iter=2, batch_size=64, random_state=0
    )
    reg = ConformalIntervalRegressor(
        lstm, coverage=COVERAGE, calibration_fraction=5 / 6, random_state=0
    ).fit(X[:, :, np.newaxis], y)
    assert reg.n_calibration_ == 5_000
    assert reg.n_features_in_ == 20
    covered = coverage_per_step(reg, X_test[:, :, np.newaxis], y_test)
    np.testing.assert_allclose(covered, COVERAGE, atol=TOLERANCE)


def test_1d_target(fresh_waves):
    X, y = make_damped_sine(n_samples=12_000, random_state=0)
    reg = ConformalIntervalRegressor(
        Ridge(), calibration_fraction=10 / 12, random_state=0
    ).fit(X, y[:, 2])
    X_test, y_test = fresh_waves
    lower, upper = reg.predict_interval(X_test)
    assert reg.quantiles_.shape == (1,)
    assert lower.shape == upper.shape == reg.predict(X_test).shape == (10_000,)
    covered = ((lower <= y_test[:, 2]) & (y_test[:, 2] <= upper)).mean()
    assert abs(covered - COVERAGE) <= TOLERANCE


def test_intervals_are_symmetric_around_predict(ridge_conformal, fresh_waves):
    X_test, _ = fresh_waves
    y_pred = ridge_conformal.predict(X_test[:50])
    lower, upper = ridge_conformal.predict_interval(X_test[:50])
    np.testing.assert_allclose(
        y_pred - lower, np.tile(ridge_conformal.quantiles_, (50, 1))
    )
    np.testing.assert_allclose(upper - y_pred, y_pred - lower)


def test_intervals_widen_with_coverage():
    X, y = make_damped_sine(n_samples=2_000, random_state=0)
    quantiles = [
        ConformalIntervalRegressor(Ridge(), coverage=coverage, random_state=0)
        .fit(X, y)
        .quantiles_
        for coverage in (0.5, 0.8, 0.9, 0.99)
    ]
    assert (np.diff(quantiles, axis=0) > 0).all()


@pytest.mark.parametrize("coverage", [0.5, 0.7, 0.9])
def test_quantile_is_the_conformal_order_statistic(coverage):
    """The half-width is the ceil((n + 1) * coverage)-th smallest residual."""
    X = np.zeros((40, 1))
    y = np.arange(1.0, 41.0)  # residuals of a model predicting 0
    reg = ConformalIntervalRegressor(
        DummyRegressor(strategy="constant", constant=0.0),
        coverage=coverage,
        calibration_fraction=0.5,
        random_state=0,
    ).fit(X, y)
    *_, y_calib = train_test_split(X, y, test_size=0.5, random_state=0)
    rank = math.ceil((len(y_calib) + 1) * coverage)
    assert reg.quantiles_[0] == np.sort(y_calib)[rank - 1]


def test_too_few_calibration_samples_warns_and_gives_infinite_width():
    X, y = make_damped_sine(n_samples=40, random_state=0)
    reg = ConformalIntervalRegressor(Ridge(), coverage=0.9, calibration_fraction=0.2)
    with pytest.warns(UserWarning, match="8 calibration samples are too few"):
        reg.fit(X, y)
    assert np.isinf(reg.quantiles_).all()
    lower, upper = reg.predict_interval(X[:2])
    assert np.isneginf(lower).all() and np.isposinf(upper).all()


def test_estimator_is_cloned_and_works_in_a_pipeline():
    X, y = make_damped_sine(n_samples=500, random_state=0)
    ridge = Ridge()
    reg = ConformalIntervalRegressor(make_pipeline(StandardScaler(), ridge))
    reg.fit(X, y)
    assert not hasattr(ridge, "coef_")
    assert reg.estimator_.steps[-1][1] is not ridge
    clone(reg).fit(X, y)


def test_same_random_state_same_split():
    X, y = make_damped_sine(n_samples=500, random_state=0)
    first = ConformalIntervalRegressor(Ridge(), random_state=3).fit(X, y)
    second = ConformalIntervalRegressor(Ridge(), random_state=3).fit(X, y)
    np.testing.assert_array_equal(first.quantiles_, second.quantiles_)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"coverage": 0.0}, "coverage"),
        ({"coverage": 1.0}, "coverage"),
        ({"coverage": 1.5}, "coverage"),
        ({"calibration_fraction": 0.0}, "calibration_fraction"),
        ({"calibration_fraction": 1.0}, "calibration_fraction"),
        ({"random_state": "seed"}, "random_state"),
        ({"estimator": object()}, "estimator"),
    ],
)
def test_invalid_parameters(params, match):
    X, y = make_damped_sine(n_samples=100, random_state=0)
    reg = ConformalIntervalRegressor(Ridge()).set_params(**params)
    with pytest.raises(ValueError, match=match):
        reg.fit(X, y)


def test_unfitted_raises_not_fitted():
    reg = ConformalIntervalRegressor(Ridge())
    X, _ = make_damped_sine(n_samples=5, random_state=0)
    with pytest.raises(NotFittedError):
        reg.predict(X)
    with pytest.raises(NotFittedError):
        reg.predict_interval(X)


class _FitRecorder(Ridge):
    """Ridge that keeps the rows it was fitted on."""

    def fit(self, X, y):
        self.X_fit_ = np.array(X)
        return super().fit(X, y)


def test_unshuffled_split_calibrates_on_the_last_rows():
    X, y = make_damped_sine(n_samples=200, n_timesteps=10, random_state=0)
    recorder = _FitRecorder()
    reg = ConformalIntervalRegressor(
        recorder, calibration_fraction=0.25, shuffle=False
    ).fit(X, y)
    # The estimator saw the first 150 rows, in order; the last 50 calibrate.
    np.testing.assert_array_equal(reg.estimator_.X_fit_, X[:150])
    assert reg.n_calibration_ == 50
    residuals = np.abs(y[150:] - Ridge().fit(X[:150], y[:150]).predict(X[150:]))
    expected = np.sort(residuals, axis=0)[_conformal_rank(50, 0.9) - 1]
    np.testing.assert_allclose(reg.quantiles_, expected)


def test_unshuffled_split_ignores_random_state():
    X, y = make_damped_sine(n_samples=100, n_timesteps=10, random_state=0)
    widths = [
        ConformalIntervalRegressor(Ridge(), shuffle=False, random_state=seed)
        .fit(X, y)
        .quantiles_
        for seed in (0, 1)
    ]
    np.testing.assert_array_equal(*widths)


def test_conformal_intervals_on_padded_rows(ragged, tiny_params):
    _, X, y = ragged
    intervals = ConformalIntervalRegressor(
        StackedLSTMRegressor(**tiny_params), random_state=0
    ).fit(X, y)
    lower, upper = intervals.predict_interval(X)
    assert np.isfinite(lower).all() and (lower <= upper).all()


# --- Conformalized quantile regression (method="cqr") -------------------------


class _BandRegressor(Ridge):
    """Ridge with quantiles ``prediction -/+ width * |X[:, 0]|``, a fake quantile head.

    The band's width follows the first feature, as the noise of
    ``heteroscedastic`` does, so conformalized quantiles adapt to it.
    """

    def __init__(self, width=1.0, quantiles=(0.05, 0.5, 0.95)):
        super().__init__()
        self.width = width
        self.quantiles = quantiles

    def fit(self, X, y):
        self.quantiles_ = np.sort(self.quantiles)
        return super().fit(X, y)

    def predict_quantiles(self, X):
        # (n_samples, n_quantiles) for a 1D y, as the quantile head gives.
        centre = self.predict(X)[:, np.newaxis]
        spread = self.width * np.abs(np.asarray(X)[:, :1])
        return centre + spread * np.array([-1.0, 0.0, 1.0])


def heteroscedastic(n_samples, seed):
    """y = 2 x0 + noise of sd |x0|: the noise grows with the first feature.

    Its 5% and 95% quantiles are 2 x0 -/+ 1.645 |x0|: a band of width 1.4
    is somewhat too narrow, for conformalization to widen.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, (n_samples, 3))
    y = 2 * X[:, 0] + np.abs(X[:, 0]) * rng.normal(size=n_samples)
    return X, y


def test_cqr_covers_fresh_data_and_adapts_where_split_does_not():
    X, y = heteroscedastic(12_000, seed=0)
    X_test, y_test = heteroscedastic(10_000, seed=1)
    noisy = np.abs(X_test[:, 0]) > 1.5
    covered = {}
    for method, estimator in [("split", Ridge()), ("cqr", _BandRegressor(1.4))]:
        reg = ConformalIntervalRegressor(
            estimator, method=method, calibration_fraction=10 / 12, random_state=0
        ).fit(X, y)
        lower, upper = reg.predict_interval(X_test)
        inside = (lower <= y_test) & (y_test <= upper)
        covered[method] = inside.mean(), inside[~noisy].mean(), inside[noisy].mean()
    # Both keep the guarantee on average...
    for method in covered:
        assert covered[method][0] == pytest.approx(COVERAGE, abs=TOLERANCE)
    # ...but the same width everywhere over-covers the calm half and
    # under-covers the noisy one; CQR's widths follow the noise.
    assert covered["split"][1] > 0.97 and covered["split"][2] < 0.85
    assert abs(covered["cqr"][1] - COVERAGE) < 0.04
    assert abs(covered["cqr"][2] - COVERAGE) < 0.04


def test_cqr_correction_is_the_order_statistic_of_the_scores():
    X, y = heteroscedastic(200, seed=2)
    reg = ConformalIntervalRegressor(
        _BandRegressor(), method="cqr", calibration_fraction=0.25, shuffle=False
    ).fit(X, y)
    band = _BandRegressor().fit(X[:150], y[:150]).predict_quantiles(X[150:])
    scores = np.maximum(band[:, 0] - y[150:], y[150:] - band[:, 2])
    expected = np.sort(scores)[_conformal_rank(50, COVERAGE) - 1]
    np.testing.assert_allclose(reg.quantiles_, [expected])
    lower, upper = reg.predict_interval(X[:5])
    assert lower.shape == upper.shape == (5,)
    band = reg.estimator_.predict_quantiles(X[:5])
    np.testing.assert_allclose(lower, band[:, 0] - expected)
    np.testing.assert_allclose(upper, band[:, 2] + expected)


def test_cqr_never_returns_an_empty_interval():
    # Far too wide quantiles on calibration rows: the correction is very
    # negative, which would turn narrow test bands inside out.
    X, y = heteroscedastic(400, seed=3)
    X_narrow = X.copy()
    X_narrow[:, 0] = 0.01
    reg = ConformalIntervalRegressor(
        _BandRegressor(width=20.0), method="cqr", random_state=0
    ).fit(X, y)
    assert reg.quantiles_[0] < -1
    lower, upper = reg.predict_interval(X_narrow)
    band = reg.estimator_.predict_quantiles(X_narrow)
    np.testing.assert_allclose(lower, band[:, 1])
    np.testing.assert_allclose(upper, band[:, 1])


def test_cqr_with_the_quantile_head_covers_fresh_windows():
    rng = np.random.default_rng(0)
    t = np.arange(4000.0)
    # The noise's sd follows the season: 0.2 at its trough, 2.2 at its peak.
    season = np.sin(2 * np.pi * t / 12)
    series = 50 + 5 * season + (1.2 + season) * rng.normal(size=len(t))
    X, y = make_windows(series, n_timesteps=24, horizon=2)
    n_fit = 2800
    reg = ConformalIntervalRegressor(
        StackedLSTMRegressor(loss="quantile", max_iter=6, random_state=0),
        method="cqr",
        calibration_fraction=0.4,
        shuffle=False,
    ).fit(X[:n_fit], y[:n_fit])
    lower, upper = reg.predict_interval(X[n_fit:])
    covered = ((lower <= y[n_fit:]) & (y[n_fit:] <= upper)).mean(axis=0)
    np.testing.assert_allclose(covered, COVERAGE, atol=0.04)
    # Narrow bands for the calm part of the season, wide for the volatile.
    width = (upper - lower)[:, 0]
    calm = season[n_fit + 24 :][: len(width)] < -0.5
    assert width[calm].mean() < 0.6 * width[~calm].mean()


@pytest.mark.parametrize(
    ("estimator", "coverage", "match"),
    [
        (Ridge(), 0.9, "predict_quantiles method"),
        (StackedLSTMRegressor(), 0.9, "loss='quantile'"),
        (
            StackedLSTMRegressor(loss="quantile"),
            0.95,
            r"include 0.025 and 0.975.*quantiles=\(0.025, 0.5, 0.975\)",
        ),
    ],
    ids=["no quantiles", "another loss", "other levels"],
)
def test_cqr_refuses_estimators_without_the_bounding_quantiles(
    estimator, coverage, match
):
    X, y = make_damped_sine(n_samples=60, n_timesteps=10, random_state=0)
    reg = ConformalIntervalRegressor(estimator, method="cqr", coverage=coverage)
    with pytest.raises(ValueError, match=match):
        reg.fit(X, y)
    # Refused before anything was fitted.
    assert not hasattr(reg, "estimator_")


def test_cqr_multioutput_gives_one_correction_per_step(sine_data, tiny_params):
    X, y = sine_data
    reg = ConformalIntervalRegressor(
        StackedLSTMRegressor(loss="quantile", **tiny_params), method="cqr"
    ).fit(X, y)
    assert reg.quantiles_.shape == (y.shape[1],)
    lower, upper = reg.predict_interval(X[:4])
    assert lower.shape == upper.shape == (4, y.shape[1])
    assert (lower <= upper).all()


def test_cqr_around_a_pipeline_uses_its_last_step():
    X, y = heteroscedastic(600, seed=4)
    pipeline = make_pipeline(StandardScaler(), _BandRegressor(1.4))
    reg = ConformalIntervalRegressor(pipeline, method="cqr", random_state=0)
    lower, upper = reg.fit(X, y).predict_interval(X[:5])
    # The band comes from the last step, on the transformed X.
    steps = reg.estimator_
    band = steps[-1].predict_quantiles(steps[:-1].transform(X[:5]))
    np.testing.assert_allclose(lower, band[:, 0] - reg.quantiles_)
    np.testing.assert_allclose(upper, band[:, 2] + reg.quantiles_)
    with pytest.raises(ValueError, match="Pipeline ending in one"):
        ConformalIntervalRegressor(
            make_pipeline(StandardScaler(), Ridge()), method="cqr"
        ).fit(X, y)

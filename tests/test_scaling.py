"""Scaling inside StackedLSTMRegressor: raw data works, statistics are kept.

The statistics under warm_start and partial_fit: test_continued_training.py.
"""

import pickle
import warnings

import numpy as np
import pytest

from sklearn_slstm import StackedLSTMRegressor


@pytest.mark.parametrize("scaling", ["window", "global"])
def test_predictions_follow_an_affine_change_of_units(sine_data, scaling, tiny_params):
    # Scaled data is the same in both units, so the fit is too (up to float32
    # rounding), and predictions come back in the units of y.
    X, y = sine_data
    reg = StackedLSTMRegressor(scaling=scaling, **tiny_params).fit(X, y)
    in_other_units = StackedLSTMRegressor(scaling=scaling, **tiny_params).fit(
        1000 * X + 300, 1000 * y + 300
    )
    np.testing.assert_allclose(
        in_other_units.predict(1000 * X + 300),
        1000 * reg.predict(X) + 300,
        rtol=0,
        atol=1000 * 1e-3,
    )


def test_window_scaling_maps_targets_with_the_first_channel(sine_data, tiny_params):
    X, y = sine_data
    other = np.cos(X)
    reg = StackedLSTMRegressor(**tiny_params).fit(np.stack([X, other], axis=-1), y)
    shifted = StackedLSTMRegressor(**tiny_params).fit(
        np.stack([50 * X - 7, other], axis=-1), 50 * y - 7
    )
    np.testing.assert_allclose(
        shifted.predict(np.stack([50 * X - 7, other], axis=-1)),
        50 * reg.predict(np.stack([X, other], axis=-1)) - 7,
        atol=50 * 1e-3,
    )


def test_window_scaling_forecasts_past_the_training_range(
    trending_series, trending_windows
):
    # The test period lies above every training value: only the window
    # scaling, which sees each window relative to itself, extrapolates.
    X, y = trending_windows
    origins = range(400, 480 - 6 + 1, 6)
    X_test = np.stack([trending_series[o - 24 : o] for o in origins])
    y_test = np.stack([trending_series[o : o + 6] for o in origins])
    errors = {}
    for scaling in ("window", "global"):
        reg = StackedLSTMRegressor(scaling=scaling, random_state=0).fit(X, y)
        errors[scaling] = np.abs(reg.predict(X_test) - y_test).mean()
    seasonal_naive = np.abs(
        np.stack([trending_series[o - 12 : o - 6] for o in origins]) - y_test
    ).mean()
    assert errors["window"] < seasonal_naive / 2
    assert errors["window"] < errors["global"] / 2


@pytest.mark.parametrize("scaling", ["window", "global", None])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_and_predict_leave_the_data_alone(
    trending_windows, scaling, dtype, tiny_params
):
    X, y = (array.astype(dtype) for array in trending_windows)
    X_before, y_before = X.copy(), y.copy()
    reg = StackedLSTMRegressor(scaling=scaling, **tiny_params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scaling=None warns
        reg.fit(X, y)
    reg.predict(X)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_global_statistics_are_fitted_attributes(trending_windows, tiny_params):
    X, y = trending_windows
    reg = StackedLSTMRegressor(scaling="global", **tiny_params).fit(X, y)
    np.testing.assert_allclose(reg.x_mean_, [X.mean()], rtol=1e-6)
    np.testing.assert_allclose(reg.x_scale_, [X.std()], rtol=1e-5)
    np.testing.assert_allclose(reg.y_mean_, y.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(reg.y_scale_, y.std(axis=0), rtol=1e-5)
    for scaling in ("window", None):
        other = StackedLSTMRegressor(scaling=scaling, **tiny_params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            other.fit(X, y)
        assert not hasattr(other, "x_mean_")


def test_constant_windows_give_finite_predictions(tiny_params):
    X = np.full((40, 10), 5.0)
    X[20:] = 0.0
    y = X[:, :2].copy()
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    y_pred = reg.predict(X)
    assert np.isfinite(y_pred).all()
    assert np.isfinite(reg.loss_curve_).all()


def test_windows_of_near_zero_values_keep_targets_finite(tiny_params):
    # The smallest float32 normal in the windows, targets of 100: without a
    # floor on the scale the scaled targets overflow and training diverges.
    X = np.zeros((30, 4, 2), dtype=np.float32)
    X[:, 0, 0] = np.finfo(np.float32).tiny
    reg = StackedLSTMRegressor(scaling="window", **tiny_params)
    with pytest.warns(UserWarning, match="not on the scale"):
        reg.fit(X, np.full(30, 100.0))
    assert np.isfinite(reg.loss_curve_).all()
    assert np.isfinite(reg.predict(X)).all()


def test_unscaled_training_warns_when_targets_are_far_from_unit_scale(
    trending_windows, tiny_params
):
    X, y = trending_windows
    with pytest.warns(UserWarning, match="scaling=None.*scaling='auto'"):
        StackedLSTMRegressor(scaling=None, **tiny_params).fit(X, y)


def test_unscaled_training_is_quiet_on_unit_scale_targets(sine_data, tiny_params):
    X, y = sine_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StackedLSTMRegressor(scaling=None, **tiny_params).fit(X, y)


@pytest.mark.parametrize("scaling", ["window", "global"])
def test_pickle_and_forecast_carry_the_scaling(trending_windows, scaling, tiny_params):
    X, y = trending_windows
    reg = StackedLSTMRegressor(scaling=scaling, **tiny_params).fit(X, y[:, 0])
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    np.testing.assert_array_equal(
        restored.forecast(X[-2:], horizon=3), reg.forecast(X[-2:], horizon=3)
    )
    # Forecasts come back on the scale of the series, not the scaled one.
    assert np.abs(reg.forecast(X[-2:], horizon=3) - X[-2:, -1:]).max() < 50


@pytest.mark.parametrize("scaling", ["window", "global"])
def test_values_of_any_float32_spread_scale_without_overflow(
    sine_data, tiny_params, scaling, tmp_path
):
    # The variance of values spread by 1e20 overflows float32: the
    # statistics are then computed in float64, and the fit, its predictions
    # and its saved file stay finite, as on the same data at unit scale.
    pytest.importorskip("safetensors")
    X, y = sine_data
    params = {**tiny_params, "scaling": scaling}
    unit = StackedLSTMRegressor(**params).fit(X, y).predict(X)
    huge = StackedLSTMRegressor(**params).fit(X * 1e20, y * 1e20)
    y_pred = huge.predict(X * 1e20)
    np.testing.assert_allclose(y_pred / 1e20, unit, rtol=0, atol=1e-5)
    huge.save(tmp_path / "huge.safetensors")
    loaded = StackedLSTMRegressor.load(tmp_path / "huge.safetensors")
    np.testing.assert_array_equal(loaded.predict(X * 1e20), y_pred)

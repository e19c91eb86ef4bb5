"""StackedLSTMRegressor as the regressor of skforecast's forecasters.

skforecast builds lag matrices newest first (``lag_1`` is column 0) and
appends exogenous columns after the oldest lag; the documented recipe puts
:class:`LagsToSequences` in front of the regressor.
"""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("skforecast")

from skforecast.direct import ForecasterDirect  # noqa: E402
from skforecast.model_selection import (  # noqa: E402
    TimeSeriesFold,
    backtesting_forecaster,
)
from skforecast.recursive import ForecasterRecursive  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklearn_slstm import (  # noqa: E402
    LagsToSequences,
    StackedLSTMRegressor,
    make_windows,
)

N_LAGS = 12
FAST = {"hidden_layer_sizes": (4,), "max_iter": 3, "random_state": 0}


@pytest.fixture(scope="module")
def monthly():
    """A trending monthly series far from unit scale, 10 years."""
    t = np.arange(120.0)
    rng = np.random.default_rng(0)
    values = 300 + 0.5 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, 120)
    index = pd.date_range("2000-01-01", periods=120, freq="MS")
    return pd.Series(values, index=index, name="y")


def recipe():
    return make_pipeline(LagsToSequences(n_lags=N_LAGS), StackedLSTMRegressor(**FAST))


def test_recursive_forecast_has_the_future_index_and_beats_the_mean(monthly):
    train, test = monthly[:-6], monthly[-6:]
    forecaster = ForecasterRecursive(recipe(), lags=N_LAGS)
    forecaster.fit(train)
    forecast = forecaster.predict(steps=6)
    pd.testing.assert_index_equal(forecast.index, test.index)
    assert np.isfinite(forecast).all()
    error = np.abs(forecast - test).mean()
    assert error < np.abs(train.mean() - test).mean()


def test_recursive_recipe_is_the_librarys_own_recursive_forecast(monthly):
    """Same windows, same model: skforecast adds nothing and loses nothing."""
    train = monthly[:-6].to_numpy()
    forecaster = ForecasterRecursive(recipe(), lags=N_LAGS)
    forecaster.fit(monthly[:-6])
    X, y = make_windows(train, n_timesteps=N_LAGS)
    own = StackedLSTMRegressor(**FAST).fit(X, y.ravel())
    expected = own.forecast(train[np.newaxis, -N_LAGS:], horizon=6)[0]
    np.testing.assert_allclose(forecaster.predict(steps=6), expected, rtol=1e-5)


def test_direct_forecaster_forecasts_its_steps(monthly):
    forecaster = ForecasterDirect(recipe(), steps=3, lags=N_LAGS)
    forecaster.fit(monthly[:-3])
    forecast = forecaster.predict()
    pd.testing.assert_index_equal(forecast.index, monthly.index[-3:])
    assert np.isfinite(forecast).all()


def test_backtesting_forecaster_scores_every_fold(monthly):
    cv = TimeSeriesFold(steps=6, initial_train_size=len(monthly) - 12, refit=False)
    metric, predictions = backtesting_forecaster(
        ForecasterRecursive(recipe(), lags=N_LAGS),
        y=monthly,
        cv=cv,
        metric="mean_absolute_error",
        show_progress=False,
    )
    assert len(predictions) == 12
    pd.testing.assert_index_equal(predictions.index, monthly.index[-12:])
    assert np.isfinite(metric["mean_absolute_error"]).all()


def test_exogenous_columns_become_channels(monthly):
    month = monthly.index.month.to_numpy()
    exog = pd.DataFrame(
        {"sin": np.sin(2 * np.pi * month / 12), "cos": np.cos(2 * np.pi * month / 12)},
        index=monthly.index,
    )
    regressor = make_pipeline(
        LagsToSequences(n_lags=N_LAGS),
        StackedLSTMRegressor(scaling="global", **FAST),
    )
    forecaster = ForecasterRecursive(regressor, lags=N_LAGS)
    forecaster.fit(monthly[:-6], exog=exog[:-6])
    forecast = forecaster.predict(steps=6, exog=exog[-6:])
    assert len(forecast) == 6 and np.isfinite(forecast).all()
    # Under global scaling the exogenous channels reach the network.
    shifted = forecaster.predict(steps=6, exog=exog[-6:] + 1.0)
    assert not np.allclose(forecast, shifted)

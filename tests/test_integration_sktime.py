"""StackedLSTMRegressor as the regressor of sktime's ``make_reduction``.

sktime's windows are oldest first, the library's own order, so the plain
regressor reads them as they are; with exogenous ``X``, sktime appends the
window of each exogenous variable, which ``LagsToSequences(order=
"oldest_first", extra="lagged")`` turns into channels.
"""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sktime")

from sklearn.pipeline import make_pipeline  # noqa: E402
from sktime.forecasting.compose import make_reduction  # noqa: E402

from sklearn_slstm import (  # noqa: E402
    LagsToSequences,
    StackedLSTMRegressor,
    make_windows,
)

# sktime 1.2 warns at construction that the default of remember_data will
# change; reduction() sets it explicitly.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The default of config ``remember_data``:FutureWarning"
)

N_LAGS = 12
FAST = {"hidden_layer_sizes": (4,), "max_iter": 3, "random_state": 0}
STEPS = np.arange(1, 7)


@pytest.fixture(scope="module")
def monthly():
    """A trending monthly series far from unit scale, 10 years."""
    t = np.arange(120.0)
    rng = np.random.default_rng(0)
    values = 300 + 0.5 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, 120)
    index = pd.period_range("2000-01", periods=120, freq="M")
    return pd.Series(values, index=index, name="y")


def reduction(regressor, strategy):
    forecaster = make_reduction(regressor, window_length=N_LAGS, strategy=strategy)
    # sktime 1.3 changes the default; the forecasts below need the data kept.
    return forecaster.set_config(remember_data=True)


@pytest.mark.parametrize("strategy", ["recursive", "direct"])
def test_forecast_has_the_future_index_and_beats_the_mean(monthly, strategy):
    train, test = monthly[:-6], monthly[-6:]
    forecaster = reduction(StackedLSTMRegressor(**FAST), strategy)
    forecast = forecaster.fit(train, fh=STEPS).predict()
    pd.testing.assert_index_equal(forecast.index, test.index)
    assert np.isfinite(forecast).all()
    error = np.abs(forecast - test).mean()
    assert error < np.abs(train.mean() - test).mean()


def test_recursive_reduction_is_the_librarys_own_recursive_forecast(monthly):
    """sktime's windows are oldest first: no transformer, same forecast."""
    train = monthly[:-6].to_numpy()
    forecaster = reduction(StackedLSTMRegressor(**FAST), "recursive")
    forecast = forecaster.fit(monthly[:-6], fh=STEPS).predict()
    X, y = make_windows(train, n_timesteps=N_LAGS)
    own = StackedLSTMRegressor(**FAST).fit(X, y.ravel())
    expected = own.forecast(train[np.newaxis, -N_LAGS:], horizon=6)[0]
    np.testing.assert_allclose(forecast, expected, rtol=1e-5)


def test_exogenous_windows_become_channels(monthly):
    month = monthly.index.month.to_numpy()
    X = pd.DataFrame({"season": np.sin(2 * np.pi * month / 12)}, index=monthly.index)
    regressor = make_pipeline(
        LagsToSequences(n_lags=N_LAGS, order="oldest_first", extra="lagged"),
        StackedLSTMRegressor(scaling="global", **FAST),
    )
    forecaster = reduction(regressor, "recursive")
    forecaster.fit(monthly[:-6], X=X[:-6], fh=STEPS)
    forecast = forecaster.predict(X=X[-6:])
    pd.testing.assert_index_equal(forecast.index, monthly.index[-6:])
    assert np.isfinite(forecast).all()

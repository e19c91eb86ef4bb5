"""The real series of the benchmarks and the protocol they are judged by.

Shared by ``bench_real_series.py`` (which documents the data and the
protocol in full), ``bench_budget.py`` and ``bench_defaults.py``. All data
ships inside installed packages (statsmodels, pmdarima, aeon): nothing is
downloaded. Each loader imports its package only when called.
"""

import numpy as np
from _common import mae

# Part 1: 12-step forecasts from origins every 4 points in the last 36.
HORIZON = 12
TEST_POINTS = 3 * HORIZON
ORIGIN_STEP = 4
# Part 2: the M1 yearly panel's test set, its last 6 points per series.
M1_HORIZON = 6


# -------------------------------------------------------------------- data ---


def load_co2():
    """Monthly mean CO2 at Mauna Loa, 1958-2001, gaps interpolated."""
    import statsmodels.api as sm

    weekly = sm.datasets.co2.load_pandas().data["co2"]
    return weekly.resample("MS").mean().interpolate().to_numpy(dtype=float)


def load_sunspots():
    """Yearly mean sunspot number, 1700-2008."""
    import statsmodels.api as sm

    data = sm.datasets.sunspots.load_pandas().data
    return data["SUNACTIVITY"].to_numpy(dtype=float)


def load_pmdarima(name):
    """One of pmdarima's bundled series, without its trailing missing values."""
    from pmdarima import datasets

    values = getattr(datasets, f"load_{name}")(as_series=True).to_numpy(dtype=float)
    finite = np.flatnonzero(np.isfinite(values))
    # ausbeer ends with a NaN; no series has gaps inside.
    values = values[: finite[-1] + 1]
    assert np.isfinite(values).all(), name
    return values


def load_single_series(names=None):
    """The series of part 1: a list of (name, frequency, season, values)."""
    series = [
        ("co2", "monthly", 12, load_co2),
        ("airpassengers", "monthly", 12, lambda: load_pmdarima("airpassengers")),
        ("wineind", "monthly", 12, lambda: load_pmdarima("wineind")),
        ("ausbeer", "quarterly", 4, lambda: load_pmdarima("ausbeer")),
        ("woolyrnq", "quarterly", 4, lambda: load_pmdarima("woolyrnq")),
        ("sunspots", "yearly", 1, load_sunspots),
        ("lynx", "yearly", 1, lambda: load_pmdarima("lynx")),
    ]
    return [
        (name, frequency, season, load())
        for name, frequency, season, load in series
        if names is None or name in names
    ]


def load_m1_yearly(n_series=None):
    """The M1 yearly panel from aeon: a list of arrays, and the horizon."""
    from aeon.datasets import load_forecasting

    frame, metadata = load_forecasting("m1_yearly_dataset", return_metadata=True)
    assert metadata["forecast_horizon"] == M1_HORIZON, metadata
    series = [np.asarray(values, dtype=float) for values in frame["series_value"]]
    return series[:n_series], M1_HORIZON


# ---------------------------------------------------------------- protocol ---


def window_length(horizon, training_parts):
    """The one window rule: twice the horizon, at most the shortest training part."""
    return min(2 * horizon, min(len(part) for part in training_parts))


def rolling_origins(n_points):
    """Origins every ORIGIN_STEP points through the test region of a series."""
    return list(range(n_points - TEST_POINTS, n_points - HORIZON + 1, ORIGIN_STEP))


def origin_windows(series, origins, n_timesteps):
    """The last ``n_timesteps`` actual values before each origin, one per row."""
    return np.stack([series[origin - n_timesteps : origin] for origin in origins])


def mase(forecast, test, train):
    """MAE of the forecast over the mean absolute one-step naive error."""
    return mae(forecast, test) / float(np.mean(np.abs(np.diff(train))))

"""The real series of the benchmarks and the protocol they are judged by.

Shared by ``bench_real_series.py`` (which documents the data and the
protocol in full), ``bench_budget.py``, ``bench_defaults.py``,
``bench_honest.py`` and ``bench_intervals.py`` (which adds the interval
score, ``interval_score``, and its scale, ``seasonal_scale``). All data
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


def seasonal_scale(train, season):
    """Mean absolute seasonal difference of ``train``: the MASE and MSIS scale."""
    return float(np.mean(np.abs(train[season:] - train[:-season])))


def interval_score(lower, upper, actual, coverage):
    """The interval score of each value (M4), for intervals of ``coverage``.

    ``(U - L) + (2 / a) (L - y) [y < L] + (2 / a) (y - U) [y > U]`` with
    ``a = 1 - coverage``: the width, plus a penalty for each miss that grows
    with its distance from the interval.
    """
    alpha = 1 - coverage
    lower, upper, actual = (
        np.asarray(a, dtype=np.float64) for a in (lower, upper, actual)
    )
    below = np.clip(lower - actual, 0, None)
    above = np.clip(actual - upper, 0, None)
    return (upper - lower) + (2 / alpha) * (below + above)


# ------------------------------------ bench_honest.py: the wider catalogue ---


def load_elnino():
    """Monthly sea surface temperature (El Nino region), 1950-2010."""
    import statsmodels.api as sm

    frame = sm.datasets.elnino.load_pandas().data
    # One row per year, one column per month: read row by row.
    return frame.drop(columns="YEAR").to_numpy(dtype=float).ravel()


def load_nile():
    """Yearly flow of the Nile at Aswan, 1871-1970."""
    import statsmodels.api as sm

    return sm.datasets.nile.load_pandas().data["volume"].to_numpy(dtype=float)


def load_statsmodels_column(dataset, column):
    """One column of a quarterly statsmodels data set (macrodata, ...)."""
    import statsmodels.api as sm

    frame = getattr(sm.datasets, dataset).load_pandas().data
    return frame[column].to_numpy(dtype=float)


def load_uschange(channel):
    """One channel of aeon's US change data (quarterly % changes, 1970-2016)."""
    from aeon.datasets import load_uschange as load

    channels = ["Consumption", "Income", "Production", "Savings", "Unemployment"]
    return np.asarray(load()[channels.index(channel)], dtype=float)


def load_pbs():
    """aeon's monthly Pharmaceutical Benefit Scheme series."""
    import warnings

    from aeon.datasets import load_PBS_dataset

    with warnings.catch_warnings():
        # Deprecated in aeon 1.6, still bundled.
        warnings.simplefilter("ignore")
        return np.asarray(load_PBS_dataset(), dtype=float).ravel()


# Frequency: (season, horizon); "other" (no calendar, no known season) is
# forecast 10 steps ahead.
FREQUENCY_RULES = {
    "monthly": (12, 12),
    "quarterly": (4, 8),
    "yearly": (1, 6),
    "other": (1, 10),
}
TEST_HORIZONS = 3
N_ORIGINS = 7
MIN_TRAINING_WINDOWS = 20

# The fixed split of bench_honest.py: (name, frequency, loader). DEVELOPMENT
# holds the seven series the defaults were tuned on plus every third new
# series (alphabetically, within its frequency); REPORT the other new ones.
# Decided before any model ran on the new series; never to be rebalanced.
DEVELOPMENT_SERIES = (
    ("co2", "monthly", load_co2),
    ("airpassengers", "monthly", lambda: load_pmdarima("airpassengers")),
    ("wineind", "monthly", lambda: load_pmdarima("wineind")),
    ("ausbeer", "quarterly", lambda: load_pmdarima("ausbeer")),
    ("woolyrnq", "quarterly", lambda: load_pmdarima("woolyrnq")),
    ("us_gdp", "quarterly", lambda: load_statsmodels_column("macrodata", "realgdp")),
    ("us_tbill", "quarterly", lambda: load_statsmodels_column("macrodata", "tbilrate")),
    ("sunspots", "yearly", load_sunspots),
    ("lynx", "yearly", lambda: load_pmdarima("lynx")),
)
REPORT_SERIES = (
    ("elnino", "monthly", load_elnino),
    ("pbs", "monthly", load_pbs),
    ("austres", "quarterly", lambda: load_pmdarima("austres")),
    (
        "german_rate",
        "quarterly",
        lambda: load_statsmodels_column("interest_inflation", "R"),
    ),
    ("us_production", "quarterly", lambda: load_uschange("Production")),
    ("us_savings", "quarterly", lambda: load_uschange("Savings")),
    (
        "us_unemployment",
        "quarterly",
        lambda: load_statsmodels_column("macrodata", "unemp"),
    ),
    ("nile", "yearly", load_nile),
    ("heartrate", "other", lambda: load_pmdarima("heartrate")),
)


def load_catalogue(half, names=None):
    """Series of one half: a list of (name, frequency, season, horizon, values)."""
    catalogue = {"dev": DEVELOPMENT_SERIES, "report": REPORT_SERIES}[half]
    loaded = []
    for name, frequency, load in catalogue:
        if names is not None and name not in names:
            continue
        season, horizon = FREQUENCY_RULES[frequency]
        values = load()
        assert np.isfinite(values).all(), name
        assert len(values) >= minimum_length(horizon), (name, len(values))
        loaded.append((name, frequency, season, horizon, values))
    return loaded


def minimum_length(horizon):
    """The shortest series whose training part gives MIN_TRAINING_WINDOWS windows."""
    return TEST_HORIZONS * horizon + 2 * horizon + horizon + MIN_TRAINING_WINDOWS - 1


def spread_origins(n_points, horizon):
    """N_ORIGINS origins evenly spread over the last TEST_HORIZONS horizons.

    From the first point of the test region to the last origin whose
    ``horizon`` future values lie inside the series; for a horizon of 12 these
    are ``rolling_origins``'s (every 4 points).
    """
    first, last = n_points - TEST_HORIZONS * horizon, n_points - horizon
    return sorted({int(o) for o in np.linspace(first, last, N_ORIGINS).round()})

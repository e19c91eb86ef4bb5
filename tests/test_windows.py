"""make_windows: shapes, values, panels, covariates, short histories, input checks."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold

from sklearn_slstm import StackedLSTMRegressor, make_windows


def test_univariate_windows_and_targets():
    series = np.arange(10.0)
    X, y = make_windows(series, n_timesteps=4, horizon=2)
    assert X.shape == (5, 4) and y.shape == (5, 2)
    for row in range(5):
        np.testing.assert_array_equal(X[row], series[row : row + 4])
        np.testing.assert_array_equal(y[row], series[row + 4 : row + 6])


@pytest.mark.parametrize(
    "series",
    [list(range(12)), pd.Series(range(12)), np.arange(12, dtype=np.int32)],
    ids=["list", "pandas", "int-array"],
)
def test_lists_pandas_and_integers_give_float64(series):
    X, y = make_windows(series, n_timesteps=3)
    assert X.dtype == y.dtype == np.float64
    np.testing.assert_array_equal(X[-1], [8.0, 9.0, 10.0])
    np.testing.assert_array_equal(y[-1], [11.0])


def test_float32_stays_float32():
    X, y = make_windows(np.arange(12, dtype=np.float32), n_timesteps=3)
    assert X.dtype == y.dtype == np.float32


def test_step_keeps_the_most_recent_window():
    X, y = make_windows(np.arange(11.0), n_timesteps=4, horizon=2, step=3)
    # Windows start at 2 and 5: the last one ends with the last value.
    np.testing.assert_array_equal(X[:, 0], [2.0, 5.0])
    np.testing.assert_array_equal(y[-1], [9.0, 10.0])


def test_exactly_one_window():
    X, y = make_windows(np.arange(5.0), n_timesteps=3, horizon=2)
    assert X.shape == (1, 3) and y.shape == (1, 2)


def test_input_is_not_modified_and_not_shared():
    series = np.arange(20.0)
    original = series.copy()
    X, y = make_windows(series, n_timesteps=5, horizon=3)
    X[:] = -1
    y[:] = -1
    np.testing.assert_array_equal(series, original)
    assert X.flags.c_contiguous and y.flags.c_contiguous


def test_multichannel_frame_puts_targets_first():
    frame = pd.DataFrame(
        {"a": np.arange(8.0), "b": np.arange(100.0, 108.0), "c": np.arange(8.0) * 10}
    )
    X, y = make_windows(frame, n_timesteps=3, horizon=2, target="b")
    assert X.shape == (4, 3, 3) and y.shape == (4, 2)
    np.testing.assert_array_equal(X[0, :, 0], [100.0, 101.0, 102.0])
    np.testing.assert_array_equal(X[0, :, 1], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(X[0, :, 2], [0.0, 10.0, 20.0])
    np.testing.assert_array_equal(y[0], [103.0, 104.0])


def test_several_targets_are_laid_out_target_by_target():
    array = np.column_stack([np.arange(8.0), np.arange(100.0, 108.0)])
    X, y = make_windows(array, n_timesteps=3, horizon=2, target=[1, 0])
    np.testing.assert_array_equal(X[0, :, 0], [100.0, 101.0, 102.0])
    np.testing.assert_array_equal(y[0], [103.0, 104.0, 3.0, 4.0])


def test_array_target_defaults_to_first_column():
    array = np.column_stack([np.arange(8.0), np.arange(100.0, 108.0)])
    X, y = make_windows(array, n_timesteps=3)
    np.testing.assert_array_equal(X[-1, :, 1], [104.0, 105.0, 106.0])
    np.testing.assert_array_equal(y[-1], [7.0])


def test_panel_never_crosses_series_and_returns_series_index():
    panel = [np.arange(6.0), np.arange(100.0, 108.0), np.arange(200.0, 205.0)]
    X, y, series_index = make_windows(
        panel, n_timesteps=3, horizon=2, return_series_index=True
    )
    np.testing.assert_array_equal(series_index, [0, 0, 1, 1, 1, 1, 2])
    for row, position in enumerate(series_index):
        window = np.concatenate([X[row], y[row]])
        # Consecutive values of one series: a window never spans two.
        np.testing.assert_array_equal(np.diff(window), 1.0)
        assert panel[position][0] <= window[0] and window[-1] <= panel[position][-1]
    groups_seen = [
        set(series_index[test])
        for _, test in GroupKFold(n_splits=3).split(X, y, series_index)
    ]
    assert all(len(groups) == 1 for groups in groups_seen)


def test_panel_of_frames():
    frames = [
        pd.DataFrame({"y": np.arange(n, dtype=float), "x": np.ones(n)}) for n in (5, 7)
    ]
    X, y = make_windows(frames, n_timesteps=2, target="y")
    assert X.shape == (3 + 5, 2, 2) and y.shape == (8, 1)


def test_single_series_index_is_zero():
    *_, series_index = make_windows(
        np.arange(9.0), n_timesteps=3, return_series_index=True
    )
    np.testing.assert_array_equal(series_index, np.zeros(6, dtype=int))


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (np.arange(4.0), "at least n_timesteps \\+ horizon = 5 points.*series 0 has 4"),
        ([np.arange(9.0), np.arange(3.0)], "series 1 has 3"),
        (np.array([1.0, np.nan, 2.0, 3.0, 4.0, 5.0]), "NaN or infinite"),
        (np.array([1.0, np.inf, 2.0, 3.0, 4.0, 5.0]), "NaN or infinite"),
        (np.array(["a", "b", "c", "d", "e"]), "real numbers"),
        (np.arange(6.0) + 1j, "real numbers"),
        (pd.DataFrame({"t": list("abcdef"), "v": np.arange(6.0)}), "non-numeric"),
        ([np.arange(6.0), np.ones((6, 2))], "all 1D or all 2D"),
        ([np.ones((6, 2)), np.ones((6, 3))], "same number of channels"),
        ([], "at least one series"),
        (np.ones((6, 2, 2)), "must be 1D"),
    ],
)
def test_bad_series_raise_clear_value_errors(series, message):
    with pytest.raises(ValueError, match=message):
        make_windows(series, n_timesteps=3, horizon=2)


@pytest.mark.parametrize("target", ["missing", 5, [0, 0]])
def test_bad_target_raises(target):
    frame = pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6.0)})
    array = frame.to_numpy()
    with pytest.raises(ValueError, match="must name distinct columns"):
        make_windows(frame if isinstance(target, str) else array, 2, target=target)


@pytest.mark.parametrize(
    "kwargs", [{"step": 0}, {"horizon": 0}, {"n_timesteps": 0}, {"step": 1.5}]
)
def test_invalid_integers_raise(kwargs):
    arguments = {"n_timesteps": 2, **kwargs}
    with pytest.raises(ValueError, match="must be an int in the range"):
        make_windows(np.arange(10.0), **arguments)


# --- short histories, padded with NaN ----------------------------------------


def test_make_windows_pads_the_windows_before_a_series_starts(tiny_params):
    X, y, series_index = make_windows(
        [np.arange(10.0), np.arange(100.0, 104.0)],
        n_timesteps=5,
        horizon=2,
        min_timesteps=2,
        return_series_index=True,
    )
    # Series 0: windows ending at points 1..7; series 1 (4 points): one window.
    np.testing.assert_array_equal(np.bincount(series_index), [7, 1])
    np.testing.assert_array_equal(X[0], [np.nan, np.nan, np.nan, 0, 1])
    np.testing.assert_array_equal(y[0], [2, 3])
    np.testing.assert_array_equal(X[-1], [np.nan, np.nan, np.nan, 100, 101])
    np.testing.assert_array_equal(y[-1], [102, 103])
    assert np.isfinite(y).all()
    # Full windows are those of make_windows without min_timesteps.
    full_X, full_y = make_windows(np.arange(10.0), n_timesteps=5, horizon=2)
    np.testing.assert_array_equal(X[3:7], full_X)
    np.testing.assert_array_equal(y[3:7], full_y)
    StackedLSTMRegressor(**tiny_params).fit(X, y)


def test_make_windows_min_timesteps_above_n_timesteps_is_refused():
    with pytest.raises(ValueError, match="min_timesteps=6 must not exceed"):
        make_windows(np.arange(10.0), n_timesteps=5, min_timesteps=6)

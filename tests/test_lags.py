"""LagsToSequences: lag matrices of forecasting libraries as oldest-first sequences."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_slstm import LagsToSequences, StackedLSTMRegressor, make_windows


@pytest.fixture(scope="module")
def newest_first():
    """Lag matrix of 0, 1, ..., 9 with 3 lags, newest first, and its targets."""
    series = np.arange(10.0)
    X, y = make_windows(series, n_timesteps=3)
    return X[:, ::-1].copy(), y.ravel(), X


def test_newest_first_lags_become_oldest_first_sequences(newest_first):
    lags, _, windows = newest_first
    sequences = LagsToSequences(n_lags=3).fit_transform(lags)
    assert sequences.shape == (len(lags), 3, 1)
    np.testing.assert_array_equal(sequences[:, :, 0], windows)


def test_oldest_first_lags_keep_their_order(newest_first):
    _, _, windows = newest_first
    sequences = LagsToSequences(order="oldest_first").fit_transform(windows)
    np.testing.assert_array_equal(sequences[:, :, 0], windows)


def test_n_lags_none_takes_every_column(newest_first):
    lags, _, _ = newest_first
    assert LagsToSequences().fit_transform(lags).shape == (len(lags), 3, 1)


def test_extra_columns_are_repeated_channels():
    # Two lags (newest first), then an exogenous value and a window feature.
    X = np.array([[2.0, 1.0, 10.0, 1.5], [3.0, 2.0, 20.0, 2.5]])
    sequences = LagsToSequences(n_lags=2).fit_transform(X)
    assert sequences.shape == (2, 2, 3)
    np.testing.assert_array_equal(sequences[1], [[2.0, 20.0, 2.5], [3.0, 20.0, 2.5]])


def test_lagged_extra_columns_are_channels_step_by_step():
    # sktime's layout: the window of y, then the window of one exogenous X.
    X = np.array([[1.0, 2.0, 3.0, 10.0, 20.0, 30.0]])
    oldest = LagsToSequences(n_lags=3, order="oldest_first", extra="lagged")
    np.testing.assert_array_equal(
        oldest.fit_transform(X)[0], [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]
    )
    newest = LagsToSequences(n_lags=3, extra="lagged")
    np.testing.assert_array_equal(
        newest.fit_transform(X[:, [2, 1, 0, 5, 4, 3]])[0],
        [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]],
    )


def test_output_is_contiguous_and_keeps_float32(newest_first):
    lags, _, _ = newest_first
    sequences = LagsToSequences().fit_transform(lags.astype(np.float32))
    assert sequences.dtype == np.float32
    assert sequences.flags.c_contiguous
    assert LagsToSequences().fit_transform(lags.astype(int)).dtype == np.float64


def test_nan_passes_through_as_padding():
    X = np.array([[2.0, 1.0, np.nan], [3.0, 2.0, 1.0]])
    sequences = LagsToSequences().fit_transform(X)
    assert np.isnan(sequences[0, 0, 0]) and np.isfinite(sequences[0, 1:]).all()


def test_dataframe_names_are_recorded_and_checked(newest_first):
    lags, _, _ = newest_first
    frame = pd.DataFrame(lags, columns=["lag_1", "lag_2", "lag_3"])
    transformer = LagsToSequences().fit(frame)
    assert transformer.n_features_in_ == 3
    assert list(transformer.feature_names_in_) == ["lag_1", "lag_2", "lag_3"]
    with pytest.raises(ValueError, match="feature names"):
        transformer.transform(frame[["lag_2", "lag_1", "lag_3"]])


def test_transform_checks_the_number_of_columns(newest_first):
    lags, _, _ = newest_first
    transformer = LagsToSequences(n_lags=2).fit(lags)
    with pytest.raises(ValueError, match="3 features"):
        transformer.transform(lags[:, :2])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_lags": 4}, r"n_lags=4 exceeds the 3 column\(s\)"),
        ({"n_lags": 2, "extra": "lagged"}, "whole blocks of 2 columns"),
        ({"n_lags": 0}, "n_lags"),
        ({"order": "newest"}, "order"),
        ({"extra": "constant"}, "extra"),
    ],
)
def test_bad_parameters_raise_value_error(newest_first, params, match):
    lags, _, _ = newest_first
    with pytest.raises(ValueError, match=match):
        LagsToSequences(**params).fit(lags)


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="already holds sequences"):
        LagsToSequences().fit(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match="infinity"):
        LagsToSequences().fit([[1.0, np.inf]])


def test_pipeline_on_newest_first_lags_equals_the_model_on_windows(newest_first):
    """The transformer restores what make_windows gives, so the fits agree."""
    lags, y, windows = newest_first
    regressor = StackedLSTMRegressor(
        hidden_layer_sizes=(4,), max_iter=2, random_state=0
    )
    pipeline = make_pipeline(LagsToSequences(n_lags=3), clone(regressor)).fit(lags, y)
    direct = clone(regressor).fit(windows, y)
    np.testing.assert_allclose(pipeline.predict(lags), direct.predict(windows))


def test_column_transformer_puts_transformed_columns_first():
    """The column-order rule of the user guide: transformed, then remainder."""
    X = np.arange(12.0).reshape(2, 6)
    reordering = ColumnTransformer(
        [("scale", StandardScaler(), [3, 4, 5])], remainder="passthrough"
    )
    out = reordering.fit_transform(X)
    # Columns 3-5 (scaled) come first, the untouched lags 0-2 after them.
    np.testing.assert_array_equal(out[:, 3:], X[:, :3])

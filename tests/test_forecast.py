"""Recursive forecasts: window mechanics, shapes and errors.

The window mechanics are checked on recursive_forecast with a regressor that
is no StackedLSTMRegressor; the rest through StackedLSTMRegressor.forecast,
also on NaN-padded sequences.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import validate_data

from sklearn_slstm import StackedLSTMRegressor, pad_sequences
from sklearn_slstm._forecast import recursive_forecast


class OldestValues(RegressorMixin, BaseEstimator):
    """Predicts the ``n_outputs`` oldest values of each window.

    Fed back recursively, it must reproduce the window over and over: a
    check that each round appends its block and drops the oldest values.
    """

    def __init__(self, n_outputs=2):
        self.n_outputs = n_outputs

    def fit(self, X, y=None):
        validate_data(self, X)
        return self

    def predict(self, X):
        X = validate_data(self, X, reset=False)
        y_pred = X[:, : self.n_outputs]
        return y_pred[:, 0] if self.n_outputs == 1 else y_pred


@pytest.fixture(scope="module")
def lstm(sine_data, tiny_params):
    X, y = sine_data
    return StackedLSTMRegressor(**tiny_params).fit(X, y)


@pytest.mark.parametrize("n_outputs", [1, 2, 3, 5])
@pytest.mark.parametrize("horizon", [1, 4, 5, 13])
def test_each_round_appends_its_block_and_drops_the_oldest(n_outputs, horizon):
    X = np.arange(10.0).reshape(2, 5)
    model = OldestValues(n_outputs=n_outputs).fit(X)
    expected = np.tile(X, 4)[:, :horizon]
    np.testing.assert_array_equal(recursive_forecast(model, X, horizon), expected)


@pytest.mark.parametrize("horizon", [1, 3, 5])
def test_short_horizon_is_the_direct_prediction(lstm, sine_data, horizon):
    X, _ = sine_data
    np.testing.assert_allclose(
        lstm.forecast(X[:10], horizon), lstm.predict(X[:10])[:, :horizon]
    )


@pytest.mark.parametrize("horizon", [6, 12, 50])
def test_long_horizon_shape_and_first_block(lstm, sine_data, horizon):
    X, _ = sine_data
    y_forecast = lstm.forecast(X[:10], horizon)
    assert y_forecast.shape == (10, horizon)
    assert y_forecast.dtype == np.float64
    assert np.isfinite(y_forecast).all()
    np.testing.assert_allclose(y_forecast[:, :5], lstm.predict(X[:10]))


def test_second_block_is_predicted_from_the_shifted_window(lstm, sine_data):
    X, _ = sine_data
    first = lstm.predict(X[:4])
    second = lstm.predict(np.hstack([X[:4], first])[:, -X.shape[1] :])
    np.testing.assert_allclose(lstm.forecast(X[:4], 10), np.hstack([first, second]))


def test_3d_input_with_one_channel_matches_2d(lstm, sine_data):
    X, _ = sine_data
    np.testing.assert_allclose(
        lstm.forecast(X[:5, :, np.newaxis], 12),
        lstm.forecast(X[:5], 12),
    )


def test_model_fitted_on_1d_y_forecasts_one_step_per_round(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params)
    reg.fit(X, y[:, 0])
    y_forecast = reg.forecast(X[:3], 4)
    assert y_forecast.shape == (3, 4)
    np.testing.assert_allclose(y_forecast[:, 0], reg.predict(X[:3]))


def test_dataframe_fitted_model_gets_its_feature_names_every_round(
    sine_data, tiny_params
):
    X, y = sine_data
    columns = [f"t{i}" for i in range(X.shape[1])]
    reg = StackedLSTMRegressor(**tiny_params)
    reg.fit(pd.DataFrame(X, columns=columns), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y_forecast = reg.forecast(pd.DataFrame(X[:3], columns=columns), 12)
    assert y_forecast.shape == (3, 12)


@pytest.mark.parametrize("horizon", [0, -1, 2.5, "3"])
def test_invalid_horizon(lstm, sine_data, horizon):
    X, _ = sine_data
    with pytest.raises(ValueError, match="horizon"):
        lstm.forecast(X[:2], horizon)


def test_unfitted_raises_not_fitted(sine_data):
    X, _ = sine_data
    with pytest.raises(NotFittedError):
        StackedLSTMRegressor().forecast(X[:2], 3)


def test_multivariate_input_raises(lstm, sine_data):
    X, _ = sine_data
    with pytest.raises(ValueError, match="univariate"):
        lstm.forecast(np.stack([X, X], axis=2), 3)


def test_multivariate_model_raises(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params)
    reg.fit(np.stack([X, X], axis=2), y)
    with pytest.raises(ValueError, match="2 channels"):
        reg.forecast(X[:2], 3)


def test_window_of_the_wrong_length_raises(lstm, sine_data):
    X, _ = sine_data
    with pytest.raises(ValueError, match="pass the last 20 values"):
        lstm.forecast(np.hstack([X[:2], X[:2]]), 3)


# --- padded sequences -------------------------------------------------------


def test_forecast_continues_after_the_last_observed_value(ragged, tiny_params):
    sequences, X, y = ragged
    regressor = StackedLSTMRegressor(**tiny_params).fit(X, y)
    forecast = regressor.forecast(X, horizon=4)
    assert forecast.shape == (len(X), 4) and np.isfinite(forecast).all()
    # Padding after the sequences gives the same forecast.
    np.testing.assert_allclose(
        regressor.forecast(pad_sequences(sequences, padding="post"), horizon=4),
        forecast,
        rtol=1e-6,
    )
    # The first value is predict's; the next reads it as the latest value.
    np.testing.assert_allclose(forecast[:, 0], regressor.predict(X), rtol=1e-6)
    longer = pad_sequences(
        [
            np.append(s, first)
            for s, first in zip(sequences, forecast[:, 0], strict=True)
        ],
        maxlen=X.shape[1],
    )
    np.testing.assert_allclose(forecast[:, 1], regressor.predict(longer), rtol=1e-5)


def test_forecast_refuses_nan_inside_a_sequence(ragged, tiny_params):
    _, X, y = ragged
    regressor = StackedLSTMRegressor(**tiny_params).fit(X, y)
    X_gap = X.copy()
    X_gap[0, -3] = np.nan
    with pytest.raises(ValueError, match="NaN between its observed time steps"):
        regressor.forecast(X_gap, horizon=2)


def test_forecast_equals_the_generic_loop_over_predict(lstm, sine_data):
    # forecast skips revalidating the windows it builds; the result is that
    # of the same rounds through predict.
    X, _ = sine_data
    np.testing.assert_array_equal(
        lstm.forecast(X[:4], 23), recursive_forecast(lstm, X[:4], 23)
    )


def test_non_finite_predictions_stop_the_forecast(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    reg.net_.module_.head.bias.data.fill_(float("nan"))
    with pytest.raises(ValueError, match="non-finite values"):
        reg.forecast(X[:2], 12)


@pytest.mark.parametrize("horizon", [10**18, 1_000_001])
def test_an_unbounded_horizon_is_refused_at_once(lstm, sine_data, horizon):
    X, _ = sine_data
    with pytest.raises(ValueError, match="horizon"):
        lstm.forecast(X[:2], horizon)

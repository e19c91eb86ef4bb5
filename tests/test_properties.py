"""Property-based tests: every valid input shape and dtype fits and predicts."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sklearn_slstm import StackedLSTMRegressor

DTYPES = [np.float32, np.float64, np.int32, np.int64]


def _values(dtype):
    if np.issubdtype(dtype, np.integer):
        return st.integers(-100, 100)
    return st.floats(-100, 100, width=32, allow_subnormal=False)


@st.composite
def problems(draw):
    """A valid (X, y) pair of any supported shape, dtype, layout and type."""
    n_samples = draw(st.integers(2, 30))
    n_timesteps = draw(st.integers(1, 12))
    n_channels = draw(st.integers(1, 3))
    three_d = n_channels > 1 or draw(st.booleans())
    shape = (
        (n_samples, n_timesteps, n_channels) if three_d else (n_samples, n_timesteps)
    )
    x_dtype = draw(st.sampled_from(DTYPES))
    X = draw(hnp.arrays(x_dtype, shape, elements=_values(x_dtype)))
    if draw(st.booleans()):
        X = np.asfortranarray(X)

    y_1d = draw(st.booleans())
    y_shape = (n_samples,) if y_1d else (n_samples, draw(st.integers(1, 3)))
    y_dtype = draw(st.sampled_from(DTYPES))
    y = draw(hnp.arrays(y_dtype, y_shape, elements=_values(y_dtype)))

    if not three_d and draw(st.booleans()):
        X = pd.DataFrame(X, columns=[f"t{i}" for i in range(n_timesteps)])
    return X, y


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(problem=problems())
def test_fit_and_predict_any_valid_input(problem):
    X, y = problem
    X_before, y_before = np.array(X, copy=True), y.copy()
    regressor = StackedLSTMRegressor(
        hidden_layer_sizes=(3,), max_iter=1, random_state=0
    ).fit(X, y)
    y_pred = regressor.predict(X)

    expected_shape = (len(y),) if y.ndim == 1 else y.shape
    assert y_pred.shape == expected_shape
    assert y_pred.dtype == np.float64
    assert np.isfinite(y_pred).all()
    assert regressor.n_features_in_ == X.shape[1]
    assert regressor.n_outputs_ == (1 if y.ndim == 1 else y.shape[1])
    # One row predicts the same shape, row for row.
    first = regressor.predict(X[:1])
    assert first.shape == (1, *expected_shape[1:])
    np.testing.assert_array_equal(first, y_pred[:1])
    # The caller's data is left as it was.
    np.testing.assert_array_equal(np.asarray(X), X_before)
    np.testing.assert_array_equal(y, y_before)

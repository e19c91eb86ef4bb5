"""Malformed inputs and misuses fail early with messages that name the problem."""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import NotFittedError

from sklearn_slstm import StackedLSTMRegressor


@pytest.fixture(scope="module")
def data(small_sine_data):
    """40 waves of 10 steps; targets the 3 values that follow."""
    return small_sine_data


@pytest.fixture(scope="module")
def fitted(data, tiny_params):
    """A model fitted on 2D X (10 timesteps, 1 channel) and 2D y (3 outputs)."""
    X, y = data
    return StackedLSTMRegressor(**tiny_params).fit(X, y)


@pytest.fixture(scope="module")
def fitted_3d(data, tiny_params):
    """A model fitted on 3D X with 2 channels."""
    X, y = data
    return StackedLSTMRegressor(**tiny_params).fit(np.stack([X, 1 - X], axis=-1), y)


def _with(X, row, column, value):
    """A copy of ``X`` with ``X[row, column]`` (``X[row]``) set to ``value``."""
    X = X.copy()
    X[row if column is None else (row, column)] = value
    return X


def _strings(X):
    X = X.astype(object)
    X[1, 2] = "one"
    return X


# --- Malformed data at fit ----------------------------------------------------

FIT_DATA_ERRORS = {
    "NaN between observed steps": (
        lambda X, y: (_with(X, 3, 4, np.nan), y),
        ValueError,
        r"X\[3\] has NaN between its observed time steps 0 and 9",
    ),
    "all-NaN row": (
        lambda X, y: (_with(X, 2, slice(None), np.nan), y),
        ValueError,
        r"X\[2\] is all NaN",
    ),
    "NaN in one channel of a step": (
        lambda X, y: (_with(np.stack([X, X], axis=-1), (1, 0, 1), None, np.nan), y),
        ValueError,
        r"X\[1\] has NaN in some channels but not all at time step 0",
    ),
    "inf in X": (
        lambda X, y: (_with(X, 0, 0, np.inf), y),
        ValueError,
        "contains infinity",
    ),
    "NaN in y": (
        lambda X, y: (X, _with(y, 2, 1, np.nan)),
        ValueError,
        "y contains NaN",
    ),
    "1D X": (lambda X, y: (X[:, 0], y), ValueError, "Expected 2D array, got 1D"),
    "scalar X": (lambda X, y: (5.0, y), ValueError, "Expected 2D array, got scalar"),
    "4D X": (
        lambda X, y: (X[:, :, None, None], y),
        ValueError,
        r"X must be 2D \(n_samples, n_timesteps\) or 3D",
    ),
    "zero samples": (
        lambda X, y: (X[:0], y[:0]),
        ValueError,
        r"0 sample\(s\)",
    ),
    "zero timesteps, 2D": (lambda X, y: (X[:, :0], y), ValueError, r"0 feature\(s\)"),
    "zero timesteps, 3D": (
        lambda X, y: (X[:, :0, None], y),
        ValueError,
        "0 timesteps",
    ),
    "zero channels": (
        lambda X, y: (np.empty((len(X), 10, 0)), y),
        ValueError,
        "0 channels",
    ),
    "X and y of different lengths": (
        lambda X, y: (X, y[:-1]),
        ValueError,
        "inconsistent numbers of samples",
    ),
    "strings in X": (
        lambda X, y: (_strings(X), y),
        ValueError,
        "could not convert string to float",
    ),
    "complex X": (lambda X, y: (X + 1j, y), ValueError, "Complex data not supported"),
    "ragged X": (
        lambda X, y: ([list(row[: 5 + i % 2]) for i, row in enumerate(X)], y),
        ValueError,
        "inhomogeneous",
    ),
    "sparse X": (
        lambda X, y: (sp.csr_matrix(X), y),
        TypeError,
        "Sparse data was passed",
    ),
    "3D y": (lambda X, y: (X, y[:, :, None]), ValueError, "dim 3"),
    "y with zero outputs": (lambda X, y: (X, y[:, :0]), ValueError, r"0 feature\(s\)"),
    "strings in y": (
        lambda X, y: (X, np.array(["a"] * len(X), dtype=object)),
        ValueError,
        "could not convert string to float",
    ),
}


@pytest.mark.parametrize("case", FIT_DATA_ERRORS)
def test_malformed_data_at_fit(data, case, tiny_params):
    make_bad, error, message = FIT_DATA_ERRORS[case]
    X, y = make_bad(*data)
    with pytest.raises(error, match=message):
        StackedLSTMRegressor(**tiny_params).fit(X, y)


def test_early_stopping_with_too_few_samples(data, tiny_params):
    X, y = data
    regressor = StackedLSTMRegressor(
        **tiny_params, early_stopping=True, validation_fraction=0.99
    )
    with pytest.raises(ValueError, match="needs at least one training sample"):
        regressor.fit(X[:10], y[:10])


def test_cuda_requested_without_cuda(data, monkeypatch, tiny_params):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = data
    with pytest.raises(ValueError, match="device='cuda'.*CUDA is not available"):
        StackedLSTMRegressor(**tiny_params, device="cuda").fit(X, y)


def test_huge_batch_size_is_clipped_to_the_data(data, tiny_params):
    X, y = data
    regressor = StackedLSTMRegressor(**tiny_params, batch_size=10**9).fit(X, y)
    y_pred = regressor.predict(X)
    assert y_pred.shape == y.shape
    assert np.isfinite(y_pred).all()


# --- Malformed data and misuse at predict -------------------------------------

PREDICT_ERRORS = {
    "NaN between observed steps": (
        lambda X: _with(X, 0, 4, np.nan),
        ValueError,
        "NaN between its observed time steps",
    ),
    "inf in X": (lambda X: _with(X, 0, 0, -np.inf), ValueError, "contains infinity"),
    "other timestep count": (
        lambda X: X[:, :8],
        ValueError,
        "X has 8 features, but StackedLSTMRegressor is expecting 10 features as "
        "input. Its features are time steps: the sequences of X have 8 time steps",
    ),
    "other channel count": (
        lambda X: np.stack([X, X], axis=-1),
        ValueError,
        r"X has 2 channel\(s\), but StackedLSTMRegressor was fitted with 1",
    ),
    "4D X": (lambda X: X[:, :, None, None], ValueError, "X must be 2D"),
    "1D X": (lambda X: X[0], ValueError, "Expected 2D array, got 1D"),
    "zero samples": (lambda X: X[:0], ValueError, r"0 sample\(s\)"),
    "sparse X": (lambda X: sp.csr_matrix(X), TypeError, "Sparse data was passed"),
    "complex X": (lambda X: X + 1j, ValueError, "Complex data not supported"),
    "strings in X": (_strings, ValueError, "could not convert string to float"),
}


def test_partial_fit_names_a_wrong_length_in_time_steps(data, tiny_params):
    X, y = data
    reg = StackedLSTMRegressor(**tiny_params).partial_fit(X, y)
    with pytest.raises(ValueError, match="sequences of X have 8 time steps, the "):
        reg.partial_fit(X[:, :8], y)


@pytest.mark.parametrize("case", PREDICT_ERRORS)
def test_malformed_data_at_predict(data, fitted, case):
    make_bad, error, message = PREDICT_ERRORS[case]
    expected = fitted.predict(data[0])
    with pytest.raises(error, match=message):
        fitted.predict(make_bad(data[0]))
    # A failed predict leaves the model as it was.
    np.testing.assert_array_equal(fitted.predict(data[0]), expected)


def test_3d_fitted_model_given_fewer_channels(data, fitted_3d):
    with pytest.raises(
        ValueError, match=r"X has 1 channel\(s\).*fitted with 2 channel\(s\)"
    ):
        fitted_3d.predict(data[0])


def test_2d_fitted_model_accepts_one_channel_3d(data, fitted):
    # 2D X means one channel, so the same data as 3D predicts the same.
    X = data[0]
    np.testing.assert_array_equal(fitted.predict(X[:, :, None]), fitted.predict(X))


def test_predict_before_fit(data):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        StackedLSTMRegressor().predict(data[0])


def test_renamed_dataframe_columns_at_predict(data, tiny_params):
    X, y = data
    columns = [f"t{i}" for i in range(X.shape[1])]
    regressor = StackedLSTMRegressor(**tiny_params).fit(
        pd.DataFrame(X, columns=columns), y
    )
    renamed = pd.DataFrame(X, columns=[f"s{i}" for i in range(X.shape[1])])
    with pytest.raises(ValueError, match="feature names should match"):
        regressor.predict(renamed)


# --- Invalid parameters -------------------------------------------------------

INVALID_PARAMETERS = {
    "scaling": ["none", "standard", 1, True],
    "hidden_layer_sizes": [(), (0,), (2.5,), ("a",), (4, -1), 0, -3, "abc", None],
    "dropout": [1.0, -0.1, "high"],
    "bidirectional": ["yes", 2],
    "linear_skip": ["yes", 2],
    "loss": ["hinge", "MAE", None],
    "quantiles": [(0.1, 0.9), (0.5, 0.5), (0.5, 1.0), "0.5", 0.5, None],
    "optimizer": ["adagrad", torch.optim.Adam],
    # Beyond float32's range, which torch could not even store.
    "learning_rate_init": [0, -0.01, "0.01", 1e39],
    "learning_rate": ["adaptive", "invscaling", 0.01],
    "batch_size": [0, -1, 2.5, "auto"],
    "max_iter": [0, -1, 2.5, "10"],
    "early_stopping": ["yes", 1.5],
    "validation_fraction": [0, 1, 1.5, -0.1],
    "n_iter_no_change": [0, 2.5],
    "tol": [-1e-4, "small"],
    "gradient_clip": [0, -1.0, "1"],
    "warm_start": ["no"],
    "random_state": [-1, "seed", 2.5],
    "device": ["gpu", "cuda:0", "tpu", None],
    "callbacks": ["PrintLog", 3],
    "verbose": [-1, "loud"],
}

INVALID_CASES = [
    (name, value) for name, values in INVALID_PARAMETERS.items() for value in values
]


def test_every_parameter_has_invalid_cases():
    assert set(INVALID_PARAMETERS) == set(StackedLSTMRegressor._parameter_constraints)


@pytest.mark.parametrize(("name", "value"), INVALID_CASES)
def test_invalid_parameter_values(data, name, value, tiny_params):
    X, y = data
    regressor = StackedLSTMRegressor(**{**tiny_params, name: value})
    with pytest.raises((ValueError, TypeError), match=name):
        regressor.fit(X, y)


def test_unknown_parameter():
    with pytest.raises(TypeError, match="unexpected keyword argument 'n_layers'"):
        StackedLSTMRegressor(n_layers=2)
    with pytest.raises(ValueError, match="Invalid parameter 'n_layers'"):
        StackedLSTMRegressor().set_params(n_layers=2)


def test_parameters_are_keyword_only():
    with pytest.raises(TypeError, match="positional argument"):
        StackedLSTMRegressor((20, 20))


# --- A failed call leaves a fitted model unchanged ----------------------------


def _failing_fits(X, y):
    """(name, call that makes a fitted model's fit fail, message)."""
    X3 = np.stack([X, 1 - X], axis=-1)
    frame_with_nan = pd.DataFrame(_with(X, 0, 4, np.nan)).add_prefix("t")
    return {
        "NaN between observed steps": (
            lambda reg: reg.fit(_with(X, 0, 4, np.nan), y),
            "NaN",
        ),
        "X and y of different lengths": (
            lambda reg: reg.fit(X, y[:-1]),
            "inconsistent",
        ),
        "4D X of other timesteps": (
            lambda reg: reg.fit(np.zeros((len(X), 12, 1, 1)), y),
            "X must be 2D",
        ),
        "zero channels of other timesteps": (
            lambda reg: reg.fit(np.zeros((len(X), 12, 0)), y),
            "0 channels",
        ),
        "DataFrame with NaN": (lambda reg: reg.fit(frame_with_nan, y), "NaN"),
        "1D y, too few samples to hold out": (
            lambda reg: reg.set_params(
                early_stopping=True, validation_fraction=0.99
            ).fit(X[:10], y[:10, 0]),
            "at least one training sample",
        ),
        "warm start on other channels": (
            lambda reg: reg.set_params(warm_start=True).fit(X3, y),
            r"X has 2 channel\(s\), but StackedLSTMRegressor was fitted with 1",
        ),
    }


FAILING_FIT_NAMES = list(_failing_fits(np.zeros((2, 10)), np.zeros((2, 2))))


@pytest.mark.parametrize("case", FAILING_FIT_NAMES)
def test_failed_fit_leaves_fitted_model_unchanged(data, fitted, case):
    X, y = data
    call, message = _failing_fits(X, y)[case]
    regressor = copy.deepcopy(fitted)
    expected = fitted.predict(X)
    with pytest.raises(ValueError, match=message):
        call(regressor)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y_pred = regressor.predict(X)
    np.testing.assert_array_equal(y_pred, expected)
    assert regressor.n_features_in_ == fitted.n_features_in_
    assert regressor.n_outputs_ == fitted.n_outputs_
    assert not hasattr(regressor, "feature_names_in_")


# --- The caller's arrays are never modified -----------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("container", ["array", "fortran", "dataframe", "3d"])
def test_inputs_are_not_modified(data, dtype, container, tiny_params):
    X, y = (array.astype(dtype) for array in data)
    if container == "fortran":
        X = np.asfortranarray(X)
    elif container == "dataframe":
        X = pd.DataFrame(X).add_prefix("t")
    elif container == "3d":
        X = np.stack([X, X], axis=-1)
    X_before, y_before = copy.deepcopy(X), y.copy()
    regressor = StackedLSTMRegressor(**tiny_params).fit(X, y)
    regressor.predict(X)
    np.testing.assert_array_equal(np.asarray(X), np.asarray(X_before))
    np.testing.assert_array_equal(y, y_before)
    # Each prediction is a new array: changing one changes nothing else.
    assert not np.shares_memory(regressor.predict(X), regressor.predict(X))


@pytest.mark.parametrize(
    "make_X",
    [
        lambda X: X > 0.5,
        lambda X: pd.DataFrame(X).assign(flag=True).iloc[:, 1:],
        lambda X: np.datetime64("2026-01-01") + X.astype("timedelta64[D]"),
        lambda X: X.astype("timedelta64[s]"),
    ],
    ids=["bool", "bool column", "datetime64", "timedelta64"],
)
def test_booleans_and_dates_are_refused(data, tiny_params, make_X):
    # validate_data would cast them to numbers without a word.
    X, y = data
    refused = make_X(np.round(X * 10))
    with pytest.raises(ValueError, match="needs real numbers"):
        StackedLSTMRegressor(**tiny_params).fit(refused, y)
    reg = StackedLSTMRegressor(**tiny_params).fit(np.round(X * 10), y)
    with pytest.raises(ValueError, match="needs real numbers"):
        reg.predict(refused)

"""Sequences of different lengths: NaN padding that no LSTM layer reads.

pad_sequences; the module's padded forward pass, in prediction and training;
the estimator's predictions, scaling, model selection and round trips on
padded arrays. Padding in ONNX graphs, forecasts, conformal intervals and
make_windows is tested with those: test_onnx.py, test_forecast.py,
test_conformal.py, test_windows.py.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from sklearn_slstm import (
    StackedLSTMRegressor,
    pad_sequences,
)
from sklearn_slstm._module import StackedLSTM


def _place(sequences, n_timesteps, offsets):
    """Pad each sequence to ``n_timesteps`` with NaN, ``offset`` of them before it."""
    X = np.full((len(sequences), n_timesteps), np.nan)
    for row, sequence, offset in zip(X, sequences, offsets, strict=True):
        row[offset : offset + len(sequence)] = sequence
    return X


# --- pad_sequences -------------------------------------------------------------


def test_pad_sequences_pads_with_nan_at_either_side():
    sequences = [np.array([1.0, 2.0, 3.0]), [4.0], pd.Series([5.0, 6.0])]
    pre = pad_sequences(sequences)
    post = pad_sequences(sequences, padding="post")
    nan = np.nan
    np.testing.assert_array_equal(pre, [[1, 2, 3], [nan, nan, 4], [nan, 5, 6]])
    np.testing.assert_array_equal(post, [[1, 2, 3], [4, nan, nan], [5, 6, nan]])
    assert pre.dtype == np.float64


def test_pad_sequences_truncates_to_maxlen():
    sequences = [np.arange(5.0), np.arange(2.0)]
    np.testing.assert_array_equal(
        pad_sequences(sequences, maxlen=3), [[2, 3, 4], [np.nan, 0, 1]]
    )
    np.testing.assert_array_equal(
        pad_sequences(sequences, maxlen=3, truncating="post"),
        [[0, 1, 2], [np.nan, 0, 1]],
    )
    assert pad_sequences(sequences, maxlen=8).shape == (2, 8)


def test_pad_sequences_of_frames_gives_3d_and_keeps_float32():
    frames = [
        pd.DataFrame({"a": np.arange(n, dtype=np.float32), "b": np.ones(n, np.float32)})
        for n in (4, 2)
    ]
    X = pad_sequences(frames)
    assert X.shape == (2, 4, 2) and X.dtype == np.float32
    assert np.isnan(X[1, :2]).all() and (X[1, 2:, 1] == 1).all()
    # The inputs are left as they were.
    assert len(frames[1]) == 2 and not frames[1].isna().any().any()


@pytest.mark.parametrize(
    ("sequences", "message"),
    [
        ([], "at least one sequence"),
        ([np.arange(3.0), np.array([])], "sequence 1 is empty"),
        ([np.array([1.0, np.nan])], "sequence 0 contains NaN"),
        ([np.array([1.0, np.inf])], "NaN or infinite"),
        ([np.arange(3.0), np.ones((3, 2))], r"all 1D \(n_steps,\) or all 2D"),
        ([np.ones((3, 2)), np.ones((3, 3))], "same number of channels"),
        ([np.array(["a", "b"])], "real numbers"),
        ([np.ones((2, 2, 2))], "must be 1D"),
        (
            [pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]})],
            "same columns",
        ),
    ],
)
def test_pad_sequences_refuses_bad_sequences(sequences, message):
    with pytest.raises(ValueError, match=message):
        pad_sequences(sequences)


def test_pad_sequences_refuses_an_absurd_maxlen_naming_the_memory():
    with pytest.raises(ValueError, match=r"\(14,901\.2 GiB of float64\)"):
        pad_sequences([[1.0, 2.0], [3.0]], maxlen=10**12)


# --- The module never reads the padding -----------------------------------------


@pytest.mark.parametrize("bidirectional", [False, True])
def test_module_output_does_not_depend_on_the_padding(bidirectional):
    torch.manual_seed(0)
    module = StackedLSTM(2, (5, 4), 3, bidirectional=bidirectional).eval()
    sequences = [torch.randn(length, 2) for length in (30, 12, 1, 50)]
    with torch.no_grad():
        alone = torch.cat([module(sequence[None]) for sequence in sequences])
        for n_timesteps in (50, 80):
            for side in ("pre", "post", "middle"):
                X = torch.full((len(sequences), n_timesteps, 2), torch.nan)
                for row, sequence in zip(X, sequences, strict=True):
                    free = n_timesteps - len(sequence)
                    start = {"pre": free, "post": 0, "middle": free // 2}[side]
                    row[start : start + len(sequence)] = sequence
                torch.testing.assert_close(module(X), alone, rtol=0, atol=1e-6)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_batch_trains_as_its_sequences_one_by_one(bidirectional):
    """Same loss, same gradients: padding contributes nothing to training."""
    torch.manual_seed(0)
    module = StackedLSTM(1, (4, 3), 2, bidirectional=bidirectional)
    lengths = (7, 3, 10)
    sequences = [torch.randn(length, 1) for length in lengths]
    targets = torch.randn(len(sequences), 2)
    X = torch.full((len(sequences), 10, 1), torch.nan)
    for row, sequence in zip(X, sequences, strict=True):
        row[10 - len(sequence) :] = sequence

    def loss_and_gradients(losses):
        module.zero_grad()
        loss = torch.stack(losses).mean()
        loss.backward()
        return loss.item(), [p.grad.clone() for p in module.parameters()]

    criterion = torch.nn.MSELoss()
    batch = loss_and_gradients([criterion(module(X), targets)])
    one_by_one = loss_and_gradients(
        [
            criterion(module(sequence[None]), target[None])
            for sequence, target in zip(sequences, targets, strict=True)
        ]
    )
    assert batch[0] == pytest.approx(one_by_one[0], rel=1e-6)
    for padded, alone in zip(batch[1], one_by_one[1], strict=True):
        torch.testing.assert_close(padded, alone, rtol=1e-5, atol=1e-7)


def test_equal_length_rows_give_the_same_result_on_either_path():
    torch.manual_seed(0)
    module = StackedLSTM(1, (4,), 2, linear_skip=True, n_timesteps=6).eval()
    X = torch.randn(5, 6, 1)
    with torch.no_grad():
        torch.testing.assert_close(module.forward_padded(X), module(X))


# --- The estimator on padded arrays -------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"scaling": "global"},
        {"scaling": None, "linear_skip": False},
        {"bidirectional": True, "hidden_layer_sizes": (4, 4)},
    ],
    ids=["window", "global", "none", "bidirectional"],
)
def test_prediction_does_not_depend_on_where_the_padding_is(
    ragged, params, tiny_params
):
    sequences, X, y = ragged
    regressor = StackedLSTMRegressor(**{**tiny_params, **params}).fit(X, y)
    n_timesteps = X.shape[1]
    expected = regressor.predict(X)
    assert np.isfinite(expected).all()
    for offsets in (
        [0] * len(sequences),
        [(n_timesteps - len(s)) // 2 for s in sequences],
    ):
        np.testing.assert_allclose(
            regressor.predict(_place(sequences, n_timesteps, offsets)),
            expected,
            rtol=1e-6,
        )
    # A row's prediction does not depend on the rows predicted with it.
    np.testing.assert_allclose(regressor.predict(X[7:8]), expected[7:8], rtol=1e-6)


def test_padded_model_learns_and_global_statistics_skip_padding(ragged):
    sequences, X, y = ragged
    regressor = StackedLSTMRegressor(scaling="global", random_state=0, max_iter=20).fit(
        X, y
    )
    observed = np.concatenate(sequences)
    np.testing.assert_allclose(regressor.x_mean_, [observed.mean()], rtol=1e-6)
    np.testing.assert_allclose(regressor.x_scale_, [observed.std()], rtol=1e-5)
    assert regressor.score(X, y) > 0.8


def test_window_scaling_of_a_padded_row_uses_its_observed_steps(ragged, tiny_params):
    """A row predicts the same when its values move by a constant factor."""
    sequences, X, y = ragged
    regressor = StackedLSTMRegressor(**tiny_params).fit(X, y)
    np.testing.assert_allclose(
        regressor.predict(X * 3 + 7), regressor.predict(X) * 3 + 7, rtol=1e-5
    )


def test_cross_validation_and_grid_search_slice_padded_rows(ragged, tiny_params):
    _, X, y = ragged
    scores = cross_val_score(
        StackedLSTMRegressor(**tiny_params), X, y, cv=KFold(3), scoring="r2"
    )
    assert scores.shape == (3,) and np.isfinite(scores).all()
    search = GridSearchCV(
        StackedLSTMRegressor(**tiny_params), {"hidden_layer_sizes": [(3,), (6,)]}, cv=2
    ).fit(X, y)
    assert np.isfinite(search.predict(X)).all()


def test_multichannel_padding(ragged_two_channels, tiny_params):
    sequences, y = ragged_two_channels
    X = pad_sequences(sequences, padding="post")
    assert X.ndim == 3
    regressor = StackedLSTMRegressor(**tiny_params).fit(X, y)
    np.testing.assert_allclose(
        regressor.predict(pad_sequences(sequences)), regressor.predict(X), rtol=1e-6
    )


def test_pickle_and_save_round_trips_predict_padded_rows_identically(
    ragged, tmp_path, tiny_params
):
    pytest.importorskip("safetensors")
    _, X, y = ragged
    regressor = StackedLSTMRegressor(**tiny_params).fit(X, y)
    expected = regressor.predict(X)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(regressor)).predict(X), expected
    )
    regressor.save(tmp_path / "model.safetensors")
    loaded = StackedLSTMRegressor.load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded.predict(X), expected)


def test_sample_weights_on_padded_rows_equal_repeated_rows(ragged):
    # As in test_sample_weight.py: exact up to rounding with one batch per
    # epoch; the padding changes nothing about how weights count.
    _, X, y = ragged
    weights = np.random.default_rng(0).integers(0, 3, len(X))
    regressor = StackedLSTMRegressor(
        hidden_layer_sizes=(6,), max_iter=10, batch_size=1000, random_state=0
    )
    weighted = regressor.fit(X, y, sample_weight=weights).predict(X)
    repeated = regressor.fit(X.repeat(weights, axis=0), y.repeat(weights)).predict(X)
    np.testing.assert_allclose(weighted, repeated, rtol=1e-4)

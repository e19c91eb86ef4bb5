"""The quantile head: ``loss="quantile"``, ``predict_quantiles`` and their guarantees.

Conformalized quantile regression around it: test_conformal.py; its ONNX
graph: test_onnx.py.
"""

import pickle

import numpy as np
import pytest

from sklearn_slstm import StackedLSTMRegressor, make_windows, pad_sequences

LEVELS = (0.05, 0.5, 0.95)


@pytest.fixture(scope="module")
def noisy_series():
    """A seasonal series with Gaussian noise of sd 1: windows, next 3 values."""
    rng = np.random.default_rng(0)
    t = np.arange(1200.0)
    series = 20 + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, len(t))
    X, y = make_windows(series, n_timesteps=24, horizon=3)
    return X[:900], y[:900], X[900:], y[900:]


@pytest.fixture(scope="module")
def quantile_model(sine_data, tiny_params):
    X, y = sine_data
    return StackedLSTMRegressor(loss="quantile", **tiny_params).fit(X, y)


def test_quantiles_have_their_shape_never_cross_and_contain_predict(
    quantile_model, sine_data
):
    X, y = sine_data
    y_quantiles = quantile_model.predict_quantiles(X)
    assert y_quantiles.shape == (len(X), y.shape[1], len(LEVELS))
    assert y_quantiles.dtype == np.float64
    assert (np.diff(y_quantiles, axis=2) >= 0).all()
    np.testing.assert_array_equal(y_quantiles[:, :, 1], quantile_model.predict(X))
    np.testing.assert_array_equal(quantile_model.quantiles_, LEVELS)
    # One output per (quantile, target).
    assert quantile_model.net_.module_.head.out_features == 3 * y.shape[1]


def test_1d_target_gives_2d_quantiles(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(loss="quantile", **tiny_params).fit(X, y[:, 0])
    assert reg.predict_quantiles(X[:7]).shape == (7, 3)
    assert reg.predict(X[:7]).shape == (7,)


def test_levels_in_any_order_are_sorted_and_the_parameter_is_kept(
    sine_data, tiny_params
):
    X, y = sine_data
    levels = [0.9, 0.5, 0.1, 0.25]
    reg = StackedLSTMRegressor(loss="quantile", quantiles=levels, **tiny_params)
    reg.fit(X, y)
    np.testing.assert_array_equal(reg.quantiles_, [0.1, 0.25, 0.5, 0.9])
    assert reg.quantiles == [0.9, 0.5, 0.1, 0.25]
    y_quantiles = reg.predict_quantiles(X)
    np.testing.assert_array_equal(y_quantiles[:, :, 2], reg.predict(X))


def test_the_quantiles_cover_the_noise_as_their_levels_say(noisy_series):
    X, y, X_test, y_test = noisy_series
    reg = StackedLSTMRegressor(loss="quantile", max_iter=20, random_state=0)
    y_quantiles = reg.fit(X, y).predict_quantiles(X_test)
    below = (y_test[:, :, np.newaxis] <= y_quantiles).mean(axis=(0, 1))
    # The share of targets below each quantile is near its level; and the
    # 90% band is about as wide as the noise's (3.29 sd).
    np.testing.assert_allclose(below, LEVELS, atol=0.06)
    width = (y_quantiles[:, :, 2] - y_quantiles[:, :, 0]).mean()
    assert 2.6 < width < 4.2


@pytest.mark.parametrize("scaling", ["auto", "window", "global", None])
def test_every_scaling_maps_the_quantiles_back(noisy_series, scaling):
    X, y, X_test, y_test = noisy_series
    if scaling is None:
        # Unscaled training is for data near unit scale.
        X, y, X_test, y_test = ((values - 20) / 5 for values in noisy_series)
    reg = StackedLSTMRegressor(
        loss="quantile", scaling=scaling, max_iter=6, random_state=0
    ).fit(X, y)
    y_quantiles = reg.predict_quantiles(X_test)
    assert (np.diff(y_quantiles, axis=2) >= 0).all()
    inside = (y_quantiles[:, :, 0] <= y_test) & (y_test <= y_quantiles[:, :, 2])
    assert 0.7 < inside.mean() <= 1


def test_loss_and_validation_score_of_the_quantile_head(noisy_series):
    X, y, _, _ = noisy_series
    reg = StackedLSTMRegressor(
        loss="quantile", early_stopping=True, max_iter=4, random_state=0
    ).fit(X, y)
    # validation_scores_ are the R^2 of the medians.
    assert len(reg.validation_scores_) == reg.n_iter_
    assert all(0 < score <= 1 for score in reg.validation_scores_)
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


@pytest.mark.parametrize(
    "quantiles",
    [
        (0.1, 0.9),
        (0.5, 0.5),
        (0.0, 0.5),
        (0.5, 1.0),
        (0.5, float("nan")),
        [[0.5]],
        (),
        np.linspace(0.005, 0.995, 100),
    ],
    ids=["no median", "repeated", "0", "1", "nan", "2d", "empty", "100 levels"],
)
def test_invalid_quantiles_raise_a_value_error(sine_data, quantiles):
    X, y = sine_data
    with pytest.raises(ValueError, match="quantiles must be a sequence"):
        StackedLSTMRegressor(loss="quantile", quantiles=quantiles).fit(X, y)


def test_invalid_quantiles_raise_with_other_losses_too(sine_data):
    # The parameter is validated whatever the loss, as fit validates all.
    X, y = sine_data
    with pytest.raises(ValueError, match="includes the median"):
        StackedLSTMRegressor(quantiles=(0.1, 0.9)).fit(X, y)


def test_predict_quantiles_needs_the_quantile_loss(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    assert not hasattr(reg, "quantiles_")
    with pytest.raises(ValueError, match="loss='quantile'"):
        reg.predict_quantiles(X)


def test_refit_with_another_loss_drops_the_levels(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(loss="quantile", **tiny_params).fit(X, y)
    reg.set_params(loss="mae").fit(X, y)
    assert not hasattr(reg, "quantiles_")
    assert reg.net_.module_.head.out_features == y.shape[1]


def test_padded_rows_predict_the_quantiles_of_their_sequence(ragged, tiny_params):
    sequences, X, y = ragged
    reg = StackedLSTMRegressor(loss="quantile", **tiny_params).fit(X, y)
    post = pad_sequences(sequences, padding="post")
    np.testing.assert_allclose(
        reg.predict_quantiles(post), reg.predict_quantiles(X), rtol=1e-6
    )
    alone = np.concatenate([reg.predict_quantiles(X[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(alone, reg.predict_quantiles(X[:5]), rtol=1e-6)


def test_weight_zero_rows_change_nothing(sine_data, tiny_params):
    X, y = sine_data
    weights = np.ones(len(X))
    weights[::3] = 0
    weighted = StackedLSTMRegressor(loss="quantile", **tiny_params)
    weighted.fit(X, y, sample_weight=weights)
    kept = StackedLSTMRegressor(loss="quantile", **tiny_params)
    kept.fit(X[weights > 0], y[weights > 0])
    np.testing.assert_array_equal(
        weighted.predict_quantiles(X), kept.predict_quantiles(X)
    )


def test_forecast_feeds_the_medians_back(noisy_series, tiny_params):
    X, y, X_test, _ = noisy_series
    reg = StackedLSTMRegressor(loss="quantile", **tiny_params).fit(X, y)
    forecast = reg.forecast(X_test[:4], horizon=6)
    first = reg.predict(X_test[:4])
    np.testing.assert_allclose(forecast[:, :3], first, rtol=1e-6)
    window = np.concatenate([X_test[:4, 3:], first], axis=1)
    np.testing.assert_allclose(forecast[:, 3:], reg.predict(window), rtol=1e-6)


def test_warm_start_and_partial_fit_keep_training_the_quantiles(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(loss="quantile", warm_start=True, **tiny_params)
    reg.fit(X, y).fit(X, y)
    assert reg.n_iter_ == 2 * tiny_params["max_iter"]
    reg.partial_fit(X, y)
    assert reg.predict_quantiles(X).shape == (len(X), y.shape[1], 3)
    # Other levels, the same count: the network's shape is unchanged.
    reg.set_params(quantiles=(0.2, 0.5, 0.8)).fit(X, y)
    np.testing.assert_array_equal(reg.quantiles_, (0.2, 0.5, 0.8))
    with pytest.raises(ValueError, match="network shape changed"):
        reg.set_params(quantiles=(0.1, 0.5, 0.9, 0.99)).fit(X, y)


def test_round_trips_give_identical_quantiles(quantile_model, sine_data, tmp_path):
    pytest.importorskip("safetensors")
    X, _ = sine_data
    expected = quantile_model.predict_quantiles(X)
    path = tmp_path / "model.safetensors"
    quantile_model.save(path)
    loaded = StackedLSTMRegressor.load(path)
    np.testing.assert_array_equal(loaded.predict_quantiles(X), expected)
    np.testing.assert_array_equal(loaded.quantiles_, quantile_model.quantiles_)
    unpickled = pickle.loads(pickle.dumps(quantile_model))
    np.testing.assert_array_equal(unpickled.predict_quantiles(X), expected)


def test_a_state_from_before_the_quantiles_parameter_loads(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    state = reg.__getstate__()
    del state["params"]["quantiles"]
    restored = StackedLSTMRegressor.__new__(StackedLSTMRegressor)
    restored.__setstate__(state)
    assert restored.quantiles == (0.05, 0.5, 0.95)
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda state: state["fitted"].pop("quantiles_"), "quantiles_ must be"),
        (
            lambda state: state["fitted"].update(quantiles_=[0.95, 0.5, 0.05]),
            "is not sorted",
        ),
        (
            lambda state: state["fitted"].update(quantiles_=[0.05, 0.95]),
            "quantiles_ is not a sorted list",
        ),
        (
            lambda state: state["fitted"].update(quantiles_=[0.05, 0.5, 0.95, 0.99]),
            "weights",
        ),
    ],
    ids=["missing", "unsorted", "no median", "other count"],
)
def test_inconsistent_levels_in_a_state_are_refused(quantile_model, change, match):
    state = quantile_model.__getstate__()
    change(state)
    with pytest.raises(ValueError, match=match):
        StackedLSTMRegressor.__new__(StackedLSTMRegressor).__setstate__(state)


def test_levels_without_the_quantile_loss_in_a_state_are_refused(
    sine_data, tiny_params
):
    X, y = sine_data
    state = StackedLSTMRegressor(**tiny_params).fit(X, y).__getstate__()
    state["fitted"]["quantiles_"] = [0.05, 0.5, 0.95]
    with pytest.raises(ValueError, match="exactly when loss='quantile'"):
        StackedLSTMRegressor.__new__(StackedLSTMRegressor).__setstate__(state)

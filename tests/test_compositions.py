"""The default scaling inside scikit-learn compositions, and off forecasting.

``scaling="auto"`` keeps window scaling where ``y`` continues the first
channel of ``X``, maps the targets into that channel's units when a scaler
changed ``X`` or ``y`` alone, and scales globally, with a warning, when the
targets are not continuations at all. The figures on real data:
``benchmarks/bench_compositions.py``.
"""

import importlib.util
import pickle
import warnings

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine, make_windows

PARAMS = {"random_state": 0}


@pytest.fixture(scope="module")
def monthly():
    """A CO2-like monthly series: a level near 300, a slow trend, a season.

    Windows of 24 steps and the 6 values that follow from the first 400
    points, and the windows at origins in the last 80 with their targets.
    """
    t = np.arange(480.0)
    rng = np.random.default_rng(0)
    series = 300 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.2, 480)
    X, y = make_windows(series[:400], n_timesteps=24, horizon=6)
    origins = range(400, 480 - 6 + 1, 2)
    X_test = np.stack([series[o - 24 : o] for o in origins])
    y_test = np.stack([series[o : o + 6] for o in origins])
    return X, y, X_test, y_test


def _mae(model, data):
    X, y, X_test, y_test = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default is quiet on all of them
        model.fit(X, y)
    return np.abs(model.predict(X_test) - y_test).mean()


def test_continuations_keep_window_scaling_exactly(monthly):
    X, y, X_test, _ = monthly
    auto = StackedLSTMRegressor(**PARAMS).fit(X, y)
    window = StackedLSTMRegressor(scaling="window", **PARAMS).fit(X, y)
    assert auto.scaling_ == "window"
    assert not hasattr(auto, "target_scale_")
    np.testing.assert_array_equal(auto.predict(X_test), window.predict(X_test))


COMPOSITIONS = {
    "StandardScaler of X": lambda reg: make_pipeline(StandardScaler(), reg),
    "MinMaxScaler of X": lambda reg: make_pipeline(MinMaxScaler(), reg),
    "StandardScaler of y": lambda reg: TransformedTargetRegressor(
        reg, transformer=StandardScaler()
    ),
}


@pytest.mark.parametrize("composition", list(COMPOSITIONS))
def test_a_scaler_of_x_or_of_y_alone_keeps_the_bare_accuracy(monthly, composition):
    wrap = COMPOSITIONS[composition]
    bare = _mae(StackedLSTMRegressor(**PARAMS), monthly)
    wrapped = wrap(StackedLSTMRegressor(**PARAMS))
    assert _mae(wrapped, monthly) < 1.5 * bare
    inner = wrapped.regressor_ if hasattr(wrapped, "regressor_") else wrapped[-1]
    assert inner.scaling_ == "window" and inner.target_scale_ > 0
    # Window scaling as it is, the default before "auto", is far off there,
    # and says so.
    window = wrap(StackedLSTMRegressor(scaling="window", **PARAMS))
    with pytest.warns(UserWarning, match="not on the scale.*scaling='auto'"):
        window.fit(*monthly[:2])
    assert np.abs(window.predict(monthly[2]) - monthly[3]).mean() > 10 * bare


def test_a_model_of_mapped_targets_round_trips_and_refuses_to_forecast(
    monthly, tmp_path
):
    X, y, X_test, _ = monthly
    reg = StackedLSTMRegressor(**PARAMS).fit(X / 100, y)
    restored = [pickle.loads(pickle.dumps(reg))]
    if importlib.util.find_spec("safetensors"):
        reg.save(tmp_path / "model.safetensors")
        restored.append(StackedLSTMRegressor.load(tmp_path / "model.safetensors"))
    for model in restored:
        assert model.target_offset_ == reg.target_offset_
        np.testing.assert_array_equal(
            model.predict(X_test / 100), reg.predict(X_test / 100)
        )
    # Predictions in the units of y cannot be fed back as values of X.
    with pytest.raises(ValueError, match="not on the scale of X"):
        reg.forecast(X_test / 100, horizon=12)


def test_continued_training_keeps_the_fitted_map(monthly):
    X, y, _, _ = monthly
    reg = StackedLSTMRegressor(**{**PARAMS, "max_iter": 1}).fit(X / 100, y)
    offset, scale = reg.target_offset_, reg.target_scale_
    reg.partial_fit(X[:50] / 100, y[:50])
    assert (reg.target_offset_, reg.target_scale_) == (offset, scale)


def test_wave_parameters_are_scaled_globally_with_a_warning():
    # Targets that are not future values: the period and decay of each wave.
    X, _, params = make_damped_sine(600, return_params=True, random_state=0)
    with pytest.warns(UserWarning, match="not continuations.*scaling='global'"):
        auto = StackedLSTMRegressor(**PARAMS).fit(X[:500], params[:500])
    assert auto.scaling_ == "global"
    chosen = StackedLSTMRegressor(scaling="global", **PARAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # choosing it silences the warning
        chosen.fit(X[:500], params[:500])
    np.testing.assert_array_equal(auto.predict(X[500:]), chosen.predict(X[500:]))
    with pytest.raises(ValueError, match="not continuations of X"):
        auto.forecast(X[500:], horizon=12)


def test_a_label_per_multichannel_series_is_as_good_as_global_scaling():
    # Time-series extrinsic regression: one number per 2-channel series,
    # its level plus twice its amplitude.
    rng = np.random.default_rng(0)
    n, t = 1000, np.arange(40)[None, :, None]
    level = rng.uniform(-5, 5, (n, 1, 1))
    amplitude = rng.uniform(0.5, 3, (n, 1, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 2))
    X = level + amplitude * np.sin(2 * np.pi * t / 12 + phase)
    y = (level + 2 * amplitude).ravel()
    scores = {}
    for scaling in ("auto", "global"):
        reg = StackedLSTMRegressor(scaling=scaling, **PARAMS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            reg.fit(X[:800], y[:800])
        scores[scaling] = r2_score(y[800:], reg.predict(X[800:]))
    assert scores["auto"] >= scores["global"] - 0.01


def test_a_log_of_the_targets_falls_back_to_global_scaling(monthly):
    # A log is not an affine map: window scaling cannot use it, and says so.
    X, y, X_test, y_test = monthly
    model = TransformedTargetRegressor(
        StackedLSTMRegressor(**PARAMS), func=np.log, inverse_func=np.exp
    )
    with pytest.warns(UserWarning, match="not continuations"):
        model.fit(X, y)
    assert model.regressor_.scaling_ == "global"
    assert np.abs(model.predict(X_test) - y_test).mean() < 5


def test_states_of_versions_before_auto_load_with_their_scaling(monthly):
    # Their fitted state has no scaling_: the scaling parameter is the one.
    X, y, X_test, _ = monthly
    reg = StackedLSTMRegressor(scaling="window", **PARAMS).fit(X, y)
    state = reg.__getstate__()
    del state["fitted"]["scaling_"]
    restored = StackedLSTMRegressor.__new__(StackedLSTMRegressor)
    restored.__setstate__(state)
    assert restored.scaling_ == "window"
    np.testing.assert_array_equal(restored.predict(X_test), reg.predict(X_test))


@pytest.mark.parametrize("value", ["bogus", ["window"], "auto"])
def test_a_state_with_an_unknown_scaling_is_refused(monthly, value):
    X, y, _, _ = monthly
    state = StackedLSTMRegressor(**{**PARAMS, "max_iter": 1}).fit(X, y).__getstate__()
    state["fitted"]["scaling_"] = value
    with pytest.raises(ValueError, match="scaling_"):
        StackedLSTMRegressor.__new__(StackedLSTMRegressor).__setstate__(state)

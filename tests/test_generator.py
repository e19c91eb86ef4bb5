"""make_damped_sine and DampedSineGenerator: the formula, shapes and options."""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_slstm import DampedSineGenerator, make_damped_sine


def _formula(period, decay, i):
    return 0.5 + 0.5 * np.sin(2 * np.pi * i / period) * np.exp(-decay * i)


def test_values_follow_the_formula():
    X, y, params = make_damped_sine(n_samples=20, return_params=True, random_state=0)
    for row, (period, decay) in enumerate(params):
        np.testing.assert_allclose(X[row], _formula(period, decay, np.arange(50)))
        np.testing.assert_allclose(y[row], _formula(period, decay, np.arange(50, 55)))


def test_known_value():
    # period 4, decay 0: the wave at step 1 is 0.5 + 0.5 * sin(pi / 2) = 1.
    X = DampedSineGenerator(n_timesteps=4, origin=4).transform([[4, 0.0]])
    np.testing.assert_allclose(X, [[0.5, 1.0, 0.5, 0.0]], atol=1e-12)


def test_shapes_dtypes_and_ranges():
    X, y, params = make_damped_sine(
        n_samples=2000, n_timesteps=30, n_outputs=3, return_params=True, random_state=1
    )
    assert X.shape == (2000, 30) and y.shape == (2000, 3) and params.shape == (2000, 2)
    assert X.dtype == y.dtype == params.dtype == np.float64
    assert X.min() >= 0 and X.max() <= 1 and y.min() >= 0 and y.max() <= 1
    period, decay = params.T
    assert set(np.unique(period)) == set(range(10, 21))
    assert decay.min() >= 0.01 and decay.max() < 0.1


def test_random_state_reproducible_and_global_state_untouched():
    state = np.random.get_state()
    X1, y1 = make_damped_sine(n_samples=50, random_state=3)
    X2, y2 = make_damped_sine(n_samples=50, random_state=3)
    X3, _ = make_damped_sine(n_samples=50, random_state=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    np.testing.assert_array_equal(np.random.get_state()[1], state[1])


def test_noise_is_added_to_X_only():
    X, y = make_damped_sine(n_samples=500, random_state=0)
    X_noisy, y_noisy = make_damped_sine(n_samples=500, noise=0.1, random_state=0)
    np.testing.assert_array_equal(y, y_noisy)
    assert np.std(X_noisy - X) == pytest.approx(0.1, rel=0.05)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period_range": (20, 10)}, "period_range"),
        ({"period_range": (0, 10)}, "positive"),
        ({"decay_range": (0.1, 0.01)}, "decay_range"),
    ],
)
def test_make_damped_sine_rejects_bad_ranges(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_damped_sine(n_samples=5, **kwargs)


@pytest.mark.parametrize(
    "kwargs", [{"n_samples": 0}, {"n_timesteps": 0}, {"noise": -1.0}]
)
def test_make_damped_sine_validates_parameters(kwargs):
    with pytest.raises(InvalidParameterError):
        make_damped_sine(**kwargs)


def test_generator_reproduces_make_damped_sine():
    X, _, params = make_damped_sine(n_samples=100, return_params=True, random_state=0)
    np.testing.assert_allclose(DampedSineGenerator().fit_transform(params), X)


def test_generator_window_ends_at_the_origin():
    X, _, params = make_damped_sine(n_samples=10, return_params=True, random_state=0)
    short = DampedSineGenerator(n_timesteps=10).fit_transform(params)
    np.testing.assert_allclose(short, X[:, -10:])
    names = DampedSineGenerator(n_timesteps=3, origin=7).get_feature_names_out()
    assert list(names) == ["t4", "t5", "t6"]


def test_generator_dataframe_in_and_out():
    _, _, params = make_damped_sine(n_samples=8, return_params=True, random_state=0)
    frame = pd.DataFrame(params[:, ::-1], columns=["decay", "period"])
    generator = DampedSineGenerator(n_timesteps=5).set_output(transform="pandas")
    out = generator.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["t45", "t46", "t47", "t48", "t49"]
    np.testing.assert_allclose(
        out.to_numpy(), DampedSineGenerator(n_timesteps=5).transform(params)
    )


def test_generator_noise_is_seeded():
    params = [[12, 0.05], [15, 0.02]]
    a = DampedSineGenerator(noise=0.1, random_state=0).transform(params)
    b = DampedSineGenerator(noise=0.1, random_state=0).transform(params)
    clean = DampedSineGenerator().transform(params)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, clean)


@pytest.mark.parametrize(
    ("generator", "X", "message"),
    [
        (DampedSineGenerator(), [[10.0, 0.1, 3.0]], "2 columns"),
        (DampedSineGenerator(), [[0.0, 0.1]], "period"),
        (DampedSineGenerator(), [[-5.0, 0.1]], "period"),
        (DampedSineGenerator(n_timesteps=60), [[10.0, 0.1]], "must not exceed"),
        (
            DampedSineGenerator(),
            pd.DataFrame({"period": [10.0], "damping": [0.1]}),
            "columns",
        ),
        (DampedSineGenerator(), [[np.nan, 0.1]], "NaN"),
    ],
)
def test_generator_rejects_bad_input(generator, X, message):
    with pytest.raises(ValueError, match=message):
        generator.fit_transform(X)

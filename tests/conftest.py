"""Shared fixtures: small seeded damped sine data and fast settings."""

import pytest

from sklearn_slstm import make_damped_sine


@pytest.fixture(scope="session")
def sine_data():
    """300 short waves: X (300, 20), y (300, 5)."""
    return make_damped_sine(n_samples=300, n_timesteps=20, random_state=0)


@pytest.fixture(scope="session")
def sine_params_data():
    """Wave parameters and targets: params (400, 2), y (400, 5)."""
    _, y, params = make_damped_sine(n_samples=400, return_params=True, random_state=1)
    return params, y


@pytest.fixture
def tiny_params():
    """Parameters of a regressor that fits ``sine_data`` in a fraction of a second.

    A new dict per test, so a test may change it.
    """
    return {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}

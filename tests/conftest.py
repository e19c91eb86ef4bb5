"""Shared fixtures: small seeded damped sine data, built once per session."""

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

"""Shared fixtures: seeded data sets and the one fast setting of the suite.

The data fixtures are session-scoped and shared by many modules: a test that
changes an array must change a copy of it.
"""

from types import MappingProxyType

import numpy as np
import pytest

from sklearn_slstm import make_damped_sine, make_windows, pad_sequences


@pytest.fixture(scope="session")
def sine_data():
    """300 short waves: X (300, 20), y (300, 5)."""
    return make_damped_sine(n_samples=300, n_timesteps=20, random_state=0)


@pytest.fixture(scope="session")
def small_sine_data():
    """40 waves of 10 steps; targets the 3 values that follow: X (40, 10), y (40, 3).

    For tests that fit many models (persistence, validation) and need no more.
    """
    return make_damped_sine(n_samples=40, n_timesteps=10, n_outputs=3, random_state=0)


@pytest.fixture(scope="session")
def sine_params_data():
    """Wave parameters and targets: params (400, 2), y (400, 5)."""
    _, y, params = make_damped_sine(n_samples=400, return_params=True, random_state=1)
    return params, y


@pytest.fixture(scope="session")
def trending_series():
    """A seasonal series on a trend, at a level far from unit scale."""
    t = np.arange(480.0)
    return 300 + 0.5 * t + 3 * np.sin(2 * np.pi * t / 12)


@pytest.fixture(scope="session")
def trending_windows(trending_series):
    """Windows of 24 steps and the 6 values that follow, from the first 400."""
    return make_windows(trending_series[:400], n_timesteps=24, horizon=6)


def make_ragged(n_sequences=60, low=5, high=15, n_channels=None, seed=0):
    """Noisy sines of random lengths, at levels far from zero, and their next value."""
    rng = np.random.default_rng(seed)
    sequences, targets = [], []
    for length in rng.integers(low, high + 1, n_sequences):
        t = np.arange(length + 1) * 0.4 + rng.uniform(0, 6)
        values = 50 + 5 * np.sin(t) + rng.normal(0, 0.1, length + 1)
        if n_channels is not None:
            values = np.stack([values, *([np.cos(t)] * (n_channels - 1))], axis=1)
        sequences.append(values[:-1])
        targets.append(values[-1] if n_channels is None else values[-1, 0])
    return sequences, np.array(targets)


@pytest.fixture(scope="session")
def ragged():
    """60 univariate sequences of 5 to 15 steps, pre-padded with NaN, and targets.

    Returns ``(sequences, X, y)`` with ``X = pad_sequences(sequences)``.
    """
    sequences, y = make_ragged()
    return sequences, pad_sequences(sequences), y


@pytest.fixture(scope="session")
def ragged_two_channels():
    """Like ``ragged`` with a second channel: ``(sequences, y)``, unpadded."""
    return make_ragged(n_channels=2)


@pytest.fixture(scope="session")
def tiny_params():
    """The fast setting of the suite: a regressor that fits the data in a moment.

    Read-only, and shared by module-scoped fixtures too: a test that needs
    another value overrides one key, e.g. ``{**tiny_params, "max_iter": 3}``.
    """
    return MappingProxyType(
        {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}
    )


def make_sine_classes(n_samples=120, n_timesteps=16, n_classes=2, seed=0):
    """Noisy sines whose frequency is the class: X (n_samples, n_timesteps), y.

    Class ``k`` has the frequency ``0.08 * (k + 1)`` cycles per step and a
    random phase; the labels are the strings "f0", "f1", ...
    """
    rng = np.random.default_rng(seed)
    classes = rng.integers(n_classes, size=n_samples)
    frequency = 0.08 * (classes + 1)[:, np.newaxis]
    phase = rng.uniform(0, 2 * np.pi, (n_samples, 1))
    t = np.arange(n_timesteps)
    X = np.sin(2 * np.pi * frequency * t + phase)
    X += rng.normal(0, 0.1, X.shape)
    return X, np.array([f"f{k}" for k in classes])


@pytest.fixture(scope="session")
def sine_classes():
    """120 noisy sines of 16 steps in 2 classes by frequency: X, y (strings)."""
    return make_sine_classes()


@pytest.fixture(scope="session")
def sine_classes_3():
    """150 noisy sines of 16 steps in 3 classes by frequency: X, y (strings)."""
    return make_sine_classes(n_samples=150, n_classes=3, seed=1)

"""Stacked LSTMs as scikit-learn estimators."""

from ._generator import DampedSineGenerator, make_damped_sine
from ._regressor import StackedLSTMRegressor

__version__ = "0.1.0"

__all__ = [
    "DampedSineGenerator",
    "StackedLSTMRegressor",
    "make_damped_sine",
]

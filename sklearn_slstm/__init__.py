"""Stacked LSTMs as scikit-learn estimators."""

from ._classifier import StackedLSTMClassifier
from ._conformal import ConformalIntervalRegressor
from ._display import ForecastDisplay
from ._generator import DampedSineGenerator, make_damped_sine
from ._lags import LagsToSequences
from ._padding import pad_sequences
from ._regressor import StackedLSTMRegressor
from ._version import __version__ as __version__
from ._windows import make_windows

__all__ = [
    "ConformalIntervalRegressor",
    "DampedSineGenerator",
    "ForecastDisplay",
    "LagsToSequences",
    "StackedLSTMClassifier",
    "StackedLSTMRegressor",
    "make_damped_sine",
    "make_windows",
    "pad_sequences",
]

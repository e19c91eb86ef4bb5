"""The damped sine wave problem: the formula, a data generator and a transformer."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import validate_data

PARAM_COLUMNS = ("period", "decay")


def damped_sine(period, decay, steps):
    """Sample damped sine waves at integer steps.

    ``value(i) = 0.5 + 0.5 * sin(2 * pi * i / period) * exp(-decay * i)``

    Parameters
    ----------
    period : ndarray of shape (n_waves,)
        Period of each wave, in steps.
    decay : ndarray of shape (n_waves,)
        Exponential decay rate of each wave, per step.
    steps : ndarray of shape (n_steps,)
        The steps ``i`` at which every wave is sampled.

    Returns
    -------
    values : ndarray of shape (n_waves, n_steps)
        ``values[k, j]`` is wave ``k`` at step ``steps[j]``.
    """
    period = np.asarray(period, dtype=np.float64)[:, np.newaxis]
    decay = np.asarray(decay, dtype=np.float64)[:, np.newaxis]
    steps = np.asarray(steps, dtype=np.float64)[np.newaxis, :]
    return 0.5 + 0.5 * np.sin(2 * np.pi * steps / period) * np.exp(-decay * steps)


def _check_range(name, value, low_open=False):
    low, high = value
    if not low <= high:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {value}.")
    if low_open and low <= 0:
        raise ValueError(f"{name} must contain only positive values, got {value}.")


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_timesteps": [Interval(Integral, 1, None, closed="left")],
        "n_outputs": [Interval(Integral, 1, None, closed="left")],
        "period_range": [tuple],
        "decay_range": [tuple],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "return_params": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_damped_sine(
    n_samples=1000,
    *,
    n_timesteps=50,
    n_outputs=5,
    period_range=(10, 20),
    decay_range=(0.01, 0.1),
    noise=0.0,
    random_state=None,
    return_params=False,
):
    """Generate the damped sine wave prediction problem.

    Each sample is one wave
    ``value(i) = 0.5 + 0.5 * sin(2 * pi * i / period) * exp(-decay * i)``
    with an integer ``period`` drawn uniformly from ``period_range`` (both
    ends included) and ``decay`` drawn uniformly from ``decay_range`` (high
    end excluded). The input is the wave at ``i = 0, ..., n_timesteps - 1``
    and the target is the ``n_outputs`` values that follow. Without noise,
    every value lies in ``[0, 1]``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of waves.
    n_timesteps : int, default=50
        Length of the input sequence of each wave.
    n_outputs : int, default=5
        Number of future values to predict.
    period_range : tuple of two int, default=(10, 20)
        Inclusive range of the integer period, in steps.
    decay_range : tuple of two float, default=(0.01, 0.1)
        Half-open range ``[low, high)`` of the decay rate.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to ``X`` only; ``y``
        stays the noise-free continuation.
    random_state : int, RandomState instance or None, default=None
        Determines the waves and the noise. Pass an int for reproducible
        output across calls.
    return_params : bool, default=False
        If True, also return the parameters of each wave.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps), dtype float64
        The input sequences.
    y : ndarray of shape (n_samples, n_outputs), dtype float64
        The values that follow each input sequence.
    params : ndarray of shape (n_samples, 2), dtype float64
        Only returned if ``return_params=True``. Columns are ``period`` and
        ``decay``; :class:`DampedSineGenerator` turns them back into ``X``.

    See Also
    --------
    DampedSineGenerator : Samples waves of given parameters as a transformer.

    Examples
    --------
    >>> from sklearn_slstm import make_damped_sine
    >>> X, y = make_damped_sine(n_samples=100, random_state=0)
    >>> X.shape, y.shape
    ((100, 50), (100, 5))
    >>> bool(X.min() >= 0 and X.max() <= 1)
    True
    """
    _check_range("period_range", period_range, low_open=True)
    _check_range("decay_range", decay_range)
    rng = check_random_state(random_state)
    period = rng.randint(period_range[0], period_range[1] + 1, size=n_samples)
    decay = rng.uniform(decay_range[0], decay_range[1], size=n_samples)
    values = damped_sine(period, decay, np.arange(n_timesteps + n_outputs))
    X, y = values[:, :n_timesteps], values[:, n_timesteps:]
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    if return_params:
        return X, y, np.column_stack([period, decay]).astype(np.float64)
    return X, y


class DampedSineGenerator(TransformerMixin, BaseEstimator):
    """Turn damped sine wave parameters into input sequences.

    Each input row holds the ``(period, decay)`` of one wave, as returned by
    ``make_damped_sine(..., return_params=True)``. :meth:`transform` samples
    each wave on the ``n_timesteps`` steps that end just before the forecast
    origin, ``i = origin - n_timesteps, ..., origin - 1``. The origin stays
    put when ``n_timesteps`` changes, so the targets stay the same and a grid
    search over the window length compares like with like.

    The transformer is stateless: :meth:`fit` only checks its input.

    Parameters
    ----------
    n_timesteps : int, default=50
        Length of the sampled window. Must not exceed ``origin``.
    origin : int, default=50
        The first step after the window: the step a forecast starts at.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the sampled values.
    random_state : int, RandomState instance or None, default=None
        Determines the noise. Pass an int for the same noise on every call
        to :meth:`transform`.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during :term:`fit`, always 2.
    feature_names_in_ : ndarray of shape (2,)
        ``["period", "decay"]``, defined only when ``X`` was a DataFrame.

    See Also
    --------
    make_damped_sine : Generate random waves with their targets.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_slstm import DampedSineGenerator, make_damped_sine
    >>> X, y, params = make_damped_sine(
    ...     n_samples=10, return_params=True, random_state=0
    ... )
    >>> np.allclose(DampedSineGenerator().fit_transform(params), X)
    True
    >>> DampedSineGenerator(n_timesteps=3).fit_transform([[10, 0.05]]).round(3)
    array([[0.455, 0.457, 0.475]])
    """

    _parameter_constraints = {
        "n_timesteps": [Interval(Integral, 1, None, closed="left")],
        "origin": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, n_timesteps=50, origin=50, noise=0.0, random_state=None):
        self.n_timesteps = n_timesteps
        self.origin = origin
        self.noise = noise
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the wave parameters; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2)
            One ``(period, decay)`` row per wave. A DataFrame must have the
            columns ``period`` and ``decay``, in any order.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
        """
        self._check_window()
        self._validate_params_data(X, reset=True)
        return self

    def transform(self, X):
        """Sample the wave of each row on the window before the origin.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2)
            One ``(period, decay)`` row per wave.

        Returns
        -------
        X_seq : ndarray of shape (n_samples, n_timesteps)
            Column ``j`` holds step ``origin - n_timesteps + j``.
        """
        self._check_window()
        params = self._validate_params_data(X, reset=False)
        values = damped_sine(params[:, 0], params[:, 1], self._steps())
        if self.noise:
            rng = check_random_state(self.random_state)
            values += rng.normal(scale=self.noise, size=values.shape)
        return values

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``t{i}`` for each sampled step ``i``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the output names depend only on the window.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``["t{origin - n_timesteps}", ..., "t{origin - 1}"]``.
        """
        return np.asarray([f"t{step}" for step in self._steps()], dtype=object)

    def _steps(self):
        return np.arange(self.origin - self.n_timesteps, self.origin)

    def _check_window(self):
        if self.n_timesteps > self.origin:
            raise ValueError(
                f"n_timesteps={self.n_timesteps} must not exceed "
                f"origin={self.origin}: the window ends just before the origin."
            )

    def _validate_params_data(self, X, *, reset):
        columns = getattr(X, "columns", None)
        if columns is not None:
            if set(map(str, columns)) != set(PARAM_COLUMNS):
                raise ValueError(
                    "DampedSineGenerator expects a DataFrame with the columns "
                    f"{list(PARAM_COLUMNS)}, got {list(columns)}."
                )
            X = X[list(PARAM_COLUMNS)]
        params = validate_data(self, X, reset=reset, dtype=np.float64)
        if params.shape[1] != len(PARAM_COLUMNS):
            raise ValueError(
                "DampedSineGenerator expects 2 columns (period, decay) per row, "
                f"got {params.shape[1]}."
            )
        if np.any(params[:, 0] <= 0):
            raise ValueError("Every period (column 0) must be positive.")
        return params

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags

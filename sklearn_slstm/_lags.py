"""Lag matrices, as skforecast and sktime build them, turned into sequences."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

# Whether the first lag column is the newest value (skforecast's lag_1 is the
# value just before the target) or the oldest (sktime's windows, make_windows).
_ORDERS = ("newest_first", "oldest_first")
# What the columns after the lags hold: one value per row, or further lagged
# variables, n_lags columns each.
_EXTRA_LAYOUTS = ("repeat", "lagged")


class LagsToSequences(TransformerMixin, BaseEstimator):
    """Turn a lag matrix into oldest-first sequences for the LSTM.

    A lag matrix holds one row per target and one column per lag of the
    series, often followed by other columns: exogenous variables or window
    features (rolling means). Libraries build it in different orders:
    skforecast's ``ForecasterRecursive`` and ``ForecasterDirect`` put
    ``lag_1``, the newest value, first, and append the other columns after
    the oldest lag; sktime's ``make_reduction`` puts the oldest value first.
    :class:`StackedLSTMRegressor` reads axis 1 as time, oldest first, so
    every other column order is a different, and wrong, sequence.

    :meth:`transform` returns one sequence per row, oldest first, of shape
    ``(n_samples, n_lags, n_channels)``: channel 0 holds the lags, and each
    extra column becomes one more channel. Put it in front of the regressor,
    ``make_pipeline(LagsToSequences(n_lags=24), StackedLSTMRegressor())``,
    and pass the pipeline to the forecasting library as its regressor.

    The transformer is stateless: :meth:`fit` only records the number and
    names of the columns.

    Parameters
    ----------
    n_lags : int or None, default=None
        Number of lag columns: the first ``n_lags`` columns of ``X``. They
        become the sequence's time steps and its first channel. None means
        that every column is a lag.
    order : {"newest_first", "oldest_first"}, default="newest_first"
        The order of the lag columns. ``"newest_first"``: column 0 is the
        value just before the target (skforecast's ``lag_1``).
        ``"oldest_first"``: the last lag column is the newest (sktime's
        ``make_reduction``, :func:`make_windows`).
    extra : {"repeat", "lagged"}, default="repeat"
        What the columns after the lags hold.

        - ``"repeat"``: one value per column and row (skforecast's exogenous
          variables and window features). Each becomes a channel that
          holds its value at every time step.
        - ``"lagged"``: further variables, ``n_lags`` columns each, in the
          same ``order`` as the lags (sktime's ``make_reduction`` with
          exogenous ``X`` appends the window of each exogenous variable).
          Each variable becomes a channel, step by step.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns seen during :term:`fit`, defined only when
        ``X`` was a DataFrame with string column names.

    See Also
    --------
    make_windows : Windows cut from a series, already oldest first.
    StackedLSTMRegressor : Reads the sequences this transformer returns.

    Notes
    -----
    Under window scaling (the regressor's ``scaling="window"``, and what its
    default ``scaling="auto"`` chooses for forecasting), each channel of
    each sequence is standardised by its own mean and standard deviation,
    so a channel
    that is constant along the sequence (every ``"repeat"`` channel) reaches
    the network as zeros: it carries no information. Fit with
    ``scaling="global"`` to let such channels count (the user guide's
    :ref:`lag_matrices` section measures both).

    NaN passes through unchanged: a lag the series does not have yet is
    padding to the regressor (see :func:`pad_sequences`), once it is
    among the oldest steps.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_slstm import LagsToSequences
    >>> X = np.array([[3.0, 2.0, 1.0, 10.0], [4.0, 3.0, 2.0, 20.0]])
    >>> sequences = LagsToSequences(n_lags=3).fit_transform(X)
    >>> sequences.shape
    (2, 3, 2)
    >>> sequences[0]
    array([[ 1., 10.],
           [ 2., 10.],
           [ 3., 10.]])

    sktime's windows are oldest first, with the window of an exogenous
    variable after that of the series:

    >>> X = np.array([[1.0, 2.0, 3.0, 10.0, 20.0, 30.0]])
    >>> LagsToSequences(n_lags=3, order="oldest_first", extra="lagged").fit_transform(
    ...     X
    ... )[0]
    array([[ 1., 10.],
           [ 2., 20.],
           [ 3., 30.]])
    """

    _parameter_constraints = {
        "n_lags": [Interval(Integral, 1, None, closed="left"), None],
        "order": [StrOptions(set(_ORDERS))],
        "extra": [StrOptions(set(_EXTRA_LAYOUTS))],
    }

    def __init__(self, *, n_lags=None, order="newest_first", extra="repeat"):
        self.n_lags = n_lags
        self.order = order
        self.extra = extra

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the lag matrix and record its columns; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The lag matrix: ``n_lags`` lag columns, then the extra columns.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
        """
        self._check_lag_matrix(X, reset=True)
        return self

    def transform(self, X):
        """Rearrange each row into an oldest-first sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The lag matrix, with the columns seen in :meth:`fit`.

        Returns
        -------
        X_seq : ndarray of shape (n_samples, n_lags, n_channels)
            ``X_seq[:, j, 0]`` is the lag ``n_lags - j``: the oldest lag
            first, the newest last. Channels 1 and on hold the extra
            columns, in their order: ``n_features - n_lags`` channels with
            ``extra="repeat"``, ``n_features / n_lags - 1`` with
            ``extra="lagged"``. float32 input stays float32; anything
            else becomes float64.
        """
        lags = self._check_lag_matrix(X, reset=False)
        n_lags = self._n_lags(lags.shape[1])
        if self.extra == "lagged":
            # Variable-major blocks of n_lags columns: (n, n_variables, n_lags).
            blocks = lags.reshape(len(lags), -1, n_lags)
            sequences = np.moveaxis(blocks, 1, 2)
        else:
            extras = lags[:, np.newaxis, n_lags:]
            sequences = np.concatenate(
                [
                    lags[:, :n_lags, np.newaxis],
                    np.broadcast_to(extras, (len(lags), n_lags, extras.shape[2])),
                ],
                axis=2,
            )
        if self.order == "newest_first":
            sequences = sequences[:, ::-1]
        return np.ascontiguousarray(sequences)

    def _n_lags(self, n_features):
        return n_features if self.n_lags is None else self.n_lags

    def _check_lag_matrix(self, X, *, reset):
        """``X`` validated as a 2D float array whose columns fit ``n_lags``."""
        if getattr(X, "ndim", None) == 3:
            raise ValueError(
                "LagsToSequences expects a 2D lag matrix (n_samples, n_features), "
                "but X is 3D: it already holds sequences, which "
                "StackedLSTMRegressor takes as they are."
            )
        lags = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
        )
        n_features = lags.shape[1]
        n_lags = self._n_lags(n_features)
        if n_lags > n_features:
            raise ValueError(
                f"n_lags={n_lags} exceeds the {n_features} column(s) of X: the "
                "first n_lags columns must be the lags. Pass the forecaster's "
                "number of lags (skforecast's lags=, sktime's window_length=)."
            )
        if self.extra == "lagged" and n_features % n_lags:
            raise ValueError(
                f'With extra="lagged", the columns after the {n_lags} lags must '
                f"be whole blocks of {n_lags} columns, one block per variable, "
                f"but X has {n_features} columns ({n_features - n_lags} extra). "
                'Use extra="repeat" for one column per variable.'
            )
        return lags

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.allow_nan = True
        return tags

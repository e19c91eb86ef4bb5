"""Split-conformal prediction intervals around any regressor."""

import math
import warnings
from numbers import Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    RegressorMixin,
    _fit_context,
    clone,
)
from sklearn.model_selection import train_test_split
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_consistent_length, check_is_fitted


class ConformalIntervalRegressor(RegressorMixin, MetaEstimatorMixin, BaseEstimator):
    """Prediction intervals with a coverage guarantee, by split conformal.

    :meth:`fit` splits the data in two: a clone of ``estimator`` is fitted on
    the first part, and the absolute residuals of its predictions on the
    second part, the calibration set, give one interval half-width per
    output. :meth:`predict_interval` returns the point prediction minus and
    plus that half-width. If the calibration data and new data are
    exchangeable (for instance, drawn independently from the same
    distribution), each output's interval contains the true value with
    probability at least ``coverage``, whatever the model and however well
    it fits.

    Parameters
    ----------
    estimator : estimator instance
        The regressor to wrap, for example a :class:`StackedLSTMRegressor`.
        It is cloned, so the object passed is never fitted. Multi-output
        regressors get one interval width per output.
    coverage : float, default=0.9
        Target probability, in (0, 1), that an interval contains the true
        value.
    calibration_fraction : float, default=0.2
        Fraction, in (0, 1), of the samples passed to :meth:`fit` held out
        to calibrate the intervals; the estimator is fitted on the rest.
    shuffle : bool, default=True
        Whether the calibration samples are drawn at random. With
        ``shuffle=False`` they are the last ``calibration_fraction`` of the
        rows, in the order given, and the estimator is fitted on the rows
        before them: use it for windows of a time series
        (:func:`make_windows`), whose neighbouring rows overlap, so that
        no calibration window shares values with the training windows
        except at the boundary, and calibration, like forecasting, happens
        after the training data.
    random_state : int, RandomState instance or None, default=None
        Controls the shuffled split into training and calibration samples.
        Pass an int for the same split across calls; ignored when
        ``shuffle=False``. The wrapped estimator's own randomness is set by
        its own parameters.

    Attributes
    ----------
    estimator_ : estimator instance
        The clone of ``estimator`` fitted on the training part.
    quantiles_ : ndarray of shape (n_outputs,)
        Half-width of the interval of each output: the
        ``ceil((n_calibration + 1) * coverage)``-th smallest absolute
        residual on the calibration set. ``inf`` if the calibration set is
        too small for ``coverage`` (see Notes).
    n_calibration_ : int
        Number of calibration samples.
    n_features_in_ : int
        Number of features seen during :term:`fit`. Defined only when the
        fitted estimator defines it.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when the
        fitted estimator defines it.

    See Also
    --------
    StackedLSTMRegressor : A sequence regressor to wrap.
    sklearn.model_selection.train_test_split : The split used by ``fit``.

    Notes
    -----
    The guarantee holds for each output on its own (marginal coverage):
    ``coverage <= P(y_j in [lower_j, upper_j]) <= coverage + 1 /
    (n_calibration + 1)``, the upper bound when the residuals have no ties.
    It does not say that all outputs are covered at once; for a joint
    guarantee over ``n_outputs`` outputs, ask for a coverage of
    ``1 - (1 - coverage) / n_outputs`` (Bonferroni). It is marginal over
    samples too: the intervals have the same width for every input.

    Windows of one time series break exchangeability twice over: a
    shuffled split puts calibration windows between training windows that
    share most of their values, so the residuals come out too small, and
    forecasts are made later than every window seen. ``shuffle=False``
    calibrates on the most recent windows, after the training ones, which
    is the honest choice for forecasts; the guarantee then rests on the
    recent past resembling the near future.

    The half-width of output ``j`` is the ``k``-th smallest of the ``n``
    calibration residuals ``|y_j - y_pred_j|`` with
    ``k = ceil((n + 1) * coverage)``: the ``k / n`` empirical quantile with
    the finite-sample correction of split conformal prediction [1]_. If
    ``k > n`` no finite width guarantees the coverage: the width is
    infinite and a warning says how many calibration samples are needed.

    Split conformal works with any regressor, multi-output ones included.
    MAPIE's regressors take a 1D ``y`` only, so a multi-step forecast would
    need one wrapper per step.

    References
    ----------
    .. [1] J. Lei, M. G'Sell, A. Rinaldo, R. J. Tibshirani and L. Wasserman,
       "Distribution-Free Predictive Inference for Regression", Journal of
       the American Statistical Association, 113(523), 2018.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn_slstm import make_damped_sine
    >>> from sklearn_slstm import ConformalIntervalRegressor
    >>> X, y = make_damped_sine(n_samples=2000, random_state=0)
    >>> reg = ConformalIntervalRegressor(Ridge(), random_state=0).fit(X, y)
    >>> reg.quantiles_.shape
    (5,)
    >>> X_new, y_new = make_damped_sine(n_samples=1000, random_state=1)
    >>> lower, upper = reg.predict_interval(X_new)
    >>> lower.shape
    (1000, 5)
    >>> covered = ((lower <= y_new) & (y_new <= upper)).mean(axis=0)
    >>> bool((covered > 0.85).all())
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "coverage": [Interval(Real, 0, 1, closed="neither")],
        "calibration_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        *,
        coverage=0.9,
        calibration_fraction=0.2,
        shuffle=True,
        random_state=None,
    ):
        self.estimator = estimator
        self.coverage = coverage
        self.calibration_fraction = calibration_fraction
        self.shuffle = shuffle
        self.random_state = random_state

    @_fit_context(
        # The wrapped estimator's parameters are validated by its own fit.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None):
        """Fit the estimator on one part of the data, calibrate on the other.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training input, in any form the estimator accepts (for a
            :class:`StackedLSTMRegressor`, 2D or 3D sequences).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, passed on (those of the training part)
            to the estimator's ``fit``, which must accept them. The
            calibration is unweighted: every calibration sample counts
            once, as the coverage guarantee assumes.

        Returns
        -------
        self : object
            The fitted wrapper.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        check_consistent_length(X, y, sample_weight)
        arrays = [X, y] if sample_weight is None else [X, y, sample_weight]
        parts = train_test_split(
            *arrays,
            test_size=self.calibration_fraction,
            shuffle=self.shuffle,
            random_state=self.random_state if self.shuffle else None,
        )
        X_train, X_calib, y_train, y_calib = parts[:4]
        fit_params = {} if sample_weight is None else {"sample_weight": parts[4]}
        self.estimator_ = clone(self.estimator).fit(X_train, y_train, **fit_params)
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))

        y_calib = np.asarray(y_calib, dtype=np.float64)
        y_pred = np.asarray(self.estimator_.predict(X_calib), dtype=np.float64)
        residuals = np.abs(y_calib - y_pred.reshape(y_calib.shape))
        residuals = residuals.reshape(len(residuals), -1)
        n_calibration = len(residuals)
        rank = _conformal_rank(n_calibration, self.coverage)
        if rank > n_calibration:
            warnings.warn(
                f"{n_calibration} calibration samples are too few for "
                f"coverage={self.coverage}: the intervals are infinite. At least "
                f"{_min_calibration_size(self.coverage)} are needed; "
                "pass more data or raise calibration_fraction.",
                UserWarning,
                stacklevel=3,
            )
            self.quantiles_ = np.full(residuals.shape[1], np.inf)
        else:
            self.quantiles_ = np.sort(residuals, axis=0)[rank - 1]
        self.n_calibration_ = n_calibration
        return self

    def predict(self, X):
        """Predict with the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Input, in the form seen during :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The estimator's point predictions.
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def predict_interval(self, X):
        """Predict intervals that contain the true values with ``coverage``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Input, in the form seen during :meth:`fit`.

        Returns
        -------
        lower : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Lower bounds, of the shape of :meth:`predict`'s output.
        upper : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Upper bounds, of the same shape.
        """
        y_pred = np.asarray(self.predict(X), dtype=np.float64)
        half_width = self.quantiles_ if y_pred.ndim == 2 else self.quantiles_[0]
        return y_pred - half_width, y_pred + half_width

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.three_d_array = inner.input_tags.three_d_array
        tags.target_tags.multi_output = inner.target_tags.multi_output
        return tags


def _conformal_rank(n_calibration, coverage):
    """``ceil((n_calibration + 1) * coverage)``, immune to float round-off.

    Rounding first keeps, say, ``(9 + 1) * 0.7 = 7.000000000000001`` at 7.
    """
    return math.ceil(round((n_calibration + 1) * coverage, 9))


def _min_calibration_size(coverage):
    """The fewest calibration samples that give ``coverage`` a finite width."""
    return math.ceil(round(coverage / (1 - coverage), 9))

"""Conformal prediction intervals around any regressor: split conformal and CQR."""

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
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_consistent_length, check_is_fitted


class ConformalIntervalRegressor(RegressorMixin, MetaEstimatorMixin, BaseEstimator):
    """Prediction intervals with a coverage guarantee, by conformal prediction.

    :meth:`fit` splits the data in two: a clone of ``estimator`` is fitted on
    the first part, and its errors on the second part, the calibration set,
    calibrate the intervals, one correction per output:

    - ``method="split"`` (split conformal): the absolute residuals of the
      point predictions give one half-width per output, and
      :meth:`predict_interval` returns the point prediction minus and plus
      it: the same width for every input.
    - ``method="cqr"`` (conformalized quantile regression): the estimator
      predicts a lower and an upper quantile (a
      :class:`StackedLSTMRegressor` with ``loss="quantile"``); how far the
      calibration targets fall outside them gives one correction per
      output, by which :meth:`predict_interval` widens (or narrows) the
      predicted quantiles. The width then follows the model's own
      uncertainty about each input: narrow in calm stretches of a series,
      wide in volatile ones.

    If the calibration data and new data are exchangeable (for instance,
    drawn independently from the same distribution), each output's interval
    contains the true value with probability at least ``coverage``, with
    either method, whatever the model and however well it fits.

    Parameters
    ----------
    estimator : estimator instance
        The regressor to wrap, for example a :class:`StackedLSTMRegressor`.
        It is cloned, so the object passed is never fitted. Multi-output
        regressors get one interval width per output.
    coverage : float, default=0.9
        Target probability, in (0, 1), that an interval contains the true
        value.
    method : {"split", "cqr"}, default="split"
        How the intervals are built (see above). "cqr" needs an estimator
        with a ``predict_quantiles`` method (or a ``Pipeline`` that ends in
        one) whose levels (its
        ``quantiles_``) include ``(1 - coverage) / 2`` and
        ``(1 + coverage) / 2``: for the default ``coverage=0.9``, the
        default ``quantiles=(0.05, 0.5, 0.95)`` of
        :class:`StackedLSTMRegressor`; for ``coverage=0.95``,
        ``quantiles=(0.025, 0.5, 0.975)``.
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
        The correction of each output: the
        ``ceil((n_calibration + 1) * coverage)``-th smallest conformity
        score on the calibration set. For "split", the half-width of the
        interval (the scores are the absolute residuals); for "cqr", how
        far the predicted quantiles are moved outwards, negative when they
        are moved inwards (the scores are ``max(lower - y, y - upper)``).
        ``inf`` if the calibration set is too small for ``coverage`` (see
        Notes).
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

    For "cqr", the score of a calibration sample is ``max(q_lo - y, y -
    q_hi)`` for its predicted quantiles ``q_lo`` and ``q_hi``, and the
    interval is ``[q_lo - Q, q_hi + Q]`` with ``Q`` the same order
    statistic of the scores [2]_: the guarantee of split conformal, with
    widths that adapt to each input. Where a negative ``Q`` would make an
    interval empty, it is the point midway between the quantiles instead,
    which only adds coverage.

    Both methods work with multi-output regressors, one correction per
    output. MAPIE's regressors take a 1D ``y`` only, so a multi-step
    forecast would need one wrapper per step.

    References
    ----------
    .. [1] J. Lei, M. G'Sell, A. Rinaldo, R. J. Tibshirani and L. Wasserman,
       "Distribution-Free Predictive Inference for Regression", Journal of
       the American Statistical Association, 113(523), 2018.
    .. [2] Y. Romano, E. Patterson and E. Candès, "Conformalized Quantile
       Regression", Advances in Neural Information Processing Systems 32,
       2019.

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

    Conformalized quantile regression, whose widths vary with each window:

    >>> from sklearn_slstm import StackedLSTMRegressor
    >>> cqr = ConformalIntervalRegressor(
    ...     StackedLSTMRegressor(loss="quantile", max_iter=2, random_state=0),
    ...     method="cqr",
    ...     random_state=0,
    ... ).fit(X[:500], y[:500])
    >>> lower, upper = cqr.predict_interval(X_new)
    >>> bool(((upper - lower).std(axis=0) > 0).all())
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "coverage": [Interval(Real, 0, 1, closed="neither")],
        "method": [StrOptions({"split", "cqr"})],
        "calibration_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        *,
        coverage=0.9,
        method="split",
        calibration_fraction=0.2,
        shuffle=True,
        random_state=None,
    ):
        self.estimator = estimator
        self.coverage = coverage
        self.method = method
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
        if self.method == "cqr":
            self._check_quantile_estimator()
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
        y_calib = y_calib.reshape(len(y_calib), -1)
        if self.method == "cqr":
            lower, upper, _ = self._predict_bounds(X_calib)
            scores = np.maximum(lower - y_calib, y_calib - upper)
        else:
            y_pred = np.asarray(self.estimator_.predict(X_calib), dtype=np.float64)
            scores = np.abs(y_calib - y_pred.reshape(y_calib.shape))
        n_calibration = len(scores)
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
            self.quantiles_ = np.full(scores.shape[1], np.inf)
        else:
            self.quantiles_ = np.sort(scores, axis=0)[rank - 1]
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
        if self.method == "split":
            y_pred = np.asarray(self.predict(X), dtype=np.float64)
            half_width = self.quantiles_ if y_pred.ndim == 2 else self.quantiles_[0]
            return y_pred - half_width, y_pred + half_width
        check_is_fitted(self)
        lower, upper, flat = self._predict_bounds(X)
        middle = (lower + upper) / 2
        lower = np.minimum(lower - self.quantiles_, middle)
        upper = np.maximum(upper + self.quantiles_, middle)
        return (lower[:, 0], upper[:, 0]) if flat else (lower, upper)

    def _check_quantile_estimator(self):
        """Refuse, before any fit, an estimator that cannot give CQR's quantiles."""
        quantile_model = final_step(self.estimator)
        if not hasattr(quantile_model, "predict_quantiles"):
            raise ValueError(
                "method='cqr' needs an estimator with a predict_quantiles "
                "method (or a Pipeline ending in one), such as "
                "StackedLSTMRegressor(loss='quantile'); "
                f"{type(quantile_model).__name__} has none."
            )
        params = quantile_model.get_params(deep=False)
        if params.get("loss", "quantile") != "quantile":
            raise ValueError(
                "method='cqr' needs an estimator fitted with loss='quantile', "
                f"but {type(quantile_model).__name__} has loss={params['loss']!r}."
            )
        if "quantiles" in params:
            self._bound_indices(params["quantiles"])

    def _predict_bounds(self, X):
        """The estimator's two quantiles that bound ``coverage``, and their shape.

        Each bound is of shape (n_samples, n_outputs); the flag says whether
        the estimator's quantiles were 2D (``y`` was 1D at fit).
        """
        y_quantiles, levels = predict_quantiles(self.estimator_, X)
        y_quantiles = np.asarray(y_quantiles, dtype=np.float64)
        low, high = self._bound_indices(levels)
        flat = y_quantiles.ndim == 2
        y_quantiles = y_quantiles.reshape(len(y_quantiles), -1, len(levels))
        return y_quantiles[:, :, low], y_quantiles[:, :, high], flat

    def _bound_indices(self, levels):
        """Where ``(1 -/+ coverage) / 2`` are in ``levels``; a ValueError if not."""
        levels = np.asarray(levels, dtype=np.float64).ravel()
        wanted = ((1 - self.coverage) / 2, (1 + self.coverage) / 2)
        found = [
            np.flatnonzero(np.isclose(levels, level, rtol=0, atol=1e-9))
            for level in wanted
        ]
        if not all(len(index) for index in found):
            raise ValueError(
                f"method='cqr' with coverage={self.coverage} needs the "
                f"estimator's quantiles to include {wanted[0]:.6g} and "
                f"{wanted[1]:.6g}, but they are {levels.tolist()}: fit it with, "
                f"for example, quantiles=({wanted[0]:.6g}, 0.5, {wanted[1]:.6g})."
            )
        return found[0][0], found[1][0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.three_d_array = inner.input_tags.three_d_array
        tags.target_tags.multi_output = inner.target_tags.multi_output
        return tags


def final_step(estimator):
    """The estimator that predicts: a Pipeline's last step, or ``estimator``."""
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def predict_quantiles(estimator, X):
    """``predict_quantiles`` of ``estimator``, or of a Pipeline's last step.

    Returns the quantiles and their levels (the model's ``quantiles_``, an
    empty list if it has none). A Pipeline's other steps transform ``X``
    first.
    """
    model = final_step(estimator)
    if model is not estimator:
        X = estimator[:-1].transform(X)
    return model.predict_quantiles(X), getattr(model, "quantiles_", [])


def _conformal_rank(n_calibration, coverage):
    """``ceil((n_calibration + 1) * coverage)``, immune to float round-off.

    Rounding first keeps, say, ``(9 + 1) * 0.7 = 7.000000000000001`` at 7.
    """
    return math.ceil(round((n_calibration + 1) * coverage, 9))


def _min_calibration_size(coverage):
    """The fewest calibration samples that give ``coverage`` a finite width."""
    return math.ceil(round(coverage / (1 - coverage), 9))

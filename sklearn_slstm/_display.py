"""ForecastDisplay: plot input windows, true continuations and forecasts."""

from numbers import Integral

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils._optional_dependencies import check_matplotlib_support


class ForecastDisplay:
    """Visualization of sequence forecasts, with optional prediction intervals.

    For each sample, draws the input window, the true continuation (when
    known), the forecast and, when given, the band between the lower and
    upper interval bounds, all in the sample's own color on one time axis:
    the window covers the steps ``origin - n_timesteps, ..., origin - 1``
    and the forecast the steps ``origin, ..., origin + n_outputs - 1``.

    Create it with :meth:`from_estimator` or :meth:`from_predictions`; all
    parameters are stored as attributes.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps) or \
            (n_samples, n_timesteps, 1)
        Input windows, one univariate sequence per row.
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs), \
            default=None
        The true values that follow each window, or None if unknown.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The forecast of each window.
    lower : array-like of the shape of ``y_pred``, default=None
        Lower interval bounds; given together with ``upper``.
    upper : array-like of the shape of ``y_pred``, default=None
        Upper interval bounds; given together with ``lower``.
    origin : int, default=None
        Step of the first forecast value, used to label the time axis. None
        means ``n_timesteps``: the window starts at step 0, as in
        :func:`make_damped_sine`.

    Attributes
    ----------
    input_lines_ : list of matplotlib Line2D
        The input window of each sample.
    true_lines_ : list of matplotlib Line2D or None
        The true continuation of each sample, a wide pale line joined to the
        window's last value; None if ``y_true`` is None.
    pred_lines_ : list of matplotlib Line2D
        The forecast of each sample.
    interval_bands_ : list of matplotlib PolyCollection or None
        The interval band of each sample; None if there are no bounds.
    origin_line_ : matplotlib Line2D
        Vertical line between the window and the forecast.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    ForecastDisplay.from_estimator : Plot the forecasts of a fitted
        regressor.
    ForecastDisplay.from_predictions : Plot given forecasts.
    ConformalIntervalRegressor : Regressor with ``predict_interval``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_slstm import make_damped_sine
    >>> from sklearn_slstm import ForecastDisplay
    >>> X, y = make_damped_sine(n_samples=3, random_state=0)
    >>> display = ForecastDisplay(X=X, y_true=y, y_pred=y + 0.01).plot()
    >>> len(display.pred_lines_)
    3
    """

    def __init__(self, *, X, y_true=None, y_pred, lower=None, upper=None, origin=None):
        self.X = X
        self.y_true = y_true
        self.y_pred = y_pred
        self.lower = lower
        self.upper = upper
        self.origin = origin

    def plot(
        self,
        ax=None,
        *,
        input_kwargs=None,
        true_kwargs=None,
        pred_kwargs=None,
        interval_kwargs=None,
    ):
        """Plot the visualization.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        input_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the input windows.
        true_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the true
            continuations.
        pred_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the forecasts.
        interval_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``fill_between`` of the
            interval bands.

        Returns
        -------
        display : ForecastDisplay
            The display, with the plotted artists stored as attributes.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        X, y_true, y_pred, lower, upper = _check_forecast_arrays(
            self.X, self.y_true, self.y_pred, self.lower, self.upper
        )
        n_timesteps, n_outputs = X.shape[1], y_pred.shape[1]
        origin = n_timesteps if self.origin is None else self.origin
        if not isinstance(origin, Integral) or isinstance(origin, bool):
            raise TypeError(f"origin must be an int or None, got {origin!r}.")
        input_steps = np.arange(origin - n_timesteps, origin)
        output_steps = np.arange(origin, origin + n_outputs)

        if ax is None:
            _, ax = plt.subplots()
        self.input_lines_, self.pred_lines_ = [], []
        self.true_lines_ = None if y_true is None else []
        self.interval_bands_ = None if lower is None else []
        for i in range(len(X)):
            color = f"C{i % 10}"
            first = i == 0
            self.input_lines_.append(
                ax.plot(
                    input_steps,
                    X[i],
                    **_merge(
                        {"color": color, "label": "input" if first else None},
                        input_kwargs,
                    ),
                )[0]
            )
            if y_true is not None:
                # Joined to the last input value: it is the same series.
                self.true_lines_.append(
                    ax.plot(
                        np.r_[origin - 1, output_steps],
                        np.r_[X[i, -1], y_true[i]],
                        **_merge(
                            {
                                "color": color,
                                "alpha": 0.35,
                                "linewidth": 4,
                                "label": "true" if first else None,
                            },
                            true_kwargs,
                        ),
                    )[0]
                )
            if lower is not None:
                self.interval_bands_.append(
                    ax.fill_between(
                        output_steps,
                        lower[i],
                        upper[i],
                        **_merge(
                            {
                                "color": color,
                                "alpha": 0.2,
                                "linewidth": 0,
                                "label": "interval" if first else None,
                            },
                            interval_kwargs,
                        ),
                    )
                )
            self.pred_lines_.append(
                ax.plot(
                    output_steps,
                    y_pred[i],
                    **_merge(
                        {
                            "color": color,
                            "linestyle": "--",
                            "marker": ".",
                            "label": "forecast" if first else None,
                        },
                        pred_kwargs,
                    ),
                )[0]
            )
        self.origin_line_ = ax.axvline(origin - 0.5, color="0.7", linewidth=1, zorder=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel="Step", ylabel="Value")
        ax.legend(loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        samples=3,
        interval="auto",
        origin=None,
        ax=None,
        input_kwargs=None,
        true_kwargs=None,
        pred_kwargs=None,
        interval_kwargs=None,
    ):
        """Plot the forecasts of a fitted regressor for some rows of ``X``.

        Only the selected rows are predicted.

        Parameters
        ----------
        estimator : estimator instance
            Fitted regressor, such as a :class:`StackedLSTMRegressor`, or a
            :class:`ConformalIntervalRegressor` for interval bands.
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, 1)
            Input windows.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), \
                default=None
            True continuations, or None to draw none.
        samples : int or array-like of int, default=3
            The rows to draw: an int ``k`` means the first ``k`` rows, an
            array-like the row indices.
        interval : "auto", tuple of two array-likes or None, default="auto"
            Interval bounds. "auto" uses ``estimator.predict_interval`` when
            the estimator has one and draws no band otherwise; a tuple
            ``(lower, upper)`` gives bounds for every row of ``X``, each of
            the shape of the predictions; None draws no band.
        origin : int, default=None
            Step of the first forecast value; None means ``n_timesteps``.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        input_kwargs, true_kwargs, pred_kwargs, interval_kwargs : dict, \
                default=None
            Keyword arguments for the artists, as in :meth:`plot`.

        Returns
        -------
        display : ForecastDisplay
            The display, plotted.

        See Also
        --------
        ForecastDisplay.from_predictions : Plot given forecasts.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.linear_model import Ridge
        >>> from sklearn_slstm import make_damped_sine
        >>> from sklearn_slstm import ConformalIntervalRegressor
        >>> from sklearn_slstm import ForecastDisplay
        >>> X, y = make_damped_sine(n_samples=500, random_state=0)
        >>> reg = ConformalIntervalRegressor(Ridge(), random_state=0).fit(X, y)
        >>> display = ForecastDisplay.from_estimator(reg, X, y, samples=[0, 7])
        >>> len(display.interval_bands_)
        2
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        rows = _select_rows(samples, _n_rows(X))
        X_shown = _safe_indexing(X, rows)
        y_pred = estimator.predict(X_shown)
        lower = upper = None
        if isinstance(interval, str):
            if interval != "auto":
                raise ValueError(_INTERVAL_ERROR.format(interval=repr(interval)))
            if hasattr(estimator, "predict_interval"):
                lower, upper = estimator.predict_interval(X_shown)
        elif interval is not None:
            lower, upper = _unpack_interval(interval)
            lower = _safe_indexing(lower, rows)
            upper = _safe_indexing(upper, rows)
        return cls(
            X=X_shown,
            y_true=None if y is None else _safe_indexing(y, rows),
            y_pred=y_pred,
            lower=lower,
            upper=upper,
            origin=origin,
        ).plot(
            ax=ax,
            input_kwargs=input_kwargs,
            true_kwargs=true_kwargs,
            pred_kwargs=pred_kwargs,
            interval_kwargs=interval_kwargs,
        )

    @classmethod
    def from_predictions(
        cls,
        X,
        y_true,
        y_pred,
        *,
        lower=None,
        upper=None,
        samples=3,
        origin=None,
        ax=None,
        input_kwargs=None,
        true_kwargs=None,
        pred_kwargs=None,
        interval_kwargs=None,
    ):
        """Plot given forecasts for some rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, 1)
            Input windows.
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs) \
                or None
            True continuations, or None to draw none.
        y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Forecasts.
        lower : array-like of the shape of ``y_pred``, default=None
            Lower interval bounds; given together with ``upper``.
        upper : array-like of the shape of ``y_pred``, default=None
            Upper interval bounds; given together with ``lower``.
        samples : int or array-like of int, default=3
            The rows to draw: an int ``k`` means the first ``k`` rows, an
            array-like the row indices.
        origin : int, default=None
            Step of the first forecast value; None means ``n_timesteps``.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        input_kwargs, true_kwargs, pred_kwargs, interval_kwargs : dict, \
                default=None
            Keyword arguments for the artists, as in :meth:`plot`.

        Returns
        -------
        display : ForecastDisplay
            The display, plotted.

        See Also
        --------
        ForecastDisplay.from_estimator : Plot the forecasts of a fitted
            regressor.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn_slstm import make_damped_sine
        >>> from sklearn_slstm import ForecastDisplay
        >>> X, y = make_damped_sine(n_samples=10, random_state=0)
        >>> display = ForecastDisplay.from_predictions(
        ...     X, y, y + 0.01, lower=y - 0.05, upper=y + 0.05, samples=2
        ... )
        >>> len(display.input_lines_), len(display.interval_bands_)
        (2, 2)
        """
        check_matplotlib_support(f"{cls.__name__}.from_predictions")
        rows = _select_rows(samples, _n_rows(X))

        def pick(values):
            return None if values is None else _safe_indexing(values, rows)

        return cls(
            X=pick(X),
            y_true=pick(y_true),
            y_pred=pick(y_pred),
            lower=pick(lower),
            upper=pick(upper),
            origin=origin,
        ).plot(
            ax=ax,
            input_kwargs=input_kwargs,
            true_kwargs=true_kwargs,
            pred_kwargs=pred_kwargs,
            interval_kwargs=interval_kwargs,
        )


_INTERVAL_ERROR = (
    'interval must be "auto", None or a tuple (lower, upper) of array-likes, '
    "got {interval}."
)


def _merge(defaults, overrides):
    """Style keywords: the defaults, overridden by the caller's."""
    return {**defaults, **(overrides or {})}


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _select_rows(samples, n_rows):
    """Row indices from ``samples``: the first ``k`` rows, or given indices."""
    if isinstance(samples, Integral) and not isinstance(samples, bool):
        if not 1 <= samples <= n_rows:
            raise ValueError(
                f"samples={samples} must be between 1 and the number of rows "
                f"of X ({n_rows})."
            )
        return np.arange(samples)
    rows = np.asarray(samples)
    if rows.ndim != 1 or rows.size == 0 or rows.dtype.kind not in "iu":
        raise ValueError(
            "samples must be an int or a non-empty 1D array-like of row "
            f"indices, got {samples!r}."
        )
    if rows.min() < -n_rows or rows.max() >= n_rows:
        raise ValueError(f"samples has indices out of range for {n_rows} rows.")
    return rows


def _unpack_interval(interval):
    try:
        lower, upper = interval
    except (TypeError, ValueError):
        raise ValueError(
            _INTERVAL_ERROR.format(interval=f"a {type(interval).__name__}")
        ) from None
    return lower, upper


def _as_2d(name, values):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, np.newaxis]
    if values.ndim != 2:
        raise ValueError(
            f"{name} must be 1D or 2D, got an array of shape {values.shape}."
        )
    return values


def _check_forecast_arrays(X, y_true, y_pred, lower, upper):
    """Validate the display's arrays; give them the shapes plot draws."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 3 and X.shape[2] == 1:
        X = X[:, :, 0]
    if X.ndim != 2:
        raise ValueError(
            "X must hold univariate windows, of shape (n_samples, n_timesteps) "
            f"or (n_samples, n_timesteps, 1); got shape {X.shape}. To draw one "
            "channel c of multivariate windows, pass X[:, :, c]."
        )
    y_pred = _as_2d("y_pred", y_pred)
    if len(y_pred) != len(X):
        raise ValueError(
            f"y_pred has {len(y_pred)} rows but X has {len(X)}; they must match."
        )
    if y_true is not None:
        y_true = _as_2d("y_true", y_true)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"y_true has shape {y_true.shape} but y_pred has shape "
                f"{y_pred.shape}; they must match."
            )
    if (lower is None) != (upper is None):
        raise ValueError("lower and upper must be given together, or neither.")
    if lower is not None:
        lower, upper = _as_2d("lower", lower), _as_2d("upper", upper)
        if lower.shape != y_pred.shape or upper.shape != y_pred.shape:
            raise ValueError(
                f"lower and upper have shapes {lower.shape} and {upper.shape}; "
                f"both must have the shape of y_pred, {y_pred.shape}."
            )
    return X, y_true, y_pred, lower, upper

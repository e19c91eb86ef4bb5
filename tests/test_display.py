"""ForecastDisplay: artists drawn, interval bands, axes reuse and input errors."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_slstm import (
    ConformalIntervalRegressor,
    ForecastDisplay,
    StackedLSTMRegressor,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")
PolyCollection = pytest.importorskip("matplotlib.collections").PolyCollection


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def conformal(sine_data):
    return ConformalIntervalRegressor(Ridge(), random_state=0).fit(*sine_data)


def bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_from_predictions_draws_one_set_of_lines_per_sample(sine_data):
    X, y = sine_data
    display = ForecastDisplay.from_predictions(X, y, y + 0.01, samples=4)
    assert isinstance(display, ForecastDisplay)
    assert display.figure_ is display.ax_.figure
    for lines in (display.input_lines_, display.true_lines_, display.pred_lines_):
        assert len(lines) == 4
    # Input, true and forecast lines per sample, and the origin line.
    assert len(display.ax_.lines) == 3 * 4 + 1
    assert display.interval_bands_ is None
    assert bands(display.ax_) == []
    assert display.X.shape == (4, 20)
    labels = display.ax_.get_legend_handles_labels()[1]
    assert labels == ["input", "true", "forecast"]


def test_time_axis_puts_the_window_before_the_origin(sine_data):
    X, y = sine_data
    display = ForecastDisplay(X=X[:1], y_true=y[:1], y_pred=y[:1]).plot()
    np.testing.assert_array_equal(display.input_lines_[0].get_xdata(), range(20))
    np.testing.assert_array_equal(display.pred_lines_[0].get_xdata(), range(20, 25))
    # The true continuation starts from the window's last value.
    np.testing.assert_array_equal(display.true_lines_[0].get_xdata(), range(19, 25))
    np.testing.assert_array_equal(display.true_lines_[0].get_ydata()[0], X[0, -1])

    shifted = ForecastDisplay(X=X[:1], y_pred=y[:1], origin=100).plot()
    np.testing.assert_array_equal(shifted.input_lines_[0].get_xdata(), range(80, 100))


def test_band_only_with_an_interval(sine_data):
    X, y = sine_data
    display = ForecastDisplay.from_predictions(
        X, y, y, lower=y - 0.1, upper=y + 0.1, samples=[3, 5]
    )
    assert len(display.interval_bands_) == 2
    assert len(bands(display.ax_)) == 2
    np.testing.assert_array_equal(display.X, X[[3, 5]])
    assert "interval" in display.ax_.get_legend_handles_labels()[1]


def test_from_estimator_uses_predict_interval_automatically(sine_data, conformal):
    X, y = sine_data
    display = ForecastDisplay.from_estimator(conformal, X, y, samples=2)
    assert len(display.interval_bands_) == 2
    lower, upper = conformal.predict_interval(X[:2])
    np.testing.assert_allclose(display.lower, lower)
    np.testing.assert_allclose(display.upper, upper)
    np.testing.assert_allclose(display.y_pred, conformal.predict(X[:2]))


def test_from_estimator_without_band(sine_data, conformal):
    X, y = sine_data
    display = ForecastDisplay.from_estimator(conformal, X, y, interval=None)
    assert display.interval_bands_ is None and bands(display.ax_) == []
    ridge = Ridge().fit(X, y)
    display = ForecastDisplay.from_estimator(ridge, X)
    assert display.interval_bands_ is None
    assert display.true_lines_ is None
    assert len(display.ax_.lines) == 2 * 3 + 1


def test_from_estimator_with_given_interval_selects_the_rows(sine_data):
    X, y = sine_data
    ridge = Ridge().fit(X, y)
    lower, upper = y - 0.2, y + 0.2
    display = ForecastDisplay.from_estimator(
        ridge, X, y, samples=[10, 2], interval=(lower, upper)
    )
    np.testing.assert_array_equal(display.lower, lower[[10, 2]])
    np.testing.assert_array_equal(display.upper, upper[[10, 2]])
    assert len(display.interval_bands_) == 2


def test_reuses_the_given_axes(sine_data):
    X, y = sine_data
    figure, ax = plt.subplots()
    display = ForecastDisplay.from_predictions(X, y, y, ax=ax, samples=1)
    assert display.ax_ is ax
    assert display.figure_ is figure
    display.plot(ax=ax)
    assert len(ax.lines) == 2 * (3 + 1)


def test_style_keywords_override_the_defaults(sine_data):
    X, y = sine_data
    display = ForecastDisplay.from_predictions(
        X, y, y, samples=2, pred_kwargs={"color": "black", "linestyle": ":"}
    )
    assert all(line.get_color() == "black" for line in display.pred_lines_)
    assert display.pred_lines_[0].get_linestyle() == ":"
    assert display.input_lines_[0].get_color() != display.input_lines_[1].get_color()


def test_1d_predictions_and_3d_windows(sine_data):
    X, y = sine_data
    display = ForecastDisplay(X=X[:3, :, np.newaxis], y_pred=y[:3, 0]).plot()
    assert len(display.pred_lines_) == 3
    assert len(display.pred_lines_[0].get_xdata()) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y_true": np.zeros((3, 4))}, "y_true has shape"),
        ({"y_pred": np.zeros((2, 5))}, "y_pred has 2 rows"),
        ({"lower": np.zeros((3, 5))}, "given together"),
        (
            {"lower": np.zeros((3, 4)), "upper": np.zeros((3, 4))},
            "shape of y_pred",
        ),
        ({"X": np.zeros((3, 20, 2))}, "univariate"),
        ({"y_pred": np.zeros((3, 5, 1))}, "1D or 2D"),
    ],
)
def test_mismatched_shapes_raise(sine_data, kwargs, match):
    X, y = sine_data
    arguments = {"X": X[:3], "y_true": y[:3], "y_pred": y[:3], **kwargs}
    with pytest.raises(ValueError, match=match):
        ForecastDisplay(**arguments).plot()


@pytest.mark.parametrize("samples", [0, 301, [], [1.5], [[0, 1]], [0, 300]])
def test_invalid_samples_raise(sine_data, samples):
    X, y = sine_data
    with pytest.raises(ValueError, match="samples"):
        ForecastDisplay.from_predictions(X, y, y, samples=samples)


def test_invalid_interval_raises(sine_data):
    X, y = sine_data
    with pytest.raises(ValueError, match="interval"):
        ForecastDisplay.from_estimator(Ridge().fit(X, y), X, interval="band")


def test_invalid_origin_raises(sine_data):
    X, y = sine_data
    with pytest.raises(TypeError, match="origin"):
        ForecastDisplay(X=X[:1], y_pred=y[:1], origin=2.5).plot()


# ------------------------------------------------------------ nested bands ---

LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)
OFFSETS = np.array([-0.2, -0.05, 0.0, 0.05, 0.2])


class QuantileRidge(RegressorMixin, BaseEstimator):
    """A stand-in quantile regressor: Ridge plus fixed offsets per level."""

    def __init__(self, quantiles=LEVELS):
        self.quantiles = quantiles

    def fit(self, X, y):
        self.ridge_ = Ridge().fit(X, y)
        self.quantiles_ = np.asarray(self.quantiles, dtype=np.float64)
        return self

    def predict(self, X):
        return self.ridge_.predict(X)

    def predict_quantiles(self, X):
        offsets = OFFSETS[: len(self.quantiles_)]
        return self.predict(X)[..., np.newaxis] + offsets


def nested_bounds(y, half_widths=(0.05, 0.2)):
    half = np.asarray(half_widths)[:, np.newaxis, np.newaxis]
    return y - half, y + half


def test_nested_bands_one_per_band_and_sample(sine_data):
    X, y = sine_data
    lower, upper = nested_bounds(y)
    display = ForecastDisplay.from_predictions(
        X, y, y, lower=lower, upper=upper, coverage=[0.5, 0.9], samples=[4, 1, 2]
    )
    assert len(display.interval_bands_) == 2
    assert all(len(row) == 3 for row in display.interval_bands_)
    assert len(bands(display.ax_)) == 6
    np.testing.assert_array_equal(display.lower, lower[:, [4, 1, 2]])
    np.testing.assert_array_equal(display.upper, upper[:, [4, 1, 2]])
    # The widest band is drawn first, under the narrow one, and paler.
    narrow, wide = display.interval_bands_[0][0], display.interval_bands_[1][0]
    collections = list(display.ax_.collections)
    assert collections.index(wide) < collections.index(narrow)
    assert wide.get_alpha() < narrow.get_alpha()
    labels = display.ax_.get_legend_handles_labels()[1]
    assert labels == ["input", "true", "90% interval", "50% interval", "forecast"]


def test_nested_bands_without_coverage_are_numbered(sine_data):
    X, y = sine_data
    lower, upper = nested_bounds(y, (0.1, 0.3, 0.2))
    display = ForecastDisplay(
        X=X[:2], y_pred=y[:2], lower=lower[:, :2], upper=upper[:, :2]
    ).plot()
    labels = display.ax_.get_legend_handles_labels()[1]
    # In the order of the bounds, drawn widest first.
    assert labels == ["input", "interval 2", "interval 3", "interval 1", "forecast"]


def test_from_predictions_with_quantiles(sine_data):
    X, y = sine_data
    y_quantiles = y[..., np.newaxis] + OFFSETS
    display = ForecastDisplay.from_predictions(
        X, y, y, y_quantiles=y_quantiles, quantiles=LEVELS, samples=[7, 3]
    )
    # Pairs (0.1, 0.9) and (0.25, 0.75), widest first; the median has none.
    np.testing.assert_allclose(display.coverage, [0.8, 0.5])
    np.testing.assert_array_equal(display.lower[0], y_quantiles[[7, 3], :, 0])
    np.testing.assert_array_equal(display.upper[0], y_quantiles[[7, 3], :, 4])
    np.testing.assert_array_equal(display.lower[1], y_quantiles[[7, 3], :, 1])
    np.testing.assert_array_equal(display.upper[1], y_quantiles[[7, 3], :, 3])
    assert len(bands(display.ax_)) == 4
    assert "80% interval" in display.ax_.get_legend_handles_labels()[1]


def test_quantiles_of_1d_predictions(sine_data):
    X, y = sine_data
    y_quantiles = y[:, :1] + OFFSETS[[0, 2, 4]]
    display = ForecastDisplay.from_predictions(
        X, y[:, 0], y[:, 0], y_quantiles=y_quantiles, quantiles=(0.05, 0.5, 0.95)
    )
    assert display.lower.shape == (1, 3)
    assert len(display.interval_bands_) == 1 and len(display.interval_bands_[0]) == 3
    assert display.ax_.get_legend_handles_labels()[1][2] == "90% interval"


def test_from_estimator_draws_the_quantile_bands(sine_data):
    X, y = sine_data
    reg = QuantileRidge().fit(X, y)
    display = ForecastDisplay.from_estimator(reg, X, y, samples=[5, 0])
    y_quantiles = reg.predict_quantiles(X[[5, 0]])
    np.testing.assert_allclose(display.y_pred, reg.predict(X[[5, 0]]))
    np.testing.assert_allclose(display.lower[0], y_quantiles[..., 0])
    np.testing.assert_allclose(display.upper[1], y_quantiles[..., 3])
    np.testing.assert_allclose(display.coverage, [0.8, 0.5])
    assert len(bands(display.ax_)) == 4

    display = ForecastDisplay.from_estimator(reg, X, y, interval=None)
    assert display.interval_bands_ is None


def test_from_estimator_with_a_quantile_lstm(sine_data):
    X, y = sine_data
    params = {"hidden_layer_sizes": (4,), "max_iter": 1, "random_state": 0}
    head = StackedLSTMRegressor(
        loss="quantile", quantiles=(0.1, 0.25, 0.5, 0.75, 0.9), **params
    ).fit(X, y)
    display = ForecastDisplay.from_estimator(head, X, y, samples=2)
    y_quantiles = head.predict_quantiles(X[:2])
    np.testing.assert_allclose(display.y_pred, head.predict(X[:2]))
    np.testing.assert_allclose(display.lower[0], y_quantiles[..., 0])
    np.testing.assert_allclose(display.upper[1], y_quantiles[..., 3])
    np.testing.assert_allclose(display.coverage, [0.8, 0.5])
    # CQR has one calibrated band; a point model's predict_quantiles raises,
    # so it has none.
    cqr = ConformalIntervalRegressor(
        StackedLSTMRegressor(loss="quantile", **params), method="cqr", shuffle=False
    ).fit(X, y)
    display = ForecastDisplay.from_estimator(cqr, X, y, samples=2)
    assert len(display.interval_bands_) == 2
    assert "90% interval" in display.ax_.get_legend_handles_labels()[1]
    point = StackedLSTMRegressor(**params).fit(X, y)
    assert ForecastDisplay.from_estimator(point, X).interval_bands_ is None


def test_from_estimator_draws_the_bands_of_a_pipeline_ending_in_quantiles(
    sine_data,
):
    X, y = sine_data
    pipe = make_pipeline(StandardScaler(), QuantileRidge()).fit(X, y)
    display = ForecastDisplay.from_estimator(pipe, X, y, samples=[3])
    y_quantiles = pipe[-1].predict_quantiles(pipe[:-1].transform(X[[3]]))
    np.testing.assert_allclose(display.lower[0], y_quantiles[..., 0])
    np.testing.assert_allclose(display.upper[0], y_quantiles[..., 4])
    # The windows drawn are the given ones, not the scaled ones.
    np.testing.assert_array_equal(display.X, X[[3]])


def test_from_estimator_without_a_symmetric_pair_draws_no_quantile_band(sine_data):
    X, y = sine_data
    reg = QuantileRidge(quantiles=(0.1, 0.25, 0.5)).fit(X, y)
    display = ForecastDisplay.from_estimator(reg, X, y)
    assert display.interval_bands_ is None and bands(display.ax_) == []


def test_from_estimator_labels_the_conformal_coverage(sine_data, conformal):
    X, y = sine_data
    display = ForecastDisplay.from_estimator(conformal, X, y, samples=1)
    assert "90% interval" in display.ax_.get_legend_handles_labels()[1]
    display = ForecastDisplay.from_estimator(conformal, X, y, coverage=0.5)
    assert "50% interval" in display.ax_.get_legend_handles_labels()[1]


def test_from_estimator_with_given_nested_interval_selects_the_rows(sine_data):
    X, y = sine_data
    lower, upper = nested_bounds(y)
    display = ForecastDisplay.from_estimator(
        Ridge().fit(X, y), X, y, samples=[9, 2], interval=(lower, upper)
    )
    np.testing.assert_array_equal(display.lower, lower[:, [9, 2]])
    np.testing.assert_array_equal(display.upper, upper[:, [9, 2]])
    assert len(bands(display.ax_)) == 4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"quantiles": LEVELS}, "given together"),
        ({"y_quantiles": np.zeros((300, 5, 5))}, "given together"),
        (
            {
                "y_quantiles": np.zeros((300, 5, 5)),
                "quantiles": LEVELS,
                "lower": np.zeros((300, 5)),
                "upper": np.zeros((300, 5)),
            },
            "not both",
        ),
        (
            {"y_quantiles": np.zeros((300, 5, 3)), "quantiles": (0.1, 0.5, 0.8)},
            "no symmetric pair",
        ),
        ({"y_quantiles": np.zeros((300, 5, 4)), "quantiles": LEVELS}, "last axis"),
        ({"y_quantiles": np.zeros((300, 5)), "quantiles": LEVELS}, "last axis"),
        (
            {"y_quantiles": np.zeros((300, 5, 3)), "quantiles": (0.0, 0.5, 1.0)},
            "levels in",
        ),
    ],
)
def test_invalid_quantiles_raise(sine_data, kwargs, match):
    X, y = sine_data
    with pytest.raises(ValueError, match=match):
        ForecastDisplay.from_predictions(X, y, y, **kwargs)


@pytest.mark.parametrize(
    ("coverage", "match"),
    [([0.5], "one such float per band"), (1.5, "coverage"), ([[0.5, 0.9]], "coverage")],
)
def test_invalid_coverage_raises(sine_data, coverage, match):
    X, y = sine_data
    lower, upper = nested_bounds(y[:3])
    with pytest.raises(ValueError, match=match):
        ForecastDisplay(
            X=X[:3], y_pred=y[:3], lower=lower, upper=upper, coverage=coverage
        ).plot()


def test_nested_bounds_of_different_shapes_raise(sine_data):
    X, y = sine_data
    lower, upper = nested_bounds(y[:3])
    with pytest.raises(ValueError, match="upper has shape"):
        ForecastDisplay(X=X[:3], y_pred=y[:3], lower=lower, upper=upper[:1]).plot()

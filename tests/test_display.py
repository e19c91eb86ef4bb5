"""ForecastDisplay: artists drawn, interval bands, axes reuse and input errors."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from sklearn_slstm import ConformalIntervalRegressor, ForecastDisplay

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

"""Whole pipelines saved safely with skops: only this library's types to trust.

The states that skops (or a pickle) hands to ``__setstate__`` and that are
refused: test_persistence_untrusted.py; the documented list of types to
trust: test_persistence_trusted.py.
"""

import io
import zipfile

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_slstm import (
    ConformalIntervalRegressor,
    DampedSineGenerator,
    StackedLSTMRegressor,
)

sio = pytest.importorskip("skops.io")

REGRESSOR = "sklearn_slstm._regressor.StackedLSTMRegressor"
CONFORMAL = "sklearn_slstm._conformal.ConformalIntervalRegressor"
GENERATOR = "sklearn_slstm._generator.DampedSineGenerator"


@pytest.fixture(scope="module")
def data(sine_data):
    """300 waves: enough calibration rows for finite conformal intervals."""
    return sine_data


def _pipeline(params):
    return make_pipeline(StandardScaler(), StackedLSTMRegressor(**params))


MODELS = {
    "pipeline": (_pipeline, [REGRESSOR]),
    "transformed target": (
        lambda params: TransformedTargetRegressor(
            regressor=_pipeline(params), transformer=StandardScaler()
        ),
        [REGRESSOR],
    ),
    "conformal": (
        lambda params: ConformalIntervalRegressor(
            StackedLSTMRegressor(**params), shuffle=False
        ),
        sorted([CONFORMAL, REGRESSOR]),
    ),
    "conformalized quantiles": (
        lambda params: ConformalIntervalRegressor(
            StackedLSTMRegressor(**{**params, "loss": "quantile"}),
            method="cqr",
            shuffle=False,
        ),
        sorted([CONFORMAL, REGRESSOR]),
    ),
    # A RandomState parameter and, after partial_fit, the optimizer's
    # state: both are in the regressor's state, both skops-trusted types.
    "partial_fit and RandomState": (
        lambda params: StackedLSTMRegressor(
            **{**params, "random_state": np.random.RandomState(3)}
        ),
        [REGRESSOR],
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_skops_round_trip_gives_identical_predictions(
    data, tiny_params, name, tmp_path
):
    X, y = data
    make, untrusted = MODELS[name]
    model = make(tiny_params)
    if name == "partial_fit and RandomState":
        model.partial_fit(X, y)
    else:
        model.fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)

    assert sorted(sio.get_untrusted_types(file=path)) == untrusted
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if name.startswith("conformal"):
        np.testing.assert_array_equal(
            loaded.predict_interval(X), model.predict_interval(X)
        )
    if name == "partial_fit and RandomState":
        # Training continues exactly as the original's does.
        model.partial_fit(X, y)
        loaded.partial_fit(X, y)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_skops_round_trip_of_a_generator_pipeline(
    sine_params_data, tiny_params, tmp_path
):
    params, y = sine_params_data
    model = make_pipeline(DampedSineGenerator(), StackedLSTMRegressor(**tiny_params))
    path = tmp_path / "model.skops"
    sio.dump(model.fit(params, y), path)

    assert sorted(sio.get_untrusted_types(file=path)) == sorted([GENERATOR, REGRESSOR])
    loaded = sio.load(path, trusted=[GENERATOR, REGRESSOR])
    np.testing.assert_array_equal(loaded.predict(params), model.predict(params))


def test_skops_refuses_untrusted_types_by_default(data, tiny_params, tmp_path):
    X, y = data
    path = tmp_path / "model.skops"
    sio.dump(_pipeline(tiny_params).fit(X, y), path)
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)


def test_skops_files_are_checked_like_saved_files(data, tiny_params, tmp_path):
    # skops rebuilds the regressor through __setstate__, which checks the
    # state: a NaN weight slipped into the archive is refused.
    X, y = data
    path = tmp_path / "model.skops"
    sio.dump(StackedLSTMRegressor(**tiny_params).fit(X, y), path)
    edited = tmp_path / "edited.skops"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.endswith(".npy"):
                array = np.load(io.BytesIO(content))
                if array.dtype == np.float32 and array.size:
                    array = np.full_like(array, np.nan)
                    buffer = io.BytesIO()
                    np.save(buffer, array)
                    content = buffer.getvalue()
            target.writestr(item, content)
    with pytest.raises(ValueError, match="NaN or infinite"):
        sio.load(edited, trusted=[REGRESSOR])


def test_skops_warns_for_another_version(data, tiny_params, monkeypatch, tmp_path):
    # The one place the version is defined, which every writer reads.
    from sklearn_slstm import _version

    X, y = data
    model = StackedLSTMRegressor(**tiny_params).fit(X, y)
    path = tmp_path / "model.skops"
    with monkeypatch.context() as patch:
        patch.setattr(_version, "__version__", "0.0.1")
        sio.dump(model, path)
    with pytest.warns(InconsistentVersionWarning, match="0.0.1"):
        sio.load(path, trusted=[REGRESSOR])

"""Whole pipelines saved safely with skops: only this library's types to trust."""

import io
import pathlib
import re
import zipfile

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_slstm import (
    ConformalIntervalRegressor,
    StackedLSTMRegressor,
    make_damped_sine,
)

sio = pytest.importorskip("skops.io")

FAST = {"hidden_layer_sizes": (4,), "max_iter": 2, "random_state": 0}
REGRESSOR = "sklearn_slstm._regressor.StackedLSTMRegressor"
CONFORMAL = "sklearn_slstm._conformal.ConformalIntervalRegressor"
USER_GUIDE = pathlib.Path(__file__).parents[1] / "docs" / "user_guide.rst"


@pytest.fixture(scope="module")
def data():
    return make_damped_sine(n_samples=60, n_timesteps=10, n_outputs=2, random_state=0)


def _pipeline():
    return make_pipeline(StandardScaler(), StackedLSTMRegressor(**FAST))


MODELS = {
    "pipeline": (_pipeline, [REGRESSOR]),
    "transformed target": (
        lambda: TransformedTargetRegressor(
            regressor=_pipeline(), transformer=StandardScaler()
        ),
        [REGRESSOR],
    ),
    "conformal": (
        lambda: ConformalIntervalRegressor(StackedLSTMRegressor(**FAST), shuffle=False),
        sorted([CONFORMAL, REGRESSOR]),
    ),
    # A RandomState parameter and, after partial_fit, the optimizer's
    # state: both are in the regressor's state, both skops-trusted types.
    "partial_fit and RandomState": (
        lambda: StackedLSTMRegressor(
            **{**FAST, "random_state": np.random.RandomState(3)}
        ),
        [REGRESSOR],
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_skops_round_trip_gives_identical_predictions(data, name, tmp_path):
    X, y = data
    make, untrusted = MODELS[name]
    model = make()
    if name == "partial_fit and RandomState":
        model.partial_fit(X, y)
    else:
        model.fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)

    assert sorted(sio.get_untrusted_types(file=path)) == untrusted
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if name == "conformal":
        np.testing.assert_array_equal(
            loaded.predict_interval(X), model.predict_interval(X)
        )
    if name == "partial_fit and RandomState":
        # Training continues exactly as the original's does.
        model.partial_fit(X, y)
        loaded.partial_fit(X, y)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_skops_refuses_untrusted_types_by_default(data, tmp_path):
    X, y = data
    path = tmp_path / "model.skops"
    sio.dump(_pipeline().fit(X, y), path)
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)


def test_documented_trusted_list_is_what_skops_asks_for():
    documented = re.findall(r'"(sklearn_slstm\.[\w.]+)"', USER_GUIDE.read_text())
    assert sorted(set(documented)) == sorted([CONFORMAL, REGRESSOR])


def test_skops_files_are_checked_like_saved_files(data, tmp_path):
    # skops rebuilds the regressor through __setstate__, which checks the
    # state: a NaN weight slipped into the archive is refused.
    X, y = data
    path = tmp_path / "model.skops"
    sio.dump(StackedLSTMRegressor(**FAST).fit(X, y), path)
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


def test_skops_warns_for_another_version(data, monkeypatch, tmp_path):
    import sklearn_slstm

    X, y = data
    model = StackedLSTMRegressor(**FAST).fit(X, y)
    path = tmp_path / "model.skops"
    with monkeypatch.context() as patch:
        patch.setattr(sklearn_slstm, "__version__", "0.0.1")
        sio.dump(model, path)
    with pytest.warns(InconsistentVersionWarning, match="0.0.1"):
        sio.load(path, trusted=[REGRESSOR])


def _partial_state(data):
    X, y = data
    return StackedLSTMRegressor(**FAST).partial_fit(X, y).__getstate__()


def _set_in(state, path, value):
    *parents, last = path
    for key in parents:
        state = state[key]
    state[last] = value


BAD_STATES = {
    "state not a dict": (lambda state: [1, 2], "is a dict"),  # replaces it
    "other not a mapping": (
        lambda state: _set_in(state, ["other"], [("net_", 1)]),
        "other attributes",
    ),
    "other overriding a parameter": (
        lambda state: _set_in(state, ["other"], {"loss": "mse"}),
        "other attributes",
    ),
    "missing parameter": (
        lambda state: state["params"].pop("loss"),
        r"missing \['loss'\]",
    ),
    "callbacks that are not callbacks": (
        lambda state: _set_in(state, ["params", "callbacks"], [1, 2]),
        "non-callbacks",
    ),
    "weights not a mapping": (
        lambda state: _set_in(state, ["weights"], [1.0]),
        "not a mapping of names to arrays",
    ),
    "optimizer state of the wrong shape": (
        lambda state: _set_in(
            state, ["optimizer", "state", 0, "exp_avg"], np.zeros(3, np.float32)
        ),
        "invalid optimizer state",
    ),
    "optimizer state that is not one": (
        lambda state: _set_in(state, ["optimizer"], {"state": 1}),
        "invalid optimizer state",
    ),
    "history of the wrong kind": (
        lambda state: _set_in(state, ["history"], {"epoch": 1}),
        "history is not a list",
    ),
}


@pytest.mark.parametrize("case", BAD_STATES)
def test_malformed_states_raise_value_error(data, case):
    # What a skops file (or a pickle) hands to __setstate__.
    change, message = BAD_STATES[case]
    state = _partial_state(data)
    changed = change(state)
    if isinstance(changed, list):
        state = changed
    with pytest.raises(ValueError, match=message):
        StackedLSTMRegressor.__new__(StackedLSTMRegressor).__setstate__(state)

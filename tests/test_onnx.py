"""ONNX export: onnxruntime reproduces predict, for every shape of model.

Also on NaN-padded sequences of different lengths.
"""

import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sklearn_slstm import (
    StackedLSTMRegressor,
    make_damped_sine,
    make_windows,
    pad_sequences,
)

# Short sequences: the exporter traces the LSTM step by step.
N_TIMESTEPS = 6


@pytest.fixture(scope="module")
def onnxruntime():
    pytest.importorskip("onnxscript")
    return pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def waves():
    X, y = make_damped_sine(n_samples=120, n_timesteps=N_TIMESTEPS, random_state=0)
    X_test, _ = make_damped_sine(n_samples=37, n_timesteps=N_TIMESTEPS, random_state=1)
    return X, y, X_test


def two_channels(X):
    """A second channel, the first one's square, so the model needs both."""
    return np.stack([X, X**2], axis=2)


# (hidden_layer_sizes, bidirectional, channels, 1D y): 1, 2 and 3 layers,
# a bidirectional stack, 3D input with 2 channels, and a 1D target.
CASES = {
    "1-layer": ((6,), False, 1, False),
    "2-layers-1d-y": ((6, 5), False, 1, True),
    "3-layers-bidirectional": ((4, 4, 4), True, 1, False),
    "2-channels": ((5, 5), False, 2, False),
}


@pytest.fixture(scope="module", params=list(CASES))
def exported(request, waves, onnxruntime, tmp_path_factory):
    hidden_layer_sizes, bidirectional, channels, y_1d = CASES[request.param]
    X, y, X_test = waves
    if channels == 2:
        X, X_test = two_channels(X), two_channels(X_test)
    reg = StackedLSTMRegressor(
        hidden_layer_sizes=hidden_layer_sizes,
        bidirectional=bidirectional,
        max_iter=2,
        random_state=0,
    ).fit(X, y[:, 0] if y_1d else y)
    module = reg.net_.module_
    y_before = reg.predict(X_test)
    path = reg.to_onnx(tmp_path_factory.mktemp("onnx") / "model.onnx")
    # Export works on a copy: the regressor keeps its module and predictions.
    assert reg.net_.module_ is module
    np.testing.assert_array_equal(reg.predict(X_test), y_before)
    session = onnxruntime.InferenceSession(
        str(path), providers=["CPUExecutionProvider"]
    )
    return reg, path, session, X_test


def run_session(session, X):
    X = X if X.ndim == 3 else X[:, :, np.newaxis]
    (y_pred,) = session.run(None, {"X": X.astype(np.float32)})
    return y_pred


def test_onnxruntime_matches_predict(exported):
    reg, _, session, X_test = exported
    y_onnx = run_session(session, X_test)
    y_pred = reg.predict(X_test)
    assert y_onnx.shape == y_pred.shape
    assert y_onnx.dtype == np.float32
    np.testing.assert_allclose(y_onnx, y_pred, rtol=0, atol=1e-5)


def test_batch_dimension_is_dynamic(exported):
    """Batch sizes other than the traced one (2) give the same predictions."""
    reg, _, session, X_test = exported
    for n_rows in (1, 3, len(X_test)):
        np.testing.assert_allclose(
            run_session(session, X_test[:n_rows]),
            reg.predict(X_test[:n_rows]),
            rtol=0,
            atol=1e-5,
        )


def test_graph_signature_and_metadata(exported):
    reg, path, session, X_test = exported
    (graph_input,) = session.get_inputs()
    (graph_output,) = session.get_outputs()
    assert graph_input.name == "X"
    assert graph_input.type == "tensor(float)"
    assert isinstance(graph_input.shape[0], str)  # dynamic batch
    n_channels = X_test.shape[2] if X_test.ndim == 3 else 1
    assert graph_input.shape[1:] == [N_TIMESTEPS, n_channels]
    assert graph_output.name == "y_pred"
    assert len(graph_output.shape) == reg.predict(X_test).ndim
    metadata = session.get_modelmeta().custom_metadata_map
    assert metadata["sklearn_slstm.n_timesteps"] == str(N_TIMESTEPS)
    assert metadata["sklearn_slstm.n_outputs"] == str(reg.n_outputs_)
    # One self-contained file: no external weights next to it.
    assert [p.name for p in path.parent.iterdir()] == ["model.onnx"]


def test_unfitted_raises_not_fitted(onnxruntime, tmp_path):
    with pytest.raises(NotFittedError):
        StackedLSTMRegressor().to_onnx(tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


@pytest.mark.parametrize("missing", ["onnx", "onnxscript"])
def test_missing_extra_raises_import_error_with_install_hint(
    monkeypatch, waves, tmp_path, missing
):
    X, y, _ = waves
    reg = StackedLSTMRegressor(hidden_layer_sizes=(2,), max_iter=1).fit(X, y)
    # A None entry in sys.modules makes `import name` raise ImportError.
    monkeypatch.setitem(sys.modules, missing, None)
    with pytest.raises(ImportError, match=r'pip install "sklearn-slstm\[onnx\]"'):
        reg.to_onnx(tmp_path / "model.onnx")


@pytest.mark.parametrize("scaling", ["window", "global", None, "mapped targets"])
def test_graph_takes_raw_values_and_returns_raw_scale(
    waves, onnxruntime, tmp_path, scaling
):
    # Values near 300: the scaling is inside the graph, as inside predict.
    X, y, X_test = waves
    mapped = scaling == "mapped targets"
    reg = StackedLSTMRegressor(
        hidden_layer_sizes=(5,),
        scaling="auto" if mapped else scaling,
        max_iter=2,
        random_state=0,
    )
    if scaling is None:
        reg.fit(X, y)  # unscaled training only works near unit scale
        X_raw = X_test
    elif mapped:
        # Windows of a series in other units than their targets (the
        # windows scaled apart): the map of the targets is in the graph.
        t = np.arange(400.0)
        series = 300 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 12)
        windows, targets = make_windows(series, N_TIMESTEPS, horizon=5)
        reg.fit(windows[:300] / 7, targets[:300])
        assert reg.target_scale_ > 0
        X_raw = windows[300:] / 7
    else:
        reg.fit(300 + 50 * X, 300 + 50 * y)
        X_raw = 300 + 50 * X_test
    session = onnxruntime.InferenceSession(
        str(reg.to_onnx(tmp_path / "model.onnx")),
        providers=["CPUExecutionProvider"],
    )
    np.testing.assert_allclose(
        run_session(session, X_raw), reg.predict(X_raw), rtol=1e-5, atol=1e-5
    )


def test_onnx_graph_takes_the_padded_array(onnxruntime, ragged, tiny_params, tmp_path):
    sequences, X, y = ragged
    for params in ({}, {"bidirectional": True}):
        regressor = StackedLSTMRegressor(**{**tiny_params, **params}).fit(X, y)
        path = regressor.to_onnx(tmp_path / "model.onnx")
        session = onnxruntime.InferenceSession(str(path))
        post = pad_sequences(sequences, padding="post")
        for padded in (X, post):
            (y_onnx,) = session.run(None, {"X": padded[:, :, None].astype(np.float32)})
            np.testing.assert_allclose(y_onnx, regressor.predict(padded), rtol=1e-5)


@pytest.mark.parametrize("y_1d", [False, True], ids=["2d-y", "1d-y"])
def test_quantile_model_exports_its_medians_and_quantiles(
    waves, onnxruntime, ragged, tmp_path, y_1d
):
    X, y, X_test = waves
    reg = StackedLSTMRegressor(
        loss="quantile", quantiles=(0.1, 0.5, 0.9), max_iter=2, random_state=0
    ).fit(300 + 50 * X, 300 + 50 * (y[:, 0] if y_1d else y))
    session = onnxruntime.InferenceSession(str(reg.to_onnx(tmp_path / "q.onnx")))
    assert [output.name for output in session.get_outputs()] == ["y_pred", "quantiles"]
    X_raw = 300 + 50 * X_test
    y_pred, y_quantiles = session.run(
        None, {"X": X_raw[:, :, np.newaxis].astype(np.float32)}
    )
    np.testing.assert_allclose(y_pred, reg.predict(X_raw), rtol=1e-5)
    np.testing.assert_allclose(y_quantiles, reg.predict_quantiles(X_raw), rtol=1e-5)

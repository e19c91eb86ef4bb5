"""mlflow's scikit-learn flavour logs and loads this library's models as documented.

mlflow 3 saves scikit-learn models in the skops format by default, which
refuses types it was not told to trust: the user guide's mlflow section says
how the default call fails and which ``skops_trusted_types`` to pass. These
tests run that recipe, with the list read from that section, so the
documentation stays true (that the list is exactly what skops asks for:
test_persistence_trusted.py). The tracking store is a SQLite file in a
temporary folder; nothing touches the network.
"""

import ast
import pathlib
import re

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_slstm import (
    ConformalIntervalRegressor,
    DampedSineGenerator,
    StackedLSTMRegressor,
)

mlflow = pytest.importorskip("mlflow")
mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")
MlflowException = pytest.importorskip("mlflow.exceptions").MlflowException
infer_signature = pytest.importorskip("mlflow.models").infer_signature

USER_GUIDE = pathlib.Path(__file__).parents[1] / "docs" / "user_guide.rst"
# mlflow infers a model's requirements by loading it in a subprocess, which
# takes seconds; all but one test name them instead.
REQUIREMENTS = {"pip_requirements": ["sklearn-slstm"]}


def _documented_trusted_types():
    section = USER_GUIDE.read_text().split(".. _mlflow:", 1)[1].split("\n.. _", 1)[0]
    assert "skops_trusted_types=trusted" in section
    return ast.literal_eval(re.search(r"\btrusted = (\[[^\]]*\])", section)[1])


TRUSTED = _documented_trusted_types()


@pytest.fixture(scope="module", autouse=True)
def tracking(tmp_path_factory):
    """One SQLite tracking store for the module, the artifacts beside it.

    Creating a store takes seconds (its tables), so the tests share one.
    """
    folder = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # artifacts go to ./mlruns
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.delenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", raising=False)
        yield folder


@pytest.fixture(scope="module")
def models(sine_data, sine_params_data, tiny_params):
    """Fitted models, the rows they predict, and the types skops asks about."""
    X, y = sine_data
    params, params_y = sine_params_data
    regressor = "sklearn_slstm._regressor.StackedLSTMRegressor"
    conformal = "sklearn_slstm._conformal.ConformalIntervalRegressor"
    generator = "sklearn_slstm._generator.DampedSineGenerator"
    return {
        "regressor": (StackedLSTMRegressor(**tiny_params).fit(X, y), X, [regressor]),
        "pipeline": (
            make_pipeline(StandardScaler(), StackedLSTMRegressor(**tiny_params)).fit(
                X, y
            ),
            X,
            [regressor],
        ),
        "conformal": (
            ConformalIntervalRegressor(
                StackedLSTMRegressor(**tiny_params), shuffle=False
            ).fit(X, y),
            X,
            [conformal, regressor],
        ),
        "generator pipeline": (
            make_pipeline(
                DampedSineGenerator(), StackedLSTMRegressor(**tiny_params)
            ).fit(params, params_y),
            params,
            [generator, regressor],
        ),
    }


def _log(model, **kwargs):
    with mlflow.start_run():
        return mlflow_sklearn.log_model(model, name="model", **kwargs)


@pytest.mark.parametrize(
    "name", ["regressor", "pipeline", "conformal", "generator pipeline"]
)
def test_default_log_model_refuses_untrusted_types(models, name):
    model, _, untrusted = models[name]
    message = (
        r"The saved sklearn model references untrusted types\..*"
        r"'skops_trusted_types'.*Untrusted types found in the file: "
        + re.escape(str(untrusted))
    )
    with pytest.raises(MlflowException, match=message):
        _log(model)


@pytest.mark.parametrize(
    "name", ["regressor", "pipeline", "conformal", "generator pipeline"]
)
def test_documented_trusted_types_log_and_load_identically(models, name):
    model, X, _ = models[name]
    # The pipeline goes the documented way, requirements inferred.
    requirements = {} if name == "pipeline" else REQUIREMENTS
    info = _log(
        model,
        skops_trusted_types=TRUSTED,
        signature=infer_signature(X, model.predict(X)),
        **requirements,
    )
    assert info.flavors["sklearn"]["serialization_format"] == "skops"

    loaded = mlflow_sklearn.load_model(info.model_uri)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if name == "conformal":
        np.testing.assert_array_equal(
            loaded.predict_interval(X), model.predict_interval(X)
        )
    pyfunc = mlflow_pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(pyfunc.predict(X), model.predict(X))


def test_signature_of_2d_input_is_a_float64_tensor(models):
    model, X, _ = models["pipeline"]
    signature = infer_signature(X, model.predict(X))
    (inputs,), (outputs,) = signature.inputs.inputs, signature.outputs.inputs
    assert (inputs.type, inputs.shape) == (np.dtype("float64"), (-1, X.shape[1]))
    assert (outputs.type, outputs.shape) == (np.dtype("float64"), (-1, 5))

    # The pyfunc model enforces it: float32 rows are refused, as documented.
    info = _log(model, skops_trusted_types=TRUSTED, signature=signature, **REQUIREMENTS)
    pyfunc = mlflow_pyfunc.load_model(info.model_uri)
    with pytest.raises(MlflowException, match="Failed to enforce schema"):
        pyfunc.predict(X.astype(np.float32))


def test_loading_is_refused_when_deserialization_is_disallowed(models, monkeypatch):
    model, X, _ = models["regressor"]
    info = _log(model, skops_trusted_types=TRUSTED, **REQUIREMENTS)
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    with pytest.raises(MlflowException, match="MLFLOW_ALLOW_PICKLE_DESERIALIZATION"):
        mlflow_sklearn.load_model(info.model_uri)


@pytest.mark.parametrize("serialization_format", ["cloudpickle", "pickle"])
def test_pickle_formats_need_no_trusted_types(models, serialization_format):
    model, X, _ = models["conformal"]
    info = _log(model, serialization_format=serialization_format, **REQUIREMENTS)
    loaded = mlflow_sklearn.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict_interval(X), model.predict_interval(X))

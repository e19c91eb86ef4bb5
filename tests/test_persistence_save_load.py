"""save and load, pickle, joblib and clone: round trips, the file, versions.

Round trips give identical predictions and fitted state for every kind of
model; a model fitted on a GPU is used on a CPU-only machine; a model made by
another version warns. Refused files and states: test_persistence_untrusted.py;
failed and killed saves: test_persistence_atomic.py; skops:
test_persistence_skops.py.
"""

import copy
import json
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import InconsistentVersionWarning, NotFittedError
from skorch.callbacks import PrintLog
from skorch.exceptions import DeviceWarning

from sklearn_slstm import StackedLSTMRegressor

safetensors = pytest.importorskip("safetensors")


def save_regressor(estimator, path, **kwargs):
    estimator.save(path, **kwargs)


load_regressor = StackedLSTMRegressor.load


@pytest.fixture(scope="module")
def data(small_sine_data):
    """40 waves of 10 steps; targets the 3 values that follow."""
    return small_sine_data


@pytest.fixture(scope="module")
def fitted_2d(data, tiny_params):
    X, y = data
    return StackedLSTMRegressor(**tiny_params).fit(X, y)


@pytest.fixture(scope="module")
def fitted_3d(data, tiny_params):
    X, y = data
    X3 = np.stack([X, X**2, 1 - X], axis=-1)
    params = {**tiny_params, "hidden_layer_sizes": (4, 3)}
    return StackedLSTMRegressor(**params).fit(X3, y), X3


@pytest.fixture(scope="module")
def fitted_1d_y(data, tiny_params):
    X, y = data
    return StackedLSTMRegressor(**tiny_params).fit(X, y[:, 0])


@pytest.fixture(scope="module")
def fitted_dataframe(data, tiny_params):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"step_{i}" for i in range(X.shape[1])])
    return StackedLSTMRegressor(**tiny_params).fit(frame, y), frame


@pytest.fixture(scope="module")
def fitted_early_stopping(data, tiny_params):
    X, y = data
    params = {**tiny_params, "early_stopping": True, "validation_fraction": 0.2}
    return StackedLSTMRegressor(**params).fit(X, y)


@pytest.fixture(scope="module")
def saved_file(fitted_2d, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.safetensors"
    save_regressor(fitted_2d, path)
    return path


def _fitted_case(request, name, data):
    """The fitted regressor of fixture ``name`` and the X it predicts on."""
    fitted = request.getfixturevalue(name)
    return fitted if isinstance(fitted, tuple) else (fitted, data[0])


FITTED_ATTRIBUTES = [
    "n_features_in_",
    "n_outputs_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "n_iter_",
]


@pytest.mark.parametrize(
    "case",
    [
        "fitted_2d",
        "fitted_3d",
        "fitted_1d_y",
        "fitted_dataframe",
        "fitted_early_stopping",
    ],
)
def test_round_trip_gives_identical_predictions(request, data, case, tmp_path):
    reg, X = _fitted_case(request, case, data)
    path = tmp_path / "model.safetensors"
    save_regressor(reg, str(path))
    loaded = load_regressor(path)

    expected = reg.predict(X)
    predicted = loaded.predict(X)
    assert predicted.dtype == np.float64
    assert predicted.shape == expected.shape
    np.testing.assert_array_equal(predicted, expected)
    assert loaded.get_params() == reg.get_params()
    for name in FITTED_ATTRIBUTES:
        assert getattr(loaded, name) == getattr(reg, name), name
    assert loaded.net_.history.to_list() == reg.net_.history.to_list()
    if hasattr(reg, "feature_names_in_"):
        np.testing.assert_array_equal(loaded.feature_names_in_, reg.feature_names_in_)
    else:
        assert not hasattr(loaded, "feature_names_in_")


@pytest.mark.parametrize("scaling", ["window", "global", None])
def test_round_trip_of_each_scaling_on_raw_scale_data(
    data, scaling, tmp_path, tiny_params
):
    X, y = data
    X3 = np.stack([300 + 50 * X, X], axis=-1)
    reg = StackedLSTMRegressor(**{**tiny_params, "scaling": scaling})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scaling=None warns
        reg.fit(X3, 300 + 50 * y)
    save_regressor(reg, tmp_path / "model.safetensors")
    loaded = load_regressor(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded.predict(X3), reg.predict(X3))
    for name in ("x_mean_", "x_scale_", "y_mean_", "y_scale_"):
        assert hasattr(loaded, name) == (scaling == "global"), name
        if scaling == "global":
            np.testing.assert_array_equal(getattr(loaded, name), getattr(reg, name))


def test_dataframe_round_trip_keeps_feature_name_checks(fitted_dataframe, tmp_path):
    reg, frame = fitted_dataframe
    save_regressor(reg, tmp_path / "model.safetensors")
    loaded = load_regressor(tmp_path / "model.safetensors")
    assert loaded.feature_names_in_.dtype == object
    renamed = frame.rename(columns={"step_0": "other"})
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(renamed)


def test_file_is_one_standard_safetensors_file(fitted_2d, saved_file):
    with safetensors.safe_open(saved_file, framework="pt") as f:
        metadata = f.metadata()
        names = set(f.keys())
    assert metadata["format"] == "sklearn_slstm.StackedLSTMRegressor"
    assert metadata["format_version"] == "3"
    assert "callbacks" not in json.loads(metadata["params"])
    assert names == set(fitted_2d.net_.module_.state_dict())


def test_loading_leaves_global_torch_random_state_alone(saved_file):
    state = torch.get_rng_state()
    load_regressor(saved_file)
    assert torch.equal(torch.get_rng_state(), state)


def test_random_state_instance_is_restored(data, tmp_path, tiny_params):
    X, y = data
    params = {**tiny_params, "random_state": np.random.RandomState(7)}
    reg = StackedLSTMRegressor(**params).fit(X, y)
    save_regressor(reg, tmp_path / "model.safetensors")
    loaded = load_regressor(tmp_path / "model.safetensors")
    restored = loaded.random_state
    assert isinstance(restored, np.random.RandomState)
    assert restored.randint(10**9) == copy.deepcopy(reg.random_state).randint(10**9)


def test_warm_start_after_loading_continues_like_the_original(
    data, tmp_path, tiny_params
):
    X, y = data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    save_regressor(reg, tmp_path / "model.safetensors")
    loaded = load_regressor(tmp_path / "model.safetensors")
    reg.set_params(warm_start=True).fit(X, y)
    loaded.set_params(warm_start=True).fit(X, y)
    assert loaded.n_iter_ == reg.n_iter_ == 2 * tiny_params["max_iter"]
    assert loaded.loss_curve_ == reg.loss_curve_
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


def test_partial_fit_after_loading_continues(data, tmp_path, tiny_params):
    X, y = data
    reg = StackedLSTMRegressor(**tiny_params)
    reg.partial_fit(X, y).partial_fit(X, y)
    save_regressor(reg, tmp_path / "model.safetensors")
    loaded = load_regressor(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == 3
    assert loaded.loss_curve_[:2] == reg.loss_curve_
    assert np.isfinite(loaded.predict(X)).all()


def test_save_overwrites_an_existing_file(data, fitted_2d, fitted_1d_y, tmp_path):
    path = tmp_path / "model.safetensors"
    save_regressor(fitted_1d_y, path)
    save_regressor(fitted_2d, path)
    np.testing.assert_array_equal(
        load_regressor(path).predict(data[0]), fitted_2d.predict(data[0])
    )


@pytest.mark.parametrize("serializer", ["pickle", "joblib"])
@pytest.mark.parametrize("case", ["fitted_2d", "fitted_3d", "fitted_1d_y"])
def test_pickle_and_joblib_round_trips(request, data, case, serializer, tmp_path):
    reg, X = _fitted_case(request, case, data)
    if serializer == "pickle":
        loaded = pickle.loads(pickle.dumps(reg))
    else:
        joblib.dump(reg, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    assert loaded.loss_curve_ == reg.loss_curve_


def test_clone_of_fitted_and_unfitted_estimators(
    data, fitted_2d, saved_file, tiny_params
):
    X, y = data
    unfitted = StackedLSTMRegressor(**tiny_params)
    for estimator in (unfitted, fitted_2d, load_regressor(saved_file)):
        cloned = clone(estimator)
        assert cloned.get_params() == estimator.get_params()
        assert not hasattr(cloned, "net_")
        with pytest.raises(NotFittedError):
            cloned.predict(X)
    # A clone trains to exactly the model it was cloned from.
    refit = clone(fitted_2d).fit(X, y)
    np.testing.assert_array_equal(refit.predict(X), fitted_2d.predict(X))


def test_save_unfitted_raises_not_fitted(tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        save_regressor(StackedLSTMRegressor(), tmp_path / "model.safetensors")
    assert not (tmp_path / "model.safetensors").exists()


def test_save_refuses_callbacks(data, tmp_path, tiny_params):
    X, y = data
    reg = StackedLSTMRegressor(**tiny_params, callbacks=[PrintLog()]).fit(X, y)
    with pytest.raises(ValueError, match="callbacks parameter is not None"):
        save_regressor(reg, tmp_path / "model.safetensors")
    assert not (tmp_path / "model.safetensors").exists()
    # As the message says: without the callbacks, the model saves.
    save_regressor(reg.set_params(callbacks=None), tmp_path / "model.safetensors")
    np.testing.assert_array_equal(
        load_regressor(tmp_path / "model.safetensors").predict(X), reg.predict(X)
    )


def test_missing_safetensors_raises_import_error(fitted_2d, monkeypatch, tmp_path):
    # None in sys.modules makes an import raise ImportError.
    monkeypatch.setitem(__import__("sys").modules, "safetensors", None)
    monkeypatch.setitem(__import__("sys").modules, "safetensors.torch", None)
    hint = r'pip install "sklearn-slstm\[safetensors\]"'
    with pytest.raises(ImportError, match=hint):
        save_regressor(fitted_2d, tmp_path / "model.safetensors")
    with pytest.raises(ImportError, match=hint):
        load_regressor(tmp_path / "model.safetensors")


# --- A model fitted on a GPU, used on a CPU-only machine ---------------------
#
# No tensor can live on CUDA here. What a CPU-only machine receives from a GPU
# machine is bytes, so the tests forge those bytes: torch writes each storage
# with the location tag of its device ("cuda:0" for the first GPU), and the
# forgery makes torch write "cuda:0" for every CPU storage. The net's and the
# estimator's device say "cuda", as after a GPU fit. CUDA is then reported
# unavailable, so any tensor in the pickle would make torch raise, exactly
# as on a real CPU-only machine. The regressor's state holds numpy arrays
# only, so its pickle holds no torch storage at all.


def _as_if_fitted_on_cuda(estimator):
    gpu = copy.deepcopy(estimator)
    gpu.set_params(device="cuda")
    gpu.net_.device = "cuda"
    return gpu


def _pickle_with_cuda_tags(obj, monkeypatch, dump=pickle.dumps):
    """Pickle ``obj`` as on a GPU machine; also return the storages tagged."""
    real_tag = torch.serialization.location_tag
    forged = []

    def cuda_tag(storage):
        tag = real_tag(storage)
        forged.append(tag)
        return "cuda:0" if tag == "cpu" else tag

    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", cuda_tag)
        pickled = dump(obj)
    return pickled, forged


def test_cuda_tag_forgery_is_what_torch_refuses_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    pickled, forged = _pickle_with_cuda_tags(torch.ones(3), monkeypatch)
    assert forged == ["cpu"]
    with pytest.raises(RuntimeError, match="CUDA"):
        pickle.loads(pickled)


# Short constant-rate fits; their ConvergenceWarning is tested elsewhere.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("serializer", ["pickle", "joblib"])
@pytest.mark.parametrize(
    "settings",
    [
        {"learning_rate": "constant"},
        {"learning_rate": "constant", "early_stopping": True},
        {"learning_rate": "onecycle"},
        {"learning_rate": "cosine", "early_stopping": True},
        {"learning_rate": "constant", "partial_fit": True},
    ],
    ids=[
        "constant",
        "constant-early-stopping",
        "onecycle",
        "cosine-early-stopping",
        "partial-fit",
    ],
)
def test_gpu_fitted_model_unpickles_on_cpu_only_machine(
    data, settings, serializer, monkeypatch, tmp_path, tiny_params
):
    X, y = data
    settings = dict(settings)
    reg = StackedLSTMRegressor(**tiny_params)
    if settings.pop("partial_fit", False):
        # The optimizer state travels too, as numpy arrays.
        reg.set_params(**settings).partial_fit(X, y)
    else:
        reg.set_params(**settings).fit(X, y)
    expected = reg.predict(X)
    path = tmp_path / "model.joblib"

    def dump(obj):
        if serializer == "pickle":
            return pickle.dumps(obj)
        joblib.dump(obj, path)
        return path.read_bytes()

    pickled, forged = _pickle_with_cuda_tags(
        _as_if_fitted_on_cuda(reg), monkeypatch, dump
    )
    assert forged == [], "a torch storage was pickled"

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="available"):
        loaded = pickle.loads(pickled) if serializer == "pickle" else joblib.load(path)
    assert torch.device(loaded.net_.device).type == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    np.testing.assert_array_equal(loaded.predict(X), expected)
    # Refitting on this machine needs an explicit device.
    with pytest.raises(ValueError, match="CUDA is not available"):
        loaded.fit(X, y)
    loaded.set_params(device="cpu").fit(X, y)


def test_gpu_fitted_model_loads_from_safetensors_on_cpu_only_machine(
    data, fitted_2d, monkeypatch, tmp_path
):
    X, _ = data
    path = tmp_path / "model.safetensors"
    save_regressor(_as_if_fitted_on_cuda(fitted_2d), path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="loading it on the CPU"):
        loaded = load_regressor(path)
    assert loaded.device == "cuda"
    assert torch.device(loaded.net_.device).type == "cpu"
    np.testing.assert_array_equal(loaded.predict(X), fitted_2d.predict(X))


# --- versions -----------------------------------------------------------------


def _made_by_version(monkeypatch, version, make):
    """What ``make()`` returns when sklearn_slstm says it is ``version``."""
    # The one place the version is defined, which every writer reads.
    from sklearn_slstm import _version

    with monkeypatch.context() as patch:
        patch.setattr(_version, "__version__", version)
        return make()


@pytest.mark.parametrize("serializer", ["pickle", "save"])
def test_other_version_warns_naming_both(
    data, fitted_2d, serializer, monkeypatch, tmp_path
):
    import sklearn_slstm

    path = tmp_path / "model.safetensors"
    if serializer == "pickle":
        stored = _made_by_version(monkeypatch, "0.0.1", lambda: pickle.dumps(fitted_2d))
        restore = lambda: pickle.loads(stored)  # noqa: E731
    else:
        _made_by_version(monkeypatch, "0.0.1", lambda: save_regressor(fitted_2d, path))
        restore = lambda: load_regressor(path)  # noqa: E731
    with pytest.warns(InconsistentVersionWarning) as record:
        loaded = restore()
    message = str(record[0].message)
    assert "0.0.1" in message and sklearn_slstm.__version__ in message
    assert "StackedLSTMRegressor" in message
    np.testing.assert_array_equal(loaded.predict(data[0]), fitted_2d.predict(data[0]))


def test_same_version_does_not_warn(fitted_2d, saved_file):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(fitted_2d))
        load_regressor(saved_file)


def test_pickles_record_the_library_version(fitted_2d):
    import sklearn_slstm

    state = fitted_2d.__getstate__()
    assert state["sklearn_slstm_version"] == sklearn_slstm.__version__


def test_saved_files_record_the_library_version(saved_file):
    import sklearn_slstm

    with safetensors.safe_open(saved_file, framework="pt") as f:
        assert f.metadata()["library_version"] == sklearn_slstm.__version__

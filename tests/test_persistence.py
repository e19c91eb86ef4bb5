"""Persistence: the safetensors format, pickle, joblib, clone and GPU-to-CPU."""

import copy
import hashlib
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

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine
from sklearn_slstm._persistence import _ZEROS, _checksum_span, _digest

safetensors = pytest.importorskip("safetensors")
safetensors_torch = pytest.importorskip("safetensors.torch")

FAST = {"hidden_layer_sizes": (5,), "max_iter": 2, "batch_size": 16, "random_state": 0}


def save_regressor(estimator, path, **kwargs):
    estimator.save(path, **kwargs)


load_regressor = StackedLSTMRegressor.load


@pytest.fixture(scope="module")
def data():
    """60 waves of 12 steps; targets the 3 values that follow."""
    return make_damped_sine(n_samples=60, n_timesteps=12, n_outputs=3, random_state=0)


@pytest.fixture(scope="module")
def fitted_2d(data):
    X, y = data
    return StackedLSTMRegressor(**FAST).fit(X, y)


@pytest.fixture(scope="module")
def fitted_3d(data):
    X, y = data
    X3 = np.stack([X, X**2, 1 - X], axis=-1)
    params = {**FAST, "hidden_layer_sizes": (4, 3)}
    return StackedLSTMRegressor(**params).fit(X3, y), X3


@pytest.fixture(scope="module")
def fitted_1d_y(data):
    X, y = data
    return StackedLSTMRegressor(**FAST).fit(X, y[:, 0])


@pytest.fixture(scope="module")
def fitted_dataframe(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"step_{i}" for i in range(X.shape[1])])
    return StackedLSTMRegressor(**FAST).fit(frame, y), frame


@pytest.fixture(scope="module")
def fitted_early_stopping(data):
    X, y = data
    params = {**FAST, "early_stopping": True, "validation_fraction": 0.2}
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
def test_round_trip_of_each_scaling_on_raw_scale_data(data, scaling, tmp_path):
    X, y = data
    X3 = np.stack([300 + 50 * X, X], axis=-1)
    reg = StackedLSTMRegressor(**{**FAST, "scaling": scaling})
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


def _legacy_checksum(metadata, tensors):
    """The "sha256" entry of format versions 1 and 2, as they computed it."""
    digest = hashlib.sha256()
    for name in ("format_version", "params", "fitted", "history"):
        text = metadata[name]
        digest.update(len(text).to_bytes(8, "little"))
        digest.update(text.encode())
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        layout = json.dumps([name, str(tensor.dtype), list(tensor.shape)])
        digest.update(len(layout).to_bytes(8, "little"))
        digest.update(layout.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _as_legacy_format(version, *, drop_params=()):
    """An edit that turns a saved file into one of format ``version`` (1 or 2)."""

    def edit(metadata, tensors):
        del metadata["checksum"]
        metadata["format_version"] = version
        old_params = json.loads(metadata["params"])
        for name in drop_params:
            del old_params[name]
        metadata["params"] = json.dumps(old_params)
        metadata["sha256"] = _legacy_checksum(metadata, tensors)

    return edit


def test_format_1_files_load_unscaled_and_without_skip(data, tmp_path):
    # A file written before the scaling and linear_skip parameters existed.
    X, y = data
    params = {**FAST, "scaling": None, "linear_skip": False}
    reg = StackedLSTMRegressor(**params).fit(X, y)
    save_regressor(reg, tmp_path / "new.safetensors")
    as_format_1 = _as_legacy_format("1", drop_params=("scaling", "linear_skip"))
    _rewrite(
        tmp_path / "new.safetensors",
        tmp_path / "old.safetensors",
        as_format_1,
        rechecksum=False,
    )
    loaded = load_regressor(tmp_path / "old.safetensors")
    assert loaded.scaling is None and loaded.linear_skip is False
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


def test_format_2_files_load_but_never_with_a_key(fitted_2d, data, tmp_path):
    # Files of format 2 (before keys) had a checksum of their contents only.
    save_regressor(fitted_2d, tmp_path / "new.safetensors")
    old = tmp_path / "old.safetensors"
    _rewrite(
        tmp_path / "new.safetensors", old, _as_legacy_format("2"), rechecksum=False
    )
    loaded = load_regressor(old)
    np.testing.assert_array_equal(loaded.predict(data[0]), fitted_2d.predict(data[0]))
    with pytest.raises(ValueError, match="predates keys: it cannot be authenticated"):
        load_regressor(old, key=b"secret")
    # Their checksum still detects corruption.
    _rewrite(
        old,
        tmp_path / "edited.safetensors",
        lambda metadata, tensors: tensors["head.bias"].add_(1.0),
        rechecksum=False,
    )
    with pytest.raises(ValueError, match="does not match the checksum"):
        load_regressor(tmp_path / "edited.safetensors")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("x_scale_", [0.0, 1.0], "scaling statistics \\['x_scale_'\\]"),
        ("y_mean_", [1.0], "scaling statistics \\['y_mean_'\\]"),
        ("x_mean_", None, "missing \\['x_mean_'\\]"),
    ],
)
def test_bad_scaling_statistics_raise(data, tmp_path, name, value, message):
    X, y = data
    reg = StackedLSTMRegressor(**{**FAST, "scaling": "global"})
    reg.fit(np.stack([X, X], axis=-1), y)
    save_regressor(reg, tmp_path / "model.safetensors")

    def change(fitted):
        if value is None:
            del fitted[name]
        else:
            fitted[name] = value

    _rewrite(
        tmp_path / "model.safetensors",
        tmp_path / "bad.safetensors",
        _edit_json("fitted", change),
    )
    with pytest.raises(ValueError, match=message):
        load_regressor(tmp_path / "bad.safetensors")


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


def test_random_state_instance_is_restored(data, tmp_path):
    X, y = data
    params = {**FAST, "random_state": np.random.RandomState(7)}
    reg = StackedLSTMRegressor(**params).fit(X, y)
    save_regressor(reg, tmp_path / "model.safetensors")
    loaded = load_regressor(tmp_path / "model.safetensors")
    restored = loaded.random_state
    assert isinstance(restored, np.random.RandomState)
    assert restored.randint(10**9) == copy.deepcopy(reg.random_state).randint(10**9)


def test_warm_start_after_loading_continues_like_the_original(data, tmp_path):
    X, y = data
    reg = StackedLSTMRegressor(**FAST).fit(X, y)
    save_regressor(reg, tmp_path / "model.safetensors")
    loaded = load_regressor(tmp_path / "model.safetensors")
    reg.set_params(warm_start=True).fit(X, y)
    loaded.set_params(warm_start=True).fit(X, y)
    assert loaded.n_iter_ == reg.n_iter_ == 2 * FAST["max_iter"]
    assert loaded.loss_curve_ == reg.loss_curve_
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


def test_partial_fit_after_loading_continues(data, tmp_path):
    X, y = data
    reg = StackedLSTMRegressor(**FAST)
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


def test_clone_of_fitted_and_unfitted_estimators(data, fitted_2d, saved_file):
    X, y = data
    unfitted = StackedLSTMRegressor(**FAST)
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


def test_save_refuses_callbacks(data, tmp_path):
    X, y = data
    reg = StackedLSTMRegressor(**FAST, callbacks=[PrintLog()]).fit(X, y)
    with pytest.raises(ValueError, match="callbacks parameter is not None"):
        save_regressor(reg, tmp_path / "model.safetensors")
    assert not (tmp_path / "model.safetensors").exists()
    # As the message says: without the callbacks, the model saves.
    save_regressor(reg.set_params(callbacks=None), tmp_path / "model.safetensors")
    np.testing.assert_array_equal(
        load_regressor(tmp_path / "model.safetensors").predict(X), reg.predict(X)
    )


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_regressor(tmp_path / "absent.safetensors")


def _flip_last_bytes(data):
    # The tensors' bytes come last in a safetensors file.
    return data[:-6] + bytes(byte ^ 0xFF for byte in data[-6:])


def _change_a_saved_number(data):
    # Rewrite a digit inside the JSON of the header: still valid JSON.
    start = data.index(b'n_features_in_\\": ') + len(b'n_features_in_\\": ')
    digit = data[start : start + 1]
    return data[:start] + (b"9" if digit != b"9" else b"8") + data[start + 1 :]


class _Boom:
    """Unpickling this runs code: load_regressor must never do so."""

    ran = False

    def __reduce__(self):
        return (_explode, ())


def _explode():
    _Boom.ran = True


CORRUPTIONS = {
    "flipped weight bytes": (_flip_last_bytes, "checksum"),
    "changed header number": (_change_a_saved_number, "checksum"),
    "truncated end": (lambda data: data[:-7], "not a valid safetensors file"),
    "truncated half": (lambda data: data[: len(data) // 2], "truncated"),
    "header only": (lambda data: data[:5], "not a valid safetensors file"),
    "empty": (lambda data: b"", "empty"),
    "garbage": (lambda data: b"this is not a model" * 20, "not a valid safetensors"),
    "pickle": (lambda data: pickle.dumps(_Boom()), "not a valid safetensors file"),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corrupted_files_raise_value_error(saved_file, corruption, tmp_path):
    corrupt, message = CORRUPTIONS[corruption]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(corrupt(saved_file.read_bytes()))
    with pytest.raises(ValueError, match=message):
        load_regressor(path)
    assert not _Boom.ran


def _rewrite(source, target, edit, *, rechecksum=True, key=None):
    """Copy a saved file, letting ``edit(metadata, tensors)`` change it.

    With ``rechecksum`` the checksum is recomputed (keyed with ``key``, if
    given), so that only the checks on the contents can catch the change.
    """
    with safetensors.safe_open(source, framework="pt") as f:
        metadata = dict(f.metadata())
        names = list(f.keys())  # noqa: SIM118 (safe_open is not iterable)
        tensors = {name: f.get_tensor(name) for name in names}
    edit(metadata, tensors)
    if not rechecksum:
        safetensors_torch.save_file(tensors, target, metadata=metadata)
        return
    metadata["checksum"] = f"{'hmac-sha256' if key else 'sha256'}:{_ZEROS}"
    data = bytearray(safetensors_torch.save(tensors, metadata=metadata))
    span = _checksum_span(data, metadata["checksum"])
    data[span[0] : span[1]] = _digest(data, span, key).encode()
    target.write_bytes(bytes(data))


def _edit_json(entry, change):
    """An edit that lets ``change`` mutate the decoded JSON entry ``entry``."""

    def edit(metadata, tensors):
        value = json.loads(metadata[entry])
        change(value)
        metadata[entry] = json.dumps(value)

    return edit


def _set(key, value):
    return lambda mapping: mapping.__setitem__(key, value)


def _delete(key):
    return lambda mapping: mapping.pop(key)


INCONSISTENCIES = {
    "missing weight": (
        lambda metadata, tensors: tensors.pop("head.bias"),
        r"missing \['head.bias'\]",
    ),
    "extra weight": (
        lambda metadata, tensors: tensors.update(extra=torch.zeros(2)),
        r"unexpected \['extra'\]",
    ),
    "wrong weight shape": (
        lambda metadata, tensors: tensors.update({"head.weight": torch.zeros(7, 7)}),
        r"mismatched \['head.weight: saved \(7, 7\)",
    ),
    "wrong weight dtype": (
        lambda metadata, tensors: tensors.update(
            {"head.bias": tensors["head.bias"].double()}
        ),
        "mismatched.*float64",
    ),
    "n_outputs_ against weights": (
        _edit_json("fitted", _set("n_outputs_", 4)),
        "do not fit the network",
    ),
    "channels against weights": (
        _edit_json("fitted", _set("_n_channels", 2)),
        "do not fit the network",
    ),
    "huge network, checked before allocating": (
        _edit_json("params", _set("hidden_layer_sizes", [10**6])),
        "at most 64 layers of 65536 units load",
    ),
    "unknown parameter": (
        _edit_json("params", _set("n_layers", 2)),
        r"inconsistent with this version of sklearn_slstm: unknown \['n_layers'\]",
    ),
    "invalid hidden_layer_sizes": (
        _edit_json("params", _set("hidden_layer_sizes", [0])),
        "invalid parameters.*hidden_layer_sizes",
    ),
    "invalid loss": (
        _edit_json("params", _set("loss", "hinge")),
        "invalid parameters.*loss",
    ),
    "stored callbacks": (
        _edit_json("params", _set("callbacks", ["PrintLog"])),
        "callbacks",
    ),
    "missing fitted attribute": (
        _edit_json("fitted", _delete("n_outputs_")),
        r"missing \['n_outputs_'\]",
    ),
    "unknown fitted attribute": (
        _edit_json("fitted", _set("coef_", 1)),
        r"unknown \['coef_'\]",
    ),
    "fitted attribute of the wrong type": (
        _edit_json("fitted", _set("n_iter_", "2")),
        "invalid values for the fitted attributes: n_iter_ is not an integer",
    ),
    "feature names of the wrong length": (
        _edit_json("fitted", _set("feature_names_in_", ["a", "b"])),
        "feature_names_in_",
    ),
    "1D y with 3 outputs": (
        _edit_json("fitted", _set("_y_was_1d", True)),
        "1D target",
    ),
    "history not a list": (
        lambda metadata, tensors: metadata.update(history='{"epoch": 1}'),
        "history",
    ),
    "params not JSON": (
        lambda metadata, tensors: metadata.update(params="{not json"),
        "'params' entry of the header is not valid",
    ),
    "params not an object": (
        lambda metadata, tensors: metadata.update(params="[1, 2]"),
        "'params' entry is not a JSON object",
    ),
}


@pytest.mark.parametrize("inconsistency", INCONSISTENCIES)
def test_inconsistent_contents_raise_value_error(saved_file, inconsistency, tmp_path):
    edit, message = INCONSISTENCIES[inconsistency]
    path = tmp_path / "bad.safetensors"
    _rewrite(saved_file, path, edit)
    with pytest.raises(ValueError, match=message):
        load_regressor(path)


HEADER_PROBLEMS = {
    "newer format version": (
        lambda metadata, tensors: metadata.update(format_version="4"),
        r"format version '4'.*reads format versions 1, 2, 3 only",
    ),
    "no format version": (
        lambda metadata, tensors: metadata.pop("format_version"),
        "format version None",
    ),
    "other format": (
        lambda metadata, tensors: metadata.update(format="keras"),
        "not written by StackedLSTMRegressor.save",
    ),
    "no format": (
        lambda metadata, tensors: metadata.pop("format"),
        "no 'format' entry",
    ),
    "no checksum": (
        lambda metadata, tensors: metadata.pop("checksum"),
        r"lacks the entries \['checksum'\]",
    ),
    "no history": (
        lambda metadata, tensors: metadata.pop("history"),
        r"lacks the entries \['history'\]",
    ),
    "no library version": (
        lambda metadata, tensors: metadata.pop("library_version"),
        r"lacks the entries \['library_version'\]",
    ),
}


@pytest.mark.parametrize("problem", HEADER_PROBLEMS)
def test_header_problems_raise_value_error(saved_file, problem, tmp_path):
    edit, message = HEADER_PROBLEMS[problem]
    path = tmp_path / "bad.safetensors"
    _rewrite(saved_file, path, edit, rechecksum=False)
    with pytest.raises(ValueError, match=message):
        load_regressor(path)


def test_plain_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "weights.safetensors"
    safetensors_torch.save_file({"weight": torch.ones(2)}, path)
    with pytest.raises(ValueError, match="not written by StackedLSTMRegressor.save"):
        load_regressor(path)


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
    data, settings, serializer, monkeypatch, tmp_path
):
    X, y = data
    settings = dict(settings)
    reg = StackedLSTMRegressor(**FAST)
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
    import sklearn_slstm

    with monkeypatch.context() as patch:
        patch.setattr(sklearn_slstm, "__version__", version)
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

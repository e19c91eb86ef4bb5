"""Safe persistence of a fitted StackedLSTMRegressor in one safetensors file.

Unlike pickle, loading runs no code from the file: the file is a standard
safetensors file whose tensors are the weights of the torch module and whose
string metadata header holds JSON (hyper-parameters, fitted attributes and
the training history), a format version and a SHA-256 checksum of all of it.

Layout of the metadata header (every value is a string)::

    format          "sklearn_slstm.StackedLSTMRegressor"
    format_version  "2" ("1" before the scaling and linear_skip parameters;
                    still read, as scaling=None and linear_skip=False, the
                    only behaviour it had)
    library_version version of sklearn_slstm that wrote the file (information)
    params          JSON of get_params(deep=False), without ``callbacks``
    fitted          JSON of the fitted attributes needed to predict
    history         JSON of the skorch net's training history
    sha256          checksum of format_version, params, fitted, history and
                    the tensors' names, dtypes, shapes and bytes
"""

import contextlib
import hashlib
import json
import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from skorch.exceptions import DeviceWarning
from skorch.history import History

from ._scaling import GLOBAL_STATISTICS
from ._training import resolve_device

FORMAT_NAME = "sklearn_slstm.StackedLSTMRegressor"
FORMAT_VERSION = 2
# Versions load_regressor reads. Files of version 1 predate the scaling and
# linear_skip parameters: they load with scaling=None and linear_skip=False.
_READABLE_VERSIONS = ("1", "2")

# Metadata entries holding JSON, in the order the checksum reads them.
_JSON_ENTRIES = ("params", "fitted", "history")

_RANDOM_STATE_TAG = "__numpy_random_state__"

_INSTALL_HINT = 'pip install "sklearn-slstm[safetensors]"'


def save_regressor(estimator, path):
    """Save a fitted :class:`StackedLSTMRegressor` to one safetensors file.

    The file holds the hyper-parameters, the fitted attributes, the training
    history and the weights, and :func:`load_regressor` reads it back
    without running any code stored in it, unlike :mod:`pickle`.

    Parameters
    ----------
    estimator : StackedLSTMRegressor
        A fitted regressor whose ``callbacks`` parameter is None.
    path : str or path-like
        File to write; an existing file is replaced atomically: a failed
        or interrupted save leaves it as it was. The conventional extension
        is ``.safetensors``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``estimator.callbacks`` is not None: skorch callbacks are
        arbitrary Python objects that cannot be stored without pickle.
    TypeError
        If ``estimator`` is not a :class:`StackedLSTMRegressor`.
    ImportError
        If the optional dependency safetensors is not installed.

    See Also
    --------
    load_regressor : Read back a regressor saved by this function.

    Notes
    -----
    The optimizer's state is not saved: continuing training after loading
    (``warm_start=True`` or ``partial_fit``) starts from the saved weights and
    history with a fresh optimizer, as every warm-started fit does. The
    weights are stored on the CPU whatever the device they were trained on.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sklearn_slstm import StackedLSTMRegressor, make_damped_sine
    >>> from sklearn_slstm._persistence import save_regressor, load_regressor
    >>> X, y = make_damped_sine(n_samples=50, n_timesteps=10, random_state=0)
    >>> reg = StackedLSTMRegressor(
    ...     hidden_layer_sizes=(4,), max_iter=1, random_state=0
    ... ).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "model.safetensors"
    ...     save_regressor(reg, path)
    ...     loaded = load_regressor(path)
    >>> np.array_equal(loaded.predict(X), reg.predict(X))
    True
    """
    safetensors_torch = _import_safetensors()
    from . import __version__
    from ._regressor import StackedLSTMRegressor

    if not isinstance(estimator, StackedLSTMRegressor):
        raise TypeError(
            "save_regressor saves a StackedLSTMRegressor, got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    if estimator.callbacks is not None:
        raise ValueError(
            "Cannot save a StackedLSTMRegressor whose callbacks parameter is "
            "not None: skorch callbacks are arbitrary Python objects that this "
            "format does not store (it never runs code on load). Set "
            "callbacks=None with set_params before saving, or use pickle or "
            "joblib, which store them but must only load trusted files."
        )

    params = estimator.get_params(deep=False)
    del params["callbacks"]
    entries = {
        "params": _dumps(params, "the parameters"),
        "fitted": _dumps(_fitted_attributes(estimator), "the fitted attributes"),
        "history": _dumps(estimator.net_.history.to_list(), "the training history"),
    }
    tensors = {
        name: tensor.detach().to("cpu").contiguous()
        for name, tensor in estimator.net_.module_.state_dict().items()
    }
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "library_version": __version__,
        **entries,
        "sha256": _checksum(str(FORMAT_VERSION), entries, tensors),
    }
    _write_atomically(path, safetensors_torch.save(tensors, metadata=metadata))


def load_regressor(path):
    """Load a :class:`StackedLSTMRegressor` saved by :func:`save_regressor`.

    Nothing in the file is executed: the file is parsed as safetensors and
    JSON only, and every part is checked before the regressor is rebuilt.
    Its predictions are identical to those of the saved regressor.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save_regressor`.

    Returns
    -------
    estimator : StackedLSTMRegressor
        The fitted regressor, with its net on the device named by its
        ``device`` parameter (on the CPU, with a ``DeviceWarning``, when
        ``device="cuda"`` but CUDA is not available).

    Raises
    ------
    ValueError
        If the file is empty, truncated, corrupted or not a safetensors
        file; was not written by :func:`save_regressor`; has a format
        version this version of sklearn_slstm cannot read; or holds
        missing, extra or inconsistent parameters, attributes or weights.
    OSError
        If the file cannot be read (for example, it does not exist).
    ImportError
        If the optional dependency safetensors is not installed.

    See Also
    --------
    save_regressor : Write a fitted regressor to a file.
    """
    safetensors_torch = _import_safetensors()
    from ._regressor import StackedLSTMRegressor

    data = Path(path).read_bytes()
    try:
        tensors = safetensors_torch.load(data)
    except Exception as exc:
        # safetensors raises its own SafetensorError, and the torch side of
        # the parser may raise others on exotic headers: all mean a bad file.
        raise ValueError(
            f"{path} is not a valid safetensors file (it may be empty, "
            f"truncated or corrupted): {exc}"
        ) from exc
    metadata = _read_metadata(data, path)
    entries = _check_header(metadata, path)
    if metadata.get("sha256") != _checksum(
        metadata["format_version"], entries, tensors
    ):
        raise ValueError(
            f"{path} does not match the checksum stored in it: the file was "
            "corrupted or modified after it was saved."
        )
    params = _loads(entries["params"], "params", path)
    fitted = _loads(entries["fitted"], "fitted", path)
    history = _loads(entries["history"], "history", path)

    if metadata["format_version"] == "1" and isinstance(params, dict):
        # Format 1 predates these parameters; its models had neither.
        params.setdefault("scaling", None)
        params.setdefault("linear_skip", False)
    estimator = _rebuild_estimator(StackedLSTMRegressor, params, path)
    _check_fitted(fitted, path, estimator.scaling)
    if not isinstance(history, list) or not all(
        isinstance(epoch, dict) for epoch in history
    ):
        raise ValueError(f"{path}: the training history is not a list of epochs.")

    net = _build_net(estimator, fitted)
    # Compare shapes on the meta device first: nothing is allocated, so a
    # file whose parameters describe a huge network fails fast.
    with torch.device("meta"):
        layout = net.module(**net.get_params_for("module")).state_dict()
    _check_tensor_layout(layout, tensors, path)
    # The initial weights are overwritten: keep the caller's RNG untouched.
    with torch.random.fork_rng(devices=[]):
        net.initialize()
    net.module_.load_state_dict(tensors)
    net.history = History(history)

    for name, value in fitted.items():
        setattr(estimator, name, value)
    if "feature_names_in_" in fitted:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], object)
    for name in GLOBAL_STATISTICS:
        if name in fitted:
            setattr(estimator, name, np.asarray(fitted[name], dtype=np.float64))
    estimator.net_ = net
    # The optimizer's state is not saved, so the next partial_fit must build
    # a fresh net from these weights rather than continue this one.
    estimator._net_is_incremental = False
    return estimator


def _write_atomically(path, data):
    """Write ``data`` to ``path``: afterwards it holds the old file or the new.

    The bytes go to a temporary file in the same folder, are flushed to disk,
    and the temporary file then replaces ``path`` in one rename. A failed or
    killed save leaves an existing file untouched and, unless the process
    was killed, no temporary file behind.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates the file private; give it a new file's usual mode.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    # Make the rename itself durable (POSIX; folders cannot be opened on
    # Windows, where there is nothing to do).
    with contextlib.suppress(OSError):
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _umask():
    """The process's umask (reading it means setting it, then restoring it)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _import_safetensors():
    try:
        import safetensors.torch
    except ImportError as exc:
        raise ImportError(
            "Saving and loading a StackedLSTMRegressor needs the optional "
            f"dependency safetensors: {_INSTALL_HINT}"
        ) from exc
    return safetensors.torch


def _fitted_attributes(estimator):
    """The JSON-ready fitted attributes that predicting and warm starts need."""
    fitted = {
        "n_features_in_": int(estimator.n_features_in_),
        "n_outputs_": int(estimator.n_outputs_),
        "_n_channels": int(estimator._n_channels),
        "_y_was_1d": bool(estimator._y_was_1d),
        "loss_curve_": [float(loss) for loss in estimator.loss_curve_],
        "best_loss_": (
            None if estimator.best_loss_ is None else float(estimator.best_loss_)
        ),
        "validation_scores_": (
            None
            if estimator.validation_scores_ is None
            else [float(score) for score in estimator.validation_scores_]
        ),
        "best_validation_score_": (
            None
            if estimator.best_validation_score_ is None
            else float(estimator.best_validation_score_)
        ),
        "n_iter_": int(estimator.n_iter_),
    }
    for name in GLOBAL_STATISTICS:
        if hasattr(estimator, name):
            fitted[name] = [float(value) for value in getattr(estimator, name)]
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = [
            str(name) for name in estimator.feature_names_in_
        ]
    return fitted


def _to_json(value):
    """``json.dumps`` fallback for numpy values and RandomState instances."""
    if isinstance(value, np.random.RandomState):
        kind, keys, position, has_gauss, cached_gaussian = value.get_state()
        return {
            _RANDOM_STATE_TAG: [
                kind,
                keys.tolist(),
                int(position),
                int(has_gauss),
                float(cached_gaussian),
            ]
        }
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _from_json(obj):
    """``json.loads`` object hook undoing the RandomState encoding of _to_json."""
    if set(obj) == {_RANDOM_STATE_TAG}:
        kind, keys, position, has_gauss, cached_gaussian = obj[_RANDOM_STATE_TAG]
        state = np.random.RandomState()
        state.set_state(
            (kind, np.asarray(keys, np.uint32), position, has_gauss, cached_gaussian)
        )
        return state
    return obj


def _dumps(value, what):
    try:
        return json.dumps(value, default=_to_json)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Cannot save {what} as JSON: {exc}") from exc


def _loads(text, entry, path):
    try:
        return json.loads(text, object_hook=_from_json)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{path}: the {entry!r} entry of the header is not valid: {exc}"
        ) from exc


def _checksum(format_version, entries, tensors):
    """SHA-256 of the format version, JSON entries and tensors, in fixed order.

    It detects corruption and edits made without recomputing it; it is not a
    signature. Safety on load does not rest on it: nothing is executed.
    """
    digest = hashlib.sha256()
    for text in (format_version, *(entries[name] for name in _JSON_ENTRIES)):
        digest.update(len(text).to_bytes(8, "little"))
        digest.update(text.encode())
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        layout = json.dumps([name, str(tensor.dtype), list(tensor.shape)])
        digest.update(len(layout).to_bytes(8, "little"))
        digest.update(layout.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _read_metadata(data, path):
    """The ``__metadata__`` of a safetensors header that the parser accepted."""
    header_size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_size])
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or "format" not in metadata:
        raise ValueError(
            f"{path} is a safetensors file but was not written by "
            "save_regressor: its header has no 'format' entry."
        )
    return metadata


def _check_header(metadata, path):
    """Check the format name and version; return the JSON entries."""
    if metadata["format"] != FORMAT_NAME:
        raise ValueError(
            f"{path} holds format {metadata['format']!r}, not {FORMAT_NAME!r}: "
            "it was not written by save_regressor."
        )
    version = metadata.get("format_version")
    if version not in _READABLE_VERSIONS:
        writer = metadata.get("library_version", "an unknown version")
        raise ValueError(
            f"{path} has format version {version!r} (written by sklearn_slstm "
            f"{writer}), but this version of sklearn_slstm reads format versions "
            f"{', '.join(_READABLE_VERSIONS)} only; load it with the version that "
            "wrote it, or a newer one."
        )
    missing = [name for name in (*_JSON_ENTRIES, "sha256") if name not in metadata]
    if missing:
        raise ValueError(f"{path}: the header lacks the entries {missing}.")
    return {name: metadata[name] for name in _JSON_ENTRIES}


def _rebuild_estimator(estimator_class, params, path):
    if not isinstance(params, dict):
        raise ValueError(f"{path}: the 'params' entry is not a JSON object.")
    unknown = sorted(set(params) - set(estimator_class._get_param_names()))
    if unknown:
        raise ValueError(
            f"{path} has parameters unknown to this version of sklearn_slstm: "
            f"{unknown}."
        )
    if params.get("callbacks") is not None:
        raise ValueError(f"{path} stores callbacks, which cannot be loaded safely.")
    # JSON has no tuples: sequences come back as lists.
    params = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in params.items()
    }
    estimator = estimator_class(**params)
    try:
        estimator._validate_params()
        estimator._check_hidden_layer_sizes()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} holds invalid parameters: {exc}") from exc
    return estimator


def _is_int(value, minimum):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_number_list(value):
    return isinstance(value, list) and all(_is_number(item) for item in value)


_FITTED_CHECKS = {
    "n_features_in_": lambda value: _is_int(value, 1),
    "n_outputs_": lambda value: _is_int(value, 1),
    "_n_channels": lambda value: _is_int(value, 1),
    "_y_was_1d": lambda value: isinstance(value, bool),
    "loss_curve_": _is_number_list,
    "best_loss_": lambda value: value is None or _is_number(value),
    "validation_scores_": lambda value: value is None or _is_number_list(value),
    "best_validation_score_": lambda value: value is None or _is_number(value),
    "n_iter_": lambda value: _is_int(value, 0),
}


def _check_fitted(fitted, path, scaling):
    if not isinstance(fitted, dict):
        raise ValueError(f"{path}: the 'fitted' entry is not a JSON object.")
    expected = set(_FITTED_CHECKS) | (
        set(GLOBAL_STATISTICS) if scaling == "global" else set()
    )
    missing = sorted(expected - set(fitted))
    unknown = sorted(set(fitted) - expected - {"feature_names_in_"})
    if missing or unknown:
        raise ValueError(
            f"{path}: the fitted attributes are inconsistent: missing {missing}, "
            f"unknown {unknown}."
        )
    invalid = sorted(
        name for name, ok in _FITTED_CHECKS.items() if not ok(fitted[name])
    )
    if invalid:
        raise ValueError(f"{path}: invalid values for the fitted attributes {invalid}.")
    names = fitted.get("feature_names_in_")
    if names is not None and not (
        isinstance(names, list)
        and len(names) == fitted["n_features_in_"]
        and all(isinstance(name, str) for name in names)
    ):
        raise ValueError(
            f"{path}: feature_names_in_ is not a list of n_features_in_="
            f"{fitted['n_features_in_']} strings."
        )
    # GLOBAL_STATISTICS lists the two of X (one per channel), then of y.
    n_channels, n_outputs = fitted["_n_channels"], fitted["n_outputs_"]
    expected_sizes = (n_channels, n_channels, n_outputs, n_outputs)
    sizes = dict(zip(GLOBAL_STATISTICS, expected_sizes, strict=True))
    invalid = sorted(
        name
        for name, size in sizes.items()
        if name in fitted
        and not (
            _is_number_list(fitted[name])
            and len(fitted[name]) == size
            and all(math.isfinite(value) for value in fitted[name])
            and (not name.endswith("scale_") or min(fitted[name]) > 0)
        )
    )
    if invalid:
        raise ValueError(
            f"{path}: the scaling statistics {invalid} are not lists of the "
            "expected length of finite numbers (positive scales)."
        )
    if fitted["_y_was_1d"] and fitted["n_outputs_"] != 1:
        raise ValueError(
            f"{path}: a 1D target (_y_was_1d) needs n_outputs_=1, got "
            f"{fitted['n_outputs_']}."
        )


def _loading_device(requested):
    """The device to load onto: like fit, but CUDA falls back to the CPU."""
    if requested == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            "The regressor was saved with device='cuda' but CUDA is not "
            "available; loading it on the CPU. Its device parameter still says "
            "'cuda': set_params(device='cpu') before fitting it again here.",
            DeviceWarning,
            stacklevel=4,  # the caller of load_regressor
        )
        return "cpu"
    return resolve_device(requested)


def _build_net(estimator, fitted):
    """Build the (uninitialised) net as ``fit`` does, with the saved shapes."""
    return estimator._build_net(
        n_timesteps=fitted["n_features_in_"],
        n_channels=fitted["_n_channels"],
        n_outputs=fitted["n_outputs_"],
        device=_loading_device(estimator.device),
        incremental=False,
    )


def _check_tensor_layout(expected, tensors, path):
    """Compare the saved tensors' names, shapes and dtypes with the module's."""
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    mismatched = sorted(
        f"{name}: saved {tuple(tensors[name].shape)} {tensors[name].dtype}, "
        f"expected {tuple(expected[name].shape)} {expected[name].dtype}"
        for name in set(expected) & set(tensors)
        if tensors[name].shape != expected[name].shape
        or tensors[name].dtype != expected[name].dtype
    )
    if missing or unexpected or mismatched:
        raise ValueError(
            f"{path}: the saved weights do not fit the network its parameters "
            f"describe: missing {missing}, unexpected {unexpected}, "
            f"mismatched {mismatched}."
        )

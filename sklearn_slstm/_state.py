"""The fitted state of a StackedLSTMRegressor, defined once.

Pickle, ``copy.deepcopy``, skops and ``save``/``load`` all store the same
state, built by ``StackedLSTMRegressor.__getstate__`` from the table
``FITTED_ATTRIBUTES`` below, and restore it through ``__setstate__``, which
checks it here before rebuilding the skorch net. The state holds plain
Python values and numpy arrays only, never torch or skorch objects, so it
loads on any device and skops can read it without trusting arbitrary types.

Layout of the state (a dict)::

    sklearn_slstm_version  version of sklearn_slstm that made it
    params                 the constructor parameters (``get_params``)
    fitted                 the fitted attributes of ``FITTED_ATTRIBUTES``
    weights                {name: float32 array}, the module's state dict
    history                the skorch training history, a list of epochs
    optimizer              the optimizer's state dict with numpy arrays, kept
                           only for the net that ``partial_fit`` continues
    other                  any other instance attribute (pickle only)

An unfitted regressor has no ``fitted``, ``weights``, ``history`` or
``optimizer``. Everything a file can claim is bounded here, before anything
of that size is built: see the ``MAX_*`` limits.
"""

import math
import numbers
import warnings

import numpy as np
from sklearn.exceptions import InconsistentVersionWarning as _SklearnVersionWarning

from ._scaling import GLOBAL_STATISTICS

# Limits on what a state may describe. They are far above any model this
# library trains in practice, and keep a crafted file or skops payload from
# asking for unbounded time or memory before it is refused.
MAX_LAYERS = 64
MAX_UNITS = 65_536
MAX_TIMESTEPS = 1_048_576
MAX_CHANNELS = 65_536
MAX_OUTPUTS = 65_536
# 2**28 float32 weights fill 1 GiB, the largest file load reads.
MAX_PARAMETERS = 2**28
MAX_EPOCHS = 1_000_000


class InconsistentVersionWarning(_SklearnVersionWarning):
    """A model is loaded under another version of sklearn_slstm than saved it.

    A subclass of scikit-learn's warning of the same name, so that one
    filter silences both.
    """

    def __str__(self):
        return (
            f"Loading {self.estimator_name} saved by sklearn_slstm "
            f"{self.original_sklearn_version} with sklearn_slstm "
            f"{self.current_sklearn_version}. This might lead to breaking code or "
            "invalid results; refit it, or load it with the version that saved it."
        )


def warn_if_other_version(estimator_name, saved_version):
    from . import __version__

    if saved_version != __version__:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=estimator_name,
                current_sklearn_version=__version__,
                original_sklearn_version=saved_version,
            ),
            stacklevel=3,
        )


def _integer(low, high):
    def check(value):
        if not isinstance(value, numbers.Integral) or isinstance(
            value, bool | np.bool_
        ):
            raise ValueError(f"is not an integer: {value!r:.60}")
        if not low <= value <= high:
            raise ValueError(f"is {value}, outside [{low}, {high}]")
        return int(value)

    return check


def _boolean(value):
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"is not a boolean: {value!r:.60}")
    return bool(value)


def _float(value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        raise ValueError(f"is not a number: {value!r:.60}")
    return float(value)


def _floats(value):
    if not isinstance(value, list | tuple | np.ndarray) or len(value) > MAX_EPOCHS:
        raise ValueError(f"is not a list of at most {MAX_EPOCHS} numbers")
    return [_float(item) for item in value]


def _optional(check):
    return lambda value: None if value is None else check(value)


def _statistics(value):
    array = np.asarray(value) if isinstance(value, list | np.ndarray) else None
    if (
        array is None
        or array.ndim != 1
        or not np.issubdtype(array.dtype, np.number)
        or not np.isfinite(array).all()
    ):
        raise ValueError("is not a 1D array of finite numbers")
    return array.astype(np.float64)


def _feature_names(value):
    names = list(value) if isinstance(value, list | np.ndarray) else None
    if names is None or not all(isinstance(name, str) for name in names):
        raise ValueError("is not a list of strings")
    return np.asarray(names, dtype=object)


# The fitted state: every attribute that fit sets and predict, warm starts
# and partial_fit read, with the check and conversion of a stored value.
# __getstate__, the documented-attributes test and save/load derive from
# it: a new fitted attribute is one more entry here (and in the docstring).
FITTED_ATTRIBUTES = {
    "n_features_in_": _integer(1, MAX_TIMESTEPS),
    "feature_names_in_": _feature_names,  # only for X with string names
    "n_outputs_": _integer(1, MAX_OUTPUTS),
    "loss_curve_": _floats,
    "best_loss_": _optional(_float),
    "validation_scores_": _optional(_floats),
    "best_validation_score_": _optional(_float),
    "n_iter_": _integer(0, MAX_EPOCHS),
    # Only for scaling="global".
    **dict.fromkeys(GLOBAL_STATISTICS, _statistics),
    "_n_channels": _integer(1, MAX_CHANNELS),
    "_y_was_1d": _boolean,
}
OPTIONAL_ATTRIBUTES = frozenset({"feature_names_in_", *GLOBAL_STATISTICS})


def map_leaves(value, leaf):
    """``value`` with ``leaf`` applied to everything inside dicts, lists, tuples."""
    if isinstance(value, dict):
        return {key: map_leaves(item, leaf) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(map_leaves(item, leaf) for item in value)
    return leaf(value)


def plain(value):
    """``value`` with numpy scalars as Python ones, in lists, tuples and dicts."""
    return map_leaves(
        value, lambda leaf: leaf.item() if isinstance(leaf, np.generic) else leaf
    )


def export_fitted(attributes):
    """The fitted attributes of ``vars(estimator)`` as state values."""
    fitted = {}
    for name in FITTED_ATTRIBUTES:
        if name not in attributes:
            continue
        value = attributes[name]
        if name == "feature_names_in_":
            value = [str(item) for item in value]
        elif isinstance(value, np.ndarray):
            value = value.copy()
        fitted[name] = plain(value)
    return fitted


def check_fitted(fitted, *, scaling):
    """Check and convert the ``fitted`` part of a state; return the attributes."""
    if not isinstance(fitted, dict):
        raise ValueError("the fitted attributes are not a mapping.")
    expected = set(FITTED_ATTRIBUTES) - OPTIONAL_ATTRIBUTES
    if scaling == "global":
        expected |= set(GLOBAL_STATISTICS)
    missing = sorted(expected - set(fitted))
    unknown = sorted(str(name) for name in set(fitted) - expected - OPTIONAL_ATTRIBUTES)
    if missing or unknown:
        raise ValueError(
            f"the fitted attributes are inconsistent: missing {missing}, "
            f"unknown {unknown}."
        )
    checked, invalid = {}, []
    for name, check in FITTED_ATTRIBUTES.items():
        if name in fitted:
            try:
                checked[name] = check(fitted[name])
            except ValueError as exc:
                invalid.append(f"{name} {exc}")
    if invalid:
        raise ValueError(
            f"invalid values for the fitted attributes: {'; '.join(invalid)}."
        )
    _check_consistency(checked)
    return checked


def _check_consistency(fitted):
    names = fitted.get("feature_names_in_")
    if names is not None and len(names) != fitted["n_features_in_"]:
        raise ValueError(
            f"feature_names_in_ is not a list of n_features_in_="
            f"{fitted['n_features_in_']} strings."
        )
    # GLOBAL_STATISTICS lists the two of X (one per channel), then of y.
    n_channels, n_outputs = fitted["_n_channels"], fitted["n_outputs_"]
    sizes = (n_channels, n_channels, n_outputs, n_outputs)
    invalid = sorted(
        name
        for name, size in zip(GLOBAL_STATISTICS, sizes, strict=True)
        if name in fitted
        and (
            len(fitted[name]) != size
            or (name.endswith("scale_") and not (fitted[name] > 0).all())
        )
    )
    if invalid:
        raise ValueError(
            f"the scaling statistics {invalid} are not lists of the expected "
            "length of finite numbers (positive scales)."
        )
    if fitted["_y_was_1d"] and n_outputs != 1:
        raise ValueError(
            f"a 1D target (_y_was_1d) needs n_outputs_=1, got {n_outputs}."
        )
    if len(fitted["loss_curve_"]) != fitted["n_iter_"]:
        raise ValueError(
            f"loss_curve_ has {len(fitted['loss_curve_'])} entries for "
            f"n_iter_={fitted['n_iter_']} epochs."
        )


def check_architecture(hidden_layer_sizes):
    """Refuse a network beyond the limits before anything is built."""
    if len(hidden_layer_sizes) > MAX_LAYERS or max(hidden_layer_sizes) > MAX_UNITS:
        raise ValueError(
            f"hidden_layer_sizes describes {len(hidden_layer_sizes)} layers of up "
            f"to {max(hidden_layer_sizes)} units; at most {MAX_LAYERS} layers of "
            f"{MAX_UNITS} units load."
        )


def check_weights(weights, layout):
    """Check ``weights`` against the module's ``layout`` (meta tensors).

    Returns the weights as numpy arrays; a network larger than
    ``MAX_PARAMETERS``, a name, shape or dtype that differs from the layout,
    or a non-finite weight raises a ``ValueError``.
    """
    if not isinstance(weights, dict) or not all(
        isinstance(name, str) and isinstance(array, np.ndarray)
        for name, array in weights.items()
    ):
        raise ValueError("the weights are not a mapping of names to arrays.")
    n_expected = sum(math.prod(tensor.shape) for tensor in layout.values())
    if n_expected > MAX_PARAMETERS:
        raise ValueError(
            f"the parameters describe a network of {n_expected} weights; at most "
            f"{MAX_PARAMETERS} load."
        )
    missing = sorted(set(layout) - set(weights))
    unexpected = sorted(set(weights) - set(layout))
    mismatched = sorted(
        f"{name}: saved {weights[name].shape} {weights[name].dtype}, "
        f"expected {tuple(layout[name].shape)} "
        f"{str(layout[name].dtype).removeprefix('torch.')}"
        for name in set(layout) & set(weights)
        if weights[name].shape != tuple(layout[name].shape)
        or weights[name].dtype != np.float32
    )
    if missing or unexpected or mismatched:
        raise ValueError(
            "the saved weights do not fit the network its parameters describe: "
            f"missing {missing}, unexpected {unexpected}, mismatched {mismatched}."
        )
    not_finite = sorted(
        name for name, array in weights.items() if not np.isfinite(array).all()
    )
    if not_finite:
        raise ValueError(f"the weights {not_finite} hold NaN or infinite values.")
    return weights


def _is_scalar(value):
    return value is None or isinstance(value, str | bool | numbers.Real)


def check_history(history):
    """Check the training history: a bounded list of epochs of plain values."""
    if not isinstance(history, list) or not all(
        isinstance(epoch, dict) for epoch in history
    ):
        raise ValueError("the training history is not a list of epochs.")
    if len(history) > MAX_EPOCHS:
        raise ValueError(
            f"the training history has {len(history)} epochs; at most "
            f"{MAX_EPOCHS} load."
        )
    for epoch in history:
        for key, value in epoch.items():
            if key == "batches" and isinstance(value, list):
                if not all(
                    isinstance(batch, dict)
                    and all(
                        isinstance(name, str) and _is_scalar(item)
                        for name, item in batch.items()
                    )
                    for batch in value
                ):
                    raise ValueError(
                        "the training history holds a batch record that is not "
                        "a mapping of names to numbers or strings."
                    )
            elif not (isinstance(key, str) and _is_scalar(value)):
                raise ValueError(
                    f"the training history holds an entry {str(key)!r:.40} that "
                    "is not a number or string."
                )
    return history

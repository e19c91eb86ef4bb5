"""The fitted state of an estimator as plain values, and back.

Pickle, ``copy.deepcopy``, skops and ``save``/``load`` all store the same
state, built by ``get_state`` from the estimator's table of fitted
attributes (``_fitted_attributes``, declared per estimator class with the
checks below), and restore it through ``set_state``, which checks it here
before rebuilding the skorch net. The state holds plain Python values and
numpy arrays only, never torch or skorch objects, so it loads on any device
and skops can read it without trusting arbitrary types.

What this module needs of an estimator (its protocol): scikit-learn's
``_get_param_names`` and ``_validate_params``; the class attributes
``_fitted_attributes`` (name -> check), ``_optional_attributes`` and
``_net_attributes`` (the names that hold the net); ``_fitted_scaling``, the
estimator's scaling rebuilt from its attributes; and ``_build_net``, an
uninitialised net for a fitted shape.

Layout of the state (a dict)::

    sklearn_slstm_version  version of sklearn_slstm that made it
    params                 the constructor parameters (``get_params``)
    fitted                 the fitted attributes of ``_fitted_attributes``
    weights                {name: float32 array}, the module's state dict
    history                the skorch training history, a list of epochs
    optimizer              the optimizer's state dict with numpy arrays, kept
                           only for the net that ``partial_fit`` continues
    other                  any other instance attribute (pickle only)

An unfitted estimator has no ``fitted``, ``weights``, ``history`` or
``optimizer``. Everything a file can claim is bounded here, before anything
of that size is built: see the ``MAX_*`` limits.
"""

import math
import numbers
import warnings

import numpy as np
import torch
from sklearn.exceptions import InconsistentVersionWarning as _SklearnVersionWarning
from skorch.callbacks import Callback
from skorch.history import History

from . import _version
from ._scaling import SCALINGS
from ._training import loading_device
from ._validation import as_tensor, check_hidden_layer_sizes, check_quantiles

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
    if saved_version != _version.__version__:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=estimator_name,
                current_sklearn_version=_version.__version__,
                original_sklearn_version=saved_version,
            ),
            stacklevel=3,
        )


def integer(low, high):
    def check(value):
        if not isinstance(value, numbers.Integral) or isinstance(
            value, bool | np.bool_
        ):
            raise ValueError(f"is not an integer: {value!r:.60}")
        if not low <= value <= high:
            raise ValueError(f"is {value}, outside [{low}, {high}]")
        return int(value)

    return check


def boolean(value):
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"is not a boolean: {value!r:.60}")
    return bool(value)


def real(value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        raise ValueError(f"is not a number: {value!r:.60}")
    return float(value)


def reals(value):
    if not isinstance(value, list | tuple | np.ndarray) or len(value) > MAX_EPOCHS:
        raise ValueError(f"is not a list of at most {MAX_EPOCHS} numbers")
    return [real(item) for item in value]


def optional(check):
    return lambda value: None if value is None else check(value)


def statistics(value):
    array = np.asarray(value) if isinstance(value, list | np.ndarray) else None
    if (
        array is None
        or array.ndim != 1
        or not np.issubdtype(array.dtype, np.number)
        or not np.isfinite(array).all()
    ):
        raise ValueError("is not a 1D array of finite numbers")
    return array.astype(np.float64)


def choice(options):
    def check(value):
        if not any(value is option or value == option for option in options):
            raise ValueError(
                f"is not one of {sorted(map(str, options))}: {value!r:.60}"
            )
        return value

    return check


def quantile_levels(value):
    """Quantile levels as ``check_quantiles`` accepts them, sorted; an array."""
    if not isinstance(value, list | np.ndarray):
        raise ValueError("is not a list of quantile levels")
    try:
        levels = check_quantiles(value)
    except ValueError:
        raise ValueError(
            "is not a sorted list of distinct levels in (0, 1) with 0.5"
        ) from None
    if list(levels) != [float(level) for level in value]:
        raise ValueError("is not sorted")
    return np.array(levels)


def _label_kind(label):
    """The kind of a class label: bool, str, int or float; None for others."""
    if isinstance(label, bool | np.bool_):
        return bool
    if isinstance(label, str):
        return str
    if isinstance(label, numbers.Integral):
        return int
    if isinstance(label, numbers.Real) and math.isfinite(label):
        return float
    return None


def class_labels(value):
    """Class labels: 2 to ``MAX_OUTPUTS`` distinct ones of one kind, sorted.

    Stored as a list (``_export_fitted``), so that every format holds plain
    values; restored as an array, as ``np.unique`` sorts them.
    """
    items = list(value) if isinstance(value, list | np.ndarray) else None
    if items is None or not 2 <= len(items) <= MAX_OUTPUTS:
        raise ValueError(f"is not a list of 2 to {MAX_OUTPUTS} class labels")
    kinds = {_label_kind(item) for item in items}
    if len(kinds) != 1 or None in kinds:
        raise ValueError(
            "is not a list of labels of one kind (strings, booleans, integers "
            "or finite numbers)"
        )
    labels = np.asarray(items)
    if not all(labels[:-1] < labels[1:]):
        raise ValueError("is not a sorted list of distinct labels")
    return labels


def feature_names(value):
    names = list(value) if isinstance(value, list | np.ndarray) else None
    if names is None or not all(isinstance(name, str) for name in names):
        raise ValueError("is not a list of strings")
    return np.asarray(names, dtype=object)


# The fitted attributes that every estimator of the family has, with the
# check and conversion of a stored value. Each estimator class extends the
# table as its _fitted_attributes; get_state, set_state and the test of
# documented attributes derive from it: a new fitted attribute is one more
# entry there (and in the docstring).
FITTED_ATTRIBUTES = {
    "n_features_in_": integer(1, MAX_TIMESTEPS),
    "feature_names_in_": feature_names,  # only for X with string names
    "loss_curve_": reals,
    "best_loss_": optional(real),
    "validation_scores_": optional(reals),
    "best_validation_score_": optional(real),
    "n_iter_": integer(0, MAX_EPOCHS),
    # The fitted scaling (states of versions before scaling="auto" lack it).
    "scaling_": choice(SCALINGS),
    # Only for scaling_="global".
    "x_mean_": statistics,
    "x_scale_": statistics,
    "_n_channels": integer(1, MAX_CHANNELS),
}
OPTIONAL_ATTRIBUTES = frozenset({"feature_names_in_", "x_mean_", "x_scale_"})


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


def get_state(estimator):
    """The state of ``estimator`` that pickle, skops and ``save`` store."""
    attributes = dict(vars(estimator))
    state = {
        "sklearn_slstm_version": _version.__version__,
        "params": {
            name: attributes.pop(name)
            for name in estimator._get_param_names()
            if name in attributes
        },
    }
    net_name, incremental_name = estimator._net_attributes
    net = attributes.pop(net_name, None)
    incremental = attributes.pop(incremental_name, False)
    if net is not None:
        state["fitted"] = _export_fitted(attributes, estimator._fitted_attributes)
        for name in state["fitted"]:
            del attributes[name]
        state["weights"] = {
            name: tensor.detach().to("cpu").numpy()
            for name, tensor in net.module_.state_dict().items()
        }
        state["history"] = plain(net.history.to_list())
        state["optimizer"] = (
            to_numpy(net.optimizer_.state_dict()) if incremental else None
        )
    state["other"] = attributes
    return state


def set_state(estimator, state, *, share_weights=False):
    """Restore the state of ``get_state`` into ``estimator``, checking it first.

    Raises a ``ValueError`` naming the problem if the state is invalid, and
    warns if another version of sklearn_slstm made it. With
    ``share_weights`` (for states that ``load`` read, which nothing else
    holds), the restored weights share the memory of the state's arrays.
    """
    name = type(estimator).__name__
    if not isinstance(state, dict) or "sklearn_slstm_version" not in state:
        raise ValueError(
            f"The state of a {name} is a dict that records the version of "
            "sklearn_slstm that made it; this one does not."
        )
    warn_if_other_version(name, str(state["sklearn_slstm_version"]))
    params = state.get("params")
    names = set(estimator._get_param_names())
    if not isinstance(params, dict):
        # A list of pairs would fail in set() with a TypeError (unhashable).
        raise ValueError(
            "The parameters of the state are not a mapping of names to values: "
            f"got {type(params).__name__}."
        )
    # A state written before a parameter was added has the old behaviour,
    # which is that parameter's default.
    params = {**estimator._added_parameters, **params}
    if set(params) != names:
        unknown = sorted(map(str, set(params) - names))
        missing = sorted(names - set(params))
        raise ValueError(
            "The parameters are inconsistent with this version of "
            f"sklearn_slstm: unknown {unknown}, missing {missing}."
        )
    other = state.get("other", {})
    reserved = names | set(estimator._net_attributes[:1])
    if not isinstance(other, dict) or not all(
        isinstance(key, str) and key not in reserved for key in other
    ):
        raise ValueError(
            "The other attributes of the state are not a mapping of names "
            f"other than the parameters and {estimator._net_attributes[0]}."
        )
    fitted_parts = sorted({"fitted", "history", "optimizer"} & set(state))
    if fitted_parts and "weights" not in state:
        # Restoring it as an unfitted model would drop the fit silently.
        raise ValueError(
            f"the state holds {fitted_parts} of a fitted model but no 'weights'."
        )
    vars(estimator).update(params)
    vars(estimator).update(other)
    if "weights" in state:
        _restore_fitted(estimator, state, share_weights=share_weights)


def _restore_fitted(estimator, state, *, share_weights):
    """Rebuild the fitted attributes and the net from a checked state.

    With ``share_weights``, the module's parameters share the memory of
    the state's weight arrays; otherwise they are copies.
    """
    try:
        estimator._validate_params()
        sizes = check_hidden_layer_sizes(estimator.hidden_layer_sizes)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid parameters: {exc}") from exc
    check_architecture(sizes)
    if estimator.callbacks is not None and not all(
        isinstance(callback, Callback)
        or (
            isinstance(callback, tuple)
            and len(callback) == 2
            and isinstance(callback[1], Callback)
        )
        for callback in estimator.callbacks
    ):
        raise ValueError("the callbacks parameter holds non-callbacks.")
    fitted = _check_fitted(state.get("fitted"), estimator)
    history = check_history(state.get("history"))
    optimizer = state.get("optimizer")
    net = estimator._build_net(
        fitted,
        device=loading_device(estimator.device),
        incremental=optimizer is not None,
    )
    # Compare shapes on the meta device first: nothing is allocated, so
    # a state whose parameters describe a huge network fails fast.
    with torch.device("meta"):
        layout = net.module(**net.get_params_for("module")).state_dict()
    weights = check_weights(state["weights"], layout)
    # The module is built from the saved weights, with no initialisation to
    # overwrite. Weights that ``load`` read are its own, and shared; those of
    # a state from elsewhere (a pickle, or a user's __getstate__ whose arrays
    # are another estimator's weights) are copied. The generator of this
    # net's own leaves every other random stream untouched.
    tensors = {
        name: as_tensor(array) if share_weights else torch.tensor(array)
        for name, array in weights.items()
    }
    with net.random_draws_from(0), net.restoring_weights(tensors):
        net.initialize()
    del tensors
    if optimizer is not None:
        _load_optimizer_state(net.optimizer_, optimizer)
    net.history = History(history)
    net_name, incremental_name = estimator._net_attributes
    vars(estimator).update(fitted)
    vars(estimator).update({net_name: net, incremental_name: optimizer is not None})


def _export_fitted(attributes, table):
    """The fitted attributes of ``vars(estimator)`` in ``table``, as state values."""
    fitted = {}
    for name in table:
        if name not in attributes:
            continue
        value = attributes[name]
        if name == "feature_names_in_":
            value = [str(item) for item in value]
        elif name == "classes_":
            value = value.tolist()
        elif isinstance(value, np.ndarray):
            value = value.copy()
        fitted[name] = plain(value)
    return fitted


def _check_fitted(fitted, estimator):
    """Check and convert the ``fitted`` part of a state; return the attributes.

    The attributes are those of the estimator's table: all but the optional
    ones are required, and so are the statistics of its fitted scaling.
    """
    if not isinstance(fitted, dict):
        raise ValueError("the fitted attributes are not a mapping.")
    table, optional_names = estimator._fitted_attributes, estimator._optional_attributes
    if "scaling_" not in fitted:
        # A state of a version before scaling="auto": its scaling is scaling_.
        fitted = {**fitted, "scaling_": estimator.scaling}
    try:
        scaling = SCALINGS[table["scaling_"](fitted["scaling_"])]
    except ValueError as exc:
        raise ValueError(f"invalid fitted attribute scaling_: it {exc}.") from None
    expected = set(table) - optional_names | (set(scaling.STATISTICS) & set(table))
    missing = sorted(expected - set(fitted))
    unknown = sorted(str(name) for name in set(fitted) - expected - optional_names)
    if missing or unknown:
        raise ValueError(
            f"the fitted attributes are inconsistent: missing {missing}, "
            f"unknown {unknown}."
        )
    checked, invalid = {}, []
    for name, check in table.items():
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
    if ("quantiles_" in checked) != (estimator.loss == "quantile"):
        raise ValueError(
            "the fitted attribute quantiles_ must be present exactly when "
            f"loss='quantile'; loss is {estimator.loss!r}."
        )
    scaling.from_attributes(
        checked, n_channels=checked["_n_channels"], n_outputs=checked.get("n_outputs_")
    )
    return checked


def _check_consistency(fitted):
    names = fitted.get("feature_names_in_")
    if names is not None and len(names) != fitted["n_features_in_"]:
        raise ValueError(
            f"feature_names_in_ is not a list of n_features_in_="
            f"{fitted['n_features_in_']} strings."
        )
    if fitted.get("_y_was_1d") and fitted["n_outputs_"] != 1:
        raise ValueError(
            f"a 1D target (_y_was_1d) needs n_outputs_=1, got {fitted['n_outputs_']}."
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
    not_finite = sorted(name for name, array in weights.items() if not _finite(array))
    if not_finite:
        raise ValueError(f"the weights {not_finite} hold NaN or infinite values.")
    return weights


def _finite(array, chunk=1 << 20):
    """Whether every value of ``array`` is finite.

    Checked in chunks: a mask of a whole 4000-unit layer would add a
    quarter of its size to the peak memory of a load.
    """
    flat = array.reshape(-1)
    return all(
        np.isfinite(flat[start : start + chunk]).all()
        for start in range(0, flat.size, chunk)
    )


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


def to_numpy(value):
    """``value`` with every tensor as a numpy array, recursively."""
    return map_leaves(
        value,
        lambda leaf: (
            leaf.detach().to("cpu").numpy().copy()
            if isinstance(leaf, torch.Tensor)
            else leaf
        ),
    )


def _to_tensors(value):
    """Undo ``to_numpy``: every numpy array as a tensor."""
    return map_leaves(
        value,
        lambda leaf: torch.tensor(leaf) if isinstance(leaf, np.ndarray) else leaf,
    )


def _check_optimizer_groups(optimizer, state):
    """Check the layout of an optimizer state and its groups' settings.

    Each setting that the optimizer has must be of its kind: a boolean, a
    finite non-negative number (the learning rate, a bad one of which would
    otherwise fail only at the next ``partial_fit``), or a pair of numbers.
    """
    groups = state.get("param_groups") if isinstance(state, dict) else None
    if not (
        isinstance(state.get("state") if groups is not None else None, dict)
        and isinstance(groups, list)
        and all(isinstance(group, dict) for group in groups)
    ):
        raise ValueError(
            "invalid optimizer state: it is not a mapping of a 'state' mapping "
            "and a list of 'param_groups' mappings."
        )
    for index, (group, current) in enumerate(
        zip(groups, optimizer.param_groups, strict=False)
    ):
        for name, default in current.items():
            if name == "params" or name not in group:
                continue
            value = group[name]
            if isinstance(default, bool):
                valid = isinstance(value, bool)
            elif isinstance(default, numbers.Real):
                valid = (
                    isinstance(value, numbers.Real)
                    and not isinstance(value, bool)
                    and math.isfinite(value)
                    and value >= 0
                )
            elif isinstance(default, tuple):
                valid = (
                    isinstance(value, list | tuple)
                    and len(value) == len(default)
                    and all(
                        isinstance(item, numbers.Real)
                        and not isinstance(item, bool)
                        and math.isfinite(item)
                        for item in value
                    )
                )
            else:
                continue
            if not valid:
                raise ValueError(
                    f"invalid optimizer state: {name!r} of parameter group "
                    f"{index} is {value!r:.40}, not a valid "
                    f"{type(default).__name__}."
                )


def _load_optimizer_state(optimizer, state):
    """Load a state of ``to_numpy`` form, checked against the parameters."""
    _check_optimizer_groups(optimizer, state)
    try:
        optimizer.load_state_dict(_to_tensors(state))
    except (ValueError, TypeError, KeyError, IndexError, RuntimeError) as exc:
        raise ValueError(f"invalid optimizer state: {exc}") from exc
    for group in optimizer.param_groups:
        for param in group["params"]:
            for name, value in optimizer.state.get(param, {}).items():
                if isinstance(value, torch.Tensor) and (
                    (value.dim() and value.shape != param.shape)
                    or not torch.isfinite(value).all()
                ):
                    raise ValueError(
                        f"invalid optimizer state: {name!r} does not match its "
                        "parameter's shape, or is not finite."
                    )

"""Scaling of sequences and targets: one class per ``scaling`` option.

Each option is a small object that owns its statistics, as a fitted
transformer does, chosen in one place (``SCALINGS``) from the estimators'
``scaling`` parameter:

- ``WindowScaling`` ("window"): each sequence is standardised by its own
  statistics, per channel: its mean over the time steps and its standard
  deviation. The targets of a sequence are scaled with the statistics of
  its first channel and predictions are mapped back with them, so the
  network sees every window at the same level and scale, and a series that
  leaves the training range (a trend) is no harder than one that stays in
  it. This is the instance normalisation of RevIN (Kim et al., ICLR 2022)
  without its learned affine part.
- ``GlobalScaling`` ("global"): one mean and standard deviation per channel
  of ``X`` (over all sequences and time steps) and per output of ``y``,
  fitted on the training data, as a ``StandardScaler`` would.
- ``NoScaling`` (None): the raw values.

The default, ``scaling="auto"``, is a choice between the first two made
at fit by ``choose_scaling``: window scaling assumes that ``y`` continues
the first channel of ``X`` on its scale, which a scaler in a ``Pipeline``
(of ``X`` alone) or a ``TransformedTargetRegressor`` (of ``y`` alone)
breaks, and which targets that are not future values (labels, parameters
of the sequences) never meet. ``target_units`` tests the assumption on the
distributions of the first target and of the last observed step of the
first channel: they match as they are (window scaling), up to an
increasing affine map (window scaling of the targets mapped into ``X``'s
units first), or not at all (global scaling, with a warning).

The treatment of ``X`` (``fit_sequences``, ``scale_sequences_``) and of
``y`` (``fit_targets``, ``scale_targets``, ``unscale_targets``) are separate
methods, so that an estimator without continuous targets uses the ``X``
half alone. ``scale_sequences_`` returns what the targets of those
sequences need (a *reference*: per-row statistics, or None), which the
``y`` half takes. ``forward`` and ``unscale_forward`` compute the same
scaling with tensor operations only, which the ONNX export traces.

The statistics come from ``torch.var_mean``, which accumulates float32
input in float64 on the CPU and allocates nothing of the data's size; they
are applied in float32, the precision the network runs in. Sequences
padded with NaN (see ``_padding``) have statistics over their observed
steps only, computed in float64 from a float64 copy.
"""

import warnings

import numpy as np
import torch

# A spread below this fraction of the level is float32 round-off, not data.
_CONSTANT = 1e-6
# The smallest window scale: below it, a window of near-zero values would
# scale its targets beyond float32's range (values of 1e-38 and targets of
# 100 gave 1e40). Only data whose every variation is below it is affected.
_MIN_SCALE = 1e-6


def safe_scale(std, location):
    """``std``, unless the values are constant: then ``|location|``, or 1.

    A constant window is then scaled relative to its level, and an all-zero
    one is left as it is. No scale is below ``_MIN_SCALE``.
    """
    fallback = torch.where(location != 0, location.abs(), torch.ones_like(location))
    scale = torch.where(std > _CONSTANT * location.abs(), std, fallback)
    return scale.clamp(min=_MIN_SCALE)


def window_statistics(sequences, *, padded):
    """Mean and scale of each sequence and channel over its observed steps.

    Parameters
    ----------
    sequences : float tensor of shape (n_samples, n_timesteps, n_channels)
    padded : bool
        Whether ``sequences`` may hold padding (NaN), which the statistics
        then leave out.

    Returns
    -------
    location, scale : float64 tensors of shape (n_samples, 1, n_channels)
    """
    if padded:
        variance, location = observed_var_mean(sequences, dim=1)
    else:
        variance, location = _var_mean(sequences, dim=1, keepdim=True)
    location = location.double()
    return location, safe_scale(variance.double().sqrt(), location)


def _var_mean(values, **kwargs):
    """``torch.var_mean`` (population variance), in float64 where float32 overflows.

    A float32 result cannot hold the variance of values whose spread
    exceeds about 1e19 (it is inf, and the scaled values NaN); only then
    are the statistics computed again from a float64 copy, so that other
    data keep exactly the float32 statistics they always had.
    """
    variance, location = torch.var_mean(values, correction=0, **kwargs)
    if not torch.isfinite(variance).all():
        variance, location = torch.var_mean(values.double(), correction=0, **kwargs)
    return variance, location


def observed_var_mean(values, dim):
    """``torch.var_mean`` over ``dim`` (kept), leaving out NaN values.

    Two passes, in the dtype of ``values``: the mean, then the mean squared
    deviation from it. Only tensor operations, so that ONNX can trace it.
    """
    observed = ~torch.isnan(values)
    zeros = torch.zeros_like(values)
    count = observed.sum(dim=dim, keepdim=True)
    location = torch.where(observed, values, zeros).sum(dim=dim, keepdim=True) / count
    deviation = torch.where(observed, values - location, zeros)
    return deviation.square().sum(dim=dim, keepdim=True) / count, location


def global_statistics(values, *, padded):
    """Mean and scale of each column of the last axis, over all other axes.

    Parameters
    ----------
    values : float32 tensor of shape (..., n_columns)
    padded : bool
        Whether ``values`` may hold padding (NaN), which the statistics then
        leave out.

    Returns
    -------
    location, scale : float64 tensors of shape (n_columns,)
    """
    rows = values.reshape(-1, values.shape[-1])
    if padded:
        variance, location = observed_var_mean(rows.double(), dim=0)
        variance, location = variance[0], location[0]
    else:
        variance, location = _var_mean(rows, dim=0)
    location, std = location.double(), variance.double().sqrt()
    # StandardScaler's convention: a constant column keeps its scale.
    constant = std <= _CONSTANT * location.abs()
    return location, torch.where(constant, torch.ones_like(std), std)


def standardise(sequences, location, scale):
    """``(sequences - location) / scale`` in the sequences' float32."""
    return (sequences - location.float()) / scale.float()


def scale_windows_(sequences, *, padded):
    """Standardise each sequence in place; padding (NaN) stays NaN.

    Returns the float64 ``location`` and ``scale`` of the first channel of
    each sequence, of shape (n_samples, 1): the statistics of its targets.
    """
    location, scale = window_statistics(
        sequences.double() if padded else sequences, padded=padded
    )
    sequences.sub_(location.float()).div_(scale.float())
    return location[:, :, 0], scale[:, :, 0]


# The continuation test of target_units. The level of the first targets is
# within _SAME_LEVEL standard deviations of that of the last steps, and
# their spread within a factor of _SAME_SPREAD: continuations of a series
# measured 0.06 and 1.08 at most on the seven real series and the M1
# panel of the benchmarks; a scaler of X alone or of y alone gave 22 to
# 1,200 and factors of 15 to 340. Below _MIN_SAMPLES samples the test
# cannot tell, and the targets are taken as continuations.
_SAME_LEVEL = 3.0
_SAME_SPREAD = 4.0
_MIN_SAMPLES = 20
# Up to an affine map, the quantiles of the first targets match those of
# the last steps within _SAME_SHAPE typical window scales on average, and
# bend from a straight line by at most _STRAIGHT: an affine scaler of X or
# of y measured at most 0.08 and 0.048 on the seven real series and two
# generated ones, a log of the targets 0.056 and 0.124 or more (0.6 for a
# square root), wave parameters from the waves 0.18 or more for the first.
_SAME_SHAPE = 0.1
_STRAIGHT = 0.08
_QUANTILES = np.linspace(0.05, 0.95, 19)


def last_observed(channel, *, padded):
    """The last observed (non-NaN) value of each row of a 2D tensor."""
    if not padded:
        return channel[:, -1]
    observed = ~torch.isnan(channel)
    last = channel.shape[1] - 1 - observed.flip(1).int().argmax(dim=1)
    return channel.gather(1, last[:, None])[:, 0]


def target_units(sequences, targets, *, padded):
    """How the targets relate to the first channel of the sequences.

    Compares the first target of each row with the last observed step of
    its first channel, over the rows: a continuation of the series has
    about the same distribution, whatever the data.

    Parameters
    ----------
    sequences : float32 tensor of shape (n_samples, n_timesteps, n_channels)
    targets : float32 tensor of shape (n_samples, n_outputs)
    padded : bool

    Returns
    -------
    units : "same", (offset, scale) or None
        "same" when the targets are on the scale of the first channel;
        ``(offset, scale)`` (floats, ``scale > 0``) when they are once
        mapped by ``targets = offset + scale * x``; None when they are
        not continuations of the first channel, or not by an affine map
        (a log of the targets, say).
    """
    if len(targets) < _MIN_SAMPLES:
        return "same"
    last = last_observed(sequences[:, :, 0], padded=padded).double().numpy()
    first = targets[:, 0].double().numpy()
    x_mean, x_std, y_mean, y_std = last.mean(), last.std(), first.mean(), first.std()
    if x_std == y_std == 0:
        return "same" if x_mean == y_mean else None
    if x_std == 0 or y_std == 0:
        return None
    if (
        abs(y_mean - x_mean) <= _SAME_LEVEL * x_std
        and 1 / _SAME_SPREAD <= y_std / x_std <= _SAME_SPREAD
    ):
        return "same"
    scale = y_std / x_std
    offset = y_mean - scale * x_mean
    q_last, q_first = np.quantile(last, _QUANTILES), np.quantile(first, _QUANTILES)
    if len(np.unique(q_first)) < 3:
        return None
    _, window_scale = window_statistics(sequences[:, :, :1], padded=padded)
    unit = float(window_scale.median())
    mismatch = np.abs((q_first - offset) / scale - q_last).mean() / unit
    # The quantiles of the last steps against those of the first targets:
    # the largest departure of a parabola through them from a straight line.
    t = (q_first - y_mean) / y_std
    bend = np.polyval(np.polyfit(t, q_last, 2), t) - np.polyval(
        np.polyfit(t, q_last, 1), t
    )
    if mismatch <= _SAME_SHAPE and np.abs(bend).max() / unit <= _STRAIGHT:
        return float(offset), float(scale)
    return None


def choose_scaling(sequences, targets, *, padded):
    """The scaling of ``scaling="auto"``: window scaling where it applies.

    Window scaling when the targets continue the first channel of the
    sequences (mapped into its units first when they are on another
    scale), global scaling otherwise, with a warning naming the choice.
    """
    units = target_units(sequences, targets, padded=padded)
    if units == "same":
        return WindowScaling()
    if units is not None:
        return WindowScaling(*units)
    warnings.warn(
        "scaling='auto': the targets are not continuations of the first "
        "channel of X (the first target of each sequence is not distributed "
        "as its last step, even after an affine map), so X and y are "
        "standardised globally. Pass scaling='global' to choose this and "
        "silence the warning.",
        UserWarning,
        stacklevel=WARNING_STACKLEVEL,
    )
    return GlobalScaling()


def warn_if_not_continuations(sequences, targets, *, padded):
    """``scaling="window"``: warn when the targets are not on ``X``'s scale."""
    if target_units(sequences, targets, padded=padded) != "same":
        warnings.warn(
            "scaling='window' scales y by the statistics of the first channel "
            "of each sequence, but y is not on the scale of that channel (a "
            "scaler of X alone or of y alone, or targets that are not future "
            "values): predictions may be far off. Use scaling='auto' (the "
            "default) or scaling='global'.",
            UserWarning,
            stacklevel=WARNING_STACKLEVEL,
        )


class NoScaling:
    """``scaling=None``: sequences and targets as they are.

    Also the interface of every scaling. Training targets far from unit
    scale warn, naming the fix: the network trains slowly or not at all on
    such values.
    """

    # The option of the scaling parameter, the estimator's ``scaling_``.
    NAME = None
    # The fitted attributes of the estimator that this scaling requires.
    STATISTICS = ()

    def fit_sequences(self, sequences, *, padded):
        """Fit the statistics of ``X``'s float32 tensor of sequences."""
        return self

    def fit_targets(self, targets):
        """Fit the statistics of ``y``'s 2D float32 tensor."""
        return self

    def scale_sequences_(self, sequences, *, padded):
        """Scale ``sequences`` in place; return the reference of their targets."""
        return None

    def scale_targets(self, targets, reference):
        """The float32 tensor of scaled training ``targets``.

        Unscaled targets far from unit scale warn, naming the fix.
        """
        rms = float(targets.double().square().mean().sqrt())
        if rms > 0 and not 1e-2 <= rms <= 1e2:
            warnings.warn(
                f"scaling=None, but the targets have a root mean square of "
                f"{rms:.3g}, far from 1: the network trains slowly or not at all "
                "on such values. Use scaling='auto' (the default) or "
                "scaling='global'.",
                UserWarning,
                stacklevel=WARNING_STACKLEVEL,
            )
        return targets

    def unscale_targets(self, y_pred, reference):
        """Map float64 predictions back to the scale of ``y``."""
        return y_pred

    def forward(self, X):
        """``scale_sequences_`` as a traceable function: scaled X, reference."""
        return X, None

    def unscale_forward(self, y_pred, reference):
        """``unscale_targets`` as a traceable function, float32 out."""
        return y_pred

    def attributes(self):
        """The fitted attributes of the estimator that this scaling holds."""
        return {}

    @classmethod
    def from_attributes(cls, attributes, *, n_channels, n_outputs):
        """The scaling of a fitted estimator, from its fitted ``attributes``."""
        return cls()


# The warnings of fit: scale_targets and the estimator's _scale_targets
# (or choose_scaling and the estimator's _new_scaling), then
# _check_training_data, _train, fit, _fit_context and the caller of fit.
WARNING_STACKLEVEL = 7


class WindowScaling(NoScaling):
    """``scaling="window"``: each sequence by its own statistics.

    The targets of a sequence are scaled by the location and scale of its
    first channel, the reference that ``scale_sequences_`` returns: float64
    arrays of shape (n_samples, 1). Targets on another scale than that
    channel are first mapped into its units, ``(y - target_offset) /
    target_scale`` (two floats, the estimator's ``target_offset_`` and
    ``target_scale_``, fitted by ``target_units``); None maps nothing.
    """

    NAME = "window"
    # target_offset_ and target_scale_ are optional: see from_attributes.

    def __init__(self, target_offset=None, target_scale=None):
        self.target_offset, self.target_scale = target_offset, target_scale

    def scale_sequences_(self, sequences, *, padded):
        location, scale = scale_windows_(sequences, padded=padded)
        return location.numpy(), scale.numpy()

    def scale_targets(self, targets, reference):
        location, scale = reference
        targets = targets.double()
        if self.target_scale is not None:
            targets = (targets - self.target_offset) / self.target_scale
        return ((targets - torch.as_tensor(location)) / torch.as_tensor(scale)).float()

    def unscale_targets(self, y_pred, reference):
        location, scale = reference
        y_pred = y_pred * scale + location
        if self.target_scale is not None:
            y_pred = y_pred * self.target_scale + self.target_offset
        return y_pred

    def forward(self, X):
        location, scale = window_statistics(X, padded=True)
        return standardise(X, location, scale), (location[:, :, 0], scale[:, :, 0])

    def unscale_forward(self, y_pred, reference):
        return self.unscale_targets(y_pred, reference).float()

    def attributes(self):
        if self.target_scale is None:
            return {}
        return {
            "target_offset_": self.target_offset,
            "target_scale_": self.target_scale,
        }

    @classmethod
    def from_attributes(cls, attributes, *, n_channels, n_outputs):
        """Rebuild the map of the targets; a ValueError if it is not one."""
        offset = attributes.get("target_offset_")
        scale = attributes.get("target_scale_")
        if (offset is None) != (scale is None) or (
            scale is not None and not (np.isfinite([offset, scale]).all() and scale > 0)
        ):
            raise ValueError(
                "target_offset_ and target_scale_ are not both absent or both "
                "finite numbers (a positive scale)."
            )
        return cls(offset, scale)


class GlobalScaling(NoScaling):
    """``scaling="global"``: one mean and scale per channel and per output.

    Fitted on the training data as a ``StandardScaler`` would. The
    statistics are float64 arrays, the estimator's ``x_mean_`` and
    ``x_scale_`` (of ``X``, fitted by ``fit_sequences``) and ``y_mean_`` and
    ``y_scale_`` (of ``y``, fitted by ``fit_targets``); an attribute not
    fitted is None. The same statistics serve every row, so there is no
    reference.
    """

    NAME = "global"
    # In the order of the constructor's parameters.
    STATISTICS = ("x_mean_", "x_scale_", "y_mean_", "y_scale_")

    def __init__(self, x_mean=None, x_scale=None, y_mean=None, y_scale=None):
        self.x_mean, self.x_scale = x_mean, x_scale
        self.y_mean, self.y_scale = y_mean, y_scale

    def fit_sequences(self, sequences, *, padded):
        location, scale = global_statistics(sequences, padded=padded)
        self.x_mean, self.x_scale = location.numpy(), scale.numpy()
        return self

    def fit_targets(self, targets):
        location, scale = global_statistics(targets, padded=False)
        self.y_mean, self.y_scale = location.numpy(), scale.numpy()
        return self

    def scale_sequences_(self, sequences, *, padded):
        location = torch.as_tensor(self.x_mean).float()
        sequences.sub_(location).div_(torch.as_tensor(self.x_scale).float())
        return None

    def scale_targets(self, targets, reference):
        location, scale = torch.as_tensor(self.y_mean), torch.as_tensor(self.y_scale)
        return ((targets - location) / scale).float()

    def unscale_targets(self, y_pred, reference):
        return y_pred * self.y_scale + self.y_mean

    def forward(self, X):
        location, scale = torch.as_tensor(self.x_mean), torch.as_tensor(self.x_scale)
        return standardise(X, location, scale), None

    def unscale_forward(self, y_pred, reference):
        location, scale = torch.as_tensor(self.y_mean), torch.as_tensor(self.y_scale)
        return (y_pred * scale + location).float()

    def attributes(self):
        statistics = {
            "x_mean_": self.x_mean,
            "x_scale_": self.x_scale,
            "y_mean_": self.y_mean,
            "y_scale_": self.y_scale,
        }
        return {name: value for name, value in statistics.items() if value is not None}

    @classmethod
    def from_attributes(cls, attributes, *, n_channels, n_outputs):
        """Rebuild the statistics; a ValueError if they do not fit the shapes.

        The statistics of ``y`` are optional: an estimator whose targets are
        not continuous scales ``X`` alone.
        """
        sizes = {"x_mean_": n_channels, "x_scale_": n_channels}
        if "y_mean_" in attributes or "y_scale_" in attributes:
            sizes |= {"y_mean_": n_outputs, "y_scale_": n_outputs}
        invalid = sorted(
            name
            for name, size in sizes.items()
            if name not in attributes
            or len(attributes[name]) != size
            or (name.endswith("scale_") and not (attributes[name] > 0).all())
        )
        if invalid:
            raise ValueError(
                f"the scaling statistics {invalid} are not lists of the expected "
                "length of finite numbers (positive scales)."
            )
        return cls(*(attributes.get(name) for name in cls.STATISTICS))


# The fitted scalings (the estimators' ``scaling_``) and the class of each.
SCALINGS = {"window": WindowScaling, "global": GlobalScaling, None: NoScaling}
# The options of the scaling parameter: a fitted scaling, or "auto".
SCALING_OPTIONS = {"auto", *SCALINGS}

"""Scaling of sequences and targets inside the regressor.

Two kinds, named by the regressor's ``scaling`` parameter:

- "window": each sequence is standardised by its own statistics, per
  channel: its mean over the time steps and its standard deviation. The
  targets of a sequence are scaled with the statistics of its first channel
  and predictions are mapped back with them, so the network sees every
  window at the same level and scale, and a series that leaves the training
  range (a trend) is no harder than one that stays in it. This is the
  instance normalisation of RevIN (Kim et al., ICLR 2022) without its
  learned affine part.
- "global": one mean and standard deviation per channel of ``X`` (over all
  sequences and time steps) and per output of ``y``, fitted on the training
  data, as a ``StandardScaler`` would.

The statistics come from ``torch.var_mean``, which accumulates float32
input in float64 on the CPU and allocates nothing of the data's size; they
are applied in float32, the precision the network runs in. Sequences
padded with NaN (see ``_padding``) have statistics over their observed
steps only, computed in float64 from a float64 copy. Everything here works
on torch tensors, so that the ONNX export traces the very same functions.
"""

import torch

SCALINGS = ("window", "global")

# The fitted attributes of scaling="global": the statistics of X, then y.
GLOBAL_STATISTICS = ("x_mean_", "x_scale_", "y_mean_", "y_scale_")

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
        variance, location = torch.var_mean(
            sequences, dim=1, keepdim=True, correction=0
        )
    location = location.double()
    return location, safe_scale(variance.double().sqrt(), location)


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
        variance, location = torch.var_mean(rows, dim=0, correction=0)
    location, std = location.double(), variance.double().sqrt()
    # StandardScaler's convention: a constant column keeps its scale.
    constant = std <= _CONSTANT * location.abs()
    return location, torch.where(constant, torch.ones_like(std), std)


def standardise(sequences, location, scale):
    """``(sequences - location) / scale`` in the sequences' float32."""
    return (sequences - location.float()) / scale.float()


def scale_globally_(sequences, location, scale):
    """Standardise ``sequences`` in place with per-channel statistics."""
    location = torch.as_tensor(location).float()
    sequences.sub_(location).div_(torch.as_tensor(scale).float())


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

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

The statistics are computed in float64 and the scaled sequences stored in
float32. Everything here works on torch tensors, so that the ONNX export
traces the very same functions.
"""

import torch

SCALINGS = ("window", "global")

# The fitted attributes of scaling="global": the statistics of X, then y.
GLOBAL_STATISTICS = ("x_mean_", "x_scale_", "y_mean_", "y_scale_")

# Rows per block when scaling a large array in place: bounds the float64
# temporaries to a few MiB whatever the data size.
_BLOCK_ROWS = 4096


def safe_scale(std, location):
    """``std`` where positive; else ``|location|``, or 1 where that is 0 too.

    A constant window (standard deviation 0) is then scaled relative to its
    level, and an all-zero one is left as it is.
    """
    fallback = torch.where(location != 0, location.abs(), torch.ones_like(location))
    return torch.where(std > 0, std, fallback)


def window_statistics(sequences):
    """Mean and scale of each sequence and channel over its time steps.

    Parameters
    ----------
    sequences : tensor of shape (n_samples, n_timesteps, n_channels)

    Returns
    -------
    location, scale : float64 tensors of shape (n_samples, 1, n_channels)
    """
    values = sequences.double()
    location = values.mean(dim=1, keepdim=True)
    std = (values - location).square().mean(dim=1, keepdim=True).sqrt()
    return location, safe_scale(std, location)


def global_statistics(values):
    """Mean and scale of each column of the last axis, over all other axes.

    Two float64 passes over blocks of rows, so the temporaries stay small.

    Parameters
    ----------
    values : tensor of shape (..., n_columns)

    Returns
    -------
    location, scale : float64 tensors of shape (n_columns,)
    """
    rows = values.reshape(-1, values.shape[-1])
    block_rows = _BLOCK_ROWS * 64
    blocks = [
        rows[start : start + block_rows] for start in range(0, len(rows), block_rows)
    ]
    location = sum(block.double().sum(dim=0) for block in blocks) / len(rows)
    squares = sum((block.double() - location).square().sum(dim=0) for block in blocks)
    std = (squares / len(rows)).sqrt()
    # StandardScaler's convention: a constant column keeps its scale.
    return location, torch.where(std > 0, std, torch.ones_like(std))


def scale_globally_(sequences, location, scale):
    """Standardise ``sequences`` in place with per-channel statistics."""
    location, scale = torch.as_tensor(location), torch.as_tensor(scale)
    for start in range(0, len(sequences), _BLOCK_ROWS):
        block = sequences[start : start + _BLOCK_ROWS]
        block.copy_((block - location) / scale)


def scale_windows_(sequences):
    """Standardise each sequence in place, block by block.

    Returns the float64 ``location`` and ``scale`` of the first channel of
    each sequence, of shape (n_samples, 1): the statistics of its targets.
    """
    locations, scales = [], []
    for start in range(0, len(sequences), _BLOCK_ROWS):
        block = sequences[start : start + _BLOCK_ROWS]
        location, scale = window_statistics(block)
        block.copy_((block - location) / scale)
        locations.append(location[:, :, 0])
        scales.append(scale[:, :, 0])
    return torch.cat(locations), torch.cat(scales)

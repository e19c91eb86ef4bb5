"""Export a fitted estimator's module, with its scaling, to ONNX.

The export uses torch's ``torch.export``-based ONNX exporter
(``torch.onnx.export(..., dynamo=True)``, the default since PyTorch 2.9),
which needs the optional dependencies onnx and onnxscript. The older
TorchScript-based exporter (``dynamo=False``) is deprecated and will be
removed from PyTorch, so it is not used.
"""

import copy
import warnings
from pathlib import Path

import torch
from torch import nn

from . import _version

_INSTALL_HINT = 'pip install "sklearn-slstm[onnx]"'

INPUT_NAME = "X"
OUTPUT_NAME = "y_pred"
PROBABILITIES_NAME = "probabilities"
QUANTILES_NAME = "quantiles"

# Warnings that torch's exporter raises from its own internals on every
# export of an LSTM (PyTorch 2.13); the user can do nothing about them.
_EXPORTER_NOISE = (
    r"The tensor attributes .*_flat_weights.* were assigned during export",
    r"_check_is_size will be removed",
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
)

# Batch size of the example input traced at export; the exported batch
# dimension is dynamic. Not 1, which torch.export would specialise on.
_EXAMPLE_BATCH_SIZE = 2


def export_onnx(
    module,
    path,
    *,
    scaling,
    n_timesteps,
    n_channels,
    n_outputs,
    flatten=False,
    probabilities=False,
    quantiles=None,
):
    """Export the fitted module of an estimator, with its scaling, to ONNX.

    The ONNX model computes :meth:`StackedLSTMRegressor.predict` from
    float32 sequences, for any batch size, with ONNX's ``LSTM`` operator:
    it runs in ONNX Runtime and other ONNX engines without Python, torch or
    this library. :meth:`StackedLSTMRegressor.to_onnx` calls it with the
    regressor's fitted state; nothing here knows the estimator.

    Parameters
    ----------
    module : torch.nn.Module
        The fitted module, mapping scaled sequences to scaled predictions;
        it is copied, so it is left unchanged.
    path : str or path-like
        File to write, conventionally with the extension ``.onnx``; an
        existing file is overwritten. The weights are stored in the same
        file.
    scaling : object
        The estimator's fitted scaling (one of ``_scaling.SCALINGS``), whose
        ``forward`` and ``unscale_forward`` become part of the graph.
    n_timesteps, n_channels, n_outputs : int
        The fitted shape: sequences of ``n_timesteps`` steps of
        ``n_channels`` channels, ``n_outputs`` predictions.
    flatten : bool, default=False
        Whether predictions are 1D (``y`` was 1D at fit).
    probabilities : bool, default=False
        Whether the module's outputs are a classifier's logits: the graph
        then returns their softmax, :meth:`StackedLSTMClassifier.predict_proba`,
        as its output ``"probabilities"``, and scales ``X`` only.
    quantiles : sequence of float or None, default=None
        The sorted quantile levels of a quantile loss: the module's outputs
        are then one block of ``n_outputs`` per level, and the graph
        returns the medians as ``"y_pred"`` and every quantile as a second
        output, ``"quantiles"``, as
        :meth:`StackedLSTMRegressor.predict_quantiles` does.

    Returns
    -------
    path : pathlib.Path
        The path written.

    Raises
    ------
    ImportError
        If the optional dependencies are not installed; install them with
        ``pip install "sklearn-slstm[onnx]"``.

    See Also
    --------
    StackedLSTMRegressor.predict : What the exported model computes.

    Notes
    -----
    The graph has one input, ``"X"``, float32 of shape
    ``(batch, n_timesteps, n_channels)`` with ``n_timesteps`` the
    ``n_features_in_`` of the regressor and ``batch`` dynamic. It is always
    3D, also for a model fitted on 2D ``X`` (one channel): pass
    ``X[:, :, np.newaxis]``. Sequences of different lengths are padded
    with NaN, as for ``predict`` (see :func:`pad_sequences`); the graph
    never feeds the padding to its LSTM operators. The one output,
    ``"y_pred"``, is float32 of the shape
    :meth:`StackedLSTMRegressor.predict` returns: ``(batch, n_outputs)``,
    or ``(batch,)`` when ``y`` was 1D at fit. The regressor's
    ``scaling`` is part of the graph: it takes raw values, as ``predict``
    does, and returns predictions on the scale of ``y``.

    The graph is traced on the CPU in evaluation mode (dropout off) from a
    copy of the fitted module, so the regressor itself is left unchanged,
    also when it was fitted on a GPU. The model's metadata
    (``metadata_props``) records ``n_timesteps``, ``n_channels``,
    ``n_outputs`` and the library version.
    """
    _check_onnx_exporter()
    model = _PredictModel(
        copy.deepcopy(module).to("cpu"),
        scaling=scaling,
        flatten=flatten,
        probabilities=probabilities,
        quantiles=quantiles,
    ).eval()
    example = torch.zeros(_EXAMPLE_BATCH_SIZE, n_timesteps, n_channels)
    with torch.no_grad(), warnings.catch_warnings():
        for message in _EXPORTER_NOISE:
            warnings.filterwarnings("ignore", message=message)
        program = torch.onnx.export(
            model,
            (example,),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=(
                [PROBABILITIES_NAME]
                if probabilities
                else [OUTPUT_NAME, QUANTILES_NAME]
                if quantiles
                else [OUTPUT_NAME]
            ),
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            verbose=False,
        )
    program.model.metadata_props.update(
        {
            "sklearn_slstm.n_timesteps": str(n_timesteps),
            "sklearn_slstm.n_channels": str(n_channels),
            "sklearn_slstm.n_outputs": str(n_outputs),
            "sklearn_slstm.version": _version.__version__,
        }
    )
    path = Path(path)
    program.save(path, external_data=False)
    return path


class _PredictModel(nn.Module):
    """The fitted module, with ``predict``'s scaling and output shape.

    The graph takes raw sequences and returns raw-scale predictions: the
    scaling of ``StackedLSTMRegressor.predict`` is part of it, computed by
    the scaling object's own traceable ``forward`` and ``unscale_forward``.
    """

    def __init__(self, module, *, scaling, flatten, probabilities, quantiles):
        super().__init__()
        self.module = module
        self.scaling = scaling
        self.flatten = flatten
        self.probabilities = probabilities
        self.quantiles = quantiles

    def forward(self, X):
        X, reference = self.scaling.forward(X)
        # The padded path handles padded and unpadded rows alike, with no
        # branch on the data, which an exported graph cannot hold.
        outputs = self.module.forward_padded(X)
        if self.probabilities:
            return torch.softmax(outputs, dim=1)
        if self.quantiles:
            return self._quantiles(outputs, reference)
        y_pred = self.scaling.unscale_forward(outputs, reference)
        return y_pred[:, 0] if self.flatten else y_pred

    def _quantiles(self, outputs, reference):
        """The medians and the quantiles, as the regressor computes them."""
        n_levels = len(self.quantiles)
        blocks = outputs.unflatten(1, (n_levels, -1))
        y_quantiles = torch.stack(
            [
                self.scaling.unscale_forward(blocks[:, k], reference)
                for k in range(n_levels)
            ],
            dim=2,
        )
        y_pred = y_quantiles[:, :, list(self.quantiles).index(0.5)]
        if self.flatten:
            return y_pred[:, 0], y_quantiles[:, 0]
        return y_pred, y_quantiles


def _check_onnx_exporter():
    """Raise an ImportError with the install command if the exporter is missing."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "Exporting to ONNX needs the optional dependencies onnx and "
            f"onnxscript: {_INSTALL_HINT}"
        ) from exc

"""StackedLSTMRegressor: sequence regression on the shared base."""

import warnings

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _state
from ._base import BaseStackedLSTM
from ._forecast import recursive_forecast
from ._onnx import export_onnx
from ._scaling import choose_scaling, warn_if_not_continuations
from ._training import REGRESSION
from ._validation import as_tensor, check_quantiles


class StackedLSTMRegressor(RegressorMixin, BaseStackedLSTM):
    """Sequence regressor built from a stack of LSTM layers.

    Each row of ``X`` is a sequence. The sequence runs through one LSTM layer
    per entry of ``hidden_layer_sizes``, each reading the full output
    sequence of the layer below, and a linear layer maps the last step's
    output to the targets. Training runs through a skorch
    :class:`~skorch.NeuralNetRegressor`, kept after fitting as ``net_``.
    It shares its parameters, training and persistence with the other
    estimators of the family through ``BaseStackedLSTM``.

    Parameters
    ----------
    scaling : {"auto", "window", "global"} or None, default="auto"
        How sequences and targets are scaled before they reach the network;
        predictions are always mapped back to the scale of ``y``, so raw
        data works as it is. The fitted choice is ``scaling_``.

        - "auto": "window" where ``y`` continues the first channel of ``X``
          (as with :func:`make_windows`), "global" where it does not
          (targets that are labels or parameters of the sequences, not
          their future values), with a warning. Targets that continue the
          first channel on another scale (a scaler of ``X`` alone in a
          ``Pipeline``, a ``TransformedTargetRegressor`` of ``y`` alone)
          are mapped into its units first (``target_offset_``,
          ``target_scale_``). The test compares the distribution of the
          first target with that of the last step of the first channel;
          with fewer than 20 samples, "window".
        - "window": each sequence is standardised by its own mean and
          standard deviation over its time steps, per channel, and its
          targets by those of its first channel. Suited to forecasting:
          it copes with series at any level, series that trend out of the
          training range, and panels of series of very different sizes.
          ``y`` must be on the scale of the first channel; a warning says
          when it is not.
        - "global": one mean and standard deviation per channel of ``X``
          and per output of ``y``, fitted on the training data (the
          ``x_mean_``, ``x_scale_``, ``y_mean_`` and ``y_scale_``
          attributes), as :class:`~sklearn.preprocessing.StandardScaler`
          would. Suited to targets that are not continuations of the
          sequences.
        - None: the raw values; a warning at fit names the fix if ``y`` is
          far from unit scale.

        The loss, ``loss_curve_`` and ``validation_scores_`` are computed on
        the scaled targets. See the user guide for the measurements behind
        the default.
    hidden_layer_sizes : array-like of int, default=(16,)
        Units of each LSTM layer, first layer first; its length is the number
        of layers. An int means a single layer.
    dropout : float, default=0.0
        Dropout probability applied to the sequence between LSTM layers
        (never after the last one); with a single layer it has no effect,
        and fit warns.
    bidirectional : bool, default=False
        Whether each LSTM layer also reads the sequence backwards, doubling
        its output width.
    linear_skip : bool, default=True
        Whether a linear layer also maps the whole (scaled) input sequence
        straight to the outputs, added to the LSTM's prediction: a skip
        connection past the recurrent layers, the "highway" of LSTNet. The
        LSTM then learns what a linear autoregression misses; on short real
        series it more than halved the gap to a linear model (Ridge) of the
        same windows (see the user guide).
    loss : {"mae", "mse", "huber", "quantile"}, default="mae"
        Loss minimised during training: mean absolute error, mean squared
        error, Huber loss with ``delta=1``, or the pinball loss of each
        level of ``quantiles``: the network then predicts those quantiles
        of every target (:meth:`predict_quantiles`), and :meth:`predict`
        their medians.
    quantiles : array-like of float, default=(0.05, 0.5, 0.95)
        The quantile levels that ``loss="quantile"`` predicts, distinct and
        strictly between 0 and 1, in any order; they must include the
        median, 0.5. The defaults bound a 90% interval, the default
        ``coverage`` of :class:`ConformalIntervalRegressor`. Ignored by the
        other losses.
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default="adam"
        The torch optimizer, with its default settings except the learning
        rate.
    learning_rate_init : float, default=0.03
        Initial learning rate; with ``learning_rate="onecycle"`` the peak
        learning rate.
    learning_rate : {"constant", "onecycle", "cosine"}, default="onecycle"
        Learning rate schedule, stepped after every batch over the
        ``max_iter`` epochs of a fit:

        - "constant": ``learning_rate_init`` throughout.
        - "onecycle": warm up to ``learning_rate_init`` over the first 30% of
          the steps, then anneal towards zero (one-cycle policy).
        - "cosine": cosine annealing from ``learning_rate_init`` to zero.
    batch_size : int, default=16
        Sequences per mini-batch. Larger than the number of training samples
        means one batch per epoch.
    max_iter : int, default=8
        Maximum number of epochs (passes over the training data).
    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data and
        stop when the validation loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; the weights of the best epoch are then
        restored. Epochs of the one-cycle warm-up, while the learning rate
        still rises, count as no miss. If False, training stops when the
        training loss stalls in the same way, but only with
        ``learning_rate="constant"``: an annealed schedule runs its
        ``max_iter`` epochs, to the end of its schedule.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping. Only used
        if ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Number of epochs without improvement by ``tol`` before training stops
        (see ``early_stopping`` for when this applies).
    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as improvement.
    gradient_clip : float or None, default=None
        If given, the gradient's total norm is clipped to this value before
        every optimizer step.
    warm_start : bool, default=False
        If True, ``fit`` continues from the weights of the previous fit
        (the architecture and input shape must be unchanged) and extends
        ``loss_curve_``; the optimizer and schedule start afresh.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. Pass an int for identical results across calls, also when
        fits run concurrently in threads: every draw comes from generators
        owned by the fit, never from torch's global generator. With an int,
        fitting leaves numpy's and torch's global random state untouched;
        with None, the seed is drawn from numpy's global random state.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and predict. "auto" uses CUDA when it is available.
    callbacks : list of skorch callbacks or None, default=None
        Extra :mod:`skorch.callbacks` for the net, as instances or
        ``(name, callback)`` tuples. They are copied at each fit, so the
        objects passed here are never changed.
    verbose : int, default=0
        If positive, print a line per epoch with the losses and time.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The fitted net; ``net_.module_`` is the torch module and
        ``net_.history`` the training history.
    n_features_in_ : int
        Number of time steps of each sequence seen during :term:`fit`.
    scaling_ : {"window", "global"} or None
        The scaling of the fit: ``scaling``, or the choice of "auto".
    x_mean_, x_scale_ : ndarray of shape (n_channels,)
        Mean and scale of each channel of the training sequences. Defined
        only when ``scaling_="global"``.
    y_mean_, y_scale_ : ndarray of shape (n_outputs,)
        Mean and scale of each training target. Defined only when
        ``scaling_="global"``.
    target_offset_, target_scale_ : float
        The map of the targets into the units of the first channel of
        ``X``, ``(y - target_offset_) / target_scale_``, applied before
        window scaling. Defined only when ``scaling="auto"`` found the
        targets on another scale than that channel.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when ``X``
        has feature names that are all strings.
    n_outputs_ : int
        Number of outputs.
    quantiles_ : ndarray of shape (n_quantiles,)
        The levels of ``quantiles``, sorted: the order of the last axis of
        :meth:`predict_quantiles`. Defined only when ``loss="quantile"``.
    loss_curve_ : list of float
        Training loss at the end of each epoch.
    best_loss_ : float or None
        The lowest training loss reached; None if training was interrupted
        before its first epoch completed.
    validation_scores_ : list of float or None
        R^2 on the held-out validation data after each epoch; None unless
        ``early_stopping=True``.
    best_validation_score_ : float or None
        The entry of ``validation_scores_`` of the epoch whose weights were
        kept: the epoch of the lowest validation loss, which early stopping
        restores (not necessarily the highest R^2). None unless
        ``early_stopping=True``.
    n_iter_ : int
        Number of epochs run, across warm starts.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : Feed-forward network regressor.
    DampedSineGenerator : Turns wave parameters into sequences.

    Notes
    -----
    At a constant learning rate, a fit that reaches ``max_iter`` while the
    monitored loss still improved by more than ``tol`` within the last
    ``n_iter_no_change`` epochs raises a
    :class:`~sklearn.exceptions.ConvergenceWarning`, as MLPRegressor does.
    An annealed schedule (the default one-cycle, or cosine) ends at
    ``max_iter`` by design, so it neither warns nor stops on a plateau of
    the training loss.

    The defaults, the budget of 8 epochs whatever the data size included,
    were chosen by measurement on real series first and on the damped sine
    problem second; the user guide has the tables. For clean or plentiful
    data, raise ``max_iter``.

    ``sample_weight`` weighs each sample's loss, so ``loss_curve_`` and the
    validation loss are weighted means and ``validation_scores_`` weighted
    R^2; samples of weight 0 change nothing at all, and multiplying all
    weights by a constant changes nothing. With ``scaling="global"`` the
    statistics are unweighted. The user guide says when integer weights
    equal repeated rows.

    ``X`` of shape (n_samples, n_timesteps) holds one univariate sequence per
    row; ``X`` of shape (n_samples, n_timesteps, n_channels) holds
    multivariate sequences. Sequences of different lengths are padded with
    NaN, before or after each one's observed steps (:func:`pad_sequences`);
    the padding never reaches the LSTM layers, so a sequence's prediction
    does not depend on how much of it surrounds the sequence. NaN anywhere
    else raises a ``ValueError``. Data is converted to float32 once; predictions
    are float64, of shape (n_samples,) when ``y`` was 1D.

    Examples
    --------
    >>> from sklearn_slstm import StackedLSTMRegressor, make_damped_sine
    >>> X, y = make_damped_sine(n_samples=200, n_timesteps=20, random_state=0)
    >>> reg = StackedLSTMRegressor(
    ...     hidden_layer_sizes=(8, 8), max_iter=2, random_state=0
    ... ).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3, 5)
    >>> len(reg.loss_curve_)
    2
    """

    _parameter_constraints = {
        **BaseStackedLSTM._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION.losses))],
        "quantiles": ["array-like"],
    }

    _task = REGRESSION
    _fitted_attributes = {
        **BaseStackedLSTM._fitted_attributes,
        "n_outputs_": _state.integer(1, _state.MAX_OUTPUTS),
        # Only for scaling_="global".
        "y_mean_": _state.statistics,
        "y_scale_": _state.statistics,
        # Only for targets that scaling="auto" mapped into X's units.
        "target_offset_": _state.real,
        "target_scale_": _state.real,
        # Only for loss="quantile".
        "quantiles_": _state.quantile_levels,
        "_y_was_1d": _state.boolean,
    }
    _optional_attributes = BaseStackedLSTM._optional_attributes | {
        "y_mean_",
        "y_scale_",
        "target_offset_",
        "target_scale_",
        "quantiles_",
    }
    _added_parameters = {"quantiles": (0.05, 0.5, 0.95)}

    def __init__(
        self,
        *,
        scaling="auto",
        hidden_layer_sizes=(16,),
        dropout=0.0,
        bidirectional=False,
        linear_skip=True,
        loss="mae",
        quantiles=(0.05, 0.5, 0.95),
        optimizer="adam",
        learning_rate_init=0.03,
        learning_rate="onecycle",
        batch_size=16,
        max_iter=8,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        gradient_clip=None,
        warm_start=False,
        random_state=None,
        device="cpu",
        callbacks=None,
        verbose=0,
    ):
        super().__init__(
            scaling=scaling,
            hidden_layer_sizes=hidden_layer_sizes,
            dropout=dropout,
            bidirectional=bidirectional,
            linear_skip=linear_skip,
            loss=loss,
            optimizer=optimizer,
            learning_rate_init=learning_rate_init,
            learning_rate=learning_rate,
            batch_size=batch_size,
            max_iter=max_iter,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            gradient_clip=gradient_clip,
            warm_start=warm_start,
            random_state=random_state,
            device=device,
            callbacks=callbacks,
            verbose=verbose,
        )
        self.quantiles = quantiles

    def _check_targets(self, y, *, reset):
        """Validated ``y`` as a 2D float32 tensor, and its fitted attributes."""
        targets = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
        attributes = {"n_outputs_": targets.shape[1], "_y_was_1d": y.ndim == 1}
        quantiles = check_quantiles(self.quantiles)
        if self.loss == "quantile":
            attributes["quantiles_"] = np.array(quantiles)
        if not reset and (
            attributes["n_outputs_"] != self.n_outputs_
            or attributes["_y_was_1d"] != self._y_was_1d
        ):
            raise ValueError(
                f"y has shape {y.shape}, but {type(self).__name__} was fitted "
                f"with {self.n_outputs_} outputs"
                f"{' (1D y)' if self._y_was_1d else ''}."
            )
        return as_tensor(targets), attributes

    def _new_scaling(self, sequences, targets, *, padded):
        if self.scaling == "auto":
            return choose_scaling(sequences, targets, padded=padded)
        if self.scaling == "window":
            warn_if_not_continuations(sequences, targets, padded=padded)
        return super()._new_scaling(sequences, targets, padded=padded)

    def _scale_targets(self, targets, scaling, reference, *, fit):
        if fit:
            scaling.fit_targets(targets)
        return scaling.scale_targets(targets, reference)

    def _unscaled(self, outputs, scaling, reference):
        """The network's float32 ``outputs`` on the scale of ``y``, float64.

        Of shape (n_samples, n_outputs), or (n_samples, n_outputs,
        n_quantiles) for a quantile loss, in the order of ``quantiles_``.
        """
        outputs = outputs.astype(np.float64)
        if "quantiles_" not in vars(self):
            return scaling.unscale_targets(outputs, reference)
        blocks = outputs.reshape(len(outputs), len(self.quantiles_), -1)
        return np.stack(
            [
                scaling.unscale_targets(blocks[:, k], reference)
                for k in range(len(self.quantiles_))
            ],
            axis=2,
        )

    def _median(self, predictions):
        """The medians of ``_unscaled``'s quantile ``predictions``; others as given."""
        if predictions.ndim == 2:
            return predictions
        return predictions[:, :, list(self.quantiles_).index(0.5)]

    def predict(self, X):
        """Predict the targets of sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, n_channels)
            Sequences with the shape seen during :meth:`fit`, NaN-padded
            where they are shorter.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values, float64; 1D when ``y`` was 1D at fit.
        """
        y_pred = self._median(self._predictions(X))
        return y_pred.ravel() if self._y_was_1d else y_pred

    def predict_quantiles(self, X):
        """Predict the quantiles ``quantiles_`` of the targets of sequences ``X``.

        Only for a model fitted with ``loss="quantile"``. The quantiles of
        each target never cross: the network predicts the median and
        non-negative steps outwards from it to the other levels (see the
        user guide for the measurement behind this design).
        :meth:`predict` returns the medians.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, n_channels)
            Sequences with the shape seen during :meth:`fit`, NaN-padded
            where they are shorter.

        Returns
        -------
        y_quantiles : ndarray of shape (n_samples, n_quantiles) or \
                (n_samples, n_outputs, n_quantiles)
            Predicted quantiles, float64, non-decreasing along the last
            axis; of shape (n_samples, n_quantiles) when ``y`` was 1D at fit.

        Raises
        ------
        ValueError
            If the model was not fitted with ``loss="quantile"``.

        See Also
        --------
        ConformalIntervalRegressor : Calibrated intervals from these quantiles
            (``method="cqr"``).

        Examples
        --------
        >>> from sklearn_slstm import StackedLSTMRegressor, make_damped_sine
        >>> X, y = make_damped_sine(n_samples=200, n_timesteps=20, random_state=0)
        >>> reg = StackedLSTMRegressor(
        ...     loss="quantile", quantiles=(0.1, 0.5, 0.9), max_iter=2, random_state=0
        ... ).fit(X, y)
        >>> reg.predict_quantiles(X[:3]).shape
        (3, 5, 3)
        >>> bool((reg.predict_quantiles(X[:3])[:, :, 1] == reg.predict(X[:3])).all())
        True
        """
        check_is_fitted(self)
        if "quantiles_" not in vars(self):
            raise ValueError(
                f"predict_quantiles needs a model fitted with loss='quantile'; "
                f"this {type(self).__name__} was fitted with loss={self.loss!r}."
            )
        y_quantiles = self._predictions(X)
        return y_quantiles[:, 0] if self._y_was_1d else y_quantiles

    def _predictions(self, X):
        """``_unscaled`` outputs of the network for ``X``; warns if not finite."""
        predictions = self._unscaled(*self._predict_network(X))
        if not np.isfinite(predictions).all():
            warnings.warn(
                f"{np.count_nonzero(~np.isfinite(predictions))} of the predictions "
                "are NaN or infinite: the network's outputs overflowed. Refit "
                "with a lower learning_rate_init or a gradient_clip.",
                RuntimeWarning,
                stacklevel=3,
            )
        return predictions

    def forecast(self, X, horizon):
        """Forecast ``horizon`` steps ahead by feeding predictions back as input.

        The model must have been fitted on windows of one series (2D ``X``, or
        3D with one channel) with, as targets, the values that directly follow
        each window: ``y`` of shape (n_samples, n_outputs), or of shape
        (n_samples,) for one step ahead. Each round predicts the next
        ``n_outputs_`` values, appends them to the window and drops as many of
        the oldest values, keeping the window at ``n_features_in_`` values,
        until ``horizon`` values are predicted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, 1)
            The last ``n_features_in_`` values of each series, oldest first.
        horizon : int
            Number of future values to forecast, from 1 to 1,000,000 (a
            bound, so that a mistyped horizon fails at once).

        Returns
        -------
        y_forecast : ndarray of shape (n_samples, horizon)
            The forecast, float64; column ``j`` is ``j + 1`` steps after the
            last value of ``X``.

        See Also
        --------
        predict : The direct forecast of ``n_outputs_`` steps.

        Notes
        -----
        Errors can grow with each round, and the windows of later rounds may
        differ from the training windows; for a fixed horizon, a model
        trained on ``y`` of that many steps is usually more accurate. The
        user guide compares the two on the damped sine problem.

        A model fitted with ``loss="quantile"`` feeds its medians back and
        returns the path of medians, a point forecast: the quantiles of a
        value several rounds ahead are not the quantiles of one round
        applied again, so a recursive forecast has none. For quantiles
        ``horizon`` steps ahead, fit ``y`` of that many steps and call
        :meth:`predict_quantiles`.

        Examples
        --------
        >>> from sklearn_slstm import StackedLSTMRegressor, make_damped_sine
        >>> X, y = make_damped_sine(n_samples=200, n_timesteps=20, random_state=0)
        >>> reg = StackedLSTMRegressor(
        ...     hidden_layer_sizes=(8,), max_iter=2, random_state=0
        ... ).fit(X, y)
        >>> reg.forecast(X[:3], horizon=12).shape
        (3, 12)
        """
        check_is_fitted(self)
        if self._n_channels != 1:
            raise ValueError(
                "forecast needs a model of one series, but "
                f"{type(self).__name__} was fitted on sequences with "
                f"{self._n_channels} channels: feeding its predictions back "
                "would need the future of every channel."
            )
        mapped = "target_scale_" in vars(self)
        if mapped or (self.scaling == "auto" and self.scaling_ == "global"):
            found = "on another scale" if mapped else "not continuations of X"
            raise ValueError(
                "forecast feeds predictions back as input, but the targets of "
                f"this model are not on the scale of X (scaling='auto' found them "
                f"{found}): fit it on windows of the series and the values that "
                "follow them, as make_windows makes them."
            )
        return recursive_forecast(self, X, horizon, predict=self._predict_windows)

    def _predict_windows(self, windows):
        """``predict`` of the float64 windows that ``forecast`` checked and made.

        Skips the validation of what the library itself produced, so that a
        round costs about one forward pass; a non-finite prediction, which
        the next round would read as padding, raises a ``ValueError``.
        """
        sequences = torch.from_numpy(windows.astype(np.float32)[:, :, np.newaxis])
        padded = bool(torch.isnan(sequences[:, 0, 0]).any())
        outputs = self._network_outputs(sequences, padded=padded)
        y_pred = self._median(self._unscaled(*outputs))
        if not np.isfinite(y_pred).all():
            raise ValueError(
                "forecast: the model predicted non-finite values (NaN or "
                "infinity), which cannot be fed back as input."
            )
        return y_pred

    def to_onnx(self, path):
        """Export the fitted model to an ONNX file.

        Needs the optional dependencies: ``pip install "sklearn-slstm[onnx]"``.

        Parameters
        ----------
        path : str or path-like
            File to write, conventionally ending in ``.onnx``; an existing
            file is overwritten.

        Returns
        -------
        path : pathlib.Path
            The path written.

        Notes
        -----
        The graph's input ``"X"`` is float32 of shape (batch, n_timesteps,
        n_channels), always 3D (pass ``X[:, :, np.newaxis]`` for a model
        fitted on 2D ``X``), with a dynamic batch size, and NaN-padded for
        sequences of different lengths, as for :meth:`predict`. Its output
        ``"y_pred"`` is float32 of the shape :meth:`predict` returns. The
        ``scaling`` is part of the graph: raw values in, predictions on the
        scale of ``y`` out.

        A model fitted with ``loss="quantile"`` has a second output,
        ``"quantiles"``: :meth:`predict_quantiles`, float32.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import numpy as np
        >>> import onnxruntime
        >>> from sklearn_slstm import StackedLSTMRegressor, make_damped_sine
        >>> X, y = make_damped_sine(n_samples=100, n_timesteps=10, random_state=0)
        >>> reg = StackedLSTMRegressor(
        ...     hidden_layer_sizes=(4,), max_iter=1, random_state=0
        ... ).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = reg.to_onnx(pathlib.Path(folder) / "model.onnx")
        ...     session = onnxruntime.InferenceSession(str(path))
        >>> X_new = X[:7, :, np.newaxis].astype(np.float32)
        >>> (y_onnx,) = session.run(None, {"X": X_new})
        >>> bool(np.allclose(y_onnx, reg.predict(X[:7]), atol=1e-5))
        True
        """
        check_is_fitted(self)
        return export_onnx(
            self.net_.module_,
            path,
            scaling=self._fitted_scaling(),
            n_timesteps=self.n_features_in_,
            n_channels=self._n_channels,
            n_outputs=self.n_outputs_,
            flatten=self._y_was_1d,
            quantiles=(tuple(self.quantiles_) if "quantiles_" in vars(self) else None),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

"""StackedLSTMRegressor: parameters, input validation, fit and predict."""

import contextlib
import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from skorch.callbacks import Callback
from skorch.exceptions import DeviceWarning
from skorch.history import History

from . import _state
from ._forecast import recursive_forecast
from ._onnx import export_onnx
from ._padding import check_padding
from ._persistence import load_state, save_state
from ._scaling import (
    GLOBAL_STATISTICS,
    SCALINGS,
    global_statistics,
    scale_globally_,
    scale_windows_,
)
from ._training import (
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    build_net,
    n_validation_samples,
    resolve_device,
)


class StackedLSTMRegressor(RegressorMixin, BaseEstimator):
    """Sequence regressor built from a stack of LSTM layers.

    Each row of ``X`` is a sequence. The sequence runs through one LSTM layer
    per entry of ``hidden_layer_sizes``, each reading the full output
    sequence of the layer below, and a linear layer maps the last step's
    output to the targets. Training runs through a skorch
    :class:`~skorch.NeuralNetRegressor`, kept after fitting as ``net_``.

    Parameters
    ----------
    scaling : {"window", "global"} or None, default="window"
        How sequences and targets are scaled before they reach the network;
        predictions are always mapped back to the scale of ``y``, so raw
        data works as it is.

        - "window": each sequence is standardised by its own mean and
          standard deviation over its time steps, per channel, and its
          targets by those of its first channel. Suited to forecasting,
          where ``y`` continues the first channel of ``X`` (as with
          :func:`make_windows`): it copes with series at any level,
          series that trend out of the training range, and panels of
          series of very different sizes. ``y`` must then be on the scale
          of the first channel.
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
    loss : {"mae", "mse", "huber"}, default="mae"
        Loss minimised during training: mean absolute error, mean squared
        error, or Huber loss with ``delta=1``.
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
    x_mean_, x_scale_ : ndarray of shape (n_channels,)
        Mean and scale of each channel of the training sequences. Defined
        only when ``scaling="global"``.
    y_mean_, y_scale_ : ndarray of shape (n_outputs,)
        Mean and scale of each training target. Defined only when
        ``scaling="global"``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when ``X``
        has feature names that are all strings.
    n_outputs_ : int
        Number of outputs.
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
    monitored loss (validation loss with ``early_stopping``, else training
    loss) still improved by more than ``tol`` within the last
    ``n_iter_no_change`` epochs raises a
    :class:`~sklearn.exceptions.ConvergenceWarning`, as MLPRegressor does.
    With an annealed schedule (the default one-cycle, or cosine) it does
    not: the schedule ends at ``max_iter`` by design, and its loss falls
    steeply while the learning rate anneals towards zero however long the
    run, so a loss still falling at the end says nothing about the budget.
    For the same reason the training-loss plateau stop is off with those
    schedules: it would stop at a high learning rate, before the annealing
    that gives the best weights.

    The defaults were chosen by measurement, on real series first and on the
    damped sine problem second (the user guide has the tables). On seven
    public series (monthly, quarterly and yearly; 12-step forecasts from
    windows of 24 steps; ``benchmarks/bench_defaults.py``), the MAE
    relative to seasonal naive, as a geometric mean over series and 5
    seeds, was 10.8 with the earlier defaults (raw values, two layers of
    16 units, batches of 32), 1.44 with global scaling and 1.00 with
    per-window scaling; the linear skip connection brought it to 0.68, and
    one layer of 16 units with batches of 16 to 0.64. More epochs overfit
    these short series. On the damped sine problem (10,000 waves of 50
    steps, 5 outputs; ``benchmarks/bench_training.py``) the same defaults
    reach a test MAE near 0.0006 in about 3.4 times the time of one epoch
    of the classic Keras configuration (batch 10, constant learning rate
    0.001), which only reaches 0.02. The weights start as Keras initialises
    them (see ``sklearn_slstm._module.StackedLSTM``), which trains much
    faster here than PyTorch's default.

    The budget is 8 epochs whatever the data size, by measurement
    (``benchmarks/bench_budget.py``; the user guide has the table). A
    larger budget for small data, in epochs or in steps, helps the damped
    sine problem (200 training waves: test R^2 0.91 with 8 epochs, 0.95
    with 16; 1,000 waves: 0.981 and 0.991) but hurts real data of the same
    sizes: the seven series above (78 to 490 points) went from 0.65 to
    0.70 and the M1 yearly panel (one model on 1,016 windows) from a MASE
    of 3.34 to 3.42. Noisy real series overfit where the noise-free waves
    still learn, and real data comes first. For clean or plentiful data,
    raise ``max_iter``.

    ``sample_weight`` weighs each sample's loss: every batch's loss, and so
    ``loss_curve_`` and the validation loss, is the weighted mean of its
    samples' losses, and ``validation_scores_`` are weighted R^2. Samples of
    weight 0 are dropped before anything else, so they change nothing at
    all: the result equals a fit without those rows. Integer weights match
    repeated rows only within float rounding, and only when each epoch is
    a single batch (``batch_size`` at least the number of repeated rows),
    with ``early_stopping=False`` (the held-out rows would differ),
    ``dropout=0`` and ``scaling`` "window" or None; in mini-batches the
    repeated rows make different batches and more steps. With
    ``scaling="global"`` the statistics are unweighted means and standard
    deviations of the samples of positive weight. Multiplying all weights
    by a constant changes nothing.

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
        "scaling": [StrOptions(set(SCALINGS)), None],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "bidirectional": ["boolean"],
        "linear_skip": ["boolean"],
        "loss": [StrOptions(set(LOSSES))],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "gradient_clip": [Interval(Real, 0, None, closed="neither"), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "callbacks": [list, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        scaling="window",
        hidden_layer_sizes=(16,),
        dropout=0.0,
        bidirectional=False,
        linear_skip=True,
        loss="mae",
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
        self.scaling = scaling
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.linear_skip = linear_skip
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.gradient_clip = gradient_clip
        self.warm_start = warm_start
        self.random_state = random_state
        self.device = device
        self.callbacks = callbacks
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, n_channels)
            Training sequences, one per row; 2D means one channel.
            Sequences of different lengths are NaN-padded (see
            :func:`pad_sequences`).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None weighs each sample 1.
            See the Notes of the class for what the weights change.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        return self._train(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on ``X`` and ``y``, continuing from the current state.

        The first call builds the network; later calls continue from its
        weights and optimizer state (also after :meth:`fit`). The learning
        rate stays at ``learning_rate_init``: a schedule needs to know how
        long training lasts, which a stream of calls does not.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, n_channels)
            Training sequences with the shape of earlier calls.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values with the number of outputs of earlier calls.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None weighs each sample 1.

        Returns
        -------
        self : object
            The regressor, trained one more epoch.
        """
        if self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: it trains "
                "one epoch per call, with no validation across calls."
            )
        return self._train(X, y, sample_weight, incremental=True)

    def _train(self, X, y, sample_weight, *, incremental):
        """Shared body of fit (``incremental=False``) and partial_fit.

        Four steps: validate the data, get the net (the fitted one, or a new
        one), run the epochs, record the outcome. Any failure before the
        record leaves a fitted model as it was.
        """
        fitted = hasattr(self, "net_")
        continuing = fitted and (incremental or self.warm_start)
        reuse_net = incremental and fitted and self._net_is_incremental
        self._warn_if_dropout_has_no_effect()
        with self._fitted_state_restored_on_error():
            data, targets = self._validate_training_data(
                X, y, sample_weight, reset=not continuing
            )
            net = self.net_ if reuse_net else self._new_net(data, incremental)
            epochs_before = self._run_epochs(
                net,
                data,
                targets,
                epochs=1 if incremental else self.max_iter,
                build=not reuse_net,
                continuing=continuing,
            )
        self._record(net, incremental=incremental, epochs_before=epochs_before)
        return self

    def _warn_if_dropout_has_no_effect(self):
        if self.dropout > 0 and len(self._check_hidden_layer_sizes()) == 1:
            warnings.warn(
                f"dropout={self.dropout} has no effect with a single LSTM layer: "
                "dropout applies between layers. Add a layer to "
                "hidden_layer_sizes, or set dropout=0.",
                UserWarning,
                stacklevel=5,  # 1 here, _train, fit, _fit_context, the caller
            )

    def _validate_training_data(self, X, y, sample_weight, *, reset):
        """Validate and scale the training data; the net's inputs and targets.

        ``reset=False`` (continued training) checks the data against the
        fitted shapes. Returns the dict of sequences and sample weights the
        net trains on (the sequences alone when all weights are equal), and
        the scaled targets, all tensors.
        """
        if not reset:
            self._check_n_timesteps(X)
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=np.float32,
            allow_nd=True,
            multi_output=True,
            y_numeric=True,
            # NaN marks padding; _as_sequences checks where it may be.
            ensure_all_finite="allow-nan",
            # Scaling works in place, on a copy of the caller's data.
            copy=self.scaling is not None,
        )
        X, y, sample_weight = _drop_zero_weights(X, y, sample_weight)
        sequences, padded = self._as_sequences(X, reset=reset)
        targets = self._as_targets(y, reset=reset)
        targets = self._scale(sequences, targets, fit=reset, padded=padded)
        if (
            self.early_stopping
            and len(X) - n_validation_samples(len(X), self.validation_fraction) < 1
        ):
            raise ValueError(
                "early_stopping=True needs at least one training sample left "
                "after holding out validation_fraction="
                f"{self.validation_fraction} of n_samples={len(X)}."
            )
        if sample_weight is None:
            return sequences, targets
        return {"X": sequences, "sample_weight": sample_weight}, targets

    def _new_net(self, data, incremental):
        """A new, uninitialised net for sequences of the shape of ``data``."""
        sequences = data["X"] if isinstance(data, dict) else data
        _, n_timesteps, n_channels = sequences.shape
        return self._build_net(
            n_timesteps=n_timesteps,
            n_channels=n_channels,
            n_outputs=self.n_outputs_,
            device=resolve_device(self.device),
            incremental=incremental,
        )

    def _run_epochs(self, net, data, targets, *, epochs, build, continuing):
        """Train ``net`` for ``epochs``, drawing from this fit's seed.

        ``build`` initialises a new net first (from the previous weights
        when ``continuing``); a kept net is restored exactly if training
        fails. Returns the number of epochs in the history before training.
        """
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        restored = contextlib.nullcontext() if build else _net_restored_on_error(net)
        with net.random_draws_from(seed), restored:
            if build:
                net.initialize()
                if continuing:
                    self._continue_training(net)
            epochs_before = len(net.history)
            net.partial_fit(data, targets, epochs=epochs)
        return epochs_before

    def _record(self, net, *, incremental, epochs_before):
        """Keep ``net`` and its history; warn if training was cut short or long."""
        self.net_ = net
        self._net_is_incremental = incremental
        self._record_history()
        if "train_loss" not in net.history[-1]:
            # skorch ends training quietly on KeyboardInterrupt (Ctrl-C).
            warnings.warn(
                f"Training was interrupted in epoch {len(net.history)}; the model "
                f"keeps the weights reached so far ({self.n_iter_} complete "
                "epochs).",
                UserWarning,
                stacklevel=5,  # 1 here, _train, fit, _fit_context, the caller
            )
        elif not incremental:
            self._warn_if_not_converged(net, self.n_iter_ - epochs_before)

    def _warn_if_not_converged(self, net, n_epochs):
        """``ConvergenceWarning`` when ``max_iter`` ends a still-improving run.

        Only at a constant learning rate: there, as in MLPRegressor, reaching
        ``max_iter`` before the loss stopped improving by ``tol`` for
        ``n_iter_no_change`` epochs means more epochs would have helped. An
        annealed schedule ends at ``max_iter`` by design, its learning rate
        falling to zero, and its loss falls steeply near the end however
        long it runs; a falling loss there says nothing about the budget.
        """
        stopping = dict(net.callbacks_).get("early_stopping")
        if (
            self.learning_rate != "constant"
            or stopping is None
            or stopping.stopped_
            or n_epochs < self.max_iter
        ):
            return
        monitored = "validation" if self.early_stopping else "training"
        warnings.warn(
            f"Maximum iterations ({self.max_iter}) reached and the "
            f"{monitored} loss was still improving by more than tol={self.tol} "
            f"within the last n_iter_no_change={self.n_iter_no_change} epochs: "
            "the optimization has not converged. Raise max_iter.",
            ConvergenceWarning,
            stacklevel=6,  # 1 here, _record, _train, fit, _fit_context, caller
        )

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
        check_is_fitted(self)
        self._check_n_timesteps(X)
        X = validate_data(
            self,
            X,
            reset=False,
            dtype=np.float32,
            allow_nd=True,
            ensure_all_finite="allow-nan",
            copy=self.scaling is not None,
        )
        sequences, padded = self._as_sequences(X, reset=False)
        location, scale = self._scale_sequences(sequences, padded=padded)
        y_pred = self.net_.predict(sequences).astype(np.float64)
        y_pred = y_pred * scale + location
        return y_pred.ravel() if self._y_was_1d else y_pred

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
            Number of future values to forecast, at least 1.

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
        return recursive_forecast(self, X, horizon)

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
            n_timesteps=self.n_features_in_,
            n_channels=self._n_channels,
            n_outputs=self.n_outputs_,
            flatten=self._y_was_1d,
            scaling=self.scaling,
            statistics=[
                getattr(self, name)
                for name in GLOBAL_STATISTICS
                if self.scaling == "global"
            ],
        )

    def save(self, path, *, key=None):
        """Save the fitted regressor to one safetensors file; see :meth:`load`.

        Unlike pickle, loading the file runs no code from it. The file holds
        the parameters and fitted attributes as JSON and the weights as
        tensors, with a checksum of every byte. ``callbacks`` must be None
        (callbacks are code); the optimizer state is not stored. Needs the
        optional dependency safetensors:
        ``pip install "sklearn-slstm[safetensors]"``.

        Parameters
        ----------
        path : str or path-like
            File to write, conventionally ``*.safetensors``. An existing
            file is replaced atomically: a save that fails or is killed
            leaves it as it was.
        key : bytes or str, default=None
            A secret key. The checksum is then an HMAC-SHA256 keyed with it,
            so that :meth:`load` with the same key detects any change made
            to the file by someone without the key. Without a key, the
            checksum detects corruption only: anyone who edits the file can
            recompute it.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the regressor is not fitted.
        ValueError
            If ``callbacks`` is not None, or ``key`` is empty.
        TypeError
            If ``key`` is not bytes or str.

        Examples
        --------
        >>> import os, tempfile
        >>> from sklearn_slstm import StackedLSTMRegressor, make_damped_sine
        >>> X, y = make_damped_sine(n_samples=100, n_timesteps=10, random_state=0)
        >>> reg = StackedLSTMRegressor(
        ...     hidden_layer_sizes=(4,), max_iter=1, random_state=0
        ... ).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "model.safetensors")
        ...     reg.save(path)
        ...     loaded = StackedLSTMRegressor.load(path)
        ...     reg.save(path, key=b"a secret key")
        ...     signed = StackedLSTMRegressor.load(path, key=b"a secret key")
        >>> bool((loaded.predict(X) == reg.predict(X)).all())
        True
        >>> bool((signed.predict(X) == reg.predict(X)).all())
        True
        """
        check_is_fitted(self)
        if self.callbacks is not None:
            raise ValueError(
                "Cannot save a StackedLSTMRegressor whose callbacks parameter is "
                "not None: skorch callbacks are arbitrary Python objects that this "
                "format does not store (it never runs code on load). Set "
                "callbacks=None with set_params before saving, or use pickle or "
                "joblib, which store them but must only load trusted files."
            )
        state = self.__getstate__()
        del state["params"]["callbacks"]
        save_state(state, path, key=key)

    @classmethod
    def load(cls, path, *, key=None):
        """Load a regressor written by :meth:`save`; predictions are identical.

        Nothing in the file is executed, and reading it is bounded: only a
        regular file (or a link to one) of at most 1 GiB is read, and its
        contents are checked against the limits below before anything of
        the size they describe is built.

        Parameters
        ----------
        path : str or path-like
            File written by :meth:`save`.
        key : bytes or str, default=None
            The key the file was saved with, if any. A file saved with a key
            loads only with that key, and one saved without a key only
            without one.

        Returns
        -------
        estimator : StackedLSTMRegressor
            The fitted regressor, with its net on the device named by its
            ``device`` parameter (on the CPU, with a ``DeviceWarning``, when
            ``device="cuda"`` but CUDA is not available).

        Raises
        ------
        ValueError
            If the file is not a regular file, is larger than 1 GiB, is
            empty, truncated, corrupted or not a safetensors file; was not
            written by :meth:`save`; has a format version this version
            cannot read; does not match its checksum, or its key; or holds
            missing, extra, invalid or inconsistent parameters, attributes,
            weights (NaN or infinite ones included) or history, or exceeds
            a limit.
        OSError
            If the file cannot be opened (for example, it does not exist).

        Warns
        -----
        sklearn.exceptions.InconsistentVersionWarning
            If another version of sklearn_slstm saved the file.

        Notes
        -----
        The limits: at most 64 LSTM layers of at most 65,536 units, 2**28
        weights (exactly as many as the parameters describe, all finite),
        1,048,576 time steps, 65,536 channels and outputs, 1,000,000 epochs,
        JSON nested at most 32 levels deep with at most 2,000,000 values per
        entry and integers within 64 bits.
        """
        state = load_state(path, key=key)
        estimator = cls.__new__(cls)
        try:
            estimator.__setstate__(state)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        return estimator

    def __getstate__(self):
        """The state that pickle, skops and :meth:`save` store (see ``_state``).

        Plain Python values and numpy arrays only: no torch or skorch
        object, so that it loads on any device and skops can read it.
        """
        from . import __version__

        attributes = dict(vars(self))
        state = {
            "sklearn_slstm_version": __version__,
            "params": {
                name: attributes.pop(name)
                for name in self._get_param_names()
                if name in attributes
            },
        }
        net = attributes.pop("net_", None)
        incremental = attributes.pop("_net_is_incremental", False)
        if net is not None:
            state["fitted"] = _state.export_fitted(attributes)
            for name in state["fitted"]:
                del attributes[name]
            state["weights"] = {
                name: tensor.detach().to("cpu").numpy()
                for name, tensor in net.module_.state_dict().items()
            }
            state["history"] = _state.plain(net.history.to_list())
            state["optimizer"] = (
                _to_numpy(net.optimizer_.state_dict()) if incremental else None
            )
        state["other"] = attributes
        return state

    def __setstate__(self, state):
        """Restore the state of :meth:`__getstate__`, checking it first.

        Raises a ``ValueError`` naming the problem if the state is invalid,
        and warns if another version of sklearn_slstm made it.
        """
        if not isinstance(state, dict) or "sklearn_slstm_version" not in state:
            # A pickle made before sklearn_slstm recorded its state this way.
            if not isinstance(state, dict):
                raise ValueError("The state of a StackedLSTMRegressor is a dict.")
            _state.warn_if_other_version(
                type(self).__name__, "an unknown version (it did not record one)"
            )
            vars(self).update(state)
            return
        _state.warn_if_other_version(
            type(self).__name__, str(state["sklearn_slstm_version"])
        )
        params = state.get("params")
        names = set(self._get_param_names())
        if not isinstance(params, dict) or set(params) != names:
            unknown = sorted(map(str, set(params or ()) - names))
            missing = sorted(names - set(params or ()))
            raise ValueError(
                "The parameters are inconsistent with this version of "
                f"sklearn_slstm: unknown {unknown}, missing {missing}."
            )
        other = state.get("other", {})
        if not isinstance(other, dict) or not all(
            isinstance(name, str) and name not in names and name != "net_"
            for name in other
        ):
            raise ValueError(
                "The other attributes of the state are not a mapping of names "
                "other than the parameters and net_."
            )
        vars(self).update(params)
        vars(self).update(other)
        if "weights" in state:
            self._restore_fitted(state)

    def _restore_fitted(self, state):
        """Rebuild the fitted attributes and the net from a checked state."""
        try:
            self._validate_params()
            sizes = self._check_hidden_layer_sizes()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid parameters: {exc}") from exc
        _state.check_architecture(sizes)
        if self.callbacks is not None and not all(
            isinstance(callback, Callback)
            or (
                isinstance(callback, tuple)
                and len(callback) == 2
                and isinstance(callback[1], Callback)
            )
            for callback in self.callbacks
        ):
            raise ValueError("the callbacks parameter holds non-callbacks.")
        fitted = _state.check_fitted(state.get("fitted"), scaling=self.scaling)
        history = _state.check_history(state.get("history"))
        optimizer = state.get("optimizer")
        net = self._build_net(
            n_timesteps=fitted["n_features_in_"],
            n_channels=fitted["_n_channels"],
            n_outputs=fitted["n_outputs_"],
            device=_loading_device(self.device),
            incremental=optimizer is not None,
        )
        # Compare shapes on the meta device first: nothing is allocated, so
        # a state whose parameters describe a huge network fails fast.
        with torch.device("meta"):
            layout = net.module(**net.get_params_for("module")).state_dict()
        weights = _state.check_weights(state["weights"], layout)
        # The initial weights are overwritten; drawing them from a generator
        # of this net's own leaves every other random stream untouched.
        with net.random_draws_from(0):
            net.initialize()
        net.module_.load_state_dict(
            {name: _as_tensor(array) for name, array in weights.items()}
        )
        if optimizer is not None:
            _load_optimizer_state(net.optimizer_, optimizer)
        net.history = History(history)
        vars(self).update(fitted)
        self.net_ = net
        self._net_is_incremental = optimizer is not None

    def _build_net(self, *, n_timesteps, n_channels, n_outputs, device, incremental):
        """The uninitialised skorch net for these parameters and data shape.

        ``incremental`` builds the net of :meth:`partial_fit`: one epoch per
        call at a constant learning rate.
        """
        return build_net(
            n_timesteps=n_timesteps,
            n_channels=n_channels,
            n_outputs=n_outputs,
            hidden_layer_sizes=self._check_hidden_layer_sizes(),
            dropout=self.dropout,
            bidirectional=self.bidirectional,
            linear_skip=self.linear_skip,
            loss=self.loss,
            optimizer=self.optimizer,
            learning_rate_init=self.learning_rate_init,
            learning_rate="constant" if incremental else self.learning_rate,
            batch_size=self.batch_size,
            max_epochs=1 if incremental else self.max_iter,
            early_stopping=self.early_stopping,
            validation_fraction=self.validation_fraction,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            gradient_clip=self.gradient_clip,
            callbacks=self.callbacks,
            device=device,
            verbose=self.verbose,
        )

    @contextlib.contextmanager
    def _fitted_state_restored_on_error(self):
        """Undo every change to the fitted state if the block raises.

        Validation sets ``n_features_in_`` and friends before later checks
        can still fail; a failed fit must leave a fitted model as it was.
        """

        def is_state(name):
            return name.startswith("_") or name.endswith("_")

        saved = {name: value for name, value in vars(self).items() if is_state(name)}
        try:
            yield
        except BaseException:
            for name in [name for name in vars(self) if is_state(name)]:
                if name not in saved:
                    delattr(self, name)
            vars(self).update(saved)
            raise

    def _check_hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not sizes or not all(
            isinstance(units, Integral) and not isinstance(units, bool) and units > 0
            for units in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a non-empty sequence of positive "
                f"integers, got {self.hidden_layer_sizes!r}."
            )
        return [int(units) for units in sizes]

    def _check_n_timesteps(self, X):
        """Name a wrong sequence length in time steps, before validation does.

        scikit-learn's message counts "features", which are time steps here;
        its first sentence is kept, as scikit-learn's checks expect it.
        """
        shape = getattr(X, "shape", ())
        if len(shape) >= 2 and shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input. Its "
                f"features are time steps: the sequences of X have {shape[1]} "
                f"time steps, the model was fitted on sequences of "
                f"{self.n_features_in_}."
            )

    def _as_sequences(self, X, *, reset):
        """Check the sequence shape and padding of validated ``X``.

        Returns ``X`` viewed as a 3D tensor, and whether any step is padding.
        """
        if X.ndim not in (2, 3):
            raise ValueError(
                "X must be 2D (n_samples, n_timesteps) or 3D (n_samples, "
                f"n_timesteps, n_channels), got an array of shape {X.shape}."
            )
        if X.ndim == 2:
            X = X[:, :, np.newaxis]
        n_timesteps, n_channels = X.shape[1:]
        if n_timesteps == 0 or n_channels == 0:
            raise ValueError(
                f"X has {n_timesteps} timesteps and {n_channels} channels "
                f"(shape={X.shape}); each needs to be at least 1."
            )
        if reset:
            self._n_channels = n_channels
        elif n_channels != self._n_channels:
            raise ValueError(
                f"X has {n_channels} channel(s), but {type(self).__name__} was "
                f"fitted with {self._n_channels} channel(s)."
            )
        return _as_tensor(X), check_padding(X)

    def _as_targets(self, y, *, reset):
        """Check the number of outputs of validated ``y``; make a 2D tensor."""
        targets = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
        if reset:
            self._y_was_1d = y.ndim == 1
            self.n_outputs_ = targets.shape[1]
        elif targets.shape[1] != self.n_outputs_ or (y.ndim == 1) != self._y_was_1d:
            raise ValueError(
                f"y has shape {y.shape}, but {type(self).__name__} was fitted "
                f"with {self.n_outputs_} outputs"
                f"{' (1D y)' if self._y_was_1d else ''}."
            )
        return _as_tensor(targets)

    def _scale(self, sequences, targets, *, fit, padded):
        """Scale validated training data: ``sequences`` in place, ``targets`` anew.

        ``padded`` says whether ``sequences`` hold padding (NaN).

        With ``fit=False`` (warm start, partial_fit) the global statistics of
        the first fit are kept: the weights were trained on that scale.
        """
        if fit:
            for name in GLOBAL_STATISTICS:
                vars(self).pop(name, None)
        if self.scaling is None:
            _warn_if_far_from_unit_scale(targets)
            return targets
        if self.scaling == "global" and not hasattr(self, "x_mean_"):
            x_mean, x_scale = global_statistics(sequences, padded=padded)
            y_mean, y_scale = global_statistics(targets, padded=False)
            self.x_mean_, self.x_scale_ = x_mean.numpy(), x_scale.numpy()
            self.y_mean_, self.y_scale_ = y_mean.numpy(), y_scale.numpy()
        location, scale = self._scale_sequences(sequences, padded=padded)
        return ((targets - torch.as_tensor(location)) / torch.as_tensor(scale)).float()

    def _scale_sequences(self, sequences, *, padded):
        """Scale ``sequences`` in place; return the location and scale of ``y``.

        Both are float64 arrays that broadcast against ``y`` of shape
        (n_samples, n_outputs): ``y = y_scaled * scale + location``.
        """
        if self.scaling == "window":
            location, scale = scale_windows_(sequences, padded=padded)
            return location.numpy(), scale.numpy()
        if self.scaling == "global":
            scale_globally_(sequences, self.x_mean_, self.x_scale_)
            return self.y_mean_, self.y_scale_
        return 0.0, 1.0

    def _continue_training(self, net):
        """Start ``net`` from the weights and history of the previous fit."""
        previous = self.net_.module_.state_dict()
        current = net.module_.state_dict()
        if {name: p.shape for name, p in previous.items()} != {
            name: p.shape for name, p in current.items()
        }:
            raise ValueError(
                "Cannot continue training (warm_start=True or partial_fit): the "
                "network shape changed (hidden_layer_sizes, bidirectional, "
                "number of channels or outputs). Use fit with warm_start=False "
                "to start afresh."
            )
        net.module_.load_state_dict(previous)
        # A copy: a failed fit must leave the previous net's history alone.
        net.history = copy.deepcopy(self.net_.history)

    def _record_history(self):
        # Only completed epochs count: an interrupted fit leaves a partial one.
        history = [epoch for epoch in self.net_.history if "train_loss" in epoch]
        self.loss_curve_ = [float(epoch["train_loss"]) for epoch in history]
        self.best_loss_ = min(self.loss_curve_, default=None)
        self.n_iter_ = len(history)
        if self.early_stopping:
            self.validation_scores_ = [
                float(epoch["valid_r2"]) for epoch in history if "valid_r2" in epoch
            ]
            # The score of the weights kept: early stopping restores the
            # epoch of the lowest validation loss, not of the highest R^2.
            best_epoch = dict(self.net_.callbacks_)["early_stopping"].best_epoch_
            self.best_validation_score_ = next(
                (
                    float(epoch["valid_r2"])
                    for epoch in history
                    if epoch["epoch"] == best_epoch and "valid_r2" in epoch
                ),
                None,
            )
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.three_d_array = True
        # NaN marks padding: sequences of different lengths.
        tags.input_tags.allow_nan = True
        return tags


@contextlib.contextmanager
def _net_restored_on_error(net):
    """Undo a failed partial_fit of a net that is kept, not rebuilt.

    Its weights, optimizer state and history go back to what they were;
    the regressor's other fitted state is restored by the caller.
    """
    module = copy.deepcopy(net.module_.state_dict())
    optimizer = copy.deepcopy(net.optimizer_.state_dict())
    n_epochs = len(net.history)
    try:
        yield
    except BaseException:
        net.module_.load_state_dict(module)
        net.optimizer_.load_state_dict(optimizer)
        del net.history[n_epochs:]
        raise


def _drop_zero_weights(X, y, sample_weight):
    """Validate ``sample_weight``; drop the rows it weighs 0.

    A row of weight 0 then changes nothing at all, not even the batches the
    other rows fall into. Returns ``X``, ``y`` and the weights as a float32
    tensor, or None when all weights are equal: the weighted mean is then
    the plain mean, which the net computes faster.
    """
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float32, ensure_non_negative=True
    )
    kept = sample_weight > 0
    if not kept.all():
        X, y, sample_weight = X[kept], y[kept], sample_weight[kept]
    if (sample_weight == sample_weight[0]).all():
        return X, y, None
    return X, y, torch.from_numpy(np.ascontiguousarray(sample_weight))


def _as_tensor(array):
    """A tensor sharing ``array``'s memory where torch allows it, else a copy.

    torch refuses negative strides (``X[:, ::-1]``) and warns on read-only
    memory (memmaps, arrays shared between processes).
    """
    if not array.flags.writeable or any(stride < 0 for stride in array.strides):
        array = np.array(array, order="C")
    return torch.from_numpy(array)


def _warn_if_far_from_unit_scale(targets):
    """Warn when unscaled targets are far from unit scale (``scaling=None``)."""
    rms = float(targets.double().square().mean().sqrt())
    if rms > 0 and not 1e-2 <= rms <= 1e2:
        warnings.warn(
            f"scaling=None, but the targets have a root mean square of {rms:.3g}, "
            "far from 1: the network trains slowly or not at all on such "
            "values. Use scaling='window' (forecasting) or scaling='global'.",
            UserWarning,
            stacklevel=5,
        )


def _loading_device(requested):
    """The device to restore onto: like fit, but CUDA falls back to the CPU."""
    if requested == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            "The regressor was saved with device='cuda' but CUDA is not "
            "available; loading it on the CPU. Its device parameter still says "
            "'cuda': set_params(device='cpu') before fitting it again here.",
            DeviceWarning,
            stacklevel=4,
        )
        return "cpu"
    return resolve_device(requested)


def _load_optimizer_state(optimizer, state):
    """Load a state of ``_to_numpy`` form, checked against the parameters."""
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


def _to_numpy(value):
    """``value`` with every tensor as a numpy array, recursively."""
    return _state.map_leaves(
        value,
        lambda leaf: (
            leaf.detach().to("cpu").numpy().copy()
            if isinstance(leaf, torch.Tensor)
            else leaf
        ),
    )


def _to_tensors(value):
    """Undo ``_to_numpy``: every numpy array as a tensor."""
    return _state.map_leaves(
        value,
        lambda leaf: torch.tensor(leaf) if isinstance(leaf, np.ndarray) else leaf,
    )

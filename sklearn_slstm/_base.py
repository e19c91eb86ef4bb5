"""BaseStackedLSTM: what every estimator of the family shares.

The shape of scikit-learn's ``BaseMultilayerPerceptron``: one base holds
the shared parameters and their constraints, the ``fit``/``partial_fit``
template, warm starts, persistence and tags; each estimator fills a few
small hooks with what differs (see the class docstring).
"""

import contextlib
import warnings
from abc import ABCMeta
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _state
from ._persistence import load_state, save_state
from ._scaling import SCALING_OPTIONS, SCALINGS
from ._training import (
    OPTIMIZERS,
    SCHEDULES,
    build_net,
    continue_training,
    net_restored_on_error,
    resolve_device,
)
from ._validation import (
    VALIDATE_DATA,
    VALIDATE_DATA_ATTRIBUTES,
    check_hidden_layer_sizes,
    check_n_timesteps,
    check_real_dtype,
    check_sequences,
    drop_zero_weights,
)


@dataclass(frozen=True)
class _TrainingData:
    """What validation found in the training data; nothing is written yet.

    ``inputs`` and ``targets`` are what the net trains on (scaled tensors;
    ``inputs`` a dict with the sample weights when they differ),
    ``attributes`` the fitted attributes the data determine (shapes,
    scaling statistics), and ``scaling`` the fitted scaling.
    """

    inputs: object
    targets: torch.Tensor
    attributes: dict
    scaling: object


class BaseStackedLSTM(BaseEstimator, metaclass=ABCMeta):
    """Base class of the stacked LSTM estimators.

    Not for direct use: use :class:`StackedLSTMRegressor` or
    :class:`StackedLSTMClassifier`. The parameters are documented there.

    A subclass adds its mixin on the left (``RegressorMixin``), extends
    ``_parameter_constraints`` with its ``loss`` options as
    ``{**BaseStackedLSTM._parameter_constraints, "loss": ...}``, and fills
    these hooks:

    - ``_task``: the ``_training.Task`` of its net (skorch class, losses,
      validation score).
    - ``_fitted_attributes`` and ``_optional_attributes``: its fitted state,
      extending ``_state.FITTED_ATTRIBUTES``.
    - ``_check_targets(y, *, reset, **target_options)``: validated ``y``
      as the net's targets, and the fitted attributes they determine
      (``target_options`` are those a ``partial_fit`` passes to ``_train``,
      such as a classifier's ``classes``).
    - ``_sample_weight(y, sample_weight, *, reset, **target_options)``:
      the weights to train with (default: ``sample_weight``), before the
      rows of weight 0 are dropped.
    - ``_check_incremental(**target_options)``: what ``partial_fit``
      refuses before anything is validated (default: early stopping).
    - ``_new_scaling(sequences, targets, *, padded)``: the scaling of a
      new fit, unfitted: what ``scaling="auto"`` means for the estimator
      (the default returns the other options' scalings).
    - ``_scale_targets(targets, scaling, reference, *, fit)``: the targets
      as the net trains on them (default: unchanged).
    - ``_n_network_outputs(attributes)``: the width of the network's output.
    - ``predict`` and its relatives, mapping the network's outputs back.
    """

    _parameter_constraints = {
        "scaling": [StrOptions({name for name in SCALING_OPTIONS if name}), None],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "bidirectional": ["boolean"],
        "linear_skip": ["boolean"],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        # The network runs in float32: a larger rate cannot even be stored.
        "learning_rate_init": [
            Interval(Real, 0, float(np.finfo(np.float32).max), closed="neither")
        ],
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

    _fitted_attributes = _state.FITTED_ATTRIBUTES
    _optional_attributes = _state.OPTIONAL_ATTRIBUTES
    # The attributes that hold the fitted net, and whether partial_fit made it.
    _net_attributes = ("net_", "_net_is_incremental")
    # Whether validate_data converts y to numbers.
    _y_numeric = True
    # Parameters added after the first states were written, with the value a
    # state without them takes (their default): see _state.set_state.
    _added_parameters = {}

    def __init__(
        self,
        *,
        scaling,
        hidden_layer_sizes,
        dropout,
        bidirectional,
        linear_skip,
        loss,
        optimizer,
        learning_rate_init,
        learning_rate,
        batch_size,
        max_iter,
        early_stopping,
        validation_fraction,
        n_iter_no_change,
        tol,
        gradient_clip,
        warm_start,
        random_state,
        device,
        callbacks,
        verbose,
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
            The fitted estimator.
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
            The estimator, trained one more epoch.
        """
        self._check_incremental()
        return self._train(X, y, sample_weight, incremental=True)

    def _check_incremental(self, **target_options):
        """Refuse a partial_fit that the parameters do not allow."""
        if self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: it trains "
                "one epoch per call, with no validation across calls."
            )

    def _train(self, X, y, sample_weight, *, incremental, **target_options):
        """The template of fit (``incremental=False``) and partial_fit.

        Validate the data, get the net (the fitted one, or a new one), run
        the epochs, then write the fitted state in one place. Any failure
        leaves a fitted model as it was.
        """
        fitted = hasattr(self, "net_")
        continuing = fitted and (incremental or self.warm_start)
        reuse_net = incremental and fitted and self._net_is_incremental
        self._warn_if_dropout_has_no_effect()
        with self._fitted_state_restored_on_error():
            data = self._check_training_data(
                X, y, sample_weight, continuing=continuing, **target_options
            )
            net = (
                self.net_
                if reuse_net
                else self._build_net(
                    data.attributes,
                    device=resolve_device(self.device),
                    incremental=incremental,
                )
            )
            epochs_before = self._run_epochs(
                net,
                data,
                epochs=1 if incremental else self.max_iter,
                build=not reuse_net,
                continuing=continuing,
            )
        self._initialize(data, net, incremental=incremental)
        self._warn_about_training(
            net, incremental=incremental, epochs_before=epochs_before
        )
        return self

    def _check_training_data(
        self, X, y, sample_weight, *, continuing, **target_options
    ):
        """Validate and scale the training data; write nothing.

        When ``continuing`` (warm start, partial_fit), the data are checked
        against the fitted shapes and keep the fitted scaling statistics:
        the weights were trained on that scale.
        """
        reset = not continuing
        check_real_dtype(X, estimator_name=type(self).__name__)
        if continuing:
            check_n_timesteps(self, X)
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            multi_output=True,
            y_numeric=self._y_numeric,
            # Scaling works in place, on a copy of the caller's data.
            copy=self.scaling is not None,
            **VALIDATE_DATA,
        )
        sample_weight = self._sample_weight(
            y, sample_weight, reset=reset, **target_options
        )
        X, y, sample_weight = drop_zero_weights(X, y, sample_weight)
        sequences, padded = check_sequences(
            X,
            n_channels=None if reset else self._n_channels,
            estimator_name=type(self).__name__,
        )
        targets, target_attributes = self._check_targets(
            y, reset=reset, **target_options
        )
        keeps_statistics = continuing and self._keeps_scaling()
        if keeps_statistics:
            scaling = self._fitted_scaling()
        else:
            scaling = self._new_scaling(sequences, targets, padded=padded)
            scaling.fit_sequences(sequences, padded=padded)
        reference = scaling.scale_sequences_(sequences, padded=padded)
        targets = self._scale_targets(
            targets, scaling, reference, fit=not keeps_statistics
        )
        attributes = {
            "n_features_in_": sequences.shape[1],
            "_n_channels": sequences.shape[2],
            **target_attributes,
            "scaling_": scaling.NAME,
            **scaling.attributes(),
        }
        if sample_weight is not None:
            sequences = {"X": sequences, "sample_weight": sample_weight}
        return _TrainingData(sequences, targets, attributes, scaling)

    def _keeps_scaling(self):
        """Whether a continued fit keeps the fitted scaling and its statistics.

        It does unless ``scaling`` was set to another option since: the
        weights were trained on that scale.
        """
        return self.scaling in ("auto", self.scaling_)

    def _sample_weight(self, y, sample_weight, *, reset, **target_options):
        """The sample weights to train with, for validated ``y``; writes nothing."""
        return sample_weight

    def _new_scaling(self, sequences, targets, *, padded):
        """The (unfitted) scaling of a new fit: the ``scaling`` option's.

        "auto" is each estimator's to resolve, in its override.
        """
        return SCALINGS[self.scaling]()

    def _scale_targets(self, targets, scaling, reference, *, fit):
        """The targets as the net trains on them; ``fit`` fits their scaling."""
        return targets

    def _n_network_outputs(self, attributes):
        """The width of the network's output, from the fitted ``attributes``."""
        return attributes["n_outputs_"]

    def _build_net(self, attributes, *, device, incremental):
        """The uninitialised net for the shape that ``attributes`` describe.

        ``incremental`` builds the net of :meth:`partial_fit`: one epoch per
        call at a constant learning rate.
        """
        return build_net(
            self.get_params(deep=False),
            task=self._task,
            n_timesteps=attributes["n_features_in_"],
            n_channels=attributes["_n_channels"],
            n_outputs=self._n_network_outputs(attributes),
            device=device,
            incremental=incremental,
            # Fitted by a quantile loss only.
            quantiles=tuple(attributes.get("quantiles_", ())) or None,
        )

    def _run_epochs(self, net, data, *, epochs, build, continuing):
        """Train ``net`` for ``epochs``, drawing from this fit's seed.

        ``build`` initialises a new net first (from the previous weights
        when ``continuing``); a kept net is restored exactly if training
        fails. Returns the number of epochs in the history before training.
        """
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        restored = contextlib.nullcontext() if build else net_restored_on_error(net)
        with net.random_draws_from(seed), restored:
            if build:
                net.initialize()
                if continuing:
                    continue_training(net, self.net_)
            epochs_before = len(net.history)
            net.partial_fit(data.inputs, data.targets, epochs=epochs)
            net.check_finite_weights()
        return epochs_before

    def _initialize(self, data, net, *, incremental):
        """Write the fitted state of a fit that succeeded: the one place that does.

        scikit-learn's ``validate_data`` writes ``n_features_in_`` and
        ``feature_names_in_`` itself; every other fitted attribute is set
        here, and those of an earlier fit that no longer apply (another
        scaling's statistics) are removed.
        """
        state = {**data.attributes, **self._history_attributes(net)}
        stale = set(self._fitted_attributes) - set(state) - VALIDATE_DATA_ATTRIBUTES
        for name in stale:
            vars(self).pop(name, None)
        net_name, incremental_name = self._net_attributes
        vars(self).update(state, **{net_name: net, incremental_name: incremental})

    def _history_attributes(self, net):
        """``loss_curve_`` and the other attributes read from the net's history."""
        # Only completed epochs count: an interrupted fit leaves a partial one.
        history = [epoch for epoch in net.history if "train_loss" in epoch]
        loss_curve = [float(epoch["train_loss"]) for epoch in history]
        attributes = {
            "loss_curve_": loss_curve,
            "best_loss_": min(loss_curve, default=None),
            "n_iter_": len(history),
            "validation_scores_": None,
            "best_validation_score_": None,
        }
        if self.early_stopping:
            score = self._task.score_name
            attributes["validation_scores_"] = [
                float(epoch[score]) for epoch in history if score in epoch
            ]
            # The score of the weights kept: early stopping restores the
            # epoch of the lowest validation loss, not of the best score.
            best_epoch = dict(net.callbacks_)["early_stopping"].best_epoch_
            attributes["best_validation_score_"] = next(
                (
                    float(epoch[score])
                    for epoch in history
                    if epoch["epoch"] == best_epoch and score in epoch
                ),
                None,
            )
        return attributes

    @contextlib.contextmanager
    def _fitted_state_restored_on_error(self):
        """Undo every change to the declared fitted state if the block raises.

        Validation writes ``n_features_in_`` and ``feature_names_in_``
        before later checks can still fail, and a kept net trains in place;
        a failed fit must leave a fitted model as it was.
        """
        names = [*self._fitted_attributes, *self._net_attributes]
        saved = {name: vars(self)[name] for name in names if name in vars(self)}
        try:
            yield
        except BaseException:
            for name in names:
                vars(self).pop(name, None)
            vars(self).update(saved)
            raise

    def _warn_if_dropout_has_no_effect(self):
        if (
            self.dropout > 0
            and len(check_hidden_layer_sizes(self.hidden_layer_sizes)) == 1
        ):
            warnings.warn(
                f"dropout={self.dropout} has no effect with a single LSTM layer: "
                "dropout applies between layers. Add a layer to "
                "hidden_layer_sizes, or set dropout=0.",
                UserWarning,
                stacklevel=5,  # 1 here, _train, fit, _fit_context, the caller
            )

    def _warn_about_training(self, net, *, incremental, epochs_before):
        """Warn if training was cut short (Ctrl-C) or long (not converged)."""
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
            stacklevel=6,  # 1 here, _warn_about_training, _train, fit,
            # _fit_context, the caller
        )

    def _predict_network(self, X):
        """The network's outputs for ``X``, validated and scaled.

        Returns the outputs (a float32 array), the fitted scaling and the
        reference that maps them back (see ``_scaling``).
        """
        check_is_fitted(self)
        check_real_dtype(X, estimator_name=type(self).__name__)
        check_n_timesteps(self, X)
        X = validate_data(
            self, X, reset=False, copy=self.scaling is not None, **VALIDATE_DATA
        )
        sequences, padded = check_sequences(
            X, n_channels=self._n_channels, estimator_name=type(self).__name__
        )
        return self._network_outputs(sequences, padded=padded)

    def _network_outputs(self, sequences, *, padded):
        """``_predict_network`` for a checked float32 tensor, scaled in place."""
        scaling = self._fitted_scaling()
        reference = scaling.scale_sequences_(sequences, padded=padded)
        return self.net_.predict_outputs(sequences), scaling, reference

    def _fitted_scaling(self):
        """The fitted scaling object, rebuilt from the fitted attributes."""
        return SCALINGS[self.scaling_].from_attributes(
            vars(self),
            n_channels=self._n_channels,
            n_outputs=getattr(self, "n_outputs_", None),
        )

    def save(self, path, *, key=None):
        """Save the fitted estimator to one safetensors file; see :meth:`load`.

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
            If the estimator is not fitted.
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
        name = type(self).__name__
        if self.callbacks is not None:
            raise ValueError(
                f"Cannot save a {name} whose callbacks parameter is not None: "
                "skorch callbacks are arbitrary Python objects that this format "
                "does not store (it never runs code on load). Set "
                "callbacks=None with set_params before saving, or use pickle or "
                "joblib, which store them but must only load trusted files."
            )
        state = self.__getstate__()
        del state["params"]["callbacks"]
        save_state(state, path, key=key, estimator_class=type(self))

    @classmethod
    def load(cls, path, *, key=None):
        """Load an estimator written by :meth:`save`; predictions are identical.

        Nothing in the file is executed, and reading it is bounded: only a
        regular file (or a link to one) of at most 1 GiB is read, and its
        contents are checked against the limits below before anything of
        the size they describe is built.

        Parameters
        ----------
        path : str or path-like
            File written by :meth:`save` of this class.
        key : bytes or str, default=None
            The key the file was saved with, if any. A file saved with a key
            loads only with that key, and one saved without a key only
            without one.

        Returns
        -------
        estimator : object
            The fitted estimator, of this class, with its net on the device
            named by its ``device`` parameter (on the CPU, with a
            ``DeviceWarning``, when ``device="cuda"`` but CUDA is not
            available).

        Raises
        ------
        ValueError
            If the file is not a regular file, is larger than 1 GiB, is
            empty, truncated, corrupted or not a safetensors file; was not
            written by :meth:`save` of this class; has a format version
            this version cannot read; does not match its checksum, or its
            key; or holds missing, extra, invalid or inconsistent
            parameters, attributes, weights (NaN or infinite ones included)
            or history, or exceeds a limit.
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
        state = load_state(path, key=key, estimator_class=cls)
        estimator = cls.__new__(cls)
        try:
            # The weights that load_state read are views of the file's
            # bytes, held by nothing else: the net shares them, so that a
            # load holds one copy of the weights.
            _state.set_state(estimator, state, share_weights=True)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        return estimator

    def __getstate__(self):
        """The state that pickle, skops and :meth:`save` store (see ``_state``).

        Plain Python values and numpy arrays only: no torch or skorch
        object, so that it loads on any device and skops can read it.
        """
        return _state.get_state(self)

    def __setstate__(self, state):
        """Restore the state of :meth:`__getstate__`, checking it first.

        Raises a ``ValueError`` naming the problem if the state is invalid,
        and warns if another version of sklearn_slstm made it.
        """
        _state.set_state(self, state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        # NaN marks padding: sequences of different lengths.
        tags.input_tags.allow_nan = True
        return tags

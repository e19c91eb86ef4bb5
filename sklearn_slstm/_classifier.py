"""StackedLSTMClassifier: sequence classification on the shared base."""

import numpy as np
from scipy.special import log_softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
)

from . import _state
from ._base import BaseStackedLSTM
from ._module import HEADS
from ._onnx import export_onnx
from ._scaling import SCALINGS
from ._training import CLASSIFICATION
from ._validation import as_tensor


class StackedLSTMClassifier(ClassifierMixin, BaseStackedLSTM):
    """Sequence classifier built from a stack of LSTM layers.

    Each row of ``X`` is a sequence with one class label. The sequence runs
    through one LSTM layer per entry of ``hidden_layer_sizes``, each reading
    the full output sequence of the layer below, and a linear layer maps
    what ``head`` reads of the last layer's outputs to one logit per class;
    the softmax of the logits gives the class probabilities. Training
    minimises the cross-entropy through a skorch
    :class:`~skorch.NeuralNetClassifier`, kept after fitting as ``net_``.
    It shares its parameters, training and persistence with
    :class:`StackedLSTMRegressor` through ``BaseStackedLSTM``.

    Parameters
    ----------
    scaling : {"auto", "window", "global"} or None, default="auto"
        How sequences are scaled before they reach the network.

        - "auto": "global". The labels are not continuations of the
          sequences, for which the regressor's "auto" picks "global" too,
          and a sequence's level or amplitude may be what tells the classes
          apart, which "window" would erase.
        - "window": each sequence is standardised by its own mean and
          standard deviation over its observed steps, per channel. Suited
          to classes that differ in shape only, in series at any level and
          scale.
        - "global": one mean and standard deviation per channel of ``X``,
          fitted on the training data (``x_mean_``, ``x_scale_``), as
          :class:`~sklearn.preprocessing.StandardScaler` would.
        - None: the raw values.
    head : {"pool", "last"}, default="pool"
        What the linear head reads of the last LSTM layer's outputs:

        - "pool": the mean and the maximum of each output unit over the
          observed steps, concatenated; every step counts.
        - "last": the output at the last observed step (for a
          bidirectional layer, each direction's final state), as the
          regressor reads it.

        Padding is never read by either. See the user guide for the
        measurements behind the default.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied with ``sample_weight``: a dict
        ``{label: weight}`` (classes it omits weigh 1), or "balanced",
        ``n_samples / (n_classes * np.bincount(y))`` with the counts
        weighted by ``sample_weight``, as
        :func:`~sklearn.utils.class_weight.compute_class_weight` computes
        it. Not "balanced" with :meth:`partial_fit`: one batch's class
        frequencies are not those of the whole data.
    hidden_layer_sizes : array-like of int, default=(64,)
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
        straight to the logits, added to the head's: a skip connection past
        the recurrent layers, with which the network starts from a linear
        model of the sequence.
    loss : {"log_loss"}, default="log_loss"
        Loss minimised during training: the cross-entropy of the softmax of
        the logits.
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default="adam"
        The torch optimizer, with its default settings except the learning
        rate.
    learning_rate_init : float, default=0.01
        Initial learning rate; with ``learning_rate="onecycle"`` the peak
        learning rate.
    learning_rate : {"constant", "onecycle", "cosine"}, default="onecycle"
        Learning rate schedule, stepped after every batch over the
        ``max_iter`` epochs of a fit; see :class:`StackedLSTMRegressor`.
    batch_size : int, default=16
        Sequences per mini-batch.
    max_iter : int, default=100
        Maximum number of epochs (passes over the training data).
    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data,
        stratified by class, and stop when the validation loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs; the weights of
        the best epoch are then restored. See :class:`StackedLSTMRegressor`
        for the rules of the one-cycle warm-up and of training plateaus.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=10
        Number of epochs without improvement by ``tol`` before training stops.
    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as improvement.
    gradient_clip : float or None, default=None
        If given, the gradient's total norm is clipped to this value before
        every optimizer step.
    warm_start : bool, default=False
        If True, ``fit`` continues from the weights of the previous fit
        (the architecture, input shape and classes must be unchanged).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split; an int gives identical results across calls, also in
        concurrent threads.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and predict. "auto" uses CUDA when it is available.
    callbacks : list of skorch callbacks or None, default=None
        Extra :mod:`skorch.callbacks` for the net, copied at each fit.
    verbose : int, default=0
        If positive, print a line per epoch with the losses and time.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    net_ : skorch.NeuralNetClassifier
        The fitted net; ``net_.module_`` is the torch module and
        ``net_.history`` the training history.
    n_features_in_ : int
        Number of time steps of each sequence seen during :term:`fit`.
    scaling_ : {"window", "global"} or None
        The scaling of the fit: ``scaling``, or the choice of "auto".
    x_mean_, x_scale_ : ndarray of shape (n_channels,)
        Mean and scale of each channel of the training sequences. Defined
        only when ``scaling_="global"``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when ``X``
        has feature names that are all strings.
    loss_curve_ : list of float
        Training loss (cross-entropy) at the end of each epoch.
    best_loss_ : float or None
        The lowest training loss reached; None if training was interrupted
        before its first epoch completed.
    validation_scores_ : list of float or None
        Accuracy on the held-out validation data after each epoch; None
        unless ``early_stopping=True``.
    best_validation_score_ : float or None
        The entry of ``validation_scores_`` of the epoch whose weights were
        kept (the lowest validation loss). None unless
        ``early_stopping=True``.
    n_iter_ : int
        Number of epochs run, across warm starts.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Feed-forward network classifier.
    StackedLSTMRegressor : The regressor of the family.

    Notes
    -----
    Binary and multiclass targets of any label type (strings, integers,
    booleans) are supported; the network has one output per class in both
    cases. Multilabel and multioutput targets (2D ``y`` of more than one
    column) raise a ``ValueError``: one label per sequence is the task
    this head and loss are built for, and
    :class:`~sklearn.multioutput.MultiOutputClassifier` fits one
    classifier per output where several are needed.

    ``sample_weight`` (times the class weights) weighs each sample's loss,
    so ``loss_curve_`` is a weighted mean and ``validation_scores_`` a
    weighted accuracy; samples of weight 0 change nothing at all.

    Sequences of different lengths are padded with NaN, before or after
    each one's observed steps (:func:`pad_sequences`); the padding never
    reaches the LSTM layers or the head, so a sequence's probabilities do
    not depend on how much padding surrounds it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_slstm import StackedLSTMClassifier
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(20)
    >>> y = rng.choice(["slow", "fast"], size=200)
    >>> frequency = np.where(y == "slow", 0.1, 0.3)[:, np.newaxis]
    >>> X = np.sin(2 * np.pi * frequency * t + rng.uniform(0, 6, (200, 1)))
    >>> clf = StackedLSTMClassifier(
    ...     hidden_layer_sizes=(8,), max_iter=5, random_state=0
    ... ).fit(X, y)
    >>> clf.classes_.tolist()
    ['fast', 'slow']
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    _parameter_constraints = {
        **BaseStackedLSTM._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFICATION.losses))],
        "head": [StrOptions(set(HEADS))],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    _task = CLASSIFICATION
    _fitted_attributes = {
        **BaseStackedLSTM._fitted_attributes,
        "classes_": _state.class_labels,
    }
    _y_numeric = False

    def __init__(
        self,
        *,
        scaling="auto",
        head="pool",
        class_weight=None,
        hidden_layer_sizes=(64,),
        dropout=0.0,
        bidirectional=False,
        linear_skip=True,
        loss="log_loss",
        optimizer="adam",
        learning_rate_init=0.01,
        learning_rate="onecycle",
        batch_size=16,
        max_iter=100,
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
        self.head = head
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on sequences ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, n_channels)
            Training sequences, one per row; 2D means one channel.
            Sequences of different lengths are NaN-padded (see
            :func:`pad_sequences`).
        y : array-like of shape (n_samples,)
            Class labels, of at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples, multiplied with the class
            weights; None weighs each sample 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # Not super().fit: warnings name the caller's line, one frame up.
        return self._train(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train for one epoch on ``X`` and ``y``, continuing from the current state.

        As :meth:`StackedLSTMRegressor.partial_fit`, with the classes of the
        whole stream given on the first call, as for
        :meth:`~sklearn.neural_network.MLPClassifier.partial_fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, n_channels)
            Training sequences with the shape of earlier calls.
        y : array-like of shape (n_samples,)
            Class labels, each one of ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None weighs each sample 1.
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream. Required on the first call (before
            any fit); later calls may omit it, or must repeat it.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        self._check_incremental(classes=classes)
        return self._train(X, y, sample_weight, incremental=True, classes=classes)

    def _check_incremental(self, classes=None):
        super()._check_incremental()
        if classes is None and not hasattr(self, "net_"):
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: the "
                "class frequencies of one batch are not those of the whole "
                "data. Pass a dict, for example from "
                "sklearn.utils.class_weight.compute_class_weight over all labels."
            )

    def _labels(self, y, *, warn):
        """``y`` as a 1D array of class labels; a ValueError for other targets."""
        if y.ndim == 2 and y.shape[1] != 1:
            raise ValueError(
                f"y has shape {y.shape}: {type(self).__name__} takes one class "
                "label per sequence (1D y). Multilabel and multioutput targets "
                "are not supported; wrap the classifier in "
                "sklearn.multioutput.MultiOutputClassifier for one model per "
                "output."
            )
        labels = column_or_1d(y, warn=warn)
        check_classification_targets(labels)
        return labels

    def _check_targets(self, y, *, reset, classes=None):
        """Class indices of ``y`` as a tensor, and the fitted ``classes_``.

        ``classes`` are those passed to :meth:`partial_fit`; a new fit
        otherwise takes the labels of ``y``.
        """
        labels = self._labels(y, warn=True)
        name = type(self).__name__
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if not reset and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()!r:.200} is not the same as the "
                    f"classes_ {self.classes_.tolist()!r:.200} of the fitted model."
                )
        elif reset:
            classes = np.unique(labels)
        else:
            classes = self.classes_
        if reset and len(classes) < 2:
            raise ValueError(
                f"{name} needs samples of at least 2 classes in the data; got "
                f"1 class, {classes.tolist()!r:.100}."
            )
        unknown = np.setdiff1d(labels, classes)
        if len(unknown):
            raise ValueError(
                f"y holds labels that are not among the classes "
                f"{classes.tolist()!r:.200}: {unknown.tolist()!r:.200}."
            )
        encoded = np.searchsorted(classes, labels).astype(np.int64)
        return as_tensor(encoded), {"classes_": classes}

    def _sample_weight(self, y, sample_weight, *, reset, classes=None):
        """``sample_weight`` times the weight of each sample's class."""
        if self.class_weight is None:
            return sample_weight
        labels = self._labels(y, warn=False)
        sample_weight = _check_sample_weight(
            sample_weight, labels, dtype=np.float64, ensure_non_negative=True
        )
        # Only the samples that count: a class of zero total weight gets none.
        counted = sample_weight > 0
        present = np.unique(labels[counted])
        if len(present) == 0:
            return sample_weight
        index = np.searchsorted(present, labels[counted])
        if isinstance(self.class_weight, str):
            # "balanced": compute_class_weight's n_samples / (n_classes *
            # bincount(y)) with the counts weighted by sample_weight, which
            # its own sample_weight argument (newer than scikit-learn 1.6)
            # computes the same way.
            counts = np.bincount(index, weights=sample_weight[counted])
            class_weight = counts.sum() / (len(present) * counts)
        else:
            class_weight = compute_class_weight(
                self.class_weight, classes=present, y=labels[counted]
            )
        weights = np.zeros_like(sample_weight)
        weights[counted] = sample_weight[counted] * class_weight[index]
        return weights

    def _new_scaling(self, sequences, targets, *, padded):
        if self.scaling == "auto":
            return SCALINGS["global"]()
        return super()._new_scaling(sequences, targets, padded=padded)

    def _n_network_outputs(self, attributes):
        return len(attributes["classes_"])

    def predict_log_proba(self, X):
        """Log of the class probabilities of sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, n_channels)
            Sequences with the shape seen during :meth:`fit`, NaN-padded
            where they are shorter.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probabilities, float64, in the order of ``classes_``.
        """
        logits, _, _ = self._predict_network(X)
        if not np.isfinite(logits).all():
            raise ValueError(
                "The network's outputs are NaN or infinite: its weights "
                "overflowed. Refit with a lower learning_rate_init or a "
                "gradient_clip."
            )
        return log_softmax(logits.astype(np.float64), axis=1)

    def predict_proba(self, X):
        """Class probabilities of sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, n_channels)
            Sequences with the shape seen during :meth:`fit`, NaN-padded
            where they are shorter.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probabilities, float64, in the order of ``classes_``; each
            row sums to 1.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """Predict the class of each sequence of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, n_channels)
            Sequences with the shape seen during :meth:`fit`, NaN-padded
            where they are shorter.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The most probable class of each sequence, among ``classes_``.
        """
        log_proba = self.predict_log_proba(X)
        return self.classes_[log_proba.argmax(axis=1)]

    def save(self, path, *, key=None):
        """Save the fitted classifier to one safetensors file; see :meth:`load`.

        As :meth:`StackedLSTMRegressor.save`. A ``class_weight`` dict must
        have string keys, the only keys that the file's JSON holds as they
        are: set the weights of other labels with ``set_params`` first, or
        use pickle or skops.

        Parameters
        ----------
        path : str or path-like
            File to write, conventionally ``*.safetensors``.
        key : bytes or str, default=None
            A secret key for an HMAC-SHA256 checksum.
        """
        if isinstance(self.class_weight, dict) and not all(
            isinstance(label, str) for label in self.class_weight
        ):
            raise ValueError(
                "Cannot save a class_weight dict with keys other than strings: "
                "JSON, in which the file stores the parameters, turns every "
                "key into a string. Use pickle or skops, or set_params("
                "class_weight=None) before saving (the fitted weights keep it)."
            )
        super().save(path, key=key)

    def to_onnx(self, path):
        """Export the fitted model's class probabilities to an ONNX file.

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
        n_channels), always 3D, with a dynamic batch size, and NaN-padded
        for sequences of different lengths, as for :meth:`predict_proba`.
        Its output ``"probabilities"`` is float32 of shape (batch,
        n_classes), in the order of ``classes_``, which the graph does not
        hold: the most probable class is ``classes_[argmax]``.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import numpy as np
        >>> import onnxruntime
        >>> from sklearn_slstm import StackedLSTMClassifier
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(60, 8))
        >>> y = X.sum(axis=1) > 0
        >>> clf = StackedLSTMClassifier(
        ...     hidden_layer_sizes=(4,), max_iter=1, random_state=0
        ... ).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = clf.to_onnx(pathlib.Path(folder) / "model.onnx")
        ...     session = onnxruntime.InferenceSession(str(path))
        >>> X_new = X[:5, :, np.newaxis].astype(np.float32)
        >>> (proba,) = session.run(None, {"X": X_new})
        >>> bool(np.allclose(proba, clf.predict_proba(X[:5]), atol=1e-5))
        True
        """
        check_is_fitted(self)
        return export_onnx(
            self.net_.module_,
            path,
            scaling=self._fitted_scaling(),
            n_timesteps=self.n_features_in_,
            n_channels=self._n_channels,
            n_outputs=len(self.classes_),
            probabilities=True,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = False
        return tags

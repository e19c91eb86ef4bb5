"""The skorch net that trains the module: batching, schedules and callbacks.

Nothing here knows about scikit-learn estimators; an estimator hands over
its parameters as a plain dict (``get_params``), the data's shape, and
validated float32 tensors. What differs between tasks (the skorch base
class, the losses, the validation score) is one ``Task`` per kind of
estimator.
"""

import contextlib
import copy
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import accuracy_score, r2_score
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import (
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    LRScheduler,
    PassthroughScoring,
    PrintLog,
)
from skorch.dataset import Dataset, get_len, unpack_data
from skorch.exceptions import DeviceWarning
from skorch.utils import to_tensor
from torch import nn

from ._module import SeededDropout, StackedLSTM
from ._validation import check_hidden_layer_sizes

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
}

SCHEDULES = {
    "constant": None,
    "onecycle": torch.optim.lr_scheduler.OneCycleLR,
    "cosine": torch.optim.lr_scheduler.CosineAnnealingLR,
}

# Prediction runs in batches of at most this many rows, which bounds its
# memory whatever the number of rows.
INFERENCE_BATCH_SIZE = 512
# CPU kernels round a row's products differently for different batch sizes
# (matrix-vector products for one row, other blockings for a few), so that
# a row predicted alone can differ from the same row in a batch in its last
# bits. Batches whose size is a multiple of 4 gave every row bit-identical
# outputs: all 256 multiples of 4 up to 1,024 rows, on 108 modules (7 to
# 50 steps, 1 or 3 channels, 16 to 128 units, one or two layers, 1 to 12
# outputs, bidirectional or not, padded rows among them) with one thread
# and with two, where 368 of 400 modules differed for a lone row and up to
# 293 for batches of 2, 3, 5, 6, 7, 9, 10, 11 rows. So every prediction
# batch is padded with rows of zeros to a multiple of this many rows: a
# row costs at most 3 more, not a whole batch, and predicts the same alone
# as in any batch.
INFERENCE_BLOCK = 4


class TensorBatches:
    """Mini-batches of a skorch ``Dataset`` of tensors, made by slicing.

    Slicing whole tensors avoids the per-sample indexing and collation of a
    ``DataLoader``. Shuffling draws one permutation per epoch from
    ``generator``; each batch is a copy of its rows only, so an epoch never
    copies the whole data. The dataset's ``X`` is a tensor or a dict of
    tensors with the same rows (sequences and sample weights).

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds ``X`` and the tensor ``y`` (``y`` may be None).
    batch_size : int
        Rows per batch; the last batch may be smaller.
    shuffle : bool, default=False
        Whether to visit the rows in a new random order each epoch.
    generator : torch.Generator or None, default=None
        Source of the permutations; None means torch's global generator.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        n_samples = len(self.dataset)
        order = (
            torch.randperm(n_samples, generator=self.generator)
            if self.shuffle
            else None
        )
        for start in range(0, n_samples, self.batch_size):
            rows = (
                slice(start, start + self.batch_size)
                if order is None
                else order[start : start + self.batch_size]
            )
            yield take_rows(X, rows), None if y is None else y[rows]


def pad_rows(batch):
    """``batch``, contiguous, with rows of zeros to a multiple of ``INFERENCE_BLOCK``.

    Contiguous because kernels round differently for other memory layouts
    (a Fortran-ordered or strided ``X``), which must predict as a copy does.
    """
    missing = -len(batch) % INFERENCE_BLOCK
    if not missing:
        return batch.contiguous()
    return torch.cat([batch, batch.new_zeros((missing, *batch.shape[1:]))])


def take_rows(X, rows):
    """The ``rows`` of a tensor, or of each tensor of a dict of tensors."""
    if isinstance(X, Mapping):
        return {name: values[rows] for name, values in X.items()}
    return X[rows]


# The escape sequences with which skorch colours the best values.
_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class EpochLog(PrintLog):
    """skorch's table of epochs, coloured only on a terminal.

    skorch colours the best values always, which leaves escape codes in
    logs, pipes and files. Colour also stays off when the ``NO_COLOR``
    environment variable is set (https://no-color.org).
    """

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        return text if colour_wanted() else _ANSI_COLOUR.sub("", text)


def colour_wanted():
    """Whether standard output is a terminal and ``NO_COLOR`` is unset."""
    isatty = getattr(sys.stdout, "isatty", None)
    return not os.environ.get("NO_COLOR") and isatty is not None and isatty()


class SequenceNetMixin:
    """What the net of every estimator adds to skorch's net.

    Mixed in before a skorch net class (see ``SequenceRegressorNet``); the
    net then predicts in batches of a fixed size, takes sample weights,
    draws from random generators it owns, and stops with a clear error
    when training diverges.

    Prediction batches are padded with zeros to a multiple of
    ``INFERENCE_BLOCK`` rows, and the padding's outputs are dropped. The table of
    epochs is an ``EpochLog``.
    A NaN or infinite loss stops training with a clear error before the
    optimizer step, so the weights never take a non-finite update.

    Training data comes as ``X=sequences``, or as
    ``X={"X": sequences, "sample_weight": weights}`` with sample weights:
    each batch's loss is the weighted mean of its rows' losses, and epochs
    average batches by their total weight (``WeightedPassthroughScoring``).
    Prediction takes the sequences alone.

    Inside :meth:`random_draws_from`, every random draw (the module's
    initial weights, the validation split, shuffling, dropout masks) comes
    from generators owned by that block, never from torch's process-wide
    generator: fits in different threads neither disturb each other nor
    the random streams of other code.
    """

    # Set only inside random_draws_from; None draws from the global generator.
    _generator = None
    _device_generator = None
    # Set only inside restoring_weights: the module's checked saved weights.
    _restored_weights = None

    @contextlib.contextmanager
    def random_draws_from(self, seed):
        """Draw the block's random numbers from generators seeded with ``seed``.

        One CPU generator serves the initial weights, the validation split
        and shuffling, in that order; dropout masks come from a generator on
        the net's device (the same one on the CPU). The generators are
        dropped afterwards, so the net pickles without them.
        """
        self._generator = torch.Generator().manual_seed(seed)
        device = torch.device(self.device)
        self._device_generator = (
            self._generator
            if device.type == "cpu"
            else torch.Generator(device=device).manual_seed(seed)
        )
        self._set_dropout_generator(self._device_generator)
        try:
            yield self
        finally:
            self._set_dropout_generator(None)
            del self._generator, self._device_generator

    def _set_dropout_generator(self, generator):
        module = getattr(self, "module_", None)
        if isinstance(module, nn.Module):
            for layer in module.modules():
                if isinstance(layer, SeededDropout):
                    layer.generator = generator

    @contextlib.contextmanager
    def restoring_weights(self, weights):
        """Initialise the block's module with ``weights``, drawing none.

        ``weights`` maps the names of the module's state dict to CPU tensors
        of the right shapes, already checked; the module's parameters become
        those tensors (sharing their memory), so that restoring a saved
        model neither draws initial weights nor holds a second copy.
        """
        self._restored_weights = weights
        try:
            yield self
        finally:
            del self._restored_weights

    def initialize_module(self):
        """Build the module without drawing from torch's global generator.

        ``torch.nn.LSTM`` initialises its weights in its constructor from the
        global generator; built on the meta device it draws nothing, and its
        weights are then drawn from the fit's generator on the CPU (so a
        seed gives the same initial weights on every device). Inside
        :meth:`restoring_weights` they are the restored weights instead: an
        initialisation would be overwritten at once (the orthogonal one of a
        4000-unit layer takes most of a minute).
        """
        with torch.device("meta"):
            super().initialize_module()
        if self._restored_weights is not None:
            self.module_.load_state_dict(self._restored_weights, assign=True)
        else:
            self.module_.to_empty(device="cpu")
            self.module_.reset_parameters(generator=self._generator)
        self._set_dropout_generator(self._device_generator)
        return self

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset = self.get_dataset(X, y)
        if not self.train_split:
            return dataset, None
        return self.train_split(dataset, generator=self._generator)

    def get_iterator(self, dataset, training=False):
        batches = super().get_iterator(dataset, training=training)
        if training:
            batches.generator = self._generator
        return batches

    def _set_training(self, training=True):
        # skorch sets the mode before every batch, and torch's train() walks
        # every submodule: 3% of a fit of the reference configuration. Only
        # a change of mode needs the walk. (An override of skorch's own
        # helper, whose signature has been stable since skorch 0.x.)
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, nn.Module) and module.training != training:
                module.train(training)

    def infer(self, x, **fit_params):
        # Training batches carry the sample weights next to the sequences.
        if isinstance(x, Mapping):
            x = x["X"]
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The batch's loss: the sample-weighted mean of the rows' losses.

        The criterion is built with ``reduction="none"``; each row's loss is
        the mean over its outputs. Without weights (``X`` a tensor) every
        row weighs 1.
        """
        losses = super().get_loss(y_pred, y_true, X=X, training=training)
        if not isinstance(X, Mapping):
            # Rows have equally many outputs: the mean of the row means.
            return losses.mean()
        row_losses = losses.reshape(len(losses), -1).mean(dim=1)
        weight = to_tensor(X["sample_weight"], device=self.device)
        return (row_losses * weight).sum() / weight.sum()

    def _record_batch_weight(self, batch, prefix):
        """Record a weighted batch's total sample weight, by which epochs average."""
        Xi = batch[0]
        if isinstance(Xi, Mapping):
            weight = float(Xi["sample_weight"].sum())
            self.history.record_batch(f"{prefix}_weight", weight)

    def validation_step(self, batch, **fit_params):
        self._record_batch_weight(batch, "valid")
        return super().validation_step(batch, **fit_params)

    def train_step_single(self, batch, **fit_params):
        self._record_batch_weight(batch, "train")
        step = super().train_step_single(batch, **fit_params)
        # A Python float check: torch.isfinite on a 0-d tensor costs ~10x
        # more per batch.
        loss = step["loss"].item()
        if not math.isfinite(loss):
            epoch = len(self.history)
            n_batch = len(self.history[-1, "batches"])
            raise ValueError(
                f"Training diverged: the loss became {loss} in epoch {epoch}, "
                f"batch {n_batch}. Lower learning_rate_init, set gradient_clip, "
                "or scale X and y."
            )
        return step

    @property
    def _default_callbacks(self):
        replacements = {
            "print_log": EpochLog(),
            "train_loss": WeightedPassthroughScoring(name="train_loss", on_train=True),
            "valid_loss": WeightedPassthroughScoring(name="valid_loss"),
        }
        return [
            (name, replacements.get(name, callback))
            for name, callback in super()._default_callbacks
        ]

    def evaluation_step(self, batch, training=False):
        Xi, yi = unpack_data(batch)
        if isinstance(Xi, Mapping):
            Xi = Xi["X"]
        n_rows = len(Xi)
        Xi = pad_rows(Xi)
        return super().evaluation_step((Xi, yi), training=training)[:n_rows]

    def check_finite_weights(self):
        """A ValueError if an optimizer step made a weight NaN or infinite.

        The loss is checked before every step (``train_step_single``), which
        catches a step that broke the weights at the next batch; this
        catches the last step of a fit, which no later loss reads.
        """
        broken = sorted(
            name
            for name, param in self.module_.named_parameters()
            if not torch.isfinite(param).all()
        )
        if broken:
            raise ValueError(
                f"Training diverged: the last optimizer step made the weights "
                f"{broken} NaN or infinite. Lower learning_rate_init, set "
                "gradient_clip, or scale X and y."
            )

    def predict_outputs(self, sequences):
        """The module's outputs for a float32 CPU tensor of ``sequences``.

        What ``predict_proba`` computes for a regressor, without skorch's
        per-call machinery (datasets, iterators, callbacks), which costs
        several times the forward pass of a few rows: in evaluation mode,
        without autograd, in batches of ``INFERENCE_BATCH_SIZE`` rows,
        padded as ``evaluation_step`` pads them. Returns a float32
        array on the CPU.
        """
        module = self.module_
        if module.training:
            # skorch puts the module back in training mode when it trains.
            module.eval()
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(sequences), INFERENCE_BATCH_SIZE):
                batch = sequences[start : start + INFERENCE_BATCH_SIZE]
                padded = pad_rows(batch.to(self.device))
                outputs.append(module(padded)[: len(batch)].to("cpu"))
            return torch.cat(outputs).numpy()


class WeightedPassthroughScoring(PassthroughScoring):
    """An epoch's loss: its batches' losses averaged by their sample weight.

    skorch averages by the number of rows per batch; weighting by each
    batch's total sample weight makes the epoch's loss the weighted mean
    over all its rows, as each batch's loss is over its own rows. Without
    sample weights (none recorded), the rows count, as in skorch.
    """

    def get_avg_score(self, history):
        prefix = "train" if self.on_train else "valid"
        batches = history[-1, "batches"]
        weighted = any(f"{prefix}_weight" in batch for batch in batches)
        key = f"{prefix}_weight" if weighted else f"{prefix}_batch_size"
        weights, scores = zip(*history[-1, "batches", :, [key, self.name]], strict=True)
        return float(np.average(scores, weights=weights))


def _validation_weights(dataset):
    """The sample weights of a validation ``Dataset`` as an array, or None."""
    weight = dataset.X["sample_weight"] if isinstance(dataset.X, Mapping) else None
    return None if weight is None else weight.numpy()


def weighted_r2(net, dataset, y):
    """R^2 of ``net`` on a validation ``Dataset``, weighted by its sample weights.

    A skorch ``EpochScoring`` scoring function; ``y`` are the targets of
    ``dataset``, in order. The predictions of a quantile net are its
    medians.
    """
    y_pred = net.predict(dataset)
    if isinstance(net.criterion_, PinballLoss):
        y_pred = net.criterion_.medians(y_pred)
    return r2_score(y, y_pred, sample_weight=_validation_weights(dataset))


def weighted_accuracy(net, dataset, y):
    """Accuracy of ``net`` on a validation ``Dataset``, weighted by its sample weights.

    ``weighted_r2`` for a classifier: ``y`` are the encoded classes.
    """
    return accuracy_score(
        y, net.predict(dataset), sample_weight=_validation_weights(dataset)
    )


class PinballLoss(nn.Module):
    """The pinball (quantile) loss of several quantiles of every target.

    The network's outputs hold one block of ``n_outputs`` columns per
    quantile, in the order of ``quantiles``: column ``k * n_outputs + j``
    is quantile ``quantiles[k]`` of target ``j``. The loss of a residual
    ``r = y - q`` at level ``tau`` is ``max(tau * r, (tau - 1) * r)``, whose
    expectation is smallest at the ``tau``-quantile of ``y``.

    Parameters
    ----------
    quantiles : sequence of float
        The levels, in (0, 1); 0.5 is among them.
    reduction : {"none", "mean"}, default="mean"
        "none" returns the loss of every (row, quantile, target), one row
        per sample; "mean" their mean.
    """

    def __init__(self, quantiles, reduction="mean"):
        super().__init__()
        self.quantiles = tuple(quantiles)
        self.reduction = reduction
        self.register_buffer(
            "levels", torch.tensor(self.quantiles).reshape(1, -1, 1), persistent=False
        )

    def forward(self, y_pred, y_true):
        residuals = y_true.unsqueeze(1) - y_pred.reshape(
            len(y_pred), len(self.quantiles), -1
        )
        losses = torch.maximum(self.levels * residuals, (self.levels - 1) * residuals)
        losses = losses.flatten(1)
        return losses if self.reduction == "none" else losses.mean()

    def medians(self, y_pred):
        """The columns of ``y_pred`` (a 2D array) that hold the medians."""
        n_outputs = y_pred.shape[1] // len(self.quantiles)
        start = self.quantiles.index(0.5) * n_outputs
        return y_pred[:, start : start + n_outputs]


class PicklableLRScheduler(LRScheduler):
    """skorch's ``LRScheduler``, pickled without its torch scheduler.

    The torch scheduler holds the optimizer, whose CUDA tensors would be
    pickled outside skorch's device mapping, so a model fitted on a GPU could
    not be unpickled on a CPU-only machine (fixed in skorch after 1.4).
    ``on_train_begin`` builds a new scheduler anyway.
    """

    def __getstate__(self):
        state = self.__dict__.copy()
        state["lr_scheduler_"] = None
        return state


class ValidationSplit:
    """Hold out a random ``validation_fraction`` of the rows for validation.

    A skorch ``train_split``; ``SequenceNetMixin`` passes the fit's
    generator. At least one row is held out, and at least one must be left.

    With ``stratify``, the targets are class indices and each class gives
    its share of the held-out rows, as in a stratified split: the rows are
    ordered by class (in random order within each) and every
    ``n_samples / n_valid``-th of them is held out, so each class's count
    in the validation rows is within one of its proportional share.
    """

    def __init__(self, validation_fraction, *, stratify=False):
        self.validation_fraction = validation_fraction
        self.stratify = stratify

    def n_train(self, n_samples):
        """The number of rows left for training; a ValueError if none."""
        n_valid = max(1, round(n_samples * self.validation_fraction))
        if n_valid >= n_samples:
            raise ValueError(
                "early_stopping=True needs at least one training sample left "
                "after holding out validation_fraction="
                f"{self.validation_fraction} of n_samples={n_samples}."
            )
        return n_samples - n_valid

    def __call__(self, dataset, y=None, *, generator=None, **fit_params):
        n_samples = len(dataset)
        n_valid = n_samples - self.n_train(n_samples)
        order = torch.randperm(n_samples, generator=generator)
        if self.stratify:
            order = order[torch.argsort(dataset.y[order], stable=True)]
            rank = torch.arange(n_samples)
            held_out = (rank + 1) * n_valid // n_samples > rank * n_valid // n_samples
            valid, train = order[held_out], order[~held_out]
        else:
            valid, train = order[:n_valid], order[n_valid:]
        return (
            Dataset(take_rows(dataset.X, train), dataset.y[train]),
            Dataset(take_rows(dataset.X, valid), dataset.y[valid]),
        )


def resolve_device(device):
    """Map "auto" to "cuda" when available; reject "cuda" without CUDA."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was requested but CUDA is not available; "
            "use device='cpu' or device='auto'."
        )
    return device


# The share of a one-cycle schedule's steps that warm the learning rate up.
ONECYCLE_WARMUP = 0.3


class FitSchedule(PicklableLRScheduler):
    """A learning rate schedule over all the optimizer steps of one fit.

    Stepped after every batch. The number of steps is only known when
    training starts, from the number of training rows (those left after
    the validation split), the batch size and the net's ``max_epochs``; so
    the net can be built, and described, before there is data.

    Parameters
    ----------
    name : {"onecycle", "cosine"}
        A key of ``SCHEDULES`` other than "constant".
    peak_lr : float
        The highest learning rate: one-cycle's peak, cosine's start.
    """

    def __init__(self, name, peak_lr):
        super().__init__(SCHEDULES[name], step_every="batch", event_name=None)
        self.name = name
        self.peak_lr = peak_lr

    @property
    def kwargs(self):
        # The torch scheduler's arguments; skorch passes these on.
        # last_epoch=-1: each fit's schedule starts at its beginning, also
        # after a warm start.
        if self.name == "onecycle":
            return {
                "max_lr": self.peak_lr,
                "total_steps": self.total_steps_,
                "pct_start": ONECYCLE_WARMUP,
                "last_epoch": -1,
            }
        return {"T_max": self.total_steps_, "last_epoch": -1}

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        n_rows = get_len(X)
        if net.train_split:
            n_rows = net.train_split.n_train(n_rows)
        self.total_steps_ = net.max_epochs * math.ceil(n_rows / net.batch_size)
        super().on_train_begin(net, X=X, y=y, **kwargs)


class ScheduledEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping``, counting no miss while the learning rate rises.

    During a one-cycle warm-up the learning rate grows and the loss can
    stall or rise although training is far from done; an epoch of the first
    ``warmup_epochs`` of a fit that does not improve the monitored loss is
    therefore not a miss. An improvement still counts (and, with
    ``load_best``, its weights are kept).

    Parameters
    ----------
    warmup_epochs : int, default=0
        Epochs at the start of each fit whose non-improvements are ignored.
    **kwargs
        Parameters of ``skorch.callbacks.EarlyStopping``.
    """

    def __init__(self, *, warmup_epochs=0, **kwargs):
        super().__init__(**kwargs)
        self.warmup_epochs = warmup_epochs

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.epochs_run_ = 0
        self.stopped_ = False

    def improves(self, score):
        """Whether ``score`` beats the best score so far by the threshold."""
        if self.lower_is_better:
            return score < self.dynamic_threshold_
        return score > self.dynamic_threshold_

    def on_epoch_end(self, net, **kwargs):
        self.epochs_run_ += 1
        warming_up = self.epochs_run_ <= self.warmup_epochs
        if warming_up and not self.improves(net.history[-1, self.monitor]):
            return
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            self.stopped_ = True
            raise


def warmup_epochs(learning_rate, max_epochs):
    """Epochs of a fit (the last one partly) in which the learning rate rises."""
    if learning_rate == "onecycle":
        return math.ceil(ONECYCLE_WARMUP * max_epochs)
    return 0


class SequenceRegressorNet(SequenceNetMixin, NeuralNetRegressor):
    """The net of ``StackedLSTMRegressor``: skorch's regressor, with the mixin."""


class SequenceClassifierNet(SequenceNetMixin, NeuralNetClassifier):
    """The net of ``StackedLSTMClassifier``: skorch's classifier, with the mixin.

    The targets are class indices and the module's outputs logits. skorch's
    default validation accuracy is left out: with early stopping, the
    task's sample-weighted accuracy is recorded instead.
    """

    @property
    def _default_callbacks(self):
        return [
            (name, callback)
            for name, callback in super()._default_callbacks
            if name != "valid_acc"
        ]


@dataclass(frozen=True)
class Task:
    """What the net of one kind of estimator needs beyond its parameters.

    Parameters
    ----------
    net : type
        The skorch net class, a ``SequenceNetMixin`` subclass.
    losses : mapping of str to type
        The torch criterion of each option of the estimator's ``loss``
        parameter; the estimator's constraint is built from its keys.
    score_name : str
        The history key of the validation score recorded with early
        stopping.
    score : callable
        The skorch scoring function ``score(net, dataset, y)`` of that
        validation score.
    stratify : bool, default=False
        Whether the early-stopping validation split is stratified by the
        targets (class indices).
    """

    net: type
    losses: Mapping[str, type]
    score_name: str
    score: Callable
    stratify: bool = False


REGRESSION = Task(
    net=SequenceRegressorNet,
    losses={
        "mae": nn.L1Loss,
        "mse": nn.MSELoss,
        "huber": nn.HuberLoss,
        "quantile": PinballLoss,
    },
    score_name="valid_r2",
    score=weighted_r2,
)

CLASSIFICATION = Task(
    net=SequenceClassifierNet,
    losses={"log_loss": nn.CrossEntropyLoss},
    score_name="valid_accuracy",
    score=weighted_accuracy,
    stratify=True,
)


def build_net(
    params,
    *,
    task,
    n_timesteps,
    n_channels,
    n_outputs,
    device,
    incremental,
    quantiles=None,
):
    """Build the (uninitialised) skorch net for one fit.

    Parameters
    ----------
    params : dict
        The estimator's parameters, as ``get_params(deep=False)`` gives
        them; their meaning is documented on the estimators.
    task : Task
        What the kind of estimator needs (net class, losses, score).
    n_timesteps, n_channels, n_outputs : int
        The data's shape and the network's number of outputs.
    device : str
        A resolved torch device ("cpu", "cuda", ...).
    incremental : bool
        Build the net of ``partial_fit``: one epoch per call at a constant
        learning rate.
    quantiles : sequence of float or None, default=None
        The sorted levels of ``loss="quantile"``: the module then has
        ``n_outputs`` outputs per level, and the criterion their pinball
        loss.

    Notes
    -----
    The training schedule needs no data: a learning rate schedule is sized
    when training starts (``FitSchedule``).

    Stopping follows the schedule: with ``early_stopping`` the validation
    loss is monitored, its misses counted only after a one-cycle warm-up,
    and the best weights restored; without it, the training loss plateau
    stops training only at a constant learning rate. An annealed schedule
    (one-cycle, cosine) ends by design at ``max_iter``, where its learning
    rate reaches zero: stopping on a training plateau before then would stop
    at a high learning rate, the noisiest point of the run.
    """
    learning_rate = "constant" if incremental else params["learning_rate"]
    max_epochs = 1 if incremental else params["max_iter"]
    early_stopping = params["early_stopping"]
    net_callbacks = []
    if early_stopping:
        scoring = EpochScoring(task.score, lower_is_better=False, name=task.score_name)
        net_callbacks.append((task.score_name, scoring))
    if early_stopping or learning_rate == "constant":
        net_callbacks.append(
            (
                "early_stopping",
                ScheduledEarlyStopping(
                    monitor="valid_loss" if early_stopping else "train_loss",
                    patience=params["n_iter_no_change"],
                    threshold=params["tol"],
                    threshold_mode="abs",
                    load_best=early_stopping,
                    warmup_epochs=warmup_epochs(learning_rate, max_epochs),
                    sink=print if params["verbose"] else _silent,
                ),
            )
        )
    if params["gradient_clip"] is not None:
        clipping = GradientNormClipping(gradient_clip_value=params["gradient_clip"])
        net_callbacks.append(("gradient_clip", clipping))
    if learning_rate != "constant":
        schedule = FitSchedule(learning_rate, peak_lr=params["learning_rate_init"])
        net_callbacks.append(("lr_scheduler", schedule))
    # The user's callbacks are copied so that training never mutates them.
    net_callbacks.extend(copy.deepcopy(list(params["callbacks"] or ())))
    quantile_params = (
        {}
        if quantiles is None
        else {"module__quantiles": quantiles, "criterion__quantiles": quantiles}
    )

    return task.net(
        module=StackedLSTM,
        module__input_size=n_channels,
        module__hidden_layer_sizes=tuple(
            check_hidden_layer_sizes(params["hidden_layer_sizes"])
        ),
        module__output_size=n_outputs * (1 if quantiles is None else len(quantiles)),
        module__dropout=params["dropout"],
        module__bidirectional=params["bidirectional"],
        module__linear_skip=params["linear_skip"],
        module__n_timesteps=n_timesteps,
        # Only the classifier has a head parameter; the regressor reads the
        # last step.
        module__head=params.get("head", "last"),
        criterion=task.losses[params["loss"]],
        criterion__reduction="none",
        **quantile_params,
        optimizer=OPTIMIZERS[params["optimizer"]],
        lr=params["learning_rate_init"],
        batch_size=params["batch_size"],
        max_epochs=max_epochs,
        iterator_train=TensorBatches,
        iterator_train__shuffle=True,
        iterator_valid=TensorBatches,
        iterator_valid__batch_size=INFERENCE_BATCH_SIZE,
        train_split=(
            ValidationSplit(params["validation_fraction"], stratify=task.stratify)
            if early_stopping
            else None
        ),
        callbacks=net_callbacks,
        device=device,
        verbose=params["verbose"],
    )


def continue_training(net, previous):
    """Start the initialised ``net`` from the weights and history of ``previous``."""
    weights = previous.module_.state_dict()
    current = net.module_.state_dict()
    if {name: p.shape for name, p in weights.items()} != {
        name: p.shape for name, p in current.items()
    }:
        raise ValueError(
            "Cannot continue training (warm_start=True or partial_fit): the "
            "network shape changed (hidden_layer_sizes, bidirectional, "
            "number of channels or outputs). Use fit with warm_start=False "
            "to start afresh."
        )
    net.module_.load_state_dict(weights)
    # A copy: a failed fit must leave the previous net's history alone.
    net.history = copy.deepcopy(previous.history)


@contextlib.contextmanager
def net_restored_on_error(net):
    """Undo a failed partial_fit of a net that is kept, not rebuilt.

    Its weights, optimizer state and history go back to what they were;
    the estimator's other fitted state is restored by the estimator.
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


def loading_device(requested):
    """The device to restore a net onto: like fit's, CUDA falling back to CPU."""
    if requested == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            "The model was saved with device='cuda' but CUDA is not "
            "available; loading it on the CPU. Its device parameter still says "
            "'cuda': set_params(device='cpu') before fitting it again here.",
            DeviceWarning,
            stacklevel=5,
        )
        return "cpu"
    return resolve_device(requested)


def _silent(*args, **kwargs):
    """A skorch ``sink`` that prints nothing."""

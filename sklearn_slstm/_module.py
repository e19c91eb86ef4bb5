"""The torch module: a stack of LSTM layers and a linear head."""

import torch
from torch import nn

# What the linear head reads of the last layer's output sequence, and how
# many times the layer's width that is: the output at the last observed
# step, or the mean and the maximum over the observed steps, concatenated.
HEADS = {"last": 1, "pool": 2}


class StackedLSTM(nn.Module):
    """A stack of LSTM layers with a linear head on the last step's output.

    With ``head="pool"``, the head reads the mean and the maximum of the
    last layer's outputs over the observed steps instead.

    With ``linear_skip``, a linear layer also maps the whole input sequence
    straight to the outputs, and its result is added to the head's: the
    "highway" of LSTNet (Lai et al., SIGIR 2018), a skip connection past the
    recurrent layers.

    Parameters
    ----------
    input_size : int
        Number of channels of each time step.
    hidden_layer_sizes : sequence of int
        Units of each LSTM layer, first layer first.
    output_size : int
        Number of outputs of the linear head.
    dropout : float, default=0.0
        Dropout probability applied to the sequence between LSTM layers.
    bidirectional : bool, default=False
        Whether each LSTM layer also reads the sequence backwards.
    linear_skip : bool, default=False
        Whether to add the linear skip connection; needs ``n_timesteps``.
    n_timesteps : int or None, default=None
        Length of the input sequences, the skip connection's input size
        (times ``input_size``).
    head : {"last", "pool"}, default="last"
        What the linear head reads (see ``HEADS``): the output at the last
        observed step (for a bidirectional layer, each direction's final
        state), or the mean and the maximum over the observed steps of
        every output unit, concatenated.
    quantiles : sequence of float or None, default=None
        Sorted quantile levels, 0.5 among them: the outputs are then one
        block of ``output_size / len(quantiles)`` per level, built so that
        they never cross (see ``quantile_outputs``).

    Notes
    -----
    The weights are initialised as Keras does, which trains this problem
    much faster than PyTorch's uniform default: Glorot-uniform input
    weights, orthogonal recurrent weights, a forget-gate bias of 1,
    all other biases zero, and a Glorot-uniform head. The skip connection
    starts at zero, so training starts from the LSTM's prediction alone.

    Each layer is its own ``nn.LSTM``, also when the widths are equal and one
    multi-layer ``nn.LSTM`` could hold them all: on the CPU, the fused form
    trained the reference configuration (two layers of 20 units, batch 10)
    only 1% faster, within noise, and would change the names of the saved
    weights. On a GPU, cuDNN fuses the layers, which may be worth measuring.
    """

    def __init__(
        self,
        input_size,
        hidden_layer_sizes,
        output_size,
        dropout=0.0,
        bidirectional=False,
        linear_skip=False,
        n_timesteps=None,
        head="last",
        quantiles=None,
    ):
        super().__init__()
        self.head_reads = head
        self.quantiles = None if quantiles is None else tuple(quantiles)
        if linear_skip and n_timesteps is None:
            raise ValueError("linear_skip=True needs n_timesteps.")
        directions = 2 if bidirectional else 1
        sizes = [input_size, *(units * directions for units in hidden_layer_sizes)]
        self.lstms = nn.ModuleList(
            nn.LSTM(in_size, units, batch_first=True, bidirectional=bidirectional)
            for in_size, units in zip(sizes[:-1], hidden_layer_sizes, strict=True)
        )
        self.dropout = SeededDropout(dropout)
        self.head = nn.Linear(sizes[-1] * HEADS[head], output_size)
        self.skip = (
            nn.Linear(n_timesteps * input_size, output_size, bias=False)
            if linear_skip
            else None
        )
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        """Initialise all weights as Keras does (see the class Notes).

        Parameters
        ----------
        generator : torch.Generator or None, default=None
            Source of the random draws; None means torch's global generator.
        """
        for lstm in self.lstms:
            for name, param in lstm.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(param, generator=generator)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(param, generator=generator)
                else:
                    nn.init.zeros_(param)
                    if name.startswith("bias_ih"):
                        # PyTorch orders the gates input, forget, cell, output.
                        param.data.chunk(4)[1].fill_(1.0)
        nn.init.xavier_uniform_(self.head.weight, generator=generator)
        nn.init.zeros_(self.head.bias)
        if self.skip is not None:
            nn.init.zeros_(self.skip.weight)

    def forward(self, X):
        """Map ``X`` of shape (batch, timesteps, channels) to (batch, outputs).

        Sequences padded with NaN (see ``forward_padded``) take the padded
        path; a batch without padding pays nothing for it.
        """
        observed = ~torch.isnan(X[:, :, 0])
        if not observed.all():
            return self.forward_padded(X, observed)
        sequence = X
        for depth, lstm in enumerate(self.lstms):
            if depth:
                sequence = self.dropout(sequence)
            sequence, (h_n, _) = lstm(sequence)
        if self.head_reads == "pool":
            features = _pool(sequence, lengths=None)
        else:
            # h_n holds each direction's final state: the forward one after
            # the last step, the backward one after reading back to the first.
            features = torch.cat(tuple(h_n), dim=1)
        y = self.head(features)
        if self.skip is not None:
            y = y + self.skip(X.flatten(1))
        return self.quantile_outputs(y)

    def forward_padded(self, X, observed=None):
        """``forward`` for sequences padded with NaN, which no layer reads.

        Each row's observed steps are contiguous and its padded steps NaN in
        every channel, before or after them (``check_padding`` enforces
        this). The observed steps are moved to the start of the row, so that
        the forward direction of each LSTM layer reads them first: its
        outputs up to a row's last observed step never depend on what
        follows, and the head reads the output at that step. The backward
        direction of a bidirectional layer reads each row's observed steps
        reversed, from its own last step. The skip connection reads the
        observed steps at the end of the window, the padding as zeros. The
        result is what the unpadded sequence alone would give, however
        much padding surrounds it; every operation is a tensor operation,
        so the ONNX export traces this path. ``observed``, the mask of
        steps that are not padding, is computed if not given.
        """
        n_timesteps = X.shape[1]
        if observed is None:
            observed = ~torch.isnan(X[:, :, 0])
        lengths = observed.sum(dim=1, keepdim=True)
        first = observed.int().argmax(dim=1, keepdim=True)
        steps = torch.arange(n_timesteps, device=X.device)
        sequence = _masked(
            _gather_steps(X, (first + steps) % n_timesteps), steps < lengths
        )
        # Row i's step t holds its step lengths[i] - 1 - t: the observed part
        # reversed. The same permutation maps backward outputs back in order.
        reverse = (lengths - 1 - steps) % n_timesteps
        for depth, lstm in enumerate(self.lstms):
            if depth:
                sequence = self.dropout(sequence)
            forward_output, _ = _lstm_direction(lstm, sequence, "")
            if lstm.bidirectional:
                backward_output, _ = _lstm_direction(
                    lstm, _gather_steps(sequence, reverse), "_reverse"
                )
                forward_output = torch.cat(
                    [forward_output, _gather_steps(backward_output, reverse)], dim=2
                )
            sequence = forward_output
        if self.head_reads == "pool":
            y = self.head(_pool(sequence, lengths=lengths))
        else:
            # The forward direction ends at each row's last observed step,
            # the backward one at its first, now step 0.
            final = _gather_steps(sequence, lengths - 1)[:, 0]
            if self.lstms[-1].bidirectional:
                units = self.lstms[-1].hidden_size
                final = torch.cat([final[:, :units], sequence[:, 0, units:]], dim=1)
            y = self.head(final)
        if self.skip is not None:
            recent_last = _gather_steps(X, (first + lengths + steps) % n_timesteps)
            in_window = steps >= n_timesteps - lengths
            y = y + self.skip(_masked(recent_last, in_window).flatten(1))
        return self.quantile_outputs(y)

    def quantile_outputs(self, y):
        """The quantiles of the raw outputs ``y``; ``y`` without ``quantiles``.

        The block of the median is the median; each other block is a
        non-negative step (softplus) from its neighbour nearer the median,
        outwards: quantiles that never cross, in training too. Measured
        against sorting freely trained outputs at predict time on the
        development series of the real-series benchmark, it gave a 10%
        lower pinball loss (benchmarks/bench_quantile_head.py).
        """
        if self.quantiles is None:
            return y
        median = self.quantiles.index(0.5)
        blocks = y.unflatten(1, (len(self.quantiles), -1))
        steps = nn.functional.softplus(blocks)
        centre = blocks[:, median : median + 1]
        above = centre + steps[:, median + 1 :].cumsum(dim=1)
        below = centre - steps[:, :median].flip(1).cumsum(dim=1).flip(1)
        return torch.cat([below, centre, above], dim=1).flatten(1)


def _pool(sequences, *, lengths):
    """The mean and the maximum over each row's observed steps, concatenated.

    ``lengths`` of shape (batch, 1) counts the observed steps, which come
    first in each row (``forward_padded``); None means every step is
    observed. Both paths compute the mean as a sum divided by the count,
    so that a row gives the same features padded or not.
    """
    if lengths is None:
        total = sequences.sum(dim=1)
        return torch.cat([total / sequences.shape[1], sequences.amax(dim=1)], dim=1)
    steps = torch.arange(sequences.shape[1], device=sequences.device)
    observed = (steps < lengths).unsqueeze(2)
    total = torch.where(observed, sequences, torch.zeros_like(sequences)).sum(dim=1)
    maximum = torch.where(
        observed, sequences, torch.full_like(sequences, -torch.inf)
    ).amax(dim=1)
    return torch.cat([total / lengths.to(sequences.dtype), maximum], dim=1)


def _gather_steps(sequences, steps):
    """``sequences[i, steps[i, t]]`` for every row ``i`` and column ``t``."""
    index = steps.unsqueeze(2).expand(-1, -1, sequences.shape[2])
    return sequences.gather(1, index)


def _masked(sequences, keep):
    """``sequences`` with the steps where ``keep`` is False set to zero."""
    return torch.where(keep.unsqueeze(2), sequences, torch.zeros_like(sequences))


def _lstm_direction(lstm, sequences, suffix):
    """Run one direction of a one-layer ``nn.LSTM`` forwards over ``sequences``.

    ``suffix`` is "" for the forward direction's weights and "_reverse" for
    the backward one's, which then reads ``sequences`` in the order given.
    """
    if not lstm.bidirectional:
        return lstm(sequences)
    weights = [
        getattr(lstm, f"{name}_l0{suffix}")
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    state = sequences.new_zeros(1, sequences.shape[0], lstm.hidden_size)
    output, h_n, c_n = torch.lstm(
        sequences, (state, state), weights, True, 1, 0.0, lstm.training, False, True
    )
    return output, (h_n, c_n)


class SeededDropout(nn.Module):
    """Dropout whose masks come from a generator it is given.

    ``torch.nn.Dropout`` draws from torch's process-wide generator, which
    makes a fit's result depend on other threads and changes their random
    streams. The training net sets ``generator`` for the duration of a fit;
    without one, masks come from the global generator as in
    ``torch.nn.Dropout``. In evaluation mode the layer is the identity.

    Parameters
    ----------
    p : float, default=0.5
        Probability of zeroing an element, in [0, 1).
    """

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
        self.generator = None

    def forward(self, X):
        """Zero elements with probability ``p`` and rescale the rest in training."""
        if not self.training or self.p == 0:
            return X
        keep = torch.empty_like(X).bernoulli_(1 - self.p, generator=self.generator)
        return X * keep / (1 - self.p)

    def extra_repr(self):
        return f"p={self.p}"

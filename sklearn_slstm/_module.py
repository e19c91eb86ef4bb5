"""The torch module: a stack of LSTM layers and a linear head."""

import torch
from torch import nn


class StackedLSTM(nn.Module):
    """A stack of LSTM layers with a linear head on the last step's output.

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

    Notes
    -----
    The weights are initialised as Keras does, which trains this problem
    much faster than PyTorch's uniform default: Glorot-uniform input
    weights, orthogonal recurrent weights, a forget-gate bias of 1,
    all other biases zero, and a Glorot-uniform head.
    """

    def __init__(
        self,
        input_size,
        hidden_layer_sizes,
        output_size,
        dropout=0.0,
        bidirectional=False,
    ):
        super().__init__()
        directions = 2 if bidirectional else 1
        sizes = [input_size, *(units * directions for units in hidden_layer_sizes)]
        self.lstms = nn.ModuleList(
            nn.LSTM(in_size, units, batch_first=True, bidirectional=bidirectional)
            for in_size, units in zip(sizes[:-1], hidden_layer_sizes, strict=True)
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(sizes[-1], output_size)
        self.reset_parameters()

    def reset_parameters(self):
        """Initialise all weights as Keras does (see the class Notes)."""
        for lstm in self.lstms:
            for name, param in lstm.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(param)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(param)
                else:
                    nn.init.zeros_(param)
                    if name.startswith("bias_ih"):
                        # PyTorch orders the gates input, forget, cell, output.
                        param.data.chunk(4)[1].fill_(1.0)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, X):
        """Map ``X`` of shape (batch, timesteps, channels) to (batch, outputs)."""
        for depth, lstm in enumerate(self.lstms):
            if depth:
                X = self.dropout(X)
            X, (h_n, _) = lstm(X)
        # h_n holds each direction's final state: the forward one after the
        # last step, the backward one after reading back to the first step.
        last = torch.cat(tuple(h_n), dim=1)
        return self.head(last)

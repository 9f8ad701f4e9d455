"""Dropout for recurrent layers: one mask per sequence, and dropout on the weights W_hh.

    lstm = DropoutLSTM(8, 64, num_layers=2, input_dropout=0.25, recurrent_dropout=0.25)
    awd = DropoutLSTM(8, 64, weight_dropout=0.5)        # the weight drop of AWD-LSTM
    x = LockedDropout(0.3)(x)                           # x (T, B, F): one mask per sequence

torch.nn's layers know one kind of dropout, `dropout=p`: between stacked layers, on the
output of every layer but the last, with a fresh mask at every time step. The layers here
are the book's `RNN`, `LSTM` and `GRU` (same arguments, same weights, same state_dict)
with three more, each a probability of dropping:

- `input_dropout`, Keras's `dropout`: every layer's input x_t is multiplied by a mask drawn
  once per sequence and layer, the same at every step (Gal & Ghahramani 2016);
- `recurrent_dropout`, Keras's `recurrent_dropout`: h_{t-1} is multiplied by a mask drawn
  once per sequence, layer and direction, where it enters the product W_hh h and nowhere
  else: the LSTM's cell and the GRU's carry z * h are not masked (`h_mask` in
  `rnnbook.gates`). One mask serves all gates;
- `weight_dropout`, DropConnect (Wan et al. 2013) on W_hh as in Merity, Keskar & Socher's
  AWD-LSTM (2018): entries of W_hh itself are dropped, one mask per forward call, shared by
  every sequence of the batch and every step.

All are inverted dropout: what is kept is scaled by 1/(1 - p), so that expected values do
not change, and in evaluation mode (`model.eval()`) nothing is dropped: the layer is then
exactly the plain layer with the same weights. The masks come from PyTorch's global
generator, like `torch.nn.functional.dropout`'s, so `rnnbook.seed_everything` repeats them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnbook.checks import check_bool, check_float
from rnnbook.layers import GRU, LSTM, RNN

__all__ = ["DropoutGRU", "DropoutLSTM", "DropoutRNN", "LockedDropout", "RecurrentDropout"]


def _check_rate(name: str, p) -> float:
    """A dropout probability in [0, 1): 1 would drop everything, always."""
    return check_float(name, p, minimum=0, below=1)


def _mask(like: Tensor, p: float) -> Tensor:
    """A dropout mask the shape of `like`: 0 with probability p, 1 / (1 - p) otherwise."""
    return F.dropout(torch.ones_like(like), p, training=True)


class LockedDropout(nn.Module):
    """Dropout with one mask per sequence, the same at every step (Merity et al.'s name;
    Keras calls it SpatialDropout1D): a dropped feature is gone for the whole sequence.

    Input: a tensor (T, B, F), or (B, T, F) with batch_first=True. Identity in eval mode.
    """

    def __init__(self, p: float, batch_first: bool = False) -> None:
        super().__init__()
        self.p = _check_rate("p", p)
        self.batch_first = check_bool("batch_first", batch_first)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 3:
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            order = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
            raise ValueError(f"x must be a tensor {order}, got {got}")
        if not self.training or not self.p:
            return x
        step = x[:, 0] if self.batch_first else x[0]             # (B, F): one step
        return x * _mask(step, self.p).unsqueeze(1 if self.batch_first else 0)

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", batch_first=True" if self.batch_first else "")


class RecurrentDropout:
    """What DropoutRNN, DropoutLSTM and DropoutGRU add to the book's layers: three keyword
    arguments, input_dropout, recurrent_dropout and weight_dropout (see the module's
    docstring). Every other argument is the layer's own, torch.nn's `dropout` included."""

    def __init__(self, *args, input_dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 weight_dropout: float = 0.0, **kwargs) -> None:
        self.input_dropout = _check_rate("input_dropout", input_dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        self.weight_dropout = _check_rate("weight_dropout", weight_dropout)
        super().__init__(*args, **kwargs)

    def _layer_input(self, x: Tensor, layer: int) -> Tensor:
        """The layer's input, (T, B, F), times one mask per sequence: (B, F), every step."""
        x = super()._layer_input(x, layer)                     # torch.nn's dropout, if any
        if self.training and self.input_dropout:
            x = x * _mask(x[0], self.input_dropout)
        return x

    def options(self, suffix: str) -> dict:
        """The layer's W_hh, with entries dropped in training: one mask per forward call."""
        options = super().options(suffix)
        if self.training and self.weight_dropout:
            options["w_hh"] = F.dropout(options["w_hh"], self.weight_dropout, training=True)
        return options

    def _run_direction(self, x_proj: Tensor, state: tuple[Tensor, ...], options: dict,
                       reverse: bool, alive):
        """One direction over time, with one recurrent mask (B, H) for all its steps."""
        if self.training and self.recurrent_dropout:
            options = {**options, "h_mask": _mask(state[0], self.recurrent_dropout)}
        return super()._run_direction(x_proj, state, options, reverse, alive)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        for name in ("input_dropout", "recurrent_dropout", "weight_dropout"):
            if getattr(self, name):
                s += f", {name}={getattr(self, name)}"
        return s


class DropoutRNN(RecurrentDropout, RNN):
    """rnnbook.RNN (torch.nn.RNN's interface) with input, recurrent and weight dropout."""


class DropoutLSTM(RecurrentDropout, LSTM):
    """rnnbook.LSTM (torch.nn.LSTM's interface) with input, recurrent and weight dropout."""


class DropoutGRU(RecurrentDropout, GRU):
    """rnnbook.GRU (torch.nn.GRU's interface) with input, recurrent and weight dropout."""

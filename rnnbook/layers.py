"""Recurrent layers: whole sequences, stacked, optionally bidirectional, from tensor ops.

    lstm = LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True)
    output, (h_n, c_n) = lstm(x)                    # x (B, T, 8) -> output (B, T, 32)
    output, h_n = GRU(8, 16)(packed)                # a PackedSequence in, one out

Each class mirrors its `torch.nn` namesake: constructor arguments (proj_size included),
forward inputs (padded, unbatched or PackedSequence) and return values, parameter names and
shapes, and the exceptions it raises, so `ours.load_state_dict(theirs.state_dict())` works
both ways and code written for torch.nn runs unchanged. The tests check outputs and
gradients against torch.nn for every layer count, direction, batch_first and bias setting,
and run PyTorch's own module tests on both.

A layer runs the equations of `rnnbook.gates`, one step at a time in a Python loop: the
input projection W_ih x + b_ih of all steps is one matrix product before the loop, and each
step adds W_hh h. That is readable, not fast; chapter 15 and `rnnbook.fast` are about speed.
"""

from __future__ import annotations

import numbers
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnbook import gates
from rnnbook.cells import (
    as_state,
    check_dtype,
    check_input,
    check_sizes,
    register_weights,
    reset_uniform,
)
from rnnbook.checks import InputError, check_bool, check_choice, check_int

__all__ = ["GRU", "LSTM", "RNN", "RecurrentBase"]


class RecurrentBase(nn.Module):
    """What every layer shares, like torch.nn.RNNBase. A subclass sets `n_gates`,
    `state_keys`, `state_names` and `equations`, as the cells do."""

    n_gates = 1
    state_keys: tuple[str, ...] = ("h",)
    state_names: tuple[str, ...] = ("h0",)
    equations = staticmethod(gates.rnn_step)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.input_size, self.hidden_size = check_sizes(input_size, hidden_size)
        self.num_layers = check_int("num_layers", num_layers)
        self.bias = check_bool("bias", bias)
        self.batch_first = check_bool("batch_first", batch_first)
        self.bidirectional = check_bool("bidirectional", bidirectional)
        self.dropout = _check_dropout(dropout)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(f"dropout acts between stacked layers, so dropout={dropout} has no "
                          "effect with num_layers=1", stacklevel=2)
        self.proj_size = check_int("proj_size", proj_size, minimum=0,
                                   maximum=self.hidden_size - 1)
        self.num_directions = 2 if self.bidirectional else 1
        self._all_weights: list[list[str]] = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.output_features()
            for suffix in self._suffixes(layer):
                register_weights(self, suffix, self.n_gates, layer_input, self.hidden_size,
                                 self.bias, self.proj_size, device, dtype)
                names = ["weight_ih", "weight_hh"] + ["bias_ih", "bias_hh"] * self.bias
                self._all_weights.append([n + suffix for n in
                                          names + ["weight_hr"] * bool(self.proj_size)])
        self.reset_parameters()

    # --- torch.nn's API around the weights -----------------------------------------------

    def reset_parameters(self) -> None:
        reset_uniform(self)

    def flatten_parameters(self) -> None:
        """Does nothing. torch.nn packs the weights into one buffer for cuDNN; these
        layers never call cuDNN, but code written for torch.nn calls this."""

    @property
    def _flat_weights_names(self) -> list[str]:
        return [name for names in self._all_weights for name in names]

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """The parameters per layer and direction, in torch.nn's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def output_features(self) -> int:
        """Features per step of the output: (proj_size or hidden_size) * directions."""
        return (self.proj_size or self.hidden_size) * self.num_directions

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    def options(self, suffix: str) -> dict:
        """The arguments the equations take besides the input and the state."""
        get = lambda name: getattr(self, name + suffix, None)  # noqa: E731
        return {"w_hh": get("weight_hh"), "b_hh": get("bias_hh")}

    # --- the forward pass -----------------------------------------------------------------

    def _layer_input(self, x: Tensor, layer: int) -> Tensor:
        """What layer number `layer` reads, (T, B, features): the input for layer 0, the
        output of the layer below for the others, with torch.nn's dropout between layers
        (a fresh mask at every step) in training. rnnbook.dropout overrides it."""
        if layer > 0 and self.dropout and self.training:
            x = F.dropout(x, self.dropout, training=True)
        return x

    def _run_direction(self, x_proj: Tensor, state: tuple[Tensor, ...], options: dict,
                       reverse: bool, alive: list[Tensor] | None):
        """One direction of one layer over time. x_proj is (T, B, gates*H). `alive[t]`
        (B, 1) is False for the padding of shorter sequences, which keeps their state
        unchanged and their output zero, as torch.nn does for a PackedSequence."""
        inputs = x_proj.unbind(0)
        outputs = [None] * len(inputs)
        for t in (reversed(range(len(inputs))) if reverse else range(len(inputs))):
            out = self.equations(inputs[t], state, **options)
            new = tuple(out[key] for key in self.state_keys)
            if alive is not None:
                new = tuple(torch.where(alive[t], n, s) for n, s in zip(new, state, strict=True))
                outputs[t] = torch.where(alive[t], new[0], 0.0)
            else:
                outputs[t] = new[0]
            state = new
        return torch.stack(outputs), state

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        weight = self.weight_ih_l0
        if packed:
            check_input(input.data, self, (2,))
            x, lengths = pad_packed_sequence(input)          # (T, B, I), original order
            alive = [(t < lengths).unsqueeze(-1).to(x.device) for t in range(x.size(0))]
            batched = True
        else:
            check_input(input, self, (2, 3))
            batched = input.dim() == 3
            x = input.transpose(0, 1) if batched and self.batch_first else input
            x = x if batched else x.unsqueeze(1)            # (T, B, I)
            alive = None
        if x.size(0) == 0:
            raise InputError(f"Expected sequence length to be larger than 0 in "
                             f"{type(self).__name__}, got input of shape {tuple(x.shape)}")
        count, batch = self.num_layers * self.num_directions, x.size(1)
        shapes = [(count, batch, self.proj_size or self.hidden_size),
                  (count, batch, self.hidden_size)][: len(self.state_keys)]
        if not batched:
            shapes = [(s[0], s[2]) for s in shapes]
        state0 = as_state(hx, self.state_names, tuple(shapes), x)
        check_dtype(x, self, weight)
        if not batched:
            state0 = tuple(s.unsqueeze(1) for s in state0)

        finals = []
        for layer in range(self.num_layers):
            x = self._layer_input(x, layer)
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                index = layer * self.num_directions + direction
                x_proj = F.linear(x, getattr(self, "weight_ih" + suffix),
                                  getattr(self, "bias_ih" + suffix, None))  # all steps at once
                seq, state = self._run_direction(x_proj, tuple(s[index] for s in state0),
                                                 self.options(suffix), direction == 1, alive)
                outputs.append(seq)
                finals.append(state)
            x = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]

        final = tuple(torch.stack(parts) for parts in zip(*finals, strict=True))
        if packed:
            order = input.sorted_indices
            out = x if order is None else x.index_select(1, order)
            data = pack_padded_sequence(out, lengths if order is None else lengths[order.cpu()])
            x = PackedSequence(data.data, input.batch_sizes, input.sorted_indices,
                               input.unsorted_indices)
        elif not batched:
            x, final = x.squeeze(1), tuple(t.squeeze(1) for t in final)
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, (final if len(final) > 1 else final[0])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"                 # torch.nn's order
        for name, default in (("proj_size", 0), ("num_layers", 1), ("bias", True),
                              ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(RecurrentBase):
    """Multi-layer Elman RNN, like `torch.nn.RNN`. Returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None, *, proj_size=None) -> None:
        _no_projections(self, proj_size)
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, gates.ACTIVATIONS)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)

    def options(self, suffix: str) -> dict:
        return {**super().options(suffix), "nonlinearity": self.nonlinearity}

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else f"{s}, nonlinearity={self.nonlinearity}"


class LSTM(RecurrentBase):
    """Multi-layer LSTM, like `torch.nn.LSTM`, projections (proj_size) included.
    Returns (output, (h_n, c_n))."""

    n_gates = 4
    state_keys = ("h", "c")
    state_names = ("h0", "c0")
    equations = staticmethod(gates.lstm_step)

    def options(self, suffix: str) -> dict:
        return {**super().options(suffix), "w_hr": getattr(self, "weight_hr" + suffix, None)}


class GRU(RecurrentBase):
    """Multi-layer GRU in PyTorch's form, like `torch.nn.GRU`. Returns (output, h_n)."""

    n_gates = 3
    equations = staticmethod(gates.gru_step)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None, *,
                 proj_size=None) -> None:
        _no_projections(self, proj_size)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)


def _check_dropout(dropout) -> float:
    """dropout as a float in [0, 1], refused with torch.nn's exception types: TypeError for
    what float() cannot read (None, a list), ValueError for the rest (a bool, a string)."""
    message = (f"dropout must be a number in [0, 1], the probability of zeroing an element, "
               f"got {dropout!r}")
    try:
        float(dropout)
    except TypeError:
        raise TypeError(message) from None
    except ValueError:
        raise ValueError(message) from None
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) \
            or not 0 <= dropout <= 1:
        raise ValueError(message)
    return float(dropout)


def _no_projections(layer: nn.Module, proj_size) -> None:
    """torch.nn.RNN and GRU refuse proj_size with a ValueError; so do these."""
    if proj_size is not None:
        raise ValueError(f"proj_size applies to an LSTM only (it projects the LSTM's h), not "
                         f"to {type(layer).__name__}; got proj_size={proj_size!r}")

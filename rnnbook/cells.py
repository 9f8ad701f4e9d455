"""Recurrent cells, one time step each, written from tensor operations.

    cell = LSTMCell(3, 4)
    h, c = cell(x, (h, c))              # x (B, 3) or unbatched (3,)
    gates = cell.step(x_proj, (h, c))   # {"i", "f", "g", "o", "c", "h"}: every gate

Each class mirrors its `torch.nn` namesake: the same constructor arguments, the same
forward inputs and return values, the same parameter names and shapes, so a state_dict
loads in either direction. The equations live in `rnnbook.gates`; a cell holds the weights,
checks its input, and calls them. The helpers that create, initialise and check weights
and states here (`register_weights`, `reset_uniform`, `check_sizes`, `check_input`,
`check_dtype`, `as_state`) are shared with the layers of `rnnbook.layers`; they are
internal, not part of the public API listed in `__all__`.

A hidden_size of 0 is refused, as by the layers of both libraries (torch.nn's cells accept
it and return empty states): a recurrent cell without units is almost always a bug.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnbook import gates
from rnnbook.checks import InputError, check_bool, check_choice, check_int

__all__ = ["CellBase", "GRUCell", "LSTMCell", "RNNCell"]

# ---------------------------------------------------------------------------
# Weights, shared with the layers
# ---------------------------------------------------------------------------


def register_weights(module: nn.Module, suffix: str, n_gates: int, input_size: int,
                     hidden_size: int, bias: bool, proj_size: int = 0, device=None,
                     dtype=None) -> None:
    """Register weight_ih, weight_hh, bias_ih, bias_hh (and weight_hr) + suffix, as torch.nn
    does: the gates' blocks of hidden_size rows stacked in one matrix."""
    rows, state_size = n_gates * hidden_size, proj_size or hidden_size
    shapes = {"weight_ih": (rows, input_size), "weight_hh": (rows, state_size)}
    if bias:
        shapes.update(bias_ih=(rows,), bias_hh=(rows,))
    if proj_size:
        shapes["weight_hr"] = (proj_size, hidden_size)
    for name, shape in shapes.items():
        module.register_parameter(name + suffix, nn.Parameter(
            torch.empty(shape, device=device, dtype=dtype)))


def reset_uniform(module: nn.Module) -> None:
    """PyTorch's initialisation: every parameter ~ U(-1/sqrt(H), 1/sqrt(H))."""
    k = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -k, k)


def check_sizes(input_size, hidden_size) -> tuple[int, int]:
    return check_int("input_size", input_size), check_int("hidden_size", hidden_size)


# ---------------------------------------------------------------------------
# Input and state checks, shared with the layers
# ---------------------------------------------------------------------------


def check_input(input, module: nn.Module, dims: tuple[int, ...]) -> None:
    """The checks torch.nn makes of the input's shape, with the same exception types
    (InputError is both). The dtype is checked after the state, as torch.nn does.

    dims: the numbers of dimensions allowed, unbatched first: (1, 2) for a cell, (2, 3)
    for a layer, (2,) for the data of a PackedSequence.
    """
    name = type(module).__name__
    if not isinstance(input, Tensor):
        raise TypeError(f"{name} input must be a torch.Tensor, got {type(input).__name__}")
    if input.dim() not in dims:
        allowed = (f"{dims[0]}-D (unbatched) or {dims[1]}-D (batched)" if len(dims) == 2
                   else f"{dims[0]}-D")
        raise InputError(f"{name} input must be {allowed}, got shape {tuple(input.shape)}")
    if input.size(-1) != module.input_size:
        raise InputError(f"{name} input must have input_size={module.input_size} features "
                         f"in its last dimension, got shape {tuple(input.shape)}")


def check_dtype(input: Tensor, module: nn.Module, weight: Tensor) -> None:
    """The input's dtype must be the weights', with a remedy in the message."""
    name = type(module).__name__
    if input.dtype != weight.dtype and not input.is_floating_point():
        raise InputError(f"{name} input dtype ({input.dtype}) does not match weight dtype "
                         f"({weight.dtype}): it must be floating point. Convert input: "
                         f"input.to({weight.dtype})")
    if input.dtype != weight.dtype:
        raise InputError(f"{name} input dtype ({input.dtype}) does not match weight dtype "
                         f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                         f"convert model: model.to({input.dtype})")


def as_state(hx, names: tuple[str, ...], shapes: tuple[tuple[int, ...], ...],
             like: Tensor, arg: str = "hx") -> tuple[Tensor, ...]:
    """`hx` (a tensor h, or a pair (h, c)) checked against the expected shapes, as a tuple.

    None gives zeros. `names` name the parts in messages ("h0", "c0"); `arg` names the
    argument that holds them.
    """
    if hx is None:
        return tuple(like.new_zeros(shape) for shape in shapes)
    label = arg if arg == "state" else f"{arg} (the state)"
    if len(names) == 1:
        if isinstance(hx, (tuple, list)):
            raise TypeError(f"{label} must be a single tensor {names[0]}, "
                            f"got a {type(hx).__name__}")
        hx = (hx,)
    elif not (isinstance(hx, (tuple, list)) and len(hx) == len(names)):
        got = f"a {type(hx).__name__}" + (f" of {len(hx)}" if isinstance(hx, (tuple, list))
                                          else "")
        raise TypeError(f"{label} must be a tuple ({', '.join(names)}), got {got}")
    for t, name, shape in zip(hx, names, shapes, strict=True):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if tuple(t.shape) != shape:
            raise InputError(f"{name} must have shape {shape}, got {tuple(t.shape)}")
        if t.dtype != like.dtype:
            raise InputError(f"{name} dtype ({t.dtype}) does not match the input's "
                             f"({like.dtype})")
    return tuple(hx)


# ---------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------


class CellBase(nn.Module):
    """What every cell shares: weights, checks, batched and unbatched input.

    A subclass sets `n_gates`, `state_keys` (the parts of the state among the equations'
    results), `state_names` (what messages call them) and `equations` (a function of
    rnnbook.gates), and `options()` if its equations take more arguments.
    """

    n_gates = 1
    state_keys: tuple[str, ...] = ("h",)
    state_names: tuple[str, ...] = ("hx",)
    equations = staticmethod(gates.rnn_step)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size, self.hidden_size = check_sizes(input_size, hidden_size)
        self.bias = check_bool("bias", bias)
        register_weights(self, "", self.n_gates, self.input_size, self.hidden_size, self.bias,
                         device=device, dtype=dtype)
        if not self.bias:                       # cells expose bias_ih = None, like torch.nn
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_uniform(self)

    def options(self) -> dict:
        return {}

    def step(self, x_proj: Tensor, state: tuple[Tensor, ...]) -> dict[str, Tensor]:
        """One step from the projected input W_ih x + b_ih: every gate and the new state."""
        return self.equations(x_proj, state, self.weight_hh, self.bias_hh, **self.options())

    def forward(self, input: Tensor, hx=None):
        check_input(input, self, (1, 2))
        batched = input.dim() == 2
        shape = (input.size(0), self.hidden_size) if batched else (self.hidden_size,)
        state = as_state(hx, self.state_names, (shape,) * len(self.state_names), input)
        check_dtype(input, self, self.weight_ih)
        if not batched:
            input, state = input.unsqueeze(0), tuple(t.unsqueeze(0) for t in state)
        out = self.step(F.linear(input, self.weight_ih, self.bias_ih), state)
        new = tuple(out[key] for key in self.state_keys)
        if not batched:
            new = tuple(t.squeeze(0) for t in new)
        return new if len(new) > 1 else new[0]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(CellBase):
    """Elman cell: h' = tanh(W_ih x + b_ih + W_hh h + b_hh), or relu. Returns h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, gates.ACTIVATIONS)
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def options(self) -> dict:
        return {"nonlinearity": self.nonlinearity}

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else f"{s}, nonlinearity={self.nonlinearity}"


class LSTMCell(CellBase):
    """LSTM cell (rnnbook.gates.lstm_step). forward(x, (h, c)) returns (h', c')."""

    n_gates = 4
    state_keys = state_names = ("h", "c")
    equations = staticmethod(gates.lstm_step)


class GRUCell(CellBase):
    """GRU cell in PyTorch's form (rnnbook.gates.gru_step). forward(x, h) returns h'."""

    n_gates = 3
    equations = staticmethod(gates.gru_step)

"""Variants of the recurrent cells that torch.nn does not provide, written from tensor ops.

- `cho_gru_step`, `ChoGRUCell`, `ChoGRU`: the GRU as Cho et al. (2014) wrote it, with the
  reset gate applied to the state *before* the recurrent matmul,

      n = tanh(W_in x + b_in + W_hn (r * h) + b_hn),

  where PyTorch (and cuDNN, and Keras with `reset_after=True`) apply it *after*:

      n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

  Everything else is as in `torch.nn.GRU`: gates in the order r, z, n, two bias vectors,
  and h' = (1 - z) * n + z * h, so that z = 1 keeps the old state. The parameters have the
  names and shapes of `torch.nn.GRU`'s, so a state_dict loads in either direction; the
  same weights then give two different functions (see chapter 06).

The classes reuse the machinery of `rnnbook.cells` (argument checks, layers, directions)
and change only the step equation.

- `gru_gates`: run a one-layer GRU (torch.nn's, rnnbook's or `ChoGRU`) over a batch and
  return its reset gate, update gate, candidate and state at every step, to look inside a
  trained model.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnbook.cells import _Cell, _Recurrent


def gru_gate_values(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None,
                    reset_after: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    """The reset gate r, update gate z and candidate n of one GRU step.

    x_proj is W_ih x + b_ih, of shape (B, 3H), with blocks r, z, n. `reset_after=True` is
    PyTorch's form, n = tanh(x_n + r * (W_hn h + b_hn)); False is Cho et al.'s,
    n = tanh(x_n + W_hn (r * h) + b_hn), where b_hn is not gated, so that only the sum
    b_in + b_hn matters.
    """
    hidden = h.size(-1)
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    if reset_after:
        h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
    else:
        b_rz = None if b_hh is None else b_hh[: 2 * hidden]
        h_r, h_z = F.linear(h, w_hh[: 2 * hidden], b_rz).chunk(2, dim=-1)
    r = torch.sigmoid(x_r + h_r)                   # reset gate
    z = torch.sigmoid(x_z + h_z)                   # update gate: 1 keeps h
    if reset_after:
        n = torch.tanh(x_n + r * h_n)              # matmul, then reset
    else:
        b_n = None if b_hh is None else b_hh[2 * hidden:]
        n = torch.tanh(x_n + F.linear(r * h, w_hh[2 * hidden:], b_n))  # reset, then matmul
    return r, z, n


def cho_gru_step(x_proj: Tensor, state: tuple[Tensor], w_hh: Tensor,
                 b_hh: Tensor | None) -> tuple[Tensor]:
    """One GRU step in Cho et al.'s form: the reset gate multiplies h before W_hn."""
    (h,) = state
    _, z, n = gru_gate_values(x_proj, h, w_hh, b_hh, reset_after=False)
    return ((1 - z) * n + z * h,)


class ChoGRUCell(_Cell):
    """GRU cell in Cho et al.'s (2014) form. forward(x, h) returns h'.

    Same arguments, parameters and return values as `torch.nn.GRUCell`.
    """
    gates = 3

    def step(self, x_proj, state, w_hh, b_hh):
        return cho_gru_step(x_proj, state, w_hh, b_hh)


class ChoGRU(_Recurrent):
    """Multi-layer GRU in Cho et al.'s (2014) form. Returns (output, h_n).

    Same arguments, parameters and return values as `torch.nn.GRU`.
    """
    gates = 3

    def step(self, x_proj, state, w_hh, b_hh):
        return cho_gru_step(x_proj, state, w_hh, b_hh)


# ---------------------------------------------------------------------------
# Looking inside: the gates of a GRU layer
# ---------------------------------------------------------------------------


class GRUGates(NamedTuple):
    """What a GRU layer computes at every step, each of shape (B, T, H)."""

    r: Tensor   # reset gate, in (0, 1)
    z: Tensor   # update gate, in (0, 1); 1 keeps the old state
    n: Tensor   # candidate state, in (-1, 1)
    h: Tensor   # the new state (1 - z) * n + z * h_prev, the layer's output


def gru_gates(layer: nn.Module, x: Tensor, h0: Tensor | None = None) -> GRUGates:
    """Run a one-layer, one-directional GRU over x and return its gates at every step.

    `layer` is `torch.nn.GRU`, `rnnbook.GRU` (PyTorch's form) or `ChoGRU` (Cho et al.'s
    form); x is (B, T, I) if `layer.batch_first`, else (T, B, I), and h0 (B, H) if given.
    The results are always batch first, (B, T, H). `h` equals the layer's output, which
    the tests check, so the gates shown are the ones the layer really used.
    """
    if not isinstance(layer, (nn.GRU, _Recurrent)) or getattr(layer, "gates", 3) != 3:
        raise TypeError(f"layer must be torch.nn.GRU, rnnbook.GRU or ChoGRU, "
                        f"got {type(layer).__name__}")
    if layer.num_layers != 1 or layer.bidirectional:
        raise ValueError("gru_gates reads one-layer, one-directional GRUs only, got "
                         f"num_layers={layer.num_layers}, bidirectional={layer.bidirectional}")
    if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != layer.input_size:
        raise ValueError(f"x must be a batch of sequences (3 dimensions) with "
                         f"{layer.input_size} features, got "
                         f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
    x = x if layer.batch_first else x.transpose(0, 1)          # (B, T, I)
    hidden = layer.hidden_size
    if h0 is not None and (not isinstance(h0, Tensor) or h0.shape != (x.size(0), hidden)):
        raise ValueError(f"h0 must be a tensor of shape (batch, hidden_size) = "
                         f"{(x.size(0), hidden)}, got "
                         f"{tuple(h0.shape) if isinstance(h0, Tensor) else type(h0).__name__}")
    b_ih, b_hh = (layer.bias_ih_l0, layer.bias_hh_l0) if layer.bias else (None, None)
    x_proj = F.linear(x, layer.weight_ih_l0, b_ih)             # all steps at once
    reset_after = not isinstance(layer, ChoGRU)
    h = x.new_zeros(x.size(0), hidden) if h0 is None else h0
    steps = []
    for t in range(x.size(1)):
        r, z, n = gru_gate_values(x_proj[:, t], h, layer.weight_hh_l0, b_hh, reset_after)
        h = (1 - z) * n + z * h
        steps.append((r, z, n, h))
    return GRUGates(*(torch.stack(values, dim=1) for values in zip(*steps, strict=True)))

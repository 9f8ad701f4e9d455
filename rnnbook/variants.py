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
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbook.cells import _Cell, _Recurrent


def cho_gru_step(x_proj: Tensor, state: tuple[Tensor], w_hh: Tensor,
                 b_hh: Tensor | None) -> tuple[Tensor]:
    """One GRU step in Cho et al.'s form: the reset gate multiplies h before W_hn.

    x_proj is W_ih x + b_ih, of shape (B, 3H), with blocks r, z, n. Since the reset acts
    before the matmul here, b_hn is not gated and only the sum b_in + b_hn matters.
    """
    (h,) = state
    hidden = h.size(-1)
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    b_rz = b_n = None
    if b_hh is not None:
        b_rz, b_n = b_hh[: 2 * hidden], b_hh[2 * hidden:]
    h_r, h_z = F.linear(h, w_hh[: 2 * hidden], b_rz).chunk(2, dim=-1)
    r = torch.sigmoid(x_r + h_r)                              # reset gate
    z = torch.sigmoid(x_z + h_z)                              # update gate: 1 keeps h
    n = torch.tanh(x_n + F.linear(r * h, w_hh[2 * hidden:], b_n))  # reset, then matmul
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

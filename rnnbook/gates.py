"""The equations of the recurrent cells: one function per cell, written once.

    out = lstm_step(x_proj, (h, c), w_hh, b_hh)   # {"i", "f", "g", "o", "c", "h"}
    out = gru_step(x_proj, (h,), w_hh, b_hh)      # {"r", "z", "n", "h"}

Every function computes one time step. `x_proj` is the input already projected,
W_ih x_t + b_ih, of shape (B, gates * H): the layers compute it for all time steps at once,
outside the loop over time. The state is a tuple, `(h,)` or `(h, c)`. Each function
returns a dict holding every gate it computed and the new state, so that the cells and
layers (which keep the state), the gate inspection of `rnnbook.gradients` (which keeps the
gates) and the Jacobian helpers (which differentiate the state) all run these same lines.
Gates come in PyTorch's order and layout: weight_ih and weight_hh stack one block of H rows
per gate, i, f, g, o for the LSTM and r, z, n for the GRU.

These functions assume valid shapes: the cells and layers check their inputs first.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbook.checks import check_choice

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


def rnn_step(x_proj: Tensor, state: tuple[Tensor], w_hh: Tensor, b_hh: Tensor | None,
             nonlinearity: str = "tanh") -> dict[str, Tensor]:
    """Elman's RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or relu."""
    check_choice("nonlinearity", nonlinearity, ACTIVATIONS)
    (h,) = state
    return {"h": ACTIVATIONS[nonlinearity](x_proj + F.linear(h, w_hh, b_hh))}


def lstm_step(x_proj: Tensor, state: tuple[Tensor, Tensor], w_hh: Tensor, b_hh: Tensor | None,
              w_hr: Tensor | None = None) -> dict[str, Tensor]:
    """The LSTM with a forget gate (Gers et al. 2000): three gates and a candidate.

        c' = f * c + i * g          h' = o * tanh(c')         (h' = W_hr h', with w_hr)

    `w_hr`, of shape (P, H), projects h' to P < H numbers (LSTM with projections, Sak et
    al. 2014, torch's proj_size); the state h then has P entries.
    """
    h, c = state
    i, f, g, o = (x_proj + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    i = torch.sigmoid(i)          # input gate: how much of the candidate to write
    f = torch.sigmoid(f)          # forget gate: how much of the old cell to keep
    g = torch.tanh(g)             # the candidate values (not a gate: it can be negative)
    o = torch.sigmoid(o)          # output gate: how much of the cell to show
    c = f * c + i * g
    h = o * torch.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}


def gru_step(x_proj: Tensor, state: tuple[Tensor], w_hh: Tensor,
             b_hh: Tensor | None) -> dict[str, Tensor]:
    """The GRU as PyTorch (and cuDNN, and Keras with reset_after=True) computes it:
    the reset gate multiplies W_hn h + b_hn, after the matrix product.

        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))      h' = (1 - z) * n + z * h
    """
    (h,) = state
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)  # reset gate
    z = torch.sigmoid(x_z + h_z)  # update gate: 1 keeps the old state
    n = torch.tanh(x_n + r * h_n)  # candidate state
    return {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * h}


def cho_gru_step(x_proj: Tensor, state: tuple[Tensor], w_hh: Tensor,
                 b_hh: Tensor | None) -> dict[str, Tensor]:
    """The GRU as Cho et al. (2014) wrote it: the reset gate multiplies h, before W_hn.

        n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)      h' = (1 - z) * n + z * h

    b_hn is not gated here, so only the sum b_in + b_hn matters. With PyTorch's weights the
    two forms are different functions (chapter 06).
    """
    (h,) = state
    hidden = h.size(-1)
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    b_rz, b_n = (None, None) if b_hh is None else (b_hh[:2 * hidden], b_hh[2 * hidden:])
    h_r, h_z = F.linear(h, w_hh[:2 * hidden], b_rz).chunk(2, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + F.linear(r * h, w_hh[2 * hidden:], b_n))   # reset, then matmul
    return {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * h}

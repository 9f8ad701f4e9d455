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

Each function checks its arguments first (a few microseconds, against a step's hundred),
so a reader calling one directly with a wrong shape gets a clear error, not a broadcast.

Every function also takes an optional `h_mask`, the shape of h: recurrent dropout
(`rnnbook.dropout`). It multiplies h where h enters the recurrent product W_hh h, and only
there, so the GRU's carry z * h keeps the unmasked state (masking that too would scale the
memory itself by 1/(1 - p) at every step; chapter 08 measures what that does).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbook.checks import InputError, _describe, check_choice

__all__ = ["ACTIVATIONS", "cho_gru_step", "gru_step", "lstm_step", "rnn_step"]

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


def check_step(fn: str, x_proj, state, w_hh, b_hh, n_gates: int, names: tuple[str, ...],
               w_hr=None, h_mask=None) -> None:
    """What one step needs: x_proj (B, n_gates * H); the state's parts (B, H), or (B, P)
    for the LSTM's h with projections; w_hh (n_gates * H, H or P); b_hh (n_gates * H,) or
    None; w_hr (P, H) or None; h_mask the shape of h, or None; all of x_proj's dtype.
    TypeError for what is not a tensor, InputError (a ValueError) for a wrong shape or dtype."""
    if not isinstance(state, (tuple, list)) or len(state) != len(names):
        raise TypeError(f"{fn}: state must be a tuple {_tuple(names)}, got "
                        f"{_describe(state)}")
    for name, t in (("x_proj", x_proj), ("w_hh", w_hh), *zip(names, state, strict=True),
                    ("b_hh", b_hh), ("w_hr", w_hr), ("h_mask", h_mask)):
        if not isinstance(t, Tensor) and not (t is None and name in ("b_hh", "w_hr", "h_mask")):
            raise TypeError(f"{fn}: {name} must be a torch.Tensor, got {_describe(t)}")
    if x_proj.dim() != 2 or w_hh.dim() != 2 or w_hh.size(0) % n_gates \
            or x_proj.size(1) != w_hh.size(0):
        raise InputError(f"{fn}: x_proj must be a tensor (batch, {n_gates} * hidden_size) "
                         f"and w_hh a tensor ({n_gates} * hidden_size, state size), got "
                         f"x_proj {_describe(x_proj)} and w_hh {_describe(w_hh)}")
    batch, rows = x_proj.shape[0], w_hh.shape[0]
    hidden = rows // n_gates
    h_size = w_hh.shape[1] if w_hr is not None else hidden
    checks = [("w_hh", w_hh, (rows, h_size))]
    checks += [(name, t, (batch, h_size if name == "h" else hidden))
               for name, t in zip(names, state, strict=True)]
    if b_hh is not None:
        checks.append(("b_hh", b_hh, (rows,)))
    if w_hr is not None:
        checks.append(("w_hr", w_hr, (h_size, hidden)))
    if h_mask is not None:
        checks.append(("h_mask", h_mask, (batch, h_size)))
    dtype = x_proj.dtype
    for name, t, shape in checks:
        if t.shape != shape:
            raise InputError(f"{fn}: {name} must be a tensor of shape {shape}, "
                             f"got {_describe(t)}")
        if t.dtype != dtype:
            raise InputError(f"{fn}: {name} has dtype {t.dtype} but x_proj has {dtype}: "
                             f"convert one of them")


def _tuple(names: tuple[str, ...]) -> str:
    return f"({names[0]},)" if len(names) == 1 else f"({', '.join(names)})"


def _recurrent_input(h: Tensor, h_mask: Tensor | None) -> Tensor:
    """What W_hh multiplies: h, or h * h_mask under recurrent dropout."""
    return h if h_mask is None else h * h_mask


def rnn_step(x_proj: Tensor, state: tuple[Tensor], w_hh: Tensor, b_hh: Tensor | None,
             nonlinearity: str = "tanh", h_mask: Tensor | None = None) -> dict[str, Tensor]:
    """Elman's RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or relu."""
    check_choice("nonlinearity", nonlinearity, ACTIVATIONS)
    check_step("rnn_step", x_proj, state, w_hh, b_hh, 1, ("h",), h_mask=h_mask)
    (h,) = state
    return {"h": ACTIVATIONS[nonlinearity](x_proj + F.linear(_recurrent_input(h, h_mask),
                                                              w_hh, b_hh))}


def lstm_step(x_proj: Tensor, state: tuple[Tensor, Tensor], w_hh: Tensor, b_hh: Tensor | None,
              w_hr: Tensor | None = None, h_mask: Tensor | None = None) -> dict[str, Tensor]:
    """The LSTM with a forget gate (Gers et al. 2000): three gates and a candidate.

        c' = f * c + i * g          h' = o * tanh(c')         (h' = W_hr h', with w_hr)

    `w_hr`, of shape (P, H), projects h' to P < H numbers (LSTM with projections, Sak et
    al. 2014, torch's proj_size); the state h then has P entries.
    """
    check_step("lstm_step", x_proj, state, w_hh, b_hh, 4, ("h", "c"), w_hr, h_mask)
    h, c = state
    i, f, g, o = (x_proj + F.linear(_recurrent_input(h, h_mask), w_hh, b_hh)).chunk(4, dim=-1)
    i = torch.sigmoid(i)          # input gate: how much of the candidate to write
    f = torch.sigmoid(f)          # forget gate: how much of the old cell to keep
    g = torch.tanh(g)             # the candidate values (not a gate: it can be negative)
    o = torch.sigmoid(o)          # output gate: how much of the cell to show
    c = f * c + i * g
    h = o * torch.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}


def gru_step(x_proj: Tensor, state: tuple[Tensor], w_hh: Tensor, b_hh: Tensor | None,
             h_mask: Tensor | None = None) -> dict[str, Tensor]:
    """The GRU as PyTorch (and cuDNN, and Keras with reset_after=True) computes it:
    the reset gate multiplies W_hn h + b_hn, after the matrix product.

        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))      h' = (1 - z) * n + z * h
    """
    check_step("gru_step", x_proj, state, w_hh, b_hh, 3, ("h",), h_mask=h_mask)
    (h,) = state
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(_recurrent_input(h, h_mask), w_hh, b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)  # reset gate
    z = torch.sigmoid(x_z + h_z)  # update gate: 1 keeps the old state
    n = torch.tanh(x_n + r * h_n)  # candidate state
    return {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * h}      # the carry: h unmasked


def cho_gru_step(x_proj: Tensor, state: tuple[Tensor], w_hh: Tensor, b_hh: Tensor | None,
                 h_mask: Tensor | None = None) -> dict[str, Tensor]:
    """The GRU as Cho et al. (2014) wrote it: the reset gate multiplies h, before W_hn.

        n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)      h' = (1 - z) * n + z * h

    b_hn is not gated here, so only the sum b_in + b_hn matters. With PyTorch's weights the
    two forms are different functions (chapter 06).
    """
    check_step("cho_gru_step", x_proj, state, w_hh, b_hh, 3, ("h",), h_mask=h_mask)
    (h,) = state
    hidden, h_in = h.size(-1), _recurrent_input(h, h_mask)
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    b_rz, b_n = (None, None) if b_hh is None else (b_hh[:2 * hidden], b_hh[2 * hidden:])
    h_r, h_z = F.linear(h_in, w_hh[:2 * hidden], b_rz).chunk(2, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + F.linear(r * h_in, w_hh[2 * hidden:], b_n))   # reset, then matmul
    return {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * h}

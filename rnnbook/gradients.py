"""Measure how gradients flow back through time.

    norms = hidden_grad_norms(cell, x, lambda hs: hs[-1].sum())

`cell` is any cell that maps (x_t, state) to a new state: rnnbook's or torch.nn's
RNNCell, LSTMCell or GRUCell. The sequence is unrolled step by step so that every hidden
state h_t is a node of the graph, and autograd gives the full derivative dL/dh_t, through
all later steps, not just the direct path to the output.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


def unroll(cell: nn.Module, x: Tensor, state=None) -> list:
    """Run `cell` over x of shape (T, B, I) or (T, I); return the list of T states.

    A state is a tensor h for RNN and GRU cells, and a pair (h, c) for LSTM cells.
    """
    if x.dim() not in (2, 3):
        raise ValueError(f"x must be (T, B, I) or (T, I), got shape {tuple(x.shape)}")
    states = []
    for x_t in x:
        state = cell(x_t, state)
        states.append(state)
    return states


def _hidden(state) -> Tensor:
    return state[0] if isinstance(state, tuple) else state


def hidden_grad_norms(cell: nn.Module, x: Tensor, loss_fn: Callable[[list[Tensor]], Tensor],
                      state=None) -> Tensor:
    """||dL/dh_t|| for every step t, where L = loss_fn([h_1, ..., h_T]).

    Returns a tensor of T norms (a norm over batch and units together).
    """
    hs = [_hidden(s) for s in unroll(cell, x, state)]
    loss = loss_fn(hs)
    if loss.dim() != 0:
        raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
    grads = torch.autograd.grad(loss, hs, allow_unused=True)
    return torch.stack([g.norm() if g is not None else hs[0].new_zeros(())
                        for g in grads]).detach()


def state_jacobian(cell: nn.Module, x: Tensor, h0: Tensor, c0: Tensor | None = None) -> Tensor:
    """The Jacobian dh_T/dh_0 of one unbatched sequence x (T, I), shape (H, H).

    For an LSTM cell pass c0 too; the Jacobian is then taken of h_T with respect to h_0,
    with c_0 held fixed.
    """
    if x.dim() != 2:
        raise ValueError(f"x must be one unbatched sequence (T, I), got {tuple(x.shape)}")

    def final_hidden(h):
        state = h if c0 is None else (h, c0)
        return _hidden(unroll(cell, x, state)[-1])

    return torch.autograd.functional.jacobian(final_hidden, h0)

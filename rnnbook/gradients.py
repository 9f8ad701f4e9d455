"""Measure how gradients flow back through time.

    norms = hidden_grad_norms(cell, x, lambda hs: hs[-1].sum())    # a cell, any loss
    norms = model_grad_norms(model, x, y, nn.MSELoss())            # a SequenceModel
    norms = jacobian_norms(cell, x[0], h0)                          # ||dh_t/dh_0||, t = 1..T
    gates = gate_trace(lstm_layer, x)           # {"i", "f", "g", "o", "c", "h"}: (B, T, H)

`cell` is any cell that maps (x_t, state) to a new state: rnnbook's or torch.nn's
RNNCell, LSTMCell or GRUCell. `layer` is a recurrent layer, rnnbook's or torch.nn's RNN,
LSTM or GRU. The sequence is unrolled step by step so that every hidden state h_t is a
node of the graph, and autograd gives the full derivative dL/dh_t, through all later
steps, not just the direct path to the output.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from rnnbook.cells import as_state
from rnnbook.checks import check_bool
from rnnbook.kinds import layer_cell
from rnnbook.layers import RecurrentBase
from rnnbook.train import check_loss_inputs

__all__ = ["gate_trace", "hidden_grad_norms", "jacobian_norms", "layer_states",
           "model_grad_norms", "state_jacobian", "unroll"]


def _check_x(x, dims: tuple[int, ...], what: str) -> None:
    """x is a tensor with one of `dims` dimensions, at least one step, finite values."""
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor {what}, got {type(x).__name__}")
    if x.dim() not in dims:
        raise ValueError(f"x must be {what}, got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"x must hold at least one step, got shape {tuple(x.shape)}")
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinity: the gradients would be NaN")


def _check_module(name: str, module, what: str) -> None:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{name} must be {what} (a torch.nn.Module), "
                        f"got {type(module).__name__}")


def _scalar(loss, name: str = "loss_fn") -> Tensor:
    if not isinstance(loss, Tensor) or loss.dim() != 0:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise ValueError(f"{name} must return a scalar tensor, got {shape}")
    return loss


def unroll(cell: nn.Module, x: Tensor, state=None) -> list:
    """Run `cell` over x of shape (T, B, I) or (T, I); return the list of T states.

    A state is a tensor h for RNN and GRU cells, and a pair (h, c) for LSTM cells.
    """
    _check_module("cell", cell, "a recurrent cell")
    _check_x(x, (2, 3), "(T, B, I) or (T, I)")
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
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function of the list of states, "
                        f"got {type(loss_fn).__name__}")
    hs = [_hidden(s) for s in unroll(cell, x, state)]
    loss = _scalar(loss_fn(hs))
    grads = torch.autograd.grad(loss, hs, allow_unused=True)
    return torch.stack([g.norm() if g is not None else hs[0].new_zeros(())
                        for g in grads]).detach()


def state_jacobian(cell: nn.Module, x: Tensor, h0: Tensor, c0: Tensor | None = None) -> Tensor:
    """The Jacobian dh_T/dh_0 of one unbatched sequence x (T, I), shape (H, H).

    For an LSTM cell pass c0 too; the Jacobian is then taken of h_T with respect to h_0,
    with c_0 held fixed.
    """
    _check_module("cell", cell, "a recurrent cell")
    _check_x(x, (2,), "one unbatched sequence (T, I)")
    for name, t in (("h0", h0), ("c0", c0)):
        if t is not None and not (isinstance(t, Tensor) and t.dim() == 1):
            raise ValueError(f"{name} must be an unbatched state of shape (H,), got "
                             f"{tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__}")

    def final_hidden(h):
        state = h if c0 is None else (h, c0)
        return _hidden(unroll(cell, x, state)[-1])

    return torch.autograd.functional.jacobian(final_hidden, h0)


# ---------------------------------------------------------------------------
# Products of step Jacobians: ||dh_t/dh_0|| for every t of one sequence
# ---------------------------------------------------------------------------


NORMS = (2, -2, 1, -1, float("inf"), float("-inf"), "fro", "nuc")
"""The matrix norms of torch.linalg.matrix_norm."""


def jacobian_norms(cell: nn.Module, x: Tensor, state0, ord: float | str = 2) -> Tensor:
    """||ds_t/ds_0|| for t = 1..T, along one unbatched sequence x of shape (T, I).

    The state s is h for RNN and GRU cells; for an LSTM cell pass state0 = (h0, c0), and
    s is the concatenation [h; c] of size 2H. The Jacobian of every step,
    J_t = ds_t/ds_{t-1}, is taken by autograd at the state the sequence actually reaches,
    and the products J_t ... J_1 are accumulated one step at a time, so the whole curve
    costs about as much as its last point. `ord` is a matrix norm as in
    `torch.linalg.matrix_norm`: 2 (the largest singular value, the default) or "fro".

    Use float64 weights for long sequences: the norms can fall below float32's range.
    """
    _check_module("cell", cell, "a recurrent cell")
    _check_x(x, (2,), "one unbatched sequence (T, I)")
    if ord not in NORMS:
        raise ValueError(f"ord must be one of {NORMS}, got {ord!r}")
    is_pair = isinstance(state0, (tuple, list))
    parts = tuple(state0) if is_pair else (state0,)
    if not all(isinstance(p, Tensor) and p.dim() == 1 for p in parts):
        raise ValueError("state0 must be an unbatched state: h0 of shape (H,), or (h0, c0)")
    size = parts[0].numel()

    def step(s: Tensor, x_t: Tensor) -> Tensor:
        new = cell(x_t, (s[:size], s[size:]) if is_pair else s)
        return torch.cat(new) if is_pair else new

    s = torch.cat(parts).detach()
    product = torch.eye(s.numel(), dtype=s.dtype, device=s.device)
    norms = []
    for x_t in x:
        jac = torch.autograd.functional.jacobian(lambda v, x_t=x_t: step(v, x_t), s,
                                                 vectorize=True)
        product = jac @ product
        with torch.no_grad():
            s = step(s, x_t)
        norms.append(torch.linalg.matrix_norm(product, ord=ord))
    return torch.stack(norms).detach()


# ---------------------------------------------------------------------------
# Recurrent layers and SequenceModels, one step at a time
# ---------------------------------------------------------------------------


def layer_states(layer: nn.Module, x: Tensor, state=None) -> list:
    """Run a recurrent layer over x one time step at a time; return the T final states.

    `layer` is a one-directional RNN, LSTM or GRU (torch.nn's or rnnbook's) and x is
    (B, T, I) if `layer.batch_first`, else (T, B, I). Each returned state is what the layer
    returns as its last element for one step: h of shape (num_layers, B, H), or (h, c).
    Every state is a node of the autograd graph that the next step reads, so a gradient
    with respect to it includes every later path.
    """
    if not isinstance(layer, (nn.RNNBase, RecurrentBase)):
        raise TypeError(f"layer must be a recurrent layer (RNN, LSTM or GRU), "
                        f"got {type(layer).__name__}")
    if layer.bidirectional:
        raise ValueError("layer must be one-directional: a bidirectional layer cannot be "
                         "run one step at a time")
    _check_x(x, (3,), "a batch of sequences with 3 dimensions")
    time_dim = 1 if layer.batch_first else 0
    states = []
    for x_t in x.split(1, dim=time_dim):
        _, state = layer(x_t, state)
        states.append(state)
    return states


def model_grad_norms(model: nn.Module, x: Tensor, y: Tensor, loss_fn: Callable,
                     per_sample: bool = False) -> Tensor:
    """||dL/dh_t|| for t = 1..T, where L = loss_fn(model(x), y) and h_t is the hidden
    state of the model's top recurrent layer after step t.

    `model` is an `rnnbook.SequenceModel` (or any module with a batch-first `rnn` layer and
    a `head` applied like SequenceModel's). The loss is the one `model(x)` would give; the
    model is run step by step so that each h_t is a node of the graph.

    Returns T norms (over batch and units together), or with `per_sample=True` a (B, T)
    tensor with one norm per sequence (over units). With a loss that averages over the
    batch, each sequence's gradient carries that 1/B factor.

    Over long sequences the norms reaching early steps can fall below float32's range and
    read as exactly 0: measure in float64 (`model.double()`, `x.double()`) to see them.
    """
    if not (hasattr(model, "rnn") and hasattr(model, "head")):
        raise TypeError(f"model must be a SequenceModel (with .rnn and .head), "
                        f"got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(y, Tensor):
        raise TypeError(f"y must be a torch.Tensor, got {type(y).__name__}")
    per_sample = check_bool("per_sample", per_sample)
    states = layer_states(model.rnn, x)
    hs = [_hidden(s) for s in states]                      # each (num_layers, B, H)
    top = [h[-1] for h in hs]
    out = torch.stack(top, dim=1) if model.every_step else top[-1]
    pred = model.head(out)
    if model.squeeze:
        pred = pred.squeeze(-1)
    check_loss_inputs(loss_fn, pred, y)                    # (B, 1) against (B,): refused
    loss = _scalar(loss_fn(pred, y))
    grads = torch.autograd.grad(loss, hs, allow_unused=True)
    grads = [g[-1] if g is not None else h[-1].new_zeros(h[-1].shape)
             for g, h in zip(grads, hs, strict=True)]
    g = torch.stack(grads, dim=1)                           # (B, T, H)
    norms = g.norm(dim=-1) if per_sample else g.pow(2).sum(dim=(0, 2)).sqrt()
    return norms.detach()


# ---------------------------------------------------------------------------
# Looking inside a trained layer
# ---------------------------------------------------------------------------


def gate_trace(layer: nn.Module, x: Tensor, state=None) -> dict[str, Tensor]:
    """Everything a one-layer, one-directional layer computes at every step of x.

    `layer` is an RNN, LSTM (without projections) or GRU, torch.nn's or rnnbook's, or a
    ChoGRU; x is (B, T, I) if `layer.batch_first`, else (T, B, I); `state` is h0 (B, H), or
    (h0, c0) for an LSTM, zeros by default. The layer's weights run through the same
    equations (`rnnbook.gates`) as its cell, and the result holds every value they compute,
    always batch first, (B, T, H): "h" for the RNN; "i", "f", "g", "o", "c", "h" for the
    LSTM; "r", "z", "n", "h" for the GRUs. "h" equals the layer's output (the tests check),
    so the gates shown are the ones the layer used. Values only: no gradient flows back.
    """
    cell = layer_cell(layer, impl="rnnbook")
    if layer.num_layers != 1:
        raise ValueError(f"gate_trace reads one-layer layers, got num_layers={layer.num_layers}")
    if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != cell.input_size:
        raise ValueError(f"x must be a batch of sequences (3 dimensions) with "
                         f"{cell.input_size} features, got "
                         f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
    if x.dtype != cell.weight_ih.dtype:
        raise ValueError(f"x dtype ({x.dtype}) does not match the layer's weights "
                         f"({cell.weight_ih.dtype}): convert x with x.to({cell.weight_ih.dtype})")
    if x.size(0) == 0 or x.size(1) == 0:
        raise ValueError(f"x must hold at least one sequence of one step, got shape "
                         f"{tuple(x.shape)}")
    x = x if layer.batch_first else x.transpose(0, 1)          # (B, T, I)
    with torch.no_grad():
        shape = (x.size(0), cell.hidden_size)
        names = ("h0", "c0")[:len(cell.state_keys)]
        state = as_state(state, names, (shape,) * len(names), x, arg="state")
        x_proj = nn.functional.linear(x, cell.weight_ih, cell.bias_ih)   # all steps at once
        steps = []
        for t in range(x.size(1)):
            out = cell.step(x_proj[:, t], state)
            state = tuple(out[key] for key in cell.state_keys)
            steps.append(out)
    return {key: torch.stack([step[key] for step in steps], dim=1) for key in steps[0]}

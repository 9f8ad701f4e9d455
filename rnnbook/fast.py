"""Fast paths for the recurrent layers: where the book trades readability for speed.

    lstm = FastLSTM(32, 128)          # rnnbook.LSTM's interface, its loop in LSTMSequence
    output, (h_n, c_n) = lstm(x)

`rnnbook.layers` is written to be read: one call of the equations per step, autograd for
the backward pass. This module holds the versions chapter 15 measures against torch.nn,
each proven equal to it by the tests. `python -m rnnbook.bench` times them side by side.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence

from rnnbook.checks import InputError
from rnnbook.layers import LSTM

__all__ = ["FastLSTM", "LSTMSequence"]


class LSTMSequence(torch.autograd.Function):
    """The LSTM's loop over time, with backpropagation through time written by hand.

    Why: leaving the backward pass to autograd costs a dozen small graph nodes and a
    weight-gradient matmul per step; here the forward pass computes the gates in place,
    and the backward pass computes dL/dW_hh for all steps in one matmul at the end. The
    equations are those of `rnnbook.gates.lstm_step`, written out in place; the tests
    check FastLSTM against `nn.LSTM` and against `rnnbook.LSTM`.
    The backward pass is not itself differentiable: asking for a second derivative (with
    create_graph=True, gradgradcheck, a Hessian) raises an error that says so and points to
    rnnbook.LSTM, instead of giving a wrong result.

    forward(x_proj, h0, c0, w_hh) -> (outputs, h_T, c_T), where x_proj (T, B, 4H) holds
    W_ih x_t + b_ih + b_hh for every step.
    """

    @staticmethod
    def forward(ctx, x_proj, h0, c0, w_hh):
        _check_sequence(x_proj, h0, c0, w_hh)
        steps, H = x_proj.size(0), w_hh.size(1)
        acts = torch.empty_like(x_proj)                  # i, f, g, o after activation
        hs = x_proj.new_empty(steps + 1, *h0.shape)      # h_0 ... h_T
        cs = x_proj.new_empty(steps + 1, *c0.shape)      # c_0 ... c_T
        tanh_cs = x_proj.new_empty(steps, *c0.shape)     # tanh(c_1) ... tanh(c_T)
        hs[0], cs[0] = h0, c0
        # Per-step views, made once: the loop then runs only arithmetic.
        a, i, f, g, o = _step_views(acts, H)
        i_f = acts[..., :2 * H].unbind(0)
        h, c, tanh_c, x = hs.unbind(0), cs.unbind(0), tanh_cs.unbind(0), x_proj.unbind(0)
        w_t = w_hh.t()
        for t in range(steps):
            torch.addmm(x[t], h[t], w_t, out=a[t])       # all four gates in one matmul
            i_f[t].sigmoid_()
            g[t].tanh_()
            o[t].sigmoid_()
            torch.mul(f[t], c[t], out=c[t + 1]).addcmul_(i[t], g[t])   # c = f c + i g
            torch.tanh(c[t + 1], out=tanh_c[t])
            torch.mul(o[t], tanh_c[t], out=h[t + 1])                   # h = o tanh(c)
        ctx.save_for_backward(acts, hs, cs, tanh_cs, w_hh, x_proj, h0, c0)
        return hs[1:].clone(), hs[steps].clone(), cs[steps].clone()

    @staticmethod
    def backward(ctx, d_out, d_h_last, d_c_last):
        with torch.no_grad():
            grads = _backward(ctx, d_out, d_h_last, d_c_last)
        if torch.is_grad_enabled():          # create_graph=True: a second derivative may follow
            # Tie each gradient to the inputs and incoming gradients through a node that
            # raises when differentiated. Without it the gradients would look constant to
            # autograd, and a second derivative would silently come out wrong.
            ties = [t for t in (*ctx.saved_tensors[4:], d_out, d_h_last, d_c_last)
                    if t.requires_grad]
            grads = tuple(None if g is None else _FirstDerivativeOnly.apply(g, *ties)
                          for g in grads)
        return grads


class _FirstDerivativeOnly(torch.autograd.Function):
    """Passes a gradient through; refuses, clearly, to be differentiated."""

    @staticmethod
    def forward(ctx, grad, *ties):
        return grad.clone()

    @staticmethod
    def backward(ctx, _):
        raise RuntimeError("FastLSTM's hand-written backward pass (rnnbook.fast.LSTMSequence) "
                           "is not differentiable, so it gives no second derivatives "
                           "(create_graph=True, gradgradcheck, Hessians): use rnnbook.LSTM, "
                           "whose backward pass autograd derives")


def _backward(ctx, d_out, d_h_last, d_c_last):
    """Backpropagation through time for LSTMSequence, written out. Its central line,
    dL/dc_{t-1} = f_t * dL/dc_t, is the "highway" of chapter 05; chapter 15 is about the rest."""
    acts, hs, cs, tanh_cs, w_hh = ctx.saved_tensors[:5]
    H = w_hh.size(1)
    # Derivatives of the activations for all steps at once: s(1 - s) for the sigmoid
    # gates, 1 - g^2 for the candidate, 1 - tanh(c)^2 for the cell's output tanh.
    slope = acts * (1 - acts)
    slope[..., 2 * H:3 * H] = 1 - acts[..., 2 * H:3 * H] ** 2
    tanh_slope = (1 - tanh_cs ** 2).unbind(0)
    d_gates = torch.empty_like(acts)
    _, i, f, g, o = _step_views(acts, H)
    d_a, d_i, d_f, d_g, d_o = _step_views(d_gates, H)
    slope, tanh_c, c = slope.unbind(0), tanh_cs.unbind(0), cs.unbind(0)
    d_out = d_out.unbind(0)
    dh, dc = d_h_last.clone(), d_c_last.clone()
    for t in reversed(range(acts.size(0))):
        dh += d_out[t]                                # from the output and from t+1
        torch.mul(dh, tanh_c[t], out=d_o[t])          # dL/do
        dc.addcmul_(dh * o[t], tanh_slope[t])         # dL/dc_t, also through h_t
        torch.mul(dc, g[t], out=d_i[t])               # dL/di
        torch.mul(dc, c[t], out=d_f[t])               # dL/df   (c[t] is c_{t-1})
        torch.mul(dc, i[t], out=d_g[t])               # dL/dg
        d_a[t].mul_(slope[t])                         # through the activations
        dc.mul_(f[t])                                 # dL/dc_{t-1} = f * dL/dc_t
        dh = torch.mm(d_a[t], w_hh)                   # dL/dh_{t-1}
    d_w = None
    if ctx.needs_input_grad[3]:                       # all steps in one matmul
        d_w = d_gates.flatten(0, 1).t() @ hs[:-1].flatten(0, 1)
    return d_gates, dh, dc, d_w


def _check_sequence(x_proj, h0, c0, w_hh) -> None:
    """The shapes LSTMSequence needs, with messages naming the argument."""
    for name, t in (("x_proj", x_proj), ("h0", h0), ("c0", c0), ("w_hh", w_hh)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if w_hh.dim() != 2 or w_hh.size(0) != 4 * w_hh.size(1):
        H = w_hh.size(0) // 4 if w_hh.dim() else 0
        raise InputError(f"w_hh must have shape ({4 * H}, {H}), (4 * H, H), "
                         f"got {tuple(w_hh.shape)}")
    H = w_hh.size(1)
    B = x_proj.size(1) if x_proj.dim() == 3 else "B"
    if x_proj.dim() != 3 or x_proj.size(2) != 4 * H:
        raise InputError(f"x_proj must be (T, B, 4 * H) = (T, {B}, {4 * H}), "
                         f"got {tuple(x_proj.shape)}")
    if x_proj.size(0) == 0:
        raise InputError(f"x_proj must hold at least one step, got {tuple(x_proj.shape)}")
    for name, t in (("h0", h0), ("c0", c0), ("w_hh", w_hh)):
        if name != "w_hh" and tuple(t.shape) != (B, H):
            raise InputError(f"{name} must have shape {(B, H)}, got {tuple(t.shape)}")
        if t.dtype != x_proj.dtype:
            raise InputError(f"{name} has dtype {t.dtype} but x_proj has {x_proj.dtype}")


def _step_views(gates: Tensor, H: int):
    """Per-step views of a (T, B, 4H) gate tensor: whole, then i, f, g, o blocks."""
    return (gates.unbind(0),) + tuple(gates[..., k * H:(k + 1) * H].unbind(0)
                                       for k in range(4))


class FastLSTM(LSTM):
    """rnnbook.LSTM with its loop over time in LSTMSequence: gates computed in place and a
    hand-written backward pass. Same arguments, parameters and results, except that it
    takes neither projections (proj_size) nor PackedSequence input: use LSTM for those."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.proj_size:
            raise ValueError("FastLSTM has no projections: use rnnbook.LSTM for proj_size > 0")

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            raise TypeError("FastLSTM takes padded input only: use rnnbook.LSTM for a "
                            "PackedSequence")
        return super().forward(input, hx)

    def _run_direction(self, x_proj: Tensor, state, options: dict, reverse: bool, alive):
        if options["b_hh"] is not None:
            x_proj = x_proj + options["b_hh"]
        if reverse:
            x_proj = x_proj.flip(0)
        outputs, h, c = LSTMSequence.apply(x_proj, state[0], state[1], options["w_hh"])
        return (outputs.flip(0) if reverse else outputs), (h, c)

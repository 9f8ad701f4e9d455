"""Recurrent cells and layers, written from tensor operations.

Each class mirrors its `torch.nn` namesake: the same constructor arguments, the same
forward inputs and return values, and the same parameter names and shapes. So

    ours.load_state_dict(theirs.state_dict())

works in both directions, and the tests check that outputs and gradients agree.

The update equations live in three small functions, `rnn_step`, `lstm_step` and
`gru_step`, shared by the cells (one time step) and the layers (a whole sequence).
Every state is a tuple: `(h,)` for the RNN and GRU, `(h, c)` for the LSTM.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

# ---------------------------------------------------------------------------
# The equations. `x_proj` is the input already projected, W_ih x + b_ih: the layers
# compute it for all time steps at once, outside the loop over time.
# ---------------------------------------------------------------------------


def rnn_step(x_proj: Tensor, state: tuple[Tensor], w_hh: Tensor, b_hh: Tensor | None,
             nonlinearity: str = "tanh") -> tuple[Tensor]:
    """h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""
    (h,) = state
    pre = x_proj + F.linear(h, w_hh, b_hh)
    return (torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre),)


def lstm_step(x_proj: Tensor, state: tuple[Tensor, Tensor], w_hh: Tensor,
              b_hh: Tensor | None) -> tuple[Tensor, Tensor]:
    """One LSTM step, gates in PyTorch's order: input, forget, candidate g, output."""
    h, c = state
    i, f, g, o = (x_proj + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    i = torch.sigmoid(i)          # input gate: how much of the candidate to write
    f = torch.sigmoid(f)          # forget gate: how much of the old cell to keep
    g = torch.tanh(g)             # candidate values
    o = torch.sigmoid(o)          # output gate: how much of the cell to show
    c = f * c + i * g
    h = o * torch.tanh(c)
    return h, c


def gru_step(x_proj: Tensor, state: tuple[Tensor], w_hh: Tensor,
             b_hh: Tensor | None) -> tuple[Tensor]:
    """One GRU step in PyTorch's form: the reset gate multiplies W_hn h + b_hn."""
    (h,) = state
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)  # reset gate
    z = torch.sigmoid(x_z + h_z)  # update gate: 1 keeps the old state
    n = torch.tanh(x_n + r * h_n)  # candidate state
    return ((1 - z) * n + z * h,)


# ---------------------------------------------------------------------------
# Shared checks
# ---------------------------------------------------------------------------

def _check_sizes(input_size: int, hidden_size: int) -> None:
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_nonlinearity(nonlinearity: str) -> None:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def _check_input(input: Tensor, input_size: int, ndims: tuple[int, int], what: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
    if input.dim() not in ndims:
        raise ValueError(f"{what} input must have {ndims[0]} or {ndims[1]} dimensions, "
                         f"got shape {tuple(input.shape)}")
    if input.size(-1) != input_size:
        raise ValueError(f"input must have {input_size} features in its last dimension "
                         f"(input_size), got shape {tuple(input.shape)}")


def _check_state(t: Tensor, expected: tuple[int, ...], name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if tuple(t.shape) != expected:
        raise ValueError(f"{name} must have shape {expected}, got {tuple(t.shape)}")


def _as_tuple(hx, n: int, name: str) -> tuple[Tensor, ...]:
    """Turn `h0` or `(h0, c0)` into a tuple of n tensors."""
    if n == 1:
        if isinstance(hx, (tuple, list)):
            raise TypeError(f"{name} must be a single tensor h0, got a {type(hx).__name__}")
        return (hx,)
    if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
        raise TypeError(f"{name} must be a tuple (h0, c0), got {type(hx).__name__}")
    return tuple(hx)


def _add_weights(module: nn.Module, suffix: str, gates: int, input_size: int,
                 hidden_size: int, bias: bool, device, dtype) -> None:
    """Register weight_ih, weight_hh (and bias_ih, bias_hh) + suffix, as torch.nn does:
    the gates' blocks of hidden_size rows stacked in one matrix."""
    rows, kw = gates * hidden_size, {"device": device, "dtype": dtype}
    shapes = {"weight_ih": (rows, input_size), "weight_hh": (rows, hidden_size)}
    if bias:
        shapes.update(bias_ih=(rows,), bias_hh=(rows,))
    for name, shape in shapes.items():
        module.register_parameter(name + suffix, nn.Parameter(torch.empty(shape, **kw)))
    if not bias and not suffix:          # cells expose bias_ih = None, like nn.RNNCell
        module.register_parameter("bias_ih", None)
        module.register_parameter("bias_hh", None)


def _reset(module: nn.Module) -> None:
    """PyTorch's initialisation: every parameter ~ U(-1/sqrt(H), 1/sqrt(H))."""
    k = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -k, k)


# ---------------------------------------------------------------------------
# Cells: one time step
# ---------------------------------------------------------------------------

class _Cell(nn.Module):
    gates = 1       # how many blocks of hidden_size rows the weights stack
    state_names = ("hx",)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        _check_sizes(input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        _add_weights(self, "", self.gates, input_size, hidden_size, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset(self)

    def step(self, x_proj, state, w_hh, b_hh):
        raise NotImplementedError

    def forward(self, input: Tensor, hx=None):
        _check_input(input, self.input_size, (1, 2), type(self).__name__)
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        shape = (input.size(0), self.hidden_size)
        if hx is None:
            state = tuple(input.new_zeros(shape) for _ in self.state_names)
        else:
            state = _as_tuple(hx, len(self.state_names), "hx")
            for t, name in zip(state, self.state_names, strict=True):
                _check_state(t, shape if batched else shape[1:], name)
            if not batched:
                state = tuple(t.unsqueeze(0) for t in state)
        x_proj = F.linear(input, self.weight_ih, self.bias_ih)
        state = self.step(x_proj, state, self.weight_hh, self.bias_hh)
        if not batched:
            state = tuple(t.squeeze(0) for t in state)
        return state if len(state) > 1 else state[0]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


class RNNCell(_Cell):
    """Elman cell: h' = tanh(W_ih x + b_ih + W_hh h + b_hh). Returns h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        _check_nonlinearity(nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def step(self, x_proj, state, w_hh, b_hh):
        return rnn_step(x_proj, state, w_hh, b_hh, self.nonlinearity)


class LSTMCell(_Cell):
    """LSTM cell. forward(x, (h, c)) returns (h', c')."""
    gates = 4
    state_names = ("h", "c")

    def step(self, x_proj, state, w_hh, b_hh):
        return lstm_step(x_proj, state, w_hh, b_hh)


class GRUCell(_Cell):
    """GRU cell in PyTorch's formulation. forward(x, h) returns h'."""
    gates = 3

    def step(self, x_proj, state, w_hh, b_hh):
        return gru_step(x_proj, state, w_hh, b_hh)


# ---------------------------------------------------------------------------
# Layers: whole sequences, stacked and optionally bidirectional
# ---------------------------------------------------------------------------

class _Recurrent(nn.Module):
    gates = 1
    state_names = ("h0",)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        _check_sizes(input_size, hidden_size)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be an int >= 1, got {num_layers!r}")
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout acts between stacked layers, so it has no effect with "
                          "num_layers=1", stacklevel=2)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes(layer):
                _add_weights(self, suffix, self.gates, layer_in, hidden_size, bias, device,
                             dtype)
        self.reset_parameters()

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    def reset_parameters(self) -> None:
        _reset(self)

    def step(self, x_proj, state, w_hh, b_hh):
        raise NotImplementedError

    def _weights(self, suffix: str):
        get = lambda name: getattr(self, f"{name}{suffix}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _initial_state(self, hx, batch: int, batched: bool, like: Tensor):
        shape = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if hx is None:
            return tuple(like.new_zeros(shape) for _ in self.state_names)
        hx = _as_tuple(hx, len(self.state_names), "hx")
        for t, name in zip(hx, self.state_names, strict=True):
            _check_state(t, shape if batched else (shape[0], shape[2]), name)
        return hx if batched else tuple(t.unsqueeze(1) for t in hx)

    def _run_direction(self, x_proj: Tensor, state, w_hh, b_hh, reverse: bool):
        """Run one direction of one layer over time. x_proj is (T, B, gates*H)."""
        inputs = x_proj.unbind(0)
        outputs = [None] * len(inputs)
        order = reversed(range(len(inputs))) if reverse else range(len(inputs))
        for t in order:
            state = self.step(inputs[t], state, w_hh, b_hh)
            outputs[t] = state[0]
        return torch.stack(outputs), state

    def forward(self, input: Tensor, hx=None):
        if isinstance(input, PackedSequence):
            raise TypeError("PackedSequence input is not supported by rnnbook's layers; "
                            "pass a padded tensor instead")
        _check_input(input, self.input_size, (2, 3), type(self).__name__)
        batched = input.dim() == 3
        if not batched:
            x = input.unsqueeze(1)                      # (T, 1, I)
        else:
            x = input.transpose(0, 1) if self.batch_first else input  # (T, B, I)
        state0 = self._initial_state(hx, x.size(1), batched, x)

        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                w_ih, w_hh, b_ih, b_hh = self._weights(suffix)
                idx = layer * self.num_directions + direction
                x_proj = F.linear(x, w_ih, b_ih)        # all time steps in one matmul
                seq, state = self._run_direction(x_proj, tuple(s[idx] for s in state0),
                                                 w_hh, b_hh, reverse=direction == 1)
                outputs.append(seq)
                finals.append(state)
            x = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)

        final = tuple(torch.stack(parts) for parts in zip(*finals, strict=True))
        if not batched:
            x, final = x.squeeze(1), tuple(t.squeeze(1) for t in final)
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, (final if len(final) > 1 else final[0])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(_Recurrent):
    """Multi-layer Elman RNN, like `torch.nn.RNN`. Returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        _check_nonlinearity(nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)

    def step(self, x_proj, state, w_hh, b_hh):
        return rnn_step(x_proj, state, w_hh, b_hh, self.nonlinearity)


class LSTMSequence(torch.autograd.Function):
    """The LSTM's loop over time, with backpropagation through time written by hand.

    Why: on the CPU, `nn.LSTM` runs oneDNN's fused LSTM kernel. Leaving the backward pass
    to autograd costs a dozen small graph nodes and a weight-gradient matmul per step;
    here the forward pass computes the gates in place, and the backward pass (chapter 03
    derives it) computes dL/dW_hh for all steps in one matmul at the end. The equations
    are exactly those of `lstm_step`, and the tests check both against `nn.LSTM`.

    forward(x_proj, h0, c0, w_hh) -> (outputs, h_T, c_T), where x_proj (T, B, 4H) holds
    W_ih x_t + b_ih + b_hh for every step.
    """

    @staticmethod
    def forward(ctx, x_proj, h0, c0, w_hh):
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
        ctx.save_for_backward(acts, hs, cs, tanh_cs, w_hh)
        return hs[1:].clone(), hs[steps].clone(), cs[steps].clone()

    @staticmethod
    def backward(ctx, d_out, d_h_last, d_c_last):
        acts, hs, cs, tanh_cs, w_hh = ctx.saved_tensors
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


def _step_views(gates: Tensor, H: int):
    """Per-step views of a (T, B, 4H) gate tensor: whole, then i, f, g, o blocks."""
    return (gates.unbind(0),) + tuple(gates[..., k * H:(k + 1) * H].unbind(0)
                                       for k in range(4))


class LSTM(_Recurrent):
    """Multi-layer LSTM, like `torch.nn.LSTM`. Returns (output, (h_n, c_n)).

    The loop over time runs in `LSTMSequence`, the same equations as `lstm_step` with a
    hand-written backward pass, for speed.
    """
    gates = 4
    state_names = ("h0", "c0")

    def step(self, x_proj, state, w_hh, b_hh):
        return lstm_step(x_proj, state, w_hh, b_hh)

    def _run_direction(self, x_proj, state, w_hh, b_hh, reverse: bool):
        if b_hh is not None:
            x_proj = x_proj + b_hh
        if reverse:
            x_proj = x_proj.flip(0)
        outputs, h, c = LSTMSequence.apply(x_proj, state[0], state[1], w_hh)
        return (outputs.flip(0) if reverse else outputs), (h, c)


class GRU(_Recurrent):
    """Multi-layer GRU, like `torch.nn.GRU`. Returns (output, h_n)."""
    gates = 3

    def step(self, x_proj, state, w_hh, b_hh):
        return gru_step(x_proj, state, w_hh, b_hh)

"""rnnbook.gates: each cell's equations, against the same equations written gate by gate."""

import pytest
import torch
from torch import nn

from rnnbook import gates
from rnnbook.checks import InputError

F64 = torch.float64
TOL = {"rtol": 1e-12, "atol": 1e-14}
B, I, H, P = 3, 2, 4, 2


def randn(*shape, seed=0):
    return torch.randn(*shape, dtype=F64, generator=torch.Generator().manual_seed(seed))


def weights(n_gates, bias=True, seed=0, state_size=H):
    w_ih, w_hh = randn(n_gates * H, I, seed=seed), randn(n_gates * H, state_size, seed=seed + 1)
    b_ih = randn(n_gates * H, seed=seed + 2) if bias else torch.zeros(n_gates * H, dtype=F64)
    b_hh = randn(n_gates * H, seed=seed + 3) if bias else None
    return w_ih, w_hh, b_ih, b_hh


def blocks(w, n):
    return w.chunk(n) if w is not None else [0.0] * n


# --- the equations, one gate per line, as the papers write them ---------------------------

def reference_rnn(x, h, w_ih, w_hh, b_ih, b_hh, act):
    b_hh = 0.0 if b_hh is None else b_hh
    return {"h": act(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)}


def reference_lstm(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    W_ii, W_if, W_ig, W_io = w_ih.chunk(4)
    W_hi, W_hf, W_hg, W_ho = w_hh.chunk(4)
    b_ii, b_if, b_ig, b_io = b_ih.chunk(4)
    b_hi, b_hf, b_hg, b_ho = blocks(b_hh, 4)
    i = torch.sigmoid(x @ W_ii.T + b_ii + h @ W_hi.T + b_hi)
    f = torch.sigmoid(x @ W_if.T + b_if + h @ W_hf.T + b_hf)
    g = torch.tanh(x @ W_ig.T + b_ig + h @ W_hg.T + b_hg)
    o = torch.sigmoid(x @ W_io.T + b_io + h @ W_ho.T + b_ho)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h if w_hr is None else h @ w_hr.T}


def reference_gru(x, h, w_ih, w_hh, b_ih, b_hh, reset_after):
    W_ir, W_iz, W_in = w_ih.chunk(3)
    W_hr, W_hz, W_hn = w_hh.chunk(3)
    b_ir, b_iz, b_in = b_ih.chunk(3)
    b_hr, b_hz, b_hn = blocks(b_hh, 3)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    if reset_after:                                   # PyTorch, cuDNN, Keras reset_after=True
        n = torch.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))
    else:                                             # Cho et al. (2014)
        n = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    return {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * h}


def assert_same(ours: dict, expected: dict):
    assert list(ours) == list(expected)
    for key in expected:
        torch.testing.assert_close(ours[key], expected[key], **TOL)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_is_elmans_equation(nonlinearity, bias):
    w_ih, w_hh, b_ih, b_hh = weights(1, bias)
    x, h = randn(B, I, seed=7), randn(B, H, seed=8)
    ours = gates.rnn_step(x @ w_ih.T + b_ih, (h,), w_hh, b_hh, nonlinearity)
    assert_same(ours, reference_rnn(x, h, w_ih, w_hh, b_ih, b_hh, gates.ACTIVATIONS[nonlinearity]))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("proj", [False, True])
def test_lstm_step_is_the_lstm_with_a_forget_gate(bias, proj):
    w_ih, w_hh, b_ih, b_hh = weights(4, bias, state_size=P if proj else H)
    w_hr = randn(P, H, seed=9) if proj else None
    x, h, c = randn(B, I, seed=7), randn(B, P if proj else H, seed=8), randn(B, H, seed=10)
    ours = gates.lstm_step(x @ w_ih.T + b_ih, (h, c), w_hh, b_hh, w_hr)
    expected = reference_lstm(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr)
    assert_same(ours, expected)
    assert ours["h"].shape == (B, P if proj else H) and ours["c"].shape == (B, H)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("step, reset_after", [(gates.gru_step, True),
                                               (gates.cho_gru_step, False)])
def test_gru_steps_are_their_papers_equations(step, reset_after, bias):
    w_ih, w_hh, b_ih, b_hh = weights(3, bias)
    x, h = randn(B, I, seed=7), randn(B, H, seed=8)
    ours = step(x @ w_ih.T + b_ih, (h,), w_hh, b_hh)
    assert_same(ours, reference_gru(x, h, w_ih, w_hh, b_ih, b_hh, reset_after))


def test_the_two_gru_forms_differ_and_agree_where_the_reset_commutes():
    w_ih, w_hh, b_ih, b_hh = weights(3)
    x, h = randn(B, I, seed=7), randn(B, H, seed=8)
    x_proj = x @ w_ih.T + b_ih
    a, b = gates.gru_step(x_proj, (h,), w_hh, b_hh), gates.cho_gru_step(x_proj, (h,), w_hh, b_hh)
    torch.testing.assert_close(a["r"], b["r"], **TOL)        # the gates read the same sums
    torch.testing.assert_close(a["z"], b["z"], **TOL)
    assert (a["n"] - b["n"]).abs().max() > 1e-3              # the candidates differ
    # r * (W h) == W (r * h) when W_hn is diagonal, and the forms agree when b_hn = 0.
    w_hh, b_hh = w_hh.clone(), b_hh.clone()
    w_hh[2 * H:] = torch.diag(randn(H, seed=11))
    b_hh[2 * H:] = 0.0
    assert_same(gates.gru_step(x_proj, (h,), w_hh, b_hh),
                gates.cho_gru_step(x_proj, (h,), w_hh, b_hh))


def test_every_step_equals_torch_nns_cell():
    x = randn(B, I, seed=7)
    for step, cls, state in [(gates.rnn_step, nn.RNNCell, 1), (gates.gru_step, nn.GRUCell, 1),
                             (gates.lstm_step, nn.LSTMCell, 2)]:
        torch.manual_seed(0)
        cell = cls(I, H, dtype=F64)
        hx = tuple(randn(B, H, seed=20 + k) for k in range(state))
        out = step(x @ cell.weight_ih.T + cell.bias_ih, hx, cell.weight_hh, cell.bias_hh)
        theirs = cell(x, hx if state == 2 else hx[0])
        theirs = theirs if state == 2 else (theirs,)
        for key, value in zip(("h", "c"), theirs, strict=False):
            torch.testing.assert_close(out[key], value, **TOL)


@pytest.mark.parametrize("step, n_gates", [(gates.rnn_step, 1), (gates.lstm_step, 4),
                                           (gates.gru_step, 3), (gates.cho_gru_step, 3)])
def test_gradcheck_and_gradgradcheck_of_every_step(step, n_gates):
    w_ih, w_hh, b_ih, b_hh = weights(n_gates)
    x_proj = (randn(2, I, seed=7) @ w_ih.T + b_ih).requires_grad_()
    state = tuple(randn(2, H, seed=8 + k).requires_grad_() for k in range(2 if n_gates == 4 else 1))
    w_hh, b_hh = w_hh.requires_grad_(), b_hh.requires_grad_()

    def f(x_proj, w_hh, b_hh, *state):
        return tuple(step(x_proj, state, w_hh, b_hh).values())

    args = (x_proj, w_hh, b_hh, *state)
    assert torch.autograd.gradcheck(f, args)
    assert torch.autograd.gradgradcheck(f, args)


# --- bad input: every step checks its arguments (issue 19) ---------------------------------

def test_rnn_step_refuses_an_unknown_nonlinearity_instead_of_running_relu():
    w_ih, w_hh, b_ih, b_hh = weights(1)
    with pytest.raises(ValueError, match=r"nonlinearity must be one of \('tanh', 'relu'\), "
                                         r"got 'sigmoid'"):
        gates.rnn_step(randn(B, H), (randn(B, H),), w_hh, b_hh, nonlinearity="sigmoid")


def lstm_args(**change):
    w_ih, w_hh, b_ih, b_hh = weights(4)
    args = dict(x_proj=randn(B, 4 * H), state=(randn(B, H), randn(B, H)), w_hh=w_hh, b_hh=b_hh)
    args.update(change)
    return args


@pytest.mark.parametrize("change, error, match", [
    # an unbatched state would broadcast over the batch: refused
    (dict(state=(randn(H), randn(H))), InputError,
     r"h must be a tensor of shape \(3, 4\), got a tensor of shape \(4,\)"),
    (dict(state=(randn(B, H), randn(1, H))), InputError, r"c must be a tensor of shape \(3, 4\)"),
    (dict(state=(randn(B, H),)), TypeError, r"state must be a tuple \(h, c\), got a tuple of 1"),
    (dict(state=randn(B, H)), TypeError,
     r"state must be a tuple \(h, c\), got a tensor of shape \(3, 4\)"),
    (dict(state=(randn(B, H), [0.0] * H)), TypeError, r"c must be a torch.Tensor, got \[0.0, "),
    (dict(x_proj=randn(B, 3 * H)), InputError,
     r"x_proj must be a tensor \(batch, 4 \* hidden_size\)"),
    (dict(x_proj=randn(B, 1, 4 * H)), InputError, r"got x_proj a tensor of shape \(3, 1, 16\)"),
    (dict(x_proj=[[0.0]]), TypeError, r"x_proj must be a torch.Tensor, got \[\[0.0\]\]"),
    (dict(w_hh=randn(4 * H, H + 1)), InputError, r"w_hh must be a tensor of shape \(16, 4\)"),
    (dict(w_hh=randn(4 * H + 1, H)), InputError, r"w_hh a tensor \(4 \* hidden_size"),
    (dict(b_hh=randn(H)), InputError,
     r"b_hh must be a tensor of shape \(16,\), got a tensor of shape \(4,\)"),
    (dict(b_hh=randn(4 * H).float()), InputError,
     r"b_hh has dtype torch.float32 but x_proj has torch.float64"),
    (dict(state=(randn(B, H).float(), randn(B, H))), InputError, r"h has dtype torch.float32"),
    (dict(w_hr=randn(H, P)), InputError, r"w_hr must be a tensor of shape \(4, 4\)"),
])
def test_lstm_step_says_which_argument_is_wrong(change, error, match):
    with pytest.raises(error, match="lstm_step: .*" + match):
        gates.lstm_step(**lstm_args(**change))


@pytest.mark.parametrize("step, n_gates", [(gates.rnn_step, 1), (gates.gru_step, 3),
                                           (gates.cho_gru_step, 3)])
def test_one_state_steps_refuse_a_broadcasting_state(step, n_gates):
    _, w_hh, _, b_hh = weights(n_gates)
    name = step.__name__
    with pytest.raises(InputError, match=rf"{name}: h must be a tensor of shape \(3, 4\), got "
                                         rf"a tensor of shape \(1, 4\)"):
        step(randn(B, n_gates * H), (randn(1, H),), w_hh, b_hh)
    with pytest.raises(TypeError, match=rf"{name}: state must be a tuple \(h,\)"):
        step(randn(B, n_gates * H), randn(B, H), w_hh, b_hh)

"""rnnbook.gradients against hand-derived Jacobians and independent autograd computations."""

import math

import pytest
import torch
from torch import nn

from rnnbook import GRU, LSTM, RNN, ChoGRU, SequenceModel, cells
from rnnbook.gradients import (
    gate_trace,
    hidden_grad_norms,
    jacobian_norms,
    layer_states,
    model_grad_norms,
    state_jacobian,
    unroll,
)

F64 = torch.float64


def one_unit_rnn(w: float, u: float, b: float) -> nn.RNNCell:
    """A 1-unit tanh RNN cell h' = tanh(w h + u x + b), with the bias all in bias_ih."""
    cell = nn.RNNCell(1, 1, dtype=F64)
    with torch.no_grad():
        cell.weight_hh.fill_(w)
        cell.weight_ih.fill_(u)
        cell.bias_ih.fill_(b)
        cell.bias_hh.zero_()
    return cell


def one_unit_by_hand(w, u, b, xs, h0):
    """States h_1..h_T and the derivatives dh_T/dh_t = prod_{k>t} w (1 - h_k^2), by hand."""
    hs, h = [], h0
    for x in xs:
        h = math.tanh(w * h + u * x + b)
        hs.append(h)
    steps = [w * (1 - h * h) for h in hs]        # dh_k/dh_{k-1}
    d_hT_d_ht = [math.prod(steps[t + 1:]) for t in range(len(hs))]
    return hs, steps, d_hT_d_ht


@pytest.fixture
def seq():
    torch.manual_seed(0)
    return torch.randn(12, 1, dtype=F64)


# ---------------------------------------------------------------------------
# unroll, hidden_grad_norms, state_jacobian
# ---------------------------------------------------------------------------


def test_unroll_matches_the_layer():
    torch.manual_seed(0)
    layer = nn.LSTM(3, 5, dtype=F64)
    cell = nn.LSTMCell(3, 5, dtype=F64)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    x = torch.randn(7, 2, 3, dtype=F64)
    states = unroll(cell, x)
    out, (h_n, c_n) = layer(x)
    assert len(states) == 7 and all(isinstance(s, tuple) for s in states)
    torch.testing.assert_close(torch.stack([h for h, _ in states]), out)
    torch.testing.assert_close(states[-1][1], c_n[0])


def test_unroll_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match="x must be"):
        unroll(nn.RNNCell(1, 1), torch.zeros(2, 3, 4, 1))


def test_state_jacobian_of_one_unit_equals_the_hand_product(seq):
    w, u, b, h0 = 1.7, 0.8, -0.1, 0.3
    _, steps, _ = one_unit_by_hand(w, u, b, seq[:, 0].tolist(), h0)
    jac = state_jacobian(one_unit_rnn(w, u, b), seq, torch.tensor([h0], dtype=F64))
    assert jac.shape == (1, 1)
    assert jac.item() == pytest.approx(math.prod(steps), rel=1e-12)


def test_state_jacobian_equals_product_of_diag_w():
    torch.manual_seed(1)
    cell = cells.RNNCell(2, 6, dtype=F64)
    x, h = torch.randn(9, 2, dtype=F64), torch.randn(6, dtype=F64)
    jac = state_jacobian(cell, x, h)
    expected = torch.eye(6, dtype=F64)
    for x_t in x:                                 # J_t = diag(1 - h_t^2) W_hh
        h = cell(x_t, h).detach()
        expected = torch.diag(1 - h**2) @ cell.weight_hh.detach() @ expected
    torch.testing.assert_close(jac, expected, rtol=1e-12, atol=1e-15)


def test_state_jacobian_rejects_a_batch():
    with pytest.raises(ValueError, match="unbatched"):
        state_jacobian(nn.RNNCell(1, 2), torch.zeros(3, 2, 1), torch.zeros(2))


def test_hidden_grad_norms_of_one_unit_equal_the_hand_derivatives(seq):
    w, u, b, h0 = 1.2, 0.5, 0.05, -0.2
    _, _, expected = one_unit_by_hand(w, u, b, seq[:, 0].tolist(), h0)
    norms = hidden_grad_norms(one_unit_rnn(w, u, b), seq,
                              lambda hs: hs[-1].sum(), torch.tensor([h0], dtype=F64))
    assert norms.shape == (12,)
    torch.testing.assert_close(norms, torch.tensor(expected, dtype=F64).abs(),
                               rtol=1e-12, atol=0)


def test_hidden_grad_norms_gives_zero_where_the_loss_does_not_reach(seq):
    # The loss reads h_5 only: later states get no gradient at all.
    norms = hidden_grad_norms(one_unit_rnn(0.9, 1.0, 0.0), seq, lambda hs: hs[4].sum())
    assert (norms[5:] == 0).all() and (norms[:5] > 0).all()


def test_hidden_grad_norms_rejects_a_non_scalar_loss(seq):
    with pytest.raises(ValueError, match="scalar"):
        hidden_grad_norms(one_unit_rnn(1, 1, 0), seq, lambda hs: hs[-1])


# ---------------------------------------------------------------------------
# jacobian_norms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell_cls", [cells.RNNCell, nn.RNNCell, cells.GRUCell, nn.GRUCell])
def test_jacobian_norms_equal_state_jacobian_at_every_length(cell_cls):
    torch.manual_seed(2)
    cell = cell_cls(3, 5, dtype=F64)
    x, h0 = torch.randn(8, 3, dtype=F64), torch.randn(5, dtype=F64)
    norms = jacobian_norms(cell, x, h0)
    fro = jacobian_norms(cell, x, h0, ord="fro")
    assert norms.shape == fro.shape == (8,)
    for t in (1, 4, 8):
        jac = state_jacobian(cell, x[:t], h0)
        assert norms[t - 1].item() == pytest.approx(torch.linalg.matrix_norm(jac, 2).item(),
                                                    rel=1e-10)
        assert fro[t - 1].item() == pytest.approx(jac.norm().item(), rel=1e-10)


def test_jacobian_norms_of_one_unit_equal_the_hand_products(seq):
    w, u, b, h0 = 2.5, 0.7, 0.0, 0.1
    _, steps, _ = one_unit_by_hand(w, u, b, seq[:, 0].tolist(), h0)
    norms = jacobian_norms(one_unit_rnn(w, u, b), seq, torch.tensor([h0], dtype=F64))
    expected = [abs(math.prod(steps[:t])) for t in range(1, 13)]
    torch.testing.assert_close(norms, torch.tensor(expected, dtype=F64), rtol=1e-12, atol=0)


def test_jacobian_norms_of_an_lstm_cover_h_and_c():
    torch.manual_seed(3)
    cell = nn.LSTMCell(2, 4, dtype=F64)
    x, h0, c0 = torch.randn(6, 2, dtype=F64), torch.randn(4, dtype=F64), torch.randn(4, dtype=F64)

    def final(s):
        state = (s[:4], s[4:])
        for x_t in x:
            state = cell(x_t, state)
        return torch.cat(state)

    jac = torch.autograd.functional.jacobian(final, torch.cat([h0, c0]))
    norms = jacobian_norms(cell, x, (h0, c0))
    assert norms[-1].item() == pytest.approx(torch.linalg.matrix_norm(jac, 2).item(),
                                             rel=1e-10)


def test_identity_relu_cell_keeps_the_jacobian_at_identity():
    # h' = relu(h): with positive states every step Jacobian is I, so every norm is 1.
    cell = nn.RNNCell(1, 3, nonlinearity="relu", dtype=F64)
    with torch.no_grad():
        cell.weight_hh.copy_(torch.eye(3))
        cell.weight_ih.zero_()
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    h0 = torch.tensor([1.0, 2, 3], dtype=F64)
    norms = jacobian_norms(cell, torch.randn(20, 1, dtype=F64), h0)
    torch.testing.assert_close(norms, torch.ones(20, dtype=F64))


def test_norms_stay_below_sigma_max_to_the_t_for_tanh():
    # Pascanu et al. (2013): ||dh_t/dh_0|| <= (gamma sigma_max)^t with gamma = 1 for tanh.
    torch.manual_seed(4)
    cell = nn.RNNCell(2, 10, dtype=F64)
    with torch.no_grad():
        cell.weight_hh.mul_(0.8 / torch.linalg.matrix_norm(cell.weight_hh, 2))
    norms = jacobian_norms(cell, torch.randn(30, 2, dtype=F64), torch.zeros(10, dtype=F64))
    assert (norms <= 0.8 ** torch.arange(1, 31, dtype=F64) * (1 + 1e-12)).all()


def test_jacobian_norms_rejects_bad_input():
    cell = nn.RNNCell(1, 2)
    with pytest.raises(ValueError, match="unbatched"):
        jacobian_norms(cell, torch.zeros(3, 2, 1), torch.zeros(2))
    with pytest.raises(ValueError, match="state0"):
        jacobian_norms(cell, torch.zeros(3, 1), torch.zeros(1, 2))


# ---------------------------------------------------------------------------
# layer_states and model_grad_norms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: nn.RNN(2, 4, batch_first=True), lambda: nn.LSTM(2, 4, num_layers=2),
    lambda: nn.GRU(2, 4, batch_first=True), lambda: RNN(2, 4, batch_first=True),
    lambda: LSTM(2, 4, batch_first=True), lambda: LSTM(2, 4, num_layers=2, proj_size=3),
    lambda: ChoGRU(2, 4, num_layers=2),
])
def test_layer_states_reproduce_the_layer(make):
    torch.manual_seed(5)
    layer = make().to(F64)
    shape = (3, 6, 2) if layer.batch_first else (6, 3, 2)     # (B, T, I) or (T, B, I)
    x = torch.randn(*shape, dtype=F64)
    out, final = layer(x)
    states = layer_states(layer, x)
    assert len(states) == 6
    h_top = torch.stack([(s[0] if isinstance(s, tuple) else s)[-1] for s in states],
                        dim=1 if layer.batch_first else 0)
    torch.testing.assert_close(h_top, out)
    last = states[-1]
    for a, b in zip(last if isinstance(last, tuple) else (last,),
                    final if isinstance(final, tuple) else (final,), strict=True):
        torch.testing.assert_close(a, b)


def test_layer_states_rejects_bidirectional_and_bad_shapes():
    with pytest.raises(ValueError, match="one-directional"):
        layer_states(nn.GRU(2, 3, bidirectional=True), torch.zeros(4, 1, 2))
    with pytest.raises(ValueError, match="3 dimensions"):
        layer_states(nn.GRU(2, 3), torch.zeros(4, 2))


def hand_grad_norms(model, x, y):
    """||dL/dh_t|| by an independent route: the matching cell, unrolled by hidden_grad_norms."""
    kind = model.kind
    cell = {"rnn": nn.RNNCell, "irnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind]
    kw = {"nonlinearity": "relu"} if kind == "irnn" else {}
    cell = cell(model.rnn.input_size, model.rnn.hidden_size, **kw, dtype=F64)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in model.rnn.state_dict().items()})

    def loss(hs):
        return nn.functional.mse_loss(model.head(hs[-1]).squeeze(-1), y)

    return hidden_grad_norms(cell, x.transpose(0, 1), loss)


@pytest.mark.parametrize("kind", ["rnn", "irnn", "lstm", "gru"])
def test_model_grad_norms_agree_with_the_cell_route(kind):
    torch.manual_seed(6)
    model = SequenceModel(kind, 2, 5, 1, squeeze=True).to(F64)
    x, y = torch.rand(4, 15, 2, dtype=F64), torch.rand(4, dtype=F64)
    norms = model_grad_norms(model, x, y, nn.MSELoss())
    torch.testing.assert_close(norms, hand_grad_norms(model, x, y), rtol=1e-10, atol=1e-300)
    per = model_grad_norms(model, x, y, nn.MSELoss(), per_sample=True)
    assert per.shape == (4, 15)
    torch.testing.assert_close(per.pow(2).sum(0).sqrt(), norms)


def test_model_grad_norms_at_the_last_step_is_the_head_gradient():
    # L = mean_b (w.h_T + c - y)^2, so dL/dh_T = 2 (pred - y) w / B for each sequence.
    torch.manual_seed(7)
    model = SequenceModel("rnn", 2, 3, 1, squeeze=True).to(F64)
    x, y = torch.rand(5, 8, 2, dtype=F64), torch.rand(5, dtype=F64)
    per = model_grad_norms(model, x, y, nn.MSELoss(), per_sample=True)
    with torch.no_grad():
        expected = (2 * (model(x) - y) / 5).abs() * model.head.weight.norm()
    torch.testing.assert_close(per[:, -1], expected)


def test_model_grad_norms_with_an_output_at_every_step():
    torch.manual_seed(8)
    model = SequenceModel("gru", 2, 3, 1, every_step=True).to(F64)
    x, y = torch.rand(2, 6, 2, dtype=F64), torch.rand(2, 6, 1, dtype=F64)
    norms = model_grad_norms(model, x, y, nn.MSELoss())
    assert norms.shape == (6,) and (norms > 0).all()
    # Only the last output reads h_T: its gradient is the head's, exactly.
    with torch.no_grad():
        pred = model(x)
        g_last = 2 * (pred[:, -1] - y[:, -1]) / pred.numel() * model.head.weight
    assert norms[-1].item() == pytest.approx(g_last.norm().item(), rel=1e-10)


def test_model_grad_norms_rejects_other_modules():
    with pytest.raises(TypeError, match="SequenceModel"):
        model_grad_norms(nn.Linear(2, 1), torch.zeros(1, 3, 2), torch.zeros(1), nn.MSELoss())




# ---------------------------------------------------------------------------
# gate_trace: what a layer computes at every step
# ---------------------------------------------------------------------------

GATE_LAYERS = {
    "torch rnn": lambda **kw: nn.RNN(3, 4, **kw),
    "torch relu rnn": lambda **kw: nn.RNN(3, 4, nonlinearity="relu", **kw),
    "torch lstm": lambda **kw: nn.LSTM(3, 4, **kw),
    "torch gru": lambda **kw: nn.GRU(3, 4, **kw), "rnnbook rnn": lambda **kw: RNN(3, 4, **kw),
    "rnnbook relu rnn": lambda **kw: RNN(3, 4, nonlinearity="relu", **kw),
    "rnnbook lstm": lambda **kw: LSTM(3, 4, **kw), "rnnbook gru": lambda **kw: GRU(3, 4, **kw),
    "cho gru": lambda **kw: ChoGRU(3, 4, **kw),
}


@pytest.mark.parametrize("name", list(GATE_LAYERS))
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_gate_trace_reproduces_the_layer(name, batch_first, bias):
    torch.manual_seed(10)
    layer = GATE_LAYERS[name](batch_first=batch_first, bias=bias).to(F64)
    B, T = 2, 6
    x = torch.randn((B, T, 3) if batch_first else (T, B, 3), dtype=F64)
    is_lstm = isinstance(layer, (nn.LSTM, LSTM))
    h0 = torch.randn(B, 4, dtype=F64)
    c0 = torch.randn(B, 4, dtype=F64)
    for start in (None, (h0, c0) if is_lstm else h0):
        gates = gate_trace(layer, x, start)
        if start is None:
            out, final = layer(x)
        else:
            out, final = layer(x, tuple(s[None] for s in start) if is_lstm else start[None])
        out = out if batch_first else out.transpose(0, 1)
        expected = "ifgoch" if is_lstm else "rznh" if "gru" in name else "h"
        assert list(gates) == list(expected)
        assert all(v.shape == (B, T, 4) for v in gates.values())      # always batch first
        torch.testing.assert_close(gates["h"], out, rtol=1e-10, atol=1e-12)
        assert all(not v.requires_grad for v in gates.values())
        previous = torch.cat([(torch.zeros(B, 1, 4, dtype=F64) if start is None else
                               (h0 if not is_lstm else h0)[:, None]), gates["h"][:, :-1]], dim=1)
        if is_lstm:
            torch.testing.assert_close(gates["c"][:, -1], final[1][0])
            c_prev = torch.cat([torch.zeros(B, 1, 4, dtype=F64) if start is None else
                                c0[:, None], gates["c"][:, :-1]], dim=1)
            torch.testing.assert_close(gates["c"], gates["f"] * c_prev + gates["i"] * gates["g"])
            torch.testing.assert_close(gates["h"], gates["o"] * torch.tanh(gates["c"]))
            assert all(((gates[k] > 0) & (gates[k] < 1)).all() for k in "ifo")
            assert (gates["g"].abs() < 1).all()
        elif "gru" in name:
            torch.testing.assert_close(gates["h"], (1 - gates["z"]) * gates["n"]
                                       + gates["z"] * previous)
            assert ((gates["r"] > 0) & (gates["r"] < 1)).all()
            assert ((gates["z"] > 0) & (gates["z"] < 1)).all() and (gates["n"].abs() < 1).all()


def test_gate_trace_sees_the_difference_between_the_gru_forms():
    torch.manual_seed(0)
    theirs = nn.GRU(3, 4, batch_first=True, dtype=F64)
    ours = ChoGRU(3, 4, batch_first=True, dtype=F64)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 5, 3, dtype=F64)
    a, b = gate_trace(theirs, x), gate_trace(ours, x)
    torch.testing.assert_close(a["r"][:, 0], b["r"][:, 0])      # same gates at the first step
    assert (a["n"] - b["n"]).abs().max() > 1e-3                  # different candidates


def test_gate_trace_bad_input():
    with pytest.raises(TypeError, match="layer must be a recurrent layer"):
        gate_trace(nn.Linear(3, 4), torch.zeros(1, 3, 2))
    with pytest.raises(ValueError, match="one-layer"):
        gate_trace(nn.LSTM(2, 2, num_layers=2), torch.zeros(1, 3, 2))
    with pytest.raises(ValueError, match="one-directional"):
        gate_trace(nn.GRU(3, 4, bidirectional=True), torch.randn(5, 2, 3))
    with pytest.raises(ValueError, match="2 features"):
        gate_trace(nn.LSTM(2, 2), torch.zeros(1, 3, 4))
    with pytest.raises(ValueError, match="3 dimensions"):
        gate_trace(nn.GRU(3, 4), torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 4\)"):
        gate_trace(nn.GRU(3, 4), torch.randn(5, 2, 3), torch.zeros(1, 2, 4))
    with pytest.raises(TypeError, match=r"state must be a tuple \(h0, c0\)"):
        gate_trace(nn.LSTM(3, 4), torch.randn(5, 2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="proj_size"):
        gate_trace(nn.LSTM(3, 4, proj_size=2), torch.randn(5, 2, 3))
    with pytest.raises(ValueError, match=r"x dtype \(torch.float64\) does not match"):
        gate_trace(nn.GRU(3, 4), torch.randn(5, 2, 3, dtype=F64))

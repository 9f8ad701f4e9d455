"""rnnbook.variants: the Cho et al. (2014) GRU, against its equations and against torch.nn."""

import itertools

import pytest
import torch
from torch import nn

from rnnbook.variants import ChoGRU, ChoGRUCell, cho_gru_step

TOL = {"rtol": 1e-10, "atol": 1e-12}


pytestmark = pytest.mark.usefixtures("float64")  # tests/conftest.py


def reference_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """Cho et al.'s equations written gate by gate, with PyTorch's r, z, n layout."""
    W_ir, W_iz, W_in = w_ih.chunk(3)
    W_hr, W_hz, W_hn = w_hh.chunk(3)
    b_ir, b_iz, b_in = b_ih.chunk(3)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    n = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    return (1 - z) * n + z * h


def test_cell_matches_the_equations():
    torch.manual_seed(0)
    cell = ChoGRUCell(3, 4)
    x, h = torch.randn(5, 3), torch.randn(5, 4)
    expected = reference_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    torch.testing.assert_close(cell(x, h), expected, **TOL)


def test_step_function_matches_the_cell():
    torch.manual_seed(0)
    cell = ChoGRUCell(3, 4)
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    x_proj = nn.functional.linear(x, cell.weight_ih, cell.bias_ih)
    (h_new,) = cho_gru_step(x_proj, (h,), cell.weight_hh, cell.bias_hh)
    torch.testing.assert_close(h_new, cell(x, h), **TOL)


def test_cell_without_bias():
    torch.manual_seed(0)
    cell = ChoGRUCell(3, 4, bias=False)
    assert cell.bias_ih is None and cell.bias_hh is None
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    zeros = torch.zeros(12)
    expected = reference_step(x, h, cell.weight_ih, cell.weight_hh, zeros, zeros)
    torch.testing.assert_close(cell(x, h), expected, **TOL)


def test_parameters_load_from_torch_and_differ_from_it():
    torch.manual_seed(0)
    theirs = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    ours = ChoGRU(3, 4, num_layers=2, bidirectional=True)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())           # and back
    x = torch.randn(6, 2, 3)
    assert (ours(x)[0] - theirs(x)[0]).abs().max() > 1e-3, "the two forms should differ"


def test_equals_torch_when_the_reset_commutes_with_the_matmul():
    # r * (W h) == W (r * h) when W is diagonal, and the forms agree if b_hn = 0.
    torch.manual_seed(0)
    theirs, ours = nn.GRU(3, 4), ChoGRU(3, 4)
    with torch.no_grad():
        theirs.weight_hh_l0[8:] = torch.diag(torch.randn(4))
        theirs.bias_hh_l0[8:] = 0.0
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(7, 2, 3)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], **TOL)


def test_reset_gate_closed_gives_an_input_only_candidate():
    # With r = 0 the candidate ignores h entirely: n = tanh(W_in x + b_in + b_hn).
    torch.manual_seed(0)
    cell = ChoGRUCell(3, 4)
    with torch.no_grad():
        cell.bias_ih[:4] = -1e3                         # r = sigmoid(-1000) = 0
        cell.bias_ih[4:8] = -1e3                        # z = 0: h' = n
    x = torch.randn(2, 3)
    a, b = cell(x, torch.randn(2, 4)), cell(x, torch.randn(2, 4))
    torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("layers,bidirectional,batch_first",
                         list(itertools.product([1, 2], [False, True], [False, True])))
def test_layer_shapes_and_steps(layers, bidirectional, batch_first):
    torch.manual_seed(0)
    layer = ChoGRU(3, 4, num_layers=layers, bidirectional=bidirectional,
                   batch_first=batch_first)
    B, T, D = 2, 5, 2 if bidirectional else 1
    x = torch.randn((B, T, 3) if batch_first else (T, B, 3))
    out, h_n = layer(x)
    assert out.shape == ((B, T, D * 4) if batch_first else (T, B, D * 4))
    assert h_n.shape == (layers * D, B, 4)
    # The forward direction of the first layer equals the cell stepped by hand.
    if layers == 1:
        cell = ChoGRUCell(3, 4)
        cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()
                              if k.endswith("_l0")})
        h = torch.zeros(B, 4)
        seq = x.transpose(0, 1) if batch_first else x
        for x_t in seq:
            h = cell(x_t, h)
        torch.testing.assert_close(h_n[0], h, **TOL)


def test_unbatched_input():
    torch.manual_seed(0)
    layer, cell = ChoGRU(3, 4), ChoGRUCell(3, 4)
    out, h_n = layer(torch.randn(7, 3))
    assert out.shape == (7, 4) and h_n.shape == (1, 4)
    assert cell(torch.randn(3)).shape == (4,)


def test_gradcheck_cell_and_layer():
    torch.manual_seed(0)
    cell = ChoGRUCell(2, 3)
    x = torch.randn(4, 2, requires_grad=True)
    h = torch.randn(4, 3, requires_grad=True)
    assert torch.autograd.gradcheck(cell, (x, h))

    def step(*weights):
        return reference_step(x.detach(), h.detach(), *weights)

    def ours(*weights):
        names = [n for n, _ in cell.named_parameters()]
        with torch.nn.utils.stateless._reparametrize_module(
                cell, dict(zip(names, weights, strict=True))):
            return cell(x.detach(), h.detach())

    weights = tuple(p.detach().clone().requires_grad_() for p in cell.parameters())
    assert torch.autograd.gradcheck(ours, weights)
    # Parameter gradients equal those of the gate-by-gate equations.
    out_a, out_b = step(*weights), ours(*weights)
    ga = torch.autograd.grad(out_a.sum(), weights)
    gb = torch.autograd.grad(out_b.sum(), weights)
    for a, b in zip(ga, gb, strict=True):
        torch.testing.assert_close(b, a, **TOL)

    layer = ChoGRU(2, 3, num_layers=2, bidirectional=True)
    xs = torch.randn(4, 2, 2, requires_grad=True)
    h0 = torch.randn(4, 2, 3, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: layer(a, b)[0], (xs, h0))


def test_bad_input_errors():
    layer, cell = ChoGRU(3, 4), ChoGRUCell(3, 4)
    with pytest.raises(ValueError, match=r"3 features .*input_size"):
        layer(torch.randn(5, 2, 7))
    with pytest.raises(ValueError, match=r"2 or 3 dimensions"):
        layer(torch.randn(5, 2, 2, 3))
    with pytest.raises(ValueError, match=r"\(1, 2, 4\)"):
        layer(torch.randn(5, 2, 3), torch.zeros(2, 2, 4))
    with pytest.raises(TypeError, match="single tensor"):
        layer(torch.randn(5, 2, 3), (torch.zeros(1, 2, 4),))
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        cell(torch.randn(2, 2, 3))
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        cell(torch.randn(2, 3), torch.zeros(3, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        cell([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        ChoGRU(3, 0)
    with pytest.raises(ValueError, match="input_size must be a positive int"):
        ChoGRUCell(2.5, 4)


# --- gru_gates ---------------------------------------------------------------------------

from rnnbook import cells  # noqa: E402
from rnnbook.variants import gru_gates  # noqa: E402


@pytest.mark.parametrize("kind", ["torch", "rnnbook", "cho"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_gru_gates_reproduce_the_layer(kind, batch_first):
    torch.manual_seed(0)
    make = {"torch": nn.GRU, "rnnbook": cells.GRU, "cho": ChoGRU}[kind]
    layer = make(3, 4, batch_first=batch_first)
    B, T = 2, 6
    x = torch.randn((B, T, 3) if batch_first else (T, B, 3))
    h0 = torch.randn(B, 4)
    for start in (None, h0):
        gates = gru_gates(layer, x, start)
        out, h_n = layer(x, None if start is None else start[None])
        out = out if batch_first else out.transpose(0, 1)
        for value in gates:
            assert value.shape == (B, T, 4)
        torch.testing.assert_close(gates.h, out, **TOL)
        assert ((gates.r > 0) & (gates.r < 1)).all() and ((gates.z > 0) & (gates.z < 1)).all()
        assert (gates.n.abs() < 1).all()
        previous = torch.cat([(torch.zeros(B, 1, 4) if start is None else start[:, None]),
                              gates.h[:, :-1]], dim=1)
        torch.testing.assert_close(gates.h, (1 - gates.z) * gates.n + gates.z * previous,
                                   **TOL)


def test_gru_gates_without_bias():
    torch.manual_seed(0)
    layer = nn.GRU(3, 4, bias=False, batch_first=True)
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(gru_gates(layer, x).h, layer(x)[0], **TOL)


def test_gru_gates_sees_the_difference_between_the_forms():
    torch.manual_seed(0)
    theirs, ours = nn.GRU(3, 4, batch_first=True), ChoGRU(3, 4, batch_first=True)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 5, 3)
    a, b = gru_gates(theirs, x), gru_gates(ours, x)
    torch.testing.assert_close(a.r[:, 0], b.r[:, 0], **TOL)   # same gates at the first step
    assert (a.n - b.n).abs().max() > 1e-3                    # different candidates


def test_gru_gates_bad_input():
    with pytest.raises(TypeError, match="nn.GRU"):
        gru_gates(nn.LSTM(3, 4), torch.randn(5, 2, 3))
    with pytest.raises(TypeError, match="nn.GRU"):
        gru_gates(cells.LSTM(3, 4), torch.randn(5, 2, 3))
    with pytest.raises(ValueError, match="one-layer"):
        gru_gates(nn.GRU(3, 4, num_layers=2), torch.randn(5, 2, 3))
    with pytest.raises(ValueError, match="one-directional"):
        gru_gates(nn.GRU(3, 4, bidirectional=True), torch.randn(5, 2, 3))
    with pytest.raises(ValueError, match="3 features"):
        gru_gates(nn.GRU(3, 4), torch.randn(5, 2, 7))
    with pytest.raises(ValueError, match="3 dimensions"):
        gru_gates(nn.GRU(3, 4), torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"h0 must .*\(2, 4\)"):
        gru_gates(nn.GRU(3, 4), torch.randn(5, 2, 3), torch.zeros(1, 2, 4))


@pytest.mark.parametrize("bias", [True, False])
def test_gate_values_agree_with_both_step_functions(bias):
    from rnnbook.variants import gru_gate_values
    torch.manual_seed(0)
    cell = ChoGRUCell(3, 4, bias=bias)
    x_proj = nn.functional.linear(torch.randn(2, 3), cell.weight_ih, cell.bias_ih)
    h = torch.randn(2, 4)
    for reset_after, step in [(True, cells.gru_step), (False, cho_gru_step)]:
        r, z, n = gru_gate_values(x_proj, h, cell.weight_hh, cell.bias_hh, reset_after)
        (expected,) = step(x_proj, (h,), cell.weight_hh, cell.bias_hh)
        torch.testing.assert_close((1 - z) * n + z * h, expected, **TOL)

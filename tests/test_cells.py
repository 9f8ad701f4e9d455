"""rnnbook.cells: RNNCell, LSTMCell and GRUCell against torch.nn, with copied weights."""

import pickle

import pytest
import torch
from torch import nn
from twins import (
    CELLS,
    F64,
    TOL,
    as_function_of_parameters,
    flat,
    randn,
    tensors,
    twins,
)

from rnnbook import GRUCell, LSTMCell, RNNCell, gates
from rnnbook.cells import CellBase
from rnnbook.checks import InputError

KINDS = list(CELLS)


def cell_twins(kind, **kwargs):
    return twins(kind, table=CELLS, input_size=3, hidden_size=4, **kwargs)


def random_hx(kind, shape, seed=5):
    h = randn(*shape, seed=seed, requires_grad=True)
    return (h, randn(*shape, seed=seed + 1, requires_grad=True)) if kind == "lstm" else h


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_torch(kind, bias):
    theirs, ours = cell_twins(kind, bias=bias)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
           [(n, p.shape) for n, p in theirs.named_parameters()]
    for shape in [(2, 3), (3,)]:                             # batched and unbatched
        x = randn(*shape, seed=1, requires_grad=True)
        hx = random_hx(kind, shape[:-1] + (4,))
        for state in (None, hx):
            a, b = theirs(x, state), ours(x, state)
            for t_ours, t_theirs in zip(flat(b), flat(a), strict=True):
                assert t_ours.shape == t_theirs.shape == shape[:-1] + (4,)
                torch.testing.assert_close(t_ours, t_theirs, **TOL)
            loss_a = sum((t * (i + 1)).sum() for i, t in enumerate(flat(a)))
            loss_b = sum((t * (i + 1)).sum() for i, t in enumerate(flat(b)))
            inputs = [x] + (flat(state) if state is not None else [])
            ga = torch.autograd.grad(loss_a, inputs + list(theirs.parameters()))
            gb = torch.autograd.grad(loss_b, inputs + list(ours.parameters()))
            for g_ours, g_theirs in zip(gb, ga, strict=True):
                torch.testing.assert_close(g_ours, g_theirs, **TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_loads_both_ways(kind):
    theirs, ours = cell_twins(kind)
    with torch.no_grad():
        for p in ours.parameters():
            p.mul_(-2.0)
    theirs.load_state_dict(ours.state_dict())
    x = randn(2, 3)
    for a, b in zip(flat(theirs(x)), flat(ours(x)), strict=True):
        torch.testing.assert_close(b, a, **TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_step_returns_every_gate_of_the_equations(kind):
    _, cell = cell_twins(kind)
    x, h = randn(2, 3), randn(2, 4, seed=1)
    state = (h, randn(2, 4, seed=2)) if kind == "lstm" else (h,)
    x_proj = nn.functional.linear(x, cell.weight_ih, cell.bias_ih)
    out = cell.step(x_proj, state)
    expected = {"lstm": "ifgoch", "gru": "rznh"}.get(kind, "h")
    assert list(out) == list(expected)
    new = cell(x, state if kind == "lstm" else h)
    for key, value in zip(cell.state_keys, flat(new), strict=True):
        torch.testing.assert_close(out[key], value, **TOL)


def test_cells_run_the_equations_of_rnnbook_gates():
    assert RNNCell.equations is gates.rnn_step and LSTMCell.equations is gates.lstm_step
    assert GRUCell.equations is gates.gru_step
    assert all(issubclass(c, CellBase) for c in (RNNCell, LSTMCell, GRUCell))


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_and_gradgradcheck(kind):
    _, cell = cell_twins(kind)
    x = randn(3, 3, seed=1, requires_grad=True)
    hx = random_hx(kind, (3, 4))
    f = (lambda x, h, c: cell(x, (h, c))) if kind == "lstm" else cell
    assert torch.autograd.gradcheck(f, (x, *flat(hx)))
    assert torch.autograd.gradgradcheck(f, (x, *flat(hx)))
    g, params = as_function_of_parameters(cell, x.detach(), hx if kind != "lstm" else
                                          tuple(t.detach() for t in hx))
    assert torch.autograd.gradcheck(g, params)


@pytest.mark.parametrize("kind", KINDS)
def test_repr_pickle_and_no_bias_follow_torch(kind):
    theirs, ours = cell_twins(kind, bias=False)
    assert repr(ours) == repr(theirs)
    assert ours.bias_ih is None and ours.bias_hh is None and theirs.bias_ih is None
    copy = pickle.loads(pickle.dumps(ours))
    x = randn(2, 3)
    for a, b in zip(tensors(copy(x)), tensors(ours(x)), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    _, with_bias = cell_twins(kind)
    assert repr(with_bias) == repr(twins(kind, table=CELLS, input_size=3, hidden_size=4)[0])


# ---------------------------------------------------------------------------
# Clear errors on bad input
# ---------------------------------------------------------------------------

def test_cell_bad_input():
    cell = LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"LSTMCell input must be 1-D \(unbatched\) or 2-D "
                                         r"\(batched\), got shape \(2, 2, 3\)"):
        cell(torch.randn(2, 2, 3))
    with pytest.raises(ValueError, match=r"h must have shape \(2, 4\)"):
        cell(torch.randn(2, 3), (torch.zeros(3, 4), torch.zeros(2, 4)))
    with pytest.raises(InputError, match=r"input_size=3 features .* got shape \(2, 5\)"):
        cell(torch.randn(2, 5))
    with pytest.raises(InputError, match=r"input dtype \(torch.float64\) does not match weight "
                                         r"dtype \(torch.float32\)"):
        cell(torch.randn(2, 3, dtype=F64))
    with pytest.raises(TypeError, match="LSTMCell input must be a torch.Tensor, got list"):
        cell([[0.0, 0.0, 0.0]])
    with pytest.raises(TypeError, match=r"hx \(the state\) must be a tuple \(h, c\), got a "
                                        r"Tensor"):
        cell(torch.randn(2, 3), torch.zeros(2, 4))
    with pytest.raises(TypeError, match=r"hx \(the state\) must be a single tensor hx"):
        GRUCell(3, 4)(torch.randn(2, 3), (torch.zeros(2, 4),))
    with pytest.raises(InputError, match=r"hx must have shape \(4,\), got \(2, 4\)"):
        RNNCell(3, 4)(torch.randn(3), torch.zeros(2, 4))       # unbatched x, batched state


@pytest.mark.parametrize("cls", [RNNCell, LSTMCell, GRUCell])
def test_hidden_size_zero_is_refused_by_cells_as_by_layers(cls):
    """torch.nn's cells accept hidden_size=0 and return empty states; the book refuses it
    in cells and layers alike, with the message its layers give."""
    theirs = getattr(nn, cls.__name__)(3, 0)
    assert all(t.shape == (2, 0) for t in tensors(theirs(torch.randn(2, 3))))
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, got 0"):
        cls(3, 0)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(input_size=0, hidden_size=4), ValueError, "input_size must be an int >= 1, got 0"),
    (dict(input_size=2.5, hidden_size=4), TypeError, "input_size must be an int, got 2.5"),
    (dict(input_size=3, hidden_size=4, bias="no"), TypeError, "bias must be a bool, got 'no'"),
    (dict(input_size=3, hidden_size=4, nonlinearity="sigmoid"), ValueError,
     r"nonlinearity must be one of \('tanh', 'relu'\), got 'sigmoid'"),
])
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        RNNCell(**kwargs)

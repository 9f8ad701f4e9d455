"""rnnbook's recurrent cells and layers against torch.nn, with copied weights."""

import itertools

import pytest
import torch
from torch import nn

from rnnbook import cells

TOL = {"rtol": 1e-10, "atol": 1e-12}
KINDS = ["RNN", "RNN_relu", "LSTM", "GRU"]


pytestmark = pytest.mark.usefixtures("float64")  # tests/conftest.py


def make_layers(kind, seed=0, **kw):
    name, _, act = kind.partition("_")
    if act:
        kw["nonlinearity"] = act
    torch.manual_seed(seed)
    theirs = getattr(nn, name)(**kw)
    ours = getattr(cells, name)(**kw)
    return theirs, ours


def random_state(kind, shape):
    if kind == "LSTM":
        return (torch.randn(shape, requires_grad=True), torch.randn(shape, requires_grad=True))
    return torch.randn(shape, requires_grad=True)


def flat(state):
    return list(state) if isinstance(state, tuple) else [state]


def run_and_grad(layer, x, h0):
    out, state = layer(x, h0)
    # A loss that weighs every output and every final state differently.
    torch.manual_seed(1)
    loss = (out * torch.randn_like(out)).sum()
    for s in flat(state):
        loss = loss + (s * torch.randn_like(s)).sum()
    inputs = [x] + (flat(h0) if h0 is not None else []) + list(layer.parameters())
    return out, flat(state), torch.autograd.grad(loss, inputs)


MATRIX = list(itertools.product(KINDS, [1, 2, 3], [False, True], [False, True], [True, False]))


@pytest.mark.parametrize("kind,layers,bidirectional,batch_first,bias", MATRIX)
def test_layer_matches_torch(kind, layers, bidirectional, batch_first, bias):
    kw = dict(input_size=3, hidden_size=4, num_layers=layers, bidirectional=bidirectional,
              batch_first=batch_first, bias=bias)
    theirs, ours = make_layers(kind, **kw)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict(theirs.state_dict())
    B, T = 2, 5
    x = torch.randn((B, T, 3) if batch_first else (T, B, 3), requires_grad=True)
    h0 = random_state(kind, (layers * (2 if bidirectional else 1), B, 4))
    for start in (None, h0):
        a = run_and_grad(theirs, x, start)
        b = run_and_grad(ours, x, start)
        torch.testing.assert_close(b[0], a[0], **TOL)
        for s_ours, s_theirs in zip(b[1], a[1], strict=True):
            torch.testing.assert_close(s_ours, s_theirs, **TOL)
        for g_ours, g_theirs in zip(b[2], a[2], strict=True):
            torch.testing.assert_close(g_ours, g_theirs, **TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_loads_both_ways(kind):
    kw = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    theirs, ours = make_layers(kind, **kw)
    theirs.load_state_dict(ours.state_dict())       # ours -> theirs
    x = torch.randn(6, 2, 3)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], **TOL)
    fresh, _ = make_layers(kind, seed=5, **kw)
    ours.load_state_dict(fresh.state_dict())         # theirs -> ours
    torch.testing.assert_close(ours(x)[0], fresh(x)[0], **TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input(kind):
    theirs, ours = make_layers(kind, input_size=3, hidden_size=4, num_layers=2)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(7, 3)
    h0 = random_state(kind, (2, 4))
    a_out, a_state = theirs(x, h0)
    b_out, b_state = ours(x, h0)
    torch.testing.assert_close(b_out, a_out, **TOL)
    for s_ours, s_theirs in zip(flat(b_state), flat(a_state), strict=True):
        assert s_ours.shape == s_theirs.shape == (2, 4)
        torch.testing.assert_close(s_ours, s_theirs, **TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_between_layers(kind):
    theirs, ours = make_layers(kind, input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(5, 2, 3)
    theirs.eval(), ours.eval()
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], **TOL)
    ours.train()
    torch.manual_seed(0)
    first = ours(x)[0]
    torch.manual_seed(1)
    assert not torch.allclose(first, ours(x)[0]), "dropout should act in training mode"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_torch(kind, bias):
    name, _, act = kind.partition("_")
    kw = {"nonlinearity": act} if act else {}
    torch.manual_seed(0)
    theirs = getattr(nn, f"{name}Cell")(3, 4, bias=bias, **kw)
    ours = getattr(cells, f"{name}Cell")(3, 4, bias=bias, **kw)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict(theirs.state_dict())
    for shape in [(2, 3), (3,)]:                        # batched and unbatched
        x = torch.randn(shape, requires_grad=True)
        hx = random_state(kind, shape[:-1] + (4,))
        for state in (None, hx):
            a, b = theirs(x, state), ours(x, state)
            for t_ours, t_theirs in zip(flat(b), flat(a), strict=True):
                torch.testing.assert_close(t_ours, t_theirs, **TOL)
            loss_a = sum((t * (i + 1)).sum() for i, t in enumerate(flat(a)))
            loss_b = sum((t * (i + 1)).sum() for i, t in enumerate(flat(b)))
            inputs = [x] + list(theirs.parameters())
            ga = torch.autograd.grad(loss_a, inputs)
            gb = torch.autograd.grad(loss_b, [x] + list(ours.parameters()))
            for g_ours, g_theirs in zip(gb, ga, strict=True):
                torch.testing.assert_close(g_ours, g_theirs, **TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck(kind):
    _, ours = make_layers(kind, input_size=2, hidden_size=3, num_layers=2, bidirectional=True)
    x = torch.randn(4, 2, 2, requires_grad=True)
    h0 = random_state(kind, (4, 2, 3))
    states = flat(h0)

    def f(x, *state):
        out, final = ours(x, tuple(state) if kind == "LSTM" else state[0])
        return (out, *flat(final))

    assert torch.autograd.gradcheck(f, (x, *states))
    params = list(ours.parameters())

    def g(*weights):
        with torch.nn.utils.stateless._reparametrize_module(
                ours, dict(zip([n for n, _ in ours.named_parameters()], weights, strict=True))):
            return ours(x.detach())[0]

    assert torch.autograd.gradcheck(g, tuple(p.detach().requires_grad_() for p in params))


# --- clear errors on bad input -------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_errors(kind):
    _, ours = make_layers(kind, input_size=3, hidden_size=4, num_layers=2)
    with pytest.raises(ValueError, match=r"3 features .*input_size"):
        ours(torch.randn(5, 2, 7))
    with pytest.raises(ValueError, match=r"2 or 3 dimensions"):
        ours(torch.randn(5, 2, 2, 3))
    bad = torch.zeros(1, 2, 4)
    with pytest.raises((ValueError, TypeError), match=r"\(2, 2, 4\)|tuple"):
        ours(torch.randn(5, 2, 3), (bad, bad) if kind == "LSTM" else bad)
    with pytest.raises(TypeError, match="torch.Tensor"):
        ours([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="PackedSequence"):
        ours(nn.utils.rnn.pack_sequence([torch.randn(3, 3)]))


def test_lstm_state_must_be_a_pair():
    lstm = cells.LSTM(3, 4)
    with pytest.raises(TypeError, match=r"\(h0, c0\)"):
        lstm(torch.randn(5, 2, 3), torch.zeros(1, 2, 4))
    with pytest.raises(TypeError, match="single tensor"):
        cells.GRU(3, 4)(torch.randn(5, 2, 3), (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))


def test_cell_bad_input():
    cell = cells.LSTMCell(3, 4)
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        cell(torch.randn(2, 2, 3))
    with pytest.raises(ValueError, match=r"h must have shape \(2, 4\)"):
        cell(torch.randn(2, 3), (torch.zeros(3, 4), torch.zeros(2, 4)))


@pytest.mark.parametrize("kwargs,match", [
    (dict(input_size=0, hidden_size=4), "input_size must be a positive int"),
    (dict(input_size=3, hidden_size=2.5), "hidden_size must be a positive int"),
    (dict(input_size=3, hidden_size=4, num_layers=0), "num_layers"),
    (dict(input_size=3, hidden_size=4, dropout=1.5), "dropout"),
    (dict(input_size=3, hidden_size=4, nonlinearity="sigmoid"), "nonlinearity"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cells.RNN(**kwargs)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        cells.LSTM(3, 4, dropout=0.2)


def test_repr_and_positional_arguments_follow_torch():
    ours = cells.RNN(3, 4, 2, "relu", False, True, 0.0, True)
    theirs = nn.RNN(3, 4, 2, "relu", False, True, 0.0, True)
    assert ours.nonlinearity == theirs.nonlinearity == "relu"
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
           [(n, p.shape) for n, p in theirs.named_parameters()]
    assert repr(cells.LSTM(3, 4, num_layers=2)) == "LSTM(3, 4, num_layers=2)"


@pytest.mark.parametrize("use", ["output", "h_n", "c_n"])
def test_lstm_gradients_when_only_part_of_the_result_is_used(use):
    """The LSTM's hand-written backward pass gets zeros for the results not in the loss."""
    theirs, ours = make_layers("LSTM", input_size=3, hidden_size=4, num_layers=2,
                               bidirectional=True)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(5, 2, 3)
    grads = []
    for layer in (theirs, ours):
        out, (h, c) = layer(x)
        loss = {"output": out, "h_n": h, "c_n": c}[use].pow(2).sum()
        grads.append(torch.autograd.grad(loss, list(layer.parameters()), allow_unused=True))
    for g_theirs, g_ours in zip(*grads, strict=True):
        if g_theirs is None:
            assert g_ours is None or torch.all(g_ours == 0)
        else:
            torch.testing.assert_close(g_ours, g_theirs, **TOL)

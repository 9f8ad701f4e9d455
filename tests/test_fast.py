"""rnnbook.fast: FastLSTM (a hand-written backward pass) equals torch.nn.LSTM and the
readable rnnbook.LSTM, outputs and gradients, and refuses what it cannot do, clearly."""

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_sequence
from twins import F64, TOL, assert_same_results, initial_state, randn, run_and_grad, twins

from rnnbook import LSTM
from rnnbook.fast import FastLSTM, LSTMSequence

MATRIX = list(itertools.product([1, 2, 3], [False, True], [False, True], [True, False]))


@pytest.mark.parametrize("num_layers,bidirectional,batch_first,bias", MATRIX)
def test_fast_lstm_matches_torch_and_the_readable_lstm(num_layers, bidirectional,
                                                       batch_first, bias):
    kw = dict(input_size=3, hidden_size=4, num_layers=num_layers, bidirectional=bidirectional,
              batch_first=batch_first, bias=bias)
    theirs, fast = twins("lstm", ours_cls=FastLSTM, **kw)
    _, readable = twins("lstm", **kw)
    B, T = 2, 5
    x = randn(*((B, T, 3) if batch_first else (T, B, 3)), seed=2, requires_grad=True)
    for h0 in (None, initial_state(theirs, B)):
        result = run_and_grad(fast, x, h0)
        assert_same_results(run_and_grad(theirs, x, h0), result)
        assert_same_results(run_and_grad(readable, x, h0), result)


def test_fast_lstm_unbatched_input():
    theirs, fast = twins("lstm", ours_cls=FastLSTM, input_size=3, hidden_size=4, num_layers=2)
    x = randn(6, 3, requires_grad=True)
    assert_same_results(run_and_grad(theirs, x, initial_state(theirs, None)),
                        run_and_grad(fast, x, initial_state(theirs, None)))


@pytest.mark.parametrize("use", ["output", "h_n", "c_n"])
def test_gradients_when_only_part_of_the_result_is_used(use):
    """The hand-written backward pass gets zeros for the results not in the loss."""
    theirs, fast = twins("lstm", ours_cls=FastLSTM, input_size=3, hidden_size=4,
                         num_layers=2, bidirectional=True)
    x = randn(5, 2, 3)
    grads = []
    for layer in (theirs, fast):
        out, (h, c) = layer(x)
        loss = {"output": out, "h_n": h, "c_n": c}[use].pow(2).sum()
        grads.append(torch.autograd.grad(loss, list(layer.parameters()), allow_unused=True))
    for g_theirs, g_fast in zip(*grads, strict=True):
        if g_theirs is None:
            assert g_fast is None or torch.all(g_fast == 0)
        else:
            torch.testing.assert_close(g_fast, g_theirs, **TOL)


def test_lstm_sequence_gradcheck():
    H = 3
    x_proj = randn(4, 2, 4 * H, requires_grad=True)
    h0, c0 = randn(2, H, seed=1, requires_grad=True), randn(2, H, seed=2, requires_grad=True)
    w_hh = randn(4 * H, H, seed=3, requires_grad=True)
    assert torch.autograd.gradcheck(LSTMSequence.apply, (x_proj, h0, c0, w_hh))


def test_double_backward_is_refused_with_a_clear_error():
    _, fast = twins("lstm", ours_cls=FastLSTM, input_size=2, hidden_size=3)
    x = randn(4, 1, 2, requires_grad=True)
    out, _ = fast(x)
    (g,) = torch.autograd.grad(out.pow(2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match=r"FastLSTM's hand-written backward pass .* is not "
                                           r"differentiable.* use rnnbook.LSTM"):
        g.sum().backward()
    with pytest.raises(RuntimeError, match="use rnnbook.LSTM"):
        torch.autograd.gradgradcheck(lambda x: fast(x)[0], (x,))
    # create_graph=True alone is fine, and gives the right first derivative.
    (g_plain,) = torch.autograd.grad(fast(x)[0].pow(2).sum(), x)
    torch.testing.assert_close(g, g_plain, **TOL)
    readable = LSTM(2, 3, dtype=F64)
    assert torch.autograd.gradgradcheck(lambda x: readable(x)[0], (x,))   # the readable can


def test_fast_lstm_refuses_projections_and_packed_sequences():
    with pytest.raises(ValueError, match="FastLSTM has no projections: use rnnbook.LSTM"):
        FastLSTM(3, 4, proj_size=2)
    with pytest.raises(TypeError, match="FastLSTM takes padded input only: use rnnbook.LSTM"):
        FastLSTM(3, 4)(pack_sequence([torch.randn(3, 3)]))


def test_fast_lstm_loads_torch_weights_and_keeps_the_api():
    theirs = nn.LSTM(3, 4, num_layers=2)
    fast = FastLSTM(3, 4, num_layers=2)
    fast.load_state_dict(theirs.state_dict())
    assert repr(fast) == "FastLSTM(3, 4, num_layers=2)" and isinstance(fast, LSTM)
    assert fast.flatten_parameters() is None and len(fast.all_weights) == 2

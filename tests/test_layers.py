"""rnnbook.layers: RNN, LSTM and GRU against torch.nn, with copied weights, in float64.

Outputs, final states and the gradients of everything (input, initial state, every weight)
over the whole matrix of kinds, layer counts, directions, batch_first and bias; unbatched
and PackedSequence input; proj_size; the torch.nn API around the weights; clear errors.
"""

import itertools
import pickle
import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pack_sequence, pad_packed_sequence
from twins import (
    F64,
    LAYERS,
    TOL,
    as_function_of_parameters,
    assert_same_results,
    flat,
    initial_state,
    randn,
    run_and_grad,
    twins,
)

from rnnbook import GRU, LSTM, RNN, layers
from rnnbook.checks import InputError

KINDS = list(LAYERS)
MATRIX = list(itertools.product(KINDS, [1, 2, 3], [False, True], [False, True], [True, False]))


@pytest.mark.parametrize("kind,num_layers,bidirectional,batch_first,bias", MATRIX)
def test_layer_matches_torch(kind, num_layers, bidirectional, batch_first, bias):
    theirs, ours = twins(kind, input_size=3, hidden_size=4, num_layers=num_layers,
                         bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
           [(n, p.shape) for n, p in theirs.named_parameters()]
    B, T = 2, 5
    x = randn(*((B, T, 3) if batch_first else (T, B, 3)), seed=2, requires_grad=True)
    for h0 in (None, initial_state(theirs, B)):
        assert_same_results(run_and_grad(theirs, x, h0), run_and_grad(ours, x, h0))


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_loads_both_ways(kind):
    kw = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    theirs, ours = twins(kind, **kw)
    with torch.no_grad():
        for p in ours.parameters():                        # ours now holds its own weights
            p.add_(randn(*p.shape, seed=p.numel()))
    theirs.load_state_dict(ours.state_dict())               # ours -> theirs
    x = randn(6, 2, 3)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], **TOL)
    fresh, _ = twins(kind, seed=5, **kw)
    ours.load_state_dict(fresh.state_dict())                # theirs -> ours
    torch.testing.assert_close(ours(x)[0], fresh(x)[0], **TOL)
    assert list(ours.state_dict()) == list(fresh.state_dict())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_unbatched_input(kind, bidirectional):
    theirs, ours = twins(kind, input_size=3, hidden_size=4, num_layers=2,
                         bidirectional=bidirectional)
    x = randn(7, 3, seed=2, requires_grad=True)
    for h0 in (None, initial_state(theirs, None)):
        a, b = run_and_grad(theirs, x, h0), run_and_grad(ours, x, h0)
        assert_same_results(a, b)
        assert b[0].shape == a[0].shape == (7, 4 * (1 + bidirectional) if kind != "lstm_proj"
                                            else 2 * (1 + bidirectional))
        assert [s.shape for s in b[1]] == [s.shape for s in a[1]]
        assert all(s.dim() == 2 for s in b[1])


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_acts_between_layers_in_training_only(kind):
    theirs, ours = twins(kind, input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    x = randn(5, 2, 3)
    theirs.eval(), ours.eval()
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], **TOL)
    ours.train()
    torch.manual_seed(0)
    first = ours(x)[0]
    torch.manual_seed(1)
    assert not torch.allclose(first, ours(x)[0]), "dropout should act in training mode"
    torch.manual_seed(0)
    torch.testing.assert_close(ours(x)[0], first, **TOL)      # and follow the global seed
    one = twins(kind, input_size=3, hidden_size=4, num_layers=1)[1].train()
    torch.testing.assert_close(one(x)[0], one.eval()(x)[0], **TOL)   # nothing to drop


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_and_gradgradcheck(kind):
    _, ours = twins(kind, input_size=2, hidden_size=3, num_layers=2, bidirectional=True)
    x = randn(4, 2, 2, seed=1, requires_grad=True)
    states = flat(initial_state(ours, 2))

    def f(x, *state):
        out, final = ours(x, tuple(state) if len(state) == 2 else state[0])
        return (out, *flat(final))

    assert torch.autograd.gradcheck(f, (x, *states))
    # Second derivatives: the equations are checked in full in test_gates; here, through
    # the whole layer, in gradgradcheck's fast mode (random projections), to save time.
    assert torch.autograd.gradgradcheck(f, (x, *states), fast_mode=True)
    g, params = as_function_of_parameters(ours, x.detach())
    assert torch.autograd.gradcheck(g, params)


@pytest.mark.parametrize("use", ["output", "h_n", "c_n"])
def test_lstm_gradients_when_only_part_of_the_result_is_used(use):
    theirs, ours = twins("lstm", input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    x = randn(5, 2, 3)
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


def test_non_contiguous_input_and_state_give_the_same_results():
    for kind in KINDS:
        theirs, ours = twins(kind, input_size=3, hidden_size=4, num_layers=2)
        x = randn(2, 6, 3, seed=4).transpose(0, 1)          # (T, B, I), not contiguous
        h0 = tuple(s.detach().transpose(0, 1).contiguous().transpose(0, 1)
                   for s in flat(initial_state(ours, 2)))
        h0 = h0 if len(h0) == 2 else h0[0]
        assert not x.is_contiguous()
        torch.testing.assert_close(ours(x, h0)[0], theirs(x.contiguous(), h0)[0], **TOL)


def test_nan_in_the_input_propagates_as_in_torch():
    """Layers do not scan their input for NaN (torch.nn does not either, and the check
    would break vmap); a NaN at step t reaches every later output, in both libraries."""
    theirs, ours = twins("gru", input_size=3, hidden_size=4)
    x = randn(5, 2, 3)
    x[2, 0, 1] = float("nan")
    a, b = theirs(x)[0], ours(x)[0]
    assert torch.equal(a.isnan(), b.isnan())
    assert b[2:, 0].isnan().all() and not b[:2].isnan().any() and not b[:, 1].isnan().any()


# ---------------------------------------------------------------------------
# PackedSequence input
# ---------------------------------------------------------------------------

PACKED = list(itertools.product(KINDS, [1, 2], [False, True], [True, False], [False, True]))


def packed_batch(enforce_sorted: bool, lengths=(5, 3, 2)):
    """Three sequences of different lengths, sorted longest first or not."""
    if not enforce_sorted:
        lengths = (lengths[1], lengths[0], lengths[2])          # a shuffled order
    seqs = [randn(n, 3, seed=10 + k) for k, n in enumerate(lengths)]
    padded = nn.utils.rnn.pad_sequence(seqs).requires_grad_()
    return seqs, padded, pack_padded_sequence(padded, torch.tensor(lengths),
                                              enforce_sorted=enforce_sorted)


@pytest.mark.parametrize("kind,num_layers,bidirectional,enforce_sorted,with_h0", PACKED)
def test_packed_sequence_matches_torch(kind, num_layers, bidirectional, enforce_sorted, with_h0):
    theirs, ours = twins(kind, input_size=3, hidden_size=4, num_layers=num_layers,
                         bidirectional=bidirectional)
    _, _, packed = packed_batch(enforce_sorted)
    h0 = initial_state(theirs, 3) if with_h0 else None
    a, b = run_and_grad(theirs, packed, h0), run_and_grad(ours, packed, h0)
    assert_same_results(a, b)
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        ta, tb = getattr(a[0], field), getattr(b[0], field)
        assert (ta is None and tb is None) or torch.equal(ta, tb)


@pytest.mark.parametrize("kind,num_layers,bidirectional,enforce_sorted,with_h0", PACKED)
def test_packed_sequence_equals_each_sequence_alone(kind, num_layers, bidirectional,
                                                    enforce_sorted, with_h0):
    _, ours = twins(kind, input_size=3, hidden_size=4, num_layers=num_layers,
                    bidirectional=bidirectional)
    seqs, _, packed = packed_batch(enforce_sorted)
    h0 = initial_state(ours, 3) if with_h0 else None
    out, state = ours(packed, h0)
    padded, lengths = pad_packed_sequence(out)                # back in the original order
    for k, seq in enumerate(seqs):
        h0_k = None if h0 is None else tuple(s[:, k] for s in flat(h0))
        alone_out, alone_state = ours(seq, h0_k if h0_k is None or len(h0_k) == 2 else h0_k[0])
        assert lengths[k] == len(seq)
        torch.testing.assert_close(padded[:len(seq), k], alone_out, **TOL)
        assert (padded[len(seq):, k] == 0).all()               # padding stays zero
        for s_all, s_alone in zip(flat(state), flat(alone_state), strict=True):
            torch.testing.assert_close(s_all[:, k], s_alone, **TOL)


def test_packed_sequence_refuses_a_wrong_feature_count_and_a_wrong_h0():
    layer = LSTM(3, 4)
    with pytest.raises(InputError, match=r"input_size=3 features"):
        layer(pack_sequence([randn(4, 5).float()]))
    with pytest.raises(InputError, match=r"h0 must have shape \(1, 2, 4\), got \(1, 3, 4\)"):
        layer(pack_sequence([torch.randn(4, 3), torch.randn(2, 3)]),
              (torch.zeros(1, 3, 4), torch.zeros(1, 3, 4)))


# ---------------------------------------------------------------------------
# LSTM with projections (proj_size)
# ---------------------------------------------------------------------------

def test_proj_size_shapes_and_parameters_follow_torch():
    theirs, ours = twins("lstm_proj", input_size=3, hidden_size=5, num_layers=2,
                         bidirectional=True)
    assert ours.proj_size == 2 and "weight_hr_l1_reverse" in dict(ours.named_parameters())
    assert ours.weight_hh_l0.shape == (20, 2) and ours.weight_ih_l1.shape == (20, 4)
    x = randn(6, 4, 3)
    out, (h, c) = ours(x)
    assert out.shape == (6, 4, 4) and h.shape == (4, 4, 2) and c.shape == (4, 4, 5)
    with pytest.raises(InputError, match=r"h0 must have shape \(4, 4, 2\), got \(4, 4, 5\)"):
        ours(x, (torch.zeros(4, 4, 5, dtype=F64), torch.zeros(4, 4, 5, dtype=F64)))


@pytest.mark.parametrize("proj_size, error, match", [
    (4, ValueError, r"proj_size must be an int in \[0, 3\], got 4"),
    (-1, ValueError, r"proj_size must be an int in \[0, 3\], got -1"),
    (1.0, TypeError, r"proj_size must be an int, got 1.0"),
    (True, TypeError, r"proj_size must be an int, got True"),
])
def test_proj_size_must_be_smaller_than_hidden_size(proj_size, error, match):
    with pytest.raises(error, match=match):
        LSTM(3, 4, proj_size=proj_size)


def test_only_the_lstm_takes_proj_size_like_torch():
    for cls in (nn.RNN, nn.GRU):
        with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
            cls(3, 4, proj_size=2)
    for cls in (RNN, GRU):
        for value in (0, 2):
            with pytest.raises(ValueError, match=rf"proj_size applies to an LSTM only .* not to "
                                                 rf"{cls.__name__}; got proj_size={value}"):
                cls(3, 4, proj_size=value)


# ---------------------------------------------------------------------------
# The API around the weights: flatten_parameters, all_weights, dtype and device
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_all_weights_and_flatten_parameters_follow_torch(kind):
    theirs, ours = twins(kind, input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    assert ours.flatten_parameters() is None                     # exists; nothing to pack
    assert len(ours.all_weights) == len(theirs.all_weights) == 4
    for ws_ours, ws_theirs in zip(ours.all_weights, theirs.all_weights, strict=True):
        assert [w.shape for w in ws_ours] == [w.shape for w in ws_theirs]
        for w_ours, w_theirs in zip(ws_ours, ws_theirs, strict=True):
            assert isinstance(w_ours, nn.Parameter) and torch.equal(w_ours, w_theirs)
    assert ours._flat_weights_names == theirs._flat_weights_names
    x = randn(4, 2, 3)
    before = ours(x)[0]
    ours.flatten_parameters()
    torch.testing.assert_close(ours(x)[0], before, rtol=0, atol=0)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_factory_arguments_and_pickle(cls):
    layer = cls(3, 4, num_layers=2, dtype=F64, device="cpu")
    assert all(p.dtype == F64 and p.device.type == "cpu" for p in layer.parameters())
    copy = pickle.loads(pickle.dumps(layer))
    x = randn(5, 2, 3)
    torch.testing.assert_close(copy(x)[0], layer(x)[0], rtol=0, atol=0)
    assert repr(copy) == repr(layer)


@pytest.mark.parametrize("size", [np.int64(3), np.int32(3)])
def test_numpy_integers_are_sizes(size):
    layer = GRU(size, size, num_layers=np.int64(2))
    assert layer.input_size == 3 and type(layer.input_size) is int and layer.num_layers == 2


# ---------------------------------------------------------------------------
# Clear errors on bad input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_errors(kind):
    _, ours = twins(kind, input_size=3, hidden_size=4, num_layers=2)
    name = type(ours).__name__
    with pytest.raises(ValueError, match=rf"{name} input must have input_size=3 features"):
        ours(randn(5, 2, 7))
    with pytest.raises(ValueError, match=r"must be 2-D \(unbatched\) or 3-D \(batched\)"):
        ours(randn(5, 2, 2, 3))
    bad = randn(1, 2, 4)
    with pytest.raises((ValueError, TypeError), match=r"\(2, 2, [24]\)|tuple"):
        ours(randn(5, 2, 3), (bad, bad) if kind.startswith("lstm") else bad)
    with pytest.raises(TypeError, match="torch.Tensor"):
        ours([[1.0, 2.0, 3.0]])
    for error in (ValueError, RuntimeError):                  # InputError is both
        with pytest.raises(error, match="input_size=3"):
            ours(randn(5, 2, 7))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(0, 2, 3), (0, 3)])
def test_an_empty_sequence_is_refused_like_torch(kind, shape):
    theirs, ours = twins(kind, input_size=3, hidden_size=4)
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        theirs(torch.zeros(shape, dtype=F64))
    with pytest.raises(InputError, match="Expected sequence length to be larger than 0"):
        ours(torch.zeros(shape, dtype=F64))


@pytest.mark.parametrize("kind", KINDS)
def test_dtype_mismatches_are_refused_with_a_remedy(kind):
    _, ours = twins(kind, input_size=3, hidden_size=4)
    with pytest.raises(InputError, match=r"input dtype \(torch.float32\) does not match weight "
                                         r"dtype \(torch.float64\). Convert input: "
                                         r"input.to\(torch.float64\), or convert model"):
        ours(torch.zeros(5, 2, 3))
    with pytest.raises(InputError, match=r"input dtype \(torch.int64\) .* must be floating point"):
        ours(torch.zeros(5, 2, 3, dtype=torch.long))
    # An initial state of another dtype is refused by every kind (the LSTM used to cast it).
    h0 = tuple(s.float() for s in flat(initial_state(ours, 2)))
    with pytest.raises(InputError, match=r"h0 dtype \(torch.float32\) does not match the input"):
        ours(randn(5, 2, 3), h0 if len(h0) == 2 else h0[0])


def test_lstm_state_must_be_a_pair():
    lstm = LSTM(3, 4)
    with pytest.raises(TypeError, match=r"hx \(the state\) must be a tuple \(h0, c0\), got a "
                                        r"Tensor"):
        lstm(torch.randn(5, 2, 3), torch.zeros(1, 2, 4))
    with pytest.raises(TypeError, match="single tensor h0, got a tuple"):
        GRU(3, 4)(torch.randn(5, 2, 3), (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(input_size=0, hidden_size=4), ValueError, "input_size must be an int >= 1, got 0"),
    (dict(input_size=3, hidden_size=0), ValueError, "hidden_size must be an int >= 1, got 0"),
    (dict(input_size=3, hidden_size=2.5), TypeError, "hidden_size must be an int, got 2.5"),
    (dict(input_size=3.0, hidden_size=4), TypeError, "input_size must be an int, got 3.0"),
    (dict(input_size="3", hidden_size=4), TypeError, "input_size must be an int, got '3'"),
    (dict(input_size=3, hidden_size=4, num_layers=0), ValueError, "num_layers must be an int >= 1"),
    (dict(input_size=3, hidden_size=4, num_layers=True), TypeError,
     "num_layers must be an int, got True"),
    (dict(input_size=3, hidden_size=4, dropout=1.5), ValueError,
     r"dropout must be a number in \[0, 1\]"),
    (dict(input_size=3, hidden_size=4, dropout=True), ValueError, "dropout .* got True"),
    (dict(input_size=3, hidden_size=4, dropout="0.1"), ValueError, "dropout .* got '0.1'"),
    (dict(input_size=3, hidden_size=4, nonlinearity="sigmoid"), ValueError, "nonlinearity"),
    (dict(input_size=3, hidden_size=4, batch_first="yes"), TypeError,
     "batch_first must be a bool, got 'yes'"),
    (dict(input_size=3, hidden_size=4, batch_first=1), TypeError,
     "batch_first must be a bool, got 1"),
    (dict(input_size=3, hidden_size=4, bidirectional="no"), TypeError,
     "bidirectional must be a bool"),
    (dict(input_size=3, hidden_size=4, bias=0), TypeError, "bias must be a bool, got 0"),
])
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        RNN(**kwargs)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        LSTM(3, 4, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LSTM(3, 4, num_layers=2, dropout=0.2)


def test_repr_and_positional_arguments_follow_torch():
    ours = RNN(3, 4, 2, "relu", False, True, 0.0, True)
    theirs = nn.RNN(3, 4, 2, "relu", False, True, 0.0, True)
    assert ours.nonlinearity == theirs.nonlinearity == "relu"
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
           [(n, p.shape) for n, p in theirs.named_parameters()]
    assert repr(LSTM(3, 4, num_layers=2)) == "LSTM(3, 4, num_layers=2)"
    for kwargs in (dict(proj_size=2, num_layers=2, batch_first=True), dict(bias=False),
                   dict(dropout=0.5, num_layers=3, bidirectional=True)):
        assert repr(LSTM(3, 4, **kwargs)) == repr(nn.LSTM(3, 4, **kwargs))
    # torch.nn's repr leaves out the nonlinearity; the book's shows it.
    assert repr(RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity=relu)"


def test_the_layers_run_the_equations_of_rnnbook_gates():
    """One definition per cell: the layers call the functions of rnnbook.gates."""
    from rnnbook import gates
    assert RNN.equations is gates.rnn_step and LSTM.equations is gates.lstm_step
    assert GRU.equations is gates.gru_step and layers.RecurrentBase.equations is gates.rnn_step

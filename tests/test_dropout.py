"""rnnbook.dropout: input, recurrent and weight dropout on the book's layers, and LockedDropout.

Evaluation mode is deterministic and equals torch.nn's layer with the same weights; each
mask is drawn once and shared by every step (input and recurrent: one per sequence; weight:
one per forward call); expected values are preserved; in training the layers equal step-by-
step references written with torch.nn's cells (or the GRU's equations) and the same masks;
the GRU's carry z * h and the LSTM's cell are not masked; bad input gets clear errors.
"""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence
from twins import F64, TOL, randn

from rnnbook import gates
from rnnbook.checks import InputError
from rnnbook.dropout import DropoutGRU, DropoutLSTM, DropoutRNN, LockedDropout

OURS = {"rnn": (nn.RNN, DropoutRNN), "lstm": (nn.LSTM, DropoutLSTM), "gru": (nn.GRU, DropoutGRU)}
EQUATIONS = {"rnn": gates.rnn_step, "lstm": gates.lstm_step, "gru": gates.gru_step}
RATES = {"input_dropout": 0.5, "recurrent_dropout": 0.5, "weight_dropout": 0.5}


def pair(kind, seed=0, rates=RATES, **kwargs):
    """(torch.nn's layer, ours with a copy of its weights and the dropout rates), float64."""
    theirs_cls, ours_cls = OURS[kind]
    torch.manual_seed(seed)
    theirs = theirs_cls(dtype=F64, **kwargs)
    ours = ours_cls(dtype=F64, **rates, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def spy(kind, log):
    """A subclass of ours whose equations record the w_hh and h_mask of every step."""
    step = EQUATIONS[kind]

    def recording(x_proj, state, w_hh, b_hh, *args, **kwargs):
        log.append((w_hh, kwargs.get("h_mask")))
        return step(x_proj, state, w_hh, b_hh, *args, **kwargs)

    return type("Spy", (OURS[kind][1],), {"equations": staticmethod(recording)})


# ---------------------------------------------------------------------------
# Evaluation mode: deterministic, and the plain layer
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind,num_layers,bidirectional",
                         list(itertools.product(OURS, [1, 2], [False, True])))
def test_evaluation_mode_is_deterministic_and_equals_torch(kind, num_layers, bidirectional):
    dropout = 0.5 if num_layers > 1 else 0.0
    theirs, ours = pair(kind, input_size=3, hidden_size=4, num_layers=num_layers,
                        bidirectional=bidirectional, dropout=dropout)
    theirs.eval(), ours.eval()
    x = randn(6, 2, 3)
    packed = pack_sequence([randn(5, 3, seed=1), randn(3, 3, seed=2)], enforce_sorted=False)
    for inputs in (x, packed):
        out_a, state_a = theirs(inputs)
        torch.manual_seed(1)
        out_b, state_b = ours(inputs)
        torch.manual_seed(2)                           # another seed: the same result
        out_c, state_c = ours(inputs)
        for a, b, c in ((out_a, out_b, out_c), *zip(*(
                [s] if isinstance(s, torch.Tensor) else s
                for s in (state_a, state_b, state_c)), strict=True)):
            a, b, c = (t.data if hasattr(t, "batch_sizes") else t for t in (a, b, c))
            torch.testing.assert_close(b, a, **TOL)
            assert torch.equal(b, c)


@pytest.mark.parametrize("kind", OURS)
def test_zero_rates_in_training_are_the_plain_layer(kind):
    theirs, ours = pair(kind, rates={}, input_size=3, hidden_size=4, num_layers=2,
                        bidirectional=True)
    x = randn(5, 2, 3)
    torch.testing.assert_close(ours.train()(x)[0], theirs.train()(x)[0], **TOL)


def test_torch_dropout_between_layers_is_kept():
    """`dropout` still means torch.nn's: the same draws as rnnbook.LSTM's."""
    from rnnbook import LSTM

    _, ours = pair("lstm", rates={}, input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    plain = LSTM(3, 4, num_layers=2, dropout=0.5, dtype=F64)
    plain.load_state_dict(ours.state_dict())
    x = randn(5, 2, 3)
    torch.manual_seed(3)
    a = ours(x)[0]
    torch.manual_seed(3)
    torch.testing.assert_close(plain(x)[0], a, **TOL)
    torch.manual_seed(4)
    assert not torch.allclose(ours(x)[0], a)


# ---------------------------------------------------------------------------
# One mask per sequence (input, recurrent) or per forward call (weight)
# ---------------------------------------------------------------------------

def identity_rnn(p_in=0.0, p_rec=0.0, size=50):
    """A ReLU RNN without bias that copies: W_ih = I for input dropout, W_hh = I for
    recurrent dropout (the other one zero), so the masks can be read off its output."""
    layer = DropoutRNN(size, size, nonlinearity="relu", bias=False, dtype=F64,
                       input_dropout=p_in, recurrent_dropout=p_rec)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.eye(size) if p_in else torch.zeros(size, size))
        layer.weight_hh_l0.copy_(torch.eye(size) if p_rec else torch.zeros(size, size))
    return layer


def test_the_input_mask_is_the_same_at_every_step():
    torch.manual_seed(0)
    layer = identity_rnn(p_in=0.25)
    out, _ = layer(torch.ones(7, 40, 50, dtype=F64))      # h_t = relu(m * x_t) = m
    assert (out == out[0]).all()                          # the same mask at every step
    assert set(out.unique().tolist()) == {0.0, 1 / 0.75}
    assert 0.2 < (out[0] == 0).double().mean() < 0.3      # about p of the units dropped
    assert not torch.equal(layer(torch.ones(7, 40, 50, dtype=F64))[0], out)   # next call
    rows = out[0]
    assert len({tuple(r.tolist()) for r in rows}) == len(rows)   # one mask per sequence


def test_the_recurrent_mask_is_the_same_at_every_step():
    torch.manual_seed(0)
    layer = identity_rnn(p_rec=0.5)
    h0 = torch.ones(1, 40, 50, dtype=F64)
    out, _ = layer(torch.zeros(6, 40, 50, dtype=F64), h0)    # h_t = m * h_{t-1} = m^t
    kept = out[0] != 0
    assert 0.4 < kept.double().mean() < 0.6
    for t in range(6):            # a fresh mask per step would drop more units each step
        assert torch.equal(out[t] != 0, kept)
        assert torch.equal(out[t][kept], torch.full_like(out[t][kept], 2.0 ** (t + 1)))


@pytest.mark.parametrize("kind", OURS)
def test_masks_are_drawn_once_per_direction_and_call(kind):
    log = []
    layer = spy(kind, log)(3, 8, num_layers=2, bidirectional=True, dtype=F64,
                           recurrent_dropout=0.5, weight_dropout=0.5)
    T = 5
    torch.manual_seed(0)
    layer(randn(T, 4, 3))
    assert len(log) == 2 * 2 * T
    runs = [log[k * T:(k + 1) * T] for k in range(4)]       # layer 0 fwd, rev, layer 1 ...
    for run in runs:
        assert all(w is run[0][0] and m is run[0][1] for w, m in run)   # shared by all steps
    masks = [run[0][1] for run in runs]
    weights = [run[0][0] for run in runs]
    for m in masks:
        assert m.shape == (4, 8) and set(m.unique().tolist()) <= {0.0, 2.0}
    assert len({tuple(m.flatten().tolist()) for m in masks}) == 4          # each its own
    for w, name in zip(weights, ["_l0", "_l0_reverse", "_l1", "_l1_reverse"], strict=True):
        raw = getattr(layer, "weight_hh" + name)
        kept = w != 0
        assert 0.35 < kept.double().mean() < 0.65
        torch.testing.assert_close(w[kept], 2 * raw[kept], **TOL)          # scaled 1/(1-p)
    log.clear()
    layer(randn(T, 4, 3))
    assert not torch.equal(log[0][1], masks[0])                    # a new call, new masks
    log.clear()
    layer.eval()(randn(T, 4, 3))
    assert all(m is None for _, m in log)
    assert all(w is layer.weight_hh_l0 for w, _ in log[:T])       # eval: the weights as they are


# ---------------------------------------------------------------------------
# Expected values
# ---------------------------------------------------------------------------

def positive_rnn(rates, size=3):
    """A ReLU RNN with positive weights, fed positive numbers: ReLU is the identity, so a
    step is linear in its input, its state and its weights."""
    layer = DropoutRNN(size, size, nonlinearity="relu", dtype=F64, **rates)
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(0.1, 0.5)
    return layer


def test_expected_values_are_preserved():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 3, dtype=F64) + 0.5
    h0 = torch.rand(1, 1, 3, dtype=F64) + 0.5
    n = 40_000                                   # masks per sequence: copies of one sequence
    # Input dropout: every step is linear in the one input mask, so every step's mean holds.
    layer = positive_rnn({"input_dropout": 0.5})
    mean = layer(x.expand(4, n, 3), h0.expand(1, n, 3))[0].mean(1)
    torch.testing.assert_close(mean, layer.eval()(x, h0)[0][:, 0], rtol=0.01, atol=0)
    # Recurrent dropout: one step from a given state (over several steps the shared mask
    # multiplies with itself, and E[m^2] = 1/(1-p) is not 1).
    layer = positive_rnn({"recurrent_dropout": 0.5})
    mean = layer(x[:1].expand(1, n, 3), h0.expand(1, n, 3))[0].mean(1)
    torch.testing.assert_close(mean, layer.eval()(x[:1], h0)[0][:, 0], rtol=0.01, atol=0)
    # Weight dropout: one mask per call, so average over calls.
    layer = positive_rnn({"weight_dropout": 0.5})
    runs = torch.stack([layer(x[:1], h0)[0] for _ in range(3_000)])
    torch.testing.assert_close(runs.mean(0), layer.eval()(x[:1], h0)[0], rtol=0.02, atol=0)


def test_locked_dropout_masks_whole_sequences():
    torch.manual_seed(0)
    for batch_first in (False, True):
        drop = LockedDropout(0.3, batch_first=batch_first)
        x = torch.ones((500, 6, 20) if batch_first else (6, 500, 20), dtype=F64)
        out = drop(x)
        steps = out.unbind(1 if batch_first else 0)
        assert all(torch.equal(s, steps[0]) for s in steps)
        assert set(out.unique().tolist()) == {0.0, 1 / 0.7}
        assert abs(out.mean().item() - 1) < 0.03           # the mean is kept
        assert torch.equal(drop.eval()(x), x)


# ---------------------------------------------------------------------------
# Training mode against step-by-step references with the same masks
# ---------------------------------------------------------------------------

def reference_gru_step(x, h, m, cell):
    """PyTorch's GRU written gate by gate, recurrent dropout mask m on h where it enters
    W_hh only: the carry z * h keeps h."""
    W_ir, W_iz, W_in = cell.weight_ih.chunk(3)
    W_hr, W_hz, W_hn = cell.weight_hh.chunk(3)
    b_ir, b_iz, b_in = cell.bias_ih.chunk(3)
    b_hr, b_hz, b_hn = cell.bias_hh.chunk(3)
    hm = h * m
    r = torch.sigmoid(x @ W_ir.T + b_ir + hm @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + hm @ W_hz.T + b_hz)
    n = torch.tanh(x @ W_in.T + b_in + r * (hm @ W_hn.T + b_hn))
    return (1 - z) * n + z * h


@pytest.mark.parametrize("kind", OURS)
def test_training_mode_equals_a_reference_with_the_same_masks(kind):
    """One layer, input and recurrent dropout: nn.RNNCell/LSTMCell given x * m_in and
    h * m_h (the LSTM's cell unmasked), the GRU by its equations; the masks drawn in the
    layer's order (input mask, then recurrent mask). Outputs and weight gradients agree."""
    rates = {"input_dropout": 0.3, "recurrent_dropout": 0.4}
    theirs, ours = pair(kind, rates=rates, input_size=3, hidden_size=4)
    cell = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind](3, 4, dtype=F64)
    cell.load_state_dict({k[:-3]: v for k, v in theirs.state_dict().items()})
    x, B = randn(6, 5, 3), 5
    torch.manual_seed(7)
    out, _ = ours(x)
    torch.manual_seed(7)
    m_in = F.dropout(torch.ones(B, 3, dtype=F64), 0.3)
    m_h = F.dropout(torch.ones(B, 4, dtype=F64), 0.4)
    h = c = torch.zeros(B, 4, dtype=F64)
    steps = []
    for x_t in x:
        if kind == "lstm":
            h, c = cell(x_t * m_in, (h * m_h, c))
        elif kind == "gru":
            h = reference_gru_step(x_t * m_in, h, m_h, cell)
        else:
            h = cell(x_t * m_in, h * m_h)
        steps.append(h)
    reference = torch.stack(steps)
    torch.testing.assert_close(out, reference, **TOL)
    probe = randn(*out.shape, seed=9)
    ours_grads = torch.autograd.grad((out * probe).sum(), list(ours.parameters()))
    ref_grads = torch.autograd.grad((reference * probe).sum(), list(cell.parameters()))
    for a, b in zip(ours_grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("kind", OURS)
def test_weight_dropout_equals_torch_with_the_dropped_weights(kind):
    """AWD-LSTM's weight drop: torch.nn's layer run with W_hh replaced by dropout(W_hh)
    (the same draw) gives the same outputs, and the same gradient for the raw W_hh."""
    theirs, ours = pair(kind, rates={"weight_dropout": 0.5}, input_size=3, hidden_size=4)
    x = randn(6, 2, 3)
    torch.manual_seed(5)
    out, _ = ours(x)
    torch.manual_seed(5)
    raw = theirs.weight_hh_l0
    params = dict(theirs.named_parameters())
    params["weight_hh_l0"] = F.dropout(raw, 0.5, training=True)
    expected, _ = functional_call(theirs, params, (x,))
    torch.testing.assert_close(out, expected, **TOL)
    probe = randn(*out.shape, seed=9)
    g_ours = torch.autograd.grad((out * probe).sum(), ours.weight_hh_l0)[0]
    g_theirs = torch.autograd.grad((expected * probe).sum(), raw)[0]
    torch.testing.assert_close(g_ours, g_theirs, **TOL)
    assert (g_ours[params["weight_hh_l0"] == 0] == 0).all()     # dropped weights learn nothing


def test_packed_input_with_dropout_keeps_padding_zero_and_lengths():
    torch.manual_seed(0)
    layer = DropoutLSTM(3, 4, num_layers=2, bidirectional=True, dtype=F64, **RATES)
    packed = pack_sequence([randn(5, 3, seed=1), randn(2, 3, seed=2), randn(4, 3, seed=3)],
                           enforce_sorted=False)
    out, (h_n, _) = layer(packed)
    padded, lengths = pad_packed_sequence(out)
    assert lengths.tolist() == [5, 2, 4]
    assert (padded[2:, 1] == 0).all() and (padded[4:, 2] == 0).all()
    assert h_n.shape == (4, 3, 4)


# ---------------------------------------------------------------------------
# The equations: h_mask reaches W_hh h only
# ---------------------------------------------------------------------------

def test_gates_mask_h_only_where_it_meets_w_hh():
    H = 4
    x = randn(2, 3 * H, seed=1)
    h = randn(2, H, seed=2)
    w, b = randn(3 * H, H, seed=3), randn(3 * H, seed=4)
    zero = torch.zeros_like(h)
    masked = gates.gru_step(x, (h,), w, b, h_mask=zero)
    by_hand = gates.gru_step(x, (zero,), w, b)            # W_hh sees zeros ...
    z = by_hand["z"]
    torch.testing.assert_close(masked["h"], (1 - z) * by_hand["n"] + z * h, **TOL)  # ... z*h
    assert not torch.allclose(masked["h"], by_hand["h"])
    torch.testing.assert_close(gates.gru_step(x, (h,), w, b, h_mask=torch.ones_like(h))["h"],
                               gates.gru_step(x, (h,), w, b)["h"], **TOL)
    c = randn(2, H, seed=5)
    x4, w4, b4 = randn(2, 4 * H, seed=6), randn(4 * H, H, seed=7), randn(4 * H, seed=8)
    lstm = gates.lstm_step(x4, (h, c), w4, b4, h_mask=zero)
    plain = gates.lstm_step(x4, (zero, c), w4, b4)
    torch.testing.assert_close(lstm["c"], plain["c"], **TOL)         # c is carried unmasked
    cho = gates.cho_gru_step(x, (h,), w, b, h_mask=zero)
    cho_plain = gates.cho_gru_step(x, (zero,), w, b)
    torch.testing.assert_close(cho["h"], (1 - cho_plain["z"]) * cho_plain["n"]
                               + cho_plain["z"] * h, **TOL)
    rnn = gates.rnn_step(x[:, :H], (h,), w[:H], b[:H], h_mask=zero)
    torch.testing.assert_close(rnn["h"], torch.tanh(x[:, :H] + b[:H]), **TOL)


def test_gates_refuse_a_bad_h_mask():
    h = torch.zeros(2, 4)
    with pytest.raises(InputError, match=r"h_mask must be a tensor of shape \(2, 4\)"):
        gates.gru_step(torch.zeros(2, 12), (h,), torch.zeros(12, 4), None,
                       h_mask=torch.ones(4))
    with pytest.raises(TypeError, match=r"h_mask must be a torch.Tensor"):
        gates.lstm_step(torch.zeros(2, 16), (h, h), torch.zeros(16, 4), None, h_mask=0.5)
    with pytest.raises(InputError, match=r"h_mask has dtype torch.float64"):
        gates.rnn_step(torch.zeros(2, 4), (h,), torch.zeros(4, 4), None,
                       h_mask=torch.ones(2, 4, dtype=F64))


# ---------------------------------------------------------------------------
# The torch.nn interface, and bad input
# ---------------------------------------------------------------------------

def test_state_dict_and_repr():
    theirs, ours = pair("lstm", input_size=3, hidden_size=4, num_layers=2, dropout=0.1)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())
    assert repr(ours) == ("DropoutLSTM(3, 4, num_layers=2, dropout=0.1, input_dropout=0.5, "
                          "recurrent_dropout=0.5, weight_dropout=0.5)")
    assert repr(DropoutGRU(3, 4)) == "DropoutGRU(3, 4)"
    assert repr(LockedDropout(0.2)) == "LockedDropout(p=0.2)"


@pytest.mark.parametrize("name", ["input_dropout", "recurrent_dropout", "weight_dropout"])
@pytest.mark.parametrize("cls", [DropoutRNN, DropoutLSTM, DropoutGRU])
def test_bad_rates_are_refused(cls, name):
    for bad, error, match in ((-0.1, ValueError, rf"{name} must be >= 0"),
                              (1.0, ValueError, rf"{name} must be < 1"),
                              (float("nan"), ValueError, rf"{name} must be a finite number"),
                              ("0.5", TypeError, rf"{name} must be a number"),
                              (None, TypeError, rf"{name} must be a number"),
                              (True, TypeError, rf"{name} must be a number")):
        with pytest.raises(error, match=match):
            cls(3, 4, **{name: bad})


def test_locked_dropout_bad_input():
    with pytest.raises(ValueError, match=r"p must be < 1"):
        LockedDropout(1.0)
    with pytest.raises(TypeError, match=r"p must be a number"):
        LockedDropout("0.5")
    with pytest.raises(TypeError, match=r"batch_first must be a bool"):
        LockedDropout(0.5, batch_first="yes")
    with pytest.raises(ValueError, match=r"x must be a tensor \(time, batch, features\), "
                                         r"got \(4, 3\)"):
        LockedDropout(0.5)(torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"x must be a tensor \(batch, time, features\), "
                                         r"got list"):
        LockedDropout(0.5, batch_first=True)([1, 2])


def test_the_layers_keep_torch_checks():
    with pytest.raises(InputError, match=r"input_size=3 features"):
        DropoutLSTM(3, 4, **RATES)(torch.zeros(5, 2, 2))
    with pytest.warns(UserWarning, match=r"no effect with num_layers=1"):
        DropoutGRU(3, 4, dropout=0.5)

"""rnnbook.variants: the GRU of Cho et al. (2014), against its equations written gate by
gate, over the same matrix as the torch.nn layers, and against torch.nn's GRU where the two
forms must agree or must differ."""

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence
from twins import F64, TOL, as_function_of_parameters, randn

from rnnbook import gates
from rnnbook.checks import InputError
from rnnbook.variants import ChoGRU, ChoGRUCell


def reference_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """Cho et al.'s equations written gate by gate, with PyTorch's r, z, n layout."""
    W_ir, W_iz, W_in = w_ih.chunk(3)
    W_hr, W_hz, W_hn = w_hh.chunk(3)
    b_ir, b_iz, b_in = b_ih.chunk(3) if b_ih is not None else (0.0,) * 3
    b_hr, b_hz, b_hn = b_hh.chunk(3) if b_hh is not None else (0.0,) * 3
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    n = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    return (1 - z) * n + z * h


def reference_layer(layer, x, h0=None):
    """A stacked, optionally bidirectional Cho GRU, step by step from reference_step, with
    the layer's own parameters: (output, h_n) as torch.nn.GRU returns them."""
    seq = x.transpose(0, 1) if layer.batch_first else x              # (T, B, I)
    directions = 2 if layer.bidirectional else 1
    H, finals = layer.hidden_size, []
    for k in range(layer.num_layers):
        outs = []
        for d in range(directions):
            sfx = f"_l{k}" + ("_reverse" if d else "")
            p = [getattr(layer, f"{n}{sfx}", None) for n in ("weight_ih", "weight_hh",
                                                               "bias_ih", "bias_hh")]
            h = seq.new_zeros(seq.size(1), H) if h0 is None else h0[k * directions + d]
            steps = range(len(seq) - 1, -1, -1) if d else range(len(seq))
            out = [None] * len(seq)
            for t in steps:
                h = reference_step(seq[t], h, *p)
                out[t] = h
            outs.append(torch.stack(out))
            finals.append(h)
        seq = torch.cat(outs, dim=-1)
    return (seq.transpose(0, 1) if layer.batch_first else seq), torch.stack(finals)


def weighted_grads(out, h_n, inputs):
    g = torch.Generator().manual_seed(1)
    loss = (out * torch.randn(out.shape, dtype=F64, generator=g)).sum() + \
        (h_n * torch.randn(h_n.shape, dtype=F64, generator=g)).sum()
    return torch.autograd.grad(loss, inputs)


MATRIX = list(itertools.product([1, 2, 3], [False, True], [False, True], [True, False]))


@pytest.mark.parametrize("num_layers,bidirectional,batch_first,bias", MATRIX)
def test_layer_matches_the_equations(num_layers, bidirectional, batch_first, bias):
    torch.manual_seed(0)
    layer = ChoGRU(3, 4, num_layers=num_layers, bidirectional=bidirectional,
                   batch_first=batch_first, bias=bias, dtype=F64)
    B, T, D = 2, 5, 2 if bidirectional else 1
    x = randn(*((B, T, 3) if batch_first else (T, B, 3)), seed=2, requires_grad=True)
    h0 = randn(num_layers * D, B, 4, seed=3, requires_grad=True)
    for start in (None, h0):
        out, h_n = layer(x, start)
        ref_out, ref_h = reference_layer(layer, x, start)
        assert out.shape == ((B, T, D * 4) if batch_first else (T, B, D * 4))
        assert h_n.shape == (num_layers * D, B, 4)
        torch.testing.assert_close(out, ref_out, **TOL)
        torch.testing.assert_close(h_n, ref_h, **TOL)
        inputs = [x] + ([start] if start is not None else []) + list(layer.parameters())
        for g_ours, g_ref in zip(weighted_grads(out, h_n, inputs),
                                 weighted_grads(ref_out, ref_h, inputs), strict=True):
            torch.testing.assert_close(g_ours, g_ref, **TOL)


def test_cell_matches_the_equations():
    torch.manual_seed(0)
    cell = ChoGRUCell(3, 4, dtype=F64)
    x, h = randn(5, 3), randn(5, 4, seed=1)
    expected = reference_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    torch.testing.assert_close(cell(x, h), expected, **TOL)
    torch.testing.assert_close(cell(x[0], h[0]), expected[0], **TOL)     # unbatched


def test_step_function_matches_the_cell():
    torch.manual_seed(0)
    cell = ChoGRUCell(3, 4, dtype=F64)
    x, h = randn(2, 3), randn(2, 4, seed=1)
    x_proj = nn.functional.linear(x, cell.weight_ih, cell.bias_ih)
    out = gates.cho_gru_step(x_proj, (h,), cell.weight_hh, cell.bias_hh)
    torch.testing.assert_close(out["h"], cell(x, h), **TOL)
    assert ChoGRUCell.equations is gates.cho_gru_step and ChoGRU.equations is gates.cho_gru_step


def test_cell_without_bias():
    torch.manual_seed(0)
    cell = ChoGRUCell(3, 4, bias=False, dtype=F64)
    assert cell.bias_ih is None and cell.bias_hh is None
    x, h = randn(2, 3), randn(2, 4, seed=1)
    zeros = torch.zeros(12, dtype=F64)
    expected = reference_step(x, h, cell.weight_ih, cell.weight_hh, zeros, zeros)
    torch.testing.assert_close(cell(x, h), expected, **TOL)


def test_parameters_load_from_torch_and_differ_from_it():
    torch.manual_seed(0)
    theirs = nn.GRU(3, 4, num_layers=2, bidirectional=True, dtype=F64)
    ours = ChoGRU(3, 4, num_layers=2, bidirectional=True, dtype=F64)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())           # and back
    x = randn(6, 2, 3)
    assert (ours(x)[0] - theirs(x)[0]).abs().max() > 1e-3, "the two forms should differ"


def test_equals_torch_when_the_reset_commutes_with_the_matmul():
    # r * (W h) == W (r * h) when W is diagonal, and the forms agree if b_hn = 0.
    torch.manual_seed(0)
    theirs, ours = nn.GRU(3, 4, dtype=F64), ChoGRU(3, 4, dtype=F64)
    with torch.no_grad():
        theirs.weight_hh_l0[8:] = torch.diag(randn(4))
        theirs.bias_hh_l0[8:] = 0.0
    ours.load_state_dict(theirs.state_dict())
    x = randn(7, 2, 3)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], **TOL)


def test_reset_gate_closed_gives_an_input_only_candidate():
    # With r = 0 the candidate ignores h entirely: n = tanh(W_in x + b_in + b_hn).
    torch.manual_seed(0)
    cell = ChoGRUCell(3, 4, dtype=F64)
    with torch.no_grad():
        cell.bias_ih[:4] = -1e3                         # r = sigmoid(-1000) = 0
        cell.bias_ih[4:8] = -1e3                        # z = 0: h' = n
    x = randn(2, 3)
    a, b = cell(x, randn(2, 4, seed=1)), cell(x, randn(2, 4, seed=2))
    torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("batch_first", [False, True])
def test_layer_equals_its_cell_stepped_by_hand(batch_first):
    torch.manual_seed(0)
    layer = ChoGRU(3, 4, batch_first=batch_first, dtype=F64)
    cell = ChoGRUCell(3, 4, dtype=F64)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    x = randn(*((2, 5, 3) if batch_first else (5, 2, 3)))
    h = torch.zeros(2, 4, dtype=F64)
    for x_t in (x.transpose(0, 1) if batch_first else x):
        h = cell(x_t, h)
    torch.testing.assert_close(layer(x)[1][0], h, **TOL)


def test_unbatched_input():
    torch.manual_seed(0)
    layer, cell = ChoGRU(3, 4, dtype=F64), ChoGRUCell(3, 4, dtype=F64)
    x = randn(7, 3)
    out, h_n = layer(x)
    assert out.shape == (7, 4) and h_n.shape == (1, 4)
    torch.testing.assert_close(out, layer(x[:, None])[0][:, 0], **TOL)
    assert cell(randn(3)).shape == (4,)


def test_packed_sequences_equal_each_sequence_alone():
    torch.manual_seed(0)
    layer = ChoGRU(3, 4, num_layers=2, bidirectional=True, dtype=F64)
    seqs = [randn(n, 3, seed=n) for n in (3, 6, 2)]
    out, h_n = layer(pack_sequence(seqs, enforce_sorted=False))
    padded, lengths = pad_packed_sequence(out)
    for k, seq in enumerate(seqs):
        alone, h_alone = layer(seq)
        torch.testing.assert_close(padded[:len(seq), k], alone, **TOL)
        torch.testing.assert_close(h_n[:, k], h_alone, **TOL)


def test_gradcheck_cell_and_layer():
    torch.manual_seed(0)
    cell = ChoGRUCell(2, 3, dtype=F64)
    x = randn(4, 2, requires_grad=True)
    h = randn(4, 3, seed=1, requires_grad=True)
    assert torch.autograd.gradcheck(cell, (x, h))
    assert torch.autograd.gradgradcheck(cell, (x, h))
    ours, weights = as_function_of_parameters(cell, x.detach(), h.detach())
    assert torch.autograd.gradcheck(ours, weights)

    def step(*weights):
        return reference_step(x.detach(), h.detach(), *weights)

    # Parameter gradients equal those of the gate-by-gate equations.
    ga = torch.autograd.grad(step(*weights).sum(), weights)
    gb = torch.autograd.grad(ours(*weights)[0].sum(), weights)
    for a, b in zip(ga, gb, strict=True):
        torch.testing.assert_close(b, a, **TOL)

    layer = ChoGRU(2, 3, num_layers=2, bidirectional=True, dtype=F64)
    xs = randn(4, 2, 2, seed=2, requires_grad=True)
    h0 = randn(4, 2, 3, seed=3, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: layer(a, b), (xs, h0))
    assert torch.autograd.gradgradcheck(lambda a, b: layer(a, b), (xs, h0), fast_mode=True)


def test_bad_input_errors():
    layer, cell = ChoGRU(3, 4), ChoGRUCell(3, 4)
    with pytest.raises(ValueError, match=r"ChoGRU input must have input_size=3 features"):
        layer(torch.randn(5, 2, 7))
    with pytest.raises(ValueError, match=r"2-D \(unbatched\) or 3-D \(batched\)"):
        layer(torch.randn(5, 2, 2, 3))
    with pytest.raises(ValueError, match=r"\(1, 2, 4\)"):
        layer(torch.randn(5, 2, 3), torch.zeros(2, 2, 4))
    with pytest.raises(TypeError, match="single tensor"):
        layer(torch.randn(5, 2, 3), (torch.zeros(1, 2, 4),))
    with pytest.raises(ValueError, match=r"1-D \(unbatched\) or 2-D \(batched\)"):
        cell(torch.randn(2, 2, 3))
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        cell(torch.randn(2, 3), torch.zeros(3, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        cell([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, got 0"):
        ChoGRU(3, 0)
    with pytest.raises(TypeError, match="input_size must be an int, got 2.5"):
        ChoGRUCell(2.5, 4)
    with pytest.raises(InputError, match="sequence length to be larger than 0"):
        layer(torch.zeros(0, 2, 3))
    with pytest.raises(ValueError, match="proj_size applies to an LSTM only"):
        ChoGRU(3, 4, proj_size=2)

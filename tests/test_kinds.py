"""rnnbook.kinds: one registry of recurrent kinds, kind_of, and layer_cell for every kind."""

import pytest
import torch
from torch import nn
from twins import F64, TOL, randn

from rnnbook import GRU, LSTM, RNN, ChoGRU, ChoGRUCell, GRUCell, LSTMCell, RNNCell
from rnnbook.gradients import unroll
from rnnbook.kinds import KINDS, check_kind, kind_of, layer_cell


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_is_consistent(name):
    kind = KINDS[name]
    assert kind.name == name and kind.layer.n_gates == kind.cell.n_gates == kind.n_gates
    assert kind.state_keys == kind.layer.state_keys == kind.cell.state_keys
    layer = kind.layer(3, 5, **kind.options)
    assert layer.weight_ih_l0.shape == (kind.n_gates * 5, 3)
    if kind.torch_layer is not None:
        theirs = kind.torch_layer(3, 5, **kind.options)
        assert [(n, p.shape) for n, p in theirs.named_parameters()] == \
               [(n, p.shape) for n, p in layer.named_parameters()]
        assert kind.torch_cell(3, 5).weight_hh.shape == kind.cell(3, 5).weight_hh.shape


def test_the_registry_holds_the_book_s_kinds():
    assert list(KINDS) == ["rnn", "irnn", "lstm", "gru", "cho_gru"]
    assert {k: v.n_gates for k, v in KINDS.items()} == \
           {"rnn": 1, "irnn": 1, "lstm": 4, "gru": 3, "cho_gru": 3}
    assert KINDS["cho_gru"].torch_layer is None and KINDS["cho_gru"].torch_cell is None
    assert KINDS["irnn"].options == {"nonlinearity": "relu"}


def test_check_kind():
    assert check_kind("gru") is KINDS["gru"]
    for bad in ("transformer", "LSTM", None, 3):
        with pytest.raises(ValueError, match=r"kind must be one of \('rnn', 'irnn', 'lstm', "
                                             r"'gru', 'cho_gru'\), got"):
            check_kind(bad)


@pytest.mark.parametrize("module, kind", [
    (nn.RNN(2, 3), "rnn"), (nn.RNN(2, 3, nonlinearity="relu"), "rnn"), (RNN(2, 3), "rnn"),
    (nn.LSTM(2, 3), "lstm"), (LSTM(2, 3), "lstm"), (nn.GRU(2, 3), "gru"), (GRU(2, 3), "gru"),
    (ChoGRU(2, 3), "cho_gru"), (nn.RNNCell(2, 3), "rnn"), (RNNCell(2, 3), "rnn"),
    (nn.LSTMCell(2, 3), "lstm"), (LSTMCell(2, 3), "lstm"), (nn.GRUCell(2, 3), "gru"),
    (GRUCell(2, 3), "gru"), (ChoGRUCell(2, 3), "cho_gru"),
])
def test_kind_of_knows_both_libraries_and_the_variant(module, kind):
    assert kind_of(module) is KINDS[kind]


def test_kind_of_rejects_other_modules():
    with pytest.raises(TypeError, match="module must be a recurrent cell or layer .* got Linear"):
        kind_of(nn.Linear(2, 2))


def layers_of_every_kind():
    """(name, layer) for every kind, rnnbook's and torch.nn's, one and two layers."""
    out = []
    for name, kind in KINDS.items():
        for cls in (kind.layer, kind.torch_layer):
            if cls is not None:
                for num_layers, bias in ((1, True), (2, False)):
                    out.append((f"{cls.__module__}.{cls.__name__}-{name}-{num_layers}",
                                lambda cls=cls, kind=kind, n=num_layers, b=bias:
                                cls(2, 4, num_layers=n, bias=b, **kind.options)))
    return out


@pytest.mark.parametrize("label, make", layers_of_every_kind(), ids=lambda v: v
                         if isinstance(v, str) else "")
def test_layer_cell_unrolls_to_the_layer(label, make):
    torch.manual_seed(9)
    layer = make().to(F64)
    x = randn(7, 3, 2)
    out, _ = layer(x)
    cell = layer_cell(layer)
    assert kind_of(cell) is kind_of(layer)
    assert type(cell).__module__ == ("torch.nn.modules.rnn" if isinstance(layer, nn.RNNBase)
                                     else "rnnbook.cells" if not isinstance(layer, ChoGRU)
                                     else "rnnbook.variants")
    assert cell.weight_ih.dtype == F64 and getattr(cell, "nonlinearity", "tanh") == \
        getattr(layer, "nonlinearity", "tanh")
    first = torch.stack([s[0] if isinstance(s, tuple) else s for s in unroll(cell, x)])
    if layer.num_layers == 1:
        torch.testing.assert_close(first, out, **TOL)
    else:                                    # layer 1 reads layer 0's outputs
        top = torch.stack([s[0] if isinstance(s, tuple) else s
                           for s in unroll(layer_cell(layer, 1), first)])
        torch.testing.assert_close(top, out, **TOL)
    with torch.no_grad():                    # copies: changing the cell leaves the layer alone
        cell.weight_hh.zero_()
    assert layer.weight_hh_l0.abs().sum() > 0


@pytest.mark.parametrize("impl", ["rnnbook", "torch"])
def test_layer_cell_gives_the_other_library_s_cell_on_request(impl):
    layer = nn.GRU(2, 3) if impl == "rnnbook" else GRU(2, 3)
    cell = layer_cell(layer, impl=impl)
    assert isinstance(cell, GRUCell if impl == "rnnbook" else nn.GRUCell)
    x = torch.randn(5, 1, 2)
    torch.testing.assert_close(unroll(cell, x)[-1], layer(x)[1][0])


def test_layer_cell_rejects_other_modules():
    with pytest.raises(TypeError, match=r"layer must be a recurrent layer \(RNN, LSTM or GRU"):
        layer_cell(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="not a cell: got LSTMCell"):
        layer_cell(nn.LSTMCell(2, 2))
    with pytest.raises(ValueError, match="one-directional"):
        layer_cell(nn.LSTM(2, 2, bidirectional=True))
    with pytest.raises(ValueError, match=r"index must be an int in \[0, 0\], got 1"):
        layer_cell(nn.LSTM(2, 2), index=1)
    with pytest.raises(ValueError, match="proj_size"):
        layer_cell(LSTM(2, 3, proj_size=2))
    with pytest.raises(ValueError, match="impl must be"):
        layer_cell(nn.LSTM(2, 2), impl="keras")
    with pytest.raises(ValueError, match="torch.nn has no cell of kind 'cho_gru'"):
        layer_cell(ChoGRU(2, 2), impl="torch")

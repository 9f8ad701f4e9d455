"""The kinds of recurrent layer, in one registry: name -> cell, layer, gate count.

    KINDS["lstm"].n_gates          # 4 blocks of hidden_size rows in weight_ih, weight_hh
    KINDS["gru"].layer             # rnnbook.GRU; KINDS["gru"].torch_layer is torch.nn.GRU
    kind_of(torch.nn.LSTM(3, 4))   # KINDS["lstm"]
    cell = layer_cell(layer)       # a cell equal to layer 0 of a (trained) layer

"irnn" is the ReLU RNN with identity recurrent weights of Le, Jaitly & Hinton (2015): the
classes of "rnn" with nonlinearity="relu", given its initialisation by
`rnnbook.models.recurrent_layer`. "cho_gru" is the GRU in Cho et al.'s form, which torch.nn
lacks. Everything in the package that depends on the kind of a layer looks it up here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from rnnbook.cells import CellBase, GRUCell, LSTMCell, RNNCell
from rnnbook.checks import check_choice, check_int
from rnnbook.layers import GRU, LSTM, RNN, RecurrentBase
from rnnbook.variants import ChoGRU, ChoGRUCell

__all__ = ["KINDS", "Kind", "check_kind", "kind_of", "layer_cell"]


@dataclass(frozen=True)
class Kind:
    """One kind of recurrent layer: its classes in rnnbook and torch.nn, and the constructor
    arguments that make it (`options`)."""

    name: str
    cell: type[CellBase]
    layer: type[RecurrentBase]
    torch_cell: type[nn.Module] | None
    torch_layer: type[nn.Module] | None
    options: dict = field(default_factory=dict)

    @property
    def n_gates(self) -> int:
        """Blocks of hidden_size rows stacked in weight_ih and weight_hh."""
        return self.cell.n_gates

    @property
    def state_keys(self) -> tuple[str, ...]:
        """The parts of the state: ("h",), or ("h", "c") for the LSTM."""
        return self.cell.state_keys


KINDS = {
    "rnn": Kind("rnn", RNNCell, RNN, nn.RNNCell, nn.RNN, {"nonlinearity": "tanh"}),
    "irnn": Kind("irnn", RNNCell, RNN, nn.RNNCell, nn.RNN, {"nonlinearity": "relu"}),
    "lstm": Kind("lstm", LSTMCell, LSTM, nn.LSTMCell, nn.LSTM),
    "gru": Kind("gru", GRUCell, GRU, nn.GRUCell, nn.GRU),
    "cho_gru": Kind("cho_gru", ChoGRUCell, ChoGRU, None, None),
}


def check_kind(kind) -> Kind:
    """The registry's entry for `kind`, or a ValueError listing the kinds."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}, got {kind!r}")
    return KINDS[kind]


def kind_of(module: nn.Module) -> Kind:
    """The kind of a cell or layer, rnnbook's or torch.nn's (a relu RNN is "rnn": "irnn"
    names an initialisation, which a module does not remember)."""
    for cls in type(module).__mro__:                 # the most specific class first
        for kind in KINDS.values():
            if cls in (kind.cell, kind.layer, kind.torch_cell, kind.torch_layer):
                return KINDS["rnn"] if kind.name == "irnn" else kind
    raise TypeError(f"module must be a recurrent cell or layer (RNN, LSTM or GRU, rnnbook's "
                    f"or torch.nn's, or a ChoGRU), got {type(module).__name__}")


def layer_cell(layer: nn.Module, index: int = 0, impl: str | None = None) -> nn.Module:
    """A cell equal to layer number `index` of a one-directional recurrent layer.

    The cell gets copies of the weights, in the layer's dtype and device, so that the
    Jacobian helpers of `rnnbook.gradients` can study a layer trained inside a model.
    impl: "rnnbook" or "torch" for the cell's family; by default the layer's own.
    """
    if not isinstance(layer, (RecurrentBase, nn.RNNBase)):
        what = "not a cell: got" if isinstance(layer, (CellBase, nn.RNNCellBase)) else "got"
        raise TypeError(f"layer must be a recurrent layer (RNN, LSTM or GRU, rnnbook's or "
                        f"torch.nn's, or a ChoGRU), {what} {type(layer).__name__}")
    kind = kind_of(layer)
    if layer.bidirectional:
        raise ValueError("layer must be one-directional: a cell runs forward in time")
    if getattr(layer, "proj_size", 0):
        raise ValueError("an LSTM with proj_size > 0 has no equal cell")
    index = check_int("index", index, minimum=0, maximum=layer.num_layers - 1)
    check_choice("impl", impl, ("rnnbook", "torch", None))
    ours = isinstance(layer, RecurrentBase) if impl is None else impl == "rnnbook"
    cls = kind.cell if ours else kind.torch_cell
    if cls is None:
        raise ValueError(f"torch.nn has no cell of kind {kind.name!r}")
    weight = getattr(layer, f"weight_ih_l{index}")
    options = {"nonlinearity": layer.nonlinearity} if kind.name == "rnn" else {}
    cell = cls(weight.size(1), layer.hidden_size, bias=layer.bias, device=weight.device,
               dtype=weight.dtype, **options)
    suffix = f"_l{index}"
    cell.load_state_dict({name.removesuffix(suffix): p.detach().clone()
                          for name, p in layer.named_parameters() if name.endswith(suffix)})
    return cell

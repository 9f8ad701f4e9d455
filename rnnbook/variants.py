"""Cells and layers that torch.nn does not provide.

- `ChoGRUCell`, `ChoGRU`: the GRU as Cho et al. (2014) wrote it, with the reset gate
  applied to the state *before* the recurrent matrix product (`rnnbook.gates.cho_gru_step`),

      n = tanh(W_in x + b_in + W_hn (r * h) + b_hn),

  where PyTorch (and cuDNN, and Keras with `reset_after=True`) apply it *after*:

      n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

  Everything else is as in `torch.nn.GRU`: gates in the order r, z, n, two bias vectors,
  h' = (1 - z) * n + z * h, the same parameter names and shapes, so a state_dict loads in
  either direction; the same weights then give two different functions (chapter 06).
"""

from __future__ import annotations

from rnnbook import gates
from rnnbook.cells import GRUCell
from rnnbook.layers import GRU

__all__ = ["ChoGRU", "ChoGRUCell"]


class ChoGRUCell(GRUCell):
    """GRU cell in Cho et al.'s (2014) form, with torch.nn.GRUCell's interface."""

    equations = staticmethod(gates.cho_gru_step)


class ChoGRU(GRU):
    """Multi-layer GRU in Cho et al.'s (2014) form, with torch.nn.GRU's interface."""

    equations = staticmethod(gates.cho_gru_step)

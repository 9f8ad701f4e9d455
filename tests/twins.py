"""Helpers for the equivalence tests: a torch.nn layer and its rnnbook twin with copied
weights, in float64, and one loss that weighs every output and every final state, so that
comparing gradients compares everything a layer computes.

Used by test_layers, test_cells, test_variants, test_fast and test_kinds; not a test file.
"""

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import PackedSequence

import rnnbook

F64 = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-12}

# name -> (torch.nn class, rnnbook class, constructor options)
LAYERS = {
    "rnn_tanh": (nn.RNN, rnnbook.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNN, rnnbook.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, rnnbook.LSTM, {}),
    "lstm_proj": (nn.LSTM, rnnbook.LSTM, {"proj_size": 2}),
    "gru": (nn.GRU, rnnbook.GRU, {}),
}
CELLS = {
    "rnn_tanh": (nn.RNNCell, rnnbook.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNNCell, rnnbook.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTMCell, rnnbook.LSTMCell, {}),
    "gru": (nn.GRUCell, rnnbook.GRUCell, {}),
}


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed: int = 0, requires_grad: bool = False) -> torch.Tensor:
    return torch.randn(*shape, dtype=F64, generator=generator(seed)).requires_grad_(requires_grad)


def twins(kind: str, seed: int = 0, ours_cls=None, table=LAYERS, **kwargs):
    """(theirs, ours): torch.nn's module of `kind` and rnnbook's (or `ours_cls`), float64,
    ours holding a copy of theirs' weights."""
    theirs_cls, default_cls, options = table[kind]
    torch.manual_seed(seed)
    theirs = theirs_cls(**options, **kwargs, dtype=F64)
    ours = (ours_cls or default_cls)(**options, **kwargs, dtype=F64)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def initial_state(layer, batch: int | None, seed: int = 3):
    """A random h0, or (h0, c0), of the right shape for `layer` (batch None: unbatched)."""
    count = layer.num_layers * (2 if layer.bidirectional else 1)
    lead = (count,) if batch is None else (count, batch)
    h_size = getattr(layer, "proj_size", 0) or layer.hidden_size
    h = randn(*lead, h_size, seed=seed, requires_grad=True)
    if isinstance(layer, (nn.LSTM, rnnbook.LSTM)):
        return h, randn(*lead, layer.hidden_size, seed=seed + 1, requires_grad=True)
    return h


def flat(state) -> list:
    return list(state) if isinstance(state, tuple) else [state]


def weighted_loss(out, state, seed: int = 1):
    """A loss that weighs every output and every final state differently."""
    out = out.data if isinstance(out, PackedSequence) else out
    g = generator(seed)
    loss = (out * torch.randn(out.shape, dtype=out.dtype, generator=g)).sum()
    for s in flat(state):
        loss = loss + (s * torch.randn(s.shape, dtype=s.dtype, generator=g)).sum()
    return loss


def run_and_grad(layer, x, hx=None):
    """Output, final state parts, and the gradients of `weighted_loss` with respect to the
    input, every part of hx and every parameter, in named_parameters order."""
    out, state = layer(x, hx)
    data = x.data if isinstance(x, PackedSequence) else x
    inputs = [data] + (flat(hx) if hx is not None else []) + list(layer.parameters())
    grads = torch.autograd.grad(weighted_loss(out, state), inputs)
    return out, flat(state), grads


def assert_same_results(a, b, tol=TOL):
    """Compare two run_and_grad results: outputs, states and gradients."""
    out_a, out_b = (o.data if isinstance(o, PackedSequence) else o for o in (a[0], b[0]))
    torch.testing.assert_close(out_b, out_a, **tol)
    assert len(a[1]) == len(b[1]) and len(a[2]) == len(b[2])
    for s_a, s_b in zip(a[1], b[1], strict=True):
        torch.testing.assert_close(s_b, s_a, **tol)
    for g_a, g_b in zip(a[2], b[2], strict=True):
        torch.testing.assert_close(g_b, g_a, **tol)


def tensors(value) -> tuple:
    """Every tensor in a nest of tuples and lists, in order: what gradcheck compares."""
    if isinstance(value, torch.Tensor):
        return (value,)
    return tuple(t for part in value for t in tensors(part))


def as_function_of_parameters(module, *inputs):
    """(f, params): f(*params) runs the module with those parameters on `inputs` (through
    torch.func.functional_call) and returns every tensor it outputs, for gradcheck."""
    names = [n for n, _ in module.named_parameters()]

    def f(*params):
        return tensors(functional_call(module, dict(zip(names, params, strict=True)), inputs))

    return f, tuple(p.detach().clone().requires_grad_() for p in module.parameters())

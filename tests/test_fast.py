"""rnnbook.fast: FastLSTM (a hand-written backward pass) equals torch.nn.LSTM and the
readable rnnbook.LSTM, outputs and gradients, and refuses what it cannot do, clearly."""

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_sequence
from twins import F64, TOL, assert_same_results, initial_state, randn, run_and_grad, twins

from rnnbook import LSTM, fast
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


# --- the ladder of fast paths and the compiled kernels -----------------------------------

needs_compiler = pytest.mark.skipif(not fast.kernels_available(),
                                    reason="no C++ compiler to build rnnbook.fast's kernels")


def _ladder_case(seed=0, T=6, B=3, I=5, H=4):
    torch.manual_seed(seed)
    theirs = nn.LSTM(I, H, dtype=F64)
    x = randn(T, B, I, seed=seed + 1, requires_grad=True)
    h0 = randn(B, H, seed=seed + 2, requires_grad=True)
    c0 = randn(B, H, seed=seed + 3, requires_grad=True)
    return theirs, x, h0, c0


def _loss(out, h, c):
    return out.sin().sum() + h.cos().sum() + c.pow(2).sum()   # every result matters


@pytest.mark.parametrize("name", list(fast.LADDER))
def test_every_rung_of_the_ladder_equals_nn_lstm(name):
    if name == "C++ backward kernel" and not fast.kernels_available():
        pytest.skip("no C++ compiler")
    theirs, x, h0, c0 = _ladder_case()
    out, (h, c) = theirs(x, (h0[None], c0[None]))
    weights = list(theirs.parameters())
    expected = (out, h[0], c[0], *torch.autograd.grad(_loss(out, h[0], c[0]),
                                                       [x, h0, c0, *weights]))
    out, h, c = fast.LADDER[name](x, h0, c0, *weights)
    got = (out, h, c, *torch.autograd.grad(_loss(out, h, c), [x, h0, c0, *weights]))
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, **TOL)


@needs_compiler
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,bias", MATRIX[::3])
def test_kernel_lstm_matches_torch(num_layers, bidirectional, batch_first, bias):
    kw = dict(input_size=3, hidden_size=4, num_layers=num_layers, bidirectional=bidirectional,
              batch_first=batch_first, bias=bias)
    theirs, ours = twins("lstm", ours_cls=fast.KernelLSTM, **kw)
    x = randn(*((2, 5, 3) if batch_first else (5, 2, 3)), seed=2, requires_grad=True)
    for h0 in (None, initial_state(theirs, 2)):
        assert_same_results(run_and_grad(theirs, x, h0), run_and_grad(ours, x, h0))


@needs_compiler
def test_kernel_lstm_float32_and_gradcheck():
    H = 3
    args = (randn(4, 2, 4 * H, requires_grad=True), randn(2, H, seed=1, requires_grad=True),
            randn(2, H, seed=2, requires_grad=True), randn(4 * H, H, seed=3, requires_grad=True))
    assert torch.autograd.gradcheck(fast.KernelLSTMSequence.apply, args)
    f32 = [a.detach().float().requires_grad_() for a in args]
    out64 = fast.KernelLSTMSequence.apply(*args)
    out32 = fast.KernelLSTMSequence.apply(*f32)
    for a, b in zip(out32, out64, strict=True):
        torch.testing.assert_close(a, b.float(), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="not differentiable"):
        x = args[0]
        (gx,) = torch.autograd.grad(fast.KernelLSTMSequence.apply(x, *args[1:])[0].sum(), x,
                                    create_graph=True)
        gx.sum().backward()


@needs_compiler
def test_kernels_are_cached_and_refuse_other_tensors(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))
    path = fast.build_kernels()
    assert path.exists() and path.parent.parent == tmp_path and path.suffix == ".so"
    stamp = path.stat().st_mtime_ns
    assert fast.build_kernels() == path and path.stat().st_mtime_ns == stamp   # not rebuilt
    x = torch.zeros(3, 1, 8, dtype=torch.float16)
    with pytest.raises(ValueError, match="x_proj must be a float32 or float64 CPU tensor"):
        fast.KernelLSTMSequence.apply(x, torch.zeros(1, 2, dtype=torch.float16),
                                      torch.zeros(1, 2, dtype=torch.float16),
                                      torch.zeros(8, 2, dtype=torch.float16))


def test_no_compiler_is_reported_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))
    monkeypatch.setenv("CXX", "")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="no C\\+\\+ compiler found"):
        fast.build_kernels()


@needs_compiler
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_compiled_forward_step_equals_the_equations(dtype):
    """lstm_forward_step (which chapter 15 times, and FastLSTM does not use) computes one
    step of the LSTM's element-wise work like PyTorch does."""
    B, H = 3, 5
    pre, c_prev = randn(B, 4 * H, seed=1).to(dtype), randn(B, H, seed=2).to(dtype)
    acts, c, tanh_c, h = pre.clone(), *(torch.empty(B, H, dtype=dtype) for _ in range(3))
    fast.kernel_function("lstm_forward_step", dtype)(
        B, H, acts.data_ptr(), c_prev.data_ptr(), c.data_ptr(), tanh_c.data_ptr(),
        h.data_ptr())
    i, f, g, o = pre.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_want = f * c_prev + i * g
    tol = TOL if dtype == F64 else {"rtol": 1e-5, "atol": 1e-6}
    torch.testing.assert_close(acts, torch.cat([i, f, g, o], dim=1), **tol)
    torch.testing.assert_close(c, c_want, **tol)
    torch.testing.assert_close(tanh_c, torch.tanh(c_want), **tol)
    torch.testing.assert_close(h, o * torch.tanh(c_want), **tol)

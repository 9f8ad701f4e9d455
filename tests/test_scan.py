"""rnnbook.scan: the three evaluations of h_t = a_t h_{t-1} + b_t agree in float64, values
and gradients, and so do minGRU and minLSTM whichever scan they use."""

import pytest
import torch
from twins import F64, TOL, randn

from rnnbook import fast
from rnnbook.scan import (
    SCANS,
    LinearScan,
    MinGRU,
    MinLSTM,
    g,
    linear_scan,
    log_g,
    scan_log,
    scan_loop,
)

needs_compiler = pytest.mark.skipif(not fast.kernels_available(),
                                    reason="no C++ compiler to build rnnbook.fast's kernels")


def _positive(T=7, B=3, H=4, seed=0):
    a = torch.sigmoid(randn(T, B, H, seed=seed)).requires_grad_()
    b = torch.exp(randn(T, B, H, seed=seed + 1)).requires_grad_()
    h0 = torch.exp(randn(B, H, seed=seed + 2)).requires_grad_()
    return a, b, h0


def _value_and_grads(fn, a, b, h0):
    h = fn(a, b, h0)
    return (h, *torch.autograd.grad(h.sin().sum(), [a, b, h0]))


@pytest.mark.parametrize("scan", SCANS)
def test_every_scan_equals_the_loop(scan):
    if scan == "kernel" and not fast.kernels_available():
        pytest.skip("no C++ compiler")
    a, b, h0 = _positive()
    expected = _value_and_grads(scan_loop, a, b, h0)
    got = _value_and_grads(lambda a, b, h0: linear_scan(a, b, h0, scan), a, b, h0)
    for x, y in zip(got, expected, strict=True):
        torch.testing.assert_close(x, y, **TOL)


def test_loop_is_the_recurrence():
    a, b, h0 = (t.detach() for t in _positive(T=3))
    h = scan_loop(a, b, h0)
    torch.testing.assert_close(h[0], a[0] * h0 + b[0], **TOL)
    torch.testing.assert_close(h[2], a[2] * (a[1] * (a[0] * h0 + b[0]) + b[1]) + b[2], **TOL)


@needs_compiler
def test_kernel_scan_takes_any_sign_and_float32():
    a, b, h0 = randn(9, 2, 3, requires_grad=True), randn(9, 2, 3, seed=1, requires_grad=True), \
        randn(2, 3, seed=2, requires_grad=True)
    assert torch.autograd.gradcheck(LinearScan.apply, (a, b, h0))
    f32 = [t.detach().float() for t in (a, b, h0)]
    torch.testing.assert_close(LinearScan.apply(*f32), scan_loop(*f32), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="not differentiable"):
        (ga,) = torch.autograd.grad(LinearScan.apply(a, b, h0).sum(), a, create_graph=True)


def test_log_scan_refuses_what_it_cannot_take():
    a, b, h0 = (t.detach() for t in _positive())
    with pytest.raises(ValueError, match="scan='log' needs a, b and h0 > 0"):
        linear_scan(a, -b, h0, "log")
    assert torch.allclose(scan_log(a.log(), b.log(), h0.log()), scan_loop(a, b, h0))


def test_g_is_positive_continuous_and_log_g_matches():
    x = torch.linspace(-30, 30, 601, dtype=F64)
    assert (g(x) > 0).all() and torch.all(g(x)[1:] >= g(x)[:-1])
    torch.testing.assert_close(g(torch.zeros(1, dtype=F64)), torch.full((1,), 0.5, dtype=F64))
    torch.testing.assert_close(log_g(x), g(x).log(), **TOL)


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_min_models_agree_across_scans(cls):
    torch.manual_seed(0)
    models = {s: cls(3, 4, scan=s, dtype=F64) for s in SCANS
              if s != "kernel" or fast.kernels_available()}
    for m in models.values():
        m.load_state_dict(models["loop"].state_dict())
    x = randn(8, 2, 3, seed=5, requires_grad=True)
    h0 = torch.exp(randn(2, 4, seed=6)).requires_grad_()
    results = {}
    for s, m in models.items():
        out, h_last = m(x, h0)
        loss = out.sin().sum() + h_last.sum()
        results[s] = (out, *torch.autograd.grad(loss, [x, h0, *m.parameters()]))
    for s in models:
        for got, want in zip(results[s], results["loop"], strict=True):
            torch.testing.assert_close(got, want, **TOL)


def test_min_gru_equations_by_hand():
    torch.manual_seed(1)
    m = MinGRU(2, 3, scan="loop", dtype=F64)
    x = randn(2, 1, 2, seed=3)
    k, pre = m.linear(x).chunk(2, dim=-1)
    z, cand = torch.sigmoid(k), g(pre)
    h1 = (1 - z[0]) * 0.5 + z[0] * cand[0]
    h2 = (1 - z[1]) * h1 + z[1] * cand[1]
    out, h_last = m(x)
    torch.testing.assert_close(out, torch.stack([h1, h2]), **TOL)
    torch.testing.assert_close(h_last, h2, **TOL)
    assert repr(m).startswith("MinGRU(\n  2, 3, scan='loop'")


def test_min_models_refuse_bad_input():
    with pytest.raises(ValueError, match="scan must be one of"):
        MinGRU(2, 3, scan="fft")
    with pytest.raises(ValueError, match=r"x must be \(T, B, input_size=2\)"):
        MinLSTM(2, 3)(torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"h0 must be > 0 for scan='log'"):
        MinGRU(2, 3, scan="log")(torch.zeros(4, 1, 2), torch.zeros(1, 3))

"""Linear recurrences and the models built on them: minGRU and minLSTM (Feng et al. 2024).

    model = MinGRU(32, 128)             # scan="kernel": compiled C++, else "log" or "loop"
    output, h_T = model(x)              # x (T, B, I) -> output (T, B, H), h_T (B, H)

An LSTM's gates read h_{t-1}, so step t cannot start before step t-1 ends. minGRU and
minLSTM drop h_{t-1} from the gates. What is left is the linear recurrence

    h_t = a_t * h_{t-1} + b_t,       a_t, b_t computed from x_t alone,

and that has three exact evaluations, all here and proven equal by tests/test_scan.py:

- scan_loop: step by step in PyTorch, autograd for the backward pass (the reference);
- scan_log: Heinsen's (2023) parallel scan in log space, two cumulative sums over time
  (cumsum and logcumsumexp), for positive a_t, b_t and h_0;
- LinearScan: one pass of compiled C++ forward and one backward (rnnbook.fast's kernels).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnbook.checks import InputError, check_choice, check_int
from rnnbook.fast import _check_kernel_tensors, _kernel

__all__ = ["SCANS", "LinearScan", "MinGRU", "MinLSTM", "g", "linear_scan", "log_g",
           "scan_log", "scan_loop"]

SCANS = ("kernel", "log", "loop")


def g(x: Tensor) -> Tensor:
    """Feng et al.'s activation for the candidate state: x + 1/2 for x >= 0, sigmoid(x)
    below. Continuous, increasing and always positive, so that log-space scans can take its
    logarithm."""
    _check_tensor("x", x)
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    """log(g(x)), computed without forming g(x) where that would lose digits."""
    _check_tensor("x", x)
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def _check_tensor(name: str, t) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")


def _check_scan(a, b, h0, names=("a", "b", "h0")) -> None:
    for name, t in zip(names, (a, b, h0), strict=True):
        _check_tensor(name, t)
    if a.dim() < 2 or a.size(0) == 0:
        raise InputError(f"{names[0]} must be (T, ...) with T >= 1 steps, got {tuple(a.shape)}")
    if b.shape != a.shape:
        raise InputError(f"{names[1]} must have the shape of {names[0]}, {tuple(a.shape)}, "
                         f"got {tuple(b.shape)}")
    if h0.shape != a.shape[1:]:
        raise InputError(f"{names[2]} must have shape {tuple(a.shape[1:])}, got "
                         f"{tuple(h0.shape)}")
    for name, t in zip(names[1:], (b, h0), strict=True):
        if t.dtype != a.dtype:
            raise InputError(f"{name} has dtype {t.dtype} but {names[0]} has {a.dtype}")


def scan_loop(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """h_t = a_t h_{t-1} + b_t for t = 1..T, step by step; returns h_1..h_T, shape of a.

    unbind(0) makes the per-step views once. Indexing a[t] inside the loop instead looks
    the same, but each index's backward writes a gradient the size of all of a, which makes
    the backward pass quadratic in T (chapter 15 measures it)."""
    _check_scan(a, b, h0)
    h, out = h0, []
    for a_t, b_t in zip(a.unbind(0), b.unbind(0), strict=True):
        h = a_t * h + b_t
        out.append(h)
    return torch.stack(out)


def scan_log(log_a: Tensor, log_b: Tensor, log_h0: Tensor) -> Tensor:
    """The same recurrence for positive a, b and h0, given their logarithms, with no loop
    (Heinsen 2023). Unrolled, h_t = A_t (h_0 + sum_{s<=t} b_s / A_s) with A_t = a_1...a_t,
    so in logs: log h_t = a*_t + logcumsumexp_s(log b_s - a*_s), a*_t = cumsum(log a)_t,
    with h_0 as the term s = 0. Every step is a cumulative sum, which parallel hardware
    computes in log2(T) rounds; logcumsumexp keeps it from overflowing. Returns h_1..h_T."""
    _check_scan(log_a, log_b, log_h0, names=("log_a", "log_b", "log_h0"))
    a_star = torch.cumsum(log_a, dim=0)
    a_star = torch.cat([torch.zeros_like(a_star[:1]), a_star])
    values = torch.cat([log_h0.unsqueeze(0), log_b])
    return torch.exp(a_star + torch.logcumsumexp(values - a_star, dim=0))[1:]


class LinearScan(torch.autograd.Function):
    """h_t = a_t h_{t-1} + b_t in one pass of compiled C++ (float32 or float64, CPU), and
    its backward in one pass too: the gradient flows back through the same recurrence,
    g_t = dL/dh_t + a_{t+1} g_{t+1}, then dL/db_t = g_t and dL/da_t = g_t h_{t-1}.
    apply(a, b, h0) -> h_1..h_T. First derivatives only."""

    @staticmethod
    def forward(ctx, a, b, h0):
        _check_scan(a, b, h0)
        _check_kernel_tensors(a=a, b=b, h0=h0)
        a, b, h0 = a.contiguous(), b.contiguous(), h0.contiguous()
        h = torch.empty_like(a)
        steps, n = a.size(0), a[0].numel()
        _kernel(a.dtype, "scan_forward")(steps, n, a.data_ptr(), b.data_ptr(),
                                         h0.data_ptr(), h.data_ptr())
        ctx.save_for_backward(a, h0, h)
        return h

    @staticmethod
    def backward(ctx, d_h):
        a, h0, h = ctx.saved_tensors
        if torch.is_grad_enabled():
            raise RuntimeError("LinearScan's compiled backward pass is not differentiable, so "
                               "it gives no second derivatives: use scan_loop or scan_log")
        d_h = d_h.contiguous()
        da, db, carry = torch.empty_like(a), torch.empty_like(a), torch.zeros_like(h0)
        _kernel(a.dtype, "scan_backward")(a.size(0), a[0].numel(), a.data_ptr(),
                                          h0.data_ptr(), h.data_ptr(), d_h.data_ptr(),
                                          da.data_ptr(), db.data_ptr(), carry.data_ptr())
        return da, db, carry


def linear_scan(a: Tensor, b: Tensor, h0: Tensor, scan: str = "kernel") -> Tensor:
    """h_t = a_t h_{t-1} + b_t for t = 1..T, by the method `scan` names (see SCANS).
    "log" needs a, b and h0 positive, and takes them as they are (not their logarithms)."""
    check_choice("scan", scan, SCANS)
    if scan == "loop":
        return scan_loop(a, b, h0)
    if scan == "kernel":
        return LinearScan.apply(a, b, h0)
    _check_scan(a, b, h0)
    if not (bool((a > 0).all()) and bool((b > 0).all()) and bool((h0 > 0).all())):
        raise InputError("scan='log' needs a, b and h0 > 0 (it takes their logarithms)")
    return scan_log(a.log(), b.log(), h0.log())


class _MinRNN(nn.Module):
    """What minGRU and minLSTM share: one linear map from x_t to all gate pre-activations,
    a scan, and (T, B, I) input like torch.nn's default. h0 defaults to g(0) = 1/2."""

    n_blocks = 2

    def __init__(self, input_size: int, hidden_size: int, scan: str = "kernel",
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = check_int("input_size", input_size)
        self.hidden_size = check_int("hidden_size", hidden_size)
        self.scan = check_choice("scan", scan, SCANS)
        self.linear = nn.Linear(input_size, self.n_blocks * hidden_size, device=device,
                                dtype=dtype)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, scan={self.scan!r}"

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        _check_tensor("x", x)
        if x.dim() != 3 or x.size(-1) != self.input_size or x.size(0) == 0:
            raise InputError(f"x must be (T, B, input_size={self.input_size}) with T >= 1, "
                             f"got {tuple(x.shape)}")
        shape = (x.size(1), self.hidden_size)
        if h0 is None:
            h0 = x.new_full(shape, 0.5)
        elif not isinstance(h0, Tensor) or h0.shape != shape:
            raise InputError(f"h0 must be a tensor of shape {shape}, got "
                             f"{tuple(h0.shape) if isinstance(h0, Tensor) else h0!r}")
        if self.scan == "log":
            log_a, log_b = self.log_coefficients(self.linear(x))
            if not bool((h0 > 0).all()):
                raise InputError("h0 must be > 0 for scan='log' (it takes its logarithm)")
            h = scan_log(log_a, log_b, h0.log())
        else:
            a, b = self.coefficients(self.linear(x))
            h = linear_scan(a, b, h0, self.scan)
        return h, h[-1]


class MinGRU(_MinRNN):
    """minGRU (Feng et al. 2024): z_t = sigmoid(W_z x_t + b_z), h~_t = g(W_h x_t + b_h),
    h_t = (1 - z_t) h_{t-1} + z_t h~_t. The gates see x_t only, so the whole sequence is one
    scan. scan: "kernel" (compiled C++), "log" (Heinsen's parallel scan) or "loop"."""

    n_blocks = 2

    def coefficients(self, p: Tensor) -> tuple[Tensor, Tensor]:
        k, pre = p.chunk(2, dim=-1)
        z = torch.sigmoid(k)
        return 1 - z, z * g(pre)

    def log_coefficients(self, p: Tensor) -> tuple[Tensor, Tensor]:
        k, pre = p.chunk(2, dim=-1)             # log(1 - z) = -softplus(k), log z = -softplus(-k)
        return -F.softplus(k), -F.softplus(-k) + log_g(pre)


class MinLSTM(_MinRNN):
    """minLSTM (Feng et al. 2024): f_t, i_t = sigmoid(W_f x_t + b_f), sigmoid(W_i x_t + b_i),
    normalised to f'_t = f_t / (f_t + i_t), i'_t = i_t / (f_t + i_t); h~_t = g(W_h x_t + b_h),
    h_t = f'_t h_{t-1} + i'_t h~_t. scan: "kernel", "log" or "loop", as MinGRU."""

    n_blocks = 3

    def coefficients(self, p: Tensor) -> tuple[Tensor, Tensor]:
        kf, ki, pre = p.chunk(3, dim=-1)
        f, i = torch.sigmoid(kf), torch.sigmoid(ki)
        return f / (f + i), i / (f + i) * g(pre)

    def log_coefficients(self, p: Tensor) -> tuple[Tensor, Tensor]:
        kf, ki, pre = p.chunk(3, dim=-1)
        log_f, log_i = -F.softplus(-kf), -F.softplus(-ki)
        total = torch.logaddexp(log_f, log_i)
        return log_f - total, log_i - total + log_g(pre)

"""Fast paths for the recurrent layers: where the book trades readability for speed.

    lstm = FastLSTM(32, 128)          # rnnbook.LSTM's interface, its loop in LSTMSequence
    output, (h_n, c_n) = lstm(x)

`rnnbook.layers` is written to be read: one call of the equations per step, autograd for
the backward pass. This module holds the versions chapter 15 measures against torch.nn,
each proven equal to it by the tests. `python -m rnnbook.bench` times them side by side.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence

from rnnbook.checks import InputError, check_bool, check_choice
from rnnbook.download import cache_dir
from rnnbook.layers import LSTM

__all__ = ["FastLSTM", "KernelLSTM", "KernelLSTMSequence", "LADDER", "LSTMSequence",
           "build_kernels", "kernel_function", "kernel_path", "kernels_available", "lstm_c_kernel",
           "lstm_fused", "lstm_hand_written", "lstm_hoisted", "lstm_per_gate"]


class LSTMSequence(torch.autograd.Function):
    """The LSTM's loop over time, with backpropagation through time written by hand.

    Why: leaving the backward pass to autograd costs a dozen small graph nodes and a
    weight-gradient matmul per step; here the forward pass computes the gates in place,
    and the backward pass computes dL/dW_hh for all steps in one matmul at the end. The
    equations are those of `rnnbook.gates.lstm_step`, written out in place; the tests
    check FastLSTM against `nn.LSTM` and against `rnnbook.LSTM`.
    The backward pass is not itself differentiable: asking for a second derivative (with
    create_graph=True, gradgradcheck, a Hessian) raises an error that says so and points to
    rnnbook.LSTM, instead of giving a wrong result.

    forward(x_proj, h0, c0, w_hh) -> (outputs, h_T, c_T), where x_proj (T, B, 4H) holds
    W_ih x_t + b_ih + b_hh for every step.
    """

    @staticmethod
    def forward(ctx, x_proj, h0, c0, w_hh):
        _check_sequence(x_proj, h0, c0, w_hh)
        acts, hs, cs, tanh_cs = _forward_in_place(x_proj, h0, c0, w_hh)
        ctx.save_for_backward(acts, hs, cs, tanh_cs, w_hh, x_proj, h0, c0)
        return hs[1:].clone(), hs[-1].clone(), cs[-1].clone()

    @staticmethod
    def backward(ctx, d_out, d_h_last, d_c_last):
        with torch.no_grad():
            grads = _backward(ctx, d_out, d_h_last, d_c_last)
        return _first_derivative_only(ctx, grads, (d_out, d_h_last, d_c_last))


def _forward_in_place(x_proj, h0, c0, w_hh):
    """The LSTM's forward loop with the gates computed in place in one (T, B, 4H) buffer;
    returns what the backward pass needs: activations, h_0..h_T, c_0..c_T, tanh(c_1..c_T)."""
    steps, H = x_proj.size(0), w_hh.size(1)
    acts = torch.empty_like(x_proj)                  # i, f, g, o after activation
    hs = x_proj.new_empty(steps + 1, *h0.shape)      # h_0 ... h_T
    cs = x_proj.new_empty(steps + 1, *c0.shape)      # c_0 ... c_T
    tanh_cs = x_proj.new_empty(steps, *c0.shape)     # tanh(c_1) ... tanh(c_T)
    hs[0], cs[0] = h0, c0
    # Per-step views, made once: the loop then runs only arithmetic.
    a, i, f, g, o = _step_views(acts, H)
    i_f = acts[..., :2 * H].unbind(0)
    h, c, tanh_c, x = hs.unbind(0), cs.unbind(0), tanh_cs.unbind(0), x_proj.unbind(0)
    w_t = w_hh.t()
    for t in range(steps):
        torch.addmm(x[t], h[t], w_t, out=a[t])       # all four gates in one matmul
        i_f[t].sigmoid_()
        g[t].tanh_()
        o[t].sigmoid_()
        torch.mul(f[t], c[t], out=c[t + 1]).addcmul_(i[t], g[t])   # c = f c + i g
        torch.tanh(c[t + 1], out=tanh_c[t])
        torch.mul(o[t], tanh_c[t], out=h[t + 1])                   # h = o tanh(c)
    return acts, hs, cs, tanh_cs


class _FirstDerivativeOnly(torch.autograd.Function):
    """Passes a gradient through; refuses, clearly, to be differentiated."""

    @staticmethod
    def forward(ctx, grad, *ties):
        return grad.clone()

    @staticmethod
    def backward(ctx, _):
        raise RuntimeError("FastLSTM's hand-written backward pass (rnnbook.fast.LSTMSequence) "
                           "is not differentiable, so it gives no second derivatives "
                           "(create_graph=True, gradgradcheck, Hessians): use rnnbook.LSTM, "
                           "whose backward pass autograd derives")


def _backward(ctx, d_out, d_h_last, d_c_last):
    """Backpropagation through time for LSTMSequence, written out. Its central line,
    dL/dc_{t-1} = f_t * dL/dc_t, is the "highway" of chapter 05; chapter 15 is about the rest."""
    acts, hs, cs, tanh_cs, w_hh = ctx.saved_tensors[:5]
    H = w_hh.size(1)
    # Derivatives of the activations for all steps at once: s(1 - s) for the sigmoid
    # gates, 1 - g^2 for the candidate, 1 - tanh(c)^2 for the cell's output tanh.
    slope = acts * (1 - acts)
    slope[..., 2 * H:3 * H] = 1 - acts[..., 2 * H:3 * H] ** 2
    tanh_slope = (1 - tanh_cs ** 2).unbind(0)
    d_gates = torch.empty_like(acts)
    _, i, f, g, o = _step_views(acts, H)
    d_a, d_i, d_f, d_g, d_o = _step_views(d_gates, H)
    slope, tanh_c, c = slope.unbind(0), tanh_cs.unbind(0), cs.unbind(0)
    d_out = d_out.unbind(0)
    dh, dc = d_h_last.clone(), d_c_last.clone()
    for t in reversed(range(acts.size(0))):
        dh += d_out[t]                                # from the output and from t+1
        torch.mul(dh, tanh_c[t], out=d_o[t])          # dL/do
        dc.addcmul_(dh * o[t], tanh_slope[t])         # dL/dc_t, also through h_t
        torch.mul(dc, g[t], out=d_i[t])               # dL/di
        torch.mul(dc, c[t], out=d_f[t])               # dL/df   (c[t] is c_{t-1})
        torch.mul(dc, i[t], out=d_g[t])               # dL/dg
        d_a[t].mul_(slope[t])                         # through the activations
        dc.mul_(f[t])                                 # dL/dc_{t-1} = f * dL/dc_t
        dh = torch.mm(d_a[t], w_hh)                   # dL/dh_{t-1}
    d_w = None
    if ctx.needs_input_grad[3]:                       # all steps in one matmul
        d_w = d_gates.flatten(0, 1).t() @ hs[:-1].flatten(0, 1)
    return d_gates, dh, dc, d_w


def _check_sequence(x_proj, h0, c0, w_hh) -> None:
    """The shapes LSTMSequence needs, with messages naming the argument."""
    for name, t in (("x_proj", x_proj), ("h0", h0), ("c0", c0), ("w_hh", w_hh)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if w_hh.dim() != 2 or w_hh.size(0) != 4 * w_hh.size(1):
        H = w_hh.size(0) // 4 if w_hh.dim() else 0
        raise InputError(f"w_hh must have shape ({4 * H}, {H}), (4 * H, H), "
                         f"got {tuple(w_hh.shape)}")
    H = w_hh.size(1)
    B = x_proj.size(1) if x_proj.dim() == 3 else "B"
    if x_proj.dim() != 3 or x_proj.size(2) != 4 * H:
        raise InputError(f"x_proj must be (T, B, 4 * H) = (T, {B}, {4 * H}), "
                         f"got {tuple(x_proj.shape)}")
    if x_proj.size(0) == 0:
        raise InputError(f"x_proj must hold at least one step, got {tuple(x_proj.shape)}")
    for name, t in (("h0", h0), ("c0", c0), ("w_hh", w_hh)):
        if name != "w_hh" and tuple(t.shape) != (B, H):
            raise InputError(f"{name} must have shape {(B, H)}, got {tuple(t.shape)}")
        if t.dtype != x_proj.dtype:
            raise InputError(f"{name} has dtype {t.dtype} but x_proj has {x_proj.dtype}")


def _step_views(gates: Tensor, H: int):
    """Per-step views of a (T, B, 4H) gate tensor: whole, then i, f, g, o blocks."""
    return (gates.unbind(0),) + tuple(gates[..., k * H:(k + 1) * H].unbind(0)
                                       for k in range(4))


class FastLSTM(LSTM):
    """rnnbook.LSTM with its loop over time in LSTMSequence: gates computed in place and a
    hand-written backward pass. Same arguments, parameters and results, except that it
    takes neither projections (proj_size) nor PackedSequence input: use LSTM for those."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.proj_size:
            raise ValueError("FastLSTM has no projections: use rnnbook.LSTM for proj_size > 0")

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            raise TypeError("FastLSTM takes padded input only: use rnnbook.LSTM for a "
                            "PackedSequence")
        return super().forward(input, hx)

    sequence = LSTMSequence       # the autograd Function that runs the loop

    def _run_direction(self, x_proj: Tensor, state, options: dict, reverse: bool, alive):
        if options["b_hh"] is not None:
            x_proj = x_proj + options["b_hh"]
        if reverse:
            x_proj = x_proj.flip(0)
        outputs, h, c = self.sequence.apply(x_proj, state[0], state[1], options["w_hh"])
        return (outputs.flip(0) if reverse else outputs), (h, c)


# ---------------------------------------------------------------------------------------
# The ladder of fast paths: one function per rung, all with nn.LSTM's arithmetic
# ---------------------------------------------------------------------------------------
#
# Each rung takes (x, h0, c0, w_ih, w_hh, b_ih, b_hh) with torch.nn.LSTM's weight layout
# (gates i, f, g, o stacked in rows) and returns (output, h_T, c_T): one layer, one
# direction, x of shape (T, B, I). Chapter 15 times them against nn.LSTM.

def lstm_per_gate(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """Rung 0, the equations as written: eight small matmuls per step, one per gate and
    input, and autograd for the backward pass."""
    _check_rung(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    W_i, W_h = w_ih.chunk(4), w_hh.chunk(4)
    b = (b_ih + b_hh).chunk(4)
    h, c, outputs = h0, c0, []
    for x_t in x.unbind(0):
        i, f, g, o = (x_t @ W_i[k].t() + h @ W_h[k].t() + b[k] for k in range(4))
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs), h, c


def lstm_hoisted(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """Rung 1: the input projection W_ih x_t + b for all steps in one big matmul before the
    loop (it does not depend on h); four per-gate matmuls with W_hh stay in the loop."""
    _check_rung(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    x_proj = torch.addmm(b_ih + b_hh, x.flatten(0, 1), w_ih.t()).view(*x.shape[:2], -1)
    W_h = w_hh.chunk(4)
    h, c, outputs = h0, c0, []
    for p in x_proj.unbind(0):
        p_i, p_f, p_g, p_o = p.chunk(4, dim=1)
        i, f = torch.sigmoid(p_i + h @ W_h[0].t()), torch.sigmoid(p_f + h @ W_h[1].t())
        g, o = torch.tanh(p_g + h @ W_h[2].t()), torch.sigmoid(p_o + h @ W_h[3].t())
        c = f * c + i * g
        h = o * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs), h, c


def lstm_fused(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """Rung 2: hoisted, and the four gates' W_hh matmuls fused into one (B, H) x (H, 4H)
    matmul per step (what rnnbook.LSTM does). Autograd still derives the backward pass."""
    _check_rung(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    x_proj = torch.addmm(b_ih + b_hh, x.flatten(0, 1), w_ih.t()).view(*x.shape[:2], -1)
    w_t = w_hh.t()
    h, c, outputs = h0, c0, []
    for p in x_proj.unbind(0):
        i, f, g, o = torch.addmm(p, h, w_t).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs), h, c


def lstm_hand_written(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """Rung 3: fused, with the gates computed in place and backpropagation through time
    written by hand (LSTMSequence): one autograd node for the whole loop."""
    _check_rung(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    x_proj = torch.addmm(b_ih + b_hh, x.flatten(0, 1), w_ih.t()).view(*x.shape[:2], -1)
    return LSTMSequence.apply(x_proj, h0, c0, w_hh)


def lstm_c_kernel(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """Rung 4: rung 3 with each backward step's element-wise work done by one call of a
    compiled C++ function (KernelLSTMSequence); the matmuls stay with PyTorch. Needs a C++
    compiler."""
    _check_rung(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    x_proj = torch.addmm(b_ih + b_hh, x.flatten(0, 1), w_ih.t()).view(*x.shape[:2], -1)
    return KernelLSTMSequence.apply(x_proj, h0, c0, w_hh)


LADDER = {"per-gate": lstm_per_gate, "hoisted": lstm_hoisted, "fused": lstm_fused,
          "hand-written backward": lstm_hand_written, "C++ backward kernel": lstm_c_kernel}
"""The rungs in order, each one change on top of the one before."""


def _check_rung(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> None:
    """The shapes every rung needs, with messages naming the argument."""
    args = {"x": x, "h0": h0, "c0": c0, "w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih,
            "b_hh": b_hh}
    for name, t in args.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if x.dim() != 3 or x.size(0) == 0:
        raise InputError(f"x must be (T, B, I) with T >= 1, got {tuple(x.shape)}")
    T, B, I = x.shape
    H = w_hh.size(-1)
    want = {"h0": (B, H), "c0": (B, H), "w_ih": (4 * H, I), "w_hh": (4 * H, H),
            "b_ih": (4 * H,), "b_hh": (4 * H,)}
    for name, shape in want.items():
        if tuple(args[name].shape) != shape:
            raise InputError(f"{name} must have shape {shape} for x of shape {(T, B, I)} "
                             f"and hidden size {H}, got {tuple(args[name].shape)}")
        if args[name].dtype != x.dtype:
            raise InputError(f"{name} has dtype {args[name].dtype} but x has {x.dtype}")


# ---------------------------------------------------------------------------------------
# Compiled C++ kernels, called through ctypes
# ---------------------------------------------------------------------------------------
#
# torch.utils.cpp_extension.load_inline compiles against PyTorch's headers, which costs
# tens of seconds on a cold cache. These kernels touch nothing of PyTorch: they read and
# write plain contiguous float or double buffers, so `g++ -O2 -shared -fPIC` builds them
# in about a second, and ctypes calls them with the tensors' data pointers.

KERNEL_SOURCE = r"""
#include <cmath>

template <typename T> static inline T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }

// One LSTM step after its matmul. a (B, 4H) holds the pre-activations of i, f, g, o and
// receives their activations; then c = f c_prev + i g, tanh_c = tanh(c), h = o tanh_c.
template <typename T>
static void lstm_forward_step(long B, long H, T* a, const T* c_prev, T* c, T* tanh_c, T* h) {
    for (long b = 0; b < B; ++b) {
        T* row = a + b * 4 * H;
        for (long j = 0; j < H; ++j) {
            T i = sigmoid(row[j]), f = sigmoid(row[H + j]);
            T g = std::tanh(row[2 * H + j]), o = sigmoid(row[3 * H + j]);
            row[j] = i; row[H + j] = f; row[2 * H + j] = g; row[3 * H + j] = o;
            long k = b * H + j;
            c[k] = f * c_prev[k] + i * g;
            tanh_c[k] = std::tanh(c[k]);
            h[k] = o * tanh_c[k];
        }
    }
}

// Its backward. dh = dL/dh_t from step t+1, d_out = the output's own gradient at t;
// dc holds dL/dc_t on entry and dL/dc_{t-1} on exit; d_a receives dL/d(pre-activations).
template <typename T>
static void lstm_backward_step(long B, long H, const T* a, const T* c_prev, const T* tanh_c,
                               const T* dh, const T* d_out, T* dc, T* d_a) {
    for (long b = 0; b < B; ++b) {
        const T* row = a + b * 4 * H;
        T* d = d_a + b * 4 * H;
        for (long j = 0; j < H; ++j) {
            long k = b * H + j;
            T i = row[j], f = row[H + j], g = row[2 * H + j], o = row[3 * H + j];
            T dh_t = dh[k] + d_out[k], tc = tanh_c[k];
            T dc_t = dc[k] + dh_t * o * (1 - tc * tc);
            d[j] = dc_t * g * i * (1 - i);
            d[H + j] = dc_t * c_prev[k] * f * (1 - f);
            d[2 * H + j] = dc_t * i * (1 - g * g);
            d[3 * H + j] = dh_t * tc * o * (1 - o);
            dc[k] = dc_t * f;
        }
    }
}

// The linear recurrence h_t = a_t h_{t-1} + b_t over (T, N) buffers, in one pass.
template <typename T>
static void scan_forward(long steps, long N, const T* a, const T* b, const T* h0, T* h) {
    const T* prev = h0;
    for (long t = 0; t < steps; ++t) {
        T* out = h + t * N;
        for (long n = 0; n < N; ++n) out[n] = a[t * N + n] * prev[n] + b[t * N + n];
        prev = out;
    }
}

// Its backward: the same recurrence run backwards. g_t = d_out_t + a_{t+1} g_{t+1};
// db_t = g_t, da_t = g_t h_{t-1}; carry (zeros on entry) ends as dL/dh_0 = a_1 g_1.
template <typename T>
static void scan_backward(long steps, long N, const T* a, const T* h0, const T* h,
                          const T* d_out, T* da, T* db, T* carry) {
    for (long t = steps - 1; t >= 0; --t) {
        const T* prev = t > 0 ? h + (t - 1) * N : h0;
        for (long n = 0; n < N; ++n) {
            T g = d_out[t * N + n] + carry[n];
            db[t * N + n] = g;
            da[t * N + n] = g * prev[n];
            carry[n] = a[t * N + n] * g;
        }
    }
}

#define EXPORT(T, suffix)                                                                  \
extern "C" void lstm_forward_step_##suffix(long B, long H, T* a, const T* c_prev, T* c,  \
                                           T* tanh_c, T* h) {                             \
    lstm_forward_step<T>(B, H, a, c_prev, c, tanh_c, h); }                                \
extern "C" void lstm_backward_step_##suffix(long B, long H, const T* a, const T* c_prev,  \
        const T* tanh_c, const T* dh, const T* d_out, T* dc, T* d_a) {                    \
    lstm_backward_step<T>(B, H, a, c_prev, tanh_c, dh, d_out, dc, d_a); }                 \
extern "C" void scan_forward_##suffix(long steps, long N, const T* a, const T* b,         \
                                      const T* h0, T* h) {                                \
    scan_forward<T>(steps, N, a, b, h0, h); }                                             \
extern "C" void scan_backward_##suffix(long steps, long N, const T* a, const T* h0,       \
        const T* h, const T* d_out, T* da, T* db, T* carry) {                             \
    scan_backward<T>(steps, N, a, h0, h, d_out, da, db, carry); }

EXPORT(float, f32)
EXPORT(double, f64)
"""

_KERNEL_FUNCTIONS = {"lstm_forward_step": 7, "lstm_backward_step": 9, "scan_forward": 6,
                     "scan_backward": 9}
_SUFFIX = {torch.float32: "f32", torch.float64: "f64"}
_kernels: dict = {}


def kernel_path() -> Path:
    """Where the compiled kernels live: a file in rnnbook's cache folder (outside the
    repository), named after a hash of the source, so that an edit builds a new one."""
    digest = hashlib.sha256(KERNEL_SOURCE.encode()).hexdigest()[:16]
    return cache_dir() / "kernels" / f"rnnbook_kernels_{digest}.so"


def build_kernels(force: bool = False) -> Path:
    """Compile KERNEL_SOURCE with g++ (or $CXX) into kernel_path(), unless it is there
    already (force=True compiles anyway). Raises RuntimeError when no compiler is found
    or the compiler fails, with its message."""
    force = check_bool("force", force)
    path = kernel_path()
    if path.exists() and not force:
        return path
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        raise RuntimeError("no C++ compiler found (looked for $CXX, g++ and c++): the "
                           "compiled kernels are not available on this machine")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        source, built = Path(tmp) / "kernels.cpp", Path(tmp) / path.name
        source.write_text(KERNEL_SOURCE)
        result = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(built),
                                 str(source)], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"compiling the kernels with {compiler} failed:\n"
                               f"{result.stderr.strip()}")
        os.replace(built, path)              # atomic: another process never sees half a file
    return path


def kernels_available() -> bool:
    """Whether the compiled kernels can be used here (they are built on first use)."""
    try:
        _kernel(torch.float64, "scan_forward")
    except RuntimeError:
        return False
    return True


def kernel_function(name: str, dtype: torch.dtype = torch.float64):
    """The compiled C++ function `name` (one of lstm_forward_step, lstm_backward_step,
    scan_forward, scan_backward) for float32 or float64 buffers, to call with ctypes: sizes
    as ints, tensors as their data_ptr(). Builds the library on first use."""
    check_choice("name", name, tuple(_KERNEL_FUNCTIONS))
    if dtype not in _SUFFIX:
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    return _kernel(dtype, name)


def _kernel(dtype: torch.dtype, name: str):
    """The compiled function `name` for `dtype`, building and loading the library once."""
    if "lib" not in _kernels:
        lib = ctypes.CDLL(str(build_kernels()))
        for fn, n_args in _KERNEL_FUNCTIONS.items():
            for suffix in _SUFFIX.values():
                f = getattr(lib, f"{fn}_{suffix}")
                f.argtypes = [ctypes.c_long] * (2 if n_args > 2 else 0) + \
                    [ctypes.c_void_p] * (n_args - 2)
                f.restype = None
        _kernels["lib"] = lib
    return getattr(_kernels["lib"], f"{name}_{_SUFFIX[dtype]}")


def _check_kernel_tensors(**tensors) -> None:
    """The compiled kernels read float32 or float64 tensors in the CPU's memory."""
    for name, t in tensors.items():
        if t.device.type != "cpu" or t.dtype not in _SUFFIX:
            raise InputError(f"{name} must be a float32 or float64 CPU tensor for the "
                             f"compiled kernels, got {t.dtype} on {t.device}")


def _pointers(t: Tensor) -> list[int]:
    """The address of each t[k] of a contiguous tensor, for ctypes."""
    step = t[0].numel() * t.element_size() if t.size(0) else 0
    return [t.data_ptr() + k * step for k in range(t.size(0))]


class KernelLSTMSequence(LSTMSequence):
    """LSTMSequence with each backward step's element-wise work (the derivatives of the
    activations, the cell and the output: a dozen PyTorch operations) in one call of
    compiled C++ through ctypes. The forward pass stays with PyTorch's vectorised
    element-wise kernels, which beat the scalar exp and tanh of a plain C++ loop
    (lstm_forward_step in KERNEL_SOURCE, which chapter 15 times to show it). Same contract
    as LSTMSequence: forward(x_proj, h0, c0, w_hh) -> (outputs, h_T, c_T); first
    derivatives only."""

    @staticmethod
    def forward(ctx, x_proj, h0, c0, w_hh):
        _check_sequence(x_proj, h0, c0, w_hh)
        _check_kernel_tensors(x_proj=x_proj, w_hh=w_hh)
        return LSTMSequence.forward(ctx, x_proj, h0, c0, w_hh)      # the same forward pass

    @staticmethod
    def backward(ctx, d_out, d_h_last, d_c_last):
        with torch.no_grad():
            acts, hs, cs, tanh_cs, w_hh = ctx.saved_tensors[:5]
            step = _kernel(acts.dtype, "lstm_backward_step")
            steps, B, H = acts.size(0), acts.size(1), w_hh.size(1)
            d_out = d_out.contiguous()
            dh, dc = d_h_last.clone().contiguous(), d_c_last.clone().contiguous()
            d_gates = torch.empty_like(acts)
            a, c, tc = _pointers(acts), _pointers(cs), _pointers(tanh_cs)
            d_o, d_a = _pointers(d_out), _pointers(d_gates)
            d_a_rows = d_gates.unbind(0)
            dh_ptr, dc_ptr = dh.data_ptr(), dc.data_ptr()
            for t in reversed(range(steps)):
                step(B, H, a[t], c[t], tc[t], dh_ptr, d_o[t], dc_ptr, d_a[t])
                torch.mm(d_a_rows[t], w_hh, out=dh)           # dL/dh_{t-1}
            d_w = None
            if ctx.needs_input_grad[3]:
                d_w = d_gates.flatten(0, 1).t() @ hs[:-1].flatten(0, 1)
            grads = (d_gates, dh, dc, d_w)
        return _first_derivative_only(ctx, grads, (d_out, d_h_last, d_c_last))


def _first_derivative_only(ctx, grads, incoming):
    """Under create_graph=True, tie each gradient to the inputs through a node that raises
    when differentiated, so that a second derivative fails loudly instead of coming out
    silently wrong (the gradients would look constant to autograd)."""
    if not torch.is_grad_enabled():
        return grads
    ties = [t for t in (*ctx.saved_tensors[4:], *incoming) if t.requires_grad]
    return tuple(None if g is None else _FirstDerivativeOnly.apply(g, *ties) for g in grads)


class KernelLSTM(FastLSTM):
    """FastLSTM whose loop runs KernelLSTMSequence: the element-wise work of each backward
    step in compiled C++, the matmuls in PyTorch. CPU only."""

    sequence = KernelLSTMSequence

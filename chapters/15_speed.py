# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Making recurrence fast
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/rnnbook/rnnbook/blob/main/chapters/15_speed.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/rnnbook/rnnbook/main?labpath=chapters%2F15_speed.ipynb)
#
# Chapter 07 measured that PyTorch's `nn.LSTM` runs forward and backward about twice as
# fast as the book's readable LSTM on a CPU. This chapter is about that gap: where the time
# of a recurrent layer goes, how much of it can be won back step by step, what cannot be,
# and what changes when the recurrence itself is changed so that it no longer has to run
# one step after another. Every fast path is proven equal to `nn.LSTM` (or to its own
# step-by-step loop) in float64 before it is timed, and every timing is measured in this
# notebook, side by side with its competitors, on the machine that runs it.
#
# **What you will learn**
#
# - where a recurrent layer spends its time: matrix products, element-wise gate
#   arithmetic, memory, and the Python interpreter, measured with PyTorch's profiler;
# - a roofline-style floor for an LSTM layer: its FLOPs against the machine's measured
#   matrix-product throughput;
# - a ladder of exact fast paths (hoisting the input projection, fusing the gate matmuls, a
#   hand-written backward pass, a compiled C++ kernel) and what each rung buys;
# - why "write it in C++" is not automatically fast, and what `torch.compile` and PyTorch's
#   C++ extensions cost before they pay;
# - how time grows with the sequence length for `nn.LSTM`, `nn.GRU` and the book's paths;
# - minGRU and minLSTM (Feng et al. 2024), whose recurrence is linear, evaluated with a
#   parallel scan in log space (Heinsen 2023) and with a compiled sequential scan, and how
#   they compare with `nn.GRU` in speed and on the adding problem;
# - how to train over two processes with `DistributedDataParallel`, and why its gradients
#   equal one process's on the same global batch;
# - how this connects to linear RNNs and state-space models (LRU, S4, Mamba).

# %%
# On Colab, install the book's package first. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "rnnbook[data] @ git+https://github.com/rnnbook/rnnbook"], check=True)


# %% [markdown]
# ## Setting up
#
# All timings in this chapter use one thread and the CPU clock of this process
# (`rnnbook.bench.CLOCKS["cpu"]`): on a machine shared with other programs, wall-clock time
# counts the waits for a free core, CPU time counts only the work. The implementations being
# compared take turns (`rnnbook.bench.race`), so that a change in load hits them alike.
# Timings differ between machines, so the notebook prints them but asserts only ratios that
# hold with a wide margin anywhere; the exact ratios quoted in the text are those of the run
# stored with this notebook.

# %%
import os
import sys
import time
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

import rnnbook
from rnnbook import fast, seed_everything
from rnnbook.bench import race
from rnnbook.compare import matmul_flops_per_step
from rnnbook.scan import MinGRU, MinLSTM, scan_loop

torch.set_num_threads(1)
F64 = torch.float64
T, B, I, H = 100, 32, 32, 128            # chapter 07's shape: 100 steps, batch 32
TIMING = dict(clock="cpu", rounds=3, warmup=1, repeats=3)


def ms(timing) -> str:
    return f"{timing.median * 1e3:7.2f} ms"


def lstm_weights(layer: nn.LSTM) -> list[torch.Tensor]:
    """nn.LSTM's one-layer weights in the order the ladder's functions take them."""
    return [layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0]


def forward_backward(fn, x, h0, c0, weights):
    """One forward and backward pass of a ladder function, for timing."""
    def run():
        for w in weights:
            w.grad = None
        out, h, c = fn(x, h0, c0, *weights)
        out.sum().backward()
    return run


def nn_forward_backward(layer, x):
    def run():
        layer.zero_grad(set_to_none=True)
        out, _ = layer(x)
        out.sum().backward()
    return run

# %% [markdown]
# ## Where the time goes
#
# A layer's arithmetic is dominated by its matrix products. At each step an LSTM multiplies
# the input $x_t$ ($B \times I$) and the previous state $h_{t-1}$ ($B \times H$) by its
# weights, four gates at once, which is $2 \cdot B \cdot 4H (I + H)$ floating-point
# operations per step (`rnnbook.compare.matmul_flops_per_step`). The backward pass computes
# two products of the same size for every one of the forward pass (the gradient with respect
# to the input of the product, and with respect to its weights), so forward plus backward is
# about three times the forward count. The element-wise work, four activations and a few
# products per unit, is $O(BH)$ per step and adds a few percent of FLOPs.

# %% tags=["nbval-check-output"]
flops_forward = T * matmul_flops_per_step("lstm", I, H, batch=B)
flops_total = 3 * flops_forward
print(f"B={B}, T={T}, I={I}, H={H}: forward {flops_forward / 1e9:.3f} GFLOP, "
      f"forward + backward {flops_total / 1e9:.3f} GFLOP")
assert flops_forward == T * 2 * B * 4 * H * (I + H)

# %% [markdown]
# How fast can this machine multiply matrices? We time the products the LSTM needs, in
# float32 on one thread: the per-step product $h_{t-1} W_{hh}^\top$, $(32 \times 128)$ by
# $(128 \times 512)$, and one big product of the same total size as all 100 steps' input
# projections and recurrent products together, $(3200 \times 160)$ by $(160 \times 512)$.
# The big one runs near the machine's peak: it reads each weight once for 3200 rows. The
# small one is what a step-by-step loop can use, since $h_{t-1}$ is not known before step
# $t-1$ ends.

# %%
seed_everything(0)
small_a, small_b = torch.randn(B, H), torch.randn(H, 4 * H)
big_a, big_b = torch.randn(T * B, I + H), torch.randn(I + H, 4 * H)
gemm = race({"small": lambda: small_a @ small_b, "big": lambda: big_a @ big_b},
            clock="cpu", rounds=3, warmup=3, repeats=20)
gflops = {"small": 2 * B * H * 4 * H / gemm["small"].median / 1e9,
          "big": 2 * T * B * (I + H) * 4 * H / gemm["big"].median / 1e9}
floor = flops_total / (gflops["big"] * 1e9)
print(f"per-step product ({B}x{H} @ {H}x{4 * H}): {gflops['small']:6.1f} GFLOP/s")
print(f"one big product  ({T * B}x{I + H} @ {I + H}x{4 * H}): {gflops['big']:6.1f} GFLOP/s")
print(f"floor for forward + backward at the big product's rate: {floor * 1e3:.2f} ms")

# %% [markdown]
# That floor is a roofline in the simplest sense: FLOPs divided by the best throughput
# measured here. Memory does not set the limit at this size: the weights,
# $4H(I + H)$ floats, are 320 KiB, which stays in the CPU's cache from step to step, and
# a step reads and writes only a few $B \times 4H$ blocks besides. Each float of weights
# read serves $2B = 64$ FLOPs, far above what a core needs from its cache to keep busy.
#
# Now let us time the contestants: `nn.LSTM` (one fused oneDNN call forward, its own
# backward), and the book's readable `rnnbook.LSTM` (chapter 05), which runs one call of
# the equations per step and leaves the backward pass to autograd. Then PyTorch's
# profiler tells where the readable layer's time goes, operation by operation.

# %%
seed_everything(1)
reference = nn.LSTM(I, H)
readable = rnnbook.LSTM(I, H)
readable.load_state_dict(reference.state_dict())
x = torch.randn(T, B, I)
h0, c0 = torch.zeros(B, H), torch.zeros(B, H)
first = race({"nn.LSTM": nn_forward_backward(reference, x),
              "rnnbook.LSTM": nn_forward_backward(readable, x)}, **TIMING)
for name, timing in first.items():
    print(f"{name:14s} {ms(timing)}   {timing.median / floor:4.1f}x the floor")

# %%
@contextmanager
def quiet_stderr():
    """Silence the process's stderr (file descriptor 2) in the block: the profiler's C++
    library logs its start and stop there."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


CATEGORIES = {
    "matrix products": ("aten::addmm", "aten::mm", "aten::bmm"),
    "element-wise": ("aten::sigmoid", "aten::tanh", "aten::mul", "aten::add", "aten::sub",
                     "aten::rsub", "aten::addcmul", "aten::sigmoid_backward",
                     "aten::tanh_backward", "aten::neg", "aten::add_", "aten::mul_",
                     "aten::sum"),
    "memory (allocate, copy, stack)": ("aten::empty", "aten::empty_strided", "aten::copy_",
                                       "aten::clone", "aten::stack", "aten::cat",
                                       "aten::zeros", "aten::zero_", "aten::fill_",
                                       "aten::empty_like", "aten::zeros_like",
                                       "aten::ones_like", "aten::resize_"),
}


def profiler_shares(run):
    """Each category's share of the operations' self time, from PyTorch's profiler, for one
    call of `run` (after a warm-up call)."""
    run()
    with quiet_stderr(), profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    seconds = dict.fromkeys([*CATEGORIES, "other (views, autograd nodes)"], 0.0)
    for event in prof.key_averages():
        kind = next((k for k, names in CATEGORIES.items() if event.key in names),
                    "other (views, autograd nodes)")
        seconds[kind] += event.self_cpu_time_total
    return {kind: sec / sum(seconds.values()) for kind, sec in seconds.items()}


# The fixed cost of every step: the same layer, the same 100 steps, on 1-by-1 matrices,
# where the arithmetic is nothing and what remains is the interpreter, PyTorch's dispatcher,
# autograd's bookkeeping and the allocator.
tiny = rnnbook.LSTM(1, 1)
tiny_x = torch.randn(T, 1, 1)
overhead = race({"tiny": nn_forward_backward(tiny, tiny_x)}, **TIMING)["tiny"].median
total = first["rnnbook.LSTM"].median
shares = profiler_shares(nn_forward_backward(readable, x))
breakdown = {"fixed cost per operation": overhead}
breakdown |= {kind: share * (total - overhead) for kind, share in shares.items()}
for kind, sec in breakdown.items():
    print(f"{kind:32s} {sec * 1e3:7.2f} ms  {100 * sec / total:5.1f} %")
print(f"{'total (measured)':32s} {total * 1e3:7.2f} ms")

# %% [markdown]
# Read the table as an estimate, not a ledger: the fixed cost is measured (the same code on
# 1-by-1 matrices), and the rest is split in the proportions the profiler reports, which
# itself adds a little time to every operation. Two things stand out (both asserted
# below). The matrix products are under half of the readable layer's time, although they
# are nearly all of its FLOPs; and a large part is paid per *operation*, whatever its size:
# every one of the many small operations of a step, forward and backward, passes through
# Python, PyTorch's dispatcher and autograd. `nn.LSTM` pays that once per call, not per
# step. So the ladder
# below does two things: fewer, bigger operations, and less bookkeeping per operation.

# %%
assert breakdown["matrix products"] < 0.5 * total       # the products are under half
assert overhead > 0.1 * total                           # the per-operation cost is large

# %% [markdown]
# ## The ladder of fast paths
#
# Each rung is one change on top of the one before, and each is a function of
# `rnnbook.fast` with the same arguments, `(x, h0, c0, w_ih, w_hh, b_ih, b_hh)` in
# `nn.LSTM`'s weight layout, returning `(output, h_T, c_T)`:
#
# 0. **per-gate** (`lstm_per_gate`): the equations as written, eight small products per
#    step, one per gate for $x_t$ and one per gate for $h_{t-1}$;
# 1. **hoisted** (`lstm_hoisted`): $W_{ih} x_t + b_{ih} + b_{hh}$ does not depend on the
#    state, so it is computed for all $T$ steps in one big product before the loop;
# 2. **fused** (`lstm_fused`): the four gates' products with $W_{hh}$ become one
#    $(B \times H)(H \times 4H)$ product per step (what `rnnbook.LSTM` does);
# 3. **hand-written backward** (`lstm_hand_written`, `LSTMSequence`): the gates are computed
#    in place in one preallocated buffer, and backpropagation through time is written out,
#    so autograd sees one node for the whole sequence instead of a dozen per step; the
#    gradient of $W_{hh}$ for all steps is one big product at the end;
# 4. **C++ backward kernel** (`lstm_c_kernel`, `KernelLSTMSequence`): the element-wise part
#    of each backward step, a dozen PyTorch operations, becomes one call of a compiled C++
#    function through `ctypes`; the products stay with PyTorch.
#
# First the proof: every rung against `nn.LSTM` with the same weights, in float64, outputs
# and the gradients of a loss that uses every output and both final states, with respect to
# the input, the initial state and all four weight tensors.

# %%
def children_cpu_seconds() -> float:
    """CPU seconds of this process's finished child processes (the compiler runs as one)."""
    try:
        import resource
    except ImportError:                     # not on Windows: no child CPU time to read
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


start_cpu, start_children = time.process_time(), children_cpu_seconds()
try:
    fast.build_kernels(force=True)          # compile now, so that its cost is counted here
    kernel_built = True
except RuntimeError as err:                 # no compiler on this machine: say so, go on
    kernel_built = False
    print(f"The C++ kernel is not available here, the chapter goes on without it: {err}")
build_cpu = time.process_time() - start_cpu + children_cpu_seconds() - start_children
print(f"C++ kernels compiled: {kernel_built}")
LADDER = {name: fn for name, fn in fast.LADDER.items()
          if kernel_built or name != "C++ backward kernel"}

# %%
seed_everything(2)
ref64 = nn.LSTM(5, 7, dtype=F64)
x64 = torch.randn(9, 3, 5, dtype=F64, requires_grad=True)
h64 = torch.randn(3, 7, dtype=F64, requires_grad=True)
c64 = torch.randn(3, 7, dtype=F64, requires_grad=True)


def results(out, h, c, inputs):
    loss = out.sin().sum() + h.cos().sum() + c.pow(2).sum()
    return [out, h, c, *torch.autograd.grad(loss, inputs)]


inputs = [x64, h64, c64, *lstm_weights(ref64)]
out, (h, c) = ref64(x64, (h64[None], c64[None]))
expected = results(out, h[0], c[0], inputs)
worst = {}
for name, fn in LADDER.items():
    got = results(*fn(x64, h64, c64, *lstm_weights(ref64)), inputs)
    worst[name] = max((a - b).abs().max().item() for a, b in zip(got, expected, strict=True))
    print(f"{name:22s} equals nn.LSTM: largest gap in outputs and gradients below 1e-12")
assert max(worst.values()) < 1e-12

# %% [markdown]
# Now the race, in float32 at chapter 07's shape ($B=32$, $T=100$, $I=32$, $H=128$),
# forward and backward, every rung against `nn.LSTM` in the same run.

# %%
seed_everything(3)
weights = lstm_weights(reference)
runs = {"nn.LSTM": nn_forward_backward(reference, x)}
runs |= {name: forward_backward(fn, x, h0, c0, weights) for name, fn in LADDER.items()}
ladder = race(runs, **TIMING)
base = ladder["nn.LSTM"].median
for name, timing in ladder.items():
    print(f"{name:22s} {ms(timing)}   {timing.median / base:5.2f}x nn.LSTM")

# %%
fig, ax = plt.subplots(figsize=(7, 3))
names = list(ladder)
ax.barh(names[::-1], [ladder[n].median * 1e3 for n in names[::-1]],
        xerr=np.array([[ladder[n].median - ladder[n].q1, ladder[n].q3 - ladder[n].median]
                       for n in names[::-1]]).T * 1e3, color="tab:blue")
ax.axvline(floor * 1e3, color="k", ls="--", lw=1, label="FLOPs / measured big-product rate")
ax.set_xlabel("forward + backward, ms (CPU time, one thread)")
ax.set_title(f"The ladder, B={B} T={T} I={I} H={H}, float32")
ax.legend(loc="lower right", fontsize=8)
plt.tight_layout()
plt.show()

# %%
best = min((n for n in LADDER), key=lambda n: ladder[n].median)
assert ladder["hand-written backward"].median < 0.9 * ladder["per-gate"].median
assert ladder[best].median < 0.8 * ladder["per-gate"].median
print(f"fastest exact rung here: {best}, {ladder[best].median / base:.2f}x nn.LSTM")

# %% [markdown]
# In this run the compilation of the kernels took the CPU time printed below: the compiler
# is run once per edit of the source (`rnnbook.fast.build_kernels` caches the library in
# rnnbook's cache folder, named after a hash of the source), and this notebook forces a
# fresh build so that the cost is counted, not hidden in a cache.

# %%
print(f"g++ -O2 -shared -fPIC for the kernels: {build_cpu:.2f} s of CPU time")

# %% [markdown]
# ### Why only the backward step is in C++
#
# The obvious next rung is to put the forward step's element-wise work in C++ too: four
# activations, the new cell, its tanh and the output, one loop over $B 	imes H$ units.
# `KERNEL_SOURCE` has that function, `lstm_forward_step`, proven equal to the PyTorch
# version in `tests/test_fast.py`. Here it is timed against PyTorch's six in-place
# operations for the same step.

# %%
if kernel_built:
    seed_everything(4)
    pre = torch.randn(B, 4 * H)
    c_prev = torch.randn(B, H)
    c_new, tanh_c, h_new = torch.empty(B, H), torch.empty(B, H), torch.empty(B, H)
    acts = pre.clone()
    step_c = fast.kernel_function("lstm_forward_step", torch.float32)

    def c_step():
        step_c(B, H, acts.data_ptr(), c_prev.data_ptr(), c_new.data_ptr(),
               tanh_c.data_ptr(), h_new.data_ptr())

    def torch_step():
        i, f, g, o = acts.chunk(4, dim=1)
        acts[:, :2 * H].sigmoid_()
        g.tanh_()
        o.sigmoid_()
        torch.mul(f, c_prev, out=c_new).addcmul_(i, g)
        torch.tanh(c_new, out=tanh_c)
        torch.mul(o, tanh_c, out=h_new)

    def reset_then(step):
        def run():
            acts.copy_(pre)
            step()
        return run

    step_times = race({"PyTorch, six operations": reset_then(torch_step),
                       "C++, one loop": reset_then(c_step)},
                      clock="cpu", rounds=3, warmup=5, repeats=50)
    for name, timing in step_times.items():
        print(f"{name:26s} {timing.median * 1e6:8.1f} us per step")
    assert step_times["C++, one loop"].median > step_times["PyTorch, six operations"].median
else:
    print("No C++ compiler here: the comparison is skipped, the chapter goes on.")

# %% [markdown]
# The single C++ loop is *slower* than PyTorch's six operations (asserted above; several
# times slower in the run stored with this notebook). Each of PyTorch's element-wise
# kernels is vectorised: it computes `sigmoid` and `tanh` for 8 or 16 floats at a time
# with SIMD instructions and its own fast approximations. The plain C++ loop calls the C
# library's scalar `exp` and `tanh` five times per unit (three sigmoids, two tanh), tens
# of cycles each. A compiler vectorises such a loop only if it may use vector versions of
# `exp`, which GCC does under `-ffast-math`; that flag also changes rounding, and GCC
# before version 13 links code into the library that switches the whole process to
# flushing denormal numbers to zero when it loads. The backward step has no
# transcendental functions, only products and sums of saved activations, and there one
# loop beats a dozen operations. Compiled code wins where it removes per-operation costs,
# not where it replaces a tuned kernel.
#
# ### What is left between the best rung and `nn.LSTM`
#
# The best exact rung still runs a Python loop of 100 steps forward and 100 backward, with a
# matrix product and several operations per step. How much of its time are the products
# alone? We time exactly the products it performs (per step, $h_{t-1} W_{hh}^\top$ forward
# and $\delta_t W_{hh}$ backward; once, the input projection, its two gradients and the
# gradient of $W_{hh}$), and nothing else.

# %%
seed_everything(5)
w_ih, w_hh = weights[0].detach(), weights[1].detach()
hs_, d_gates = torch.randn(T, B, H), torch.randn(T, B, 4 * H)
out_step = torch.empty(B, 4 * H)
out_back = torch.empty(B, H)
x_flat = x.flatten(0, 1)


def products_only():
    proj = x_flat @ w_ih.t()                                  # input projection
    for t in range(T):
        torch.addmm(proj[t * B:(t + 1) * B], hs_[t], w_hh.t(), out=out_step)
    for t in range(T):
        torch.mm(d_gates[t], w_hh, out=out_back)
    d_flat = d_gates.flatten(0, 1)
    return d_flat.t() @ hs_.flatten(0, 1), d_flat.t() @ x_flat, d_flat @ w_ih


gap = race({"nn.LSTM": runs["nn.LSTM"], best: runs[best], "products only": products_only},
           **TIMING)
rest = gap[best].median - gap["products only"].median
for name, timing in gap.items():
    print(f"{name:22s} {ms(timing)}")
print(f"{best} minus its products: {rest * 1e3:.2f} ms "
      f"({100 * rest / gap[best].median:.0f} % of its time)")
assert 0.5 * gap[best].median < gap["products only"].median < gap[best].median
assert gap[best].median > gap["nn.LSTM"].median        # the best exact rung is still slower

# %% [markdown]
# The products alone take most of the best rung's time (asserted above), and `nn.LSTM`'s
# whole forward and backward pass takes about as long as those products alone (in the run
# stored here, a little less): oneDNN computes the same products with its own kernels,
# packs the weights once for all steps, and runs the element-wise work inside the same
# call, while cache-hot. What separates the best rung from `nn.LSTM` is the remainder printed
# above (a loop that calls PyTorch a few times per step) plus oneDNN's better products.
# The goal of 1.0x `nn.LSTM` for an exact path is not reached here; to close the rest, the
# whole loop, products included, has to leave Python, which is what oneDNN, cuDNN and
# `torch.compile` do.
#
# ### `torch.compile` and PyTorch's C++ extensions
#
# `torch.compile(lstm_fused)` traces the Python loop, unrolls its 100 steps, and generates
# fused C++ (on a GPU, Triton) code for the element-wise work between the products. Its
# cost is compilation, paid again for every new shape and on every fresh machine. Measured
# when this chapter was written (torch 2.13, one thread, this 2-core machine, an empty
# cache), that cost is far beyond this chapter's one-minute budget, so the notebook does
# not run it; the numbers, measured once by a script outside the notebook, are in the
# table below. The same holds for
# `torch.utils.cpp_extension.load_inline`, PyTorch's own route for C++ operators: it
# compiles against PyTorch's C++ headers, which is what makes it slow to build, while the
# kernels of `rnnbook.fast` use no PyTorch header at all and build with one `g++` call in
# about a second.
#
# | route (cold cache, one thread) | build cost | then, forward + backward |
# |---|---|---|
# | `torch.compile(lstm_fused)`, first call | 55 s of CPU in the main process alone (its compile workers not counted), 462 s wall on the shared machine | 49.7 ms, 2.2x `nn.LSTM` (23.1 ms) in the same process |
# | `load_inline`, a one-line operator | 31 s of CPU, compiler included (124 s wall) | (no LSTM written; the build alone is half this chapter's budget) |
# | `g++ -O2` for `rnnbook.fast`'s kernels | printed above, well under a second of CPU | the rung "C++ backward kernel" |
#
# Compiling the 100-step loop with `torch.compile` did not make it faster than the eager
# rungs of this notebook: the unrolled graph's products are the same calls, and the
# generated code for the element-wise work does not remove the loop's per-step products
# and their bookkeeping in the backward pass. A compiler helps most where it can fuse long
# chains of element-wise work over big tensors, as in the scans below.

# %% [markdown]
# ## How time grows with the sequence length, the batch and the width
#
# A recurrent layer's work grows linearly in $T$ and in $B$, and quadratically in $H$ (the
# products are $B \times H$ by $H \times 4H$). Its time follows, once the sizes are large
# enough for the fixed costs not to matter. Here are `nn.LSTM`, `nn.GRU`, the best exact
# rung of the ladder and, for comparison with what comes next, minGRU, varying one size at a
# time around $T = 100$, $B = 32$, $H = 128$, on log–log axes, where a straight line of
# slope $k$ is growth like $n^k$.

# %%
seed_everything(6)
best_fn = LADDER[best]
SWEEPS = {"T": [25, 100, 400], "B": [8, 32, 128], "H": [64, 128, 256]}


def sweep_point(steps, batch, hidden):
    """Forward+backward times of the four layers at one size, taking turns."""
    lstm_, gru_ = nn.LSTM(I, hidden), nn.GRU(I, hidden)
    mingru_ = MinGRU(I, hidden, scan="kernel" if kernel_built else "loop")
    xs = torch.randn(steps, batch, I)
    zeros = torch.zeros(batch, hidden)
    return race({"nn.LSTM": nn_forward_backward(lstm_, xs),
                 "nn.GRU": nn_forward_backward(gru_, xs),
                 best: forward_backward(best_fn, xs, zeros, zeros, lstm_weights(lstm_)),
                 "minGRU": nn_forward_backward(mingru_, xs)},
                clock="cpu", rounds=1, warmup=1, repeats=2)


scaling = {}
for size, values in SWEEPS.items():
    scaling[size] = {}
    for v in values:
        point = sweep_point(v if size == "T" else T, v if size == "B" else B,
                            v if size == "H" else H)
        for name, timing in point.items():
            scaling[size].setdefault(name, []).append(timing.median)
    print(f"{size:>5}" + "".join(f"{name:>24s}" for name in scaling[size]))
    for k, v in enumerate(values):
        print(f"{v:5d}" + "".join(f"{scaling[size][n][k] * 1e3:21.2f} ms"
                                   for n in scaling[size]))

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharey=True)
for ax, (size, values) in zip(axes, SWEEPS.items(), strict=True):
    for name, times in scaling[size].items():
        ax.loglog(values, np.array(times) * 1e3, "o-", label=name)
    ax.set_xlabel({"T": "sequence length T", "B": "batch B", "H": "hidden size H"}[size])
    ax.set_xticks(values, [str(v) for v in values])
    ax.minorticks_off()
axes[0].set_ylabel("forward + backward, ms")
axes[0].legend(fontsize=7)
fig.suptitle("Time against one size at a time (the others at T=100, B=32, H=128), float32, "
             "one thread", fontsize=10)
plt.tight_layout()
plt.show()

# %%
slopes = {size: {name: np.polyfit(np.log(SWEEPS[size]), np.log(times), 1)[0]
                 for name, times in scaling[size].items()} for size in SWEEPS}
for size, by_name in slopes.items():
    print(f"log-log slopes against {size}: "
          + ", ".join(f"{n} {s:.2f}" for n, s in by_name.items()))
assert all(0.6 < s < 1.3 for s in slopes["T"].values())       # linear in T
assert all(s < 1.3 for s in slopes["B"].values())             # at most linear in B
assert all(slopes["H"][n] < 2.0 for n in ("nn.LSTM", "nn.GRU", best))   # below H^2
assert slopes["H"]["minGRU"] < 1.4                                       # linear in H

# %% [markdown]
# Against $T$ every curve is close to a line of slope 1: time linear in the length.
# Against $B$, in the run stored with this notebook, the step-by-step paths that pay a
# fixed cost per operation (`nn.GRU` and the ladder's rung) grow more slowly than their
# arithmetic at small batches, where that cost
# weighs as much as the products; per FLOP, a recurrent layer gets more out of a CPU when
# the batch is large. Against $H$, the LSTM's and GRU's products grow like $H^2$, but their
# time grows with a slope below 2 at these sizes, for the same reason. minGRU has no
# $H \times H$ product at all (its one product maps $I$ inputs to $2H$ gates), and its
# time grows linearly in $H$. On a GPU the picture changes more: a step of `nn.LSTM` uses
# a small part of the device, and its time is nearly
# constant in $B$ and $H$ until the device fills. The cell below times it when a GPU is
# present.

# %%
if torch.cuda.is_available():
    gpu = torch.device("cuda")
    layer_gpu, xg = nn.LSTM(I, H).to(gpu), torch.randn(T, B, I, device=gpu)
    gpu_time = race({"nn.LSTM (cuDNN)": nn_forward_backward(layer_gpu, xg)}, device=gpu,
                    rounds=2, warmup=3, repeats=10)
    print(f"nn.LSTM on {torch.cuda.get_device_name()}: {ms(gpu_time['nn.LSTM (cuDNN)'])}")
else:
    print("No GPU on this machine: the GPU timing is not run.")

# %% [markdown]
# ## Changing the recurrence: minGRU and minLSTM
#
# Everything so far kept the LSTM's equations and fought the cost of running them step by
# step. The step-by-step part is forced by one thing: the gates read $h_{t-1}$, so step $t$
# cannot start before step $t-1$ ends, and each step is a small product. Feng et al. (2024)
# ask what is left if the gates read only the input. Their **minGRU** is
#
# $$z_t = \sigma(W_z x_t + b_z), \qquad \tilde h_t = g(W_h x_t + b_h), \qquad
#   h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t,$$
#
# and their **minLSTM** normalises a forget and an input gate to sum to one,
#
# $$f_t, i_t = \sigma(W_f x_t + b_f), \sigma(W_i x_t + b_i), \qquad
#   h_t = \frac{f_t}{f_t + i_t} \odot h_{t-1} + \frac{i_t}{f_t + i_t} \odot \tilde h_t,$$
#
# with $g(u) = u + \tfrac12$ for $u \ge 0$ and $\sigma(u)$ below, which keeps $\tilde h_t$
# positive. Both are a **linear recurrence** $h_t = a_t \odot h_{t-1} + b_t$ whose
# coefficients $a_t, b_t$ come from $x_t$ alone: all of them are computed for the whole
# sequence in one big product, and only the cheap recurrence is left. There are no
# products inside it at all. It can be evaluated three ways, all in `rnnbook.scan`:
#
# - `scan_loop`: step by step in PyTorch, autograd for the backward pass: the reference;
# - `scan_log`, Heinsen's (2023) parallel scan. Unrolled,
#   $h_t = A_t \big(h_0 + \sum_{s \le t} b_s / A_s\big)$ with $A_t = a_1 \cdots a_t$, so
#   $$\log h_t = a^*_t + \operatorname{logcumsumexp}_{s \le t}\big(\log b_s - a^*_s\big),
#     \qquad a^*_t = \textstyle\sum_{s \le t} \log a_s,$$
#   two cumulative sums over time, which parallel hardware computes in $\log_2 T$ rounds;
#   working in logs keeps $A_t$ from underflowing, and $g$ keeps $b_t > 0$ so that its
#   log exists;
# - `LinearScan`: one pass of compiled C++ forward, one backward. The gradient flows back
#   through the same recurrence reversed: $\gamma_t = \partial L / \partial h_t +
#   a_{t+1} \gamma_{t+1}$, then $\partial L / \partial b_t = \gamma_t$ and
#   $\partial L / \partial a_t = \gamma_t h_{t-1}$.
#
# The proof first: minGRU and minLSTM with each scan against their own loop, float64,
# outputs and all gradients.

# %%
seed_everything(7)
x_small = torch.randn(40, 3, 5, dtype=F64, requires_grad=True)
h_start = torch.rand(3, 6, dtype=F64) + 0.1           # positive, for the log-space scan
scans = ["log", "kernel"] if kernel_built else ["log"]
for cls in (MinGRU, MinLSTM):
    models = {s: cls(5, 6, scan=s, dtype=F64) for s in ["loop", *scans]}
    for m in models.values():
        m.load_state_dict(models["loop"].state_dict())
    found = {}
    for s, m in models.items():
        out, h_last = m(x_small, h_start)
        loss = out.sin().sum() + h_last.sum()
        found[s] = [out, *torch.autograd.grad(loss, [x_small, *m.parameters()])]
    for s in scans:
        gap_ = max((a - b).abs().max().item() for a, b in zip(found[s], found["loop"],
                                                             strict=True))
        assert gap_ < 1e-10
        print(f"{cls.__name__} with scan={s!r} equals its loop: largest gap below 1e-10")

# %% [markdown]
# Now the race at long sequences: $B = 32$, $I = 32$, $H = 128$, forward and backward,
# minGRU with each scan against `nn.GRU` (a GRU with the same input and state sizes, with
# its gates reading $h_{t-1}$).

# %%
seed_everything(8)
SCAN_STEPS = [64, 256, 1024]
gru = nn.GRU(I, H)
contenders = {f"minGRU ({s})": MinGRU(I, H, scan=s) for s in ["loop", "log", *scans[1:]]}
scan_times = {name: [] for name in ["nn.GRU", *contenders]}
for steps in SCAN_STEPS:
    xs = torch.randn(steps, B, I)
    timed = race({"nn.GRU": nn_forward_backward(gru, xs)}
                 | {name: nn_forward_backward(m, xs) for name, m in contenders.items()},
                 clock="cpu", rounds=1, warmup=1, repeats=2)
    for name, timing in timed.items():
        scan_times[name].append(timing.median)
print(f"{'T':>5}" + "".join(f"{name:>18s}" for name in scan_times))
for k, steps in enumerate(SCAN_STEPS):
    print(f"{steps:5d}" + "".join(f"{scan_times[n][k] * 1e3:15.1f} ms" for n in scan_times))

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, times in scan_times.items():
    ax.loglog(SCAN_STEPS, np.array(times) * 1e3, "o-", label=name)
ax.set_xlabel("sequence length T")
ax.set_ylabel("forward + backward, ms")
ax.set_title("minGRU's scans against nn.GRU, one thread")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %%
at = SCAN_STEPS.index(1024)
fastest_scan = min(contenders, key=lambda n: scan_times[n][at])
speedup = scan_times["nn.GRU"][at] / scan_times[fastest_scan][at]
print(f"T=1024: {fastest_scan} is {speedup:.1f}x faster than nn.GRU; the log-space scan "
      f"takes {scan_times['minGRU (log)'][at] / scan_times[fastest_scan][at]:.1f}x "
      f"the time of {fastest_scan}")
assert speedup > 1.5
assert scan_times["minGRU (log)"][at] > scan_times[fastest_scan][at]
# What one pass over minGRU's gate pre-activations (T, B, 2H) costs: a sigmoid, read and write.
gates_1024 = torch.randn(1024, B, 2 * H)
one_pass = race({"pass": lambda: torch.sigmoid(gates_1024)}, clock="cpu", rounds=1,
                warmup=1, repeats=3)["pass"].median
print(f"one element-wise pass over the (1024, {B}, {2 * H}) gates: {one_pass * 1e3:.1f} ms; "
      f"{fastest_scan} costs as much as {scan_times[fastest_scan][at] / one_pass:.0f} such passes")

# %% [markdown]
# Two findings, and neither is the one usually quoted. First, minGRU with a sequential
# scan (the plain loop or the compiled one) is much faster than
# `nn.GRU` at long sequences on this CPU (the ratio is printed above; the assert asks for
# more than 1.5x, with a wide margin), though not by the two orders of magnitude that
# the paper reports on a GPU (175x at length 512, in its first version). Its tensors of
# shape $(T, B, H)$ (16 MiB at $T = 1024$) no longer fit in the cache, and each
# element-wise operation of its forward and backward pass reads and writes them once
# more, while `nn.GRU` works on one cache-hot $(B, 3H)$ block per step. The last line
# printed above prices minGRU in such passes: its forward and backward pass costs as
# much as the number of element-wise passes over its gates printed there, and every
# activation, $g$, each coefficient and each of their derivatives is one such pass over a
# tensor of that size or half of it. Second, on one
# core the *parallel* scan is the slowest of the three: it does more arithmetic (logs,
# exps, two cumulative sums) to buy parallelism that a single thread cannot use. On a GPU,
# with thousands of lanes, that trade is the right one; Feng et al. measure it there.
#
# > **Common mistake.** "Write the loop over time with `x[t]`, it is the same as
# > `x.unbind(0)`." In the forward pass it is. In the backward pass, autograd's gradient of
# > an index `x[t]` is a tensor of the size of *all* of `x`, zeros except at step $t$, and
# > these $T$ full-size tensors are summed: the backward pass becomes quadratic in $T$.
# > `unbind(0)` returns all the steps as views in one operation, whose backward stacks the
# > $T$ step gradients once. The cell below times both loops of the linear recurrence at
# > two lengths.

# %%
def scan_indexing(a, b, h0):
    """The same recurrence as scan_loop, indexing a[t] and b[t] inside the loop."""
    h, out = h0, []
    for t in range(a.size(0)):
        h = a[t] * h + b[t]
        out.append(h)
    return torch.stack(out)


def scan_run(fn, steps):
    a = torch.rand(steps, 8, 32, requires_grad=True)
    b = torch.randn(steps, 8, 32, requires_grad=True)
    h_init = torch.zeros(8, 32)

    def run():
        a.grad = b.grad = None
        fn(a, b, h_init).sum().backward()
    return run


seed_everything(9)
LENGTHS = (128, 1024)
loops = race({f"{name}, T={n}": scan_run(fn, n) for n in LENGTHS
              for name, fn in (("unbind", scan_loop), ("indexing", scan_indexing))},
             clock="cpu", rounds=1, warmup=1, repeats=2)
for name, timing in loops.items():
    print(f"{name:18s} {ms(timing)}")
growth = {name: loops[f"{name}, T={LENGTHS[1]}"].median / loops[f"{name}, T={LENGTHS[0]}"].median
          for name in ("unbind", "indexing")}
print(f"8x longer: unbind {growth['unbind']:.1f}x the time, indexing "
      f"{growth['indexing']:.1f}x")
at_long = {name: loops[f"{name}, T={LENGTHS[1]}"].median for name in ("unbind", "indexing")}
assert growth["indexing"] > 1.5 * LENGTHS[1] / LENGTHS[0]      # well above linear growth
assert at_long["indexing"] > 2.5 * at_long["unbind"]

# %% [markdown]
# ### Does the simpler recurrence learn as well?
#
# Speed is half the trade. minGRU's gate cannot read the state, so it cannot decide what to
# keep from what it already holds. Here is the adding problem (chapters 04 and 05: two
# marked values among $T$ random ones, predict their sum; predicting the constant 1 scores
# an MSE of 1/6), at $T = 20, for minGRU, `nn.GRU` and `nn.LSTM` with the same
# hidden size 32, the same 300 Adam steps (learning rate 0.01, gradients clipped to norm
# 1) and three seeds each. Each model's MSE on 1000 held-out sequences is divided by the
# baseline 1/6: 1 is no better than the constant, 0 is perfect.

# %%
from rnnbook import ADDING_BASELINE_MSE, adding_problem, fit  # noqa: E402

ADD_LENGTH, ADD_HIDDEN, ADD_STEPS, ADD_SEEDS = 20, 32, 300, 3


class Adder(nn.Module):
    """A recurrent layer read at the last step by a linear head: (B, T, 2) -> (B,)."""

    def __init__(self, kind: str):
        super().__init__()
        make = {"minGRU": lambda: MinGRU(2, ADD_HIDDEN, scan="kernel" if kernel_built
                                         else "loop"),
                "GRU": lambda: nn.GRU(2, ADD_HIDDEN), "LSTM": lambda: nn.LSTM(2, ADD_HIDDEN)}
        self.rnn = make[kind]()
        self.head = nn.Linear(ADD_HIDDEN, 1)

    def forward(self, x):
        out, _ = self.rnn(x.transpose(0, 1))
        return self.head(out[-1]).squeeze(-1)


x_test, y_test = adding_problem(1000, ADD_LENGTH, seed=999)
relative_mse = {}
for kind in ("minGRU", "GRU", "LSTM"):
    relative_mse[kind] = []
    for seed in range(ADD_SEEDS):
        seed_everything(100 + seed)
        model = Adder(kind)
        fit(model, lambda: adding_problem(64, ADD_LENGTH), nn.functional.mse_loss,
            steps=ADD_STEPS, lr=1e-2, clip_norm=1.0, desc=f"{kind}, seed {seed}")
        with torch.no_grad():
            mse = nn.functional.mse_loss(model(x_test), y_test).item()
        relative_mse[kind].append(mse / ADDING_BASELINE_MSE)
for kind, values in relative_mse.items():
    print(f"{kind:7s} test MSE / baseline: " + "  ".join(f"{v:.3f}" for v in values)
          + f"   mean {np.mean(values):.3f} (sd {np.std(values, ddof=1):.3f})")

# %%
assert max(relative_mse["minGRU"]) < 0.2                     # minGRU learns, every seed
assert max(relative_mse["GRU"]) < 0.5 * min(relative_mse["minGRU"])   # GRU ahead, every seed

# %% [markdown]
# The trade, as measured here. minGRU learns the task on every seed, to a small fraction
# of the baseline, but the GRU, whose gates read the state, ends far lower on every seed
# (asserted with margins calibrated on seed shifts 0 to 4, where minGRU ended between
# 0.08 and 0.11 of the baseline and the GRU between 0.003 and 0.01). A plausible reading,
# not tested here: minGRU's gate sees a marker but not whether one came before, so it
# cannot treat the two marked values differently and has to spread the sum over units.
# The LSTM's results spread from far below the baseline to no better than it across seeds
# in this short budget (between 0.04 and 1.02 of the baseline over the shifts tried), so three seeds
# say nothing firm about it; chapter 05
# trains it longer. One small task is weak evidence about the family: Feng et al. (2024)
# report minGRU and minLSTM competitive with recent sequence models, Transformers and
# Mamba included, on a range of tasks, with deeper stacks and mixing between layers.

# %% [markdown]
# ## Linear recurrences at scale: LRU, S4, Mamba
#
# minGRU belongs to a family that has grown fast since 2021: models whose recurrence is
# linear in the state, so that training can use a scan or a convolution over the whole
# sequence, while inference still runs step by step with a fixed-size state, like any RNN.
#
# - **S4** (Gu, Goel & Ré 2022) starts from a continuous linear state-space model
#   $\dot s = A s + B u$, $y = C s$, discretised with a step size. Its $A$ is fixed in time,
#   so the whole layer is a convolution with a kernel computed from $(A, B, C)$, evaluated
#   with FFTs. A structured $A$ (from the HiPPO theory of memory) made it the first model
#   to solve the Long Range Arena's Path-X task, sequences of 16,384 steps.
# - **LRU** (Orvieto et al. 2023) shows that much of S4's strength survives in a plain
#   linear RNN $h_t = \Lambda h_{t-1} + B x_t$ with a diagonal complex $\Lambda$,
#   parametrised so that $|\lambda| < 1$ and initialised close to the unit circle, with a
#   normalisation of the input. A diagonal linear recurrence is exactly what a parallel
#   scan evaluates (Blelloch 1990; Martin & Cundy 2018 used it to train linear RNNs).
# - **Mamba** (Gu & Dao 2023) makes the state-space model *selective*: $B$, $C$ and the step
#   size depend on the input $x_t$, as minGRU's gate does, which breaks the convolution
#   form but keeps the scan. Its speed comes from a hardware-aware scan kernel that keeps
#   the state in fast on-chip memory, the same problem of memory passes met above.
#
# What all of them give up, compared with the LSTM and GRU, is a gate that reads the
# state: the decision of what to keep at step $t$ depends on $x_t$ alone. Stacking layers,
# with non-linear mixing between them, is how these models recover expressiveness; how
# much it wins back, and on which tasks, is still being measured.

# %% [markdown]
# ## More than one process: data-parallel training
#
# Everything so far ran on one core. The simplest way to use several is *data
# parallelism*: each process holds a full copy of the model, takes its own share of the
# batch, computes its gradients, and before the optimiser step the processes average their
# gradients with an all-reduce. `torch.nn.parallel.DistributedDataParallel` (DDP) does the
# averaging, overlapping it with the backward pass (Li et al. 2020). With equal shares and a
# loss that is a mean, the average of the shares' gradients is exactly the gradient of the
# whole batch, so DDP over 2 processes must give the gradients of one process on the same
# global batch. We check that, then time it.
#
# A notebook cannot be forked safely into workers, so the cell writes a small script into
# a temporary folder and starts it twice, as rank 0 and rank 1, with the `gloo` backend
# (PyTorch's CPU backend) meeting through a file in the same folder. The model is a
# character LSTM language model (`rnnbook.CharLM`) on the Python source
# corpus shipped with `rnnbook`.

# %%
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

from rnnbook import CharLM, CharVocab, char_batches, lm_loss, load_text  # noqa: E402

WORKER = r"""
import json, os, sys, time
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from rnnbook import CharLM, lm_loss

folder, rank, world = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(1)
dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank,
                        world_size=world)
data = torch.load(f"{folder}/data.pt")
share = data["x64"].size(0) // world
mine = slice(rank * share, (rank + 1) * share)

# 1. Gradients on one global batch, in float64.
model = CharLM(data["vocab"], data["hidden"]).double()
model.load_state_dict(data["weights64"])
ddp = DistributedDataParallel(model)
logits, _ = ddp(data["x64"][mine])
lm_loss(logits, data["y64"][mine]).backward()
if rank == 0:
    torch.save({n: p.grad for n, p in model.named_parameters()}, f"{folder}/grads.pt")

# 2. Training steps in float32, each process on its share of every global batch.
model = CharLM(data["vocab"], data["hidden"])
model.load_state_dict(data["weights32"])
ddp = DistributedDataParallel(model)
opt = torch.optim.Adam(ddp.parameters(), lr=3e-3)
dist.barrier()
wall, cpu = time.perf_counter(), time.process_time()
for x, y in zip(data["xs"], data["ys"]):
    opt.zero_grad()
    logits, _ = ddp(x[mine])
    loss = lm_loss(logits, y[mine])
    loss.backward()
    opt.step()
dist.barrier()
result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
with open(f"{folder}/result{rank}.json", "w") as f:
    json.dump(result, f)
dist.destroy_process_group()
"""

seed_everything(12)
corpus = load_text()
vocab = CharVocab(corpus)
ids = vocab.encode(corpus)
HIDDEN, GLOBAL_BATCH, SEQ, DDP_STEPS = 128, 64, 32, 20
batch_of = char_batches(ids, GLOBAL_BATCH, SEQ, generator=rnnbook.generator(12))
batches = [batch_of() for _ in range(DDP_STEPS + 1)]
lm32 = CharLM(len(vocab), HIDDEN)
lm64 = CharLM(len(vocab), HIDDEN).double()
lm64.load_state_dict(lm32.state_dict())
x64, y64 = batches[0]

with tempfile.TemporaryDirectory() as folder:
    torch.save({"vocab": len(vocab), "hidden": HIDDEN, "x64": x64, "y64": y64,
                "weights64": lm64.state_dict(), "weights32": lm32.state_dict(),
                "xs": [b[0] for b in batches[1:]], "ys": [b[1] for b in batches[1:]]},
               f"{folder}/data.pt")
    script = os.path.join(folder, "worker.py")
    with open(script, "w") as f:
        f.write(WORKER)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    workers = [subprocess.Popen([sys.executable, script, folder, str(rank), "2"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for rank in range(2)]
    logs = [w.communicate(timeout=600)[0] for w in workers]
    if any(w.returncode != 0 for w in workers):
        raise RuntimeError("a DDP worker failed:\n" + "\n".join(logs))
    ddp_grads = torch.load(f"{folder}/grads.pt")
    ddp_times = [json.load(open(f"{folder}/result{rank}.json")) for rank in range(2)]

# One process, the whole global batch, the same weights.
logits, _ = lm64(x64)
lm_loss(logits, y64).backward()
ddp_gap = max((p.grad - ddp_grads[n]).abs().max().item() for n, p in lm64.named_parameters())
print(f"DDP over 2 processes vs one process on the same global batch of {GLOBAL_BATCH}: "
      f"largest gradient gap below 1e-12")
assert ddp_gap < 1e-12

# %% [markdown]
# Equal, to round-off. Now the speed: the same 20 training steps (Adam, float32, global
# batch 64 of 32 characters, hidden size 128), once in this process on whole batches,
# once by the two workers on half batches each, as timed above inside the workers
# between two barriers.

# %%
opt = torch.optim.Adam(lm32.parameters(), lr=3e-3)
wall, cpu = time.perf_counter(), time.process_time()
for xb, yb in batches[1:]:
    opt.zero_grad()
    logits, _ = lm32(xb)
    lm_loss(logits, yb).backward()
    opt.step()
single = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
ddp_wall = max(t["wall"] for t in ddp_times)
print(f"one process : {single['wall']:.2f} s wall, {single['cpu']:.2f} s CPU")
print(f"two (DDP)   : {ddp_wall:.2f} s wall, "
      + ", ".join(f"rank {r}: {t['cpu']:.2f} s CPU" for r, t in enumerate(ddp_times)))
print(f"speed-up in wall-clock time: {single['wall'] / ddp_wall:.2f}x")
n_params = sum(p.numel() for p in lm32.parameters())
print(f"the model: {n_params} parameters, {n_params * 4 / 1024:.0f} KiB of float32 gradients "
      f"to average per step")

# %% [markdown]
# Two numbers decide the speed-up. The first is each worker's CPU time against the single
# process's: half the batch is not half the work, because part of every step (the
# operations' fixed costs, the optimiser, the all-reduce) does not shrink with the batch;
# compare the CPU times printed above. The second is whether two cores are free. With
# both, the wall-clock speed-up is the single process's time over the slower worker's; on
# this shared machine the cores were busy with other jobs, so the wall-clock figure of the
# run stored here says more about the load than about DDP, and no claim is made from it.
# The gradients to average per step, counted above, are small next to a step's arithmetic
# on one machine. On a real cluster three things change: the all-reduce
# crosses a network (NCCL on GPUs, with bandwidth, not FLOPs, as the limit for large
# models), each process gets its own device, and the global batch grows with the number of
# processes, which changes the optimisation (larger batches usually need a larger learning
# rate and warm-up; Goyal et al. 2017).

# %% [markdown]
# ## Summary
#
# - A step-by-step LSTM written in PyTorch spends under half its time in matrix
#   products; a large share is a fixed cost per operation (Python, the dispatcher,
#   autograd), paid for every one of the many small operations of each step. `nn.LSTM` on the CPU is
#   one oneDNN call,
#   close to the floor set by its FLOPs and the measured product throughput.
# - The exact ladder: hoisting the input projection, fusing the gates' products, writing
#   the backward pass by hand, and moving the backward step's element-wise work into one
#   compiled C++ call each remove operations per step; each rung is proven equal to
#   `nn.LSTM` in float64, outputs and gradients. The best rung here is still slower than
#   `nn.LSTM`, and the cell above shows where the rest goes: the products, and a Python loop
#   that calls PyTorch a few times per step.
# - Compiled code is not fast by being compiled: a plain C++ loop with scalar `exp` and
#   `tanh` loses to PyTorch's vectorised kernels. It wins where it replaces many small
#   operations. `torch.compile` and `load_inline` cost far more to build than this chapter's
#   minute, measured once outside it.
# - Time grows linearly with the sequence length for every layer; with the width, the
#   LSTM's and GRU's time grows more slowly than their $H^2$ FLOPs at these small sizes,
#   where fixed costs per step weigh as much as the arithmetic, and minGRU's linearly.
# - minGRU and minLSTM remove the state from the gates, which turns the recurrence into a
#   linear scan. Evaluated with a sequential scan they beat `nn.GRU` by a wide margin at
#   $T = 1024$ here, though by less than on a GPU; the parallel log-space scan is exact but,
#   on one core, slower than a sequential scan. On the adding problem minGRU learns on every
#   seed, but the GRU, whose gates read the state, ends far lower: speed is bought with
#   some of what the gates can do.
# - Data parallelism over 2 processes (DDP, gloo) gives the single process's gradients on
#   the same global batch, to round-off; its speed-up depends on free cores and, on a
#   cluster, on the network.
# - S4, LRU and Mamba are the same idea at scale: a linear recurrence that trains with a
#   scan or a convolution and runs step by step at inference.
#
# ## Exercises
#
# 1. **A parallel scan by doubling.** The linear recurrence composes: applying
#    $(a_1, b_1)$ then $(a_2, b_2)$ to a state is applying $(a_2 a_1, a_2 b_1 + b_2)$.
#    Write the Hillis–Steele scan, which combines each position with the one $d$ steps
#    back for $d = 1, 2, 4, \dots$, check it against `scan_loop` in float64, and count its
#    rounds.
# 2. **minLSTM stays in range.** Show that minLSTM's $h_t$ is a convex combination of
#    $h_{t-1}$ and $\tilde h_t$, so that every $h_t$ lies between the smallest and the
#    largest of $h_0$ and the candidates seen so far. Check it numerically.
#
# <details><summary>Solution 1</summary>
#
# Combining a position with the one $d$ steps back, for $d = 1, 2, 4, \dots$, gives after
# the round with step $d$ the composition of the last $2d$ steps at every position; after
# $\lceil \log_2 T \rceil$ rounds every position holds the composition of all steps from
# the start, $(A_t, B_t)$, and $h_t = A_t h_0 + B_t$. Each round is one element-wise pass
# over the whole sequence, so with $T$ processors the scan takes $\log_2 T$ steps instead
# of $T$, at the price of $T \log_2 T$ work instead of $T$. The cell below checks it to
# 1e-12 against the loop and counts 10 rounds for $T = 1000$.
#
# </details>
#
# <details><summary>Solution 2</summary>
#
# With $f' = f/(f + i)$ and $i' = i/(f + i)$, both in $(0, 1)$ and summing to 1, the
# update $h_t = f' h_{t-1} + i' \tilde h_t$ is a weighted average. By induction, $h_t$ lies
# between the minimum and the maximum of $h_0, \tilde h_1, \dots, \tilde h_t$, unit by
# unit. The cell checks $a_t + b_t / \tilde h_t = 1$ and the bounds on random inputs.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
def doubling_scan(a, b, h0):
    """Hillis-Steele scan of h_t = a_t h_{t-1} + b_t: returns h_1..h_T and the rounds."""
    A, Bs, d, rounds = a.clone(), b.clone(), 1, 0
    while d < a.size(0):
        A_next, B_next = A.clone(), Bs.clone()
        A_next[d:] = A[d:] * A[:-d]
        B_next[d:] = A[d:] * Bs[:-d] + Bs[d:]
        A, Bs, d, rounds = A_next, B_next, 2 * d, rounds + 1
    return A * h0 + Bs, rounds


seed_everything(10)
a_ex = torch.rand(1000, 4, 8, dtype=F64)
b_ex = torch.randn(1000, 4, 8, dtype=F64)
h0_ex = torch.randn(4, 8, dtype=F64)
h_doubling, rounds = doubling_scan(a_ex, b_ex, h0_ex)
assert (h_doubling - scan_loop(a_ex, b_ex, h0_ex)).abs().max() < 1e-12
assert rounds == int(np.ceil(np.log2(1000)))
print(f"doubling scan equals the loop to below 1e-12, in {rounds} rounds for T=1000")

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
from rnnbook.scan import g  # noqa: E402

seed_everything(11)
m_lstm = MinLSTM(3, 5, scan="loop", dtype=F64)
x_ex = torch.randn(200, 2, 3, dtype=F64) * 3
h0_ex = torch.rand(2, 5, dtype=F64)
with torch.no_grad():
    p_ex = m_lstm.linear(x_ex)
    a_c, b_c = m_lstm.coefficients(p_ex)
    cand = g(p_ex.chunk(3, dim=-1)[2])
    h_ex, _ = m_lstm(x_ex, h0_ex)
assert (a_c + b_c / cand - 1).abs().max() < 1e-12
seen = torch.cat([h0_ex[None], cand])
low, high = seen.cummin(0).values[1:], seen.cummax(0).values[1:]
assert bool(((h_ex >= low - 1e-12) & (h_ex <= high + 1e-12)).all())
print("a_t + b_t / candidate = 1 to below 1e-12; every h_t within the running min and max")

# %% [markdown]
# ## References
#
# - Appleyard, J., Kočiský, T., & Blunsom, P. (2016). Optimizing performance of recurrent
#   neural networks on GPUs. *arXiv:1604.01946*.
# - Blelloch, G. E. (1990). *Prefix sums and their applications*. Technical report
#   CMU-CS-90-190, Carnegie Mellon University.
# - Feng, L., Tung, F., Ahmed, M. O., Bengio, Y., & Hajimirsadeghi, H. (2024). Were RNNs all
#   we needed? *arXiv:2410.01201*.
# - Goyal, P., Dollár, P., Girshick, R., Noordhuis, P., Wesolowski, L., Kyrola, A., Tulloch,
#   A., Jia, Y., & He, K. (2017). Accurate, large minibatch SGD: training ImageNet in 1
#   hour. *arXiv:1706.02677*.
# - Gu, A., & Dao, T. (2023). Mamba: linear-time sequence modeling with selective state
#   spaces. *arXiv:2312.00752*.
# - Gu, A., Goel, K., & Ré, C. (2022). Efficiently modeling long sequences with structured
#   state spaces. *International Conference on Learning Representations (ICLR)*.
# - Heinsen, F. A. (2023). Efficient parallelization of a ubiquitous sequential
#   computation. *arXiv:2311.06281*.
# - Hillis, W. D., & Steele, G. L. (1986). Data parallel algorithms. *Communications of
#   the ACM*, 29(12), 1170–1183.
# - Hochreiter, S., & Schmidhuber, J. (1997). Long short-term memory. *Neural
#   Computation*, 9(8), 1735–1780.
# - Li, S., Zhao, Y., Varma, R., Salpekar, O., Noordhuis, P., Li, T., Paszke, A., Smith, J.,
#   Vaughan, B., Damania, P., & Chintala, S. (2020). PyTorch distributed: experiences on
#   accelerating data parallel training. *Proceedings of the VLDB Endowment*, 13(12),
#   3005–3018.
# - Martin, E., & Cundy, C. (2018). Parallelizing linear recurrent neural nets over
#   sequence length. *International Conference on Learning Representations (ICLR)*.
# - Orvieto, A., Smith, S. L., Gu, A., Fernando, A., Gulcehre, C., Pascanu, R., & De, S.
#   (2023). Resurrecting recurrent neural networks for long sequences. *International
#   Conference on Machine Learning (ICML)*.
# - Williams, S., Waterman, A., & Patterson, D. (2009). Roofline: an insightful visual
#   performance model for multicore architectures. *Communications of the ACM*, 52(4),
#   65–76.

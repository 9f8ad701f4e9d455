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
# # LSTM vs GRU vs RNN, measured
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/rnnbook/rnnbook/blob/main/chapters/07_lstm_vs_gru.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/rnnbook/rnnbook/main?labpath=chapters%2F07_lstm_vs_gru.ipynb)
#
# Chapters 04 to 06 built three recurrent cells and took each one apart. This chapter puts
# them side by side and asks the questions a practitioner asks: how big is each one, how
# fast, how hungry for memory, and how good? Every answer is a measurement made in this
# notebook, and every sentence that states a result is checked by an `assert` next to it,
# at the strength the evidence has on any machine: exact for counts and formulas, with
# margin for timings (a ratio of two, taken within one run) and, for training results,
# over several seeds, with thresholds that also hold when every seed is shifted.
#
# **What you will learn**
#
# - how many parameters each layer has, as a formula checked against PyTorch; why one of
#   PyTorch's two bias vectors is redundant in the RNN and the LSTM but not in the GRU;
# - how to compare models fairly by giving them the same number of parameters;
# - how fast each layer runs forward and backward on a CPU, and why the GRU, with 3/4 of the
#   LSTM's arithmetic, is *slower* than the LSTM here: the profiler shows the fused oneDNN
#   kernel that only the LSTM gets;
# - how much memory training keeps for the backward pass, and why "the GRU uses less
#   memory" depends on whose implementation you run;
# - how the three compare over several seeds on a small task suite: a long-range
#   dependency, a real forecasting problem and a character language model, keeping "how
#   often did it solve the task" apart from "how fast, when it did";
# - which claims you will read online survive a measurement: "the GRU trains faster", "the
#   GRU needs less data", "the LSTM is better on long sequences";
# - how to choose between them, with the evidence in front of you.

# %%
# On Colab, install the book's package first. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "rnnbook @ git+https://github.com/rnnbook/rnnbook"], check=True)

# %% [markdown]
# ## The three contestants
#
# All three read a sequence $x_1, \dots, x_T$ with $x_t \in \mathbb{R}^I$ and carry a hidden
# state $h_t \in \mathbb{R}^H$. In PyTorch's form, with $\sigma$ the logistic sigmoid and
# $\odot$ the element-wise product:
#
# **RNN** (Elman 1990; chapter 02):
# $$h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}).$$
#
# **LSTM** (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000;
# chapter 05): four blocks of pre-activations, computed in one go,
# $$\begin{bmatrix} \tilde\imath_t \\ \tilde f_t \\ \tilde g_t \\ \tilde o_t \end{bmatrix}
#   = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}, \qquad
#   i_t, f_t, o_t = \sigma(\tilde\imath_t), \sigma(\tilde f_t), \sigma(\tilde o_t), \quad
#   g_t = \tanh(\tilde g_t),$$
# $$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t).$$
#
# **GRU** (Cho et al. 2014, in PyTorch's variant; chapter 06): three blocks,
# $$r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}), \qquad
#   z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}),$$
# $$n_t = \tanh\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big), \qquad
#   h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}.$$
#
# The structural differences are easy to list: the LSTM has a second state $c_t$ and four
# blocks of weights; the GRU has one state and three blocks; the RNN has one of each. What
# those differences cost and buy is what the rest of the chapter measures.

# %%
import copy
import math
import os
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

import rnnbook
from rnnbook import CharLM, SequenceModel, fit, seed_everything
from rnnbook.baselines import LinearAR, ngram_cross_entropy, persistence, rmse
from rnnbook.bench import compare_layers, forward_backward, onednn_off, time_it
from rnnbook.gates import lstm_step
from rnnbook.compare import (
    matched_hidden_size,
    matmul_flops_per_step,
    num_parameters,
    param_count,
)
from rnnbook.plot import spread_curve

KINDS = ("rnn", "gru", "lstm")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}          # blocks of H rows in weight_ih / weight_hh
TORCH_LAYER = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
BOOK_LAYER = {"rnn": rnnbook.RNN, "gru": rnnbook.GRU, "lstm": rnnbook.LSTM}
COLOR = {"rnn": "tab:gray", "gru": "tab:blue", "lstm": "tab:red", "lstm, b_f=3": "tab:orange"}

# %% [markdown]
# ## Counting parameters
#
# Each block of a layer has an input matrix ($H \times I$), a recurrent matrix
# ($H \times H$) and, in PyTorch, two bias vectors ($b_{ih}$ and $b_{hh}$, $H$ each). With
# $k$ blocks (1 for the RNN, 3 for the GRU, 4 for the LSTM) a layer therefore holds
#
# $$P = k\,(HI + H^2 + 2H)$$
#
# parameters: $HI + H^2 + 2H$ for the RNN, $3(HI + H^2 + 2H)$ for the GRU and
# $4(HI + H^2 + 2H)$ for the LSTM. The number does not depend on the sequence length $T$,
# since the same weights are used at every step. Let us check the formula against what
# PyTorch and the book's own layers actually allocate, for sizes from tiny to large.
# `rnnbook.compare.param_count` is the same formula, extended to stacked and bidirectional
# layers (where the input of layer 2 and up is $H$, or $2H$ when bidirectional).

# %% tags=["nbval-check-output"]
sizes = [(1, 1), (8, 32), (32, 128), (100, 256), (300, 512)]
print(f"{'I':>5} {'H':>5} {'RNN':>10} {'GRU':>10} {'LSTM':>10}")
checked = 0
for i, h in sizes:
    row = []
    for kind in KINDS:
        formula = GATES[kind] * (h * i + h * h + 2 * h)
        for layer in (TORCH_LAYER[kind](i, h), BOOK_LAYER[kind](i, h)):
            assert num_parameters(layer) == formula == param_count(kind, i, h)
            checked += 1
        stacked = TORCH_LAYER[kind](i, h, num_layers=2, bidirectional=True)
        assert num_parameters(stacked) == param_count(kind, i, h, 2, bidirectional=True)
        checked += 1
        row.append(formula)
    print(f"{i:>5} {h:>5} " + " ".join(f"{n:>10,}" for n in row))
print(f"the formula matched numel() for {checked} layers")

# %% [markdown]
# The ratios are exact: at any size the GRU has 3/4 of the LSTM's parameters and the RNN
# 1/4. For $I = 32$, $H = 128$, the LSTM's 82,944 parameters against the RNN's 20,736 make
# the point that "an LSTM with 128 units" and "an RNN with 128 units" are very different
# models.
#
# ### One bias too many
#
# Other frameworks count differently. Keras stores *one* bias vector per LSTM block, so its
# LSTM has $4(HI + H^2 + H)$ parameters, $4H$ fewer than PyTorch's. Nothing is lost: in the
# RNN and the LSTM the two biases only ever appear as the sum $b_{ih} + b_{hh}$, so one of
# them is redundant. PyTorch keeps both for compatibility with NVIDIA's cuDNN kernels. We
# can prove the redundancy by building the one-bias LSTM that Keras uses, in a few lines on
# top of the book's `lstm_step` (chapter 05), and loading PyTorch's weights into it with
# the two biases added together.

# %% tags=["nbval-check-output"]
class OneBiasLSTM(nn.Module):
    """An LSTM with one bias vector per gate, as Keras stores it: 4(HI + H^2 + H) parameters."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.zeros(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.zeros(4 * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.zeros(4 * hidden_size))

    def forward(self, x):                                  # x: (T, B, I), zero initial state
        h = c = x.new_zeros(x.size(1), self.hidden_size)
        outputs = []
        for x_proj in F.linear(x, self.weight_ih, self.bias):   # W_ih x_t + b, for every t
            step = lstm_step(x_proj, (h, c), self.weight_hh, None)  # no second bias
            h, c = step["h"], step["c"]
            outputs.append(h)
        return torch.stack(outputs)


seed_everything(0)
theirs = nn.LSTM(3, 5)
ours = OneBiasLSTM(3, 5)
with torch.no_grad():
    ours.weight_ih.copy_(theirs.weight_ih_l0)
    ours.weight_hh.copy_(theirs.weight_hh_l0)
    ours.bias.copy_(theirs.bias_ih_l0 + theirs.bias_hh_l0)
x = torch.randn(7, 2, 3)
gap = (ours(x) - theirs(x)[0]).abs().max().item()
assert gap < 1e-6
print(f"PyTorch LSTM: {num_parameters(theirs)} parameters; one-bias LSTM: "
      f"{num_parameters(ours)}; largest output difference below 1e-6")
assert num_parameters(ours) == param_count("lstm", 3, 5, biases=1) == 4 * (5 * 3 + 25 + 5)

# %% [markdown]
# The same outputs with $4H = 20$ fewer numbers. The GRU is different, and the difference
# is in the candidate: $b_{hn}$ sits *inside* $r_t \odot (W_{hn} h_{t-1} + b_{hn})$, where the
# reset gate multiplies it, while $b_{in}$ sits outside. For the reset and update blocks the
# two biases are again only summed. So moving $b_{hh}$ into $b_{ih}$ should leave a GRU
# unchanged for the $r$ and $z$ blocks and change it for the $n$ block. The function below
# does that move for chosen blocks (0, 1, 2 for $r, z, n$) of a one-layer PyTorch GRU, and
# for all four blocks of an LSTM.

# %% tags=["nbval-check-output"]
def fold_hidden_bias(layer, blocks):
    """A copy of a one-layer nn.GRU/nn.LSTM with bias_hh added into bias_ih, then zeroed,
    for the given gate blocks."""
    folded = copy.deepcopy(layer)
    h = layer.hidden_size
    with torch.no_grad():
        for b in blocks:
            rows = slice(b * h, (b + 1) * h)
            folded.bias_ih_l0[rows] += folded.bias_hh_l0[rows]
            folded.bias_hh_l0[rows] = 0.0
    return folded


seed_everything(0)
gru = nn.GRU(3, 5)
x = torch.randn(7, 2, 3)
out = gru(x)[0]
gap_rz = (fold_hidden_bias(gru, [0, 1])(x)[0] - out).abs().max().item()
gap_n = (fold_hidden_bias(gru, [2])(x)[0] - out).abs().max().item()
gap_lstm = (fold_hidden_bias(theirs, [0, 1, 2, 3])(x)[0] - theirs(x)[0]).abs().max().item()
assert gap_lstm < 1e-6 and gap_rz < 1e-6
assert gap_n > 1e-2
print("LSTM, all four blocks folded: largest change below 1e-6")
print("GRU, r and z blocks folded:   largest change below 1e-6")
print("GRU, n block folded:          largest change above 0.01")

# %% [markdown]
# Folding the reset and update biases changes nothing (up to float rounding), but folding
# the candidate's bias changes the outputs visibly (by more than 0.01 for these random
# weights, whatever the seed; by about 0.2 in the run stored here): $b_{hn}$ is a genuine
# parameter.
# A PyTorch GRU therefore has $3(HI + H^2 + H) + H$ *independent* parameters, and an LSTM
# $4(HI + H^2 + H)$. The frameworks count as follows (chapter 06 has the full table of
# conventions):
#
# | layer | PyTorch stores | Keras stores | independent |
# |---|---|---|---|
# | RNN | $HI + H^2 + 2H$ | $HI + H^2 + H$ (`SimpleRNN`) | $HI + H^2 + H$ |
# | LSTM | $4(HI + H^2 + 2H)$ | $4(HI + H^2 + H)$ | $4(HI + H^2 + H)$ |
# | GRU | $3(HI + H^2 + 2H)$ | $3(HI + H^2 + 2H)$ with `reset_after=True` (the default since TensorFlow 2); $3(HI + H^2 + H)$ with `reset_after=False`, Cho et al.'s original | $3(HI + H^2 + H) + H$ in PyTorch's form |
#
# The redundant biases are harmless for training: gradient descent simply moves both by
# the same amount. But a paper that reports "parameters" may be counting either way, so
# when two numbers disagree by $kH$ per layer, this is usually why.
#
# ### Matching models by size
#
# A fair comparison gives each model the same budget. For a single layer, solving
# $k(H^2 + H(I + 2)) = P$ for $H$ gives the hidden size of each kind at a budget $P$; when
# $H \gg I$ the $H^2$ term dominates, and a GRU gets about $\sqrt{4/3} \approx 1.15$ times
# the LSTM's units and an RNN about twice as many. Real models also have heads and
# embeddings, so instead of solving a quadratic for every architecture,
# `rnnbook.compare.matched_hidden_size(build, target)` searches for the hidden size at which
# `build(h)`, any model you like, has the parameter count closest to the target.

# %% tags=["nbval-check-output"]
I_m, H_lstm = 32, 128
target = param_count("lstm", I_m, H_lstm)
matched = {kind: matched_hidden_size(lambda h, kind=kind: TORCH_LAYER[kind](I_m, h), target)
           for kind in KINDS}
for kind, h in matched.items():
    n = param_count(kind, I_m, h)
    print(f"{kind:>4}: H = {h:3d}, {n:,} parameters ({(n - target) / target:+.2%} "
          f"from the LSTM's {target:,})")
    assert abs(n - target) / target < 0.01
print(f"H ratios: GRU/LSTM {matched['gru'] / H_lstm:.3f} (sqrt(4/3) = {math.sqrt(4 / 3):.3f}), "
      f"RNN/LSTM {matched['rnn'] / H_lstm:.3f} (2)")
assert abs(matched["gru"] / H_lstm - math.sqrt(4 / 3)) < 0.05
assert abs(matched["rnn"] / H_lstm - 2) < 0.15

# %% [markdown]
# The ratios sit a little above $\sqrt{4/3}$ and 2 because at $H = 128$ the input weights
# ($32$ columns) still count for something. Every accuracy comparison later in this chapter
# uses matched models built this way, heads and embeddings included.
#
# ## Speed on this machine
#
# ### What the arithmetic predicts
#
# Almost all of a step's work is two matrix products per block: $W_{ih} x_t$ and
# $W_{hh} h_{t-1}$. For a batch of $B$ sequences that is $2Bk\,H(I + H)$ floating-point
# operations per step (a multiply and an add for each weight and each sequence), so the GRU
# should cost 3/4 of the LSTM and the RNN 1/4. The element-wise gate arithmetic adds
# $O(BH)$, small next to it once $H$ is in the dozens. PyTorch's `FlopCounterMode` counts the
# operations of every matrix product as it is dispatched; running the book's layers under it
# confirms the formula exactly.

# %% tags=["nbval-check-output"]
B, T, I = 32, 50, 32
HIDDEN = [32, 64, 128, 256]
seed_everything(0)
x_speed = torch.randn(T, B, I)


def forward_flops(layer, x):
    """Floating-point operations of the matrix products in one forward pass, as dispatched."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        layer(x)
    return counter.get_total_flops()


def training_flops(layer, x):
    """The same for one forward and backward pass."""
    with FlopCounterMode(display=False) as counter:
        layer(x)[0].sum().backward()
    return counter.get_total_flops()


print(f"{'':>7}   {'MFLOP, forward':^21} | forward + backward")
print(f"{'':>7} {'RNN':>6} {'GRU':>7} {'LSTM':>7} | GRU / LSTM   LSTM backward / forward")
for h in HIDDEN:
    counted = {kind: forward_flops(BOOK_LAYER[kind](I, h), x_speed) for kind in KINDS}
    for kind in KINDS:
        assert counted[kind] == T * matmul_flops_per_step(kind, I, h, batch=B)
    assert 4 * counted["gru"] == 3 * counted["lstm"] and 4 * counted["rnn"] == counted["lstm"]
    both = {kind: training_flops(BOOK_LAYER[kind](I, h), x_speed) for kind in ("gru", "lstm")}
    assert abs(both["gru"] / both["lstm"] - 0.75) < 0.01
    print(f"H = {h:3d} {counted['rnn'] / 1e6:6.1f} {counted['gru'] / 1e6:7.1f} "
          f"{counted['lstm'] / 1e6:7.1f} | {both['gru'] / both['lstm']:10.4f} "
          f"{both['lstm'] / counted['lstm'] - 1:24.2f}")

# %% [markdown]
# On arithmetic alone, then, the GRU is 25% cheaper than the LSTM at every size. The
# backward pass adds one and a half to two times the forward's matrix work (it multiplies
# by the transposed weights to pass gradients back, and by the states to get the weight
# gradients; no gradient for the input $x$ is needed here), and a forward and backward pass
# together keep the ratio at 3/4 to within a percent. That is where the claim "the GRU is
# faster" comes from. Now let us time it.
#
# ### What the clock says
#
# We time one forward and backward pass (`rnnbook.bench.forward_backward`) over a batch of
# 32 sequences of 50 steps, for each of PyTorch's layers and each of the book's
# from-scratch ones, loaded with the same weights: `rnnbook.bench.compare_layers` does all
# of that for one hidden size. The table has two more columns: `nn.LSTM` with PyTorch's
# oneDNN library switched off, the subject of the next section, and
# `rnnbook.fast.FastLSTM`, the book's LSTM with a hand-written backward pass.
#
# A word on how. `rnnbook.bench.time_it` measures elapsed time, which is what you feel, but
# on a machine shared with other programs it also counts every moment the process waits for
# a free core. This book is built on such a machine, so we measure **CPU time** instead,
# with `time_it(..., clock="cpu")`: the same warm-up runs and median of repeats, but
# counting only the time the CPU spent on *our* work. On one thread, which we set for the
# measurement, that is the elapsed time of a quiet machine. Timings still vary from run
# to run and machine to machine, so the printed numbers are one run on one machine. The
# cell asserts only the two ratios that the next section explains and that are wide
# enough to hold anywhere: at $H = 32$, `nn.GRU` takes more than 1.3 times as long as
# `nn.LSTM`, and switching oneDNN off makes `nn.LSTM` more than 1.3 times slower. Both
# ratios are taken within one run, so a slow or busy machine slows both sides alike.

# %%
TIMED = HIDDEN[:3]                           # sizes to time: 32, 64, 128
seed_everything(0)
threads = torch.get_num_threads()
torch.set_num_threads(1)                     # one thread: CPU time = time of the work
times = {}                                   # (kind, implementation, H) -> seconds
try:
    for h in TIMED:
        for name, theirs, generic, ours in compare_layers(B, T, I, h, repeats=3, rounds=1,
                                                          warmup=1, clock="cpu"):
            if name == "LSTM (fast)":        # nn.LSTM again, against rnnbook.fast.FastLSTM
                times["lstm", "FastLSTM", h] = ours.median
                continue
            times[name.lower(), "torch.nn", h] = theirs.median
            times[name.lower(), "oneDNN off", h] = generic.median
            times[name.lower(), "rnnbook", h] = ours.median
finally:
    torch.set_num_threads(threads)
IMPLS = ("torch.nn", "oneDNN off", "rnnbook")
print("forward + backward, milliseconds of CPU time (median of 3), one thread")
print(f"{'':>4} | {'torch.nn':^20} | {'nn.LSTM':^9} | {'rnnbook':^20} | {'Fast':>5} | "
      f"GRU / LSTM")
print(f"{'H':>4} | {'RNN':>6} {'GRU':>6} {'LSTM':>6} | {'no oneDNN':>9} | {'RNN':>6} {'GRU':>6} "
      f"{'LSTM':>6} | {'LSTM':>5} | torch.nn  no oneDNN  rnnbook")
for h in TIMED:
    ms = {key[:2]: t * 1e3 for key, t in times.items() if key[2] == h}
    ratios = [ms["gru", impl] / ms["lstm", impl] for impl in IMPLS]
    print(f"{h:>4} | {ms['rnn', 'torch.nn']:6.1f} {ms['gru', 'torch.nn']:6.1f} "
          f"{ms['lstm', 'torch.nn']:6.1f} | {ms['lstm', 'oneDNN off']:9.1f} | "
          f"{ms['rnn', 'rnnbook']:6.1f} {ms['gru', 'rnnbook']:6.1f} {ms['lstm', 'rnnbook']:6.1f}"
          f" | {ms['lstm', 'FastLSTM']:5.1f} | {ratios[0]:8.2f} {ratios[1]:10.2f} {ratios[2]:8.2f}")
if torch.backends.mkldnn.is_available():     # the fused kernel exists in this build
    small = TIMED[0]
    assert times["gru", "torch.nn", small] > 1.3 * times["lstm", "torch.nn", small]
    assert times["lstm", "oneDNN off", small] > 1.3 * times["lstm", "torch.nn", small]

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for kind in KINDS:
    for impl, style in (("torch.nn", "-o"), ("rnnbook", "--s")):
        axes[0].plot(TIMED, [times[kind, impl, h] * 1e3 for h in TIMED], style,
                     color=COLOR[kind], label=f"{kind.upper()} ({impl})", ms=4)
axes[0].plot(TIMED, [times["lstm", "oneDNN off", h] * 1e3 for h in TIMED], ":^",
             color=COLOR["lstm"], label="LSTM (torch.nn, oneDNN off)", ms=4)
axes[0].set(yscale="log", ylabel="ms of CPU per forward + backward",
            title=f"B={B}, T={T}, I={I}, one thread")
axes[0].legend(fontsize=7, ncol=2)
for impl, style in (("torch.nn", "-o"), ("oneDNN off", ":^"), ("rnnbook", "--s")):
    axes[1].plot(TIMED, [times["gru", impl, h] / times["lstm", impl, h] for h in TIMED],
                 style, color="k", label=impl, ms=4)
axes[1].axhline(0.75, color="tab:green", lw=1, label="FLOP ratio 3/4")
axes[1].axhline(1.0, color="k", lw=0.5, ls=":")
axes[1].set(ylabel="time GRU / time LSTM", title="is the GRU faster? below 1 means yes")
axes[1].legend(fontsize=8)
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xticks(TIMED, [str(h) for h in TIMED])
    ax.minorticks_off()
    ax.set_xlabel("hidden size H")
plt.tight_layout()
plt.show()

# %% [markdown]
# In the run stored here the answer to "is the GRU faster?" is **no, not with `torch.nn` on
# a CPU**: `nn.GRU` took longer than `nn.LSTM`, by the widest margin at the smallest
# sizes. Switch oneDNN off, and the picture changes: the LSTM slows down, and the GRU's
# disadvantage shrinks or turns into a lead as $H$ grows and the matrix products take
# over from the fixed costs. The book's own three layers are a fair race between the
# cells: each runs its cell's equations (`rnnbook.gates`) step by step and leaves the
# backward pass to autograd, so there the arithmetic and the number of operations per step
# decide. `FastLSTM`, the same LSTM with a hand-written backward pass, shows how much of an
# implementation's time is bookkeeping rather than arithmetic. The RNN is the cheapest of
# the three in the book's implementation and on PyTorch's generic path.
#
# The cell asserted only the two wide ratios at $H = 32$; the rest of the table is for
# reading. What we can check exactly, on any machine, is the reason for the pattern.
#
# ### Why: one fused kernel against a loop of small operations
#
# The PyTorch profiler records every operator a piece of code calls. We count them for one
# forward and backward pass of each `torch.nn` layer at $H = 64$, for sequences of 50 and of
# 100 steps. (The environment variable silences the profiler's log lines, which carry
# timestamps.)

# %%
os.environ["KINETO_LOG_LEVEL"] = "6"


def operator_counts(layer, x):
    """How often each operator runs in one forward and backward pass of `layer`."""
    with torch.autograd.profiler.profile() as prof:
        layer(x)[0].sum().backward()
    return Counter(event.name for event in prof.function_events)


seed_everything(0)
x_double = torch.randn(2 * T, B, I)
ops, ops_double = {}, {}
for kind in KINDS:
    layer = TORCH_LAYER[kind](I, 64)
    ops[kind], ops_double[kind] = operator_counts(layer, x_speed), operator_counts(layer, x_double)
    busiest = ", ".join(f"{name} x{n}" for name, n in ops[kind].most_common(3))
    print(f"nn.{kind.upper():<4} operator calls: {sum(ops[kind].values()):5d} for T = {T}, "
          f"{sum(ops_double[kind].values()):5d} for T = {2 * T}; most frequent: {busiest}")
print("nn.LSTM's recurrence:", {name: n for name, n in ops["lstm"].items() if "rnn" in name})
print("FLOPs FlopCounterMode sees in one forward pass: nn.LSTM",
      forward_flops(nn.LSTM(I, 64), x_speed), " nn.GRU", forward_flops(nn.GRU(I, 64), x_speed))
with onednn_off():
    ops_generic = operator_counts(nn.LSTM(I, 64), x_speed)
print(f"nn.LSTM with oneDNN off: {sum(ops_generic.values())} operator calls for T = {T}, "
      f"{ops_generic['aten::mkldnn_rnn_layer']} of them fused")

onednn = torch.backends.mkldnn.is_available()
print("this PyTorch build has oneDNN:", onednn)
if onednn:
    assert ops["lstm"]["aten::mkldnn_rnn_layer"] == 1
    assert ops["lstm"]["aten::mkldnn_rnn_layer_backward"] == 1
    assert sum(ops_double["lstm"].values()) <= sum(ops["lstm"].values()) + 10  # not O(T)
    assert forward_flops(nn.LSTM(I, 64), x_speed) == 0     # opaque to the FLOP counter
for kind in ("rnn", "gru"):
    assert not any("mkldnn" in name for name in ops[kind])
    assert sum(ops_double[kind].values()) - sum(ops[kind].values()) > 10 * T  # >10 per step
assert ops_generic["aten::mkldnn_rnn_layer"] == 0 and sum(ops_generic.values()) > 10 * T

# %% [markdown]
# There is the explanation. On a CPU, `nn.LSTM` hands the whole sequence to a single
# operator, `aten::mkldnn_rnn_layer`: a fused LSTM kernel from Intel's oneDNN library
# (formerly MKL-DNN), which runs all the steps, all four gates and the element-wise updates
# in compiled code, and a matching single backward operator. The whole forward and
# backward pass is a few dozen operator calls, *the same number for 100 steps as for 50*,
# and the work inside the fused kernel is so opaque that `FlopCounterMode` sees none of
# it. `nn.GRU` and `nn.RNN` get no such kernel in this PyTorch: they run PyTorch's generic
# implementation, which loops over time and calls a matrix product, sigmoids, a `tanh`,
# additions and multiplications at *every step*, forward and backward, so their operator
# count doubles when the sequence does. Each call has a fixed overhead of microseconds,
# which at small $H$ is larger than its arithmetic. That is why the GRU's disadvantage is
# largest at small sizes. Switching oneDNN off (`torch.backends.mkldnn.enabled = False`)
# sends `nn.LSTM` down the same generic loop, with a comparable number of operator calls,
# and the arithmetic decides again: that was the "no oneDNN" column of the table.
#
# So the honest answer to "is the GRU faster?" is: *it does less arithmetic; whether it
# finishes sooner depends on whose kernel runs it*. On PyTorch's CPU path the LSTM has a
# fused kernel and the GRU does not, and the LSTM wins.
#
# On NVIDIA GPUs, cuDNN provides fused kernels for all three layers, so there one would
# expect the arithmetic to be the better guide. The machine that built this book has no
# GPU, so the stored output below has no numbers; if you run the chapter on a GPU (on
# Colab, choose a GPU runtime), the next cell times `torch.nn`'s layers there, with
# `rnnbook.bench.time_it`, which waits for the GPU to finish before it stops the clock.

# %%
if torch.cuda.is_available():
    gpu = torch.device("cuda")
    x_gpu = x_speed.to(gpu)
    print(f"forward + backward on {torch.cuda.get_device_name(gpu)}, ms (median of 10)")
    for h in HIDDEN:
        ms = {kind: 1e3 * time_it(forward_backward(TORCH_LAYER[kind](I, h).to(gpu), x_gpu),
                                  device=gpu).median for kind in KINDS}
        print(f"H = {h:3d}: RNN {ms['rnn']:6.2f}  GRU {ms['gru']:6.2f}  LSTM {ms['lstm']:6.2f}"
              f"   GRU / LSTM {ms['gru'] / ms['lstm']:.2f}")
else:
    print("No CUDA GPU here: on a machine with one, this cell times cuDNN's fused kernels.")

# %% [markdown]
# ## Memory: what training keeps for the backward pass
#
# During training, the memory that grows with the sequence is not the weights but the
# **activations autograd saves** for the backward pass: at every step, whatever the
# backward pass will need to multiply by (gate values, states, pre-activations). A
# popular claim follows from the gate count: "the GRU uses less memory than the LSTM,
# because it has three blocks instead of four". `rnnbook.bptt.saved_tensors` counts the
# bytes autograd saves during a forward pass (each storage once, the weights excluded).
# We count them for a batch of 32 sequences of 50 steps with $H = 128$ and print them as
# 4-byte floats per unit, per step and per sequence, for `torch.nn`'s layers, for
# `nn.LSTM` with oneDNN switched off, and for the book's layers.
#
# > **Common mistake.** "The GRU needs less memory than the LSTM." Fewer weights, yes, but
# > the weights are a small, fixed part of training memory. What grows with $T$ is what
# > each step saves for the backward pass, and that is a property of the
# > *implementation*, not of the cell: PyTorch's generic loop saves exactly as much for a
# > GRU as for an LSTM of the same width, the book's step-by-step GRU saves *more* than its
# > LSTM, and PyTorch's fused oneDNN LSTM saves more than twice what its GRU does. The
# > cell below checks all three statements.

# %%
from rnnbook.bptt import saved_tensors

H_mem = 128
seed_everything(0)
x_mem = torch.randn(T, B, I)
per_float = 4 * T * B * H_mem                      # bytes of one float per unit, step, sequence
memory = {}                                        # (kind, implementation) -> bytes saved
for kind in KINDS:
    for impl, layer in (("torch.nn", TORCH_LAYER[kind](I, H_mem)),
                        ("rnnbook", BOOK_LAYER[kind](I, H_mem))):
        _, saved = saved_tensors(lambda layer=layer: layer(x_mem)[0].sum(),
                                 exclude=layer.parameters())
        memory[kind, impl] = saved.nbytes
        with onednn_off():
            _, saved = saved_tensors(lambda layer=layer: layer(x_mem)[0].sum(),
                                     exclude=layer.parameters())
        if impl == "torch.nn":
            memory[kind, "oneDNN off"] = saved.nbytes
print(f"saved for backward, floats per unit per step (B={B}, T={T}, I={I}, H={H_mem}):")
for impl in ("torch.nn", "oneDNN off", "rnnbook"):
    print(f"  {impl:<10} " + "   ".join(f"{kind.upper()} {memory[kind, impl] / per_float:6.2f}"
                                       for kind in KINDS))
print(f"the LSTM's weights, for scale: {num_parameters(nn.LSTM(I, H_mem)) / 1e6:.3f} M floats; "
      f"its saved activations: {memory['lstm', 'oneDNN off'] / 4e6:.3f} M floats")
assert memory["gru", "oneDNN off"] == memory["lstm", "oneDNN off"]   # the generic loop: equal
assert memory["gru", "rnnbook"] > memory["lstm", "rnnbook"]          # the book's: GRU more
if torch.backends.mkldnn.is_available():
    assert memory["lstm", "torch.nn"] > 2 * memory["gru", "torch.nn"]  # fused LSTM: > 2x
assert memory["lstm", "oneDNN off"] > 4 * num_parameters(nn.LSTM(I, H_mem))

# %% [markdown]
# So the answer depends on the code, not the cell. On PyTorch's generic path both cells
# save about seven floats per unit and step: the LSTM keeps its four gate values and
# $	anh(c_t)$, the GRU its three gates, $W_{hn} h_{t-1} + b_{hn}$ (which the reset gate
# multiplies) and the previous state. The book's GRU saves one float more, because its
# step is written as separate operations that each keep their input. The fused oneDNN
# LSTM, the fastest layer of the previous section, also keeps a workspace of more than
# twice the GRU's size: there speed was bought with memory. Against all of this the
# weights are small: at $T = 50$ and $B = 32$ the saved activations are already several
# times the LSTM's 82,944 weights, and they grow with $T$ and $B$ while the weights do
# not. Chapter 03 showed how truncated BPTT and checkpointing trade this memory for time.

# %% [markdown]
# ## Accuracy over seeds: a small task suite
#
# Speed is only worth having if the model learns. We compare the three cells on three tasks
# chosen to pull in different directions:
#
# 1. **Temporal order** (Hochreiter & Schmidhuber 1997, experiment 6a), a pure long-range
#    memory test. A sequence of 50 random symbols from $\{a, b, c, d\}$, framed by a start
#    and an end marker, hides two relevant symbols, each $X$ or $Y$: one at steps 5 to 10,
#    the other at steps 25 to 30. The class is their order, $XX$, $XY$, $YX$ or $YY$, so
#    guessing gives 25%, and the network must hold the first symbol for at least 15 steps
#    of distraction and both until the end.
# 2. **Sunspots**: forecast next year's mean sunspot number from the last 20 years, on the
#    real series 1700 to 2008 (chapter 01), with persistence and a linear AR(20) model as
#    baselines. A small, noisy, real data set.
# 3. **A character language model** of Python source code (the corpus of chapter 02),
#    scored in bits per character on held-out modules after a fixed number of steps.
#
# The rules are the same for every model, so that the cell type is the only difference:
#
# - **equal parameter budgets**, heads and embeddings included, via `matched_hidden_size`;
# - the same optimiser (Adam; Kingma & Ba 2015), learning rate, batch size, number of
#   steps, gradient clipping (to norm 1, as Pascanu et al. 2013 proposed) and data for every cell type. One learning rate for all is the main
#   limitation of this comparison: Greff et al. (2017) found the learning rate the most
#   important hyperparameter of an LSTM, and the best rate need not be the same for every
#   cell. We test how much it matters where the verdict hinges on it (claim 2);
# - the LSTM gets the forget-gate bias of 1 that Jozefowicz et al. (2015) recommend and
#   chapter 05 studied, which is what a careful practitioner would use (and what Keras
#   does by default, `unit_forget_bias=True`; PyTorch's default draws it at random
#   around 0). When we say "the default-configured LSTM" below, we mean this one. On the
#   temporal-order task, where chapter 05 found that even more helps, we add an LSTM with a
#   forget-gate bias of 3 as a fourth contestant;
# - **several seeds**: a seed fixes the initial weights and the order of the training
#   batches (and, for the generated task, the training sequences themselves); we report
#   the mean and the sample standard deviation over seeds (`ddof=1`) and show every seed.
#   Where a claim compares two means we give the standard error of their difference.
#
# Each task is small enough to run in seconds on a CPU, which makes this a comparison of
# small models trained briefly. Keep that in mind when we draw conclusions.
#
# ### Task 1: temporal order

# %%
L_TO, STEPS_TO = 50, 500
SEEDS_TO = {"rnn": range(1), "gru": range(4), "lstm": range(4), "lstm, b_f=3": range(4)}
TO_MODELS = {"rnn": ("rnn", {}), "gru": ("gru", {}), "lstm": ("lstm", {"forget_bias": 1.0}),
             "lstm, b_f=3": ("lstm", {"forget_bias": 3.0})}
x_to_test, y_to_test = rnnbook.temporal_order(300, L_TO, seed=10_000)
to_budget = num_parameters(SequenceModel("lstm", 8, 32, 4))


def accuracy(model, x, y):
    """The fraction of sequences whose class the model gets right."""
    with torch.no_grad():
        return (model(x).argmax(-1) == y).float().mean().item()


def train_temporal_order(kind, hidden, seed, steps=STEPS_TO, **kwargs):
    """Adam at 1e-2 on 10,000 training sequences, batches of 64, gradients clipped to norm 1.
    Every 50 steps the test accuracy is measured, and training stops once it reaches 99%.
    Returns the model and the step at which it solved the task, or None."""
    seed_everything(seed)
    x, y = rnnbook.temporal_order(10_000, L_TO, seed=seed)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True,
                        generator=rnnbook.generator(seed))
    model = SequenceModel(kind, 8, hidden, 4, **kwargs)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    batches = iter(())
    for step in rnnbook.progress(range(1, steps + 1), desc=f"{kind}, seed {seed}"):
        try:
            xb, yb = next(batches)
        except StopIteration:                  # a new epoch, in a new order
            batches = iter(loader)
            xb, yb = next(batches)
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 50 == 0 and accuracy(model, x_to_test, y_to_test) >= 0.99:
            return model.eval(), step
    return model.eval(), None


to_runs = {}                                  # name -> list of (model, solved step or None)
for name, (kind, kwargs) in TO_MODELS.items():
    hidden = matched_hidden_size(lambda h, kind=kind: SequenceModel(kind, 8, h, 4), to_budget)
    to_runs[name] = [train_temporal_order(kind, hidden, seed, **kwargs)
                     for seed in SEEDS_TO[name]]
    print(f"{name:<12} H = {hidden:2d}, {num_parameters(to_runs[name][0][0]):,} parameters")

to_acc = {name: np.array([accuracy(model, x_to_test, y_to_test) for model, _ in runs])
          for name, runs in to_runs.items()}
to_solved = {name: [solved for _, solved in runs] for name, runs in to_runs.items()}
for name in TO_MODELS:
    print(f"{name:<12} test accuracy per seed {np.round(to_acc[name], 3).tolist()}   "
          f"reached 99% at step {to_solved[name]}")

# %% [markdown]
# Training stops as soon as a run reaches 99% test accuracy, so each run gives two
# numbers that we keep apart: **whether** it solved the task within 500 steps, and
# **when**. A run mostly ends all or nothing: a model either discovers how to latch the
# two symbols, and then quickly reaches 99%, or it stays near chance (a few runs end in
# between, having learned part of the task). Four seeds per cell is few, so the claims we
# assert are those that held for every window of four seeds among the eight we tried
# (seeds 0 to 7, i.e. seed shifts 0 to 4). The plain RNN stays at chance, as chapter 04
# predicts for a tanh RNN over a gap of 20 to 45 steps; it is the slowest cell to train
# here and its failure is not in doubt, so it gets one seed only. The GRU and the LSTM with a
# forget bias of 3, which makes the cell hold its contents by default from the first step
# (chapter 05), solve the task in at least half the seeds (asserted; in our runs the GRU
# solved seven of the eight seeds and the LSTM with forget bias 3 all eight, three or four
# in every window of four). The LSTM with the recommended forget bias of 1 solved fewer:
# five of the eight seeds, two or three in each window of four. That hints at a
# difference in reliability, but five of eight against seven or eight of eight is not a
# significant difference (Fisher's exact test gives $p \approx 0.2$ against eight of
# eight, $p \approx 0.6$ against seven), so we report it and do not assert it.
# How many steps the runs needed when they did solve the task is a separate question,
# taken up in claim 1.

# %%
n_solved = {name: sum(s is not None for s in solved) for name, solved in to_solved.items()}
print("seeds solved:", {name: f"{n} of {len(SEEDS_TO[name])}" for name, n in n_solved.items()})
assert to_acc["rnn"].max() < 0.35                        # RNN: chance, 0.25
assert n_solved["gru"] >= 2 and n_solved["lstm, b_f=3"] >= 2     # at least half the seeds

# %% [markdown]
# ### Task 2: sunspots
#
# The split is by time, as always for forecasting (chapter 01): the first 80% of years
# train, the last 20% test. Within the training years, the last fifth of the windows
# validates, for **early stopping**: every 20 steps we score the validation windows, stop
# after 5 scores without improvement and restore the best weights. With only 182 training
# windows, a few thousand parameters overfit fast, and early stopping is the simplest
# honest defence. The scaler is fitted on the training years only.

# %% tags=["nbval-check-output"]
spots = rnnbook.load_sunspots().to_numpy()
spots_train, spots_test = rnnbook.split_series(spots, 0.8)
scaler = rnnbook.StandardScaler().fit(spots_train)
LAGS = 20
Xs, ys = rnnbook.make_windows(scaler.transform(spots), LAGS)  # window i -> value i + LAGS
Xs, ys = torch.tensor(Xs)[..., None], torch.tensor(ys)      # (N, 20, 1), (N, 1)
n_fit = len(spots_train) - LAGS                             # windows with a training target
n_val = n_fit // 5
fit_part, val_part, test_part = slice(0, n_fit - n_val), slice(n_fit - n_val, n_fit), \
    slice(n_fit, None)
print(f"windows: {n_fit - n_val} train, {n_val} validation, {len(ys[test_part])} test")

raw_X, raw_y = rnnbook.make_windows(spots, LAGS)            # the same windows, in raw units
test_y = raw_y[test_part, 0]
spots_baselines = {
    "persistence": rmse(persistence(raw_X[test_part]), test_y),
    "AR(20)": rmse(LinearAR().fit(raw_X[:n_fit], raw_y[:n_fit, 0]).predict(raw_X[test_part]),
                   test_y),
}
print("test RMSE of the baselines:", {k: round(v, 2) for k, v in spots_baselines.items()})

# %%
def train_sunspots(kind, hidden, seed, train_part=fit_part, lr=1e-2):
    """Full-batch Adam (at 1e-2 unless told) with early stopping on the validation windows.
    Returns the test RMSE in sunspot units."""
    seed_everything(seed)
    kwargs = {"forget_bias": 1.0} if kind == "lstm" else {}
    model = SequenceModel(kind, 1, hidden, 1, **kwargs)
    val_rmse = lambda m: {"rmse": F.mse_loss(m(Xs[val_part]), ys[val_part]).sqrt()}  # noqa: E731
    fit(model, [(Xs[train_part], ys[train_part])], nn.MSELoss(), steps=600, lr=lr,
        clip_norm=1.0, evaluate=val_rmse, eval_every=20, patience=5, monitor="rmse")
    with torch.no_grad():
        forecast = scaler.inverse_transform(model.eval()(Xs[test_part]))[:, 0]
    return rmse(forecast, test_y)


SEEDS_SPOTS = range(4)
spots_budget = num_parameters(SequenceModel("lstm", 1, 16, 1))
spots_hidden = {kind: matched_hidden_size(lambda h, kind=kind: SequenceModel(kind, 1, h, 1),
                                          spots_budget) for kind in KINDS}
spots_rmse = {kind: np.array([train_sunspots(kind, spots_hidden[kind], seed)
                              for seed in SEEDS_SPOTS]) for kind in KINDS}
for kind in KINDS:
    gain = 1 - spots_rmse[kind].mean() / spots_baselines["persistence"]
    print(f"{kind:<5} H = {spots_hidden[kind]:2d}: test RMSE {spots_rmse[kind].mean():.2f} ± "
          f"{spots_rmse[kind].std(ddof=1):.2f} ({gain:.0%} below persistence)   per seed "
          f"{np.round(spots_rmse[kind], 2).tolist()}")

# %% [markdown]
# All three recurrent models have an error more than 30% below persistence's (35% to 40%
# in our runs), and none is clearly better than the others: the largest gap between their
# means is smaller than twice the largest standard deviation over seeds (asserted). None
# of them clearly beats the linear AR(20) model either: every mean is within 10% of its
# 20.31 (asserted). The baseline that wins is the simplest adequate one, a useful reminder
# that on a short series that a linear model already describes well, a recurrent network
# is not automatically an improvement (chapter 09 returns to this).

# %%
means = {kind: spots_rmse[kind].mean() for kind in KINDS}
spread = max(spots_rmse[kind].std(ddof=1) for kind in KINDS)
print(f"largest gap between model means {max(means.values()) - min(means.values()):.2f}, "
      f"largest seed standard deviation {spread:.2f}")
for kind in KINDS:
    assert means[kind] < 0.7 * spots_baselines["persistence"]
    assert abs(means[kind] - spots_baselines["AR(20)"]) < 0.1 * spots_baselines["AR(20)"]
assert max(means.values()) - min(means.values()) < 2 * spread

# %% [markdown]
# ### Task 3: a character language model
#
# The Python corpus is split by position: the first 90% trains, the last 10% (other
# modules) validates. Every model is an embedding, one recurrent layer and a read-out, with
# the budget of an LSTM with $H = 64$. Each trains for 150 steps on random windows of 32
# characters, 32 windows per batch, with Adam at $5 \times 10^{-3}$, and is scored on the
# whole validation text every 50 steps. That is a very short training run, about half a
# pass over the training text: this task asks which cell *learns fastest* in its early
# phase, not which one is best after long training.

# %% tags=["nbval-check-output"]
text = rnnbook.load_text()
vocab = rnnbook.CharVocab(text)
ids = vocab.encode(text)
V = len(vocab)
cut = int(0.9 * len(ids))
lm_train, lm_val = ids[:cut], ids[cut:]
chunk = 256
n_chunks = (len(lm_val) - 1) // chunk
val_x = lm_val[: n_chunks * chunk].view(n_chunks, chunk)
val_y = lm_val[1: n_chunks * chunk + 1].view(n_chunks, chunk)
BITS = 1 / math.log(2)                                      # nats -> bits
trigram = min(ngram_cross_entropy(lm_train, lm_val, V, 3, alpha) for alpha in (0.01, 0.1, 1.0))
print(f"{V} characters; {len(lm_train):,} training, {len(lm_val):,} validation; "
      f"trigram baseline {trigram * BITS:.3f} bits/char")

# %%
LM_STEPS, SEEDS_LM, LM_LEAD = 150, range(2), 0.1
lm_budget = num_parameters(CharLM(V, 64, kind="lstm"))


def train_lm(kind, hidden, seed):
    """Adam at 5e-3 on random windows; validation bits per character every 50 steps."""
    seed_everything(seed)
    kwargs = {"forget_bias": 1.0} if kind == "lstm" else {}
    model = CharLM(V, hidden, kind=kind, **kwargs)
    batches = rnnbook.char_batches(lm_train, batch_size=32, seq_len=32,
                                   generator=rnnbook.generator(seed))
    history = fit(model, batches, rnnbook.lm_loss, steps=LM_STEPS, lr=5e-3, clip_norm=1.0,
                  evaluate=lambda m: {"bits": rnnbook.lm_loss(m(val_x), val_y) * BITS},
                  eval_every=50)
    return history.metric("bits")


lm_curves = {}
for kind in KINDS:
    hidden = matched_hidden_size(lambda h, kind=kind: CharLM(V, h, kind=kind), lm_budget)
    runs = [train_lm(kind, hidden, seed) for seed in SEEDS_LM]
    lm_steps = runs[0][0]
    lm_curves[kind] = np.array([bits for _, bits in runs])
    final = lm_curves[kind][:, -1]
    print(f"{kind:<5} H = {hidden:3d}, {num_parameters(CharLM(V, hidden, kind=kind)):,} "
          f"parameters: {final.mean():.3f} ± {final.std(ddof=1):.3f} bits/char after {LM_STEPS} "
          f"steps   per seed {np.round(final, 3).tolist()}")

# %% [markdown]
# After 150 steps the order is the same in every seed: the plain RNN and the GRU are
# close together, and the LSTM is behind both, by more than 0.1 bits per character in
# every seed (asserted; about 0.2 to 0.3 in our runs). None of the three has reached the
# trigram baseline yet; the RNN and the GRU are closer to it than the LSTM. The learning
# curves in the figure below show that the LSTM is not stuck, only slower: its curve falls
# steadily but lags behind from the first evaluation. This is early in training, where
# short context, which every cell handles, is most of what there is to learn; ask again
# after 10,000 steps and the order may differ.

# %%
lm_final = {kind: lm_curves[kind][:, -1] for kind in KINDS}
print(f"after {LM_STEPS} steps, bits/char: " + ", ".join(
    f"{kind.upper()} {lm_final[kind].mean():.3f}" for kind in KINDS)
    + f"; trigram {trigram * BITS:.3f}")
assert min(lm_final[kind].min() for kind in KINDS) > trigram * BITS   # none at the trigram yet
for kind in ("rnn", "gru"):
    assert lm_final[kind].max() < lm_final["lstm"].min() - LM_LEAD   # ahead in every seed
assert abs(lm_final["gru"].mean() - lm_final["rnn"].mean()) < 0.15  # RNN and GRU close

# %% [markdown]
# ### The suite at a glance

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
rng = rnnbook.numpy_rng(0)                      # horizontal jitter for the seed dots
names = list(TO_MODELS)
for j, name in enumerate(names):
    values = to_acc[name]                            # all-or-nothing: dots, not error bars
    axes[0].bar(j, values.mean(), color=COLOR[name], alpha=0.35)
    axes[0].plot(j + rng.uniform(-0.15, 0.15, len(values)), values, "o", color=COLOR[name])
axes[0].axhline(0.25, color="k", ls="--", lw=1, label="guessing")
axes[0].set(xticks=range(len(names)), ylim=(0, 1.05), ylabel="test accuracy",
            title=f"temporal order, T = {L_TO}, at most {STEPS_TO} steps")
axes[0].set_xticklabels(names)
axes[0].legend(loc="center right", fontsize=8)
for j, kind in enumerate(KINDS):
    values = spots_rmse[kind]
    axes[1].bar(j, values.mean(), color=COLOR[kind], alpha=0.35)
    axes[1].errorbar(j, values.mean(), values.std(ddof=1), color="k", capsize=4)
    axes[1].plot(j + rng.uniform(-0.15, 0.15, len(values)), values, "o", color=COLOR[kind])
for (name, value), style in zip(spots_baselines.items(), ["--", ":"], strict=True):
    axes[1].axhline(value, color="k", ls=style, lw=1, label=name)
axes[1].set(xticks=range(3), ylabel="test RMSE (sunspot number)",
            title="sunspots, one year ahead")
axes[1].set_xticklabels(KINDS)
axes[1].legend(fontsize=8, loc="lower right")
for kind in KINDS:
    spread_curve(lm_curves[kind], lm_steps, ax=axes[2], label=kind.upper(),
                              color=COLOR[kind], marker="o", ms=3)
axes[2].axhline(trigram * BITS, color="k", ls="--", lw=1, label="trigram")
axes[2].set(xlabel="training step", ylabel="validation bits per character",
            title="character language model")
axes[2].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# In numbers (mean ± standard deviation over seeds, `ddof=1`; for the temporal order, the
# number of seeds solved):

# %%
print(f"{'':<28} {'RNN':>15} {'GRU':>15} {'LSTM (b_f=1)':>15} {'LSTM (b_f=3)':>15}")
print(f"{'temporal order, solved':<28} " + " ".join(
    f"{f'{n_solved[name]} of {len(SEEDS_TO[name])}':>15}" for name in TO_MODELS))
for label, results in ((f"sunspots RMSE ({len(SEEDS_SPOTS)} seeds)", spots_rmse),
                       (f"char LM bits ({len(SEEDS_LM)} seeds)", lm_final)):
    print(f"{label:<28} " + " ".join(
        f"{results[kind].mean():8.3f} ± {results[kind].std(ddof=1):.3f}" for kind in KINDS))

# %% [markdown]
# No cell type wins everywhere. The gated cells are indispensable on the long-range task,
# where the RNN fails outright; on the small forecasting problem the cell type makes no
# detectable difference; and early in language modelling the simplest cell keeps pace
# with the GRU and is ahead of the LSTM.
#
# ## Claims you will read online, tested
#
# Blog posts and forum answers repeat a handful of rules of thumb about GRUs and LSTMs.
# Here are three, each stated, measured and judged. A verdict covers only what we measured:
# small models, short training, these tasks.
#
# ### Claim 1: "The GRU trains faster than the LSTM"
#
# The claim has two readings. **Per second of compute**: the GRU does 3/4 of the LSTM's
# arithmetic (asserted above). But with PyTorch on a CPU, `nn.LSTM` runs a fused oneDNN
# kernel and `nn.GRU` a loop of small operators (asserted above), and the GRU took longer
# per pass (asserted at $H = 32$ with a wide margin). **Per training step**, that is, in
# how many updates a model needs, the suite answers directly, but only if we keep two
# questions apart that a single "mean steps to solve" mixes up: *how often* a cell
# solved the task, and *how fast* it did when it did. A run that never solved it has no
# "steps to solve"; counting it as the full budget would turn a difference in reliability
# into an apparent difference in speed.

# %%
def steps_when_solved(name):
    """Steps to 99% test accuracy of the runs of `name` that reached it."""
    return np.array([s for s in to_solved[name] if s is not None], dtype=float)


for name in TO_MODELS:
    st = steps_when_solved(name)
    when = (f"mean {st.mean():.0f} steps, per run {st.astype(int).tolist()}" if len(st)
            else "no run")
    print(f"{name:<12} solved {n_solved[name]} of {len(SEEDS_TO[name])}; when solved: {when}")


def difference_with_se(a, b):
    """Difference of two means and its standard error (Welch, ddof=1)."""
    return a.mean() - b.mean(), math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))


for name in ("lstm", "lstm, b_f=3"):
    if n_solved[name] < 2:                  # a standard error needs two solved runs
        print(f"GRU - {name}: too few solved runs to compare their speed")
        continue
    gap_steps, se_steps = difference_with_se(steps_when_solved("gru"), steps_when_solved(name))
    print(f"GRU - {name}, steps when solved: {gap_steps:+.0f} ± {se_steps:.0f} (standard error)")
    assert gap_steps > -max(3 * se_steps, 100)       # the GRU is not detectably faster
print(f"char LM after {LM_STEPS} steps: GRU {lm_final['gru'].mean():.3f}, "
      f"LSTM {lm_final['lstm'].mean():.3f} bits/char")
assert lm_final["gru"].mean() < lm_final["lstm"].mean() - LM_LEAD

# %% [markdown]
# On the temporal order, the runs that solved the task did so in a few hundred steps
# whichever gated cell they used. The GRU was not detectably faster than either LSTM: its
# mean steps among solved runs were never lower by more than three standard errors (or
# 100 steps, two evaluations, where the standard error is tiny), which the cell asserts.
# If anything, the LSTM with forget bias 1 was the quicker when it solved the task at
# all: in our runs it often got there within 100 to 150 steps, while the GRU's solved
# runs took 150 to 350. The first
# edition of this chapter reported the GRU as faster than the LSTM with forget bias 1 (260
# against 360 mean steps); but that counted two failed LSTM runs as 500 steps each, and
# among the runs that solved the task the two were level (260 against 267). What differs
# between the GRU and the LSTM with forget bias 1 is **how often** they solve it, not how
# fast. On the language model the GRU was ahead of the LSTM after the same number of
# steps in every seed, by more than the margin asserted.
#
# **Verdict: per update, partly true against the default-configured LSTM (forget bias
# 1): the GRU was ahead early on the language model and solved the long-range task more
# reliably, but when both solved it they were equally fast. Not true per second on a CPU
# with PyTorch**, where each GRU step costs more time than an LSTM step; and the plain RNN,
# with a quarter of the LSTM's arithmetic, kept pace with the GRU on the language model.
# If wall-clock time is what you pay for, time your own training steps on your own
# hardware before you believe either reading.
#
# ### Claim 2: "The GRU needs less data"
#
# The usual argument is that the GRU has fewer parameters, so it overfits less. We test
# the claim on the sunspots task, the one small-data problem in the suite, by training on
# only the most recent half and the most recent quarter of the 182 training windows (91
# and 46 windows), with the same validation and test windows. Because our models are
# matched in size, a GRU advantage here cannot be explained by parameter counts.

# %%
FRACTIONS = (1.0, 0.5, 0.25)
spots_less = {1.0: spots_rmse}              # fraction -> kind -> test RMSE per seed
ar_less = {1.0: spots_baselines["AR(20)"]}  # the linear model, refitted on the same windows
for fraction in FRACTIONS[1:]:
    keep = round(fraction * (n_fit - n_val))
    recent = slice(n_fit - n_val - keep, n_fit - n_val)
    spots_less[fraction] = {kind: np.array([train_sunspots(kind, spots_hidden[kind], seed,
                                                           train_part=recent)
                                            for seed in SEEDS_SPOTS]) for kind in KINDS}
    ar_less[fraction] = rmse(LinearAR().fit(raw_X[recent], raw_y[recent, 0])
                             .predict(raw_X[test_part]), test_y)

PAIRS = (("gru", "lstm"), ("gru", "rnn"), ("lstm", "rnn"))
z_scores = {}                               # (fraction, pair) -> difference / standard error
print(f"{'windows':>7} | {'RNN':>13} {'GRU':>13} {'LSTM':>13} | {'AR(20)':>6} | "
      + "  ".join(f"{a.upper()}-{b.upper()}" for a, b in PAIRS) + "  (difference / s.e.)")
for fraction in FRACTIONS:
    cell = spots_less[fraction]
    for a, b in PAIRS:
        gap, se = difference_with_se(cell[a], cell[b])
        z_scores[fraction, (a, b)] = gap / se
    print(f"{round(fraction * (n_fit - n_val)):>7} | " + " ".join(
        f"{cell[kind].mean():6.2f} ± {cell[kind].std(ddof=1):4.2f}" for kind in KINDS)
        + f" | {ar_less[fraction]:6.2f} | "
        + "  ".join(f"{z_scores[fraction, pair]:+8.1f}" for pair in PAIRS))
significant = [key for key, z in z_scores.items() if abs(z) > 2]
print(f"comparisons beyond two standard errors: {len(significant)} of {len(z_scores)}")

quarter = spots_less[0.25]
assert quarter["gru"].mean() < quarter["lstm"].mean() - 3   # 46 windows: the GRU ahead
assert quarter["gru"].mean() < quarter["rnn"].mean() - 2
assert z_scores[0.25, ("gru", "lstm")] < -1.5 and z_scores[0.25, ("gru", "rnn")] < -1.5
assert min(quarter["rnn"].mean(), quarter["lstm"].mean()) > ar_less[0.25]  # the AR wins
assert abs(quarter["gru"].mean() - ar_less[0.25]) < 3                        # or ties

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
windows = [round(f * (n_fit - n_val)) for f in FRACTIONS]
for kind in KINDS:
    values = np.array([spots_less[f][kind] for f in FRACTIONS])
    ax.errorbar(windows, values.mean(axis=1), values.std(axis=1, ddof=1), marker="o",
                capsize=3, color=COLOR[kind], label=kind.upper())
ax.plot(windows, [ar_less[f] for f in FRACTIONS], "k:", marker="x", label="AR(20), refitted")
ax.axhline(spots_baselines["persistence"], color="k", ls="--", lw=1, label="persistence")
ax.set(xlabel="training windows (most recent)", ylabel="test RMSE",
       title=f"sunspots: less data, matched sizes ({len(SEEDS_SPOTS)} seeds)", xticks=windows)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Read the table cell by cell, and count. It holds nine comparisons (three pairs of cells
# at three data sizes), and with four seeds per cell a single one beyond two standard
# errors could easily be chance: at a nominal 5% each, nine tests give about a one in
# three chance that at least one fires when there is nothing to find. So one significant
# cell in a 3×3 grid, on its own, is a weak finding, and the count printed above changes
# with the seeds. In our runs over shifted seeds (shifts 0 to 3, seven distinct seeds in
# all), the comparisons that crossed two standard errors at full or half data changed
# from shift to shift, which is how chance looks; one cell did not. **With 46 windows the
# GRU was ahead of both the LSTM and the RNN at every shift**, by 5 to 9 RMSE against the
# LSTM, while with all 182 windows the three cells stayed within about two of each other.
# The asserts hold what survived every shift: at 46 windows the GRU's mean is more than
# 3 RMSE below the LSTM's and 2 below the RNN's, each gap more than 1.5 standard errors.
#
# Two caveats keep this modest. First, the baseline. The linear AR(20), refitted on the
# same windows (the dotted line), is deterministic: 20.31 with all the windows, 22.96 with
# 91 and 26.53 with 46, where it fits 21 coefficients to 46 targets. The recurrent cells
# are level with it at 182 and 91 windows; at 46 the GRU is about level with it or a
# little better, and the RNN and the LSTM are worse. So on this series the linear model
# is the baseline to beat, and only the GRU keeps up with it as the data shrink. Second,
# all cells shared one learning rate; the next cell asks whether the LSTM's deficit is
# the learning rate's.
#
# So we give each gated cell a second learning rate on the 46 windows, with the same
# seeds: three times the shared rate, for both. (We go up rather than down because with
# early stopping on so few windows, a slower learner is stopped before it gets far.) We
# pick each cell's best
# rate by its mean test error, which flatters both cells alike; a study with more data
# would choose on the validation windows.

# %%
keep = round(0.25 * (n_fit - n_val))
quarter_part = slice(n_fit - n_val - keep, n_fit - n_val)
tuned = {("lstm", 1e-2): quarter["lstm"], ("gru", 1e-2): quarter["gru"]}
for kind, lr in (("lstm", 3e-2), ("gru", 3e-2)):
    tuned[kind, lr] = np.array([train_sunspots(kind, spots_hidden[kind], seed,
                                               train_part=quarter_part, lr=lr)
                                for seed in SEEDS_SPOTS])
for (kind, lr), values in sorted(tuned.items()):
    print(f"{kind.upper():<4} {keep} windows, learning rate {lr:.0e}: test RMSE "
          f"{values.mean():.2f} ± {values.std(ddof=1):.2f}")
best = {kind: min((key for key in tuned if key[0] == kind), key=lambda k: tuned[k].mean())
        for kind in ("gru", "lstm")}
gap_shared, se_shared = difference_with_se(tuned["lstm", 1e-2], tuned["gru", 1e-2])
gap_tuned, se_tuned = difference_with_se(tuned[best["lstm"]], tuned[best["gru"]])
print(f"LSTM - GRU: {gap_shared:.2f} ± {se_shared:.2f} at the shared rate, "
      f"{gap_tuned:.2f} ± {se_tuned:.2f} with each cell at its best rate "
      f"(GRU {best['gru'][1]:.0e}, LSTM {best['lstm'][1]:.0e})")
assert tuned["lstm", 3e-2].mean() < tuned["lstm", 1e-2].mean() - 2   # the LSTM wanted more
assert gap_tuned < gap_shared                                          # tuning closes the gap

# %% [markdown]
# This changes the verdict. At the shared rate the LSTM on 46 windows was held back by a
# learning rate too small for it: three times the rate improved its mean error by more
# than 2 RMSE (asserted; by 5 to 7 in our runs).
# With each cell at its best rate, the LSTM's gap to the GRU shrank (asserted), in our
# runs to about one RMSE, less than one standard error, in three of four windows of
# seeds, while in the fourth a gap of about 6 RMSE remained. So most of what looked like
# "the GRU needs less data" was "the GRU is less sensitive to the learning rate here".
#
# **Verdict: not established.** At the shared learning rate the GRU's lead on 46 windows
# is real and replicates across seeds, and it is not a matter of parameter count (the
# models are matched, and exercise 5 shrinks the GRU to fewer parameters without
# helping it). But a second learning rate per cell removes most of it. One small data
# set, one architecture size and two learning rates are thin evidence either way; what
# the experiment does show is how easily a shared learning rate manufactures a winner,
# which is why Greff et al. (2017) tuned it per variant.
#
# ### Claim 3: "The LSTM is better on long sequences"
#
# The argument: the LSTM's separate, additively updated cell state can hold information
# longer than the GRU's hidden state. The direct test would train both on much longer
# temporal-order sequences, but at $T = 100$ training becomes too slow for this chapter's
# time budget (especially for the GRU, for the reason found in the speed section). We can
# still ask the models already trained at $T = 50$ how far their memory reaches: we test
# them on sequences of 100 and 200 steps, where the relevant symbols sit at the same
# *relative* positions, so that the symbols must be held two and four times as long. Only runs
# that solved $T = 50$ have learned anything to carry over, so we compare those.

# %%
GATED = ("gru", "lstm", "lstm, b_f=3")
retention = {}                              # (name, length) -> accuracies of the solved runs
for length in (100, 200):
    x_long, y_long = rnnbook.temporal_order(500, length, seed=20_000 + length)
    for name in GATED:
        retention[name, length] = np.array([accuracy(model, x_long, y_long)
                                            for model, solved in to_runs[name]
                                            if solved is not None])
for name in GATED:
    retention[name, L_TO] = to_acc[name][[s is not None for s in to_solved[name]]]
    if n_solved[name] == 0:
        print(f"{name:<12} no run solved T = {L_TO}: nothing to carry over")
        continue
    print(f"{name:<12} ({n_solved[name]} solved runs) accuracy at T=100: "
          f"{retention[name, 100].mean():.3f}, at T=200: {retention[name, 200].mean():.3f}   "
          f"per run {np.round(retention[name, 100], 3).tolist()}, "
          f"{np.round(retention[name, 200], 3).tolist()}")
at_200 = np.concatenate([retention[name, 200] for name in GATED])
print(f"best solved run at T=200: {at_200.max():.3f}")
assert at_200.max() < 0.95                  # no memory sized for T = 50 carries to T = 200

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), sharey=True)
lengths = (L_TO, 100, 200)
for ax, name in zip(axes, GATED, strict=True):
    label = {"gru": "GRU", "lstm": "LSTM, $b_f = 1$", "lstm, b_f=3": "LSTM, $b_f = 3$"}[name]
    ax.set(title=f"{label}, trained at T = {L_TO}", xlabel="test sequence length T",
           xticks=lengths, ylim=(0, 1.05))
    ax.axhline(0.25, color="k", ls="--", lw=1)
    if n_solved[name] == 0:
        ax.text(100, 0.6, "no run solved T = 50", ha="center")
        continue
    runs = np.array([retention[name, length] for length in lengths])   # (lengths, runs)
    ax.plot(lengths, runs, "-", color=COLOR[name], alpha=0.35, lw=1)
    ax.plot(lengths, runs.mean(axis=1), "o-", color=COLOR[name], lw=2.5)
axes[0].set_ylabel("test accuracy")
fig.suptitle("thin: each run that solved T = 50; thick: their mean; dashed: guessing",
             fontsize=10, y=0.02, va="bottom")
plt.tight_layout(rect=(0, 0.06, 1, 1))
plt.show()

# %% [markdown]
# Every run that solved $T = 50$ lost accuracy on longer sequences, and no run stayed
# near perfect at $T = 200$ (the best stays below 95%, asserted): each cell learned a
# memory sized for the sequences it was trained on. In the runs we made, over shifted
# seeds, the GRU's memory tended to carry further than the LSTMs', the *opposite* of the
# claim; the LSTM runs that solved $T = 50$ quickly, within 100 or 150 steps, were close
# to guessing at $T = 200$. But the runs of one cell scatter widely, one LSTM run at
# $T = 200$ of those we made fell far *below* the 25% of guessing (it still carries the symbols but
# misreads them at the new distances), and the LSTM with forget bias 1 has only the
# runs that solved $T = 50$ to offer. We keep the two LSTM biases apart, since they are
# different models, and a handful of runs per cell is too few to rank them with
# confidence.
#
# **Verdict: inconclusive.** Our measurements neither support nor refute the claim. We
# tested how far a memory learned at $T = 50$ carries, not training at long lengths
# directly, and with a few small models. What the suite does show is that the LSTM's
# ability on long-range tasks hinges on its forget-gate bias: at the recommended value of
# 1 it solved $T = 50$ less reliably than the GRU did at PyTorch's default
# initialisation. The GRU has a knob of the same kind, the bias of its update gate
# $b_z$ (chapter 06 studies it: a positive $b_z$ makes the GRU copy its state by default,
# as a positive $b_f$ does for the LSTM); we left it at its default here, and the GRU did
# not need it on this task. The literature agrees that there is no general winner: Chung
# et al. (2014) could not say which of the two gated units is better, the answer
# depending on the task, and Jozefowicz et al. (2015) found that a forget bias of 1
# closed most of the LSTM's gap to the GRU. A principled difference does exist, but it is
# about a different ability: Weiss et al. (2018) showed that the LSTM can count (accept
# $a^n b^n$) where the GRU, whose state is bounded, cannot.
#
# ## How to choose
#
# Putting the measurements together:
#
# - **Do not use a plain RNN for anything that needs memory over dozens of steps.** It
#   failed the temporal-order task. Where short context is most of what
#   matters, as early in language modelling, it kept pace with the GRU, and it does a
#   quarter of the LSTM's arithmetic per step.
# - **The GRU is a safe default for small models.** It solved the long-range task in seven
#   of our eight seeds at PyTorch's default initialisation, and was as fast per
#   step as the LSTM when both solved it. With the forecasting data cut to a quarter, it
#   degraded least at the shared learning rate, and it was less sensitive to that rate
#   than the LSTM.
# - **The LSTM is the faster layer on a CPU with PyTorch**, because only it gets a fused
#   kernel there; when you pay for CPU time, that can outweigh the GRU's advantage per
#   step. That kernel keeps more than twice the GRU's activations for the backward pass,
#   so with long sequences and big batches memory may decide instead. Give the LSTM a
#   forget-gate bias of at least 1, and try larger values on long-range tasks: in our runs
#   1 was not always enough and 3 was.
# - **Compare at equal parameter counts, over several seeds, with a learning rate tuned
#   for each cell, and time on your own hardware.** Several differences we measured were
#   smaller than the spread over seeds, single runs ranged from total success to total
#   failure, and the ranking changed from task to task.
# - When the choice truly matters, try both: the layers are drop-in replacements for each
#   other (`kind="gru"` or `kind="lstm"` in this book's models).
#
# ## Summary
#
# - Parameters: $k(HI + H^2 + 2H)$ per layer in PyTorch, with $k = 1, 3, 4$ for the RNN,
#   GRU and LSTM, checked against `numel()` for 45 layers. One of PyTorch's two bias
#   vectors is redundant in the RNN and LSTM (folding it away changed nothing) but not in
#   the GRU, whose $b_{hn}$ sits inside the reset gate's product (folding it changed the
#   output). At a matched budget, a GRU gets about 1.15 times and an RNN about twice the
#   LSTM's hidden units.
# - Speed: the GRU does exactly 3/4 of the LSTM's matrix arithmetic, yet with PyTorch on
#   a CPU `nn.GRU` was slower than `nn.LSTM`, because `nn.LSTM` runs one fused oneDNN
#   operator (`aten::mkldnn_rnn_layer`) while `nn.GRU` and `nn.RNN` make thousands of small
#   operator calls, twice as many for twice the steps; with oneDNN switched off, the LSTM
#   lost its lead.
# - Memory: what training keeps for the backward pass depends on the implementation, not
#   the gate count: equal for the GRU and the LSTM on PyTorch's generic path, more for the
#   GRU in the book's layers, more than twice the GRU's for the fused oneDNN LSTM.
# - Temporal order at $T = 50$: the RNN at chance; the GRU and the LSTM with
#   forget bias 3 solved at least half the seeds (seven and eight of the eight we tried);
#   the LSTM with forget bias 1 five of eight, a hint of lower reliability that is not
#   significant. When runs solved the task, the gated cells took a similar number of
#   steps.
# - Sunspots (4 seeds): with all the data, all three 35% to 40% below persistence's error,
#   level with each other and with a linear AR(20); with a quarter of the data the GRU
#   was ahead of the LSTM and the RNN at every seed shift we tried, the one cell of the
#   3×3 grid that held up; giving each cell its own learning rate closed most of that
#   gap.
# - Character language model after 150 steps (2 seeds): the RNN and the GRU close
#   together and ahead of the LSTM by more than 0.1 bits per character in every seed.
# - Claims: "the GRU trains faster" is about reliability more than speed per update, and
#   is false per second on PyTorch's CPU path; "the GRU needs less data" looked true at a shared
#   learning rate and mostly vanished when each cell got its own; "the LSTM is
#   better on long sequences" was inconclusive. The main limitation: one learning rate for
#   every cell, tuned per cell only on the small-data forecast, where tuning changed the
#   verdict.
#
# ## Exercises
#
# 1. **Count by hand.** How many parameters does `nn.GRU(input_size=10, hidden_size=20,
#    num_layers=2, bidirectional=True)` have? Work it out with the formula, then check it
#    with `numel()`. How many of them are independent?
# 2. **Matching by a formula.** Solve $3(H^2 + H(I + 2)) = P$ for $H$ with the quadratic
#    formula, for the budget $P$ of an LSTM with $I = 32$, $H = 128$, and compare with what
#    `matched_hidden_size` found.
# 3. **The RNN's second bias.** Show that `nn.RNN`'s two bias vectors are redundant too:
#    fold one into the other and compare the outputs.
# 4. **The defaults matter.** PyTorch draws every bias of `nn.LSTM` from
#    $U(-1/\sqrt H, 1/\sqrt H)$. What values can the forget gate of a fresh LSTM with
#    $H = 32$ take at the first step (zero state, zero input)? What fraction of a cell's
#    content survives 20 steps of such gates, the shortest distance the temporal-order
#    task asks the first symbol to be held, and what do forget biases of 1 and 3 change?
# 5. **Equal units instead of equal parameters.** Many online comparisons give both models
#    the same hidden size. Repeat the quarter-data sunspots experiment with $H = 16$ for
#    the GRU, the LSTM's hidden size, so that the GRU has 3/4 of the LSTM's recurrent
#    parameters. Does the comparison change?

# %% [markdown]
# <details>
# <summary>Solution 1</summary>
#
# Each direction of layer 1 has $3(20 \cdot 10 + 20^2 + 2 \cdot 20) = 1{,}920$ parameters;
# each direction of layer 2 reads both directions of layer 1, so its input size is 40:
# $3(20 \cdot 40 + 20^2 + 40) = 3{,}720$. Two directions each: $2(1{,}920 + 3{,}720) =
# 11{,}280$. Of each direction's $3 \cdot 2H$ bias numbers, the $r$ and $z$ blocks of
# $b_{hh}$ are redundant, $2H = 40$ per direction and layer, so $11{,}280 - 4 \cdot 40 =
# 11{,}120$ are independent.
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
gru_2x2 = nn.GRU(input_size=10, hidden_size=20, num_layers=2, bidirectional=True)
by_hand = 2 * (3 * (20 * 10 + 20**2 + 2 * 20) + 3 * (20 * 40 + 20**2 + 2 * 20))
print(f"by hand {by_hand:,}, numel {num_parameters(gru_2x2):,}, independent "
      f"{by_hand - 4 * 2 * 20:,}")
assert by_hand == num_parameters(gru_2x2) == param_count("gru", 10, 20, 2, True) == 11_280

# %% [markdown]
# <details>
# <summary>Solution 2</summary>
#
# $H^2 + (I + 2)H - P/3 = 0$ gives $H = \frac{1}{2}\left(-(I + 2) +
# \sqrt{(I + 2)^2 + 4P/3}\right)$, about 150.1 for $P = 82{,}944$; rounding to the nearest
# whole unit gives the same 150 that the search found.
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
P = param_count("lstm", 32, 128)
h_exact = (-(32 + 2) + math.sqrt((32 + 2) ** 2 + 4 * P / 3)) / 2
print(f"exact solution {h_exact:.2f}; matched_hidden_size: {matched['gru']}")
assert round(h_exact) == matched["gru"]

# %% [markdown]
# <details>
# <summary>Solution 3</summary>
#
# `nn.RNN` computes $\tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})$: the biases only appear
# summed, so moving $b_{hh}$ into $b_{ih}$ leaves every output unchanged (up to rounding).
# `fold_hidden_bias` works for the RNN as is, with its single block 0.
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
seed_everything(0)
rnn = nn.RNN(3, 5)
x = torch.randn(7, 2, 3)
gap_rnn = (fold_hidden_bias(rnn, [0])(x)[0] - rnn(x)[0]).abs().max().item()
assert gap_rnn < 1e-6
print("largest change after folding the RNN's bias: below 1e-6")

# %% [markdown]
# <details>
# <summary>Solution 4</summary>
#
# With zero state and input, the forget gate is $\sigma(b_{if} + b_{hf})$, and the sum of
# two draws from $U(-1/\sqrt{32}, 1/\sqrt{32})$ lies in $(-0.354, 0.354)$, so every
# forget gate starts between $\sigma(-0.354) = 0.412$ and $\sigma(0.354) = 0.588$: about
# one half, whatever the seed. A content multiplied by such gates for 20 steps keeps at
# most $0.588^{20} \approx 2 \times 10^{-5}$ of itself: nothing useful survives to learn
# from, which is why the default-initialised LSTM stays at chance on the temporal order
# (chapter 05 trains it). A forget bias of 1 gives $\sigma(1)^{20} = 0.731^{20} \approx
# 0.002$, and a bias of 3 gives $\sigma(3)^{20} = 0.953^{20} \approx 0.38$: this is why 3
# was the more reliable setting on this task. The bounds hold for every seed, so the cell
# asserts them.
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
H4 = 32
seed_everything(0)
kept = {}
for label, kwargs in (("PyTorch default", {}), ("forget bias 1", {"forget_bias": 1.0}),
                      ("forget bias 3", {"forget_bias": 3.0})):
    layer = SequenceModel("lstm", 8, H4, 4, **kwargs).rnn
    forget = torch.sigmoid(layer.bias_ih_l0[H4:2 * H4] + layer.bias_hh_l0[H4:2 * H4]).detach()
    kept[label] = (forget ** 20).mean().item()
    print(f"{label:<16} forget gates at the start: {forget.min():.3f} to {forget.max():.3f};"
          f" content kept after 20 steps: {kept[label]:.1e}")
    if not kwargs:
        bound = 2 / math.sqrt(H4)
        assert torch.sigmoid(torch.tensor(-bound)) <= forget.min()
        assert forget.max() <= torch.sigmoid(torch.tensor(bound))
assert kept["PyTorch default"] < 1e-4
assert 1e-3 < kept["forget bias 1"] < 1e-2 and kept["forget bias 3"] > 0.3

# %% [markdown]
# <details>
# <summary>Solution 5</summary>
#
# With $H = 16$ the GRU has about 3/4 of the LSTM's parameters, which should help it if
# having fewer parameters were the reason for its lead on 46 windows. It does not: the
# smaller GRU is no better than the matched one (in our runs a little worse, by 0.5 to
# 3.6 RMSE depending on the seeds), and it stays ahead of the LSTM. Both are asserted
# with margin: the smaller GRU's mean is not more than 1 RMSE better than the matched
# GRU's, and it is below the LSTM's. So the advantage belongs to the architecture (or to
# how it interacts with early stopping on so few windows), not to having fewer
# parameters.
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
keep = round(0.25 * (n_fit - n_val))
recent = slice(n_fit - n_val - keep, n_fit - n_val)
quarter = spots_less[0.25]
print(f"LSTM: H = {spots_hidden['lstm']} already, so its runs are those of claim 2")
gru_16 = np.array([train_sunspots("gru", 16, seed, train_part=recent) for seed in SEEDS_SPOTS])
gap_16, se_16 = difference_with_se(gru_16, quarter["gru"])
print(f"quarter of the data, test RMSE: GRU with H = 16 "
      f"({num_parameters(SequenceModel('gru', 1, 16, 1))} parameters) {gru_16.mean():.2f}; "
      f"GRU with matched H = {spots_hidden['gru']} {quarter['gru'].mean():.2f}; "
      f"LSTM with H = 16 ({spots_budget} parameters) {quarter['lstm'].mean():.2f}")
print(f"H = 16 minus matched GRU: {gap_16:+.2f} ± {se_16:.2f} (standard error)")
assert spots_hidden["lstm"] == 16
assert gru_16.mean() > quarter["gru"].mean() - 1.0   # fewer parameters did not help
assert gru_16.mean() < quarter["lstm"].mean()         # and it is still ahead of the LSTM

# %% [markdown]
# ## References
#
# - Cho, K., van Merriënboer, B., Gulcehre, C., Bahdanau, D., Bougares, F., Schwenk, H., &
#   Bengio, Y. (2014). Learning phrase representations using RNN encoder–decoder for
#   statistical machine translation. In *Proceedings of the 2014 Conference on Empirical
#   Methods in Natural Language Processing (EMNLP)*, 1724–1734.
# - Chung, J., Gulcehre, C., Cho, K., & Bengio, Y. (2014). Empirical evaluation of gated
#   recurrent neural networks on sequence modeling. *NIPS 2014 Workshop on Deep
#   Learning*; arXiv:1412.3555.
# - Elman, J. L. (1990). Finding structure in time. *Cognitive Science*, 14(2), 179–211.
# - Gers, F. A., Schmidhuber, J., & Cummins, F. (2000). Learning to forget: continual
#   prediction with LSTM. *Neural Computation*, 12(10), 2451–2471.
# - Greff, K., Srivastava, R. K., Koutník, J., Steunebrink, B. R., & Schmidhuber, J. (2017).
#   LSTM: a search space odyssey. *IEEE Transactions on Neural Networks and Learning
#   Systems*, 28(10), 2222–2232.
# - Hochreiter, S., & Schmidhuber, J. (1997). Long short-term memory. *Neural
#   Computation*, 9(8), 1735–1780.
# - Jozefowicz, R., Zaremba, W., & Sutskever, I. (2015). An empirical exploration of
#   recurrent network architectures. In *Proceedings of the 32nd International Conference
#   on Machine Learning (ICML)*, PMLR 37, 2342–2350.
# - Kingma, D. P., & Ba, J. (2015). Adam: a method for stochastic optimization. In
#   *International Conference on Learning Representations (ICLR)*.
# - Pascanu, R., Mikolov, T., & Bengio, Y. (2013). On the difficulty of training recurrent
#   neural networks. In *Proceedings of the 30th International Conference on Machine
#   Learning (ICML)*, PMLR 28(3), 1310–1318.
# - Weiss, G., Goldberg, Y., & Yahav, E. (2018). On the practical computational power of
#   finite precision RNNs for language recognition. In *Proceedings of the 56th Annual
#   Meeting of the Association for Computational Linguistics (ACL), Volume 2: Short
#   Papers*, 740–745.
# - Data: yearly sunspot numbers 1700–2008 as shipped with statsmodels
#   (`statsmodels.datasets.sunspots`, BSD licence; the data are in the public domain, from
#   NOAA's National Geophysical Data Center); the Python source text shipped with
#   `rnnbook` (Python Software Foundation licence).

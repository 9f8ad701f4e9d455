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
# # Gated recurrent units (GRU)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/rnnbook/rnnbook/blob/main/chapters/06_gru.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/rnnbook/rnnbook/main?labpath=chapters%2F06_gru.ipynb)
#
# The LSTM of chapter 05 got around the vanishing gradient with a second state vector, the
# cell, guarded by three gates. In 2014, while building an RNN encoder-decoder for
# machine translation, Kyunghyun Cho and his colleagues proposed a leaner unit that keeps the
# essential idea, an additive path along which the state is copied rather than squashed,
# with one state vector and two gates. It is the **gated recurrent unit**, the GRU. This
# chapter builds it, proves our version equal to PyTorch's, untangles the conflicting ways
# it is written, derives how gradients pass through it, and trains it on the temporal-order
# task on which chapter 05's LSTM needed a large forget-gate bias.
#
# **What you will learn**
#
# - the GRU's reset and update gates, its candidate state, and why it needs no separate cell
#   state; why the update gate couples the LSTM's *input and forget* gates (not its input
#   and output gates, as is often written);
# - how to build the cell gate by gate, and a proof that it equals `nn.GRU`;
# - the two GRUs in circulation: Cho et al.'s, with the reset applied *before* the recurrent
#   matrix product, and PyTorch's, with it applied *after*; that they are different
#   functions, and that both learn;
# - a table of conventions (gate order, which way the update gate points, how many biases)
#   for PyTorch, Keras, the papers and this book, with every checkable entry checked;
# - the Jacobian $\partial h_t / \partial h_{t-1}$, derived, and its three limiting cases
#   built with chosen weights and checked against autograd; why gates do not prevent
#   *exploding* gradients;
# - the update-gate bias, the GRU's counterpart of the LSTM's forget-gate bias, measured on
#   the temporal-order task over seeds; and why a GRU at PyTorch's default initialisation
#   learns that task when an LSTM at its default does not;
# - what the gates of a trained GRU really do, unit by unit, and two popular
#   misconceptions, "the GRU has three gates" and "gates are 0 or 1", tested.

# %%
# On Colab, install the book's package first. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "rnnbook @ git+https://github.com/rnnbook/rnnbook"], check=True)

# %% [markdown]
# ## From the LSTM to the GRU
#
# Recall what made the LSTM work. Its cell state is updated additively,
#
# $$c_t = f_t \odot c_{t-1} + i_t \odot g_t,$$
#
# so that along the cell path $\partial c_t / \partial c_{t-1} = \operatorname{diag}(f_t)$:
# when the forget gate is open, information and gradient pass from step to step without
# being multiplied by a weight matrix and squashed by a $\tanh$ each time, which is what made
# the plain RNN of chapter 04 forget.
#
# The GRU makes three simplifications.
#
# 1. **One state.** There is no separate cell: the hidden state $h_t$ is both the memory and
#    the output.
# 2. **Coupled forget and input gates.** The LSTM decides separately how much to keep ($f$)
#    and how much to write ($i$). The GRU uses one **update gate** $z_t$ for both, keeping
#    the fraction $z_t$ of the old state and writing the fraction $1 - z_t$ of a new
#    candidate $n_t$:
#
#    $$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}.$$
#
#    Every unit of $h_t$ is a weighted average of its old value and the candidate, so
#    writing something in means letting an equal share of the old content out.
# 3. **No output gate, but a reset gate.** The LSTM hides part of its cell behind an output
#    gate. The GRU exposes its whole state, and instead controls how much of the old state
#    the *candidate* may look at, through a **reset gate** $r_t$. With $r_t \approx 0$ the
#    candidate is computed from the input alone, as if the sequence started afresh.
#
# ## The equations
#
# Here is the GRU as PyTorch computes it, which is also the form this book uses. The input is
# $x_t \in \mathbb{R}^I$, the state $h_t \in \mathbb{R}^H$, $\sigma$ is the logistic sigmoid
# and $\odot$ the elementwise product:
#
# $$
# \begin{aligned}
# r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) && \text{reset gate}\\
# z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) && \text{update gate}\\
# n_t &= \tanh\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big) && \text{candidate state}\\
# h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1} && \text{new state}
# \end{aligned}
# $$
#
# Each $W_{i\cdot}$ is $H \times I$, each $W_{h\cdot}$ is $H \times H$, and each bias has
# $H$ entries. Read the equations as three regimes, one per unit:
#
# - $z = 1$: the unit ignores everything and keeps its value, $h_t = h_{t-1}$. This is the
#   memory: a value written at step 10 can still be there at step 90.
# - $z = 0$, $r = 1$: $h_t = \tanh(W_{in} x_t + b_{in} + W_{hn} h_{t-1} + b_{hn})$, exactly the
#   plain RNN of chapter 02.
# - $z = 0$, $r = 0$: $h_t = \tanh(W_{in} x_t + b_{in})$, the past is wiped out and the unit
#   takes a value computed from the current input only.
#
# The gates move smoothly between these regimes, and since they depend on $x_t$ and
# $h_{t-1}$, the network decides *at every step and for every unit* which regime to be in.
# The diagram shows the data flow of one step: the state runs along the top, where it is
# only scaled by $z_t$ and added to, never multiplied by a weight matrix; each coloured box
# is a layer with its own weights reading $h_{t-1}$ and $x_t$, and the circles are
# elementwise operations.

# %%
import copy
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Circle, FancyBboxPatch
from torch import nn

import rnnbook
from rnnbook import ChoGRU, ChoGRUCell, SequenceModel, fit, seed_everything
from rnnbook.gradients import gate_trace, jacobian_norms, model_grad_norms
from rnnbook.plot import cell_diagram, gate_histograms

ax = cell_diagram("gru")
ax.set_title("One step of a GRU: the reset gate $r_t$ feeds the candidate $n_t$, and the "
             "update gate $z_t$\nkeeps the old state in proportion $z_t$ and lets the "
             "candidate in with $1 - z_t$", fontsize=10)
plt.show()

# %% [markdown]
# ### Building the cell, gate by gate
#
# `nn.GRU` stores its weights as two stacked matrices, `weight_ih_l0` of shape $(3H, I)$ and
# `weight_hh_l0` of shape $(3H, H)$, plus two bias vectors of $3H$ entries. The code below
# cuts them into their blocks and writes out the four equations, one line each.

# %%
def gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step in PyTorch's form, written gate by gate. x is (B, I), h is (B, H)."""
    W_ir, W_iz, W_in = weight_ih.chunk(3)      # the blocks are stacked in the order r, z, n
    W_hr, W_hz, W_hn = weight_hh.chunk(3)
    b_ir, b_iz, b_in = bias_ih.chunk(3)
    b_hr, b_hz, b_hn = bias_hh.chunk(3)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)       # reset gate
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)       # update gate
    n = torch.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))    # candidate state
    return (1 - z) * n + z * h                                     # new state


def below(value, bound=1e-6):
    """Show a difference that should be rounding error as a bound: its low digits change
    from machine to machine, the bound does not."""
    return f"below {bound:.0e}" if value < bound else f"{value:.1e}, NOT below {bound:.0e}"


def above(value, bound):
    """Show a difference that must be large as a bound: its digits depend on the random
    weights, the bound holds for every seed."""
    return f"above {bound:g}" if value > bound else f"{value:.4f}, NOT above {bound:g}"


def run(step, x, *weights):
    """Apply `step` along a sequence x of shape (T, B, I) from h_0 = 0; return all h_t."""
    h = x.new_zeros(x.size(1), weights[1].size(1))
    outputs = []
    for x_t in x:
        h = step(x_t, h, *weights)
        outputs.append(h)
    return torch.stack(outputs)


# %% [markdown]
# Now the test. We create an `nn.GRU`, hand its weights to our function, and run both on the
# same random sequence. If our equations, or our guess of the block order, were wrong, the
# outputs would disagree. As a control, we also run our function with the first two blocks
# swapped, as if the order were $z, r, n$ (Keras's order, as we will see). The printed
# gaps are bounds, so that this cell prints the same on every machine and for every seed;
# the asserts hold the same bounds.

# %% tags=["nbval-check-output"]
seed_everything(0)
torch_gru = nn.GRU(input_size=3, hidden_size=8)
x = torch.randn(20, 5, 3)                                    # T=20 steps, a batch of 5
weights = (torch_gru.weight_ih_l0, torch_gru.weight_hh_l0,
           torch_gru.bias_ih_l0, torch_gru.bias_hh_l0)


def swap_r_and_z(w):
    r, z, n = w.chunk(3)
    return torch.cat([z, r, n])


with torch.no_grad():
    expected, _ = torch_gru(x)
    ours = run(gru_step, x, *weights)
    wrong_order = run(gru_step, x, *(swap_r_and_z(w) for w in weights))
    book_gru = rnnbook.GRU(3, 8)
    book_gru.load_state_dict(torch_gru.state_dict())
    book, _ = book_gru(x)

err_ours = (ours - expected).abs().max().item()
err_wrong = (wrong_order - expected).abs().max().item()
err_book = (book - expected).abs().max().item()
print(f"gate by gate vs nn.GRU:          max |difference| {below(err_ours)}")
print(f"rnnbook.GRU vs nn.GRU:           max |difference| {below(err_book)}")
print(f"blocks read as z, r, n instead:  max |difference| {above(err_wrong, 0.01)}")
assert err_ours < 1e-6 and err_book < 1e-6
assert err_wrong > 0.01

# %% [markdown]
# Our four lines reproduce `nn.GRU` to the last few bits of single precision, over twenty
# steps and five sequences, and so does the package's `rnnbook.GRU`, which runs the same
# equations (`rnnbook.gates.gru_step`, the one place the package writes them) and loads
# PyTorch's `state_dict` directly. Reading the blocks in the wrong order gives outputs that
# are off by far more than rounding: the order $r, z, n$ is not a convention we chose, it
# is a fact about PyTorch's weight layout, and now a tested one.
#
# > **Common mistake.** "The GRU has three gates." It is easy to see where this comes from:
# > a GRU layer has three blocks of weights, and PyTorch's own documentation calls $r_t$,
# > $z_t$ and $n_t$ "the reset, update, and new gates". But $n_t$ is not a gate. A gate is a
# > vector of numbers in $(0, 1)$ that *multiplies* another signal to let a fraction of it
# > through; $n_t$ comes out of a $\tanh$ and is the signal itself, the content that gets
# > written. The cell above, with exactly two sigmoids, reproduced `nn.GRU`, so there is no
# > third gate hidden anywhere; the trained model at the end of the chapter shows the
# > candidate taking negative values as often as the task needs. (The LSTM has the same
# > structure with four blocks: three gates and a candidate.) The cell below looks at the
# > three values each step of that same layer computes, with `rnnbook.gradients.gate_trace`:
# > $r$ and $z$ stay inside $(0, 1)$, as gates must, while $n$ takes negative values, which
# > no gate can.

# %% tags=["nbval-check-output"]
with torch.no_grad():
    inside = gate_trace(book_gru, x)                 # r, z, n, h at every step: (B, T, H)
trace_gap = (inside["h"] - expected.transpose(0, 1)).abs().max().item()
print(f"the traced h vs nn.GRU's output: max |difference| {below(trace_gap)}")
for name in ("r", "z", "n"):
    v = inside[name]
    print(f"{name}: every value inside (0, 1): {bool((v > 0).all() and (v < 1).all())!s:5}  "
          f"some values negative: {bool((v < 0).any())}")
assert trace_gap < 1e-6
for name in ("r", "z"):            # a sigmoid's range: an illustration, not evidence
    assert ((inside[name] > 0) & (inside[name] < 1)).all()
assert (inside["n"] < 0).float().mean() > 0.1         # a signal, not a gate

# %% [markdown]
# Counting the parameters of one layer: three blocks, each with an $H \times I$ input
# matrix, an $H \times H$ recurrent matrix and two bias vectors,
#
# $$P_\text{GRU} = 3\,(HI + H^2 + 2H),$$
#
# three quarters of an LSTM's $4\,(HI + H^2 + 2H)$ at the same sizes.

# %% tags=["nbval-check-output"]
for I, H in [(1, 1), (3, 8), (10, 64), (64, 256)]:
    gru_params = sum(p.numel() for p in nn.GRU(I, H).parameters())
    lstm_params = sum(p.numel() for p in nn.LSTM(I, H).parameters())
    print(f"I={I:>3} H={H:>3}: GRU {gru_params:>7,}  LSTM {lstm_params:>7,}  "
          f"ratio {gru_params / lstm_params:.2f}")
    assert gru_params == 3 * (H * I + H * H + 2 * H)
    assert lstm_params == 4 * (H * I + H * H + 2 * H)

# %% [markdown]
# > **Common mistake.** "The update gate combines the LSTM's input and *output* gates." It
# > combines the input and **forget** gates: $z_t$ plays the forget gate (how much of the
# > old state to keep) and $1 - z_t$ the input gate (how much of the candidate to write).
# > There is no output gate at all: the GRU's state is its output. The next cell checks
# > this with PyTorch's own LSTM cell. We build an `nn.LSTMCell` whose forget gate has the
# > GRU's update-gate weights, whose input gate has the same weights negated (so that
# > $i = \sigma(-a) = 1 - \sigma(a) = 1 - f$: an LSTM with coupled input and forget gates),
# > and whose candidate has the GRU's candidate weights. With the GRU's reset gate held
# > open ($r = 1$, by a large bias) and the LSTM's cell started at the GRU's state, the
# > LSTM's new **cell** state is exactly the GRU's new state, while the LSTM's output,
# > $o \odot \tanh(c)$, is not: the output gate and the $\tanh$ are what the GRU leaves out.

# %% tags=["nbval-check-output"]
seed_everything(0)
I, H = 3, 8
gru_cell = nn.GRUCell(I, H, dtype=torch.float64)
lstm_cell = nn.LSTMCell(I, H, dtype=torch.float64)          # blocks i, f, g, o
with torch.no_grad():
    gru_cell.bias_ih[:H] = 40.0                               # reset gate r = 1
    for lstm_w, gru_w in ((lstm_cell.weight_ih, gru_cell.weight_ih),
                          (lstm_cell.weight_hh, gru_cell.weight_hh),
                          (lstm_cell.bias_ih, gru_cell.bias_ih),
                          (lstm_cell.bias_hh, gru_cell.bias_hh)):
        _, gru_z, gru_n = gru_w.chunk(3)
        lstm_w[:H] = -gru_z                                   # input gate: 1 - z
        lstm_w[H:2 * H] = gru_z                               # forget gate: z
        lstm_w[2 * H:3 * H] = gru_n                           # candidate: n (with r = 1)
    x_t = torch.randn(5, I, dtype=torch.float64)
    h = torch.randn(5, H, dtype=torch.float64).tanh()
    gru_new = gru_cell(x_t, h)
    lstm_h, lstm_c = lstm_cell(x_t, (h, h))                   # the cell starts at the GRU's h
cell_gap = (lstm_c - gru_new).abs().max().item()
output_gap = (lstm_h - gru_new).abs().max().item()
print(f"LSTM with f = z, i = 1 - z: its new cell state vs the GRU's new state: "
      f"{below(cell_gap, 1e-12)}")
print(f"                            its output o * tanh(c) vs the GRU's new state: "
      f"{above(output_gap, 0.1)}")
assert cell_gap < 1e-12 and output_gap > 0.1

# %% [markdown]
# So a GRU is, in its update, an LSTM whose input and forget gates are tied, and which
# shows its cell directly instead of through an output gate. (Greff et al. (2017) studied
# the LSTM with coupled input and forget gates, "CIFG", and found it cost little.) The one
# genuinely new piece is the reset gate, and where it sits is the subject of the next
# section.
#
# ## Two GRUs: Cho et al.'s and PyTorch's
#
# If you read the paper that introduced the GRU (Cho et al. 2014, *Learning phrase
# representations using RNN encoder-decoder for statistical machine translation*), you
# find a different candidate. Written with our names, the paper's candidate is
#
# $$n_t = \tanh\big(W_{in} x_t + W_{hn} (r_t \odot h_{t-1})\big),$$
#
# with the reset gate applied to the state **before** the matrix product; PyTorch applies it
# **after**, to $W_{hn} h_{t-1} + b_{hn}$. (Keras's documentation traces the reset-after
# form to the first arXiv version of Cho et al.'s paper; its later version, v3, applies
# the reset before.) The two are not the same function: in Cho's form unit $j$ of the
# candidate sees $\sum_k (W_{hn})_{jk}\, r_k h_k$, each old unit filtered by *its own* reset
# gate, while in PyTorch's form it sees $r_j \sum_k (W_{hn})_{jk} h_k$, the whole sum scaled
# by the reset gate of the *receiving* unit. The figure puts the two side by side.

# %%
def candidate_diagram(ax, reset):
    """Draw how the GRU's candidate n_t is computed, with the reset gate r_t applied
    after the product with W_hn (reset="after", PyTorch) or before it ("before", Cho)."""
    def box(x, text, width, color="#dfe7ee"):
        ax.add_patch(FancyBboxPatch((x - width / 2, -0.35), width, 0.7, fc=color,
                                    ec="#333333", lw=1.2,
                                    boxstyle="round,pad=0.02,rounding_size=0.1"))
        ax.text(x, 0, text, ha="center", va="center", fontsize=10)

    def op(x, text):
        ax.add_patch(Circle((x, 0), 0.3, fc="white", ec="#333333", lw=1.2, zorder=3))
        ax.text(x, 0, text, ha="center", va="center", fontsize=12, zorder=4)

    def arrow(start, end, color="#333333"):
        ax.annotate("", xy=end, xytext=start, arrowprops={
            "arrowstyle": "-|>", "color": color, "lw": 1.5, "shrinkA": 0, "shrinkB": 0})

    ax.text(-0.2, 0, "$h_{t-1}$", ha="right", va="center", fontsize=13)
    if reset == "after":                  # r * (W_hn h + b_hn)
        box(1.6, "$W_{hn} h_{t-1} + b_{hn}$", 2.8)
        op(4.0, r"$\odot$")
        arrow((-0.1, 0), (0.2, 0))
        arrow((3.0, 0), (3.7, 0))
        arrow((4.3, 0), (5.2, 0))
        r_x, title = 4.0, "PyTorch and cuDNN: the reset after the product"
        note = ("$W_{hn} h_{t-1}$ needs only $h_{t-1}$: one $(3H \\times H)$ product\n"
                "computes it together with $W_{hr} h_{t-1}$ and $W_{hz} h_{t-1}$")
    else:                                 # W_hn (r * h) + b_hn
        op(0.5, r"$\odot$")
        box(3.0, "$W_{hn} (r_t \\odot h_{t-1}) + b_{hn}$", 3.4)
        arrow((-0.1, 0), (0.2, 0))
        arrow((0.8, 0), (1.3, 0))
        arrow((4.7, 0), (5.2, 0))
        r_x, title = 0.5, "Cho et al. (2014): the reset before the product"
        note = ("$W_{hn}$ must wait for $r_t$, which needs $W_{hr} h_{t-1}$ first:\n"
                "two matrix products per step, one after the other")
    ax.text(r_x, 1.6, "$r_t$", ha="center", va="center", fontsize=13, color="#7a3d8f")
    arrow((r_x, 1.3), (r_x, 0.3), color="#7a3d8f")
    op(5.5, "+")
    ax.text(5.5, -1.6, "$W_{in} x_t + b_{in}$", ha="center", va="center", fontsize=12)
    arrow((5.5, -1.3), (5.5, -0.3))
    box(7.1, "tanh", 1.1, color="#f2c14e")
    arrow((5.8, 0), (6.55, 0))
    arrow((7.65, 0), (8.3, 0))
    ax.text(8.4, 0, "$n_t$", ha="left", va="center", fontsize=13)
    ax.text(4.0, -2.4, note, ha="center", va="top", fontsize=9.5, style="italic")
    ax.set_title(title, fontsize=11)
    ax.set(xlim=(-1.3, 9.2), ylim=(-3.4, 2.0), aspect="equal")
    ax.axis("off")


fig, axes = plt.subplots(1, 2, figsize=(13, 3.3))
candidate_diagram(axes[0], "after")
candidate_diagram(axes[1], "before")
fig.suptitle("The one difference between the two GRUs: where the reset gate meets $W_{hn}$",
             y=1.04)
plt.show()

# %% [markdown]
# Why would PyTorch (and NVIDIA's cuDNN, whose GRU PyTorch follows) change the equations?
# The reset-after form has a practical advantage, the usual explanation for cuDNN's
# choice, and the notes under the figure say it: with the reset after the product, the
# three recurrent products $W_{hr} h$, $W_{hz} h$, $W_{hn} h$ are independent of each other
# and become one $(3H \times H)$ matrix product per step. With the reset before it,
# $W_{hn} (r \odot h)$ cannot start until $r$ is known, so every step needs two matrix
# products in sequence.
#
# The package has Cho's form as `rnnbook.ChoGRU`, with exactly the parameters of `nn.GRU`,
# so the same weights can be loaded into both (its step is `rnnbook.gates.cho_gru_step`;
# the extra bias $b_{hn}$ is simply added outside the product). Same weights, same input,
# two functions:

# %% tags=["nbval-check-output"]
seed_everything(0)
torch_gru = nn.GRU(input_size=3, hidden_size=32)
cho_gru = ChoGRU(input_size=3, hidden_size=32)
cho_gru.load_state_dict(torch_gru.state_dict())
x = torch.randn(50, 8, 3)
with torch.no_grad():
    gap = (torch_gru(x)[0] - cho_gru(x)[0]).abs()
print(f"same weights, PyTorch's form vs Cho's form over 50 steps: "
      f"max |difference| {above(gap.max().item(), 0.05)}")
assert gap.max() > 0.05

# %% [markdown]
# The outputs, which lie in $(-1, 1)$, differ by more than 0.05 somewhere (by about a tenth
# in the run stored here): not a rounding effect, a different model. A state dict trained
# in one form and loaded into the other will therefore give wrong predictions without any
# error message, which is worth knowing when you move a GRU between frameworks.
#
# When *do* the two agree? The reset commutes with the product exactly when $W_{hn}$ is
# diagonal, since then $r \odot (D h) = D (r \odot h)$; and $b_{hn}$ must be zero, because
# PyTorch gates it and Cho does not. Checking that boundary case tests that the difference
# comes from where the reset sits, and from nothing else:

# %% tags=["nbval-check-output"]
with torch.no_grad():
    diagonal = copy.deepcopy(torch_gru)
    diagonal.weight_hh_l0[64:] = torch.diag(torch.randn(32))    # W_hn diagonal
    diagonal.bias_hh_l0[64:] = 0.0                               # b_hn = 0
    cho_gru.load_state_dict(diagonal.state_dict())
    gap_diagonal = (diagonal(x)[0] - cho_gru(x)[0]).abs().max().item()
print(f"W_hn diagonal and b_hn = 0: max |difference| {below(gap_diagonal)}")
assert gap_diagonal < 1e-6

# %% [markdown]
# Both forms learn, as the experiment later in this chapter shows: trained from the same
# initial weights on the same data, both solve the temporal-order task.
#
# ## A table of conventions
#
# The GRU is written at least four ways in the literature and in code, and the differences
# are not cosmetic: each one changes which number goes where. Here they are side by side.
#
# | | **PyTorch `nn.GRU`, this book** | **Cho et al. 2014** | **Chung et al. 2014** | **Keras `GRU`, `reset_after=True`** (TF 2 default) | **Keras `GRU`, `reset_after=False`** |
# |---|---|---|---|---|---|
# | weight blocks | $r, z, n$, stacked as rows: `weight_ih_l0` is $(3H, I)$ | separate matrices | separate matrices | $z, r, h$, side by side as columns: `kernel` is $(I, 3H)$ | $z, r, h$ as columns |
# | new state | $(1 - z) \odot n + z \odot h_{t-1}$ | $z \odot h_{t-1} + (1 - z) \odot \tilde h$ | $(1 - z) \odot h_{t-1} + z \odot \tilde h$ | $z \odot h_{t-1} + (1 - z) \odot \tilde h$ | as left |
# | $z = 1$ means | keep the old state | keep | **take the new candidate** | keep | keep |
# | reset applied | after the product: $r \odot (W_{hn} h + b_{hn})$ | before: $W (r \odot h)$ | before | after | before |
# | biases | two per block, `bias_ih` and `bias_hh`: $3(HI + H^2 + 2H)$ parameters | omitted in the equations | omitted | two per block, `bias` is $(2, 3H)$: $3(HI + H^2 + 2H)$ | one per block: $3(HI + H^2 + H)$ |
#
# For the LSTM the layouts agree more: PyTorch stacks the blocks as $i, f, g, o$, and Keras
# places them as $i, f, c, o$ (its $c$ is our candidate $g$). PyTorch keeps two bias
# vectors, $4(HI + H^2 + 2H)$ parameters, and Keras one, $4(HI + H^2 + H)$, initialising
# the forget part to 1 (`unit_forget_bias=True`).
#
# Some of these entries come from other frameworks' documentation, which we cannot run
# here. The ones that hold in PyTorch we check. The GRU's block order was checked above;
# here is the LSTM's, by reconstructing `nn.LSTMCell`'s output from its chunks:

# %% tags=["nbval-check-output"]
seed_everything(0)
lstm = nn.LSTMCell(3, 4)
x_t, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
with torch.no_grad():
    pre = x_t @ lstm.weight_ih.T + lstm.bias_ih + h @ lstm.weight_hh.T + lstm.bias_hh
    i, f, g, o = pre.chunk(4, dim=-1)                    # PyTorch's order: i, f, g, o
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    h_torch, c_torch = lstm(x_t, (h, c))
lstm_err = max((h_new - h_torch).abs().max().item(), (c_new - c_torch).abs().max().item())
print(f"LSTM rebuilt from chunks i, f, g, o: max |difference| {below(lstm_err)}")
assert lstm_err < 1e-6

# %% [markdown]
# **Which way $z$ points does not matter, as long as you know.** Chung et al.'s GRU, where
# $z = 1$ takes the new candidate, is not a different model: since
# $1 - \sigma(a) = \sigma(-a)$, flipping the sign of the update gate's weights and biases
# turns one convention into the other. So a GRU written Chung's way, given PyTorch's weights
# with the $z$ block negated, must compute exactly what `nn.GRU` computes:

# %% tags=["nbval-check-output"]
def gru_step_z_takes_new(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """The GRU as Chung et al. (2014) write it: z = 1 takes the candidate."""
    W_ir, W_iz, W_in = weight_ih.chunk(3)
    W_hr, W_hz, W_hn = weight_hh.chunk(3)
    b_ir, b_iz, b_in = bias_ih.chunk(3)
    b_hr, b_hz, b_hn = bias_hh.chunk(3)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    n = torch.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))
    return (1 - z) * h + z * n                   # the other way round


def negate_z(w):
    r, z, n = w.chunk(3)
    return torch.cat([r, -z, n])


seed_everything(0)
torch_gru = nn.GRU(input_size=3, hidden_size=8)
x = torch.randn(20, 5, 3)
weights = (torch_gru.weight_ih_l0, torch_gru.weight_hh_l0,
           torch_gru.bias_ih_l0, torch_gru.bias_hh_l0)
with torch.no_grad():
    expected, _ = torch_gru(x)
    flipped = run(gru_step_z_takes_new, x, *(negate_z(w) for w in weights))
    not_flipped = run(gru_step_z_takes_new, x, *weights)
err_flipped = (flipped - expected).abs().max().item()
err_not_flipped = (not_flipped - expected).abs().max().item()
print(f"z takes the new, with z's weights negated: max |difference| {below(err_flipped)}")
print(f"z takes the new, weights as they are:      max |difference| "
      f"{above(err_not_flipped, 0.05)}")
assert err_flipped < 1e-6 and err_not_flipped > 0.05

# %% [markdown]
# The direction of $z$ is a relabelling; the place of the reset is a different model. The
# bias question is subtler. In PyTorch's form, $b_{ir}$ and $b_{hr}$ always appear as a sum,
# and so do $b_{iz}$ and $b_{hz}$: two of the six bias vectors are redundant. But $b_{hn}$
# sits inside the reset, $r \odot (W_{hn} h + b_{hn})$, so it is *not* interchangeable with
# $b_{in}$. In Cho's form it is, which is why Keras's reset-before GRU loses nothing with a
# single bias per block. Moving one bias into its partner, and checking what changes:

# %% tags=["nbval-check-output"]
def move_bias(layer, block):
    """A copy of a GRU layer with block `block` (0=r, 1=z, 2=n) of bias_hh moved into bias_ih."""
    moved = copy.deepcopy(layer)
    H = layer.hidden_size
    with torch.no_grad():
        rows = slice(block * H, (block + 1) * H)
        moved.bias_ih_l0[rows] += moved.bias_hh_l0[rows]
        moved.bias_hh_l0[rows] = 0.0
    return moved


seed_everything(0)
torch_gru = nn.GRU(input_size=3, hidden_size=8)
cho_gru = ChoGRU(input_size=3, hidden_size=8)
cho_gru.load_state_dict(torch_gru.state_dict())
x = torch.randn(20, 5, 3)
with torch.no_grad():
    changes = {(name, block): (move_bias(layer, block)(x)[0] - layer(x)[0]).abs().max().item()
               for name, layer in [("PyTorch's form", torch_gru), ("Cho's form", cho_gru)]
               for block in range(3)}
for (name, block), change in changes.items():
    bound = below(change) if change < 1e-6 or block < 2 else above(change, 1e-3)
    print(f"{name:<15} move b_h{'rzn'[block]} into b_i{'rzn'[block]}: output changes by {bound}")
assert all(change < 1e-6 for (name, block), change in changes.items() if block < 2)
assert changes[("Cho's form", 2)] < 1e-6
assert changes[("PyTorch's form", 2)] > 1e-3

# %% [markdown]
# Moving the $r$ and $z$ biases changes nothing in either form (up to rounding), and moving
# the candidate's bias changes nothing in Cho's form, but it does change PyTorch's. So a
# PyTorch GRU layer carries $2H$ redundant parameters, not $3H$, and converting a Keras
# `reset_after=False` model to PyTorch is not a matter of copying weights: the reset sits
# in a different place, and no choice of PyTorch weights reproduces it in general.
#
# ## How gradients flow through one step
#
# Chapter 04 showed that a plain RNN forgets because the gradient reaching step $t - k$ is
# a product of $k$ Jacobians $\partial h_s / \partial h_{s-1}$, each one a weight matrix
# scaled by $\tanh'$. What does the GRU's Jacobian look like? Write $h = h_{t-1}$, drop the
# index $t$ from the gates, and let $a = W_{hn} h + b_{hn}$, so that
# $n = \tanh(W_{in} x + b_{in} + r \odot a)$. The new state
# $h_t = (1 - z) \odot n + z \odot h$ depends on $h$ directly and through $z$ and $n$, so
# by the product rule
#
# $$
# \frac{\partial h_t}{\partial h} =
# \underbrace{\operatorname{diag}(z)}_{\text{copy path}}
# + \underbrace{\operatorname{diag}(1 - z)\, \frac{\partial n}{\partial h}}_{\text{through the candidate}}
# + \underbrace{\operatorname{diag}(h - n)\, \frac{\partial z}{\partial h}}_{\text{through the update gate}}.
# $$
#
# The gates contribute through the sigmoid's derivative $\sigma' = \sigma (1 - \sigma)$:
#
# $$
# \frac{\partial z}{\partial h} = \operatorname{diag}\big(z \odot (1 - z)\big)\, W_{hz},
# \qquad
# \frac{\partial r}{\partial h} = \operatorname{diag}\big(r \odot (1 - r)\big)\, W_{hr},
# $$
#
# and the candidate through $\tanh' = 1 - \tanh^2$ and, again, the product rule on
# $r \odot a$:
#
# $$
# \frac{\partial n}{\partial h} = \operatorname{diag}(1 - n \odot n)
# \Big[\operatorname{diag}(r)\, W_{hn} + \operatorname{diag}(a)\, \frac{\partial r}{\partial h}\Big].
# $$
#
# The first term, $\operatorname{diag}(z)$, is the GRU's version of the LSTM's
# $\operatorname{diag}(f)$: a path with no weight matrix and no squashing on it. Let us code
# the formula and check it against autograd, in double precision, at random weights.

# %% tags=["nbval-check-output"]
def gru_jacobian(cell, x, h):
    """The analytic dh_t/dh_{t-1} of an nn.GRUCell at one unbatched (x, h)."""
    W_ir, W_iz, W_in = cell.weight_ih.chunk(3)
    W_hr, W_hz, W_hn = cell.weight_hh.chunk(3)
    b_ir, b_iz, b_in = cell.bias_ih.chunk(3)
    b_hr, b_hz, b_hn = cell.bias_hh.chunk(3)
    r = torch.sigmoid(W_ir @ x + b_ir + W_hr @ h + b_hr)
    z = torch.sigmoid(W_iz @ x + b_iz + W_hz @ h + b_hz)
    a = W_hn @ h + b_hn
    n = torch.tanh(W_in @ x + b_in + r * a)
    dz = (z * (1 - z))[:, None] * W_hz                      # diag(z(1-z)) W_hz
    dr = (r * (1 - r))[:, None] * W_hr                      # diag(r(1-r)) W_hr
    dn = (1 - n * n)[:, None] * (r[:, None] * W_hn + a[:, None] * dr)
    return torch.diag(z) + (1 - z)[:, None] * dn + (h - n)[:, None] * dz


def autograd_jacobian(cell, x, h):
    return torch.autograd.functional.jacobian(lambda state: cell(x, state), h)


seed_everything(0)
I, H = 3, 8
cell = nn.GRUCell(I, H, dtype=torch.float64)
x_t = torch.randn(I, dtype=torch.float64)
h = torch.randn(H, dtype=torch.float64)
with torch.no_grad():
    jac_formula = gru_jacobian(cell, x_t, h)
jac_autograd = autograd_jacobian(cell, x_t, h)
jac_err = (jac_formula - jac_autograd).abs().max().item()
print(f"formula vs autograd at random weights: max |difference| {below(jac_err, 1e-12)}")
assert jac_err < 1e-12

# %% [markdown]
# The formula agrees with autograd to the precision of double arithmetic. Now the three
# regimes. We keep the same random weights and only set the input biases of the gates:
# $+20$ drives a gate to $\sigma(20) \approx 1 - 2 \cdot 10^{-9}$, and $-20$ drives it to
# $\approx 2 \cdot 10^{-9}$. Then the formula predicts:
#
# - $z \to 1$: $1 - z \to 0$ and $z (1 - z) \to 0$, so
#   $\partial h_t / \partial h_{t-1} \to I$. The gradient is passed back unchanged, just as
#   the state is passed forward unchanged.
# - $z \to 0$, $r \to 0$: $\operatorname{diag}(z) \to 0$, $z(1 - z) \to 0$, $r \to 0$ and
#   $r(1 - r) \to 0$, so $\partial h_t / \partial h_{t-1} \to 0$. The state was reset, and
#   no gradient flows into a past that was deliberately forgotten.
# - $z \to 0$, $r \to 1$: only $\operatorname{diag}(1 - n \odot n)\, W_{hn}$ survives, the
#   Jacobian of a plain $\tanh$ RNN with recurrent matrix $W_{hn}$, vanishing and exploding
#   included.

# %% tags=["nbval-check-output"]
def with_gates(cell, reset_bias, update_bias):
    """A copy of `cell` whose reset and update gates are pushed by these input biases."""
    saturated = copy.deepcopy(cell)
    H = cell.hidden_size
    with torch.no_grad():
        saturated.bias_ih[:H] = reset_bias
        saturated.bias_ih[H:2 * H] = update_bias
    return saturated


W_hn = cell.weight_hh[2 * H:].detach()
cases = {}
for name, reset_bias, update_bias in [("z -> 1", 0.0, 20.0),
                                      ("z -> 0, r -> 0", -20.0, -20.0),
                                      ("z -> 0, r -> 1", 20.0, -20.0)]:
    saturated = with_gates(cell, reset_bias, update_bias)
    jac = autograd_jacobian(saturated, x_t, h)
    with torch.no_grad():
        n = saturated(x_t, h)                       # with z = 0 the new state is n
        limit = {"z -> 1": torch.eye(H),                          # the identity
                 "z -> 0, r -> 0": torch.zeros(H, H),             # nothing
                 "z -> 0, r -> 1": (1 - n * n)[:, None] * W_hn,   # a tanh RNN's Jacobian
                 }[name]
        formula_err = (gru_jacobian(saturated, x_t, h) - jac).abs().max().item()
    limit_err = (jac - limit).abs().max().item()
    cases[name] = jac
    print(f"{name:<15} autograd vs limit {below(limit_err)}, "
          f"vs formula {below(formula_err, 1e-12)}")
    assert limit_err < 1e-6 and formula_err < 1e-12

fig, axes = plt.subplots(1, 4, figsize=(12, 3.2))
panels = {"random weights": jac_autograd, **cases}
for ax, (name, jac) in zip(axes, panels.items(), strict=True):
    image = ax.imshow(jac.numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set(title=name.replace("->", "→"), xticks=[], yticks=[])
axes[0].set_ylabel("unit of $h_t$")
fig.colorbar(image, ax=axes, shrink=0.8, label="$\\partial h_t / \\partial h_{t-1}$")
fig.suptitle("The GRU's step Jacobian in its three regimes (autograd)", y=1.02)
plt.show()

# %% [markdown]
# The pictures say it at a glance: the identity (perfect memory), nothing (reset), and a
# dense matrix (a plain RNN step). At random weights, the first panel, the Jacobian is a
# mixture: a strong diagonal, the copy path, with smaller off-diagonal entries from the
# candidate and the gates.
#
# ### Over many steps, the update gate sets the memory
#
# One step tells only half the story; what matters is the product of $T$ of them,
# $\partial h_T / \partial h_0$. `rnnbook.gradients.jacobian_norms` multiplies the step
# Jacobians along a sequence and returns the spectral norm $\lVert \partial h_t / \partial h_0 \rVert_2$
# for every $t$. We compare a GRU whose update gates lean towards keeping ($b_z = +3$,
# $z \approx 0.95$), towards overwriting ($b_z = -3$) and in between ($b_z = 0$), all with
# PyTorch's default random weights otherwise, and a plain $\tanh$ RNN of the same size.

# %%
T, H = 100, 32
norms = {}
for update_bias in (3.0, 0.0, -3.0):
    seed_everything(0)
    cell = nn.GRUCell(2, H, dtype=torch.float64)
    with torch.no_grad():
        cell.bias_ih[H:2 * H] = update_bias
        cell.bias_hh[H:2 * H] = 0.0
    x_seq = torch.randn(T, 2, dtype=torch.float64)
    norms[f"GRU, b_z = {update_bias:g}"] = jacobian_norms(cell, x_seq,
                                                          torch.zeros(H, dtype=torch.float64))
seed_everything(0)
rnn_cell = nn.RNNCell(2, H, dtype=torch.float64)
x_seq = torch.randn(T, 2, dtype=torch.float64)
norms["tanh RNN"] = jacobian_norms(rnn_cell, x_seq, torch.zeros(H, dtype=torch.float64))

for name, values in norms.items():
    print(f"{name:<18} ||dh_t/dh_0|| at t=10: {values[9]:.1e}, t=50: {values[49]:.1e}, "
          f"t=100: {values[99]:.1e}")
keep, middle, overwrite = (norms[f"GRU, b_z = {b:g}"][-1] for b in (3.0, 0.0, -3.0))
# Thresholds calibrated on ten seeds: keep was 0.038-0.059, middle at most 2e-18,
# the RNN at most 2e-19, overwrite at most 3e-46.
assert keep > 1e-2 and keep > 1e15 * middle and middle > 1e15 * overwrite
assert keep > 1e15 * norms["tanh RNN"][-1]
assert middle < 1e-15 and norms["tanh RNN"][-1] < 1e-15       # both vanish

fig, ax = plt.subplots(figsize=(7, 3.8))
for (name, values), style in zip(norms.items(), ["-", "-", "-", "--"], strict=True):
    ax.semilogy(range(1, T + 1), values.numpy(), style, label=name)
ax.set(xlabel="step $t$", ylabel="$\\|\\partial h_t / \\partial h_0\\|_2$",
       title="How far back the gradient reaches, at initialisation")
ax.legend()
plt.show()

# %% [markdown]
# With $b_z = +3$ the norm after 100 steps is still above $10^{-2}$. With $b_z = 0$ it has
# fallen below $10^{-15}$, the same vanishing regime as the plain RNN, and with $b_z = -3$,
# where the GRU overwrites most of its state at each step, it is smaller still by more
# than fifteen orders of magnitude. (These are the bounds the cell asserts; the digits it
# prints depend on the random weights, and over ten seeds the ordering never changed.)
# Two lessons. First, the update gate is the knob that sets how far back information and
# gradient reach, and the network can turn it unit by unit and step by step. Second, a GRU
# at PyTorch's default initialisation, where every bias is small and $z \approx 0.5$, does
# *not* start out with a long memory. An update-gate bias thus plays the role for the GRU
# that the forget-gate bias plays for the LSTM in chapter 05; we measure its effect on
# training below.
#
# ### Gates do not prevent exploding gradients
#
# > **Common mistake.** "LSTMs and GRUs solve the vanishing *and exploding* gradient
# > problem." Gates give the gradient a path that is not multiplied by a weight matrix, the
# > $\operatorname{diag}(z)$ above, which helps against *vanishing*. They do not bound the
# > other paths. The Jacobian is $\operatorname{diag}(z)$ *plus* the path through the
# > candidate, $\operatorname{diag}(1 - z)\operatorname{diag}(1 - n^2)\operatorname{diag}(r) W_{hn}$,
# > and nothing stops $W_{hn}$ from being large. The next cell builds a GRU with every gate
# > at its most ordinary value, $z = r = \sigma(0) = 1/2$ (all biases zero), zero input,
# > and the state at rest at $h = 0$, where $n = 0$ and the Jacobian is exactly
# > $\tfrac12 I + \tfrac14 W_{hn}$. With $W_{hn} = 4Q$, $Q$ a random symmetric orthogonal
# > matrix with eigenvalues $\pm 1$, the Jacobian's eigenvalues are $1.5$ and $-0.5$, and
# > the gradient over $T$ steps grows as $1.5^T$, a factor of about $4 \cdot 10^{17}$
# > over 100 steps.

# %% tags=["nbval-check-output"]
seed_everything(0)
H, T = 32, 100
exploding = nn.GRUCell(2, H, dtype=torch.float64)
U, _ = torch.linalg.qr(torch.randn(H, H, dtype=torch.float64))        # a random rotation
signs = torch.tensor([1.0, -1.0], dtype=torch.float64).repeat(H // 2)
with torch.no_grad():
    exploding.bias_ih.zero_()
    exploding.bias_hh.zero_()
    exploding.weight_hh[2 * H:] = 4 * U @ torch.diag(signs) @ U.T    # W_hn = 4Q
growth = jacobian_norms(exploding, torch.zeros(T, 2, dtype=torch.float64),
                        torch.zeros(H, dtype=torch.float64))
relative_err = (growth / 1.5 ** torch.arange(1, T + 1, dtype=torch.float64) - 1).abs().max().item()
print(f"||dh_T/dh_0|| after {T} steps: {growth[-1]:.3e} (1.5^{T} = {1.5 ** T:.3e}); "
      f"largest relative gap to 1.5^t over all t: {below(relative_err, 1e-9)}")
assert growth[-1] > 1e17 and relative_err < 1e-9

# %% [markdown]
# Every gate sat in its middle, and the gradient still grew by seventeen orders of
# magnitude: a GRU, like an LSTM, can have an exploding gradient, and chapter 05 shows the
# same for the LSTM. That is why this book clips the gradient norm of its gated networks
# (`clip_norm=1.0` in every training run below), as Pascanu et al. (2013) recommend for
# recurrent networks of every kind. A related claim, that exploding gradients are "caused
# by too high a learning rate", confuses two things: the gradient above was computed at
# fixed weights, with no learning rate anywhere; it is a property of the weights and the
# state. A large learning rate can carry the weights into such a region, and a large step
# can wreck training even where the gradient is tame, but it does not make a gradient
# explode. Chapter 04 measures clipping and step sizes in detail.
#
# ## Training: the update-gate bias, over seeds
#
# Now a task where the memory matters: the **temporal-order task** of Hochreiter &
# Schmidhuber (1997, experiment 6a), which chapter 05 used to measure the LSTM's forget-gate
# bias. A sequence of 50 symbols is noise from four distractors $a, b, c, d$, between a
# start symbol and an end symbol, except for two relevant symbols, each $X$ or $Y$: the
# first among steps 6 to 11, the second among steps 26 to 31 (counting the steps from 1, as
# chapter 05 does). The class is their order, $XX$, $XY$, $YX$ or $YY$, so guessing scores
# 25%, and the network must carry the first symbol for about 40 steps to the end. Chapter 05
# found that an LSTM with forget-gate bias 0 (near PyTorch's default, whose biases start
# small and centred on 0) never left chance on it, and that a bias of 3 solved it in all or
# nearly all runs.
#
# What does the GRU's counterpart, the update-gate bias $b_z$, do? We set the two update
# biases of every unit so that $b_{iz} + b_{hz} = b_z$, for $b_z = 0$, 1 and 3, the way
# `forget_bias` sets the LSTM's, and train 32-unit GRUs with chapter 05's settings: Adam at
# learning rate 0.01, batches of 32 fresh sequences, the gradient norm clipped at 1. We
# train in rounds of 50 steps and stop a run when it classifies 99% of 1,000 held-out
# sequences correctly (*solved*), or after 800 steps. Three seeds per setting; a seed fixes
# the initial weights and the training batches, so the three settings of one seed differ
# only in $b_z$. As chapter 05 does, we report separately how often a setting solved the
# task and how fast it did when it did. Tallec & Ollivier (2018) proposed setting these
# biases from the time scales one expects ("chrono initialisation"); here we simply try
# three values.

# %%
T_ORDER, HIDDEN, MAX_STEPS = 50, 32, 800
x_order, y_order = rnnbook.temporal_order(1000, T_ORDER, seed=2024)      # held out


def order_accuracy(model):
    return {"accuracy": (model(x_order).argmax(-1) == y_order).float().mean()}


def set_update_bias(model, bias):
    """Set the update-gate biases of a GRU model's layer so that b_iz + b_hz = bias."""
    H = model.rnn.hidden_size
    with torch.no_grad():
        model.rnn.bias_ih_l0[H:2 * H] = bias / 2
        model.rnn.bias_hh_l0[H:2 * H] = bias / 2
    return model


def train_order(model, seed, max_steps=MAX_STEPS, watch=None):
    """Adam at 0.01 on batches of 32 fresh sequences (the same ones for every model trained
    with this seed), the gradient norm clipped at 1, in rounds of 50 steps until the model
    classifies 99% of the held-out sequences correctly, or max_steps.

    Returns the accuracy after each round, [(step, accuracy)], and, if `watch` is given,
    [(step, watch(model))] from step 0 on."""
    batch_seeds = itertools.count(10_000 * (seed + 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    curve, watched = [], [(0, watch(model))] if watch else []
    for step in range(50, max_steps + 1, 50):
        history = fit(model, lambda: rnnbook.temporal_order(32, T_ORDER, seed=next(batch_seeds)),
                      nn.CrossEntropyLoss(), steps=50, optimizer=optimizer, clip_norm=1.0,
                      evaluate=order_accuracy, eval_every=50, desc=f"steps to {step}")
        curve.append((step, history.evals[-1]["accuracy"]))
        if watch:
            watched.append((step, watch(model)))
        if curve[-1][1] >= 0.99:
            break
    return curve, watched


def solved_at(curve):
    """The step at which a run reached 99%, or None if it never did."""
    step, accuracy = curve[-1]
    return step if accuracy >= 0.99 else None


# %% [markdown]
# While the runs with $b_z = 0$ train, we also record what the next section needs: after
# every round, chapter 05's gradient measure and the mean update gate. The measure is the
# share of the gradient that survives the trip from the last step back to the first,
# $\lVert \partial L / \partial h_1 \rVert / \lVert \partial L / \partial h_{50} \rVert$,
# computed by `rnnbook.gradients.model_grad_norms` on 256 held-out sequences in double
# precision.

# %%
def survival(model):
    """||dL/dh_1|| / ||dL/dh_T|| on 256 held-out sequences, in float64 (chapter 05)."""
    model64 = copy.deepcopy(model).double()
    norms = model_grad_norms(model64, x_order[:256].double(), y_order[:256],
                             nn.CrossEntropyLoss())
    return (norms[0] / norms[-1]).item()


def survival_and_keep(model):
    """The gradient measure, and the mean of the gate that keeps the state: z for a GRU,
    the forget gate f for an LSTM, over every step, unit and held-out sequence."""
    gates = gate_trace(model.rnn, x_order[:256])
    return survival(model), gates["z" if "z" in gates else "f"].mean().item()


UPDATE_BIASES, SEEDS = (0.0, 1.0, 3.0), (0, 1, 2)
order_runs, order_models = {}, {}
for update_bias in UPDATE_BIASES:
    for seed in SEEDS:
        seed_everything(seed)
        model = set_update_bias(SequenceModel("gru", 8, HIDDEN, 4), update_bias)
        order_runs[update_bias, seed] = train_order(
            model, seed, watch=survival_and_keep if update_bias == 0 else None)
        order_models[update_bias, seed] = model

steps_to_solve = {b: [solved_at(order_runs[b, s][0]) for s in SEEDS] for b in UPDATE_BIASES}
print(f"{'b_z':>4} | solved | steps to 99%, per seed | mean ± sd over solved runs (ddof=1)")
for b, steps in steps_to_solve.items():
    done = [s for s in steps if s is not None]
    spread = f"{np.mean(done):5.0f} ± {np.std(done, ddof=1):3.0f}" if len(done) > 1 else "-"
    print(f"{b:4.0f} | {len(done)} of {len(steps)} | {', '.join(map(str, steps)):22s} | {spread}")

# %%
fig, ax = plt.subplots(figsize=(8, 4))
for color, update_bias in zip(("C0", "C1", "C2"), UPDATE_BIASES, strict=True):
    for seed in SEEDS:
        steps, accuracy = zip(*[(0, 0.25), *order_runs[update_bias, seed][0]], strict=True)
        ax.plot(steps, accuracy, color=color, marker=".", alpha=0.8,
                label=f"$b_z = {update_bias:.0f}$" if seed == SEEDS[0] else None)
ax.axhline(0.25, color="k", ls="--", lw=1, label="guessing")
ax.axhline(0.99, color="gray", ls=":", lw=1, label="solved (99%)")
ax.set(xlabel="training step", ylabel="held-out accuracy",
       title=f"GRU on temporal order, length {T_ORDER}: every run, by update-gate bias")
ax.legend(loc="center right", frameon=False)
plt.show()

# %% [markdown]
# Every run solved the task, at every bias, so on this task the question is mainly how
# fast. A GRU at $b_z = 0$ sits at chance for a hundred steps or more before it finds the
# relevant symbols; with $b_z = 1$ or $3$ it finds them sooner. The cell below holds the
# asserts, and their thresholds were set with margin after running this experiment with
# other seeds (`RNNBOOK_SEED_SHIFT` 0 to 7): in those runs every GRU solved the task within
# the budget, and no run with $b_z = 3$ took as long as the slowest run with $b_z = 0$ of the
# same seeds. The slowest runs at $b_z = 0$ took 600 of the 800 steps, so the asserts
# require every run with $b_z = 1$ or 3 to solve the task (none took more than 200 steps)
# but only two of three with $b_z = 0$, and count a run that did not solve as 800 steps, a
# lower bound on what it would need. The mean number of steps among solved runs, over three
# seeds, was 0.27 to 0.43 times that of $b_z = 0$ for $b_z = 3$, and 0.32 to 0.44 times for
# $b_z = 1$, in the shifts where we wrote it down (0 and 4 to 7); the asserts require below
# 0.6 and 0.75.
# With three seeds we do not rank $b_z = 1$ against $b_z = 3$. In the run stored with this
# notebook the table above has the numbers.

# %%
at_least = {b: [MAX_STEPS if s is None else s for s in steps]      # unsolved: a lower bound
            for b, steps in steps_to_solve.items()}
assert all(s is not None for b in (1.0, 3.0) for s in steps_to_solve[b])   # all solved
assert sum(s is not None for s in steps_to_solve[0.0]) >= 2                 # nearly all
assert max(at_least[3.0]) < max(at_least[0.0])
assert np.mean(at_least[3.0]) < 0.6 * np.mean(at_least[0.0])
assert np.mean(at_least[1.0]) < 0.75 * np.mean(at_least[0.0])

# %% [markdown]
# ### Both forms learn
#
# Now Cho's form, from **exactly the same initial weights** as the PyTorch-form GRU of seed
# 0 with $b_z = 1$, and on the same batches, so that the only difference between the two
# runs is where the reset gate sits.

# %%
seed_everything(0)
pytorch_form = set_update_bias(SequenceModel("gru", 8, HIDDEN, 4), 1.0)  # as run (1, 0) began
cho_model = copy.deepcopy(pytorch_form)
cho_model.rnn = ChoGRU(8, HIDDEN, batch_first=True)
cho_model.rnn.load_state_dict(pytorch_form.rnn.state_dict())
cho_curve, _ = train_order(cho_model, seed=0)
print(f"PyTorch's form, b_z = 1, seed 0: solved at step {solved_at(order_runs[1.0, 0][0])}")
print(f"Cho's form, same start and data: solved at step {solved_at(cho_curve)}")
assert solved_at(order_runs[1.0, 0][0]) is not None and solved_at(cho_curve) is not None

# %% [markdown]
# Both forms solve it from the same start. One pair of runs cannot tell which form is
# better, and this chapter does not claim that either is; both are used in practice, and
# chapter 07 compares the architectures under equal conditions over several seeds.
#
# ## Why the default GRU learns where the default LSTM does not
#
# The GRU at $b_z = 0$ solved the temporal-order task in every run; chapter 05's LSTM at
# forget bias 0 never left chance. Both start with their keeping gate at about
# $\sigma(0) = 0.5$, and the measure of chapter 05 says that at initialisation both lose
# nearly all the gradient over 50 steps. So what differs? We train LSTMs with forget bias 0
# on the same batches, for 300 steps, recording the same two numbers after every round:
# the share of the gradient that survives back to step 1, and the mean of the keeping gate,
# $f$ for the LSTM and $z$ for the GRU.

# %%
lstm_curves, lstm_watch = {}, {}
for seed in SEEDS:
    seed_everything(seed)
    lstm = SequenceModel("lstm", 8, HIDDEN, 4, forget_bias=0.0)
    lstm_curves[seed], lstm_watch[seed] = train_order(lstm, seed, max_steps=300,
                                                      watch=survival_and_keep)
    assert max(acc for _, acc in lstm_curves[seed]) < 0.35   # as in chapter 05: at chance
gru_curves = {seed: order_runs[0.0, seed][0] for seed in SEEDS}
gru_watch = {seed: order_runs[0.0, seed][1] for seed in SEEDS}


def watched_at(watched, step):
    return dict(watched)[step]


COMPARE_AT = 100      # every run we tried, GRU and LSTM, was still at chance here
for name, watched, curves in (("GRU, b_z = 0", gru_watch, gru_curves),
                              ("LSTM, b_f = 0", lstm_watch, lstm_curves)):
    for seed in SEEDS:
        (s0, k0), (s1, k1) = watched_at(watched[seed], 0), watched_at(watched[seed], COMPARE_AT)
        print(f"{name}, seed {seed}: gradient reaching step 1: {s0:.0e} at step 0, "
              f"{s1:.0e} at step {COMPARE_AT}; mean keeping gate {k0:.3f} -> {k1:.3f}; "
              f"accuracy at step {COMPARE_AT}: {dict(curves[seed])[COMPARE_AT]:.2f}")

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for name, watched, color in (("GRU, $b_z = 0$", gru_watch, "C0"),
                             ("LSTM, $b_f = 0$", lstm_watch, "C3")):
    for seed in SEEDS:
        steps, values = zip(*[(s, v) for s, v in watched[seed] if s <= 300], strict=True)
        kept, keep = zip(*values, strict=True)
        label = name if seed == SEEDS[0] else None
        axes[0].semilogy(steps, kept, "o-", color=color, ms=3, label=label)
        axes[1].plot(steps, keep, "o-", color=color, ms=3, label=label)
axes[0].set(xlabel="training step", ylabel="$\\|\\partial L/\\partial h_1\\| \\,/\\, "
            "\\|\\partial L/\\partial h_{50}\\|$", title="gradient that reaches step 1")
axes[1].set(xlabel="training step", ylabel="mean $z$ (GRU) or $f$ (LSTM)",
            title="the gate that keeps the state")
axes[1].axhline(0.5, color="k", lw=0.5, ls=":")
for ax in axes:
    ax.axvline(COMPARE_AT, color="gray", lw=0.8, ls="--")
    ax.legend(frameon=False)
plt.tight_layout()
plt.show()

# %% [markdown]
# At initialisation the two are alike: both let through a tiny share of the gradient, of
# similar size (within a factor of a hundred of each other in every seed). Training then
# pulls them apart *before either has learned anything*: at step 100 (the dashed line)
# every run of both is still at chance. By then the LSTM's forget gates have closed
# further: its mean $f$ has fallen from about 0.5 by several hundredths, and the gradient
# that reaches step 1 has fallen by more than two orders of magnitude with it, so the
# first symbol has even less of a say than it had at the start. The GRU's update gates do
# not close: its mean $z$ stays near 0.5 (it rises a little in most runs and falls by about
# a hundredth in a few), and at step 100 its gradient to step 1 is more than a hundred
# times the LSTM's. A hundred or more steps later, the GRU finds the symbols. The asserts
# below hold this at the strength the three seeds give; we set their thresholds after
# running the same comparison with other seeds (`RNNBOOK_SEED_SHIFT` 0 to 7, 24 pairs of
# runs), where no run's accuracy at step 100 exceeded 0.28, the smallest GRU/LSTM ratio
# at step 100 was about $10^3$, the LSTM's gradient to step 1 fell by a factor of at least
# about $2 \cdot 10^3$ and its mean $f$ by at least 0.068, and the GRU's mean $z$ fell by at
# most 0.013.
#
# Why would the gates drift in opposite directions? A plausible reading, which we have not
# tested: before the network has found the relevant symbols, the distractors are noise,
# and training reduces the noise in the final state. In the LSTM the cell *sums* its
# inputs, $c_t = f \odot c_{t-1} + i \odot g$, so keeping more ($f \to 1$) accumulates more
# noise, and forgetting faster reduces it. In the GRU the state is an *average*,
# $h_t = z \odot h_{t-1} + (1 - z) \odot n$, so keeping more smooths the noise away. The
# same pressure pushes the LSTM away from a long memory and the GRU towards one.

# %%
gru_ratio = [watched_at(gru_watch[s], COMPARE_AT)[0] / watched_at(lstm_watch[s], COMPARE_AT)[0]
             for s in SEEDS]
start_ratio = [watched_at(gru_watch[s], 0)[0] / watched_at(lstm_watch[s], 0)[0]
               for s in SEEDS]
print("GRU / LSTM, gradient reaching step 1, at step 0:",
      ", ".join(f"{r:.0e}" for r in start_ratio), f"  at step {COMPARE_AT}:",
      ", ".join(f"{r:.0e}" for r in gru_ratio))
assert all(1e-2 < r < 1e2 for r in start_ratio)          # alike at initialisation
assert all(r > 1e2 for r in gru_ratio)                     # far apart, still at chance
for seed in SEEDS:
    for curves in (gru_curves, lstm_curves):              # nothing learned yet
        assert dict(curves[seed])[COMPARE_AT] < 0.35
    (lstm_0, f_0), (lstm_1, f_1) = (watched_at(lstm_watch[seed], step)
                                    for step in (0, COMPARE_AT))
    (_, z_0), (_, z_1) = (watched_at(gru_watch[seed], step) for step in (0, COMPARE_AT))
    assert lstm_1 < lstm_0 / 100 and f_1 < f_0 - 0.03     # the LSTM closes its gates
    assert z_1 > z_0 - 0.03                                # the GRU does not
    assert (z_1 - z_0) - (f_1 - f_0) > 0.03                # the two drift apart

# %% [markdown]
# ## Looking inside the trained GRU
#
# Diagrams draw the update gate as a memory switch: closed ($z = 1$) while the network
# holds something, open when it writes. Is that what a trained GRU does? We take the first
# GRU with $b_z = 0$ that solved the task above (seed 0 in the run stored here), trained
# until it classified 99% of the held-out sequences correctly, and run it over 500 held-out sequences with
# `rnnbook.gradients.gate_trace`, which returns $r$, $z$, $n$ and $h$ at every step and
# unit (it checks itself: its $h$ is the layer's output).
#
# First, which units carry the memory? Between the two relevant symbols the network must
# hold one bit, whether the first symbol was $X$ or $Y$. For each unit we correlate its
# state just before the second symbol with that bit, over the 500 sequences: a unit with a
# correlation near $\pm 1$ carries it. Then we look at the update gates of the units that
# carry it best, at the steps between the two symbols, where a switch would be closed.

# %%
inside_seed = next(s for s in SEEDS if solved_at(order_runs[0.0, s][0]) is not None)
gru_model = order_models[0.0, inside_seed]        # b_z = 0, trained to 99%
x_look = x_order[:500]
tokens = x_look.argmax(-1)
X, Y = (rnnbook.TEMPORAL_ORDER_SYMBOLS.index(s) for s in "XY")
where = (tokens >= X).nonzero()[:, 1].view(-1, 2)        # steps of the two symbols, from 0
first_is_y = (tokens[torch.arange(len(x_look)), where[:, 0]] == Y).double()
with torch.no_grad():
    gates = gate_trace(gru_model.rnn, x_look)
    assert (gates["h"] - gru_model.rnn(x_look)[0]).abs().max() < 1e-5


def correlation_with(values, target):
    """The Pearson correlation of each column of `values` (N, H) with `target` (N,)."""
    v = values.double() - values.double().mean(0)
    t = target - target.mean()
    return (v * t[:, None]).sum(0) / (v.norm(dim=0) * t.norm()).clamp_min(1e-12)


h_before = gates["h"][torch.arange(len(x_look)), where[:, 1] - 1]    # just before the 2nd
corr = correlation_with(h_before, first_is_y)
steps = torch.arange(T_ORDER)
between = (steps > where[:, :1]) & (steps < where[:, 1:])             # (sequences, steps)
z_between = gates["z"][between].median(dim=0).values                  # per unit
best = corr.abs().argsort(descending=True)[:8]
carriers = int((corr.abs() > 0.5).sum())
print(f"units whose state correlates with the first symbol (|r| > 0.5): {carriers} of "
      f"{HIDDEN}")
print("the 8 best carriers:  |correlation|  ", "  ".join(f"{v:.2f}" for v in corr.abs()[best]))
print("  their median z between the symbols", "  ".join(f"{v:.2f}" for v in z_between[best]))

fig, axes = plt.subplots(1, 2, figsize=(13, 4), width_ratios=(1, 2))
axes[0].scatter(corr.abs().numpy(), z_between.numpy(), color="C1")
axes[0].set(xlabel="|correlation| of the unit's state with the first symbol",
            ylabel="median $z$ between the symbols", ylim=(-0.03, 1.03),
            title="one dot per unit")
example = 0
order = corr.abs().argsort(descending=True)
image = axes[1].imshow(gates["z"][example][:, order].T.numpy(), aspect="auto",
                       cmap="viridis", vmin=0, vmax=1,
                       extent=(0.5, T_ORDER + 0.5, HIDDEN - 0.5, -0.5))
marked = (where[example] + 1).tolist()                               # counted from 1
axes[1].scatter(marked, [-1.6, -1.6], marker="v", s=60, color="C3", clip_on=False)
axes[1].set(xlabel="step (counted from 1)", ylabel="unit, best carrier on top",
            title=f"$z_t$ of every unit on one sequence (symbols at steps {marked[0]} "
                  f"and {marked[1]})")
fig.colorbar(image, ax=axes[1], label="$z$ (1 keeps, 0 overwrites)")
plt.tight_layout()
plt.show()

# %% [markdown]
# The picture is not the diagram's. The bit is not stored in one or two units: most units'
# states track it (at least three quarters of them in every seed we tried). And the units
# that track it best do not hold it with closed update gates. Their median $z$ between the
# two symbols is spread widely: some sit near 1 (copying), but others sit far below it (in
# the run stored here, a few near 0), overwriting much of their state at every step and
# still carrying the bit. Those units get it back at every step through the candidate,
# $n_t = \tanh\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big)$, which
# reads the other units: the network holds its bit in the recurrent dynamics, as a stable
# state of the whole layer, much as the hand-wired latch of chapter 02 holds one, and not
# only in the copy path. The update gate is one
# way a GRU remembers, not the only one. The asserts below state what held in every seed we
# tried (`RNNBOOK_SEED_SHIFT` 0 to 7); how many units sit near 0 or near 1 varies from
# seed to seed.

# %%
assert carriers >= 3 * HIDDEN // 4                        # the memory is spread out
assert z_between[best].median() < 0.9                    # the best carriers are not closed
assert (z_between[best] < 0.9).sum() >= 3

# %% [markdown]
# ### "Gate values are only 0 or 1"
#
# > **Common mistake.** Diagrams draw gates as switches, and the word "gate" suggests open
# > or shut; "the gates output 0 or 1" is a common gloss. A sigmoid only comes near 0 or 1
# > when its input is large, and nothing in training forces that. The next cell counts,
# > over every step, unit and sequence of the trained GRU, how many gate values lie within
# > 0.01 of 0 or 1 and how many lie between 0.1 and 0.9. (That the values lie in
# > $(0, 1)$ at all is guaranteed by the sigmoid: the first assert only illustrates it.)

# %%
def near_ends(v):
    """The share of gate values within 0.01 of 0 or of 1."""
    return ((v < 0.01) | (v > 0.99)).float().mean().item()


def in_middle(v):
    """The share of gate values between 0.1 and 0.9."""
    return ((v > 0.1) & (v < 0.9)).float().mean().item()


for name in ("r", "z"):
    v = gates[name]
    print(f"{name}: within 0.01 of 0 or 1: {near_ends(v):5.1%}, "
          f"between 0.1 and 0.9: {in_middle(v):5.1%}")
# A sigmoid's output lies in (0, 1) by construction: an illustration, not evidence.
assert 0 < gates["r"].min() and gates["r"].max() < 1 and 0 < gates["z"].min() < gates["z"].max() < 1
assert in_middle(gates["r"]) > 0.5 and in_middle(gates["z"]) > 0.3
assert near_ends(gates["r"]) < 0.25 and near_ends(gates["z"]) < 0.35

fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
gate_histograms({"reset gate $r$": gates["r"], "update gate $z$": gates["z"],
                 "candidate $n$ (not a gate)": gates["n"]}, bins=50, axes=axes)
fig.tight_layout()
fig.suptitle(f"Every step and unit of the trained GRU, on {len(x_look)} held-out sequences",
             y=1.04)
plt.show()

# %% [markdown]
# Most gate values are neither 0 nor 1: a large share of the reset gate's and a good part
# of the update gate's values lie between 0.1 and 0.9 (the cell prints the shares for the
# run stored here). But the histograms pool every unit and step, and the section above
# showed what pooling hides: individual units can sit near 0 or near 1 for long stretches.
# So the accurate statement is not "gates are dials, not switches" but: a trained GRU's
# gates take every value in between, some units do act like switches for part of a
# sequence, and many do not. Partly open gates are also what lets the gates keep learning:
# a sigmoid stuck at 0 or 1 has a derivative of almost zero, so its weights receive almost
# no gradient.
#
# Finally, the candidate, which the "three gates" reading counts as a gate: it comes out of
# a $\tanh$ and is negative a large part of the time.

# %%
negative_n = (gates["n"] < 0).float().mean().item()
print(f"candidate n: negative {negative_n:.1%} of the time, "
      f"lowest {gates['n'].min():+.2f}, highest {gates['n'].max():+.2f}")
assert negative_n > 0.2 and gates["n"].min() < -0.5

# %% [markdown]
# ## Summary
#
# - The GRU keeps one state $h_t$ and updates it as a convex combination,
#   $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$: the **update gate** couples the LSTM's
#   input and *forget* gates (checked with an `nn.LSTMCell` whose input gate is tied to
#   $1 - f$), there is no output gate, and the **reset gate** decides how much of the old
#   state the candidate sees. Two gates, one candidate, three blocks of weights,
#   $3(HI + H^2 + 2H)$ parameters in PyTorch.
# - Our gate by gate cell equals `nn.GRU` to within $10^{-6}$, which also proves PyTorch's
#   block order $r, z, n$.
# - Cho et al. apply the reset before the recurrent product, PyTorch (following cuDNN)
#   after it, so that one matrix product per step serves all three blocks. With the same
#   weights the two forms are different functions; they agree when $W_{hn}$ is diagonal and
#   $b_{hn} = 0$, so that the reset commutes with the product. Both learn.
# - Which way $z$ points is a relabelling ($1 - \sigma(a) = \sigma(-a)$); where the reset
#   sits is a different model; of PyTorch's six bias vectors, $b_{hr}$ and $b_{hz}$ are
#   redundant but $b_{hn}$ is not.
# - $\partial h_t / \partial h_{t-1} = \operatorname{diag}(z) + \operatorname{diag}(1 - z)\,
#   \partial n / \partial h + \operatorname{diag}(h - n)\, \partial z / \partial h$. It tends
#   to $I$ when $z \to 1$, to $0$ when $z \to 0, r \to 0$, and to a plain RNN's Jacobian
#   when $z \to 0, r \to 1$; we checked all three against autograd. Over 100 steps at
#   initialisation the update gate's bias moves $\lVert \partial h_{100} / \partial h_0 \rVert$
#   over many orders of magnitude. Gates do not prevent *exploding* gradients: with every
#   gate at $1/2$, a GRU's gradient grew as $1.5^T$; clip the gradient norm.
# - On the temporal-order task every GRU we trained solved it, and an update-gate bias of
#   1 or 3 made it find the relevant symbols sooner than $b_z = 0$ (in roughly a third to
#   half of the steps, on average, in the seeds we tried): the GRU's counterpart of the
#   LSTM's forget-gate bias, though less decisive, since here $b_z = 0$ learns too.
# - At initialisation the default GRU and the default LSTM pass back a similarly tiny
#   share of the gradient. Before either has learned anything, training closes the
#   LSTM's forget gates further, and the gradient to the first steps collapses; the GRU's
#   update gates do not close, and it goes on to solve the task.
# - Inside a trained GRU the bit to remember is spread over most units, and the units
#   that carry it best are not held by closed update gates: much of the memory lives in the
#   recurrent dynamics of the candidate. The candidate is not a gate (it is negative a large
#   part of the time), and gate values are neither only 0 nor only 1, though single units can
#   act like switches for a while.
#
# ## Exercises
#
# **1. Parameter counting.** For a GRU layer with $I = 10$ inputs and $H = 20$ units,
# compute by the formulas the number of parameters of `nn.GRU`, of Keras's GRU with
# `reset_after=False`, and the smallest number a PyTorch-form GRU really needs once the
# redundant biases are removed. Check the first against `numel()`.
#
# <details><summary>Solution</summary>
#
# `nn.GRU` has $3(HI + H^2 + 2H) = 3(200 + 400 + 40) = 1{,}920$. Keras's reset-before GRU has
# one bias per block, $3(HI + H^2 + H) = 1{,}860$. In PyTorch's form the pairs
# $(b_{ir}, b_{hr})$ and $(b_{iz}, b_{hz})$ act only through their sums, so $2H = 40$
# parameters are redundant, leaving $1{,}880$: $b_{hn}$ must stay, because the reset gate
# multiplies it. The cell below checks the count, and that removing the redundant biases
# (moving them into their partners) leaves the layer's output unchanged.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
I, H = 10, 20
seed_everything(0)
layer = nn.GRU(I, H)
count = sum(p.numel() for p in layer.parameters())
keras_reset_before = 3 * (H * I + H * H + H)
needed = count - 2 * H
print(f"nn.GRU {count:,}, Keras reset_after=False {keras_reset_before:,}, "
      f"PyTorch form without redundant biases {needed:,}")
assert count == 3 * (H * I + H * H + 2 * H) == 1920
assert keras_reset_before == 1860 and needed == 1880
x = torch.randn(15, 4, I)
with torch.no_grad():
    slim = move_bias(move_bias(layer, 0), 1)            # b_hr and b_hz moved, now zero
    assert slim.bias_hh_l0[:2 * H].abs().max() == 0
    assert (slim(x)[0] - layer(x)[0]).abs().max() < 1e-6

# %% [markdown]
# **2. A GRU that is a plain RNN.** Section "The equations" claimed that with $z = 0$ and
# $r = 1$ the GRU is a $\tanh$ RNN with input weights $W_{in}$, recurrent weights $W_{hn}$ and
# biases $b_{in}, b_{hn}$. Build such an `nn.RNN` from a GRU's weights, saturate the GRU's
# gates with large biases, and check that the two layers compute the same outputs over a
# sequence of 30 steps.
#
# <details><summary>Solution</summary>
#
# Copy the $n$ blocks of the GRU's weights into the RNN. Then set the GRU's input biases of
# $r$ to $+30$ and of $z$ to $-30$: $\sigma(\pm 30)$ differs from 1 or 0 by about
# $10^{-13}$, so the GRU's outputs equal the RNN's up to single-precision rounding.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
seed_everything(0)
gru = nn.GRU(3, 16)
rnn = nn.RNN(3, 16)
with torch.no_grad():
    gru.bias_ih_l0[:16] = 30.0                 # r = 1
    gru.bias_ih_l0[16:32] = -30.0              # z = 0
    rnn.weight_ih_l0.copy_(gru.weight_ih_l0[32:])
    rnn.weight_hh_l0.copy_(gru.weight_hh_l0[32:])
    rnn.bias_ih_l0.copy_(gru.bias_ih_l0[32:])
    rnn.bias_hh_l0.copy_(gru.bias_hh_l0[32:])
    x = torch.randn(30, 4, 3)
    rnn_gap = (gru(x)[0] - rnn(x)[0]).abs().max().item()
print(f"saturated GRU vs tanh RNN: max |difference| {below(rnn_gap)}")
assert rnn_gap < 1e-6

# %% [markdown]
# **3. The Jacobian of Cho's form.** Derive $\partial h_t / \partial h_{t-1}$ for Cho's
# candidate $n = \tanh(W_{in} x + b_{in} + W_{hn} (r \odot h) + b_{hn})$, code it, and check it
# against autograd on a `ChoGRUCell`. Which of the three limiting cases change?
#
# <details><summary>Solution</summary>
#
# Only $\partial n / \partial h$ changes. By the product rule on $r \odot h$,
#
# $$\frac{\partial n}{\partial h} = \operatorname{diag}(1 - n \odot n)\, W_{hn}
# \Big[\operatorname{diag}(r) + \operatorname{diag}(h)\, \frac{\partial r}{\partial h}\Big],$$
#
# so $W_{hn}$ now multiplies from the left, and the reset gates scale its *columns*
# (the sending units) rather than its rows. The limits are the same: $I$ for $z \to 1$,
# $0$ for $z \to 0, r \to 0$, and $\operatorname{diag}(1 - n \odot n) W_{hn}$ for
# $z \to 0, r \to 1$ (where the two forms coincide anyway, apart from $b_{hn}$, which is
# a constant and does not enter the Jacobian).
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
def cho_gru_jacobian(cell, x, h):
    """The analytic dh_t/dh_{t-1} of a ChoGRUCell at one unbatched (x, h)."""
    W_ir, W_iz, W_in = cell.weight_ih.chunk(3)
    W_hr, W_hz, W_hn = cell.weight_hh.chunk(3)
    b_ir, b_iz, b_in = cell.bias_ih.chunk(3)
    b_hr, b_hz, b_hn = cell.bias_hh.chunk(3)
    r = torch.sigmoid(W_ir @ x + b_ir + W_hr @ h + b_hr)
    z = torch.sigmoid(W_iz @ x + b_iz + W_hz @ h + b_hz)
    n = torch.tanh(W_in @ x + b_in + W_hn @ (r * h) + b_hn)
    dz = (z * (1 - z))[:, None] * W_hz
    dr = (r * (1 - r))[:, None] * W_hr
    dn = (1 - n * n)[:, None] * (W_hn @ (torch.diag(r) + h[:, None] * dr))
    return torch.diag(z) + (1 - z)[:, None] * dn + (h - n)[:, None] * dz


seed_everything(0)
cho_cell = ChoGRUCell(3, 8, dtype=torch.float64)
x_t = torch.randn(3, dtype=torch.float64)
h = torch.randn(8, dtype=torch.float64)
with torch.no_grad():
    cho_formula = cho_gru_jacobian(cho_cell, x_t, h)
cho_err = (cho_formula - autograd_jacobian(cho_cell, x_t, h)).abs().max().item()
print(f"Cho's form, formula vs autograd: max |difference| {below(cho_err, 1e-12)}")
assert cho_err < 1e-12
cho_W_hn = cho_cell.weight_hh[16:].detach()
for reset_bias, update_bias in [(0.0, 20.0), (-20.0, -20.0), (20.0, -20.0)]:
    saturated = with_gates(cho_cell, reset_bias, update_bias)
    with torch.no_grad():
        n = saturated(x_t, h)                        # with z = 0 the new state is n
    limit = (torch.eye(8) if update_bias > 0 else
             torch.zeros(8, 8) if reset_bias < 0 else (1 - n * n)[:, None] * cho_W_hn)
    limit_err = (autograd_jacobian(saturated, x_t, h) - limit).abs().max().item()
    print(f"Cho's form, r bias {reset_bias:+.0f}, z bias {update_bias:+.0f}: "
          f"autograd vs limit {below(limit_err)}")
    assert limit_err < 1e-6

# %% [markdown]
# **4. Inside Cho's form.** Repeat the analysis of "Looking inside the trained GRU" for the
# Cho-form GRU trained above. Is the memory spread over many units, are the best carriers'
# update gates closed between the symbols, and is the candidate often negative?
#
# <details><summary>Solution</summary>
#
# `gate_trace` also reads a `ChoGRU`, and the helpers above take its gates as they are. In
# the runs we tried the answers were the same as for PyTorch's form: most units carry the
# bit, the best carriers' update gates are not closed, and the candidate is negative a
# large part of the time. The cell prints the numbers of the run stored here and asserts
# the same statements as for PyTorch's form, with the same thresholds, so the pattern is
# not an accident of one formulation.
#
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
with torch.no_grad():
    cho_gates = gate_trace(cho_model.rnn, x_look)
    assert (cho_gates["h"] - cho_model.rnn(x_look)[0]).abs().max() < 1e-5
cho_h_before = cho_gates["h"][torch.arange(len(x_look)), where[:, 1] - 1]
cho_corr = correlation_with(cho_h_before, first_is_y)
cho_best = cho_corr.abs().argsort(descending=True)[:8]
cho_z_between = cho_gates["z"][between].median(dim=0).values
cho_negative_n = (cho_gates["n"] < 0).float().mean().item()
print(f"Cho's form: units with |r| > 0.5: {int((cho_corr.abs() > 0.5).sum())} of {HIDDEN}; "
      f"median z between the symbols of the 8 best carriers "
      f"{', '.join(f'{v:.2f}' for v in cho_z_between[cho_best])}; n negative {cho_negative_n:.1%}")
assert (cho_corr.abs() > 0.5).sum() >= 3 * HIDDEN // 4
assert cho_z_between[cho_best].median() < 0.9
assert cho_negative_n > 0.2

# %% [markdown]
# **5. Convert a GRU between conventions.** You are given the weights of a GRU in Keras's
# layout with `reset_after=True`: a `kernel` of shape $(I, 3H)$ and a `recurrent_kernel` of
# shape $(H, 3H)$ with blocks $z, r, h$ as columns, and a `bias` of shape $(2, 3H)$ whose first
# row is the input bias and second the recurrent bias. Keras writes
# $h_t = z \odot h_{t-1} + (1 - z) \odot \tilde h$. Write a function that loads them into an
# `nn.GRU`, and test it with a GRU step written directly in Keras's conventions.
#
# <details><summary>Solution</summary>
#
# Keras keeps $z$ pointing the same way as PyTorch ($z = 1$ keeps the old state) and, with
# `reset_after=True`, applies the reset after the product, so only the layout changes:
# transpose each matrix, and reorder the blocks from $z, r, h$ to $r, z, n$. Transposing
# without reordering runs without complaint, since the shapes fit, and gives wrong outputs;
# the cell checks that too.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
def keras_to_torch(kernel, recurrent_kernel, bias, reorder_blocks=True):
    """Load a Keras reset_after=True GRU's weights (blocks z, r, h as columns) into nn.GRU."""
    H = recurrent_kernel.shape[0]

    def reorder(w):                                 # columns z, r, h -> r, z, n
        if not reorder_blocks:
            return w
        z, r, n = w.split(H, dim=1)
        return torch.cat([r, z, n], dim=1)

    layer = nn.GRU(kernel.shape[0], H)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(reorder(kernel).T)
        layer.weight_hh_l0.copy_(reorder(recurrent_kernel).T)
        layer.bias_ih_l0.copy_(reorder(bias[:1])[0])
        layer.bias_hh_l0.copy_(reorder(bias[1:])[0])
    return layer


def keras_gru_step(x, h, kernel, recurrent_kernel, bias):
    """One step of Keras's GRU with reset_after=True, in Keras's own layout."""
    H = h.shape[-1]
    mx = x @ kernel + bias[0]                       # (B, 3H), blocks z, r, h
    mh = h @ recurrent_kernel + bias[1]
    z = torch.sigmoid(mx[:, :H] + mh[:, :H])
    r = torch.sigmoid(mx[:, H:2 * H] + mh[:, H:2 * H])
    hh = torch.tanh(mx[:, 2 * H:] + r * mh[:, 2 * H:])
    return z * h + (1 - z) * hh


seed_everything(0)
I, H = 3, 6
kernel, recurrent_kernel, bias = torch.randn(I, 3 * H), torch.randn(H, 3 * H), torch.randn(2, 3 * H)
x = torch.randn(12, 4, I)
with torch.no_grad():
    h_keras = torch.zeros(4, H)
    keras_steps = []
    for x_t in x:
        h_keras = keras_gru_step(x_t, h_keras, kernel, recurrent_kernel, bias)
        keras_steps.append(h_keras)
    converted, _ = keras_to_torch(kernel, recurrent_kernel, bias)(x)
    transposed_only, _ = keras_to_torch(kernel, recurrent_kernel, bias, reorder_blocks=False)(x)
keras_gap = (torch.stack(keras_steps) - converted).abs().max().item()
naive_gap = (torch.stack(keras_steps) - transposed_only).abs().max().item()
print(f"Keras-layout GRU vs converted nn.GRU:          max |difference| {below(keras_gap)}")
print(f"the same, transposed but blocks not reordered: max |difference| {above(naive_gap, 0.05)}")
assert keras_gap < 1e-6 and naive_gap > 0.05

# %% [markdown]
# **6. A bias for a given memory.** With the update gate held at a constant $z$, a unit
# keeps $z^k$ of what it held $k$ steps ago, so its memory has a half-life of
# $\ln 0.5 / \ln z$ steps. Which update-gate bias $b_z$ gives a half-life of 40 steps (the
# distance the temporal-order task asks for) when nothing else moves the gate? What
# half-lives do the biases 0, 1 and 3 of this chapter's experiment give?
#
# <details><summary>Solution</summary>
#
# A half-life of 40 steps needs $z = 0.5^{1/40}$, and $z = \sigma(b_z)$ gives
# $b_z = \ln\big(z / (1 - z)\big) \approx 4.05$. The biases 0, 1 and 3 give half-lives of
# 1, about 2.2 and about 14 steps. So even $b_z = 3$ does not, by itself, hold a symbol for
# 40 steps: it makes the gradient reach far enough back for training to do the rest. This
# is the idea behind Tallec & Ollivier's chrono initialisation, which draws each unit's
# bias so that the half-lives cover the range of time scales one expects.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
z_needed = 0.5 ** (1 / 40)
b_needed = math.log(z_needed / (1 - z_needed))
half_lives = {b: math.log(0.5) / math.log(torch.sigmoid(torch.tensor(b)).item())
              for b in UPDATE_BIASES}
print(f"half-life 40 steps: z = {z_needed:.4f}, b_z = {b_needed:.2f}")
print("half-lives of b_z = 0, 1, 3:", ", ".join(f"{v:.1f}" for v in half_lives.values()))
assert abs(b_needed - 4.05) < 0.01
assert abs(half_lives[0.0] - 1) < 1e-6 and 13 < half_lives[3.0] < 15

# %% [markdown]
# ## References
#
# - Cho, K., van Merriënboer, B., Gulcehre, C., Bahdanau, D., Bougares, F., Schwenk, H., &
#   Bengio, Y. (2014). Learning phrase representations using RNN encoder–decoder for
#   statistical machine translation. In *Proceedings of the 2014 Conference on Empirical
#   Methods in Natural Language Processing (EMNLP)*, 1724–1734.
# - Chung, J., Gulcehre, C., Cho, K., & Bengio, Y. (2014). Empirical evaluation of gated
#   recurrent neural networks on sequence modeling. *NIPS 2014 Workshop on Deep Learning*,
#   arXiv:1412.3555.
# - Hochreiter, S., & Schmidhuber, J. (1997). Long short-term memory. *Neural
#   Computation*, 9(8), 1735–1780.
# - Gers, F. A., Schmidhuber, J., & Cummins, F. (2000). Learning to forget: continual
#   prediction with LSTM. *Neural Computation*, 12(10), 2451–2471.
# - Pascanu, R., Mikolov, T., & Bengio, Y. (2013). On the difficulty of training recurrent
#   neural networks. In *Proceedings of the 30th International Conference on Machine
#   Learning (ICML)*, PMLR 28(3), 1310–1318.
# - Jozefowicz, R., Zaremba, W., & Sutskever, I. (2015). An empirical exploration of
#   recurrent network architectures. In *Proceedings of the 32nd International Conference
#   on Machine Learning (ICML)*, PMLR 37, 2342–2350.
# - Greff, K., Srivastava, R. K., Koutník, J., Steunebrink, B. R., & Schmidhuber, J. (2017).
#   LSTM: a search space odyssey. *IEEE Transactions on Neural Networks and Learning
#   Systems*, 28(10), 2222–2232.
# - Tallec, C., & Ollivier, Y. (2018). Can recurrent neural networks warp time? In
#   *International Conference on Learning Representations (ICLR)*.
# - PyTorch documentation, `torch.nn.GRU` and `torch.nn.LSTM` (equations, weight layout).
#   Keras documentation, `keras.layers.GRU` (`reset_after`) and `keras.layers.LSTM`
#   (`unit_forget_bias`).

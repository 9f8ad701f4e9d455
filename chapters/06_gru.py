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
# cell, and three gates to guard it. In 2014, while building an RNN encoder-decoder for
# machine translation, Kyunghyun Cho and his colleagues proposed a leaner unit that keeps the
# essential idea, an additive path along which the state is copied rather than squashed,
# with one state vector and two gates. It is the **gated recurrent unit**, the GRU. This chapter builds it, proves
# our version equal to PyTorch's, untangles the conflicting ways it is written, derives how
# gradients pass through it, and trains it on the long-dependency task of chapter 05.
#
# **What you will learn**
#
# - the GRU's reset and update gates, its candidate state, and why it needs no separate cell
#   state;
# - how to build the cell gate by gate, and a proof that it equals `nn.GRU`;
# - the two GRUs in circulation: Cho et al.'s, with the reset applied *before* the recurrent
#   matrix product, and PyTorch's, with it applied *after*; that they are different
#   functions, and that both learn;
# - a table of conventions (gate order, which way the update gate points, how many biases)
#   for PyTorch, Keras, the papers and this book, with every checkable entry checked;
# - the Jacobian $\partial h_t / \partial h_{t-1}$, derived, and its three limiting cases
#   built with chosen weights and checked against autograd;
# - the GRU solving the adding problem at $T = 100$;
# - two popular misconceptions, "the GRU has three gates" and "gates are 0 or 1", tested on
#   a trained model.

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

import matplotlib.pyplot as plt
import torch
from torch import nn

import rnnbook
from rnnbook import ADDING_BASELINE_MSE, SequenceModel, adding_problem, fit, seed_everything
from rnnbook.gradients import jacobian_norms
from rnnbook.plot import cell_diagram, gate_histograms
from rnnbook.variants import ChoGRU
from rnnbook.gradients import gate_trace

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
    return f"< {bound:.0e}" if value < bound else f"{value:.4f}"


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
# swapped, as if the order were $z, r, n$ (Keras's order, as we will see).

# %%
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
print(f"blocks read as z, r, n instead:  max |difference| {err_wrong:.4f}")
assert err_ours < 1e-6 and err_book < 1e-6
assert err_wrong > 0.01

# %% [markdown]
# Our four lines reproduce `nn.GRU` to the last few bits of single precision, over twenty
# steps and five sequences, and so does the package's `rnnbook.GRU`, which holds the same
# equations in fused form (`rnnbook.cells.gru_step`) and loads PyTorch's `state_dict`
# directly. Reading the blocks in the wrong order gives outputs that are off by 0.41: the
# order $r, z, n$ is not a convention we chose, it is a fact about PyTorch's weight layout,
# and now a tested one.
#
# Counting the parameters of one layer: three blocks, each with an $H \times I$ input
# matrix, an $H \times H$ recurrent matrix and two bias vectors,
#
# $$P_\text{GRU} = 3\,(HI + H^2 + 2H),$$
#
# three quarters of an LSTM's $4\,(HI + H^2 + 2H)$ at the same sizes.

# %%
for I, H in [(1, 1), (3, 8), (10, 64), (64, 256)]:
    gru_params = sum(p.numel() for p in nn.GRU(I, H).parameters())
    lstm_params = sum(p.numel() for p in nn.LSTM(I, H).parameters())
    print(f"I={I:>3} H={H:>3}: GRU {gru_params:>7,}  LSTM {lstm_params:>7,}  "
          f"ratio {gru_params / lstm_params:.2f}")
    assert gru_params == 3 * (H * I + H * H + 2 * H)
    assert lstm_params == 4 * (H * I + H * H + 2 * H)

# %% [markdown]
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
# by the reset gate of the *receiving* unit.
#
# Why would PyTorch (and NVIDIA's cuDNN, whose GRU PyTorch follows) change the equations?
# The reset-after form has a practical advantage, the usual explanation for cuDNN's
# choice. With the reset after the product, the three recurrent products
# $W_{hr} h$, $W_{hz} h$, $W_{hn} h$ are independent of each other and become one
# $(3H \times H)$ matrix product per step. With the reset before it, $W_{hn} (r \odot h)$
# cannot start until $r$ is known, so every step needs two matrix products in sequence.
#
# The package has Cho's form as `rnnbook.variants.ChoGRU`, with exactly the parameters of
# `nn.GRU`, so the same weights can be loaded into both (its step is
# `rnnbook.variants.cho_gru_step`; the extra bias $b_{hn}$ is simply added outside the
# product). Same weights, same input, two functions:

# %%
seed_everything(0)
torch_gru = nn.GRU(input_size=3, hidden_size=32)
cho_gru = ChoGRU(input_size=3, hidden_size=32)
cho_gru.load_state_dict(torch_gru.state_dict())
x = torch.randn(50, 8, 3)
with torch.no_grad():
    gap = (torch_gru(x)[0] - cho_gru(x)[0]).abs()
print(f"same weights, PyTorch's form vs Cho's form over 50 steps: "
      f"max |difference| {gap.max():.4f}, mean {gap.mean():.4f}")
assert gap.max() > 0.05

# %% [markdown]
# The outputs differ by up to 0.12 (and by 0.04 on average) for outputs that lie in
# $(-1, 1)$: not a rounding effect, a different model. A state dict trained in one form and
# loaded into the other will therefore give wrong predictions without any error message,
# which is worth knowing when you move a GRU between frameworks.
#
# When *do* the two agree? The reset commutes with the product exactly when $W_{hn}$ is
# diagonal, since then $r \odot (D h) = D (r \odot h)$; and $b_{hn}$ must be zero, because
# PyTorch gates it and Cho does not. Checking that boundary case tests that the difference
# comes from where the reset sits, and from nothing else:

# %%
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
# initial weights on the same data, both solve the adding problem.
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

# %%
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

# %%
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
print(f"z takes the new, weights as they are:      max |difference| {err_not_flipped:.4f}")
assert err_flipped < 1e-6 and err_not_flipped > 0.05

# %% [markdown]
# The direction of $z$ is a relabelling; the place of the reset is a different model. The
# bias question is subtler. In PyTorch's form, $b_{ir}$ and $b_{hr}$ always appear as a sum,
# and so do $b_{iz}$ and $b_{hz}$: two of the six bias vectors are redundant. But $b_{hn}$
# sits inside the reset, $r \odot (W_{hn} h + b_{hn})$, so it is *not* interchangeable with
# $b_{in}$. In Cho's form it is, which is why Keras's reset-before GRU loses nothing with a
# single bias per block. Moving one bias into its partner, and checking what changes:

# %%
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
    print(f"{name:<15} move b_h{'rzn'[block]} into b_i{'rzn'[block]}: "
          f"output changes by {below(change)}")
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

# %%
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
print(f"formula vs autograd at random weights: max |difference| {below(jac_err, 1e-12)} "
      f"(largest entry {jac_autograd.abs().max():.4f})")
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

# %%
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
          f"vs formula {below(formula_err, 1e-12)}, "
          f"largest entry {jac.abs().max():.4f}")
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
# With $b_z = +3$ the norm after 100 steps is still $4.5 \cdot 10^{-2}$. With $b_z = 0$ it
# has fallen to $1.2 \cdot 10^{-20}$, the same vanishing regime as the plain RNN
# ($3.0 \cdot 10^{-25}$), and with $b_z = -3$, where the GRU overwrites most of its state at
# each step, to $1.2 \cdot 10^{-54}$. Two lessons. First, the update gate is the knob that
# sets how far back information and gradient reach, and the network can turn it unit by
# unit and step by step. Second, a GRU at PyTorch's default initialisation, where every bias
# is small and $z \approx 0.5$, does *not* start out with a long memory: it has to learn to
# push its update gates towards 1, and we will see below that it does. An update-gate bias
# thus plays the role for the GRU that the forget-gate bias plays for the LSTM in
# chapter 05.
#
# ## Solving the adding problem
#
# Now a task where the memory matters: the adding problem, the long-dependency task that
# chapter 05 solves with the LSTM, at the same length $T = 100$. Each input sequence has 100
# steps with two features, a random value in $[0, 1]$ and a marker that is 1 at exactly two
# steps, one in each half. The target is the sum of the two marked values, so the network
# must notice the first marked value, carry it for up to 99 steps while ignoring everything
# else, and add the second. Always predicting 1 gives a mean squared error (MSE) of
# $1/6 \approx 0.167$, the baseline to beat.
#
# We train three models with the same head, the same optimiser (Adam, learning rate
# $3 \cdot 10^{-3}$, gradient norm clipped at 1), the same 800 batches of 64 fresh sequences
# and the same test set of 1,000 sequences:
#
# - a GRU in PyTorch's form (`nn.GRU`, 32 units);
# - a GRU in Cho's form (`ChoGRU`), starting from **exactly the same weights** as the first,
#   so that the only difference between the two runs is where the reset gate sits;
# - for reference, a plain $\tanh$ RNN with 32 units.
#
# Chapter 05 trained its 32-unit LSTM on this task with its own optimiser settings, so
# read the two chapters' curves side by side with care; chapter 07 compares the
# architectures under equal conditions and over several seeds.

# %%
T, HIDDEN, STEPS = 100, 32, 800
x_test, y_test = adding_problem(1000, T, seed=12345)


def evaluate(model):
    return {"mse": nn.functional.mse_loss(model(x_test), y_test)}


def train(model):
    """Train on the adding problem; every model sees the same batches, in the same order."""
    seeds = itertools.count(1_000)
    return fit(model, lambda: adding_problem(64, T, seed=next(seeds)), nn.MSELoss(),
               steps=STEPS, lr=3e-3, clip_norm=1.0, evaluate=evaluate, eval_every=50)


seed_everything(0)
gru_model = SequenceModel("gru", input_size=2, hidden_size=HIDDEN, output_size=1, squeeze=True)
cho_model = copy.deepcopy(gru_model)                     # the same head and the same weights
cho_model.rnn = ChoGRU(2, HIDDEN, batch_first=True)
cho_model.rnn.load_state_dict(gru_model.rnn.state_dict())
rnn_model = SequenceModel("rnn", input_size=2, hidden_size=HIDDEN, output_size=1, squeeze=True)

histories = {"GRU, PyTorch's form": train(gru_model),
             "GRU, Cho's form": train(cho_model),
             "tanh RNN": train(rnn_model)}
final = {name: history.evals[-1]["mse"] for name, history in histories.items()}
for name, history in histories.items():
    solved = history.first_step("mse", at_most=0.01)
    print(f"{name:<20} test MSE after {STEPS} steps: {final[name]:.4f} "
          f"({final[name] / ADDING_BASELINE_MSE:.1%} of the baseline); first below 0.01 "
          f"at step {solved or 'never'}")
assert final["GRU, PyTorch's form"] < 0.01 and final["GRU, Cho's form"] < 0.01
assert final["tanh RNN"] > 0.9 * ADDING_BASELINE_MSE
for name in ("GRU, PyTorch's form", "GRU, Cho's form"):
    mse_at = dict(zip(*histories[name].metric("mse"), strict=True))
    print(f"{name:<20} test MSE at step 450: {mse_at[450]:.4f}, at step 550: "
          f"{mse_at[550]:.4f}, largest from step 600 on: "
          f"{max(v for step, v in mse_at.items() if step >= 600):.4f}")
    assert mse_at[450] > 0.8 * ADDING_BASELINE_MSE            # still on the plateau
    assert mse_at[550] < mse_at[450] / 10                     # a fall of more than 10x
    assert all(v < 0.01 for step, v in mse_at.items() if step >= 600)

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
for name, history in histories.items():
    ax.semilogy(*history.metric("mse"), label=name)
ax.axhline(ADDING_BASELINE_MSE, color="gray", ls=":", label="predict 1 (baseline)")
ax.axhline(0.01, color="gray", ls="--", lw=0.8, label="MSE 0.01")
ax.set(xlabel="training step", ylabel="test MSE", title=f"The adding problem, T = {T}")
ax.legend()
plt.show()

# %% [markdown]
# Both GRUs sit on the baseline plateau for about 450 steps, the time it takes to discover
# that the markers matter. Then, within a hundred steps, their test MSE falls more than
# tenfold; both are below 0.01 from step 600, and they end at 0.0040 (PyTorch's form) and
# 0.0043 (Cho's form), 2.4% and 2.6% of the baseline. Both forms learn, from the same
# start and at a similar pace. One run each cannot tell which form is better, and this
# chapter does not claim that either is; chapter 07 compares architectures over several
# seeds. The plain RNN, trained in exactly the same way, is still on the plateau after 800
# steps, as it was in chapter 04.
#
# ## Two misconceptions, tested
#
# ### "The GRU has three gates"
#
# It is easy to see where this comes from. A GRU layer has three blocks of weights, and
# PyTorch's own documentation calls $r_t$, $z_t$ and $n_t$ "the reset, update, and new
# gates". But $n_t$ is not a gate. A gate is a vector of numbers in $(0, 1)$ that
# *multiplies* another signal to let a fraction of it through: $r$ multiplies the recurrent
# contribution to the candidate, $z$ and $1 - z$ multiply the old state and the candidate.
# The candidate $n$ is the signal itself, the content that gets written, and it comes out
# of a $\tanh$, so it is negative as often as the task needs. The LSTM has the same
# structure with four blocks: three gates ($i, f, o$) and one candidate ($g$). Our gate by
# gate code above, with exactly two sigmoids, reproduced `nn.GRU` exactly, so there is no
# third gate hidden anywhere.
#
# The trained GRU gives direct evidence. `rnnbook.gradients.gate_trace` runs a GRU layer over
# a batch and returns $r$, $z$, $n$ and $h$ at every step and unit (it checks itself: its
# $h$ is the layer's output).

# %%
x_probe = x_test[:200]
with torch.no_grad():
    gates = gate_trace(gru_model.rnn, x_probe)
    output, _ = gru_model.rnn(x_probe)
assert (gates["h"] - output).abs().max() < 1e-5

for name in ("r", "z", "n"):
    v = gates[name].flatten()
    print(f"{name}: min {v.min():+.4f}  max {v.max():+.4f}  "
          f"negative {(v < 0).float().mean():5.1%}  mean {v.mean():+.4f}")
assert gates["r"].min() > 0 and gates["z"].min() > 0 and gates["r"].max() < 1 and gates["z"].max() < 1
assert (gates["n"] < 0).float().mean() > 0.25 and gates["n"].min() < -0.5

# %% [markdown]
# The reset and update gates stay inside $(0, 1)$, as gates must; the candidate is negative
# 71% of the time and goes down to $-0.93$. It is not a gate, it is what the gates let in.
#
# ### "Gate values are only 0 or 1"
#
# Diagrams draw gates as switches, and the word "gate" suggests open or shut. But a sigmoid
# only comes near 0 or 1 when its input is large, and nothing in training forces that.
# Chapter 04 measured this on a trained LSTM; here is the GRU. Let us look at the
# distribution of every gate value, and count how many are near the ends.

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
assert near_ends(gates["r"]) < 0.01 and near_ends(gates["z"]) < 0.01
assert in_middle(gates["r"]) > 0.9 and in_middle(gates["z"]) > 0.3

fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
gate_histograms({"reset gate $r$": gates["r"], "update gate $z$": gates["z"],
                 "candidate $n$ (not a gate)": gates["n"]}, bins=50, axes=axes)
fig.tight_layout()
fig.suptitle(f"Every step and unit of the trained GRU, on {len(x_probe)} test sequences",
             y=1.04)
plt.show()

# %% [markdown]
# In the GRU that solved the adding problem, 99.7% of the reset-gate values and 48.9% of the
# update-gate values lie between 0.1 and 0.9, and fewer than 1% of either are within 0.01 of
# 0 or 1. The update gate leans towards keeping (its values pile up near 1, a memory), but
# it is a dial, not a switch. Partly open gates are how a GRU mixes old and new content,
# and they are also what lets the gates keep learning: a sigmoid stuck at 0 or 1 has a
# derivative of almost zero, so its weights receive almost no gradient.
#
# The dial moves for a reason. Here is $1 - z$, the share of its state that each unit
# *overwrites*, at every step of one test sequence; the red triangles mark the two marked
# steps.

# %%
example = 0
marked = x_probe[example, :, 1].nonzero().flatten().tolist()
write = 1 - gates["z"][example].T.numpy()                  # (units, steps)
fig, ax = plt.subplots(figsize=(10, 3.8))
image = ax.imshow(write, aspect="auto", cmap="viridis", vmin=0, vmax=1)
ax.scatter(marked, [-1.5, -1.5], marker="v", s=60, color="C3", clip_on=False)
ax.set(xlabel="step", ylabel="unit", ylim=(write.shape[0] - 0.5, -0.5))
ax.set_title(f"How much each unit writes, $1 - z_t$ (markers at steps {marked[0]} and "
             f"{marked[1]})", pad=14)
fig.colorbar(image, ax=ax, label="$1 - z$")
plt.show()


def write_by_phase(gates, x):
    """The median of 1 - z over units and sequences, in five phases of each sequence."""
    t = torch.arange(x.size(1))
    first, second = x[:, :, 1].nonzero()[:, 1].view(-1, 2).T[:, :, None]   # (2, B, 1)
    phases = {"before the 1st marker": t < first, "at the 1st marker": t == first,
              "between the markers": (t > first) & (t < second),
              "at the 2nd marker": t == second, "after the 2nd marker": t > second}
    return {name: (1 - gates["z"])[mask].median().item() for name, mask in phases.items()}


phases = write_by_phase(gates, x_probe)
for name, value in phases.items():
    print(f"median 1 - z {name:<22} {value:.4f}")
assert phases["at the 1st marker"] > 3 * phases["between the markers"]
assert phases["at the 2nd marker"] > 3 * phases["between the markers"]
assert phases["between the markers"] < phases["before the 1st marker"]

# %% [markdown]
# A few units write much of their state at every step (the bright rows): they follow the
# current input, a short-term memory. The others change regime
# at the markers. The medians over all 200 test sequences make it precise: the typical unit
# overwrites 0.41 of its state at the first marker and 0.32 at the second, but only 0.08
# between the markers and after them, less than the 0.14 it overwrites before the first
# marker, when there is nothing yet to protect. The network has learned to open its update gates
# when there is something worth storing, and to close them, mostly but never completely,
# while it holds it.
#
# ## Summary
#
# - The GRU keeps one state $h_t$ and updates it as a convex combination,
#   $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$: the **update gate** couples the LSTM's
#   forget and input gates, and the **reset gate** decides how much of the old state the
#   candidate sees. Two gates, one candidate, three blocks of weights,
#   $3(HI + H^2 + 2H)$ parameters in PyTorch.
# - Our gate by gate cell equals `nn.GRU` to within $10^{-6}$, which also proves PyTorch's block
#   order $r, z, n$.
# - Cho et al. apply the reset before the recurrent product, PyTorch (following cuDNN)
#   after it, so that one matrix product per step serves all three blocks. With the same
#   weights the two forms differ by up to 0.12; they agree when $W_{hn}$ is diagonal and
#   $b_{hn} = 0$, so that the reset commutes with the product. Both learn the adding
#   problem from the same start.
# - Which way $z$ points is a relabelling ($1 - \sigma(a) = \sigma(-a)$); where the reset
#   sits is a different model; of PyTorch's six bias vectors, $b_{hr}$ and $b_{hz}$ are
#   redundant but $b_{hn}$ is not.
# - $\partial h_t / \partial h_{t-1} = \operatorname{diag}(z) + \operatorname{diag}(1 - z)\,
#   \partial n / \partial h + \operatorname{diag}(h - n)\, \partial z / \partial h$. It tends
#   to $I$ when $z \to 1$, to $0$ when $z \to 0, r \to 0$, and to a plain RNN's Jacobian
#   when $z \to 0, r \to 1$; we checked all three against autograd. Over 100 steps the
#   update gate's bias moves $\lVert \partial h_{100} / \partial h_0 \rVert$ over fifty
#   orders of magnitude.
# - A 32-unit GRU solves the adding problem at $T = 100$ in 800 steps of training (test MSE
#   0.0040 in PyTorch's form and 0.0043 in Cho's, 2.4% and 2.6% of the baseline), where a
#   plain RNN trained the same way stays on the baseline.
# - The candidate is not a gate (it is negative 71% of the time), and trained gates are
#   dials, not switches: most values lie well inside $(0, 1)$. The update gate opens at
#   the markers, where there is something to store, and mostly closes while the network
#   holds it.
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

# %%
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

# %%
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
# against autograd on a `ChoGRU` cell. Which of the three limiting cases change?
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

# %%
from rnnbook.variants import ChoGRUCell


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
# **4. Are the gates of Cho's form dials too?** Repeat the gate statistics of the
# misconceptions section for the Cho-form GRU trained above. Do the conclusions (the
# candidate is often negative, the gates are rarely near 0 or 1, the update gate opens at the
# markers) still hold?
#
# <details><summary>Solution</summary>
#
# `gate_trace` also reads a `ChoGRU`. The cell below computes the same statistics with the
# helpers `near_ends` and `write_by_phase` defined above. All three conclusions hold for
# the Cho-form model too: its candidate is negative 69% of the time, at most 1.4% of its
# gate values lie within 0.01 of 0 or 1, and the typical unit overwrites 0.44 and 0.35 of
# its state at the two markers against 0.14 between them. The contrast is weaker than in
# PyTorch's form (its units keep writing a little more while they hold), but the pattern
# is the same, so it is not an accident of one formulation.
#
# </details>

# %%
with torch.no_grad():
    cho_gates = gate_trace(cho_model.rnn, x_probe)
    assert (cho_gates["h"] - cho_model.rnn(x_probe)[0]).abs().max() < 1e-5
cho_negative_n = (cho_gates["n"] < 0).float().mean().item()
cho_phases = write_by_phase(cho_gates, x_probe)
print(f"Cho's form: n negative {cho_negative_n:.1%}; within 0.01 of 0 or 1: "
      f"r {near_ends(cho_gates['r']):.1%}, z {near_ends(cho_gates['z']):.1%}")
for name, value in cho_phases.items():
    print(f"median 1 - z {name:<22} {value:.4f}")
assert cho_negative_n > 0.25
assert near_ends(cho_gates["r"]) < 0.05 and near_ends(cho_gates["z"]) < 0.05
assert cho_phases["at the 1st marker"] > 2 * cho_phases["between the markers"]
assert cho_phases["at the 2nd marker"] > 2 * cho_phases["between the markers"]

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

# %%
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
print(f"the same, transposed but blocks not reordered: max |difference| {naive_gap:.4f}")
assert keras_gap < 1e-6 and naive_gap > 0.05

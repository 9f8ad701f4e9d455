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
# # The recurrent cell
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/rnnbook/rnnbook/blob/main/chapters/02_recurrent_cell.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/rnnbook/rnnbook/main?labpath=chapters%2F02_recurrent_cell.ipynb)
#
# Chapter 01 forecast a series from a window of its last 18 values. A window sees exactly what
# fits in it and nothing older, and it has a fixed length. This chapter replaces the window
# with a **state**: a vector that the network carries from step to step, updating it with each
# new input. That one idea is the recurrent neural network.
#
# **What you will learn**
#
# - the equations of the plain (Elman) recurrent cell, and what the hidden state is;
# - how the state of an RNN sees a sentence word by word: everything up to now, nothing after;
# - how a recurrent weight creates memory, with a cell wired by hand, and why its memory is
#   a stable fixed point;
# - how to write the RNN forward pass in NumPy, then in PyTorch, and prove it equal to
#   `torch.nn.RNN` with copied weights;
# - how many parameters an RNN has, as a formula checked against PyTorch;
# - how to train a first character-level language model with teacher forcing, in a loop
#   written out in full, measure it against unigram, bigram and trigram baselines on the
#   same held-out text, in bits per character, and sample text from it.

# %%
# On Colab, install the book's package first. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "rnnbook @ git+https://github.com/rnnbook/rnnbook"], check=True)

# %% [markdown]
# ## From a window to a state
#
# A linear AR model computes its forecast from the window $(x_{t-p+1}, \dots, x_t)$ in one
# go. A recurrent network reads the sequence one step at a time and keeps a running summary,
# the **hidden state** $h_t \in \mathbb{R}^H$. At each step it combines the new input
# $x_t \in \mathbb{R}^I$ with the previous state:
#
# $$h_t = \tanh\big(W_{ih}\,x_t + b_{ih} + W_{hh}\,h_{t-1} + b_{hh}\big), \qquad h_0 = 0,$$
#
# and whenever an output is needed it reads it from the state, for example
#
# $$\hat y_t = W_{hy}\,h_t + b_y .$$
#
# This is the **Elman network** (Elman, 1990), today simply "the RNN". Three things about it
# matter for everything that follows.
#
# - **The state is the only memory.** Whatever the network knows at step $t$ about
#   $x_1, \dots, x_{t-1}$ must have been written into the $H$ numbers of $h_{t-1}$.
# - **The same weights at every step.** $W_{ih}$ ($H \times I$), $W_{hh}$ ($H \times H$) and
#   the biases are shared across time, so one network reads sequences of any length with a
#   fixed number of parameters, and what it learns at step 3 applies at step 300.
# - **The recurrent weight $W_{hh}$ is what makes it recurrent.** With $W_{hh} = 0$ each
#   $h_t$ depends on $x_t$ alone, and the network is a feed-forward one applied at every step.
#
# The tanh keeps each component of the state in $(-1, 1)$. PyTorch keeps two bias vectors,
# $b_{ih}$ and $b_{hh}$, where one would do, to match NVIDIA's cuDNN library; only their sum
# $b = b_{ih} + b_{hh}$ matters. (The symbols are the book's throughout; chapter 00 lists
# them all.)
#
# The figure shows the cell two ways. **Folded**, it is one cell with a loop: the state it
# produces comes back as its own input at the next step. **Unrolled** over time, it is a chain
# of copies of that cell, each passing its state to the next, and every copy uses the same
# four weights. The unrolled picture is the one to keep in mind: it is a feed-forward network
# as deep as the sequence is long, and chapter 03 trains it by backpropagating through it.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import rnnbook
from rnnbook.baselines import ngram_cross_entropy

from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

words = "My class does not meet on Friday this week".split()


def box(ax, x, y, text, color, w=0.9, h=0.5):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                                fc=color, ec="0.2", lw=1.1, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=11, zorder=4)


def arrow(ax, start, end, color="0.2"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=color,
                                 lw=1.3, shrinkA=0, shrinkB=0, zorder=2))


def draw_cell(ax, x0, t, label_right=False):
    """One copy of the cell, left edge at x0: x_t -> W_ih -> + <- W_hh <- h_{t-1}, then tanh,
    h_t and the read-out W_hy. Drawing code only: nothing else depends on it."""
    xc = x0 + 1.2
    ax.text(xc, -0.55, f"$x_{{{t}}}$", ha="center", va="center", fontsize=12)
    arrow(ax, (xc, -0.35), (xc, 0.25))
    box(ax, xc, 0.5, "$W_{ih}$", "#cfe2f3")
    arrow(ax, (xc, 0.75), (xc, 1.32))
    ax.add_patch(Circle((xc, 1.5), 0.18, fc="white", ec="0.2", zorder=3))
    ax.text(xc, 1.5, "+", ha="center", va="center", fontsize=12, zorder=4)
    box(ax, x0 + 0.35, 1.5, "$W_{hh}$", "#f2c45a", w=0.7)
    arrow(ax, (x0 + 0.7, 1.5), (xc - 0.18, 1.5))
    arrow(ax, (xc, 1.68), (xc, 2.05))
    ax.text(xc + 0.25, 1.86, r"$+\,b$", fontsize=10, va="center")
    box(ax, xc, 2.3, "tanh", "#d9ead3")
    arrow(ax, (xc, 2.55), (xc, 3.2))
    ax.text(xc + (0.1 if label_right else -0.1), 2.9, f"$h_{{{t}}}$", fontsize=12,
            va="center", ha="left" if label_right else "right")
    box(ax, xc, 3.45, "$W_{hy}$", "#ead1dc")
    arrow(ax, (xc, 3.7), (xc, 4.15))
    ax.text(xc, 4.4, f"$\\hat y_{{{t}}}$", ha="center", va="center", fontsize=12)
    return xc


fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [1, 2.6]})
ax = axes[0]
xc = draw_cell(ax, 0.0, "t", label_right=True)
ax.plot([xc, -0.35, -0.35], [2.9, 2.9, 1.5], color="C3", lw=1.3, zorder=1)   # the loop
arrow(ax, (-0.35, 1.5), (0.0, 1.5), color="C3")
ax.text(-0.45, 2.2, "becomes $h_{t-1}$\nof the next step", color="C3", fontsize=9,
        va="center", ha="right")
ax.set(xlim=(-2.2, 2.6), ylim=(-0.9, 4.8), title="folded: one cell and a loop")
ax.axis("off")
ax = axes[1]
ax.text(-0.45, 1.5, "$h_0$", ha="right", va="center", fontsize=12)
arrow(ax, (-0.4, 1.5), (0.05, 1.5), color="C3")
for t, word in enumerate(words[:3], start=1):
    xc = draw_cell(ax, (t - 1) * 2.2 + 0.05, t)
    ax.text(xc, -0.85, f'"{word}"', ha="center", va="center", fontsize=9, color="0.4")
    if t < 3:                                   # h_t feeds the next copy's W_hh
        ax.plot([xc, xc + 0.6, xc + 0.6], [2.9, 2.9, 1.5], color="C3", lw=1.3, zorder=1)
        arrow(ax, (xc + 0.6, 1.5), (xc + 0.9, 1.5), color="C3")
ax.text(xc + 0.7, 2.9, "...", fontsize=14, va="center")
ax.text(3.4, 4.75, "the same $W_{ih}$, $W_{hh}$, $b$ and $W_{hy}$ at every step",
        ha="center", fontsize=10)
ax.set(xlim=(-0.5, 7.3), ylim=(-1.1, 5.0), title="unrolled over the first three words")
ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The forward pass in NumPy
#
# In code, the loop over time is a plain Python loop. We process a **batch** of $B$
# sequences at once, so $x_t$ is a matrix of shape $(B, I)$ and $h_t$ of shape $(B, H)$; with
# one sequence per row, the matrix products are written $x_t W_{ih}^\top$ rather than
# $W_{ih} x_t$. The whole input is a tensor of shape $(T, B, I)$, time first, which is
# PyTorch's default layout.

# %%
def rnn_forward_numpy(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Run a tanh RNN over x of shape (T, B, I) from h0 of shape (B, H).

    Returns every state, shape (T, B, H), and the last one, shape (B, H)."""
    h = h0
    states = []
    for x_t in x:                                              # one time step at a time
        h = np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)   # the only line that matters
        states.append(h)
    return np.stack(states), h

# %% [markdown]
# ## Unrolling a sentence
#
# Let us feed it the sentence "My class does not meet on Friday this week", one word per
# step. Each word becomes a **one-hot**
# vector: the vocabulary is the sentence's words plus a placeholder `<unk>`, and word $j$ is
# the vector with a 1 in position $j$ and 0 elsewhere. We take $H = 16$ and random weights
# drawn as PyTorch draws them, from $U(-1/\sqrt H, 1/\sqrt H)$. The network is untrained, so
# its states mean nothing yet, but the *flow of information* through them is already fixed by
# the equations.

# %%
vocab_words = sorted(set(words)) + ["<unk>"]
word_index = {w: i for i, w in enumerate(vocab_words)}


def one_hot(sentence):
    """A sentence (list of words) as a one-hot tensor of shape (T, 1, vocabulary size)."""
    x = np.zeros((len(sentence), 1, len(vocab_words)))
    x[np.arange(len(sentence)), 0, [word_index[w] for w in sentence]] = 1.0
    return x


rnnbook.seed_everything(0)
H, I = 16, len(vocab_words)
k = 1 / math.sqrt(H)
W_ih, W_hh = np.random.uniform(-k, k, (H, I)), np.random.uniform(-k, k, (H, H))
b_ih, b_hh = np.random.uniform(-k, k, H), np.random.uniform(-k, k, H)

states, last = rnn_forward_numpy(one_hot(words), np.zeros((1, H)), W_ih, W_hh, b_ih, b_hh)
print(f"input {one_hot(words).shape} -> states {states.shape}, last state {last.shape}")
# illustrations of the shapes and of tanh's range, true by construction, not findings:
assert states.shape == (len(words), 1, H) and np.array_equal(states[-1], last)
assert np.abs(states).max() < 1

# %% [markdown]
# What does the state at step $t$ "see"? Replace one word by `<unk>`, run the sentence
# again, and measure how far each state moves, $\lVert h_t' - h_t \rVert$. Doing this for
# every word gives a matrix: row $k$ is the word that was changed, column $t$ the step.

# %%
T = len(words)
moved = np.zeros((T, T))                      # moved[k, t] = ||h_t' - h_t|| if word k changes
for changed in range(T):
    altered = list(words)
    altered[changed] = "<unk>"
    states_alt, _ = rnn_forward_numpy(one_hot(altered), np.zeros((1, H)), W_ih, W_hh,
                                      b_ih, b_hh)
    moved[changed] = np.linalg.norm(states_alt - states, axis=(1, 2))

before = moved[np.tril_indices(T, -1)]        # steps t < k, before the changed word
after = moved[np.triu_indices(T)]             # steps t >= k
print(f"largest change of a state before the changed word: {before.max()}")
print(f"smallest change at or after it: {after.min():.4f}")
print(f"changing '{words[0]}': state moves {moved[0, 0]:.4f} at once, "
      f"{moved[0, -1]:.4f} at the last word")
assert before.max() == 0 and after.min() > 0      # causal: for any weights, exactly

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
im = axes[0].imshow(states[:, 0, :].T, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
axes[0].set_xticks(range(T), words, rotation=45)
axes[0].set(ylabel="unit of $h_t$", title="the 16 numbers of the state after each word")
fig.colorbar(im, ax=axes[0])
masked = np.ma.masked_equal(moved, 0)
im = axes[1].imshow(masked, cmap="viridis", norm="log", aspect="auto")
axes[1].set_xticks(range(T), words, rotation=45)
axes[1].set_yticks(range(T), words)
axes[1].set(xlabel="state after word $t$", ylabel="word $k$ replaced by <unk>",
            title="$\\|h_t' - h_t\\|$ (blank: exactly 0)")
fig.colorbar(im, ax=axes[1])
fig.tight_layout()
plt.show()

# %% [markdown]
# The left panel is the state itself: after each word, 16 numbers between $-1$ and $1$,
# meaningless for now because the weights are random. The right panel is the chapter in one
# picture.
#
# - **Below the diagonal everything is exactly zero**: the state after "class" does not
#   change when "Friday" does. An RNN reading left to right is *causal*; $h_t$ is a function
#   of $x_1, \dots, x_t$ only. (Bidirectional RNNs, in chapter 08, add a second pass from the
#   right.)
# - **On and above the diagonal nothing is zero**: a word influences the state at its own
#   step and at every step after it. The last state has seen the whole sentence.
# - **The influence fades.** Read along the top row: changing "My" moves the first state a
#   lot and the last one much less (in the run stored with this notebook, about twenty
#   times less). With small random weights each step shrinks the old information. That is
#   a claim about random weights in general, not about this one draw, so the next cell
#   repeats the measurement for 40 fresh draws.

# %%
fade = []
for draw in range(40):
    rng = rnnbook.numpy_rng(100 + draw)
    weights = [rng.uniform(-k, k, shape) for shape in [(H, I), (H, H), (H,), (H,)]]
    original, _ = rnn_forward_numpy(one_hot(words), np.zeros((1, H)), *weights)
    changed, _ = rnn_forward_numpy(one_hot(["<unk>"] + words[1:]), np.zeros((1, H)), *weights)
    change = np.linalg.norm(changed - original, axis=(1, 2))
    fade.append(change[-1] / change[0])              # what is left of the first word at the last
print(f"40 draws of random weights: the last state moves {np.median(fade):.1%} as much as the "
      f"first (median); at most {max(fade):.1%}")
# 1,000 draws: median 0.6%, largest 6.2%; medians of 40 draws between 0.4% and 0.8%
assert np.median(fade) < 0.02 and max(fade) < 0.1

# %% [markdown]
# Eight words later, a typical draw keeps well under 2% of the first word's mark on the
# state (the median printed above), and no draw keeps as much as 10%. A trained network can keep information longer, but not easily: why the
# influence of distant inputs tends to vanish, and what to do about it, is the subject of
# chapters 04 to 06.
#
# ## Memory you can wire by hand
#
# The recurrent weight is what holds information. To see it plainly, set the weights
# ourselves. Take two units that both fire on the word "not":
#
# - unit 1 has a self-connection of weight 4: $h_t^{(1)} = \tanh(8\,[x_t = \text{not}] + 4\,h_{t-1}^{(1)} - 2)$;
# - unit 2 has none: $h_t^{(2)} = \tanh(4\,[x_t = \text{not}] - 2)$.
#
# Before "not", unit 1 sits near $-1$: then $4h - 2 \approx -6$ and $\tanh(-6) \approx -1$, a
# stable resting state. "Not" pushes it to $\tanh(8 - 4 - 2) = 0.964$, and from there the
# self-connection keeps it up: $h = \tanh(4h - 2)$ has a second fixed point near $0.94$,
# and it is stable, because the slope of $\tanh(4h - 2)$ there is below 1, so small
# disturbances shrink. The unit is a **latch**, a one-bit memory, that remembers that the sentence was
# negated, however many words follow.

# %% tags=["nbval-check-output"]
W_ih_latch = np.zeros((2, I))
W_ih_latch[0, word_index["not"]], W_ih_latch[1, word_index["not"]] = 8.0, 4.0
W_hh_latch = np.array([[4.0, 0.0], [0.0, 0.0]])       # only unit 1 feeds back on itself
b_latch = np.array([-2.0, -2.0])
latch, _ = rnn_forward_numpy(one_hot(words), np.zeros((1, 2)), W_ih_latch, W_hh_latch,
                             b_latch, np.zeros(2))
latch = latch[:, 0, :]
for word, (u1, u2) in zip(words, latch, strict=True):
    print(f"{word:>7}: unit 1 {u1:+.4f}   unit 2 {u2:+.4f}")
position = words.index("not")
assert (latch[:position, 0] < -0.9).all() and (latch[position:, 0] > 0.9).all()
assert latch[position, 1] > 0.9 and (np.delete(latch[:, 1], position) < -0.9).all()

# however many words follow: 500 more, and the fixed point it settles on is stable
longer, _ = rnn_forward_numpy(one_hot(words + ["week"] * 500), np.zeros((1, 2)), W_ih_latch,
                              W_hh_latch, b_latch, np.zeros(2))
fixed = longer[-1, 0, 0]
slope = 4 * (1 - fixed ** 2)           # d tanh(4h - 2) / dh at the fixed point
print(f"after 500 more words: unit 1 {fixed:+.4f}, slope there {slope:.4f}; "
      f"|tanh(4h - 2) - h| is below 1e-9: a fixed point")
assert fixed > 0.9 and abs(np.tanh(4 * fixed - 2) - fixed) < 1e-9 and slope < 1

fig, ax = plt.subplots(figsize=(8, 3))
ax.step(range(T), latch[:, 0], where="mid", marker="o", label="unit 1: self-weight 4 (memory)")
ax.step(range(T), latch[:, 1], where="mid", marker="s", label="unit 2: self-weight 0")
ax.set_xticks(range(T), words)
ax.set(ylabel="$h_t$", ylim=(-1.15, 1.15), title="a hand-wired latch remembers 'not'")
ax.legend(loc="center right", fontsize=8)
plt.show()

# %% [markdown]
# Both units see the same input; only the one with a recurrent weight remembers it.
#
# Why is the memory reliable? Between inputs, unit 1 just applies the map
# $h \mapsto \tanh(4h - 2)$ over and over. Its **fixed points**, where $\tanh(4h - 2) = h$,
# are where it can rest, and a fixed point is *stable* when the slope of the map there is
# below 1 in absolute value, so that a small disturbance shrinks at every step. A **cobweb
# plot** draws the iteration: go up to the curve (apply the map), across to the diagonal (the
# output becomes the next input), and repeat. The map has three fixed points, found below by
# bisection:

# %% tags=["nbval-check-output"]
def latch_map(h):
    return np.tanh(4 * h - 2)


grid = np.linspace(-1, 1, 2001)
excess = latch_map(grid) - grid
fixed_points = []
for i in np.flatnonzero(np.sign(excess[:-1]) != np.sign(excess[1:])):
    lo, hi = grid[i], grid[i + 1]                  # a sign change: a fixed point in between
    for _ in range(60):
        mid = (lo + hi) / 2
        same_side = np.sign(latch_map(mid) - mid) == np.sign(latch_map(lo) - lo)
        lo, hi = (mid, hi) if same_side else (lo, mid)
    fixed_points.append((lo + hi) / 2)
slopes = [4 * (1 - latch_map(h) ** 2) for h in fixed_points]   # d tanh(4h - 2) / dh
for h, slope in zip(fixed_points, slopes, strict=True):
    print(f"fixed point h* = {h:+.4f}: slope {slope:.4f}, "
          f"{'stable' if slope < 1 else 'unstable'}")
assert len(fixed_points) == 3
assert slopes[0] < 1 and slopes[1] > 1 and slopes[2] < 1      # stable, unstable, stable
assert abs(fixed_points[2] - fixed) < 1e-6     # where the latch settled after 500 words


def cobweb(ax, start, color, label, steps=15):
    h, xs, ys = start, [start], [start]
    for _ in range(steps):
        xs += [h, latch_map(h)]
        ys += [latch_map(h), latch_map(h)]
        h = latch_map(h)
    ax.plot(xs, ys, color=color, lw=1, label=label)


threshold = fixed_points[1]
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
for ax, (lo, hi) in zip(axes, [(-1.05, 1.05), (0.62, 1.0)], strict=True):
    span = np.linspace(lo, hi, 500)
    ax.plot(span, latch_map(span), color="C0", lw=2, label=r"$h \mapsto \tanh(4h - 2)$")
    ax.plot(span, span, color="0.5", lw=0.8, label="diagonal")
    cobweb(ax, threshold - 0.03, "C3", f"from {threshold - 0.03:.2f}: falls to $-1$")
    cobweb(ax, threshold + 0.03, "C2", f"from {threshold + 0.03:.2f}: rises to the latch")
    for h, slope in zip(fixed_points, slopes, strict=True):
        ax.plot(h, h, "o", ms=8, mfc="k" if slope < 1 else "white", mec="k", zorder=5)
    ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel="$h_{t-1}$", ylabel="$h_t$")
for h, slope in zip(fixed_points, slopes, strict=True):
    kind = "stable" if slope < 1 else "unstable"
    axes[0 if h < 0 else 1].annotate(f"$h^* = {h:.4f}$\nslope {slope:.2g}: {kind}", (h, h),
                                     xytext=(12, 10) if h < 0 else (12, -28) if slope > 1
                                     else (-118, 6), textcoords="offset points", fontsize=9)
axes[0].set_title("the latch without input: three fixed points")
axes[0].legend(fontsize=8, loc="upper left")
axes[1].set_title("zoomed in: the unstable point is a threshold")
fig.tight_layout()
plt.show()

# %% [markdown]
# The two filled points are the latch's two states: "off" at $h^* \approx -1$, where the map
# is almost flat (slope $10^{-4}$), and "on" at $h^* = 0.9445$, slope 0.43. Between them sits
# an unstable fixed point at $0.7347$, slope 1.84, and it acts as a threshold: from just
# below it, the iteration (red) runs down to "off"; from just above (green), up to "on". The
# word "not" pushes the unit to $\tanh(8 - 4 - 2) = 0.964$, above the threshold, so the
# unit stays "on" for good; an input that only reached 0.7 would be forgotten within a few
# words. A memory, in this picture, is a stable fixed point of the state's own dynamics,
# and an input is remembered when it moves the state into that point's basin. Chapters 04
# to 06 come back to this: how far the slope of each step lies below 1 decides how fast a
# network forgets.
#
# Training a recurrent network means finding weights like these automatically, from data,
# for whatever the task needs remembered. Exercise 5 wires a latch for Python comments.
#
# ## The same network in PyTorch
#
# The PyTorch version is the same loop, with tensors and learnable parameters. We give the
# parameters the names and shapes that `torch.nn.RNN` uses (`weight_ih_l0`, `weight_hh_l0`,
# `bias_ih_l0`, `bias_hh_l0`; the `l0` is the layer number) and return what it returns: all
# states, and the last state with a leading layer dimension. That way the weights of an
# `nn.RNN` load straight into ours with `load_state_dict`, and we can check that the two
# compute the same thing.

# %%
class ScratchRNN(nn.Module):
    """A one-layer tanh RNN with the parameter names, shapes and outputs of nn.RNN."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        k = 1 / math.sqrt(hidden_size)               # PyTorch's initialisation
        self.weight_ih_l0 = nn.Parameter(torch.empty(hidden_size, input_size).uniform_(-k, k))
        self.weight_hh_l0 = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih_l0 = nn.Parameter(torch.empty(hidden_size).uniform_(-k, k))
        self.bias_hh_l0 = nn.Parameter(torch.empty(hidden_size).uniform_(-k, k))

    def forward(self, x, h0=None):
        """x (T, B, I), h0 (1, B, H) or None -> outputs (T, B, H), h_n (1, B, H)."""
        h = x.new_zeros(x.shape[1], self.hidden_size) if h0 is None else h0[0]
        outputs = []
        for x_t in x:
            h = torch.tanh(x_t @ self.weight_ih_l0.T + self.bias_ih_l0
                           + h @ self.weight_hh_l0.T + self.bias_hh_l0)
            outputs.append(h)
        return torch.stack(outputs), h.unsqueeze(0)


# %% [markdown]
# Now the proof. Build an `nn.RNN` and a `ScratchRNN` of the same size, in double precision
# so that only true differences show, copy the weights, run both on the same random batch
# from a random initial state, and compare the outputs. Then backpropagate the same loss
# through both and compare the gradient of every parameter. We also run the NumPy version on
# the same weights.

# %% tags=["nbval-check-output"]
rnnbook.seed_everything(0)
T_, B_, I_, H_ = 7, 3, 5, 4
theirs = nn.RNN(I_, H_, dtype=torch.float64)
ours = ScratchRNN(I_, H_).double()
ours.load_state_dict(theirs.state_dict())          # the same weights, by name

x = torch.randn(T_, B_, I_, dtype=torch.float64)
h0 = torch.randn(1, B_, H_, dtype=torch.float64)
out_theirs, hn_theirs = theirs(x, h0)
out_ours, hn_ours = ours(x, h0)
(out_theirs.pow(2).sum() + hn_theirs.sum()).backward()
(out_ours.pow(2).sum() + hn_ours.sum()).backward()

weights = {name: p.detach().numpy() for name, p in theirs.named_parameters()}
out_numpy, _ = rnn_forward_numpy(x.numpy(), h0[0].numpy(), weights["weight_ih_l0"],
                                 weights["weight_hh_l0"], weights["bias_ih_l0"],
                                 weights["bias_hh_l0"])
output_gap = (out_ours - out_theirs).abs().max().item()
state_gap = (hn_ours - hn_theirs).abs().max().item()
grads_ours = dict(ours.named_parameters())
grad_gap = max((grads_ours[name].grad - p.grad).abs().max().item()
               for name, p in theirs.named_parameters())
numpy_gap = np.abs(out_numpy - out_theirs.detach().numpy()).max()
print(f"shapes: outputs {tuple(out_ours.shape)}, h_n {tuple(hn_ours.shape)}")
for name, value in [("outputs", output_gap), ("h_n", state_gap), ("gradients", grad_gap),
                    ("NumPy outputs", numpy_gap)]:
    print(f"largest difference to nn.RNN, {name}: "
          f"{'below 1e-12' if value < 1e-12 else f'{value:.1e}'}")
assert max(output_gap, state_gap, grad_gap, numpy_gap) < 1e-12
assert torch.equal(out_ours[-1], hn_ours[0])      # the last output is the final state

# %% [markdown]
# All four agree to within $10^{-12}$; the differences are in fact a few times
# $10^{-16}$ to $10^{-15}$, the rounding error of double precision, with digits that depend on
# your CPU (which is why the cell prints a bound). Our dozen lines compute exactly what
# `nn.RNN` computes, forward and backward. (PyTorch's
# own version runs the loop in C++, and on a GPU in cuDNN, which is why it is faster; it is
# not different.)
# Notice the last assert: for a one-layer RNN, the output at the last step *is* the final
# state; `nn.RNN` returns it separately because with several layers, or two directions,
# the two differ.
#
# > **Common mistake.** Many tutorials classify a sequence from `output[:, -1]` (or
# > `output[-1]` with time first), "the last hidden state", and keep doing so when they make
# > the RNN bidirectional. But the backward direction reads the sequence from right to left:
# > its final state sits at the *first* time step, `output[0, :, H:]`, while
# > `output[-1, :, H:]` is its state after reading just one element. The final states of
# > both directions are in `h_n`. The next cell checks this with `nn.RNN` itself.

# %% tags=["nbval-check-output"]
rnnbook.seed_everything(0)
both_ways = nn.RNN(I_, H_, bidirectional=True, dtype=torch.float64)
out_bi, hn_bi = both_ways(x)                       # out_bi (T, B, 2H), hn_bi (2, B, H)
forward_last, backward_last = hn_bi[0], hn_bi[1]
print("forward direction: final state == output[-1, :, :H]",
      torch.equal(out_bi[-1, :, :H_], forward_last))
print("backward direction: final state == output[-1, :, H:]",
      torch.equal(out_bi[-1, :, H_:], backward_last))
print("backward direction: final state == output[0, :, H:] ",
      torch.equal(out_bi[0, :, H_:], backward_last))
assert torch.equal(out_bi[-1, :, :H_], forward_last)
assert not torch.allclose(out_bi[-1, :, H_:], backward_last)
assert torch.equal(out_bi[0, :, H_:], backward_last)

# %% [markdown]
# So with two directions, take the final states from `h_n` (or concatenate `output[-1, :, :H]`
# with `output[0, :, H:]`). Chapter 08 builds bidirectional layers and uses this.
#
# The book's package holds this network in final form: `rnnbook.RNN` takes every argument
# `nn.RNN` takes (several layers, both directions, `batch_first`, ReLU instead of tanh) and
# is tested against it for all of them. The same weights give the same numbers:

# %% tags=["nbval-check-output"]
packaged = rnnbook.RNN(I_, H_, dtype=torch.float64)
packaged.load_state_dict(theirs.state_dict())
out_packaged, _ = packaged(x, h0)
packaged_gap = (out_packaged - out_theirs).abs().max().item()
print(f"rnnbook.RNN vs nn.RNN: largest difference "
      f"{'below 1e-12' if packaged_gap < 1e-12 else f'{packaged_gap:.1e}'}")
assert torch.allclose(out_packaged, out_theirs, rtol=0, atol=1e-12)

# %% [markdown]
# ## Counting parameters
#
# A one-layer RNN has $W_{ih}$ with $HI$ entries, $W_{hh}$ with $H^2$, and two biases of $H$
# each. The count does not depend on the sequence length $T$, since the weights are shared
# across time. Stacking $N_{\text{layers}}$ layers feeds each layer's states to the next, so
# the layers above the first have input size $H$; a **bidirectional** RNN has a second, independent set of weights for
# the right-to-left pass, so $D = 2$ directions, and the layers above the first receive both
# directions' states, $2H$ numbers. In general
#
# $$P = \sum_{l=1}^{N_{\text{layers}}} D\,k\,\big(H\,I_l + H^2 + 2H\big), \qquad I_1 = I,\quad I_l = D H \text{ for } l \ge 2,$$
#
# with $k = 1$ for the RNN. The $k$ is there for later: an LSTM stacks four such blocks of
# weights, one for each of its three gates and one for its candidate ($k = 4$), and a GRU
# three ($k = 3$), as chapters 05 and 06 explain.
# Let us check the formula against `numel()` for a grid of sizes, and for all three cell types.

# %% tags=["nbval-check-output"]
def recurrent_parameters(input_size, hidden_size, num_layers=1, bidirectional=False, gates=1):
    """Parameter count of a torch.nn recurrent layer with biases."""
    D = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else D * hidden_size
        total += D * gates * (hidden_size * layer_input + hidden_size ** 2 + 2 * hidden_size)
    return total


checked = 0
for kind, gates in [(nn.RNN, 1), (nn.LSTM, 4), (nn.GRU, 3)]:
    for I_p, H_p, L_p, bi in [(1, 1, 1, False), (5, 4, 1, False), (10, 20, 2, False),
                              (10, 20, 2, True), (64, 128, 3, True), (300, 7, 1, True)]:
        layer = kind(I_p, H_p, num_layers=L_p, bidirectional=bi)
        counted = sum(p.numel() for p in layer.parameters())
        assert counted == recurrent_parameters(I_p, H_p, L_p, bi, gates), (kind, I_p, H_p)
        checked += 1
print(f"formula equals numel() for {checked} layers")
print(f"nn.RNN(10, 20): {recurrent_parameters(10, 20)} parameters; "
      f"nn.RNN(10, 20, num_layers=2, bidirectional=True): "
      f"{recurrent_parameters(10, 20, 2, True)}")

# %% [markdown]
# For example `nn.RNN(10, 20)` has $20 \cdot 10 + 20^2 + 2 \cdot 20 = 640$ parameters, and
# the two-layer bidirectional version $2 \cdot 640 + 2(20 \cdot 40 + 400 + 40) = 3{,}760$.
# The $H^2$ term dominates once $H$ is larger than $I$: doubling the hidden size roughly
# quadruples the recurrent weights, and with them the multiply-adds of $W_{hh}h_{t-1}$ at
# every step.
#
# ## A first character-level language model
#
# Time to train one. A **language model** assigns a probability to the next symbol given
# the ones before, $p(x_{t+1} \mid x_1, \dots, x_t)$. At the level of characters this is the
# RNN's natural job: read a character, update the state, predict the next character from the
# state. Our text is the Python source shipped with `rnnbook`. We keep the last 10% of it for
# validation: the end of the `glob` module and three whole modules, `queue`, `sched` and
# `graphlib`, that the model never trains on.

# %%
text = rnnbook.load_text()
vocab = rnnbook.CharVocab(text)
ids = vocab.encode(text)
split = int(0.9 * len(ids))
train_ids, val_ids = ids[:split], ids[split:]
V = len(vocab)
print(f"{len(text):,} characters, {V} distinct; {len(train_ids):,} to train, "
      f"{len(val_ids):,} to validate")
print(repr(vocab.decode(val_ids[:120])))
assert text.index("multi-producer, multi-consumer queue") > split

# %% [markdown]
# ### How good is good? Three baselines
#
# The model is scored by the **cross-entropy**, the average negative log-probability it gives
# to each actual next character of a text of $N$ characters,
#
# $$L = -\frac{1}{N}\sum_{t=1}^{N} \log p(x_{t+1} \mid x_1, \dots, x_t).$$
#
# With the natural logarithm it is in nats, the unit PyTorch's loss uses; divided by $\ln 2$
# it is in **bits per character**, the unit this chapter reports, because it has a concrete
# reading: a compressor driven by the model would need that many bits to store each
# character. Before training anything, what scores are easy?
#
# - **Uniform** over the $V$ characters: $L = \log V$, for a model that knows nothing, not
#   even which characters are common.
# - **Unigram**: the character frequencies $p(c)$, ignoring all context. On the text it was
#   counted on, its cross-entropy is the **entropy** of the character distribution,
#   $-\sum_c p(c)\log p(c)$, the best any context-free model can do.
# - **Bigram and trigram**: the frequency of each character after the previous one or two,
#   counted on the training text. These see one or two characters of context; an RNN's
#   state can, in principle, see all of it.
#
# Each baseline is counted on the training text and scored on the validation text: the same
# held-out characters the network will be scored on.

# %% tags=["nbval-check-output"]
BITS = 1 / math.log(2)                          # nats -> bits
counts = torch.bincount(train_ids, minlength=V).double()
p = counts[counts > 0] / counts.sum()
entropy = -(p * p.log()).sum().item()
uniform = math.log(V)
assert abs(ngram_cross_entropy(train_ids, train_ids, V, order=1, alpha=0) - entropy) < 1e-9

baselines = {"uniform": uniform}
for order, name in [(1, "unigram"), (2, "bigram"), (3, "trigram")]:
    baselines[name] = min(ngram_cross_entropy(train_ids, val_ids, V, order, alpha)
                          for alpha in (0.01, 0.1, 1.0))
print(f"entropy of the training characters: {entropy * BITS:.4f} bits")
for name, loss in baselines.items():
    print(f"{name:>8} on the validation text: {loss * BITS:.4f} bits/char ({loss:.4f} nats)")
assert baselines["trigram"] < baselines["bigram"] < baselines["unigram"] < uniform

# %% [markdown]
# `ngram_cross_entropy` in `rnnbook.baselines` counts n-grams on the training ids, smooths
# the counts by adding a small $\alpha$ to each (so that a combination never seen in
# training keeps some probability), and scores the validation ids; the assert checks that at
# order 1 with no smoothing it reproduces the entropy we just computed by hand. For each
# baseline we kept the best of three smoothing strengths *on the validation text itself*,
# which flatters the baselines a little: fine, since they are the bar to beat.
#
# Knowing character frequencies brings the loss from 7.3219 bits (uniform over 160
# characters) to 4.4256; one character of context to 3.5875, two to 2.9587.
#
# ### The model
#
# `rnnbook.CharLM` is three layers: an **embedding**, which maps each character id to a
# learned vector of 64 numbers (the same as multiplying a one-hot vector by a matrix, without
# building the one-hot vector); the RNN, with $H = 128$; and a linear read-out from each state
# to $V$ scores (**logits**), which a softmax turns into probabilities for the next character.
# Its parameters add up by our formula:

# %% tags=["nbval-check-output"]
rnnbook.seed_everything(0)
model = rnnbook.CharLM(V, hidden_size=128, kind="rnn")
E = model.embed.embedding_dim
expected = V * E + recurrent_parameters(E, 128) + (128 * V + V)
print(model)
print(f"parameters: {sum(p.numel() for p in model.parameters()):,} "
      f"= embedding {V * E:,} + RNN {recurrent_parameters(E, 128):,} + read-out {128 * V + V:,}")
assert sum(p.numel() for p in model.parameters()) == expected

some_ids = vocab.encode("def f(x):")                   # an embedding is a one-hot matmul
one_hot_ids = nn.functional.one_hot(some_ids, V).float()
assert torch.allclose(model.embed(some_ids), one_hot_ids @ model.embed.weight)

# %% [markdown]
# ### Training: teacher forcing, in a loop you can read
#
# Training uses random windows of 64 characters, 32 at a time (`rnnbook.char_batches`): the
# input is a window and the target the same window shifted by one character, so every
# position is a prediction. Notice what the network reads while it trains: at every step the
# *true* previous character, never its own guess. Feeding the ground truth this way is
# called **teacher forcing** (Williams & Zipser, 1989). It lets one forward pass make all 64
# predictions of a window, and it means that sampling, later, where the network must read
# its own output, is a situation it never met in training (chapter 12 returns to this).
#
# The loss is the cross-entropy averaged over all $32 \times 64$ positions
# (`rnnbook.lm_loss`), minimised by Adam with learning rate $3 \cdot 10^{-3}$, with the
# gradient norm clipped at 1 (chapter 04 explains why clipping matters for RNNs). Here is the
# whole training loop written out, in the spirit of Karpathy's hundred-line `min-char-rnn`:
# a hundred steps of it.

# %%
rnnbook.seed_everything(0)
by_hand = rnnbook.CharLM(V, hidden_size=128, kind="rnn")
optimizer = torch.optim.Adam(by_hand.parameters(), lr=3e-3)
next_batch = rnnbook.char_batches(train_ids, batch_size=32, seq_len=64,
                                  generator=rnnbook.generator(0))
hand_losses = []
for _ in range(100):
    x_ids, y_ids = next_batch()             # (32, 64) characters, and the next character of each
    logits, _ = by_hand(x_ids)              # teacher forcing: the true characters go in
    loss = rnnbook.lm_loss(logits, y_ids)   # mean cross-entropy of 32 * 64 predictions
    optimizer.zero_grad()
    loss.backward()                         # backpropagation through time (chapter 03)
    nn.utils.clip_grad_norm_(by_hand.parameters(), max_norm=1.0)
    optimizer.step()
    hand_losses.append(loss.item())
print(f"first batch {hand_losses[0] * BITS:.2f} bits/char (uniform: {uniform * BITS:.2f}); "
      f"mean of batches 91-100: {np.mean(hand_losses[-10:]) * BITS:.2f}")
assert abs(hand_losses[0] - uniform) < 0.3       # a fresh model spreads its bets evenly
assert hand_losses[0] - np.mean(hand_losses[-10:]) > 2.0  # seed shifts 0-5: 2.7 to 2.8 nats

# %% [markdown]
# A fresh model scores close to $\log V$: it spreads its bets almost evenly, as it should.
# A hundred steps later its loss on the training batches has fallen by more than two nats.
#
# `rnnbook.fit` is this loop plus bookkeeping: a progress bar, evaluation every so often, a
# history of losses and gradient norms, and checks (shapes, a non-finite loss). With the same
# seeds it computes the same losses:

# %% tags=["nbval-check-output"]
rnnbook.seed_everything(0)
same = rnnbook.CharLM(V, hidden_size=128, kind="rnn")
check = rnnbook.fit(same, rnnbook.char_batches(train_ids, 32, 64, generator=rnnbook.generator(0)),
                    rnnbook.lm_loss, steps=100, lr=3e-3, clip_norm=1.0)
gap = np.abs(np.array(check.loss) - np.array(hand_losses)).max()
print("fit and the loop by hand, largest difference in 100 losses:",
      "below 1e-6" if gap < 1e-6 else f"{gap:.1e}")
assert gap < 1e-6

# %% [markdown]
# Now the real run, with `fit`: 1,500 steps, scoring the validation text every 50 steps. The
# validation text is cut into chunks of 256 characters, each read from a zero state, and
# scored exactly like the baselines: the mean cross-entropy of its next characters.

# %%
rnnbook.seed_everything(0)
model = rnnbook.CharLM(V, hidden_size=128, kind="rnn")
chunk = 256
n_chunks = (len(val_ids) - 1) // chunk
val_x = val_ids[: n_chunks * chunk].view(n_chunks, chunk)
val_y = val_ids[1: n_chunks * chunk + 1].view(n_chunks, chunk)


def validation_loss(model):
    return {"loss": rnnbook.lm_loss(model(val_x), val_y)}


with torch.no_grad():
    untrained = validation_loss(model)["loss"].item()      # step 0: before any training
batches = rnnbook.char_batches(train_ids, batch_size=32, seq_len=64,
                               generator=rnnbook.generator(0))
history = rnnbook.fit(model, batches, rnnbook.lm_loss, steps=1500, lr=3e-3, clip_norm=1.0,
                      evaluate=validation_loss, eval_every=50)
eval_steps, val_curve = history.metric("loss")
val_loss = val_curve[-1]
print(f"after {eval_steps[-1]} steps: {val_loss * BITS:.4f} bits per character on the "
      f"validation text, perplexity {math.exp(val_loss):.2f}")
print("relative to the baselines: " + ", ".join(
    f"{name} {val_loss / baselines[name]:.3f}" for name in ("unigram", "bigram", "trigram")))
passes = {name: next((s for s, v in zip(eval_steps, val_curve, strict=True)
                      if v < baselines[name]), None) for name in ("unigram", "bigram", "trigram")}
print("validation loss first below the baseline at step: "
      + ", ".join(f"{name} {step}" for name, step in passes.items()))
late_train = float(np.mean(history.loss[-100:]))
epochs = len(history.loss) * 32 * 64 / len(train_ids)
print(f"training batches, last 100: {late_train * BITS:.4f} bits per character; each "
      f"training character seen {epochs:.1f} times on average")
# Seed shifts 0-5 (calibration): validation 0.57 of the unigram, 0.30 nats below the
# trigram; below the trigram by step 250; training 0.30 nats below validation.
assert val_loss < 0.65 * baselines["unigram"]              # far below the unigram
assert val_loss < baselines["trigram"] - 0.2               # and clearly below the trigram
assert passes["trigram"] is not None and passes["trigram"] <= 600
assert late_train < val_loss - 0.1                         # the training text is easier

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
ax = axes[0]
ax.plot([0, *eval_steps], np.array([untrained, *val_curve]) * BITS, "o-", ms=3, color="C1",
        label="RNN")
for (name, loss), color in zip(baselines.items(), ["C7", "C2", "C3", "C4"], strict=True):
    ax.axhline(loss * BITS, color=color, ls="--", lw=1.2)
    ax.text(eval_steps[-1], loss * BITS + 0.06, f"{name}", color=color, fontsize=9,
            ha="right", va="bottom")
ax.set(xlabel="step", ylabel="bits per character", ylim=(2, 7.6),
       title="validation text: the RNN against the n-gram baselines")
ax.legend(loc="upper center", fontsize=8)
ax = axes[1]
steps = np.arange(1, len(history.loss) + 1)
smoothed = np.convolve(history.loss, np.ones(20) / 20, mode="valid")   # mean of 20 batches
ax.plot(steps, np.array(history.loss) * BITS, color="C0", alpha=0.25, label="training batch")
ax.plot(steps[19:], smoothed * BITS, color="C0", label="training, mean of 20 batches")
ax.plot(eval_steps, np.array(val_curve) * BITS, "o-", ms=3, color="C1", label="validation")
ax.set(xlabel="step", ylabel="bits per character", ylim=(1.5, 4.5),
       title="training batches against the validation text")
ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The left panel compares like with like: the network and the n-gram models, scored on the
# same held-out characters, in the same unit. The network's validation loss passes the
# unigram line within the first hundred or so steps, once it has learned which characters
# are common, then the bigram line and the trigram line as it learns to use more and more
# context (the exact steps depend on the seed; they are printed above). After 1,500 steps it
# is near 2.5 bits per character on text it has never seen, about 57% of the unigram
# baseline and 0.4 bits below the trigram, for every seed we tried (the asserts check it with
# margin). The **perplexity** $e^{L}$, with $L$ in nats, has a friendly reading: a
# perplexity near 6 means that on average the model is as unsure as if it were choosing
# among about six equally likely characters, instead of 160.
#
# The right panel compares the network with itself. Its loss on the training batches ends
# lower than on the validation text, by about 0.4 bits per character: the validation text
# comes from other modules, with their own identifiers, and in 1,500 batches the model has
# seen every training character about 12 times, enough to start memorising some of it. (The
# training curve is not comparable with the baselines of the left panel: those were scored
# on the validation text.)
#
# What has it learned? Let it write. `CharLM.sample` feeds a prompt, then repeatedly draws
# the next character from the predicted distribution and feeds it back in: no teacher now.
# A **temperature** below 1 sharpens the distribution, making the text more conservative
# (exercise 4 measures the effect).

# %%
sample = model.sample(vocab, "def ", 2000, temperature=0.8, generator=rnnbook.generator(1))
print(sample[:700])
print(f"... ({len(sample):,} characters in all)")

# How Python-like is it? Scored by the bigram model of the training text, against real
# Python (the validation text) and against characters drawn uniformly at random.
random_text = vocab.decode(torch.randint(0, V, (2000,), generator=rnnbook.generator(3)))
bigram_scores = {name: ngram_cross_entropy(train_ids, vocab.encode(text_), V, order=2, alpha=0.1)
                 for name, text_ in [("the sample", sample), ("random characters", random_text)]}
bigram_scores["real Python"] = ngram_cross_entropy(train_ids, val_ids, V, order=2, alpha=0.1)
print("bigram cross-entropy: " + ", ".join(f"{name} {score * BITS:.2f} bits/char"
                                          for name, score in bigram_scores.items()))
lines = [line for line in sample.splitlines()[1:] if line.strip()]
by_fours = np.mean([(len(line) - len(line.lstrip(" "))) % 4 == 0 for line in lines])
keywords = ["self.", "return", "if ", "else:", "def ", " in ", "for ", "None"]
found = [word for word in keywords if word in sample]
print(f"{by_fours:.0%} of {len(lines)} lines indented by a multiple of 4 spaces; "
      f"{len(found)} of {len(keywords)} keywords appear: {found}")
# seed shifts 0-5 (calibration): the sample 2.0 to 2.4 nats, real Python 2.49, random
# characters 6.7; 81% to 100% of lines indented by fours; 6 to 8 keywords
assert bigram_scores["the sample"] < bigram_scores["real Python"] + 0.25
assert bigram_scores["random characters"] > bigram_scores["real Python"] + 2
assert by_fours > 0.6 and len(found) >= 4

# %% [markdown]
# It is not Python, but it is recognisably Python-*shaped*. The bigram model, which knows
# which character pairs are common in Python, finds the sample about as likely as real
# Python (in our runs slightly more likely, because a temperature below 1 favours the
# typical pairs), and text of random characters far less likely. Most lines are indented by
# a multiple of four spaces, and keywords such as `self.`, `return` and `else:` appear,
# along with brackets, commas, quotes, English-looking identifiers and docstring-like prose.
# (The sample's exact text depends on the seed and on your machine's rounding; these
# properties held for every seed we tried.) All of it came from 1,500 small steps of
# predicting the next character, with a state of 128 numbers as the only memory. Chapter 11
# trains bigger character models, with better cells and longer, and looks inside their
# states.
#
# ## Summary
#
# - A recurrent cell updates a **hidden state** from the new input and the previous state,
#   $h_t = \tanh(W_{ih}x_t + b_{ih} + W_{hh}h_{t-1} + b_{hh})$, with the same weights at every
#   step. The state is the network's only memory.
# - The state at step $t$ depends on inputs $1..t$ and on nothing after: changing a word
#   left every earlier state exactly unchanged and moved every later one. With small random
#   weights the influence of a word fades fast: over 40 draws of weights, never more than 10%
#   of it was left eight words later.
# - A **recurrent weight** is what holds information: a unit with self-weight 4 latched onto
#   "not" for the rest of the sentence, one without forgot it at the next word. The latch's
#   two states are the stable fixed points of $h \mapsto \tanh(4h - 2)$, and the unstable
#   one between them is the threshold an input must cross to be remembered.
# - The forward pass is a loop of a dozen lines, in NumPy or PyTorch. With copied weights it
#   equals `torch.nn.RNN` to rounding error (below $10^{-12}$) in outputs and gradients;
#   `rnnbook.RNN` is its complete form. With two directions, the backward direction's final
#   state is at the first time step of the output, not the last.
# - An RNN layer has $D\,k\,(HI + H^2 + 2H)$ parameters per layer ($k=1$; 4 for the LSTM, 3 for
#   the GRU), independent of the sequence length; checked against `numel()` for 18 layers.
# - A character-level language model is trained with **teacher forcing**: the true previous
#   characters go in, and every position predicts the next one. The training loop is a dozen
#   lines; `rnnbook.fit` is that loop with bookkeeping, and gives the same losses.
# - An RNN with 55,712 parameters, trained for 1,500 steps, reached about 2.5 bits per
#   character on held-out Python source, scored like the baselines on the same text: about
#   57% of the unigram baseline and 0.4 bits below a trigram model, for every seed tried.
#
# ## Exercises
#
# 1. **Count by hand.** How many parameters does `nn.RNN(input_size=3, hidden_size=50,
#    num_layers=3, bidirectional=True, bias=False)` have? Extend `recurrent_parameters` with a
#    `bias` argument and check it against `numel()`.
# 2. **The state carries over.** Run `ScratchRNN` on the first half of a sequence, then on
#    the second half starting from the final state of the first. Show that the result equals
#    one run over the whole sequence. Why does this matter for long texts?
# 3. **ReLU instead of tanh.** `nn.RNN(..., nonlinearity="relu")` uses $\max(0, \cdot)$
#    in place of tanh. Add a `nonlinearity` argument to `rnn_forward_numpy` and check it
#    against `nn.RNN` with copied weights.
# 4. **Temperature.** Sample 2,000 characters from the trained model at temperatures 0.5,
#    1.0 and 1.5 and score each sample with the bigram model of the training text. What do you
#    expect, and what do you see?
# 5. **A latch for comments.** In Python, a `#` starts a comment that runs to the end of the
#    line. Wire a one-unit tanh RNN over one-hot characters whose state is positive exactly
#    on the characters inside a comment (from `#` up to, but not including, the newline).
# 6. **How strong must "not" be?** In the latch, unit 1's input weight on "not" is 8. From
#    the fixed points of the cobweb plot, work out the smallest weight that still latches
#    (the unit resting at $-1$ before "not"), and check it by running the sentence with a
#    weight just below and just above it.

# %% [markdown]
# <details>
# <summary>Solution 1</summary>
#
# Without biases each direction of each layer has $H I_l + H^2$ parameters. Layer 1:
# $2(50 \cdot 3 + 2500) = 5{,}300$; layers 2 and 3 each $2(50 \cdot 100 + 2500) = 15{,}000$;
# in total $35{,}300$.
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
def recurrent_parameters_bias(input_size, hidden_size, num_layers=1, bidirectional=False,
                              gates=1, bias=True):
    """recurrent_parameters, with or without the two bias vectors."""
    with_bias = recurrent_parameters(input_size, hidden_size, num_layers, bidirectional, gates)
    if bias:
        return with_bias
    D = 2 if bidirectional else 1
    return with_bias - num_layers * D * gates * 2 * hidden_size


no_bias = nn.RNN(input_size=3, hidden_size=50, num_layers=3, bidirectional=True, bias=False)
print(f"formula {recurrent_parameters_bias(3, 50, 3, True, bias=False):,}, "
      f"numel {sum(p.numel() for p in no_bias.parameters()):,}")
assert sum(p.numel() for p in no_bias.parameters()) == 35_300
assert recurrent_parameters_bias(3, 50, 3, True, bias=False) == 35_300
for kind, gates in [(nn.LSTM, 4), (nn.GRU, 3)]:
    layer = kind(6, 9, num_layers=2, bidirectional=True, bias=False)
    assert sum(p.numel() for p in layer.parameters()) == recurrent_parameters_bias(
        6, 9, 2, True, gates, bias=False)

# %% [markdown]
# <details>
# <summary>Solution 2</summary>
#
# The state after the first half summarises everything the network needs about it, so
# passing it on as $h_0$ of the second half continues the computation exactly. This is how
# long texts are processed in pieces without losing the context at each boundary
# ("stateful" training, chapters 03 and 11): memory cost is one piece at a time, while the
# state keeps flowing.
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
rnnbook.seed_everything(0)
rnn = ScratchRNN(5, 8).double()
seq = torch.randn(20, 2, 5, dtype=torch.float64)
whole, h_whole = rnn(seq)
first, h_mid = rnn(seq[:10])
second, h_end = rnn(seq[10:], h_mid)
gap = (torch.cat([first, second]) - whole).abs().max().item()
print(f"two halves vs one pass: largest difference "
      f"{'below 1e-14' if gap < 1e-14 else f'{gap:.1e}'}")
assert gap < 1e-14 and torch.allclose(h_end, h_whole, rtol=0, atol=1e-14)
restarted, _ = rnn(seq[10:])              # forgetting the state changes the answer
print(f"second half from a zero state instead: differs by up to "
      f"{(restarted - second).abs().max():.4f}")
assert (restarted - second).abs().max() > 0.01

# %% [markdown]
# <details>
# <summary>Solution 3</summary>
#
# Only the nonlinearity changes. With ReLU the state is no longer bounded by 1, which is one
# reason ReLU RNNs need careful initialisation (the IRNN of chapter 04).
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
def rnn_forward_numpy_act(x, h0, W_ih, W_hh, b_ih, b_hh, nonlinearity="tanh"):
    act = np.tanh if nonlinearity == "tanh" else (lambda z: np.maximum(z, 0.0))
    h, states = h0, []
    for x_t in x:
        h = act(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states.append(h)
    return np.stack(states), h


rnnbook.seed_everything(0)
relu_rnn = nn.RNN(4, 6, nonlinearity="relu", dtype=torch.float64)
x_relu = torch.randn(9, 2, 4, dtype=torch.float64)
out_relu, _ = relu_rnn(x_relu)
w = {name: p.detach().numpy() for name, p in relu_rnn.named_parameters()}
out_np, _ = rnn_forward_numpy_act(x_relu.numpy(), np.zeros((2, 6)), w["weight_ih_l0"],
                                  w["weight_hh_l0"], w["bias_ih_l0"], w["bias_hh_l0"], "relu")
relu_gap = np.abs(out_np - out_relu.detach().numpy()).max()
print(f"ReLU RNN, NumPy vs nn.RNN: largest difference "
      f"{'below 1e-12' if relu_gap < 1e-12 else f'{relu_gap:.1e}'}")
assert np.allclose(out_np, out_relu.detach().numpy(), rtol=0, atol=1e-12)
assert (out_np >= 0).all() and (out_np == 0).any()

# %% [markdown]
# <details>
# <summary>Solution 4</summary>
#
# A low temperature concentrates the probability on the likeliest characters, so the text
# is more typical, and the bigram model, which knows what typical character pairs look
# like, finds it more probable. A high temperature flattens the distribution towards
# uniform and produces rarer pairs. The bigram loss of the samples rises with the
# temperature, and at 0.5 it is even below the bigram loss of real Python (2.4867 nats, on
# the validation text): cold samples are *more* predictable than the real thing,
# repetitive and bland. (The scores of one sample depend on the seed; the order of the
# three, and the cold sample's place below real text, held for every seed we tried.)
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
temperature_scores = {}
for temperature in (0.5, 1.0, 1.5):
    text_t = model.sample(vocab, "def ", 2000, temperature=temperature,
                          generator=rnnbook.generator(2))
    temperature_scores[temperature] = ngram_cross_entropy(train_ids, vocab.encode(text_t), V,
                                                          order=2, alpha=0.1)
    print(f"temperature {temperature}: bigram cross-entropy of the sample "
          f"{temperature_scores[temperature]:.4f} nats/char")
scores = list(temperature_scores.values())
assert scores[0] < scores[1] < scores[2]
assert scores[0] < baselines["bigram"]

# %% [markdown]
# <details>
# <summary>Solution 5</summary>
#
# The latch from the chapter, with a reset. With state $h$, the pre-activation is
# $8[c = \#] - 16[c = \text{newline}] + 4h - 2$. Outside a comment $h \approx -1$ and an
# ordinary character gives $\tanh(-6) \approx -1$: it stays off. A `#` turns it on; inside
# the comment $h \approx 0.94$ holds itself up through $4h - 2 > 0$; a newline pushes the
# pre-activation far below zero and the latch falls back to $-1$. (A `#` inside a string,
# as in `s = "#"`, would fool it: telling the two apart needs a second latch that tracks
# quotes. A trained model has to discover such rules by itself.)
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
snippet = 'x = 1  # one\ny = 2\nz = 3 # two # three\nw = 4\n'
chars = sorted(set(snippet))
x_chars = np.zeros((len(snippet), 1, len(chars)))
x_chars[np.arange(len(snippet)), 0, [chars.index(c) for c in snippet]] = 1.0
W_in = np.zeros((1, len(chars)))
W_in[0, chars.index("#")], W_in[0, chars.index("\n")] = 8.0, -16.0
comment_states, _ = rnn_forward_numpy(x_chars, -np.ones((1, 1)), W_in, np.array([[4.0]]),
                                      np.array([-2.0]), np.zeros(1))
predicted = comment_states[:, 0, 0] > 0
truth = np.zeros(len(snippet), dtype=bool)
for line_start in [0] + [i + 1 for i, c in enumerate(snippet) if c == "\n"][:-1]:
    line_end = snippet.index("\n", line_start)
    hash_at = snippet.find("#", line_start, line_end)
    if hash_at >= 0:
        truth[hash_at:line_end] = True
print(snippet.replace("\n", "⏎"))
print("".join("^" if p else " " for p in predicted))
assert (predicted == truth).all()

# %% [markdown]
# <details>
# <summary>Solution 6</summary>
#
# Before "not" the unit rests at $h \approx -1$, so with input weight $w$ the step on "not"
# gives $\tanh(w - 4 - 2) = \tanh(w - 6)$. From there the map $h \mapsto \tanh(4h - 2)$ takes
# over, and the cobweb plot says where it goes: up to the "on" state if it starts above the
# unstable fixed point $h^* = 0.7347$, down to $-1$ if below. So the latch holds exactly when
# $\tanh(w - 6) > h^*$, that is $w > 6 + \operatorname{artanh}(h^*) \approx 6.94$. (The rest
# state is $-0.99999$, not exactly $-1$, which moves the threshold by about $10^{-4}$.)
# Running the sentence confirms it: with $w = 6.9$ the unit flickers up on "not" and falls
# back within a few words; with $w = 7.0$ it latches.
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
w_needed = 6 + np.arctanh(fixed_points[1])
print(f"smallest weight that latches: about {w_needed:.3f}")
after_not = {}
for w in (w_needed - 0.05, w_needed + 0.05):
    W_try = W_ih_latch.copy()
    W_try[0, word_index["not"]] = w
    run, _ = rnn_forward_numpy(one_hot(words + ["week"] * 20), np.zeros((1, 2)), W_try,
                               W_hh_latch, b_latch, np.zeros(2))
    after_not[w] = run[-1, 0, 0]
    print(f"weight {w:.3f}: unit 1 is {run[position, 0, 0]:+.4f} on 'not' and "
          f"{run[-1, 0, 0]:+.4f} twenty-five words later")
low, high = after_not
assert after_not[low] < -0.9 and after_not[high] > 0.9
assert 6.9 < w_needed < 7.0

# %% [markdown]
# ## References
#
# - Elman, J. L. (1990). Finding structure in time. *Cognitive Science*, 14(2), 179–211.
# - Jordan, M. I. (1986). *Serial order: a parallel distributed processing approach*
#   (ICS Report 8604). Institute for Cognitive Science, University of California, San Diego.
# - Williams, R. J., & Zipser, D. (1989). A learning algorithm for continually running fully
#   recurrent neural networks. *Neural Computation*, 1(2), 270–280. (Teacher forcing.)
# - Shannon, C. E. (1951). Prediction and entropy of printed English. *Bell System Technical
#   Journal*, 30(1), 50–64.
# - Karpathy, A. (2015). *The unreasonable effectiveness of recurrent neural networks*. Blog
#   post, karpathy.github.io, 21 May 2015; and `min-char-rnn.py`, a character-level RNN in
#   about a hundred lines of NumPy (GitHub gist, 2015).
# - Goodfellow, I., Bengio, Y., & Courville, A. (2016). *Deep Learning*, chapter 10:
#   Sequence modeling: recurrent and recursive nets. MIT Press.
# - Strogatz, S. H. (2015). *Nonlinear Dynamics and Chaos*, 2nd edition, chapter 10
#   (one-dimensional maps, fixed points and cobwebs). Westview Press.

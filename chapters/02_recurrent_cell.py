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
# - how a recurrent weight creates memory, with a cell wired by hand;
# - how to write the RNN forward pass in NumPy, then in PyTorch, and prove it equal to
#   `torch.nn.RNN` with copied weights;
# - how many parameters an RNN has, as a formula checked against PyTorch;
# - how to train a first character-level language model, measure it against unigram,
#   bigram and trigram baselines, and sample text from it.

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
# matters. Drawn over time, the network is a chain of copies of one cell, each passing its
# state to the next: this picture is the RNN **unrolled**.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import rnnbook
from rnnbook.baselines import ngram_cross_entropy

words = "My class does not meet on Friday this week".split()

fig, ax = plt.subplots(figsize=(10, 2.6))
shown = 5
for t, word in enumerate(words[:shown], start=1):
    ax.add_patch(plt.Rectangle((2 * t - 0.5, 0.6), 1.0, 0.8, fc="C0", alpha=0.25, ec="C0"))
    ax.text(2 * t, 1.0, "cell", ha="center", va="center")
    ax.text(2 * t, -0.2, f'$x_{t}$ = "{word}"', ha="center", va="center")
    ax.annotate("", (2 * t, 0.6), (2 * t, 0.0), arrowprops={"arrowstyle": "->"})
    ax.annotate("", (2 * t + 1.5, 1.0), (2 * t + 0.5, 1.0), arrowprops={"arrowstyle": "->"})
    ax.text(2 * t + 1.0, 1.15, f"$h_{t}$", ha="center")
ax.text(1.0, 1.0, "$h_0 = 0$", ha="right", va="center")
ax.annotate("", (1.5, 1.0), (1.05, 1.0), arrowprops={"arrowstyle": "->"})
ax.text(2 * shown + 1.7, 1.0, "...", va="center")
ax.set(xlim=(0.2, 2 * shown + 2.3), ylim=(-0.5, 1.6), title="the same cell, unrolled over a sentence")
ax.axis("off")
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
# Let us feed it the sentence above, one word per step. Each word becomes a **one-hot**
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
assert before.max() == 0 and after.min() > 0
assert moved[0, -1] < 0.1 * moved[0, 0]

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
# - **The influence fades.** Changing "My" moves the state by 0.7795 at once but only by
#   0.0362 at the last word, about twenty times less. With these small random weights each
#   step shrinks the old information. A trained network can
#   keep information longer, but not easily: why the influence of distant inputs tends to
#   vanish, and what to do about it, is the subject of chapters 04 to 06.
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

# %%
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
print(f"after 500 more words: unit 1 {fixed:+.4f}; tanh(4h - 2) - h = "
      f"{np.tanh(4 * fixed - 2) - fixed:.1e}, slope there {slope:.4f}")
assert fixed > 0.9 and abs(np.tanh(4 * fixed - 2) - fixed) < 1e-9 and slope < 1

fig, ax = plt.subplots(figsize=(8, 3))
ax.step(range(T), latch[:, 0], where="mid", marker="o", label="unit 1: self-weight 4 (memory)")
ax.step(range(T), latch[:, 1], where="mid", marker="s", label="unit 2: self-weight 0")
ax.set_xticks(range(T), words)
ax.set(ylabel="$h_t$", ylim=(-1.15, 1.15), title="a hand-wired latch remembers 'not'")
ax.legend(loc="center right", fontsize=8)
plt.show()

# %% [markdown]
# Both units see the same input; only the one with a recurrent weight remembers it. Training
# a recurrent network means finding weights like these automatically, from data, for
# whatever the task needs remembered. Exercise 5 wires a latch for Python comments.
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

# %%
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
print(f"largest differences to nn.RNN: outputs {output_gap:.1e}, h_n {state_gap:.1e}, "
      f"gradients {grad_gap:.1e}, NumPy outputs {numpy_gap:.1e}")
assert max(output_gap, state_gap, grad_gap, numpy_gap) < 1e-12
assert torch.equal(out_ours[-1], hn_ours[0])      # the last output is the final state

# %% [markdown]
# All four agree to within a few times $10^{-15}$, the rounding error of double precision:
# our dozen lines compute exactly what `nn.RNN` computes, forward and backward. (PyTorch's
# own version runs the loop in C++, and on a GPU in cuDNN, which is why it is faster; it is
# not different.)
# Notice the last assert: for a one-layer RNN, the output at the last step *is* the final
# state; `nn.RNN` returns it separately because with several layers, or two directions,
# the two differ.
#
# The book's package holds this network in final form: `rnnbook.RNN` takes every argument
# `nn.RNN` takes (several layers, both directions, `batch_first`, ReLU instead of tanh) and
# is tested against it for all of them. The same weights give the same numbers:

# %%
packaged = rnnbook.RNN(I_, H_, dtype=torch.float64)
packaged.load_state_dict(theirs.state_dict())
out_packaged, _ = packaged(x, h0)
print(f"rnnbook.RNN vs nn.RNN: largest difference {(out_packaged - out_theirs).abs().max():.1e}")
assert torch.allclose(out_packaged, out_theirs, rtol=0, atol=1e-12)

# %% [markdown]
# ## Counting parameters
#
# A one-layer RNN has $W_{ih}$ with $HI$ entries, $W_{hh}$ with $H^2$, and two biases of $H$
# each. The count does not depend on the sequence length $T$, since the weights are shared
# across time. Stacking $L$ layers feeds each layer's states to the next, so layers $2..L$
# have input size $H$; a **bidirectional** RNN has a second, independent set of weights for
# the right-to-left pass, so $D = 2$ directions, and the layers above the first receive both
# directions' states, $2H$ numbers. In general
#
# $$P = \sum_{l=1}^{L} D\,k\,\big(H\,I_l + H^2 + 2H\big), \qquad I_1 = I,\quad I_l = D H \text{ for } l \ge 2,$$
#
# with $k = 1$ for the RNN. The $k$ is there for later: an LSTM stacks four such blocks of
# weights, one per gate ($k = 4$), and a GRU three ($k = 3$), as chapters 05 and 06 explain.
# Let us check the formula against `numel()` for a grid of sizes, and for all three cell types.

# %%
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
# to each actual next character,
#
# $$\mathcal{L} = -\frac{1}{N}\sum_{t=1}^{N} \log p(x_{t+1} \mid x_1, \dots, x_t),$$
#
# in nats (natural logarithm); divide by $\ln 2$ for **bits per character**. Before training
# anything, what scores are easy?
#
# - **Uniform** over the $V$ characters: $\mathcal{L} = \log V$, for a model that knows
#   nothing, not even which characters are common.
# - **Unigram**: the character frequencies $p(c)$, ignoring all context. On the text it was
#   counted on, its cross-entropy is the **entropy** of the character distribution,
#   $H = -\sum_c p(c)\log p(c)$, the best any context-free model can do.
# - **Bigram and trigram**: the frequency of each character after the previous one or two,
#   counted on the training text. These see one or two characters of context; an RNN's
#   state can, in principle, see all of it.

# %%
counts = torch.bincount(train_ids, minlength=V).double()
p = counts[counts > 0] / counts.sum()
entropy = -(p * p.log()).sum().item()
uniform = math.log(V)
assert abs(ngram_cross_entropy(train_ids, train_ids, V, order=1, alpha=0) - entropy) < 1e-9

baselines = {"uniform": uniform}
for order, name in [(1, "unigram"), (2, "bigram"), (3, "trigram")]:
    baselines[name] = min(ngram_cross_entropy(train_ids, val_ids, V, order, alpha)
                          for alpha in (0.01, 0.1, 1.0))
print(f"entropy of the training characters: {entropy:.4f} nats = {entropy / math.log(2):.4f} bits")
for name, loss in baselines.items():
    print(f"{name:>8} on the validation text: {loss:.4f} nats/char "
          f"({loss / math.log(2):.4f} bits)")
assert baselines["trigram"] < baselines["bigram"] < baselines["unigram"] < uniform

# %% [markdown]
# `ngram_cross_entropy` in `rnnbook.baselines` counts n-grams on the training ids, smooths
# the counts by adding a small $\alpha$ to each (so that a combination never seen in
# training keeps some probability), and scores the validation ids; the assert checks that at
# order 1 with no smoothing it reproduces the entropy we just computed by hand. For each
# baseline we kept the best of three smoothing strengths *on the validation text itself*,
# which flatters the baselines a little: fine, since they are the bar to beat.
#
# Knowing character frequencies brings the loss from 5.0752 nats (uniform) to 3.0676; one
# character of context to 2.4867, two to 2.0508.
#
# ### The model
#
# `rnnbook.CharLM` is three layers: an **embedding**, which maps each character id to a
# learned vector of 64 numbers (the same as multiplying a one-hot vector by a matrix, without
# building the one-hot vector); the RNN, with $H = 128$; and a linear read-out from each state
# to $V$ scores (**logits**), which a softmax turns into probabilities for the next character.
# Its parameters add up by our formula:

# %%
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
# Training uses random windows of 64 characters, 32 at a time (`rnnbook.char_batches`): the
# input is a window and the target the same window shifted by one character, so every
# position is a prediction. The loss is the cross-entropy averaged over all $32 \times 64$
# positions (`rnnbook.lm_loss`), minimised by Adam with learning rate $3 \cdot 10^{-3}$ and
# the gradient norm clipped at 1 (chapter 04 explains why clipping matters for RNNs). Every 250 steps we score the
# validation text, cut into chunks of 256 characters, each read from a zero state.

# %%
rnnbook.seed_everything(0)
model = rnnbook.CharLM(V, hidden_size=128, kind="rnn")
chunk = 256
n_chunks = (len(val_ids) - 1) // chunk
val_x = val_ids[: n_chunks * chunk].view(n_chunks, chunk)
val_y = val_ids[1: n_chunks * chunk + 1].view(n_chunks, chunk)


def validation_loss(model):
    return {"loss": rnnbook.lm_loss(model(val_x), val_y)}


batches = rnnbook.char_batches(train_ids, batch_size=32, seq_len=64,
                               generator=rnnbook.generator(0))
history = rnnbook.fit(model, batches, rnnbook.lm_loss, steps=1500, lr=3e-3, clip_norm=1.0,
                      evaluate=validation_loss, eval_every=250)
val_loss = history.evals[-1]["loss"]
print(f"first training batch: {history.loss[0]:.4f} nats (uniform: {uniform:.4f})")
for e in history.evals:
    print(f"step {e['step']:5d}: validation {e['loss']:.4f} nats/char")
print(f"final: {val_loss:.4f} nats = {val_loss / math.log(2):.4f} bits per character, "
      f"perplexity {math.exp(val_loss):.2f}")
print(f"relative to the baselines: unigram {val_loss / baselines['unigram']:.3f}, "
      f"bigram {val_loss / baselines['bigram']:.3f}, trigram {val_loss / baselines['trigram']:.3f}")
smoothed = np.convolve(history.loss, np.ones(20) / 20, mode="valid")   # mean of 20 batches
assert smoothed.min() < baselines["trigram"]
passes = {name: int(np.argmax(smoothed < baselines[name])) + 20    # first step below it
          for name in ("unigram", "bigram", "trigram")}
print("training loss (mean of 20 batches) first below the baseline at step: "
      + ", ".join(f"{name} {step}" for name, step in passes.items()))
assert abs(history.loss[0] - uniform) < 0.15              # a fresh model is close to uniform
assert val_loss < 0.65 * baselines["unigram"]             # far below the unigram baseline
assert val_loss < baselines["trigram"] - 0.2              # and below the trigram
assert passes["unigram"] < passes["bigram"] < passes["trigram"] < 500
late_train = float(np.mean(history.loss[-100:]))
epochs = len(history.loss) * 32 * 64 / len(train_ids)
print(f"training loss over the last 100 batches {late_train:.4f}; "
      f"each training character seen {epochs:.1f} times on average")
assert late_train < val_loss - 0.1

# %%
fig, ax = plt.subplots(figsize=(8, 4))
steps = np.arange(1, len(history.loss) + 1)
ax.plot(steps, history.loss, color="C0", alpha=0.3, label="training batch")
ax.plot(steps[19:], smoothed, color="C0", label="training, mean of 20 batches")
ax.plot(*history.metric("loss"), "o-", color="C1", label="validation")
for (name, loss), color in zip(baselines.items(), ["C7", "C2", "C3", "C4"], strict=True):
    ax.axhline(loss, color=color, ls="--", lw=1.2)
    ax.text(1.1, loss + 0.04, f"{name} baseline", color=color, fontsize=9, va="bottom")
ax.set(xscale="log", xlabel="step (log scale)", ylabel="cross-entropy (nats/char)",
       ylim=(1.2, 5.5), title="a character-level RNN on Python source")
ax.legend(loc="upper right", fontsize=8)
plt.show()

# %% [markdown]
# The first batch scores 5.0911 nats, almost exactly $\log V = 5.0752$: a freshly initialised
# model spreads its bets evenly, as it should. Its training loss (averaged over 20 batches)
# passes the unigram line at step 25, once it has learned which characters are common; the
# bigram line at step 76 and the trigram line at step 212, as it learns to use more and more
# context. After 1,500 steps it reaches 1.7494 nats (2.52 bits) per character on text it has
# never seen, 57% of the unigram baseline and 0.30 nats below the trigram. The
# **perplexity** $e^{\mathcal L} = 5.75$ has a friendly reading: on average the model is as
# unsure as if it were choosing among about six equally likely characters, instead of 160.
#
# The validation loss stays above the training loss (1.7494 against 1.4449 over the last
# 100 training batches): the validation text comes from different modules, with their own
# identifiers, and in 1,500 batches the model has seen every training character about 12
# times, enough to start memorising some of it.
#
# What has it learned? Let it write. `CharLM.sample` feeds a prompt, then repeatedly draws
# the next character from the predicted distribution and feeds it back in. A **temperature**
# below 1 sharpens the distribution, making the text more conservative (exercise 4 measures
# the effect).

# %%
sample = model.sample(vocab, "def ", 400, temperature=0.8,
                      generator=rnnbook.generator(1))
print(sample)
assert sample.startswith("def ") and len(sample) == 404
indents = [len(line) - len(line.lstrip(" ")) for line in sample.splitlines()[1:] if line.strip()]
assert indents and all(n % 4 == 0 for n in indents)
assert all(word in sample for word in ("self.", "return", "if ", "else:"))

# %% [markdown]
# It is not Python, but it is recognisably Python-*shaped*: every line is indented by a
# multiple of four spaces, and `self.`, `return`, `if` and `else:` appear, along with
# brackets, commas, quotes, English-looking identifiers and docstring-like prose. All of it came from 1,500 small steps of predicting the next character,
# with a state of 128 numbers as the only memory. Chapter 11 trains bigger character models,
# with better cells and longer, and looks inside their states.
#
# ## Summary
#
# - A recurrent cell updates a **hidden state** from the new input and the previous state,
#   $h_t = \tanh(W_{ih}x_t + b_{ih} + W_{hh}h_{t-1} + b_{hh})$, with the same weights at every
#   step. The state is the network's only memory.
# - The state at step $t$ depends on inputs $1..t$ and on nothing after: changing a word
#   left every earlier state exactly unchanged and moved every later one. With small random
#   weights the influence of a word fades fast, about twentyfold over eight words.
# - A **recurrent weight** is what holds information: a unit with self-weight 4 latched onto
#   "not" for the rest of the sentence, one without forgot it at the next word.
# - The forward pass is a loop of a dozen lines, in NumPy or PyTorch. With copied weights it
#   equals `torch.nn.RNN` to about $10^{-15}$ in outputs and gradients; `rnnbook.RNN` is its
#   complete form.
# - An RNN layer has $D\,k\,(HI + H^2 + 2H)$ parameters per layer ($k=1$; 4 for the LSTM, 3 for
#   the GRU), independent of the sequence length; checked against `numel()` for 18 layers.
# - A character-level RNN with 55,712 parameters, trained for 1,500 steps, reached 1.7494
#   nats per character on held-out Python source: 57% of the unigram baseline and below a
#   trigram model.
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

# %% [markdown]
# <details>
# <summary>Solution 1</summary>
#
# Without biases each direction of each layer has $H I_l + H^2$ parameters. Layer 1:
# $2(50 \cdot 3 + 2500) = 5{,}300$; layers 2 and 3 each $2(50 \cdot 100 + 2500) = 15{,}000$;
# in total $35{,}300$.
# </details>

# %%
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

# %%
rnnbook.seed_everything(0)
rnn = ScratchRNN(5, 8).double()
seq = torch.randn(20, 2, 5, dtype=torch.float64)
whole, h_whole = rnn(seq)
first, h_mid = rnn(seq[:10])
second, h_end = rnn(seq[10:], h_mid)
gap = (torch.cat([first, second]) - whole).abs().max().item()
print(f"two halves vs one pass: largest difference {gap:.1e}")
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

# %%
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
print(f"ReLU RNN, NumPy vs nn.RNN: largest difference "
      f"{np.abs(out_np - out_relu.detach().numpy()).max():.1e}")
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
# temperature, and at 0.5 it is even below the bigram loss of real Python (2.4867 nats):
# cold samples are *more* predictable than the real thing, repetitive and bland.
# </details>

# %%
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

# %%
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

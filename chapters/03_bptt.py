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
# # Backpropagation through time
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/rnnbook/rnnbook/blob/main/chapters/03_bptt.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/rnnbook/rnnbook/main?labpath=chapters%2F03_bptt.ipynb)
#
# **What you will learn**
#
# - Why training a recurrent network is ordinary backpropagation on the network *unrolled* in
#   time, and why the gradient of a shared weight is a sum over time steps.
# - How to derive backpropagation through time (BPTT) for the tanh RNN, write it by hand in
#   NumPy, and prove it right: against PyTorch's autograd to round-off in float64, and
#   against finite differences.
# - Where the gradient that reaches an early step comes from: a sum of products of
#   Jacobians, the root of the vanishing and exploding gradients of chapter 04.
# - What BPTT costs: memory that grows with every step it goes back, measured from what
#   autograd stores; and gradient checkpointing, which trades that memory for one more
#   forward pass and keeps the gradient exact.
# - Truncated BPTT with `detach`: what it saves (memory), what it cuts (every gradient path
#   across a chunk boundary, to exactly zero), and what that costs (a dependency longer than
#   the chunk cannot be learned, shown on a task with a known lag).

# %%
# On Colab, install the book's package first. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "rnnbook @ git+https://github.com/rnnbook/rnnbook"], check=True)

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch
from torch import nn
from torch.utils.checkpoint import checkpoint

from rnnbook import generator, progress, seed_everything
from rnnbook.bench import time_it
from rnnbook.bptt import detach_state, saved_tensors
from rnnbook.gradients import hidden_grad_norms

# %% [markdown]
# ## 1. A recurrent network is a deep network with shared weights
#
# Chapter 02 built the plain (Elman) recurrent cell. At every step $t = 1, \dots, T$ it mixes
# the new input $\mathbf x_t$ with the previous state $\mathbf h_{t-1}$, and a linear
# read-out turns the state into a prediction:
#
# $$
# \mathbf a_t = W_{ih}\,\mathbf x_t + W_{hh}\,\mathbf h_{t-1} + \mathbf b, \qquad
# \mathbf h_t = \tanh(\mathbf a_t), \qquad
# \hat{\mathbf y}_t = W_{hy}\,\mathbf h_t + \mathbf b_y .
# $$
#
# A loss compares each prediction with its target, and the losses of all steps add up:
# $L = \sum_{t=1}^{T} \ell_t(\hat{\mathbf y}_t, \mathbf y_t)$. In PyTorch's `nn.RNN`,
# $W_{ih}$ is `weight_ih_l0` (shape hidden × input), $W_{hh}$ is `weight_hh_l0`, and the bias
# $\mathbf b$ is split into two vectors, `bias_ih_l0 + bias_hh_l0`. The symbols are the
# book's (chapter 00 lists them all); in particular a bar over a quantity will mean the
# gradient of the loss with respect to it, $\bar{\mathbf h}_t = \partial L / \partial
# \mathbf h_t$.
#
# To train the network we need $\partial L / \partial \theta$ for every parameter $\theta$.
# The trick that makes this easy is to stop thinking of a loop and to draw the loop
# **unrolled**: one copy of the cell per time step, each feeding its state to the next.
# Unrolled, an RNN over $T$ steps is a feed-forward network $T$ layers deep, with two
# peculiarities: every layer has an input and an output of its own, and every layer uses the
# *same* weights. Backpropagation on this unrolled graph is called **backpropagation
# through time** (Rumelhart, Hinton & Williams 1986; Werbos 1990). Nothing about it is new
# beyond the chain rule. What is new is what the chain rule does over a long chain, and
# what it costs to keep a long chain in memory; those are the subjects of this chapter.
#
# The figure below is the picture to keep in mind. Grey arrows are the forward pass. Every
# arrow from one state to the next is a multiplication by the same matrix $W_{hh}$, every
# arrow from an input by the same $W_{ih}$: the weights are shared across time. Red dashed
# arrows are the backward pass: the error of each loss $\ell_t$ enters at its own step, and
# the gradient then flows right to left along the chain of states, picking up the error of
# each loss it passes.

# %%
def draw_unrolled(ax, steps=5, cut_every=None, title=""):
    """Draw the unrolled RNN: x_t -> h_t -> loss_t, forward arrows grey, backward red.

    With cut_every=K the backward arrows between chunks of K steps are removed (greyed),
    as truncated BPTT does. This is drawing code only; nothing else depends on it.
    """
    def node(x, y, text, color):
        ax.text(x, y, text, ha="center", va="center", fontsize=12,
                bbox=dict(boxstyle="circle,pad=0.3", fc=color, ec="black"))

    def arrow(a, b, color, style="-", rad=0.0):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=13, color=color,
                                     linestyle=style, lw=1.4, shrinkA=15, shrinkB=15,
                                     connectionstyle=f"arc3,rad={rad}"))

    node(0, 1, "$h_0$", "white")
    arrow((0, 1), (1, 1), "0.45", rad=0.25)
    ax.text(0.5, 0.72, "$W_{hh}$", ha="center", va="center", fontsize=9, color="0.3")
    for t in range(1, steps + 1):
        node(t, 0, f"$x_{t}$", "#dde8f5")
        node(t, 1, f"$h_{t}$", "#f5e6c8")
        node(t, 2, f"$\\ell_{t}$", "#dff0d8")
        arrow((t - 0.07, 0), (t - 0.07, 1), "0.45")
        ax.text(t - 0.12, 0.5, "$W_{ih}$", ha="right", va="center", fontsize=9, color="0.3")
        arrow((t - 0.07, 1), (t - 0.07, 2), "0.45")
        arrow((t + 0.07, 2), (t + 0.07, 1), "tab:red", "--")
        if t > 1:
            arrow((t - 1, 1), (t, 1), "0.45", rad=0.25)
            ax.text(t - 0.5, 0.72, "$W_{hh}$", ha="center", va="center", fontsize=9,
                    color="0.3")
            cut = cut_every is not None and (t - 1) % cut_every == 0
            arrow((t, 1), (t - 1, 1), "0.88" if cut else "tab:red", "--", rad=0.25)
            if cut:
                ax.plot([t - 0.5, t - 0.5], [-0.45, 2.45], color="tab:red", lw=1, ls=":")
                ax.text(t - 0.5, -0.6, "detach", color="tab:red", ha="center", fontsize=9)
    ax.set_xlim(-0.5, steps + 0.5)
    ax.set_ylim(-0.75, 2.5)
    ax.set_title(title, fontsize=11)
    ax.axis("off")


fig, ax = plt.subplots(figsize=(8, 3))
draw_unrolled(ax, title="An RNN unrolled over 5 steps: forward (grey) and backward (red) passes")
plt.show()

# %% [markdown]
# ## 2. The forward pass, and what it must remember
#
# We write the network in NumPy, in float64, so that every operation is in plain sight and
# round-off is tiny. A batch of $B$ sequences is processed at once, one sequence per row:
# `x` has shape (T, B, I), and the row form of the update is
# `h = tanh(x[t] @ W_ih.T + h @ W_hh.T + b)`, with weights laid out as in PyTorch. Python
# counts from 0, so `x[t]` is $\mathbf x_{t+1}$, while `hs[t]` is $\mathbf h_t$: the array of
# states includes the initial state $\mathbf h_0$ at index 0.
#
# The loss is the squared error, summed over steps and outputs and averaged over the $B$
# sequences of the batch:
# $L = \frac{1}{2B} \sum_{b=1}^{B} \sum_{t=1}^{T} \lVert \hat{\mathbf y}_t^{(b)} - \mathbf y_t^{(b)} \rVert^2$.
#
# The forward pass keeps every state $\mathbf h_0, \dots, \mathbf h_T$. That is not a
# convenience. The backward pass will need each $\mathbf h_t$ twice: in the derivative of
# $\tanh$ at step $t$, and as the input that $W_{hh}$ multiplied at step $t+1$.

# %%
def init_params(input_size, hidden_size, output_size):
    """Parameters drawn like PyTorch's defaults, U(-1/sqrt(H), 1/sqrt(H)), in float64."""
    k = 1 / np.sqrt(hidden_size)
    shapes = {"W_ih": (hidden_size, input_size), "W_hh": (hidden_size, hidden_size),
              "b": (hidden_size,), "W_hy": (output_size, hidden_size), "b_y": (output_size,)}
    return {name: np.random.uniform(-k, k, shape) for name, shape in shapes.items()}


def rnn_forward(p, x, h0):
    """Run the tanh RNN over x (T, B, I) from h0 (B, H).

    Returns all states hs (T+1, B, H), with hs[0] = h0, and the predictions (T, B, O).
    """
    hs = np.empty((len(x) + 1, *h0.shape))
    hs[0] = h0
    for t in range(len(x)):
        hs[t + 1] = np.tanh(x[t] @ p["W_ih"].T + hs[t] @ p["W_hh"].T + p["b"])
    y_hat = hs[1:] @ p["W_hy"].T + p["b_y"]
    return hs, y_hat


def mse_loss(y_hat, y):
    """L = 1/(2B) * sum of squared errors over steps, batch and outputs."""
    return 0.5 * ((y_hat - y) ** 2).sum() / y.shape[1]


T, B, I, H, O = 20, 4, 3, 8, 2
seed_everything(0)
p = init_params(I, H, O)
x = np.random.normal(size=(T, B, I))
y = np.random.normal(size=(T, B, O))
h0 = np.zeros((B, H))
hs, y_hat = rnn_forward(p, x, h0)
loss = mse_loss(y_hat, y)
print(f"states {hs.shape}, predictions {y_hat.shape}, loss {loss:.4f}")
print(f"the forward pass keeps {hs.size} numbers of state = (T + 1) * B * H "
      f"= {(T + 1) * B * H}, {hs.nbytes} bytes in float64")
assert hs.size == (T + 1) * B * H and hs.nbytes == 8 * (T + 1) * B * H   # by construction

# %% [markdown]
# ## 3. Deriving the backward pass
#
# We want the gradient of $L$ with respect to $W_{ih}, W_{hh}, \mathbf b, W_{hy}, \mathbf b_y$.
# Name three intermediate gradients, one per kind of node in the unrolled graph:
#
# $$
# \mathbf e_t = \frac{\partial L}{\partial \hat{\mathbf y}_t}, \qquad
# \bar{\mathbf h}_t = \frac{\partial L}{\partial \mathbf h_t}, \qquad
# \boldsymbol\delta_t = \frac{\partial L}{\partial \mathbf a_t}.
# $$
#
# **The output error.** Only $\ell_t$ depends on $\hat{\mathbf y}_t$, so $\mathbf e_t$ is a
# property of the loss alone. For our squared error,
# $\mathbf e_t = (\hat{\mathbf y}_t - \mathbf y_t)/B$ for each sequence of the batch.
# Everything below works for any loss; only $\mathbf e_t$ changes (exercise 2 swaps in
# cross-entropy).
#
# **The state.** Look at the figure: $\mathbf h_t$ has *two* arrows leaving it, one up to
# the prediction $\hat{\mathbf y}_t$ (and its loss) and one right to the next pre-activation
# $\mathbf a_{t+1} = W_{hh} \mathbf h_t + \dots$. The multivariable chain rule adds the
# gradient that comes back along each:
#
# $$
# \bar{\mathbf h}_t
# = \Big(\frac{\partial \hat{\mathbf y}_t}{\partial \mathbf h_t}\Big)^{\!\top} \mathbf e_t
# + \Big(\frac{\partial \mathbf a_{t+1}}{\partial \mathbf h_t}\Big)^{\!\top} \boldsymbol\delta_{t+1}
# = W_{hy}^\top \mathbf e_t + W_{hh}^\top \boldsymbol\delta_{t+1},
# \qquad \boldsymbol\delta_{T+1} = \mathbf 0 .
# $$
#
# The last state has no successor, so its gradient comes from its own loss only.
#
# **Through the nonlinearity.** $\tanh$ acts element by element, and
# $\tanh'(a) = 1 - \tanh^2(a)$, so its Jacobian is the diagonal matrix
# $\operatorname{diag}(1 - \mathbf h_t^2)$ and
#
# $$
# \boldsymbol\delta_t = (1 - \mathbf h_t^2) \odot \bar{\mathbf h}_t .
# $$
#
# This is why the forward pass had to keep $\mathbf h_t$: the derivative is computed from
# the *output* of $\tanh$, without recomputing it.
#
# These two lines are a recursion that runs **backwards in time**: start at $t = T$ with
# $\boldsymbol\delta_{T+1} = \mathbf 0$, and each $\boldsymbol\delta_{t+1}$ gives
# $\bar{\mathbf h}_t$, then $\boldsymbol\delta_t$.
#
# **The weights.** $W_{hh}$ is used at every step. Pretend for a moment that step $t$ has
# its own copy $W_{hh}^{(t)}$, all of them equal. Then $L$ is a function of $T$ separate
# matrices, the gradient for copy $t$ is the local one,
# $\partial L / \partial W_{hh}^{(t)} = \boldsymbol\delta_t \mathbf h_{t-1}^\top$, and since
# moving the shared $W_{hh}$ moves all copies at once, the chain rule sums them. The same
# argument for every parameter gives
#
# $$
# \frac{\partial L}{\partial W_{hh}} = \sum_{t=1}^{T} \boldsymbol\delta_t \mathbf h_{t-1}^\top,
# \quad
# \frac{\partial L}{\partial W_{ih}} = \sum_{t=1}^{T} \boldsymbol\delta_t \mathbf x_t^\top,
# \quad
# \frac{\partial L}{\partial \mathbf b} = \sum_{t=1}^{T} \boldsymbol\delta_t,
# \quad
# \frac{\partial L}{\partial W_{hy}} = \sum_{t=1}^{T} \mathbf e_t \mathbf h_t^\top,
# \quad
# \frac{\partial L}{\partial \mathbf b_y} = \sum_{t=1}^{T} \mathbf e_t .
# $$
#
# With a batch, each outer product $\boldsymbol\delta_t \mathbf h_{t-1}^\top$ becomes a sum
# over the batch as well, which in row layout is the matrix product `delta.T @ hs[t]`.
#
# The code follows the equations line by line. It takes the output errors $\mathbf e_t$ as
# its input, so that it does not care which loss produced them, and it returns the
# parameter gradients together with every $\bar{\mathbf h}_t$. The arguments `chunk` and
# `delta_after` are for section 7 and can be ignored until then.

# %%
def rnn_backward(p, x, hs, e, chunk=None, delta_after=None):
    """Backpropagation through time for the tanh RNN of `rnn_forward`.

    e:  the output errors dL/dy_hat_t, shape (T, B, O).
    chunk: if given, truncated BPTT: no gradient crosses from one chunk of `chunk` steps
        into the one before (section 7).
    delta_after: delta_{T+1}, the gradient arriving from steps after these T; zero for a
        whole sequence (section 7 runs the backward pass one piece at a time with it).
    Returns the parameter gradients (a dict like p) and h_bar, where h_bar[t] = dL/dh_{t+1}.
    """
    grads = {name: np.zeros_like(value) for name, value in p.items()}
    h_bar = np.zeros_like(hs[1:])
    delta_next = np.zeros_like(hs[0]) if delta_after is None else delta_after
    for t in reversed(range(len(x))):               # x[t] is x_{t+1}, hs[t + 1] is h_{t+1}
        if chunk is not None and (t + 1) % chunk == 0:
            delta_next = np.zeros_like(delta_next)  # truncation: cut at the chunk boundary
        h_bar[t] = e[t] @ p["W_hy"] + delta_next @ p["W_hh"]
        delta = (1 - hs[t + 1] ** 2) * h_bar[t]
        grads["W_hy"] += e[t].T @ hs[t + 1]
        grads["b_y"] += e[t].sum(axis=0)
        grads["W_hh"] += delta.T @ hs[t]
        grads["W_ih"] += delta.T @ x[t]
        grads["b"] += delta.sum(axis=0)
        delta_next = delta
    return grads, h_bar


e = (y_hat - y) / B                                 # dL/dy_hat for the squared error
grads, h_bar = rnn_backward(p, x, hs, e)
for name, value in grads.items():
    print(f"dL/d{name:<5} shape {str(value.shape):<8} norm {np.linalg.norm(value):.4f}")

# %% [markdown]
# The backward pass visits the steps once, in reverse. Per step it does two matrix products
# to pass the gradient on (`e[t] @ W_hy` and `delta_next @ W_hh`) and three to accumulate
# the weight gradients, five in all against the forward pass's three (input, recurrence,
# read-out). So backward costs a little less than twice the forward pass in arithmetic,
# and, like it, grows linearly in $T$.
#
# ## 4. Is it right? Autograd in float64
#
# A hand-written gradient is only as good as its check. The strongest check available is
# an independent implementation: PyTorch's `nn.RNN` and `nn.Linear`, in float64, with our
# weights copied in, differentiated by autograd. We put all of $\mathbf b$ into `bias_ih_l0`
# and set `bias_hh_l0` to zero, so that both networks compute the same function.
#
# We compare with the **relative error** $\lVert G_{\text{ours}} - G_{\text{torch}}\rVert /
# \lVert G_{\text{torch}} \rVert$, which does not depend on the scale of the gradient. The
# bar we set ourselves is $10^{-6}$.

# %%
def torch_copy(p, dtype=torch.float64):
    """nn.RNN and nn.Linear computing exactly the function of the NumPy parameters p."""
    hidden_size, input_size = p["W_ih"].shape
    rnn = nn.RNN(input_size, hidden_size, dtype=dtype)
    head = nn.Linear(hidden_size, p["W_hy"].shape[0], dtype=dtype)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(p["W_ih"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(p["W_hh"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(p["b"]))
        rnn.bias_hh_l0.zero_()
        head.weight.copy_(torch.from_numpy(p["W_hy"]))
        head.bias.copy_(torch.from_numpy(p["b_y"]))
    return rnn, head


def torch_grads(p, x, y, h0, dtype=torch.float64):
    """The gradients of the same loss, by autograd, named like ours."""
    rnn, head = torch_copy(p, dtype)
    out, _ = rnn(torch.from_numpy(x).to(dtype), torch.from_numpy(h0).to(dtype)[None])
    diff = head(out) - torch.from_numpy(y).to(dtype)
    loss = 0.5 * (diff ** 2).sum() / y.shape[1]
    loss.backward()
    return {"W_ih": rnn.weight_ih_l0.grad, "W_hh": rnn.weight_hh_l0.grad,
            "b": rnn.bias_ih_l0.grad, "W_hy": head.weight.grad, "b_y": head.bias.grad,
            "bias_hh": rnn.bias_hh_l0.grad, "loss": loss.item()}


def rel_err(ours, reference):
    """||ours - reference|| / ||reference||, for arrays or tensors."""
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference, np.float64)
    return np.linalg.norm(ours - reference) / np.linalg.norm(reference)


ref = torch_grads(p, x, y, h0)
assert abs(ref["loss"] - loss) < 1e-12 * loss, "the two networks compute different losses"
errors = {name: rel_err(grads[name], ref[name]) for name in p}
print(f"loss: ours {loss:.4f}, torch {ref['loss']:.4f}")
assert max(errors.values()) < 1e-6
assert rel_err(ref["bias_hh"], ref["b"]) < 1e-12   # both biases get the same gradient

# %% [markdown]
# The two losses agree and every gradient meets the bar. How far below it are we? The exact
# digits of round-off depend on the machine's linear-algebra library (and the weights on the
# seed), so the next cell prints orders of magnitude, and the book's tests do not compare
# its printout; its asserts still run.

# %%
for name, err in errors.items():
    print(f"dL/d{name:<5} relative error {err:.0e}")
grads32 = torch_grads(p, x, y, h0, dtype=torch.float32)
err32 = max(rel_err(grads32[name].numpy(), ref[name]) for name in p)
print(f"float32 autograd against float64: worst relative error {err32:.0e}")
assert max(errors.values()) < 1e-12                 # round-off level, far below 1e-6
assert 1e-10 < err32 < 1e-4                         # float32 carries only ~7 digits

# %% [markdown]
# The errors are of the order of $10^{-16}$ to $10^{-15}$, the spacing of float64 numbers
# near 1: the two implementations differ only in the order in which they add things up. The
# last line shows why the check is done in float64. The *same* autograd in float32 differs
# from the float64 answer by something of the order of $10^{-7}$, the precision of float32,
# so in float32 a tolerance of $10^{-6}$ would leave almost no room between round-off and a
# real bug.
#
# PyTorch's two bias vectors each get exactly the gradient of our single $\mathbf b$: they
# enter $\mathbf a_t$ only through their sum. That is one of the asserts above.
#
# ## 5. Is it right? Finite differences
#
# Autograd is itself code, so a check that does not share any of it is worth having:
# nudge one weight and watch the loss. The **central difference**
#
# $$
# \frac{\partial L}{\partial \theta} \approx \frac{L(\theta + \varepsilon) - L(\theta - \varepsilon)}{2\varepsilon}
# $$
#
# is accurate to $O(\varepsilon^2)$, because the even terms of the Taylor series cancel.
# Too small an $\varepsilon$ loses digits to round-off instead; $\varepsilon = 10^{-5}$ sits
# near the sweet spot for float64 (exercise 3 finds it). We check three random entries of
# every parameter.

# %%
def numerical_grad(p, name, index, eps=1e-5):
    """Central difference of the loss with respect to p[name][index]."""
    def loss_at(value):
        q = {k: v.copy() for k, v in p.items()}
        q[name][index] = value
        return mse_loss(rnn_forward(q, x, h0)[1], y)

    theta = p[name][index]
    return (loss_at(theta + eps) - loss_at(theta - eps)) / (2 * eps)


seed_everything(1)
fd_errors = []
for name, value in p.items():
    for _ in range(3):
        index = tuple(np.random.randint(n) for n in value.shape)
        numeric, analytic = numerical_grad(p, name, index), grads[name][index]
        fd_errors.append(abs(numeric - analytic) / abs(analytic))
        if len(fd_errors) % 3 == 1:
            print(f"dL/d{name}{list(index)}: BPTT {analytic:+.4f}, finite difference {numeric:+.4f}")
print(f"{len(fd_errors)} entries checked")
assert max(fd_errors) < 1e-6

# %% [markdown]
# Fifteen entries, five parameters, all agreeing to better than one part in a million. Two
# independent checks now stand behind `rnn_backward`.
#
# ## 6. Where the gradient comes from: sums of products of Jacobians
#
# Let us unroll the recursion for $\bar{\mathbf h}_t$ instead of running it. Substituting
# $\boldsymbol\delta_{t+1} = (1 - \mathbf h_{t+1}^2) \odot \bar{\mathbf h}_{t+1}$ again and again
# gives a sum over all later steps $s \ge t$:
#
# $$
# \bar{\mathbf h}_t = \sum_{s=t}^{T} \Big(\frac{\partial \mathbf h_s}{\partial \mathbf h_t}\Big)^{\!\top} W_{hy}^\top \mathbf e_s,
# \qquad
# \frac{\partial \mathbf h_s}{\partial \mathbf h_t} = \prod_{j=t+1}^{s} \operatorname{diag}(1 - \mathbf h_j^2)\, W_{hh}
# \quad (\text{later } j \text{ on the left}).
# $$
#
# Each term is one path in the figure: the error of loss $\ell_s$, carried back $s - t$
# steps, multiplied by one Jacobian per step. The gradient that reaches an early state is
# therefore a sum of terms in which the error of a loss $k$ steps later has been multiplied
# by $k$ Jacobians. Products of many matrices tend to shrink or grow exponentially in $k$
# (Hochreiter, 1991, first analysed what this does to learning), and chapter 04 is about
# exactly that. Here we only look.
#
# Two losses show the two regimes. With a loss at **every step**, each state gets a fresh
# error from its own loss, and $\lVert \bar{\mathbf h}_t \rVert$ stays of the same order along
# the sequence. With a loss at the **last step only** (classifying a whole sequence, say),
# the sum has a single term, the path back from $\ell_T$, and its norm falls off as $t$
# moves back from $T$. We compute $\bar{\mathbf h}_t$ with our NumPy code, fed the errors of each loss, and
# independently with `rnnbook.gradients.hidden_grad_norms`, which unrolls a `torch.nn.RNNCell`
# with the same weights and asks autograd for $\partial L / \partial \mathbf h_t$.

# %%
T2, B2, H2 = 40, 8, 16
seed_everything(2)
p2 = init_params(I, H2, 1)
x2 = np.random.normal(size=(T2, B2, I))
y2 = np.random.normal(size=(T2, B2, 1))
hs2, y_hat2 = rnn_forward(p2, x2, np.zeros((B2, H2)))

e_every = (y_hat2 - y2) / B2                       # every step has a loss
e_last = np.zeros_like(e_every)
e_last[-1] = e_every[-1]                           # only the last step has a loss
norm_every = np.linalg.norm(rnn_backward(p2, x2, hs2, e_every)[1], axis=(1, 2))
norm_last = np.linalg.norm(rnn_backward(p2, x2, hs2, e_last)[1], axis=(1, 2))

# The same with autograd: a torch.nn.RNNCell with the same weights, unrolled step by step.
rnn2, head2 = torch_copy(p2)
cell = nn.RNNCell(I, H2, dtype=torch.float64)
cell.load_state_dict({k.removesuffix("_l0"): v for k, v in rnn2.state_dict().items()})
xt2, yt2 = torch.from_numpy(x2), torch.from_numpy(y2)


def loss_every(h_list):
    return 0.5 * ((head2(torch.stack(h_list)) - yt2) ** 2).sum() / B2


def loss_last(h_list):
    return 0.5 * ((head2(h_list[-1]) - yt2[-1]) ** 2).sum() / B2


auto_every = hidden_grad_norms(cell, xt2, loss_every).numpy()
auto_last = hidden_grad_norms(cell, xt2, loss_last).numpy()
assert np.allclose(norm_every, auto_every, rtol=1e-10) and np.allclose(norm_last, auto_last, rtol=1e-10)

decay = norm_last[0] / norm_last[-1]
spread = norm_every.max() / norm_every.min()
print(f"loss at every step: largest / smallest ||dL/dh_t|| = {spread:.1f}")
print(f"loss at the last step: ||dL/dh_1|| / ||dL/dh_T|| = {decay:.0e}")
# seed shifts 0-15: spread 2.0 to 4.2, decay 1e-8 or less
assert spread < 10                                  # the same order along the sequence
assert decay < 1e-6                                 # falls by more than a million

fig, ax = plt.subplots(figsize=(7, 3.5))
steps = np.arange(1, T2 + 1)
ax.semilogy(steps, norm_every, "-", color="tab:blue", label="loss at every step (NumPy BPTT)")
ax.semilogy(steps, auto_every, "o", ms=3, color="tab:blue", label="same, autograd")
ax.semilogy(steps, norm_last, "-", color="tab:orange", label="loss at the last step (NumPy BPTT)")
ax.semilogy(steps, auto_last, "o", ms=3, color="tab:orange", label="same, autograd")
ax.set_xlabel("time step t")
ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
ax.set_title("The gradient reaching each hidden state")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The lines (NumPy) pass through the dots (autograd) on both curves. With a loss at every
# step, the gradient norms along the sequence stay within a small factor of each other (a
# factor of two to four, depending on the random weights). With the loss at the last step
# only, the gradient that reaches $\mathbf h_1$ is a tiny fraction of the one at
# $\mathbf h_T$: a fall by more than a factor of a million for every seed we tried, and
# often by ten thousand times more. For this small, freshly initialised network, the error
# signal dies out over a few dozen steps. An input at step 1 then has almost no say in how
# the weights change, however much it matters for the target. Keep this picture in mind;
# it returns with truncation below and is the subject of chapter 04.
#
# The "copies" argument of section 3 can be checked directly too. We rebuild the forward
# pass in PyTorch with a *separate* leaf tensor $W_{hh}^{(t)}$ for each step, all equal to
# $W_{hh}$. Autograd then gives each copy its own gradient; each should be the local
# product $\boldsymbol\delta_t \mathbf h_{t-1}^\top$, and their sum the gradient of the
# shared weight. (The first copy's gradient is zero: it multiplies $\mathbf h_0 = \mathbf 0$.)

# %% tags=["nbval-check-output"]
W_copies = [torch.tensor(p["W_hh"], requires_grad=True) for _ in range(T)]
W_ih, b_vec = torch.from_numpy(p["W_ih"]), torch.from_numpy(p["b"])
h = torch.from_numpy(h0)
predictions = []
for t in range(T):
    h = torch.tanh(torch.from_numpy(x[t]) @ W_ih.T + h @ W_copies[t].T + b_vec)
    predictions.append(h @ torch.from_numpy(p["W_hy"]).T + torch.from_numpy(p["b_y"]))
loss_copies = 0.5 * ((torch.stack(predictions) - torch.from_numpy(y)) ** 2).sum() / B
loss_copies.backward()

deltas = (1 - hs[1:] ** 2) * h_bar                  # delta_t for t = 1..T, from section 3
local = [deltas[t].T @ hs[t] for t in range(T)]     # delta_t h_{t-1}^T, summed over the batch
scale = np.linalg.norm(grads["W_hh"])               # the first copy's gradient is 0 (h_0 = 0)
per_copy = max(np.linalg.norm(local[t] - W_copies[t].grad.numpy()) / scale for t in range(T))
total = rel_err(sum(W.grad for W in W_copies), grads["W_hh"])
assert per_copy < 1e-12 and total < 1e-12
print(f"all {T} per-step gradients equal delta_t h_(t-1)^T, and they sum to dL/dW_hh")

# %% [markdown]
# ## 7. What BPTT costs, and truncated BPTT
#
# ### Memory grows with every step
#
# The forward pass of section 2 kept $T + 1$ states. PyTorch's autograd does the same, and
# more: it keeps every tensor that some operation's backward will need. We can measure
# that. `rnnbook.bptt.saved_tensors` runs a function under
# `torch.autograd.graph.saved_tensors_hooks`, a hook PyTorch calls for every tensor it saves
# for the backward pass, and adds up the distinct storages (the weights excluded, since they
# exist anyway). We run an `nn.RNN` with a read-out and a loss over $K$ steps of a batch,
# for several $K$.

# %% tags=["nbval-check-output"]
B3, I3, H3, T3 = 32, 8, 64, 400
seed_everything(3)
rnn3, head3 = nn.RNN(I3, H3, batch_first=True), nn.Linear(H3, 1)
weights3 = list(rnn3.parameters()) + list(head3.parameters())
x3, y3 = torch.randn(B3, T3, I3), torch.randn(B3, T3)


def chunk_loss(x_chunk, y_chunk, h=None):
    """Mean squared error of the read-out over one chunk; also returns the final state."""
    out, h = rnn3(x_chunk, h)
    return ((head3(out).squeeze(-1) - y_chunk) ** 2).mean(), h


memory = {}
for K in (25, 50, 100, 200, 400):
    _, saved = saved_tensors(lambda K=K: chunk_loss(x3[:, :K], y3[:, :K]), exclude=weights3)
    memory[K] = saved.nbytes
    print(f"backpropagating {K:3d} steps: autograd holds {saved.nbytes / 1e6:5.2f} MB "
          f"in {saved.count} tensors")
per_step = (memory[400] - memory[25]) / (400 - 25)
state_bytes = B3 * H3 * 4                           # one float32 hidden state of the batch
print(f"each extra step costs {per_step / 1e3:.1f} kB = {per_step / state_bytes:.2f} "
      f"hidden states of the batch ({state_bytes / 1e3:.1f} kB each)")
for K in memory:                                    # exactly linear in K
    assert abs(memory[K] - (memory[25] + per_step * (K - 25))) < 1e-3 * memory[K]
assert 2 <= per_step / state_bytes <= 2.5

# %% [markdown]
# The memory is exactly linear in the number of steps: each step holds about
# 2.14 hidden states of the batch (the state itself, which the $\tanh$ derivative and the
# next matrix product need; a second copy in the stacked output that the read-out reads;
# and a little for the input and the loss). For this small model that is only
# 17.5 kB per step. But a character language model reads text a million characters long,
# with hidden sizes in the hundreds or thousands: backpropagating through the whole text at
# once would hold every one of those states, and would update the weights once per pass
# over the data.
#
# There are two answers. The first keeps the gradient exact and pays in computation; the
# second, truncation, keeps the computation and changes the gradient.
#
# ### Checkpointing: store a few states, recompute the rest
#
# The backward pass needs every state, but not all at the same time: it walks backwards
# through them one by one. **Gradient checkpointing** (Griewank, 1992; Chen et al., 2016)
# uses that. The forward pass keeps only every $S$-th state, the *checkpoints*, and throws
# the others away. The backward pass then works through the sequence one segment of $S$
# steps at a time, from the end: it recomputes the segment's states from the checkpoint at
# its start, backpropagates through the segment, and hands the gradient
# $\boldsymbol\delta$ at the segment's first step on to the segment before (that is what
# the argument `delta_after` of `rnn_backward` is for). At any moment it holds the $T/S$
# checkpoints and the states of one segment, about $T/S + S$ states instead of $T$; with
# $S \approx \sqrt T$ that is $2\sqrt T$. The price is one more forward pass, since every
# state is computed twice. The gradient is not an approximation: it is the same sum,
# computed from the same states. (Evenly spaced checkpoints are the simplest choice;
# Gruslys et al. (2016) place them optimally for a given memory budget, and Griewank's
# recursive scheme needs only logarithmic memory.)

# %% tags=["nbval-check-output"]
def rnn_backward_checkpointed(p, x, h0, e, segment):
    """BPTT keeping only every `segment`-th state from the forward pass and recomputing
    the others, one segment at a time, during the backward pass.

    Returns the parameter gradients and the largest number of states held at once.
    """
    checkpoints, h = {0: h0}, h0
    for t in range(len(x)):                              # forward: keep the checkpoints only
        h = np.tanh(x[t] @ p["W_ih"].T + h @ p["W_hh"].T + p["b"])
        if (t + 1) % segment == 0:
            checkpoints[t + 1] = h
    grads = {name: np.zeros_like(value) for name, value in p.items()}
    delta_after, most_held = np.zeros_like(h0), 0
    for start in reversed(range(0, len(x), segment)):   # backward: the last segment first
        stop = min(start + segment, len(x))
        hs_seg, _ = rnn_forward(p, x[start:stop], checkpoints[start])   # recompute
        most_held = max(most_held, len(checkpoints) + len(hs_seg))
        seg_grads, seg_h_bar = rnn_backward(p, x[start:stop], hs_seg, e[start:stop],
                                            delta_after=delta_after)
        for name in grads:
            grads[name] += seg_grads[name]
        delta_after = (1 - hs_seg[1] ** 2) * seg_h_bar[0]   # delta at the segment's first step
    return grads, most_held


worst = max(rel_err(rnn_backward_checkpointed(p, x, h0, e, segment)[0][name], grads[name])
            for segment in (1, 3, 4, 7, 20) for name in p)
print("checkpointed BPTT against full BPTT, segments of 1, 3, 4, 7 and 20 steps: "
      + ("agrees to round-off" if worst < 1e-12 else f"differs by {worst:.1e}"))
assert worst < 1e-12

T_long = 400                                             # how many states are held at once
x_long = np.zeros((T_long, 1, I))
e_long = np.zeros((T_long, 1, O))
held = {S: rnn_backward_checkpointed(p, x_long, np.zeros((1, H)), e_long, S)[1]
        for S in (1, 5, 10, 20, 40, 100, 400)}
print(f"T = {T_long}: states held at once, by segment length S:",
      ", ".join(f"S={S}: {n}" for S, n in held.items()))
assert held[20] == T_long // 20 + 1 + 20 + 1 and min(held, key=held.get) == 20
assert held[20] < 0.11 * held[400]

# %% [markdown]
# The gradients agree with full BPTT to round-off for every segment length. Over $T = 400$
# steps, segments of $S = 20 = \sqrt{400}$ hold 42 states at once (21 checkpoints, counting
# $\mathbf h_0$ and $\mathbf h_T$, and the 21 states of one segment) instead of 401, a tenth
# of the memory, at the cost of recomputing the forward pass once. With segments of one step
# or of the whole sequence we are back to holding everything.
#
# PyTorch has this built in: `torch.utils.checkpoint.checkpoint(fn, *inputs)` runs `fn`
# without keeping what its backward pass needs, and reruns it when the backward pass gets
# there. Wrapped around each segment of the `nn.RNN` above, it cuts what autograd holds
# between the forward and the backward pass, and the gradient matches full BPTT's up to the
# float32 rounding of a differently ordered sum:

# %% tags=["nbval-check-output"]
def checkpointed_loss(segment):
    """The loss of chunk_loss over all T3 steps, each segment run under checkpoint."""
    h, total = torch.zeros(1, B3, H3), 0.0
    for start in range(0, T3, segment):
        loss, h = checkpoint(chunk_loss, x3[:, start:start + segment],
                             y3[:, start:start + segment], h, use_reentrant=False)
        total = total + loss * x3[:, start:start + segment].shape[1] / T3
    return total


full_loss, _ = chunk_loss(x3, y3)
full_loss.backward()
full_grads = [w.grad.clone() for w in weights3]
for w in weights3:
    w.grad = None
loss_ckpt, saved_ckpt = saved_tensors(lambda: checkpointed_loss(20), exclude=weights3)
loss_ckpt.backward()
ckpt_gap = max(((w.grad - g).abs().max() / g.abs().max()).item()
               for w, g in zip(weights3, full_grads, strict=True))
for w in weights3:
    w.grad = None
print(f"full BPTT over {T3} steps: autograd holds {memory[T3] / 1e6:.2f} MB; "
      f"checkpointed in segments of 20: {saved_ckpt.nbytes / 1e6:.2f} MB between the passes")
print("gradients, checkpointed against full:",
      "equal to float32 rounding (below 1e-4)" if ckpt_gap < 1e-4 else f"differ by {ckpt_gap:.1e}")
assert saved_ckpt.nbytes < 0.15 * memory[T3] and ckpt_gap < 1e-4

# %% [markdown]
# Between the passes autograd now holds the segments' inputs and boundary states only; during
# the backward pass it holds one segment's activations on top, for the moment that segment
# is processed (20 steps at about 17.5 kB each here). Checkpointing is the exact answer to
# "memory grows with $T$". It does not address the other cost of full BPTT, a single weight
# update per pass over the data.
#
# ### Truncated BPTT: carry the state, cut the gradient
#
# The other remedy, and the standard one for long streams of text, is **truncated
# backpropagation through time**. Split the long
# sequence into chunks of $K$ steps. Run the network over the first chunk, backpropagate
# through that chunk only, update the weights. Then start the next chunk from the final
# state of the previous one, so that the *forward* pass still sees the whole history, but
# **detach** that state from the graph first, so that the *backward* pass stops at the chunk
# boundary. In PyTorch the whole method is one call in the loop:
#
# ```python
# h = None
# for start in range(0, T, K):
#     loss, h = chunk_loss(x[:, start:start + K], y[:, start:start + K], h)
#     optimizer.zero_grad(); loss.backward(); optimizer.step()
#     h = detach_state(h)     # h.detach(); for an LSTM, both h and c
# ```
#
# `rnnbook.bptt.detach_state` is `h.detach()` for a tensor, applied to each member of an
# LSTM's `(h, c)` tuple. It returns the same numbers with no history attached. Forget it,
# and the second `backward()` tries to go back into the first chunk's graph, which the
# first `backward()` has already freed. Let us make that mistake on purpose.

# %% tags=["nbval-check-output"]
loss1, h = chunk_loss(x3[:, :50], y3[:, :50])
loss1.backward()
loss2, _ = chunk_loss(x3[:, 50:100], y3[:, 50:100], h)        # h was not detached
try:
    loss2.backward()
    message = None
except RuntimeError as error:
    message = str(error).split(".")[0]
print(f"RuntimeError: {message}.")
assert message is not None and "second time" in message

loss2, _ = chunk_loss(x3[:, 50:100], y3[:, 50:100], detach_state(h))
loss2.backward()                                               # with detach: fine
rnn3.zero_grad()
head3.zero_grad()

# %% [markdown]
# Passing `retain_graph=True` to the first `backward()`, as the error message suggests,
# would silence the error but defeat the purpose: every chunk's backward pass would then
# run back through the whole history, and no graph would ever be freed. The `detach` is
# the truncation.
#
# In a picture, the state still flows from chunk to chunk, but the gradient arrows across
# the boundary are gone:

# %%
fig, ax = plt.subplots(figsize=(9, 3))
draw_unrolled(ax, steps=6, cut_every=3,
              title="Truncated BPTT in chunks of 3: the state flows on, the gradient stops")
plt.show()

# %% [markdown]
# Chunked, the peak memory is that of one chunk. The total work per pass over the data is
# the same, because every step is still computed forward once and backward once. We check
# both with the measurements above, for $K = 50$ over $T = 400$.

# %% tags=["nbval-check-output"]
K = 50
peak_ratio = memory[K] / memory[T3]
total_ratio = (T3 // K) * memory[K] / memory[T3]
print(f"K = {K}: peak memory {peak_ratio:.3f} of full BPTT (K / T = {K / T3:.3f}); "
      f"summed over the {T3 // K} chunks {total_ratio:.3f}")
assert abs(peak_ratio - K / T3) < 0.01
assert abs(total_ratio - 1) < 0.02

# %% [markdown]
# The time is the same story: the same steps are computed, just in smaller pieces, so one
# pass over the sequence should take about as long either way; the chunked version makes 8
# weight updates in that time instead of 1. The next cell times both on your machine, in
# CPU time and on one thread: other programs running at the same time disturb CPU time less
# than the clock on the wall, and with one thread it counts work, not threads waiting for
# each other. Timings vary from run to run and machine to machine, so the tests do not
# compare the printout; they check only that neither way takes three times as long as the
# other.

# %%
def full_bptt():
    loss, _ = chunk_loss(x3, y3)
    loss.backward()


def truncated_bptt():
    h = None
    for start in range(0, T3, K):
        loss, h = chunk_loss(x3[:, start:start + K], y3[:, start:start + K], h)
        loss.backward()
        h = detach_state(h)


timings, threads = {}, torch.get_num_threads()
torch.set_num_threads(1)
try:
    for name, fn in (("full BPTT, 1 update", full_bptt), (f"chunks of {K}, {T3 // K} updates",
                                                           truncated_bptt)):
        timings[name] = time_it(fn, warmup=1, repeats=5, clock="cpu")
        print(f"{name:<24} {timings[name]} of CPU time per pass over {T3} steps")
finally:
    torch.set_num_threads(threads)
full_time, chunked_time = (t.median for t in timings.values())
print(f"chunked / full: {chunked_time / full_time:.2f}")
assert 1 / 3 < chunked_time / full_time < 3

# %% [markdown]
# ### What truncation cuts, measured
#
# What exactly does `detach` remove? The cleanest way to see it is to ask, for one
# sequence, how much the prediction $\hat y_t$ at each step depends on the input $x_k$ at
# each earlier step, *as the backward pass sees it*: $\lvert \partial \hat y_t / \partial x_k
# \rvert$ for every pair $(t, k)$. That is a $T \times T$ matrix. We compute it twice with
# autograd (one backward pass per row), once through the full graph and once through
# chunks of $K = 8$ joined by `detach_state`, exactly as in training.

# %% tags=["nbval-check-output"]
T4, K4, H4 = 32, 8, 16
seed_everything(4)
rnn4, head4 = nn.RNN(1, H4, dtype=torch.float64), nn.Linear(H4, 1, dtype=torch.float64)
x4 = torch.randn(T4, 1, 1, dtype=torch.float64, requires_grad=True)   # one sequence


def influence(chunk):
    """|d y_hat_t / d x_k| for all t, k, as backpropagation through chunks sees it."""
    h, outputs = None, []
    for start in range(0, T4, chunk):
        out, h = rnn4(x4[start:start + chunk], h)
        h = detach_state(h)
        outputs.append(out)
    y_hat4 = head4(torch.cat(outputs)).flatten()
    rows = [torch.autograd.grad(y_hat4[t], x4, retain_graph=True)[0].flatten()
            for t in range(T4)]
    return torch.stack(rows).abs().numpy()


full, truncated = influence(T4), influence(K4)
t_idx, k_idx = np.indices((T4, T4))
causal = k_idx <= t_idx                              # x_k can only affect y_t for k <= t
same_chunk = t_idx // K4 == k_idx // K4
print(f"pairs (t, k) with k <= t: {causal.sum()}; full BPTT credits {(full[causal] > 0).sum()}, "
      f"truncated {(truncated[causal] > 0).sum()}")
print(f"across a chunk boundary truncated BPTT gives exactly {truncated[causal & ~same_chunk].max()}")
assert np.all(full[~causal] == 0) and np.all(truncated[~causal] == 0)
assert np.all(full[causal] > 0)
assert np.all(truncated[causal & ~same_chunk] == 0)
assert np.all(truncated[same_chunk & causal] == full[same_chunk & causal])   # bit for bit

fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
log_full = np.log10(np.where(full > 0, full, np.nan))
vmin, vmax = np.nanmin(log_full), np.nanmax(log_full)
for ax, matrix, title in ((axes[0], full, "full BPTT"),
                          (axes[1], truncated, f"truncated BPTT, chunks of {K4}")):
    image = ax.imshow(np.log10(np.where(matrix > 0, matrix, np.nan)), cmap="viridis",
                      vmin=vmin, vmax=vmax, extent=(0.5, T4 + 0.5, T4 + 0.5, 0.5))
    ax.set_title(title)
    ax.set_xlabel("input step k")
    for boundary in range(K4, T4, K4):
        ax.axvline(boundary + 0.5, color="0.6", lw=0.6)
        ax.axhline(boundary + 0.5, color="0.6", lw=0.6)
axes[0].set_ylabel("prediction step t")
fig.colorbar(image, ax=axes, label=r"$\log_{10} |\partial \hat y_t / \partial x_k|$ (white: exactly 0)")
plt.show()

# %% [markdown]
# Both matrices are lower triangular, because an input cannot affect an earlier prediction.
# Full BPTT credits every one of the 528 pairs with $k \le t$, with values that fade
# with the distance $t - k$ (the decay of section 6). Truncated BPTT keeps only the
# triangles on the diagonal: within a chunk the values are identical to full BPTT's, bit
# for bit, and across a chunk boundary they are exactly zero. Only 144 of the 528
# pairs survive. Note the sawtooth: the prediction at the first step of a chunk is
# credited to its own input only, and the one at the last step to $K$ inputs, so on
# average a prediction is credited to $(K+1)/2$ inputs, not $K$ (exercise 4 counts this).
#
# > **Common mistake.** It is often written that truncated BPTT with chunks of $K$ steps
# > gives the network "a memory of only $K$ steps", or that it "only looks back $K$ steps".
# > The forward pass is *not* truncated: the state carried into each chunk still holds
# > whatever the network remembers of earlier chunks, and its predictions still use it.
# > What is cut is **credit assignment**: the gradient can no longer say "to predict $y_t$
# > better, change the weights so that $x_k$ is remembered", for any $k$ in an earlier
# > chunk. The next cell changes the first input and runs the same chunked forward pass:
# > the predictions in every later chunk move, while the truncated gradient linking them to
# > that input is exactly zero.

# %% tags=["nbval-check-output"]
with torch.no_grad():
    x_changed = x4.clone()
    x_changed[0] += 1.0                              # change the first input only
    runs = []
    for inputs in (x4, x_changed):                   # the chunked forward pass of training
        h, outputs = None, []
        for start in range(0, T4, K4):
            out, h = rnn4(inputs[start:start + K4], h)
            h = detach_state(h)
            outputs.append(out)
        runs.append(head4(torch.cat(outputs)).flatten().numpy())
moved_by = np.abs(runs[1] - runs[0])
later_chunks = np.arange(T4) >= K4
print(f"predictions in chunks 2 to {T4 // K4} that moved when x_1 changed: "
      f"{(moved_by[later_chunks] > 0).sum()} of {later_chunks.sum()}")
print(f"truncated gradient of those predictions with respect to x_1: "
      f"{'exactly 0' if np.all(truncated[later_chunks, 0] == 0) else 'not 0'}")
assert np.all(moved_by[later_chunks] > 0)            # the forward pass remembers
assert np.all(truncated[later_chunks, 0] == 0)       # the gradient does not reach back

# %% [markdown]
# The state did carry the change all the way through the sequence; the gradient was cut at
# the first boundary. A network trained with short chunks can still *use* information older
# than $K$ steps if its weights happen to keep it, but the gradient never asks it to keep
# it. The next experiments measure what that costs.
#
# ### The truncated gradient is biased
#
# The parameter gradient is the sum over all those pairs, so truncation drops terms from a
# sum and gives a *different*, biased gradient. How different depends on how much the
# dropped terms weigh, that is, on how fast the network forgets. Our NumPy
# `rnn_backward(..., chunk=K)` implements the cut as one line, setting
# $\boldsymbol\delta_{t+1}$ to zero where a chunk ends. We first check that this one line is
# what `detach` does, against PyTorch summing the gradients of the chunks. (The bias can be
# removed in expectation by drawing the truncation lengths at random and reweighting the
# terms, as Tallec & Ollivier (2018) showed; practice mostly lives with it.)

# %% tags=["nbval-check-output"]
seed_everything(5)
T5, K5 = 24, 6
x5, y5 = np.random.normal(size=(T5, B, I)), np.random.normal(size=(T5, B, O))
hs5, y_hat5 = rnn_forward(p, x5, h0)
ours_truncated = rnn_backward(p, x5, hs5, (y_hat5 - y5) / B, chunk=K5)[0]

rnn5, head5 = torch_copy(p)
h = torch.from_numpy(h0)[None]
for start in range(0, T5, K5):
    out, h = rnn5(torch.from_numpy(x5[start:start + K5]), h)
    diff = head5(out) - torch.from_numpy(y5[start:start + K5])
    (0.5 * (diff ** 2).sum() / B).backward()         # gradients add up over the chunks
    h = detach_state(h)
torch_truncated = {"W_ih": rnn5.weight_ih_l0.grad, "W_hh": rnn5.weight_hh_l0.grad,
                   "b": rnn5.bias_ih_l0.grad, "W_hy": head5.weight.grad, "b_y": head5.bias.grad}
worst = max(rel_err(ours_truncated[n], torch_truncated[n]) for n in p)
print("one zeroed delta per chunk boundary = detach:",
      "agrees to round-off" if worst < 1e-12 else f"differs by {worst:.1e}")
assert worst < 1e-12

# %% [markdown]
# Now the bias itself. We take a network with 32 units over $T = 128$ steps and set its
# recurrent matrix to $W_{hh} = \rho\, Q$ with $Q$ a random orthogonal matrix, so that every
# singular value of $W_{hh}$ equals $\rho$. Since $\tanh' \le 1$, one step's Jacobian can
# then stretch a vector by at most $\rho$ (chapter 04 makes this precise). With $\rho = 0.5$ the network forgets fast; with
# $\rho = 1$ it is at the edge of keeping things. For each chunk length $K$ we compare the
# truncated gradient of the recurrent parameters ($W_{ih}, W_{hh}, \mathbf b$) with the full
# one.

# %%
T6, B6, H6 = 128, 16, 32
chunks = [1, 2, 4, 8, 16, 32, 64, 128]


def recurrent_part(gr):
    """The gradients of W_ih, W_hh and b as one vector."""
    return np.concatenate([gr[n].ravel() for n in ("W_ih", "W_hh", "b")])


bias = {}
for rho in (0.5, 1.0):
    seed_everything(6)
    p6 = init_params(I, H6, 1)
    Q, _ = np.linalg.qr(np.random.normal(size=(H6, H6)))
    p6["W_hh"] = rho * Q
    x6, y6 = np.random.normal(size=(T6, B6, I)), np.random.normal(size=(T6, B6, 1))
    hs6, y_hat6 = rnn_forward(p6, x6, np.zeros((B6, H6)))
    e6 = (y_hat6 - y6) / B6
    exact = recurrent_part(rnn_backward(p6, x6, hs6, e6)[0])
    bias[rho] = np.array([rel_err(recurrent_part(rnn_backward(p6, x6, hs6, e6, chunk=k)[0]),
                                  exact) for k in chunks])
    print(f"rho = {rho}: relative error of the truncated gradient for K = {chunks}:")
    print("   ", np.round(bias[rho], 3))
# Seed shifts 0-15: for rho = 1 the error always fell with every longer chunk; for
# rho = 0.5 it fell overall, with small bumps on some seeds; rho = 1 lost more at every K.
assert bias[0.5][-1] == 0 and bias[1.0][-1] == 0     # K = T: nothing is cut
assert np.all(np.diff(bias[1.0]) < 0)                # longer chunks, smaller bias
assert bias[0.5][-2] < 0.5 * bias[0.5][0]
assert np.all(bias[1.0][:-1] > bias[0.5][:-1])        # the forgetful network loses less

fig, ax = plt.subplots(figsize=(6.5, 3.5))
for rho in bias:
    ax.plot(chunks[:-1], bias[rho][:-1], "o-", label=rf"$\rho = {rho}$")
ax.set_xscale("log", base=2)
ax.set_xlabel("chunk length K (T = 128)")
ax.set_ylabel("relative error of the\ntruncated gradient")
ax.set_title("What truncation leaves out of the gradient")
ax.legend()
plt.show()

# %% [markdown]
# With $K = 1$ the gradient goes back no further than the current step, and it is far off:
# by a few tenths of its size for $\rho = 0.5$, and by most of it for $\rho = 1$. The
# error falls as the chunks grow, and it is smaller for the forgetful network at every
# $K$, a few percent against a few tenths at $K = 16$ (the exact values depend on the
# random weights; the order held for every seed we tried). For $\rho = 1$ it fell with
# every doubling of $K$; for $\rho = 0.5$ it fell overall, with small bumps where the
# remaining terms are tiny anyway, and at $K = T$ nothing is cut and the error is exactly 0.
# That is the bargain of truncation. When the terms it drops have already faded, as in a
# network that forgets within $K$ steps, it loses little. When the network must carry
# information further than $K$ steps, the dropped terms are exactly the ones that would
# teach it to, and the next experiment shows what that means.
#
# ### What truncation costs: a dependency longer than the chunk
#
# A task with a dependency of known length makes the cost concrete. The **delayed echo**:
# the input is a stream of random bits, $\pm 1$, and the target at each step is the bit
# that came in exactly $d = 8$ steps earlier. A network that remembers the last 8 bits can
# be 100% right; one that does not is right half the time, at a cross-entropy of
# $\log 2 \approx 0.693$.
#
# We train a tanh RNN with 16 units on 32 parallel streams, 12,000 steps long, with
# truncated BPTT and chunks of $K = 4, 8, 9, 16, 32$. Every run sees the same data and
# computes the same number of steps forward and backward; a shorter chunk just updates
# more often. Then each network is tested on fresh streams. From the sawtooth above we can
# predict the outcome: the gradient links a target to the input $d$ steps back only when
# both fall in the same chunk, which needs $K > d$.

# %%
LAG = 8


def echo_streams(batch, length, lag, seed):
    """Random +-1 bits (batch, length, 1), and targets (batch, length): the bit `lag` steps ago."""
    gen = generator(seed)
    bits = torch.randint(0, 2, (batch, length + lag), generator=gen).float()
    return (2 * bits[:, lag:] - 1).unsqueeze(-1), bits[:, :-lag]


def train_echo(K, seed, hidden=16, batch=32, length=12_000, lr=1e-2):
    """Truncated BPTT with chunks of K over one long stream; returns losses and the model."""
    seed_everything(seed)
    rnn, head = nn.RNN(1, hidden, batch_first=True), nn.Linear(hidden, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    x, y = echo_streams(batch, length, LAG, seed=1000 + seed)
    h, losses = None, []
    for start in progress(range(0, length, K), desc=f"K={K}"):
        out, h = rnn(x[:, start:start + K], h)
        logits = head(out).squeeze(-1)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y[:, start:start + K])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        h = detach_state(h)                         # the truncation
        losses.append(loss.item())
    return np.array(losses), rnn, head


@torch.no_grad()
def echo_accuracy(rnn, head):
    """Accuracy on 256 fresh streams of 500 steps (the first LAG steps have no target)."""
    x, y = echo_streams(256, 500, LAG, seed=12345)
    out, _ = rnn(x)
    correct = (head(out).squeeze(-1) > 0).float() == y
    return correct[:, LAG:].float().mean().item()


chunk_lengths = [4, 8, 9, 16, 32]
seeds = [0, 1]
curves, accuracy = {}, {}
for seed in seeds:
    for K in chunk_lengths:
        losses, rnn_echo, head_echo = train_echo(K, seed)
        curves[K, seed] = losses
        accuracy[K, seed] = echo_accuracy(rnn_echo, head_echo)
print(f"test accuracy, lag d = {LAG} (chance 0.5):")
for K in chunk_lengths:
    print(f"  K = {K:2d}: " + ", ".join(f"seed {s}: {accuracy[K, s]:.4f}" for s in seeds))
# Calibrated on seeds 0-7 (every seed shift from 0 to 6): K <= 8 between 0.49 and 0.54,
# K > 8 at least 0.997. Every run must fall on its side of the line.
for (K, seed), acc in accuracy.items():
    if K <= LAG:
        assert acc < 0.6, (K, seed, acc)            # stays near chance
    else:
        assert acc > 0.95, (K, seed, acc)           # learns the echo

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})
for K in chunk_lengths:
    losses = curves[K, 0]
    window = max(1, 400 // K)                       # smooth over about 400 steps of stream
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    seen = K * (np.arange(len(smooth)) + window)     # stream steps processed so far
    axes[0].plot(seen, smooth, label=f"K = {K}", color="tab:red" if K <= LAG else None,
                 ls="--" if K == 4 else "-")
axes[0].axhline(np.log(2), color="0.5", ls=":", label="chance, log 2")
axes[0].set_xlabel("steps of the stream processed")
axes[0].set_ylabel("training cross-entropy")
axes[0].set_title(f"Delayed echo, lag d = {LAG} (first seed)")
axes[0].legend(fontsize=8)
positions = np.arange(len(chunk_lengths))
for seed, marker, offset in zip(seeds, "os", (-0.08, 0.08), strict=True):
    axes[1].plot(positions + offset, [accuracy[K, seed] for K in chunk_lengths], marker,
                 label=f"seed {seed}")
axes[1].axvline(chunk_lengths.index(LAG) + 0.5, color="tab:red", ls="--", lw=1,
                label=f"between K = d = {LAG} and K = {LAG + 1}")
axes[1].axhline(0.5, color="0.5", ls=":")
axes[1].set_xticks(positions, [str(k) for k in chunk_lengths])
axes[1].set_xlabel("chunk length K")
axes[1].set_ylabel("test accuracy")
axes[1].set_title("Learned only when K > d")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The line is sharp. With $K = 4$ and $K = 8$ the networks stay at chance on both seeds
# (test accuracy within a few points of 0.5), while with $K = 9$ they learn the echo
# almost perfectly (above 0.99 for every $K > d$). Before fixing the thresholds of the
# asserts we ran the experiment on eight seeds: every run with $K \le 8$ stayed between
# 0.49 and 0.54, every run with $K > 8$ reached at least 0.997. One step of chunk length
# makes the difference. With $K = 9$, only one target per chunk, the one at the chunk's
# last step, is in the same chunk as the bit it echoes, so only one loss term in nine
# carries the signal; that is enough. With $K = 8$, none does, and the carried state,
# although it still holds information about the past, never gets a gradient that asks it
# to keep the right bit. (A small excess over 0.5, a few points at $K = 8$ on some seeds,
# is still possible because the forward pass is not truncated: the gradient can adjust how
# the first step of a chunk uses whatever the incoming state happens to hold, just not how
# that state was made.)
#
# In practice, then: choose the truncation length longer than the longest dependency you
# want the network to learn, and remember that the learning signal for a lag $d$ comes
# only from the fraction $(K - d)/K$ of positions (exercise 4). Zaremba, Sutskever &
# Vinyals (2014), for example, unrolled their word-level language models for 35 steps.
# Chapter 11 returns to truncated BPTT, with the state carried across batches, for
# character language models.
#
# ## Summary
#
# - An RNN unrolled over $T$ steps is a $T$-layer network with shared weights;
#   backpropagation through time is the chain rule on that graph. The gradient of a shared
#   weight is the sum of the gradients of its per-step copies (checked above).
# - The backward recursion runs in reverse time: $\bar{\mathbf h}_t = W_{hy}^\top \mathbf e_t +
#   W_{hh}^\top \boldsymbol\delta_{t+1}$, $\boldsymbol\delta_t = (1-\mathbf h_t^2) \odot
#   \bar{\mathbf h}_t$; the weight gradients are sums over time of $\boldsymbol\delta_t$ (or
#   $\mathbf e_t$) times the layer's input.
# - Our NumPy BPTT agrees with PyTorch's autograd in float64 to round-off, about
#   $10^{-16}$ relative error (required: $10^{-6}$), and with central finite differences to
#   better than $10^{-6}$.
# - Unrolled, the gradient at step $t$ is a sum over later losses of errors multiplied by
#   products of Jacobians $\operatorname{diag}(1 - \mathbf h_j^2) W_{hh}$. With a loss at the
#   last step only, its norm fell by more than $10^6$ over 40 steps: the seed of chapter 04.
# - BPTT must keep every step's activations: autograd's memory grew exactly linearly with
#   the number of steps backpropagated.
# - Gradient checkpointing keeps only every $S$-th state and recomputes the others during
#   the backward pass: about $T/S + S$ states instead of $T$ (42 instead of 401 for
#   $T = 400$, $S = 20$), one extra forward pass, and the exact gradient.
# - Truncated BPTT carries the state forward but `detach`es it between chunks of $K$ steps.
#   Peak memory falls to $K/T$ of full BPTT for the same total work, and the weights are
#   updated $T/K$ times as often. The gradient across chunk boundaries becomes exactly zero,
#   so the truncated gradient is biased, less so for networks that forget fast. The forward
#   pass is not truncated: the state still carries older information, only the gradient
#   stops.
# - A dependency of lag $d$ can be learned only when $K > d$: on the delayed echo with
#   $d = 8$, chunks of 4 and 8 stayed at chance, chunks of 9 and more reached near 100%.
#
# ## Exercises
#
# **1. The gradients BPTT leaves on the table.** Derive $\partial L / \partial \mathbf h_0$
# and $\partial L / \partial \mathbf x_t$ in terms of the quantities `rnn_backward` computes,
# evaluate them from its output $\bar{\mathbf h}$ alone, and check both against autograd. Which
# of the two is the gradient that `detach` throws away at every chunk boundary?
#
# <details><summary>Solution</summary>
#
# $\mathbf h_0$ enters the graph only through $\mathbf a_1 = W_{hh}\mathbf h_0 + \dots$, and
# $\mathbf x_t$ only through $\mathbf a_t = W_{ih} \mathbf x_t + \dots$, so
# $\partial L / \partial \mathbf h_0 = W_{hh}^\top \boldsymbol\delta_1$ and
# $\partial L / \partial \mathbf x_t = W_{ih}^\top \boldsymbol\delta_t$, with
# $\boldsymbol\delta_t = (1 - \mathbf h_t^2) \odot \bar{\mathbf h}_t$. In row layout,
# `deltas[0] @ W_hh` and `deltas[t] @ W_ih`. The first is the one `detach` discards: the
# state carried into a chunk is that chunk's $\mathbf h_0$, and its gradient would have
# continued into the previous chunk.
#
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
deltas = (1 - hs[1:] ** 2) * h_bar                  # delta_t, t = 1..T, shape (T, B, H)
dL_dh0 = deltas[0] @ p["W_hh"]
dL_dx = deltas @ p["W_ih"]                          # (T, B, I)

rnn_ex, head_ex = torch_copy(p)
x_ex = torch.from_numpy(x).requires_grad_()
h0_ex = torch.from_numpy(h0)[None].requires_grad_()
out, _ = rnn_ex(x_ex, h0_ex)
(0.5 * ((head_ex(out) - torch.from_numpy(y)) ** 2).sum() / B).backward()
print(f"||dL/dh_0|| = {np.linalg.norm(dL_dh0):.4f}, ||dL/dx|| = {np.linalg.norm(dL_dx):.4f}")
assert rel_err(dL_dh0, h0_ex.grad[0]) < 1e-12
assert rel_err(dL_dx, x_ex.grad) < 1e-12

# %% [markdown]
# **2. Another loss, same recursion.** Turn the network into a classifier over $O = 2$
# classes at every step: the outputs are logits, and the loss is the cross-entropy
# $L = \frac{1}{B} \sum_b \sum_t -\log \operatorname{softmax}(\hat{\mathbf y}_t)_{c_t}$.
# Derive $\mathbf e_t$, compute all gradients with the unchanged `rnn_backward`, and check
# them against `torch.nn.functional.cross_entropy`.
#
# <details><summary>Solution</summary>
#
# For one step, $\partial(-\log \operatorname{softmax}(\mathbf z)_c)/\partial \mathbf z =
# \operatorname{softmax}(\mathbf z) - \mathbf 1_c$ (the predicted probabilities minus the
# one-hot target), so $\mathbf e_t = (\operatorname{softmax}(\hat{\mathbf y}_t) -
# \mathbf 1_{c_t}) / B$. Nothing else changes: the recursion never looks at the loss, only at
# $\mathbf e_t$.
#
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
seed_everything(7)
classes = np.random.randint(0, O, size=(T, B))
probs = np.exp(y_hat - y_hat.max(-1, keepdims=True))
probs /= probs.sum(-1, keepdims=True)
e_ce = (probs - np.eye(O)[classes]) / B
grads_ce, _ = rnn_backward(p, x, hs, e_ce)

rnn_ce, head_ce = torch_copy(p)
logits = head_ce(rnn_ce(torch.from_numpy(x), torch.from_numpy(h0)[None])[0])
ce = nn.functional.cross_entropy(logits.reshape(-1, O), torch.from_numpy(classes).reshape(-1),
                                 reduction="sum") / B
ce.backward()
torch_ce = {"W_ih": rnn_ce.weight_ih_l0.grad, "W_hh": rnn_ce.weight_hh_l0.grad,
            "b": rnn_ce.bias_ih_l0.grad, "W_hy": head_ce.weight.grad, "b_y": head_ce.bias.grad}
print(f"cross-entropy {ce.item():.4f}; gradients of all 5 parameters checked")
assert max(rel_err(grads_ce[n], torch_ce[n]) for n in p) < 1e-12

# %% [markdown]
# **3. Choosing $\varepsilon$.** For the entry $W_{hh}[0, 0]$, compute the error of the
# *forward* difference $(L(\theta+\varepsilon) - L(\theta))/\varepsilon$ and of the central
# difference against BPTT, for $\varepsilon = 10^{-1}, 10^{-2}, \dots, 10^{-12}$. Plot both
# on log axes. Why is each curve V-shaped, what are the slopes of the right arms, and where
# is each at its best?
#
# <details><summary>Solution</summary>
#
# Two errors compete. The **truncation error** of the formula: by Taylor's theorem the
# forward difference is off by about $\tfrac{\varepsilon}{2} L''$, the central difference by
# about $\tfrac{\varepsilon^2}{6} L'''$, so on log axes their right arms have slopes 1 and 2.
# The **round-off error**: $L$ is known only to about $u \cdot |L|$ with
# $u \approx 10^{-16}$, and dividing a difference of two such values by $\varepsilon$ gives
# an error near $u|L|/\varepsilon$, which grows as $\varepsilon$ shrinks (the left arms).
# Balancing the two puts the forward difference's optimum near $\varepsilon \approx
# \sqrt{u} \approx 10^{-8}$ and the central difference's near $\varepsilon \approx
# u^{1/3} \approx 10^{-5}$, up to constants that depend on the derivatives of $L$.
#
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# Round-off decides the left arms, and its digits vary between machines (and the weights
# with the seed): the printout of this cell is not compared by the tests; its asserts run.
epsilons = 10.0 ** -np.arange(1, 13)
index = (0, 0)
analytic = grads["W_hh"][index]


def loss_with(value):
    q = {k: v.copy() for k, v in p.items()}
    q["W_hh"][index] = value
    return mse_loss(rnn_forward(q, x, h0)[1], y)


theta = p["W_hh"][index]
forward_err = np.array([abs((loss_with(theta + eps) - loss) / eps - analytic)
                        for eps in epsilons]) / abs(analytic)
central_err = np.array([abs((loss_with(theta + eps) - loss_with(theta - eps)) / (2 * eps)
                            - analytic) for eps in epsilons]) / abs(analytic)
right_arm = slice(1, 4)                             # epsilon = 1e-2, 1e-3, 1e-4


def slope(err):
    return np.polyfit(np.log10(epsilons[right_arm]), np.log10(err[right_arm]), 1)[0]


def floor(err):
    """The best error, as the median of the three smallest: one epsilon where truncation and
    round-off happen to cancel does not count."""
    return np.median(np.sort(err)[:3])


best_f, best_c = epsilons[forward_err.argmin()], epsilons[central_err.argmin()]
print(f"right-arm slopes: forward {slope(forward_err):.2f}, central {slope(central_err):.2f}")
print(f"best: forward {forward_err.min():.0e} at epsilon 1e{np.log10(best_f):.0f}, "
      f"central {central_err.min():.0e} at epsilon 1e{np.log10(best_c):.0f}")
print(f"error floors (median of the 3 best): forward {floor(forward_err):.0e}, "
      f"central {floor(central_err):.0e}")
# seed shifts 0-15: slopes 0.96-1.01 and 1.99-2.02; floors 13 to 36,000 times apart;
# best epsilons 1e-7 (forward) and 1e-5 or 1e-6 (central)
assert abs(slope(forward_err) - 1) < 0.1 and abs(slope(central_err) - 2) < 0.1
assert floor(central_err) < 0.2 * floor(forward_err)
assert 1e-10 <= best_f <= 1e-6 and 1e-7 <= best_c <= 1e-3
assert central_err[-1] > 100 * central_err.min()    # too small an epsilon: round-off wins

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(epsilons, forward_err, "o-", label="forward difference")
ax.loglog(epsilons, central_err, "s-", label="central difference")
ax.set_xlabel(r"$\varepsilon$")
ax.set_ylabel("relative error vs BPTT")
ax.legend()
ax.set_title("Truncation error (right) against round-off (left)")
plt.show()

# %% [markdown]
# The measured slopes of the right arms come out at 1 and 2, to within a few hundredths,
# for every seed we tried. The forward difference is at its best near
# $\varepsilon = 10^{-7}$, the central difference near $10^{-5}$ (sometimes $10^{-6}$), and
# the central difference's best error is far smaller: typically by a factor of a hundred to
# a thousand, never by less than ten over sixteen seeds (the exact figures depend on the
# weights and on the machine's rounding; the cell prints this run's). Below those
# $\varepsilon$, both curves climb together as round-off takes over. That is why section 5
# used central differences with $\varepsilon = 10^{-5}$.

# %% [markdown]
# **4. Counting the sawtooth.** From the `truncated` influence matrix of section 7
# ($T = 32$, $K = 8$), count for each prediction step how many inputs it is credited to,
# and check that the average is $(K+1)/2$. Then count the fraction of prediction steps whose
# input $d$ steps back is credited, for $d = 0, \dots, 8$, and compare with $(K - d)/K$.
# What does that say about the delayed-echo experiment with $K = 9$ and $d = 8$?
#
# <details><summary>Solution</summary>
#
# The prediction at position $j = 0, \dots, K-1$ of a chunk is credited to the inputs at
# positions $0, \dots, j$ of the same chunk: $j + 1$ of them, on average $(K+1)/2$. The input
# $d$ steps back is in the same chunk when $j \ge d$, which holds for $K - d$ of the $K$
# positions (none when $d \ge K$). With $K = 9$ and $d = 8$, only $1/9$ of the targets
# carry a gradient linking them to the bit they echo, and the experiment showed that
# this is enough, given many updates.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
credited = (truncated > 0).sum(axis=1)
print(f"inputs credited, prediction steps 1..{K4}: {credited[:K4]}; mean over all steps "
      f"{credited.mean():.2f}, (K + 1) / 2 = {(K4 + 1) / 2}")
assert credited.mean() == (K4 + 1) / 2

# Steps from the second chunk on all have an input d <= K steps back; each position of a
# chunk appears equally often among them.
fractions = [np.mean([truncated[t, t - d] > 0 for t in range(K4, T4)]) for d in range(K4 + 1)]
print("fraction credited to the input d steps back, d = 0..8:", np.round(fractions, 3))
assert np.allclose(fractions, [(K4 - d) / K4 for d in range(K4 + 1)], rtol=0, atol=1e-12)

# %% [markdown]
# **5. Overlapping truncation.** Williams & Peng (1990) proposed a variant that avoids the
# sawtooth (Williams & Zipser, 1995, call it BPTT($k_2$; $k_1$) in their survey of the
# variants): every $k_1$ steps, backpropagate the losses of those last $k_1$ steps through the
# last $k_2 \ge k_1$ steps. (Chunked TBPTT is the case $k_1 = k_2 = K$.) Implement it for
# the influence matrix of section 7 with $k_1 = 4$, $k_2 = 12$: for each update, re-run the
# network over the last $k_2$ steps from the state detached $k_2$ steps back. Show that every
# prediction is now credited to at least $k_2 - k_1 + 1$ inputs, and count how many
# step-backwards it costs compared with chunks of $K = 4$. Then train the delayed echo
# ($d = 8$) this way: does it learn where chunks of 4 could not?
#
# <details><summary>Solution</summary>
#
# The loss at the last of the $k_1$ new steps sees $k_2$ inputs, the one at the first of
# them $k_2 - k_1 + 1 = 9$. So with $k_1 = 4$ every target in the echo task with $d = 8$
# would get a gradient to its bit, which chunks of 4 never give. The price: each update
# backpropagates $k_2$ steps to advance by $k_1$, so the backward work is $k_2 / k_1 = 3$
# times that of chunks of $k_1$ (and the forward work over the overlap is repeated too,
# unless the graph is kept). The first two updates have less history to go back through,
# so over a short sequence the ratio is a little below 3.
#
# For training, keep the detached state at every multiple of $k_1$; each update starts from
# the one $k_2$ steps back, runs $k_2$ steps, and takes the loss of the last $k_1$.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
k1, k2 = 4, 12


def influence_overlapping(k1, k2):
    """|d y_hat_t / d x_k| as Williams & Peng's truncation with (k1, k2) sees it."""
    with torch.no_grad():
        states, _ = rnn4(x4)                        # the states of the forward pass, detached
    rows = torch.zeros(T4, T4, dtype=torch.float64)
    backward_steps = 0
    for end in range(k1, T4 + 1, k1):               # an update every k1 steps
        start = max(0, end - k2)                    # going back k2 steps
        h_start = None if start == 0 else states[start - 1:start]
        out, _ = rnn4(x4[start:end], h_start)
        y_window = head4(out).flatten()
        backward_steps += end - start
        for t in range(end - k1, end):              # the losses of the k1 newest steps
            rows[t] = torch.autograd.grad(y_window[t - start], x4, retain_graph=True)[0].flatten()
    return rows.abs().numpy(), backward_steps


overlap, steps_overlap = influence_overlapping(k1, k2)
credited_overlap = (overlap > 0).sum(axis=1)
print(f"inputs credited per prediction, from step {k2 + 1} on: "
      f"min {credited_overlap[k2:].min()}, max {credited_overlap[k2:].max()}")
print(f"step-backwards over {T4} steps: overlapping {steps_overlap}, chunks of {k1}: {T4}")
assert credited_overlap[k2:].min() == k2 - k1 + 1 and credited_overlap.max() == k2
assert np.all(overlap[overlap > 0] == full[overlap > 0])    # the paths kept are exact
assert steps_overlap == 4 + 8 + (T4 // k1 - 2) * k2

# %% [markdown]
# From step 13 on, every prediction is credited to between 9 and 12 inputs, and the paths
# that are kept carry exactly full BPTT's values. Over our 32 steps the method costs 84
# step-backwards instead of 32 (4 + 8 for the first two updates, then 12 for each of the
# other six). Now the payoff, on the delayed echo with the same data and model as before:


# %% tags=["hide-input"] jupyter={"source_hidden": true}
def train_echo_overlapping(k1, k2, seed, hidden=16, batch=32, length=12_000, lr=1e-2):
    """The delayed echo trained with Williams & Peng's truncation: the same data and model
    as train_echo, an update every k1 steps, backpropagating k2 steps."""
    seed_everything(seed)
    rnn, head = nn.RNN(1, hidden, batch_first=True), nn.Linear(hidden, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    x, y = echo_streams(batch, length, LAG, seed=1000 + seed)
    states = {0: None}                              # detached state at each multiple of k1
    for end in progress(range(k1, length + 1, k1), desc=f"k1={k1}, k2={k2}"):
        start = max(0, end - k2)
        out, h = rnn(x[:, start:end], states[start])
        logits = head(out[:, -k1:]).squeeze(-1)    # the losses of the k1 newest steps
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y[:, end - k1:end])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        states[end] = detach_state(h)
        if end >= k2:
            del states[start]                       # the next update starts k1 steps later
    return rnn, head


acc_overlap = echo_accuracy(*train_echo_overlapping(k1, k2, seed=0))
print(f"delayed echo, d = {LAG}: overlapping ({k1}, {k2}) test accuracy {acc_overlap:.4f}; "
      f"chunks of {k1}: {accuracy[k1, 0]:.4f}")
assert acc_overlap > 0.95 and accuracy[k1, 0] < 0.6

# %% [markdown]
# With updates every 4 steps, like the chunks of 4 that stayed at chance, but looking back
# 12, the network learns the echo of lag 8. The overlap buys back the credit assignment
# that the sawtooth took away, for three times the backward work.

# %% [markdown]
# ## References
#
# - Rumelhart, D. E., Hinton, G. E., & Williams, R. J. (1986). Learning representations by
#   back-propagating errors. *Nature*, 323(6088), 533–536.
# - Werbos, P. J. (1990). Backpropagation through time: what it does and how to do it.
#   *Proceedings of the IEEE*, 78(10), 1550–1560.
# - Williams, R. J., & Peng, J. (1990). An efficient gradient-based algorithm for on-line
#   training of recurrent network trajectories. *Neural Computation*, 2(4), 490–501.
# - Williams, R. J., & Zipser, D. (1995). Gradient-based learning algorithms for recurrent
#   networks and their computational complexity. In Y. Chauvin & D. E. Rumelhart (Eds.),
#   *Backpropagation: Theory, Architectures, and Applications* (pp. 433–486). Lawrence
#   Erlbaum.
# - Hochreiter, S. (1991). *Untersuchungen zu dynamischen neuronalen Netzen* (Diploma
#   thesis). Technische Universität München.
# - Pascanu, R., Mikolov, T., & Bengio, Y. (2013). On the difficulty of training recurrent
#   neural networks. In *Proceedings of the 30th International Conference on Machine
#   Learning (ICML)*, PMLR 28(3), 1310–1318.
# - Griewank, A. (1992). Achieving logarithmic growth of temporal and spatial complexity in
#   reverse automatic differentiation. *Optimization Methods and Software*, 1(1), 35–54.
# - Chen, T., Xu, B., Zhang, C., & Guestrin, C. (2016). Training deep nets with sublinear
#   memory cost. *arXiv:1604.06174*.
# - Gruslys, A., Munos, R., Danihelka, I., Lanctot, M., & Graves, A. (2016).
#   Memory-efficient backpropagation through time. In *Advances in Neural Information
#   Processing Systems 29*, 4125–4133.
# - Tallec, C., & Ollivier, Y. (2018). Unbiasing truncated backpropagation through time.
#   *arXiv:1705.08209*.
# - Zaremba, W., Sutskever, I., & Vinyals, O. (2014). Recurrent neural network
#   regularization. *arXiv:1409.2329*.
# - Sutskever, I. (2013). *Training recurrent neural networks* (PhD thesis). University of
#   Toronto.

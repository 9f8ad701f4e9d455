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
# # Vanishing and exploding gradients
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/rnnbook/rnnbook/blob/main/chapters/04_vanishing_exploding.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/rnnbook/rnnbook/main?labpath=chapters%2F04_vanishing_exploding.ipynb)
#
# **What you will learn**
#
# - Why the gradient that reaches an early time step is a *product* of one Jacobian per
#   step, and why such products shrink or grow exponentially: first with a single number
#   multiplied by 3 or by 0.5, then with the matrices of a real tanh RNN.
# - How the largest singular value of the recurrent matrix $W_{hh}$ bounds that product, and
#   what Pascanu, Mikolov & Bengio (2013) proved: $\sigma_{\max} < 1/\gamma$ is *sufficient*
#   for vanishing, $\sigma_{\max} > 1/\gamma$ only *necessary* for exploding. We test both
#   halves, including matrices with $\sigma_{\max} > 1$ whose gradients still vanish, and a
#   matrix with spectral radius 0.5 whose gradient explodes (exercise 6).
# - How saturating nonlinearities (tanh, sigmoid) shrink the gradient further.
# - Gradient clipping by norm and by value: norm clipping keeps the direction of the step,
#   value clipping does not; Pascanu's one-neuron "cliff", where an unclipped step jumps
#   off onto a plateau and a clipped one stays; and what clipping does under SGD (it bounds
#   the step) and under Adam (which bounds the step itself; clipping keeps one huge
#   gradient from stalling it).
# - Initialisations that keep gradients alive: orthogonal matrices, and the identity with
#   ReLU (the IRNN of Le, Jaitly & Hinton 2015).
# - The adding problem over several seeds: a tanh RNN learns it over 10 steps and stays at
#   the trivial baseline over 50, with PyTorch's default or an orthogonal $W_{hh}$, while the
#   IRNN learns both; a map of the per-step gradient during training shows why.
# - Why "sigmoid gates output only 0 or 1" is wrong, measured on a trained LSTM, and what
#   the gates of the units that hold a memory really do.
# %%
# On Colab, install the book's package first. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "rnnbook @ git+https://github.com/rnnbook/rnnbook"], check=True)

# %% [markdown]
# At the end of chapter 3 a small, freshly initialised tanh RNN carried the error signal of
# a loss at its last step back over 40 steps, and the gradient that arrived at the first
# hidden state was a vanishingly small fraction of the one at the last. An input at step 1
# then has almost no influence on how the weights change, however much it matters for the
# target. This chapter explains that collapse: where it comes from, when it happens, when the
# opposite happens (a gradient that grows without bound), and what can be done about both.
# The cures met here (clipping, careful initialisation) help; the cure that works best, a
# different cell, is the subject of chapters 5 and 6, and this chapter is their motivation.
#
# The package gives us the measuring instruments. `rnnbook.gradients` has
# `jacobian_norms(cell, x, h0)`, which returns $\lVert \partial \mathbf h_t / \partial
# \mathbf h_0 \rVert$ for every $t$ along a sequence, and `model_grad_norms(model, x, y,
# loss_fn)`, which returns $\lVert \partial L / \partial \mathbf h_t \rVert$ for every step
# of a trained model. The package's tests check both against hand-derived Jacobians and
# against an independent autograd computation.

# %%
import copy
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from rnnbook import (ADDING_BASELINE_MSE, SequenceModel, adding_problem, fit, generator,
                     seed_everything)
from rnnbook.gradients import gate_trace, jacobian_norms, model_grad_norms, state_jacobian
from rnnbook.kinds import layer_cell

F64 = torch.float64

# %% [markdown]
# ## 1. The gradient is a product of Jacobians
#
# We use chapter 3's notation. A tanh RNN (or any elementwise nonlinearity $\phi$) updates
# its state by
#
# $$
# \mathbf a_t = W_{xh}\,\mathbf x_t + W_{hh}\,\mathbf h_{t-1} + \mathbf b, \qquad
# \mathbf h_t = \phi(\mathbf a_t).
# $$
#
# Take a loss $L$ that reads the last state $\mathbf h_T$. An earlier state $\mathbf h_k$
# influences $L$ only through $\mathbf h_{k+1}$, which influences it only through
# $\mathbf h_{k+2}$, and so on. The chain rule therefore strings together one Jacobian per
# step:
#
# $$
# \frac{\partial L}{\partial \mathbf h_k}
#   = \Big(\frac{\partial \mathbf h_T}{\partial \mathbf h_k}\Big)^{\!\top}
#     \frac{\partial L}{\partial \mathbf h_T},
# \qquad
# \frac{\partial \mathbf h_T}{\partial \mathbf h_k} = J_T\,J_{T-1} \cdots J_{k+1},
# \qquad
# J_t = \frac{\partial \mathbf h_t}{\partial \mathbf h_{t-1}}
#     = \operatorname{diag}\big(\phi'(\mathbf a_t)\big)\,W_{hh}.
# $$
#
# With losses at every step, $\partial L / \partial \mathbf h_k$ is a sum of such products,
# one for each later loss (chapter 3, section 6); the term that carries a dependency of
# length $T - k$ contains $T - k$ factors. Everything in this chapter follows from how such
# a product behaves as the number of factors grows.
#
# A norm is *submultiplicative*: $\lVert AB \rVert \le \lVert A \rVert\,\lVert B \rVert$.
# For the spectral norm (the largest singular value), the norm of a diagonal matrix is its
# largest entry in absolute value, so with $\gamma = \sup_a |\phi'(a)|$,
#
# $$
# \lVert J_t \rVert \le \gamma\,\sigma_{\max}(W_{hh})
# \quad\Longrightarrow\quad
# \Big\lVert \frac{\partial \mathbf h_T}{\partial \mathbf h_k} \Big\rVert
#   \le \big(\gamma\,\sigma_{\max}(W_{hh})\big)^{T-k}.
# $$
#
# If $\gamma\,\sigma_{\max} < 1$, the right-hand side falls exponentially with the distance
# $T - k$, whatever the inputs: the gradient **vanishes**. If the product instead grows
# exponentially, the gradient **explodes**, and one long-range term swamps every other. The
# bound says that exploding *requires* $\gamma\,\sigma_{\max} > 1$ (otherwise the bound
# would forbid growth), but it does not say that $\gamma\,\sigma_{\max} > 1$ *causes*
# growth: it is only an upper bound. The problem was first analysed by Hochreiter (1991) in
# his diploma thesis and by Bengio, Simard & Frasconi (1994); the conditions above are
# those of Pascanu, Mikolov & Bengio (2013), and we will test both directions.

# %% [markdown]
# ## 2. Multiply by 3, multiply by 0.5
#
# Strip the RNN down to one linear unit: $h_t = w\,h_{t-1} + x_t$. Every Jacobian is the
# number $w$, so $\partial h_T / \partial h_0 = w^T$. Ask autograd, with $T = 50$:

# %% tags=["nbval-check-output"]
def scalar_rnn_grad(w: float, steps: int) -> float:
    """d h_T / d h_0 for h_t = w h_{t-1} + x_t, by autograd in float64."""
    h0 = torch.tensor(1.0, dtype=F64, requires_grad=True)
    x = torch.randn(steps, dtype=F64)
    h = h0
    for t in range(steps):
        h = w * h + x[t]
    (grad,) = torch.autograd.grad(h, h0)
    return grad.item()


seed_everything(0)
for w in (3.0, 0.5):
    g = scalar_rnn_grad(w, 50)
    print(f"w = {w}:  dh_50/dh_0 = {g:.4e}   w**50 = {w**50:.4e}")
    assert abs(g - w**50) <= 1e-14 * w**50  # autograd multiplied by w fifty times

# %% [markdown]
# Multiplying by 3 fifty times gives $7.2 \times 10^{23}$; multiplying by 0.5 fifty times
# gives $8.9 \times 10^{-16}$. Nothing about the inputs matters: the derivative of a linear
# map does not depend on where it is evaluated. The figure shows $|w|^t$ for a few values:
# on a logarithmic axis an exponential is a straight line, and only $|w| = 1$ stays level.

# %%
steps = np.arange(0, 101)
fig, ax = plt.subplots(figsize=(7, 3.5))
for w in (3.0, 1.1, 1.0, 0.9, 0.5):
    ax.semilogy(steps, np.abs(w) ** steps, label=f"$w = {w}$")
ax.set_xlabel("number of steps $t$")
ax.set_ylabel(r"$|\partial h_t / \partial h_0| = |w|^t$")
ax.set_title("A gradient that is a product of $t$ equal factors")
ax.set_ylim(1e-32, 1e48)
ax.legend(ncol=5, fontsize=8, loc="upper left")
plt.show()

# %% [markdown]
# In float32, the number format networks are trained in, these products do not just get
# large or small: they leave the representable range. The largest float32 is about
# $3.4 \times 10^{38}$ and the smallest positive one (a subnormal) is $2^{-149} \approx 1.4
# \times 10^{-45}$. Multiplying step by step, exactly as backpropagation does:

# %% tags=["nbval-check-output"]
def first_step_out_of_range(w: float, steps: int = 400) -> int:
    """The first t at which w**t, multiplied step by step in float32, is inf or 0."""
    products = torch.full((steps,), w, dtype=torch.float32).cumprod(0)
    bad = torch.isinf(products) | (products == 0)
    return int(bad.nonzero()[0]) + 1


t_inf, t_zero = first_step_out_of_range(3.0), first_step_out_of_range(0.5)
print(f"3**t overflows to inf at t = {t_inf};  0.5**t underflows to 0 at t = {t_zero}")
assert (t_inf, t_zero) == (81, 150)
assert 3.0**80 < torch.finfo(torch.float32).max < 3.0**81

# %% [markdown]
# After 81 steps the gradient is `inf` (and the next update fills the weights with NaN);
# after 150 steps it is exactly zero and carries no information at all. Long before those
# limits, the trouble is already real: a factor of $10^{-16}$ means that the contribution
# of a long-range dependency is drowned by the short-range ones added to it.

# %% [markdown]
# ## 3. Saturation: why $\gamma \le 1$, and often much less
#
# The factor $\operatorname{diag}(\phi'(\mathbf a_t))$ in each Jacobian is where the
# nonlinearity enters. For the two squashing functions of recurrent networks,
#
# $$
# \tanh'(a) = 1 - \tanh^2(a) \le 1, \qquad
# \sigma'(a) = \sigma(a)\,\big(1 - \sigma(a)\big) \le \tfrac14 ,
# $$
#
# with the maximum at $a = 0$ only. So $\gamma = 1$ for tanh and $\gamma = 1/4$ for the
# logistic sigmoid. Away from zero both derivatives fall off exponentially: a unit whose
# pre-activation is large in magnitude is **saturated**, its output barely moves when its
# input moves, and it passes on almost none of the gradient that reaches it. We compute the
# derivatives with autograd on a grid.

# %% tags=["nbval-check-output"]
a = torch.linspace(-6, 6, 1201, dtype=F64, requires_grad=True)   # includes a = 0 exactly
curves = {}
for name, fn in (("tanh", torch.tanh), ("sigmoid", torch.sigmoid)):
    y = fn(a)
    (dy,) = torch.autograd.grad(y.sum(), a)
    curves[name] = (y.detach().numpy(), dy.numpy())
a_np = a.detach().numpy()

gamma_tanh, gamma_sigmoid = curves["tanh"][1].max(), curves["sigmoid"][1].max()
# Where the derivatives fall to 0.1 (tanh) and 0.01 (sigmoid), solving for a:
a_tanh = math.atanh(math.sqrt(1 - 0.1))       # 1 - tanh(a)^2 = 0.1
p_sig = (1 + math.sqrt(1 - 4 * 0.01)) / 2     # p (1 - p) = 0.01, with p = sigmoid(a) > 1/2
a_sig = math.log(p_sig / (1 - p_sig))
print(f"max tanh'    = {gamma_tanh:.4f} at a = {round(a_np[curves['tanh'][1].argmax()], 2) + 0:.2f}")
print(f"max sigmoid' = {gamma_sigmoid:.4f} at a = "
      f"{round(a_np[curves['sigmoid'][1].argmax()], 2) + 0:.2f}")
print(f"tanh'(a) < 0.1 for |a| > {a_tanh:.3f};  sigmoid'(a) < 0.01 for |a| > {a_sig:.3f}")
assert abs(gamma_tanh - 1) < 1e-12 and abs(gamma_sigmoid - 0.25) < 1e-12
assert (curves["tanh"][1][np.abs(a_np) > a_tanh] < 0.1).all()
assert (curves["sigmoid"][1][np.abs(a_np) > a_sig] < 0.01).all()

fig, axes = plt.subplots(1, 2, figsize=(10, 3.3), sharex=True)
for ax, name, limit in ((axes[0], "tanh", a_tanh), (axes[1], "sigmoid", a_sig)):
    y, dy = curves[name]
    ax.plot(a_np, y, label=name)
    ax.plot(a_np, dy, label=f"{name}'  (max {dy.max():.2f})")
    ax.axvspan(-6, -limit, color="0.9")
    ax.axvspan(limit, 6, color="0.9")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("pre-activation $a$")
    ax.legend(fontsize=8, loc="upper left")
axes[0].set_title("tanh: grey where the derivative < 0.1")
axes[1].set_title("sigmoid: grey where the derivative < 0.01")
plt.show()

# %% [markdown]
# The derivative of tanh is 1 at the origin and below 0.1 once $|a| > 1.818$; the sigmoid's
# is at most 0.25 and below 0.01 once $|a| > 4.585$. Two consequences:
#
# - For a tanh RNN, $\sigma_{\max}(W_{hh}) < 1$ already guarantees vanishing gradients, and
#   any unit with a large pre-activation shrinks the gradient far more than the bound says.
# - A recurrent layer of sigmoid units has $\gamma = 1/4$, so its gradient vanishes
#   whenever $\sigma_{\max}(W_{hh}) < 4$ (exercise 1). This is one reason recurrent
#   networks use tanh for their state, and sigmoids only as gates.

# %% [markdown]
# ## 4. The Jacobian of a tanh RNN, by hand and by autograd
#
# Before measuring products of Jacobians, we check that we compute the right ones. For one
# tanh unit, $h_t = \tanh(w h_{t-1} + u x_t + b)$, the Jacobian of a step is the number
# $w\,(1 - h_t^2)$, and
#
# $$
# \frac{\partial h_T}{\partial h_0} = \prod_{t=1}^{T} w\,(1 - h_t^2).
# $$
#
# Unlike the linear toy, the factors now depend on the states the sequence visits: a
# saturated state ($h_t^2 \approx 1$) contributes a factor near zero. We compare the hand
# product with `state_jacobian`, which asks autograd for the whole Jacobian of $h_T$ with
# respect to $h_0$, and then do the same for 64 units, where each factor is the matrix
# $\operatorname{diag}(1 - \mathbf h_t^2)\,W_{hh}$ and `jacobian_norms` gives the norm of
# every partial product.

# %% tags=["nbval-check-output"]
seed_everything(1)
cell1 = nn.RNNCell(1, 1, dtype=F64)          # one unit: weight_hh is the 1x1 matrix [w]
x1 = torch.randn(30, 1, dtype=F64)
h, by_hand = torch.zeros(1, dtype=F64), 1.0
with torch.no_grad():
    for x_t in x1:
        h = cell1(x_t, h)
        by_hand *= cell1.weight_hh.item() * (1 - h.item() ** 2)
autograd_jac = state_jacobian(cell1, x1, torch.zeros(1, dtype=F64)).item()
relative_gap = abs(by_hand - autograd_jac) / abs(by_hand)
print(f"one unit, T = 30: product by hand and autograd's Jacobian agree, relative gap "
      f"{'below 1e-12' if relative_gap < 1e-12 else f'{relative_gap:.1e}'}")
assert relative_gap < 1e-12

def tanh_products(cell: nn.RNNCell, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """||dh_t/dh_0|| for t = 1..T of a tanh RNNCell along x (T, I), from the formula: the
    product of the J_t = diag(1 - h_t^2) W_hh, multiplied up one step at a time."""
    h, product, norms = h0, torch.eye(h0.numel(), dtype=h0.dtype), []
    with torch.no_grad():
        for x_t in x:
            h = cell(x_t, h)
            product = (1 - h**2)[:, None] * cell.weight_hh @ product     # J_t ... J_1
            norms.append(torch.linalg.matrix_norm(product, 2))
    return torch.stack(norms)


seed_everything(2)
cell64 = nn.RNNCell(1, 64, dtype=F64)
x64 = torch.randn(100, 1, dtype=F64)
hand_norms = tanh_products(cell64, x64, torch.zeros(64, dtype=F64))
auto_norms = jacobian_norms(cell64, x64, torch.zeros(64, dtype=F64))
worst = ((hand_norms - auto_norms).abs() / auto_norms).max().item()
print(f"64 units, T = 100: largest relative difference over all t "
      f"{'below 1e-10' if worst < 1e-10 else f'{worst:.1e}'}")
assert worst < 1e-10

# %% [markdown]
# Both agree to round-off: $\partial \mathbf h_T / \partial \mathbf h_0$ is exactly the
# product of $\operatorname{diag}(1 - \mathbf h_t^2) W_{hh}$ that section 1 derived. From
# here on, for tanh cells, we let `tanh_products` multiply by this checked formula, which
# is much faster than asking autograd for every Jacobian; for other cells we use
# `jacobian_norms`. We work in float64 throughout these measurements, because the norms we
# are about to see fall far below float32's range.

# %% [markdown]
# ## 5. The size of $W_{hh}$ decides: a sweep
#
# Now the experiment that the bound of section 1 invites. Take one random $64 \times 64$
# matrix, rescale it so that its largest singular value $\sigma_{\max}$ takes a chosen
# value $s$, use it as $W_{hh}$ of a tanh RNN, and measure $\lVert \partial \mathbf h_t /
# \partial \mathbf h_0 \rVert$ along the same 100-step input sequence for each $s$.
#
# Besides $\sigma_{\max}$ we print the **spectral radius** $\rho(W_{hh})$, the largest
# $|\lambda|$ over the eigenvalues. The two are different: $\rho \le \sigma_{\max}$ always,
# and for a random Gaussian matrix $\rho$ is only about half of $\sigma_{\max}$ (the
# eigenvalues fill a disc of radius about $\sqrt n$ times the entries' standard deviation,
# the singular values reach twice that). The spectral radius tells what $W^t$ does for
# large $t$, since $\lVert W^t \rVert^{1/t} \to \rho$ (Gelfand's formula), while
# $\sigma_{\max}$ bounds every single step.

# %%
seed_everything(3)
H, T = 64, 100
W0 = torch.randn(H, H, dtype=F64) / math.sqrt(H)
sigma0 = torch.linalg.matrix_norm(W0, 2).item()
rho0 = torch.linalg.eigvals(W0).abs().max().item()
x_sweep = torch.randn(T, 1, dtype=F64)
print(f"random W: sigma_max = {sigma0:.3f}, spectral radius = {rho0:.3f}, "
      f"ratio = {rho0 / sigma0:.3f}")


def tanh_rnn(sigma_max: float, input_scale: float | None = None, seed: int = 4) -> nn.RNNCell:
    """A 64-unit tanh cell whose W_hh is W0 rescaled to the given largest singular value.

    input_scale: if given, the input weights are N(0, input_scale^2) instead of PyTorch's
    small uniform ones.
    """
    seed_everything(seed)
    cell = nn.RNNCell(1, H, dtype=F64)
    with torch.no_grad():
        cell.weight_hh.copy_(W0 * sigma_max / sigma0)
        if input_scale is not None:
            cell.weight_ih.copy_(torch.randn(H, 1, dtype=F64) * input_scale)
    return cell


def grad_curve(cell: nn.Module, x: torch.Tensor = x_sweep) -> np.ndarray:
    """||dh_t/dh_0|| for t = 1..T, starting from h_0 = 0."""
    return tanh_products(cell, x, torch.zeros(H, dtype=F64)).numpy()


shown = (0.5, 0.9, 1.0, 1.5, 2.0, 3.0, 6.0)
curves_by_sigma = {s: grad_curve(tanh_rnn(s)) for s in shown}
sweep = np.geomspace(0.25, 8, 26)
final_norm = np.array([grad_curve(tanh_rnn(s))[-1] for s in sweep])
sigma_at_rho_1 = sigma0 / rho0                 # the sigma_max at which rho(W_hh) = 1
for s in shown:
    print(f"sigma_max = {s:3.1f}  (rho = {s * rho0 / sigma0:.2f}):  "
          f"||dh_t/dh_0|| at t = 10: {curves_by_sigma[s][9]:.1e},  "
          f"t = 100: {curves_by_sigma[s][-1]:.1e}")

# %%
t_axis = np.arange(1, T + 1)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
colors = [f"C{i}" for i in range(len(shown))]
for c, s in zip(colors, shown, strict=True):
    ax1.semilogy(t_axis, curves_by_sigma[s], color=c, label=rf"$\sigma_{{\max}} = {s}$")
    if s <= 1:
        ax1.semilogy(t_axis, s**t_axis, "--", color=c, lw=1)
ax1.set_xlabel(r"step $t$ (steps after $h_0$)")
ax1.set_ylabel(r"$\|\partial h_t / \partial h_0\|$")
ax1.set_title(r"Dashed: the bound $\sigma_{\max}^t$ (for $\sigma_{\max} \leq 1$)")
ax1.legend(fontsize=7, ncol=2)
ax2.loglog(sweep, final_norm, "o-", ms=4)
ax2.axvline(1, color="k", ls="--", lw=1)
ax2.text(1.04, 0.04, r"$\sigma_{\max} = 1$", fontsize=9, transform=ax2.get_xaxis_transform())
ax2.axvline(sigma_at_rho_1, color="tab:red", ls=":", lw=1.5)
ax2.text(sigma_at_rho_1 * 1.04, 0.12, r"$\rho(W_{hh}) = 1$", color="tab:red", fontsize=9,
         transform=ax2.get_xaxis_transform())
ax2.axhline(1, color="0.6", lw=0.8)
ax2.set_xticks([0.25, 0.5, 1, 2, 4, 8], labels=["0.25", "0.5", "1", "2", "4", "8"])
ax2.minorticks_off()
ax2.set_xlabel(r"largest singular value $\sigma_{\max}(W_{hh})$")
ax2.set_ylabel(r"$\|\partial h_{100} / \partial h_0\|$")
ax2.set_title("After 100 steps, as $W_{hh}$ is scaled")
plt.show()

# %% [markdown]
# Read the left panel first. For $\sigma_{\max} \le 1$ every curve is a straight line on
# the log axis, that is, an exponential decay, and each stays under its dashed bound
# $\sigma_{\max}^t$. Each falls much *faster* than its bound. Why? A tempting answer is
# "because tanh's derivative is below 1", but measure it: these inputs are weak (PyTorch's
# input weights are small), the pre-activations stay near 0, and the mean of
# $\tanh'(a_t)$ along the sequence is above 0.95. Nearly linear, then: each Jacobian
# $\operatorname{diag}(\tanh'(\mathbf a_t))\,W_{hh}$ is almost $W_{hh}$ itself, the
# product is almost $W_{hh}^t$, and $\lVert W^t \rVert$ shrinks per step by the
# **spectral radius** $\rho$, not by $\sigma_{\max}$ (Gelfand's formula). The cell below fits
# the decay per step and divides it by $\rho$: the ratio is within a few percent of 1, and
# that small remainder is all that tanh contributes.
#
# As $\sigma_{\max}$ grows the curves flatten, and at large $\sigma_{\max}$ they rise: the
# gradient explodes. $\sigma_{\max} = 1.5$ still vanishes, and at $\sigma_{\max} = 6$ the
# norm after 100 steps is many orders of magnitude above 1. The right panel sweeps
# $\sigma_{\max}$ finely. The gradient after 100 steps spans about 100 orders of
# magnitude, and it crosses 1 not at $\sigma_{\max} = 1$ (black) but near the point where
# the spectral radius reaches 1 (red): in this nearly linear regime $\rho$ is what counts,
# and for a matrix like this one $\sigma_{\max} = 1$ is far on the safe side. We assert what
# the figure shows.

# %%
rho_of = {s: s * rho0 / sigma0 for s in shown}          # rescaling scales every eigenvalue
for s in (0.5, 0.9, 1.0):
    curve = curves_by_sigma[s]
    assert (curve <= s**t_axis * (1 + 1e-9)).all()          # under the bound at every t
    slope, intercept = np.polyfit(t_axis[9:], np.log(curve[9:]), 1)
    fitted = slope * t_axis[9:] + intercept
    r2 = 1 - ((np.log(curve[9:]) - fitted) ** 2).sum() / ((np.log(curve[9:])
                                                          - np.log(curve[9:]).mean()) ** 2).sum()
    with torch.no_grad():                                   # the mean of tanh' along the way
        cell, h, slopes = tanh_rnn(s), torch.zeros(H, dtype=F64), []
        for x_t in x_sweep:
            h = cell(x_t, h)
            slopes.append((1 - h**2).mean())
    decay, mean_slope = math.exp(slope), torch.stack(slopes).mean().item()
    print(f"sigma_max = {s}: fitted decay per step {decay:.4f}, rho {rho_of[s]:.4f}, "
          f"decay / rho = {decay / rho_of[s]:.3f};  mean tanh' {mean_slope:.3f};  "
          f"R^2 of the fit {r2:.4f}")
    assert r2 > 0.99 and decay < s                          # exponential, faster than s^t
    assert abs(decay / rho_of[s] - 1) < 0.05                # ... at the rate rho
    assert mean_slope > 0.95                                # tanh nearly linear here
assert curves_by_sigma[1.5][-1] < 1e-6                      # sigma_max > 1, still vanishing
assert curves_by_sigma[6.0][-1] > 1e6                       # exploding
span = np.log10(final_norm.max() / final_norm.min())
print(f"over the sweep, ||dh_100/dh_0|| spans {span:.0f} orders of magnitude")
assert span > 90
crossing = sweep[np.argmax(final_norm > 1)]                 # first sigma_max with norm > 1
print(f"the norm after 100 steps first exceeds 1 at sigma_max = {crossing:.2f}; "
      f"rho = 1 at sigma_max = {sigma_at_rho_1:.2f}")
assert sigma_at_rho_1 < crossing < 2 * sigma_at_rho_1

# %% [markdown]
# The fitted decay per step is below $\sigma_{\max}$ in all three cases and within 5% of
# $\rho$, and an exponential fits the curves almost perfectly ($R^2 > 0.99$). The norm
# after 100 steps first exceeds 1 only past the $\sigma_{\max}$ at which $\rho = 1$, and
# within a factor of 2 of it (the nonlinearity costs a little: a unit whose state grows
# also saturates).
# For a random matrix the eigenvalues fill a disc about half as wide as the largest
# singular value, so the two conditions are far apart: in the run stored with this
# notebook, $\rho = 1$ at $\sigma_{\max} = 1.76$.

# %% [markdown]
# ### Sufficient: $\sigma_{\max} < 1$ always vanishes
#
# Pascanu et al. prove that for a tanh RNN ($\gamma = 1$), $\sigma_{\max}(W_{hh}) < 1$ is
# *sufficient* for vanishing: the bound $\lVert \partial \mathbf h_t / \partial \mathbf h_0
# \rVert \le \sigma_{\max}^t$ holds for every input sequence, every initial state, every
# bias and every size. A proof needs no experiment, but an experiment can catch a proof
# misread, or code that does not compute what we think. We draw 100 random networks (sizes
# 2 to 32, $\sigma_{\max}$ anywhere in $(0, 1)$, strong random inputs, large biases, random
# initial states) and check the bound at every step.

# %%
seed_everything(5)
worst_ratio, sigmas = 0.0, []
for _ in range(100):
    size = int(torch.randint(2, 33, ()))
    s = float(torch.rand(())) * 0.999
    cell = nn.RNNCell(3, size, dtype=F64)
    with torch.no_grad():
        W = torch.randn(size, size, dtype=F64)
        cell.weight_hh.copy_(W * s / torch.linalg.matrix_norm(W, 2))
        cell.weight_ih.mul_(float(torch.rand(())) * 20)       # inputs of any strength
        cell.bias_ih.mul_(5)
    norms = tanh_products(cell, torch.randn(30, 3, dtype=F64), torch.randn(size, dtype=F64))
    ratio = (norms / s ** torch.arange(1, 31, dtype=F64)).max().item()
    worst_ratio, sigmas = max(worst_ratio, ratio), sigmas + [s]
print(f"100 random tanh RNNs, sigma_max in [{min(sigmas):.3f}, {max(sigmas):.3f}]: "
      f"largest ||dh_t/dh_0|| / sigma_max^t = {worst_ratio:.4f}")
assert worst_ratio <= 1 + 1e-9

# %% [markdown]
# No network exceeded the bound at any step (the closest came within about 10% of it in
# the run stored with this notebook). So: **if the largest
# singular value of $W_{hh}$ is below 1, a tanh RNN cannot carry a gradient over long
# distances**, and no choice of inputs can change that. (For the sigmoid, replace 1 by 4.)
#
# ### Necessary, but not sufficient: $\sigma_{\max} > 1$ and still vanishing
#
# The converse fails. We have already seen $\sigma_{\max} = 1.5$ vanish. Here are two more
# ways a matrix with $\sigma_{\max} > 1$ can lose its gradient, each isolating one cause.
#
# **Saturation.** Keep the matrix with $\sigma_{\max} = 6$, whose gradient exploded above,
# and only make the inputs stronger. The pre-activations grow, tanh saturates, and the
# factors $1 - h_t^2$ crush the product.

# %%
saturation = {}
for input_scale in (0.1, 1.0, 3.0, 10.0, 30.0):
    cell = tanh_rnn(6.0, input_scale=input_scale)
    with torch.no_grad():
        h, derivs = torch.zeros(H, dtype=F64), []
        for x_t in x_sweep:
            h = cell(x_t, h)
            derivs.append((1 - h**2).mean())
    saturation[input_scale] = (torch.stack(derivs).mean().item(), grad_curve(cell)[-1])
    print(f"input weights ~ N(0, {input_scale:4.1f}^2): mean tanh' = "
          f"{saturation[input_scale][0]:.3f},  ||dh_100/dh_0|| = {saturation[input_scale][1]:.1e}")
mean_slopes = [slope for slope, _ in saturation.values()]
assert all(a > b for a, b in zip(mean_slopes, mean_slopes[1:], strict=False))  # flatter tanh
assert saturation[1.0][1] > 1e6             # weak inputs: the same W_hh explodes...
assert saturation[30.0][1] < 1e-10          # ...strong inputs: it vanishes

# %% [markdown]
# Same $W_{hh}$, $\sigma_{\max} = 6$ throughout. With weak inputs, the gradient grows by
# many orders of magnitude over 100 steps; as the input weights grow, the average derivative
# of tanh falls step by step, and with input weights 30 times larger the gradient has
# vanished (below $10^{-10}$ after 100 steps, for every seed we tried). Where exactly the
# turn comes depends on the drawn weights: in the run stored with this notebook, input
# weights ten times larger already suffice.
#
# **A matrix that is large but contracting.** Take a linear recurrence (no saturation at
# all) with
# $W = \begin{pmatrix} 0.5 & 4 \\ 0 & 0.5 \end{pmatrix}$. Its largest singular value is
# about 4.06, but both eigenvalues are 0.5. Such a matrix is *non-normal* (its eigenvectors
# are not orthogonal): it can stretch a vector for a few steps, but its powers eventually
# shrink like $0.5^t$.

# %% tags=["nbval-check-output"]
W_nn = torch.tensor([[0.5, 4.0], [0.0, 0.5]], dtype=F64)
powers = {t: torch.linalg.matrix_norm(torch.linalg.matrix_power(W_nn, t), 2).item()
          for t in (1, 2, 3, 5, 10, 20, 50, 100)}
print(f"sigma_max = {torch.linalg.matrix_norm(W_nn, 2):.3f}, "
      f"spectral radius = {torch.linalg.eigvals(W_nn).abs().max():.3f}")
print("  ".join(f"||W^{t}|| = {v:.1e}" for t, v in powers.items()))
assert torch.linalg.matrix_norm(W_nn, 2) > 4 and powers[100] < 1e-20

# %% [markdown]
# The norm of $W^t$ (which is $\partial \mathbf h_t / \partial \mathbf h_0$ for this linear
# recurrence) stays near 4 for the first two steps, then falls to $6 \times 10^{-28}$ by
# step 100. For the powers of **one fixed matrix**, the spectral radius decides in the long
# run, not the largest singular value: $\lVert W^t \rVert^{1/t} \to \rho(W)$.
#
# A tanh RNN does not multiply one fixed matrix, though. Its factors
# $J_t = \operatorname{diag}(\phi'(\mathbf a_t))\,W_{hh}$ change from step to step with the
# states the sequence visits, and the long-run growth rate of such a product,
# $\lambda = \lim_t \tfrac1t \log \lVert J_t \cdots J_1 \rVert$, is its top **Lyapunov
# exponent**. It depends on the trajectory, and neither $\rho(W_{hh})$ nor
# $\sigma_{\max}(W_{hh})$ fixes it. The sweep above could read $\rho$ off the curves only
# because its weak inputs kept every $\phi'$ near 1, so that $J_t \approx W_{hh}$. In
# general the one guarantee is the bound of section 1: $\sigma_{\max} < 1/\gamma$ forces
# vanishing. A spectral radius below 1 forces nothing: exercise 6 builds a $W_{hh}$ with
# $\rho = 0.5$ whose gradient explodes as soon as one unit saturates, because zeroing one
# row of $W_{hh}$ changes its eigenvalues.
#
# What then is $\sigma_{\max} > 1$ good for? It is the condition under which the *bound*
# allows growth, so it is *necessary* for exploding, and the sweep shows that with
# $\sigma_{\max}$ well above 1 (and weak enough inputs) the gradient does explode. But it is
# not *sufficient*: saturation, or a matrix whose stretching does not compound, can still
# make it vanish.

# %% [markdown]
# ## 6. Gradient clipping: by norm or by value
#
# Vanishing and exploding are not symmetric problems. A vanishing gradient is *missing
# information*, and no rescaling can recover it. An exploding gradient still points
# somewhere sensible; it is just far too long, and a plain gradient-descent step along it
# throws the weights somewhere arbitrary. (Adam, which most of this book uses, limits the
# step itself; section 8 measures what clipping does for it.) That is easy to prevent:
# shorten the step. Two ways are common, and both exist in PyTorch.
#
# - **Clipping by norm** (Pascanu et al. 2013; `torch.nn.utils.clip_grad_norm_`): if the
#   norm of the whole gradient $\mathbf g$ (all parameters together) exceeds a threshold
#   $c$, rescale it:
#   $\;\mathbf g \leftarrow \mathbf g \cdot \min\!\big(1, c / \lVert \mathbf g \rVert\big)$.
# - **Clipping by value** (`torch.nn.utils.clip_grad_value_`): clamp every component
#   separately, $\;g_i \leftarrow \max(-c, \min(c, g_i))$. This is the older practice:
#   Mikolov (2012) clipped the components of his recurrent language models' gradients, and
#   Karpathy's `min-char-rnn` (2015) clamps every component to $[-5, 5]$.
#
# Norm clipping multiplies the vector by one positive number, so it keeps the direction
# exactly. Value clipping cuts the large components and leaves the small ones, so it
# turns the vector towards the diagonal. In two dimensions the difference is easy to see:
# norm clipping pulls the vector back onto a circle, value clipping into a square.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), layout="constrained")
c_2d, g_2d = 1.0, np.array([2.6, 0.9])
by_norm_2d = g_2d * min(1, c_2d / np.linalg.norm(g_2d))
by_value_2d = np.clip(g_2d, -c_2d, c_2d)
for ax, clipped_2d, title in ((axes[0], by_norm_2d, "clip by norm: onto the circle"),
                              (axes[1], by_value_2d, "clip by value: into the square")):
    if ax is axes[0]:
        ax.add_patch(plt.Circle((0, 0), c_2d, fc="0.92", ec="0.5"))
    else:
        ax.add_patch(plt.Rectangle((-c_2d, -c_2d), 2 * c_2d, 2 * c_2d, fc="0.92", ec="0.5"))
    for vec, color, label in ((g_2d, "tab:red", "raw gradient $g$"),
                              (clipped_2d, "tab:blue", "clipped")):
        ax.annotate("", xy=vec, xytext=(0, 0),
                    arrowprops={"arrowstyle": "-|>", "color": color, "lw": 2})
        ax.plot([], [], color=color, lw=2, label=label)
    ax.plot([0, 3 * g_2d[0]], [0, 3 * g_2d[1]], ls=":", color="tab:red", lw=1)
    angle = math.degrees(math.acos(clipped_2d @ g_2d / np.linalg.norm(clipped_2d)
                                   / np.linalg.norm(g_2d)))
    ax.set(xlim=(-1.3, 2.9), ylim=(-1.3, 1.6), aspect="equal", xlabel="$g_1$",
           title=f"{title}\n(turned by {angle:.0f} degrees)")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.legend(loc="lower right", fontsize=8)
axes[0].set_ylabel("$g_2$")
plt.show()

# %% [markdown]
# In high dimension the effect is stronger, since many components can be clipped at once.
# We check both on a real gradient: that of an IRNN (section 7) at initialisation, on a
# batch of 100-step sequences from the adding problem (section 8), whose gradient is large.

# %%
def flat_grad(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in model.parameters()])


seed_everything(6)
probe_model = SequenceModel("irnn", 2, 64, 1, squeeze=True)
xb, yb = adding_problem(64, 100, seed=6)
nn.functional.mse_loss(probe_model(xb), yb).backward()
g_raw = flat_grad(probe_model).clone()
grads = [p.grad for p in probe_model.parameters()]

clipped = {}
for how in ("norm", "value"):
    for p, g in zip(probe_model.parameters(), grads, strict=True):
        p.grad = g.clone()
    if how == "norm":
        nn.utils.clip_grad_norm_(probe_model.parameters(), max_norm=1.0)
    else:
        nn.utils.clip_grad_value_(probe_model.parameters(), clip_value=0.1)
    clipped[how] = flat_grad(probe_model)

cos = {how: nn.functional.cosine_similarity(g, g_raw, dim=0).item()
       for how, g in clipped.items()}
print(f"raw gradient: norm {g_raw.norm():.2f}, {g_raw.numel()} components, "
      f"{(g_raw.abs() > 0.1).float().mean():.1%} of them larger than 0.1 in size")
print(f"clip by norm to 1.0:  norm {clipped['norm'].norm():.4f}, cosine to raw {cos['norm']:.4f}")
print(f"clip by value at 0.1: norm {clipped['value'].norm():.4f}, cosine to raw {cos['value']:.4f}"
      f"  (angle {math.degrees(math.acos(cos['value'])):.0f} degrees)")
assert abs(cos["norm"] - 1) < 1e-6 and abs(clipped["norm"].norm().item() - 1) < 1e-4
assert cos["value"] < 0.9

# %% [markdown]
# Norm clipping shortened the gradient to exactly 1 and kept its direction (cosine 1).
# Value clipping turned it by tens of degrees (a cosine below 0.9 for every seed we tried;
# 43 degrees in the run stored with this notebook): the update no longer follows the
# gradient, but a distorted version in which every large component counts as much as any
# other clipped one. Norm clipping is what the literature recommends and what this book's
# `fit(..., clip_norm=...)` does; `clip_value` is there for comparison.
#
# ### Pascanu's cliff: a single neuron, a wall in the loss
#
# Why would the gradient be suddenly huge? Pascanu et al. give an example with one neuron,
# $x_t = w\,\sigma(x_{t-1}) + b$, started at $x_0 = 0.5$ and run for 50
# steps, with the loss $L(w, b) = (\sigma(x_{50}) - 0.7)^2$. For some $(w, b)$ the map has
# one stable fixed point, for others two; crossing the boundary between these regimes (a
# *bifurcation*) makes $x_{50}$ jump from one fixed point to the other, and the loss has a
# near-vertical wall there, a **cliff**, with an enormous gradient on its face. A plain
# gradient step from the face is thrown far away. We run gradient descent with learning
# rate 0.5 from $(w, b) = (4.5, -2.5)$, without clipping and with the norm clipped to 0.1.

# %%
def cliff_loss(w: torch.Tensor, b: torch.Tensor, steps: int = 50) -> torch.Tensor:
    """Pascanu et al.'s one-neuron RNN x_t = w sigmoid(x_{t-1}) + b, loss (sigmoid(x_50) - 0.7)^2."""
    x = torch.full_like(w, 0.5)
    for _ in range(steps):
        x = w * torch.sigmoid(x) + b
    return (torch.sigmoid(x) - 0.7) ** 2


def descend(lr: float = 0.5, n_steps: int = 60, clip: float | None = None):
    """Gradient descent on (w, b); returns the path (n_steps+1, 2), losses and gradient norms."""
    p = torch.tensor([4.5, -2.5], dtype=F64, requires_grad=True)
    path, losses, norms = [p.detach().clone()], [], []
    for _ in range(n_steps):
        loss = cliff_loss(p[0], p[1])
        (g,) = torch.autograd.grad(loss, p)
        losses.append(loss.item())
        norms.append(g.norm().item())
        if clip is not None and g.norm() > clip:
            g = g * clip / g.norm()                   # clip by norm
        with torch.no_grad():
            p -= lr * g
        path.append(p.detach().clone())
    losses.append(cliff_loss(p[0], p[1]).item())
    (g,) = torch.autograd.grad(cliff_loss(p[0], p[1]), p)
    norms.append(g.norm().item())
    return torch.stack(path).numpy(), np.array(losses), np.array(norms)


runs = {"no clipping": descend(), "clip norm at 0.1": descend(clip=0.1)}
for name, (path, losses, norms) in runs.items():
    jumps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    print(f"{name:17s} largest step {jumps.max():.2f} (at step {jumps.argmax() + 1}, "
          f"gradient norm {norms[jumps.argmax()]:.1f});  mean loss of the last 10 steps "
          f"{losses[-10:].mean():.4f};  final gradient norm {norms[-1]:.1e}")

# %%
w_grid, b_grid = torch.meshgrid(torch.linspace(2, 9, 281, dtype=F64),
                                torch.linspace(-4.5, 5, 381, dtype=F64), indexing="ij")
surface = cliff_loss(w_grid, b_grid).numpy()
zoom_w, zoom_b = torch.meshgrid(torch.linspace(3.9, 4.9, 201, dtype=F64),
                                torch.linspace(-2.8, -1.8, 201, dtype=F64), indexing="ij")
zoom = cliff_loss(zoom_w, zoom_b).numpy()
CLIFF_COLORS = {"no clipping": "tab:red", "clip norm at 0.1": "#00d5ff"}
fig, (ax1, ax3, ax2) = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
for ax, (gw, gb, surf), title in (
        (ax1, (w_grid, b_grid, surface), "Loss surface: the cliff is the sharp edge"),
        (ax3, (zoom_w, zoom_b, zoom), "Zoomed in around the start")):
    img = ax.pcolormesh(gw.numpy(), gb.numpy(), np.log10(surf + 1e-6), cmap="viridis",
                        shading="auto", vmin=-6, vmax=-0.5)
    ax.plot(*runs["no clipping"][0][0], "*", color="orange", mec="k", ms=13, zorder=2,
            label="start (4.5, -2.5)")
    for name, (path, _, _) in runs.items():             # the clipped path drawn on top
        ax.plot(path[:, 0], path[:, 1], "o-", color=CLIFF_COLORS[name], mec="k", mew=0.4,
                ms=3.5, lw=1.8, zorder=3, label=name)
    ax.set_xlim(gw.min(), gw.max())
    ax.set_ylim(gb.min(), gb.max())
    ax.set_xlabel("$w$")
    ax.set_title(title)
ax1.set_ylabel("$b$")
ax1.legend(fontsize=8, loc="upper left", facecolor="0.75")
fig.colorbar(img, ax=ax3, label=r"$\log_{10} L(w, b)$")
for name, (_, losses, _) in runs.items():
    ax2.semilogy(losses + 1e-8, "o-", color=CLIFF_COLORS[name], mec="k", mew=0.4, ms=3,
                 label=name)
ax2.axhline(0.09, color="0.5", ls="--", lw=1, label=r"plateau $(1 - 0.7)^2 = 0.09$")
ax2.set_xlabel("gradient-descent step")
ax2.set_ylabel("loss")
ax2.set_title("Loss along each run")
ax2.legend(fontsize=8)
plt.show()

# %% [markdown]
# The unclipped run descends along the cliff for a while, then lands on its face, where
# the gradient norm is about 14. A step of $0.5 \times 14$ throws it 7.1 units away, onto
# the flat region at the top right where $\sigma(x_{50}) \approx 1$, the loss is
# $(1 - 0.7)^2 = 0.09$, and the gradient is practically zero: it never comes back. The
# clipped run makes the same journey in steps of at most $0.5 \times 0.1 = 0.05$. When it
# touches the cliff, the huge gradient is cut to length 0.1, the step stays local, and the
# run stays in the narrow valley at the foot of the wall, zigzagging across the edge (hence
# the bouncing loss in the right panel, which nevertheless stays low). The middle panel
# zooms in on both paths.

# %%
(path_u, losses_u, norms_u), (path_c, losses_c, norms_c) = runs.values()
jumps_u = np.linalg.norm(np.diff(path_u, axis=0), axis=1)
jumps_c = np.linalg.norm(np.diff(path_c, axis=0), axis=1)
assert jumps_u.max() > 5 and jumps_c.max() <= 0.05 + 1e-12   # one huge jump vs short steps
assert abs(losses_u[-1] - 0.09) < 1e-3 and norms_u[-1] < 1e-3    # stuck on the plateau
assert losses_c[-10:].mean() < 0.01                               # the clipped run stays low

# %% [markdown]
# ## 7. Initialisation: start where the gradient survives
#
# Clipping tames explosions; it cannot bring back a gradient that has vanished. The
# Jacobian product depends on $W_{hh}$, and the starting $W_{hh}$ is ours to choose.
#
# - **PyTorch's default** draws every entry of $W_{hh}$ from $U(-1/\sqrt H, 1/\sqrt H)$.
#   Like any random matrix with independent entries, it has a largest singular value about
#   twice its spectral radius; at this scale the first is a little above 1 and the second
#   well below: by section 5, a recipe for vanishing.
# - **Orthogonal** $W_{hh}$ (Saxe, McClelland & Ganguli 2014): all singular values equal 1,
#   so $\lVert W_{hh}^t \mathbf v \rVert = \lVert \mathbf v \rVert$ for every $t$. In a linear
#   network the gradient neither shrinks nor grows; with tanh it still shrinks through the
#   factors $1 - h_t^2$, but only through them.
# - **Identity with ReLU**, the IRNN of Le, Jaitly & Hinton (2015): $W_{hh} = I$, biases 0,
#   $\phi = \mathrm{ReLU}$. Then $J_t = \operatorname{diag}(\mathbb 1[\mathbf a_t > 0])$:
#   each unit passes its gradient on *exactly*, with factor 1, for as long as it stays
#   active, however long the sequence. At initialisation the IRNN simply accumulates its
#   inputs, $\mathbf h_t = \mathrm{ReLU}(\mathbf h_{t-1} + W_{xh}\mathbf x_t)$.
#
# We build the three as `SequenceModel`s of 32 units, exactly as they will be trained in
# section 8, take their recurrent layer out as a cell with `layer_cell`, and measure
# $\lVert \partial \mathbf h_t / \partial \mathbf h_0 \rVert$ along one sequence of the
# adding problem, for three seeds of each.

# %%
H_ADD = 32


def make_model(init: str, seed: int = 0) -> SequenceModel:
    """A model for the adding problem: 'default' or 'orthogonal' tanh RNN, or 'irnn'."""
    seed_everything(seed)
    model = SequenceModel("irnn" if init == "irnn" else "rnn", 2, H_ADD, 1, squeeze=True)
    if init == "orthogonal":
        nn.init.orthogonal_(model.rnn.weight_hh_l0)
    return model


INITS = ("default", "orthogonal", "irnn")
x_one, _ = adding_problem(1, 100, seed=7)
init_curves, spectra = {init: [] for init in INITS}, {init: [] for init in INITS}
for init in INITS:
    for seed in range(3):
        rnn = make_model(init, seed).rnn
        W = rnn.weight_hh_l0.detach()
        spectra[init].append((torch.linalg.matrix_norm(W, 2).item(),
                              torch.linalg.eigvals(W).abs().max().item()))
        init_curves[init].append(jacobian_norms(layer_cell(rnn).to(F64), x_one[0].to(F64),
                                                torch.zeros(H_ADD, dtype=F64)).numpy())
    init_curves[init] = np.array(init_curves[init])                   # (3 seeds, 100 steps)
    (sigma, rho), curve = np.median(spectra[init], axis=0), np.median(init_curves[init], axis=0)
    print(f"{init:10s} (medians of 3 seeds): sigma_max {sigma:.2f}, spectral radius {rho:.2f};"
          f"  ||dh_t/dh_0|| at t = 10: {curve[9]:.1e}, t = 100: {curve[-1]:.1e}")

fig, ax = plt.subplots(figsize=(7, 3.5))
for color, (init, curves) in zip(("C0", "C1", "C2"), init_curves.items(), strict=True):
    for k, curve in enumerate(curves):
        ax.semilogy(np.arange(1, 101), curve, color=color, alpha=0.8,
                    label=f"{init} (3 seeds)" if k == 0 else None)
ax.set_xlabel(r"step $t$ (steps after $h_0$)")
ax.set_ylabel(r"$\|\partial h_t / \partial h_0\|$")
ax.set_title("At initialisation, along one adding-problem sequence")
ax.legend()
plt.show()

sigmas_default, rhos_default = np.array(spectra["default"]).T
assert (sigmas_default > 1).all() and (rhos_default < 0.8).all()    # sigma_max > 1, rho well below
assert all(abs(v - 1) < 1e-5 for init in ("orthogonal", "irnn")
           for pair in spectra[init] for v in pair)
assert (init_curves["default"][:, -1] < 1e-12).all()
assert (init_curves["orthogonal"][:, -1] > 1e6 * init_curves["default"][:, -1].max()).all()
assert np.allclose(init_curves["irnn"], 1.0, rtol=1e-12)

# %% [markdown]
# PyTorch's default $W_{hh}$ has $\sigma_{\max}$ above 1 but a spectral radius well below
# it (about 0.6), and with it the gradient falls by more than twelve orders of magnitude
# over 100 steps. The orthogonal matrix keeps many orders of magnitude more; what it loses,
# it loses to tanh's derivative alone. The IRNN keeps it at exactly 1, for every seed: at
# least one unit stayed active over the whole sequence, and through such a unit the
# gradient passes untouched. A good start is not a guarantee, as training moves $W_{hh}$
# away from where it began. Section 8 tests whether it matters.

# %% [markdown]
# ## 8. The adding problem: a dependency across the whole sequence
#
# The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015) is the
# classic test of long-range memory. Each input step carries two numbers: a value drawn
# uniformly from $[0, 1]$, and a marker that is 1 at exactly two steps, one in each half of
# the sequence, and 0 elsewhere. The target is the sum of the two marked values. A network
# that ignores the inputs can do no better than predict the mean target, 1, for a mean
# squared error of $\operatorname{Var}(U_1 + U_2) = 2 \cdot \tfrac1{12} = \tfrac16$
# (`ADDING_BASELINE_MSE`). To beat that, it must notice the first marker, hold the marked
# value for up to $T$ steps, and add the second one: the gradient that teaches it to do so
# must travel from the output back to the first marker.
#
# We train the three initialisations of section 7 with identical settings: 32 units, Adam
# with learning rate $3 \times 10^{-3}$, batches of 32 fresh sequences, 800 steps, the
# gradient norm clipped at 1. The tanh RNN with PyTorch's default initialisation is trained
# at $T = 10$ and at $T = 50$; the orthogonal tanh RNN and the IRNN at $T = 50$. The IRNN
# and the short runs get three seeds each; the two tanh RNNs at $T = 50$ get two each,
# since they never moved in any of the six seeds we tried for each while preparing this
# chapter, and the time budget is better spent elsewhere. The orthogonal run matters for a fair reading: the IRNN differs from
# the default tanh RNN in *two* things, its $W_{hh}$ and its nonlinearity, and the
# orthogonal tanh RNN changes only the first of them. Every 100 steps we record the test
# MSE on 1,000 held-out sequences, and for the first seed of each $T = 50$ run also the
# per-step gradient norms $\lVert \partial L / \partial \mathbf h_t \rVert$ on 64 of them
# (in a float64 copy, so that tiny values stay measurable). That is what `evaluate` does;
# `fit` calls it without gradients, so it switches them back on for the measurement.

# %%
T_SHORT, T_LONG, STEPS_ADD, SEEDS = 10, 50, 800, (0, 1, 2)
CONFIGS = {("default", T_SHORT): SEEDS, ("default", T_LONG): SEEDS[:2],
           ("orthogonal", T_LONG): SEEDS[:2], ("irnn", T_LONG): SEEDS}     # -> seeds
BASELINE = ADDING_BASELINE_MSE


def adding_batches(length: int, seed: int, size: int = 32):
    """A function that returns a fresh batch of `size` adding sequences at every call."""
    gen = generator(seed)
    return lambda: adding_problem(size, length,
                                  seed=int(torch.randint(2**31, (1,), generator=gen)))


def train_adding(init: str, length: int, seed: int, profile: bool = False):
    """Train a make_model(init, seed) on the adding problem; return the model, its History,
    and (with profile=True) ||dL/dh_t|| per step at initialisation and every 100 steps."""
    x_test, y_test = adding_problem(1000, length, seed=123)
    x_probe, y_probe = x_test[:64].to(F64), y_test[:64].to(F64)
    model, profiles = make_model(init, seed), []

    def grad_profile(m):
        return model_grad_norms(copy.deepcopy(m).to(F64), x_probe, y_probe, nn.MSELoss())

    def evaluate(m):
        if profile:
            with torch.enable_grad():
                profiles.append(grad_profile(m))
        return {"mse": nn.functional.mse_loss(m(x_test), y_test)}

    if profile:
        profiles.append(grad_profile(model))
    history = fit(model, adding_batches(length, seed), nn.MSELoss(), steps=STEPS_ADD, lr=3e-3,
                  clip_norm=1.0, evaluate=evaluate, eval_every=100,
                  desc=f"{init}, T={length}, seed {seed}")
    return model, history, np.array(profiles)


results = {(init, length, seed): train_adding(init, length, seed,
                                              profile=length == T_LONG and seed == SEEDS[0])
           for (init, length), seeds in CONFIGS.items() for seed in seeds}
mse_over = {key: np.array(res[1].metric("mse")[1]) / BASELINE for key, res in results.items()}
for (init, length), seeds in CONFIGS.items():
    finals = [mse_over[init, length, s][-1] for s in seeds]
    lowest = min(mse_over[init, length, s].min() for s in seeds)
    print(f"{init:10s} T = {length:2d}: final test MSE / baseline per seed "
          f"{', '.join(f'{v:.3f}' for v in finals)};  lowest at any evaluation {lowest:.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
colors = {"default": "C0", "orthogonal": "C1", "irnn": "C2"}
labels = {"default": "tanh RNN, default init", "orthogonal": "tanh RNN, orthogonal $W_{hh}$",
          "irnn": "IRNN (ReLU, identity $W_{hh}$)"}
for ax, length in zip(axes, (T_SHORT, T_LONG), strict=True):
    for (init, config_length), seeds in CONFIGS.items():
        if config_length != length:
            continue
        for seed in seeds:
            steps_done, _ = results[init, length, seed][1].metric("mse")
            ax.semilogy(steps_done, mse_over[init, length, seed], "o-", ms=3,
                        color=colors[init], alpha=0.8, label=labels[init] if seed == 0 else None)
    ax.axhline(1, color="k", ls="--", lw=1, label="baseline: predict 1")
    ax.set_title(f"Adding problem, T = {length}")
    ax.set_xlabel("training step")
    ax.legend(fontsize=8, loc="lower left")
axes[0].set_ylabel("test MSE / baseline MSE 1/6")
plt.show()

final = {config: np.array([mse_over[(*config, s)][-1] for s in seeds])
         for config, seeds in CONFIGS.items()}
assert np.median(final["default", T_SHORT]) < 0.7                  # learns the short problem
for init in ("default", "orthogonal"):                              # never leave the baseline
    assert min(mse_over[init, T_LONG, s].min() for s in CONFIGS[init, T_LONG]) > 0.85
assert np.median(final["irnn", T_LONG]) < 0.15                     # the IRNN learns T = 50
assert all(mse_over["irnn", T_LONG, s].min() < 0.3 for s in SEEDS)  # ... every seed of it

# %% [markdown]
# Over 10 steps the tanh RNN learns, if slowly: the median final test MSE of its three
# seeds is well below the baseline (under 70% of it for every seed shift we tried, and
# under half for most). Over 50 steps it never gets anywhere: no evaluation of
# any seed gets more than 15% below the baseline's MSE, that of predicting 1 every time.
# The orthogonal tanh RNN fares no better, although at initialisation its gradient reached
# step 100 many orders of magnitude
# stronger: a norm-preserving $W_{hh}$ alone does not rescue the tanh RNN on this task,
# within this budget. The IRNN, same size, same optimiser, same number of steps, learns the
# task: its median final MSE is under 15% of the baseline, and every seed gets below 30% of
# it at some evaluation. What this experiment can say is that the pair "ReLU and
# identity" works here where "tanh and orthogonal" does not; it cannot say which of the
# two changes matters more, and two or three seeds per model is a small sample.
#
# ### Exploding gradients, measured
#
# `fit` records the norm of the full gradient at every step, *before* clipping. Look at
# those of the $T = 50$ runs.

# %%
clip_stats = {}
for init in INITS:
    norms = np.concatenate([results[init, T_LONG, s][1].grad_norm
                            for s in CONFIGS[init, T_LONG]])
    clip_stats[init] = (np.median(norms), norms.max(), (norms > 1).mean())
    print(f"{init:10s} T = {T_LONG}: raw gradient norm median {clip_stats[init][0]:.2f}, "
          f"largest {clip_stats[init][1]:.1e}; clipped at {clip_stats[init][2]:.0%} of the steps")
rho_trained = [torch.linalg.eigvals(results["irnn", T_LONG, s][0].rnn.weight_hh_l0.detach())
               .abs().max().item() for s in SEEDS]
print("spectral radius of the trained IRNNs' W_hh (1 at initialisation): "
      + ", ".join(f"{r:.2f}" for r in rho_trained))
assert clip_stats["irnn"][1] > 100 * clip_stats["irnn"][0] and clip_stats["irnn"][2] > 0.9
assert clip_stats["irnn"][1] > 10 * clip_stats["default"][1]
assert min(rho_trained) > 1

# %% [markdown]
# The IRNN's gradient *explodes*: its largest raw norm is hundreds of times its median (in
# the thousands or more, for every seed we tried), and more than 90% of its steps were
# clipped. The identity matrix starts the IRNN exactly where products
# neither shrink nor grow; training pushes the spectral radius of its $W_{hh}$ above 1,
# past the edge, and with ReLU nothing saturates to hold the growth back.
#
# ### What clipping does: under SGD, and under Adam
#
# What would have happened without clipping? The answer depends on the optimiser. Plain
# gradient descent (SGD) moves the weights by $\eta\,\mathbf g$: the step is as long as the
# gradient, and an exploding gradient throws the weights far away. Clipping the norm at $c$
# bounds the step at $\eta c$. **Adam** (Kingma & Ba 2015) moves each weight by
# $\eta\,\hat m_i / (\sqrt{\hat v_i} + \epsilon)$, a running mean of its gradient divided by
# a running root mean square: the size of the gradient cancels, and no weight moves by
# much more than $\eta$ in a step (at most about $(1 - \beta_1)/\sqrt{1 - \beta_2} \approx
# 3.2$ times $\eta$ with its default $\beta$s, even for a sudden spike). So under Adam an
# unclipped spike does *not* throw the weights far. What does it do instead? The running
# mean square $\hat v_i$ remembers the spike for about $1/(1 - \beta_2) = 1{,}000$ steps,
# and while it does, every ordinary gradient is divided by a number many times too large:
# the steps shrink and training slows down.
#
# We measure both with a bare training loop that records, at every step, the raw gradient
# norm and the step the optimiser took, $\Delta\theta$. The patient is the IRNN of seed 0
# on sequences of 100 steps, where its gradient is larger than at 50: Adam with and without
# clipping for 120 steps, then SGD without clipping, at learning rates of $10^{-3}$ and
# $10^{-4}$, for up to 100 steps.

# %%
def train_and_track(model: nn.Module, optimizer: torch.optim.Optimizer,
                    clip_norm: float | None, steps: int, length: int, seed: int) -> dict:
    """A training loop written out, recording per step the raw gradient norm, the length of
    the step the optimiser took, ||delta theta||, and its largest single coordinate. Stops
    early if the loss or the gradient stops being finite (as `fit` would)."""
    params, batches = list(model.parameters()), adding_batches(length, seed)
    record = {"grad norm": [], "step norm": [], "largest coordinate step": []}
    for _ in range(steps):
        x, y = batches()
        loss = nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(params, clip_norm or math.inf)  # norm before clipping
        if not (torch.isfinite(loss) and torch.isfinite(norm)):
            break
        before = torch.cat([p.detach().flatten() for p in params])
        optimizer.step()
        step = torch.cat([p.detach().flatten() for p in params]) - before
        for key, value in zip(record, (norm, step.norm(), step.abs().max()), strict=True):
            record[key].append(value.item())
    return {key: np.array(value) for key, value in record.items()}


LR = 3e-3
tracked = {}
for clip in (1.0, None):
    model = make_model("irnn", 0)
    tracked[clip] = train_and_track(model, torch.optim.Adam(model.parameters(), lr=LR), clip,
                                    steps=120, length=100, seed=0)
for clip, rec in tracked.items():
    print(f"Adam, {'clipped at 1' if clip else 'unclipped   '}: raw gradient norm median "
          f"{np.median(rec['grad norm']):.1f}, largest {rec['grad norm'].max():.1e};  "
          f"||step|| median {np.median(rec['step norm']):.4f};"
          f"  largest coordinate step {rec['largest coordinate step'].max() / LR:.2f} x lr")
sgd = {}
for lr in (1e-3, 1e-4):
    model = make_model("irnn", 0)
    sgd[lr] = train_and_track(model, torch.optim.SGD(model.parameters(), lr=lr), None,
                              steps=100, length=100, seed=0)
    print(f"SGD, lr = {lr:g}, unclipped: first gradient norm {sgd[lr]['grad norm'][0]:.0f}, "
          f"largest {sgd[lr]['grad norm'].max():.1e};  largest step ||delta theta|| "
          f"{sgd[lr]['step norm'].max():.2f} = {sgd[lr]['step norm'].max() / lr:.0f} x lr;  "
          f"{len(sgd[lr]['step norm'])} steps before overflow or the end")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained")
for clip, color in ((1.0, "C2"), (None, "C3")):
    name = "clipped at 1" if clip else "unclipped"
    axes[0].semilogy(tracked[clip]["grad norm"], color=color, lw=1, label=name)
    axes[1].semilogy(tracked[clip]["step norm"], color=color, lw=1, label=name)
axes[0].axhline(1, color="k", ls="--", lw=1)
axes[0].set(xlabel="training step", ylabel=r"raw gradient norm $\|g\|$",
            title="IRNN, T = 100, Adam: the gradient before clipping")
axes[1].set(xlabel="training step", ylabel=r"$\|\Delta\theta\|$ per step",
            title="... and the step Adam took")
for ax in axes:
    ax.legend(fontsize=8)
plt.show()

clipped_run, free_run = tracked[1.0], tracked[None]
assert max(rec["largest coordinate step"].max() for rec in tracked.values()) <= 3.2 * LR
assert np.median(free_run["step norm"]) < 0.7 * np.median(clipped_run["step norm"])
assert free_run["grad norm"].max() > 100 * np.median(free_run["grad norm"])  # rare spikes
assert clipped_run["grad norm"].max() > 100 * np.median(clipped_run["grad norm"])  # too
assert all(rec["step norm"].max() > 100 * lr for lr, rec in sgd.items())

# %% [markdown]
# Under Adam, no weight moved by more than about $3\eta$ in any step, clipped or not: the
# unclipped run was never "thrown far". It did something quieter. Its largest gradients,
# hundreds of times larger than the ordinary ones, filled Adam's running mean square, and
# from then on its steps were shorter than the clipped run's (the right panel; the median
# step was shorter in every seed we tried, and several times shorter in most): training
# slows to a crawl. Clipping under Adam does not bound the step (Adam does that itself); it
# keeps a few huge gradients from deafening the optimiser to all the ordinary ones. Nor
# does clipping stop the gradient from exploding: the clipped run's raw gradient spiked
# too, to hundreds of times its median (left panel). Clipping only keeps the explosion out
# of the update.
#
# Under SGD the textbook picture holds, and sharply: the largest unclipped step was more
# than a hundred times what clipping at 1 allows ($\eta \cdot 1$), at both learning rates.
# Such a step moves $W_{hh}$ far past the edge of stability, the states and the next
# gradients blow up, and often the loss overflows within a few steps (`fit` would then stop
# with a `FloatingPointError` rather than apply a non-finite step). With the norm clipped
# at $c$, no SGD step can be longer than $\eta c$.
#
# > **Common mistake.** "Exploding gradients are caused by a learning rate that is too
# > high." The gradient is computed before the learning rate is ever used: its size is a
# > property of the weights and of the sequence, the Jacobian product of section 1. Above,
# > the first gradient was the same at both learning rates, and lowering the learning rate
# > ten times still left steps a hundred times longer than clipping allows, because the
# > gradient that followed was larger still. What is true: a high learning rate moves the
# > weights faster, possibly into a region where the gradient explodes, and under SGD it
# > multiplies the damage an exploding gradient does. The cure for the explosion itself is
# > clipping (or weights that keep the Jacobian product in check), whatever the learning
# > rate. The cell below checks the first two statements on the runs above.

# %%
first = {lr: rec["grad norm"][0] for lr, rec in sgd.items()}
print(f"first gradient norm at lr 1e-3: {first[1e-3]:.4f}, at lr 1e-4: {first[1e-4]:.4f}; "
      f"largest step at lr 1e-4: {sgd[1e-4]['step norm'].max() / 1e-4:.0f} x lr, largest "
      f"gradient {sgd[1e-4]['grad norm'].max() / first[1e-4]:.0f} x the first")
assert first[1e-3] == first[1e-4]                     # same weights, same batch, any lr
assert sgd[1e-4]["step norm"].max() > 100 * 1e-4      # a smaller lr did not tame it
assert sgd[1e-4]["grad norm"].max() > first[1e-4]     # ... because the gradient grew

# %% [markdown]
# ## 9. Where the gradient goes during training
#
# Each recorded profile is $\lVert \partial L / \partial \mathbf h_t \rVert$ for
# $t = 1, \dots, 50$, on the same 64 test sequences, for the first seed of each $T = 50$
# run. Divided by its value at the last step, it says what fraction of the error signal
# survives the trip back to step $t$. Stacking the profiles of the whole run gives a map:
# time step across, training progress down.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True, layout="constrained")
ratios = {}
for ax, init in zip(axes, INITS, strict=True):
    profiles = results[init, T_LONG, SEEDS[0]][2]              # (9 checkpoints, 50 steps)
    ratios[init] = profiles / profiles[:, -1:]
    img = ax.imshow(np.log10(ratios[init]), aspect="auto", cmap="magma", vmin=-16, vmax=1,
                    extent=(0.5, T_LONG + 0.5, STEPS_ADD + 50, -50), interpolation="nearest")
    ax.set_title(labels[init])
    ax.set_xlabel("time step $t$")
axes[0].set_ylabel("training step")
fig.colorbar(img, ax=axes, label=r"$\log_{10}\, \|\partial L/\partial h_t\| \,/\, "
             r"\|\partial L/\partial h_{50}\|$")
plt.show()

first_step = {init: r[:, 0] for init, r in ratios.items()}
for init in INITS:
    print(f"{init:10s}: ||dL/dh_1|| / ||dL/dh_50|| at steps 0, 100, ..., {STEPS_ADD}: "
          + " ".join(f"{v:.0e}" for v in first_step[init]))
assert np.median(first_step["default"]) < 1e-4                # the tanh RNN: almost nothing
assert first_step["irnn"].min() > 0.05                         # the IRNN: at every checkpoint
assert np.median(first_step["irnn"]) > 1e3 * np.median(first_step["default"])
assert first_step["orthogonal"][0] > 10 * np.median(first_step["orthogonal"][1:])  # darkens

# %% [markdown]
# The left map is dark: for the default tanh RNN, the gradient reaching the first step is
# a tiny fraction of the one at the last step at a typical checkpoint (the median over the
# checkpoints is below $10^{-4}$). The first marker sits somewhere in steps 1 to 25, so the
# network hardly ever receives a usable signal about it, and it cannot learn to remember
# it.
#
# The IRNN's map is bright everywhere: at every checkpoint a sizeable fraction of the signal
# reaches step 1. This is the chapter's story in two pictures: the network that learns is
# the network whose gradient reaches back. The orthogonal tanh RNN, in the middle, starts
# bright and darkens as training changes its $W_{hh}$: a good start that training
# does not keep. (The map is one seed per model, and so are the asserts above.)
#
# Chapter 5 measures the same quantity for an LSTM with the same `model_grad_norms`.

# %% [markdown]
# ## 10. A misconception: "sigmoid gates output only 0 or 1"
#
# The next two chapters protect the gradient with **gates**: vectors of sigmoid outputs that
# multiply the state elementwise, deciding how much of it to keep, write or show. They are
# often described as switches that are open (1) or closed (0). That picture is useful for
# intuition but wrong as a description, and the difference matters for this chapter's
# subject: the gradient through an LSTM's memory is multiplied by the forget gate at every
# step, and $0.97^{100} = 0.048$ (printed below), while $1^{100} = 1$.
#
# > **Common mistake.** "A sigmoid gate outputs 0 or 1: it is a switch." A gate is a
# > number strictly between 0 and 1. A trained network uses the middle of that range for
# > most of its gates, and the gate that holds a memory leans towards 1 without reaching
# > it, as the cells below check: first for gates fed Gaussian pre-activations, then for
# > the gates of a trained LSTM.
#
# The sigmoid never outputs 0 or 1: $\sigma(a) \in (0, 1)$ for every finite $a$. How close
# it gets depends on the pre-activations. If they are Gaussian with standard deviation $s$,
# the fraction of gate values between 0.1 and 0.9 is
# $P(|a| < \ln 9) = \operatorname{erf}\!\big(\ln 9 / (s\sqrt 2)\big)$, since
# $\sigma(\ln 9) = 0.9$:

# %% tags=["nbval-check-output"]
print(f"0.97**100 = {0.97**100:.3f}   0.95**100 = {0.95**100:.4f}")
seed_everything(8)
for s in (0.5, 1, 2, 4, 8):
    exact = math.erf(math.log(9) / (s * math.sqrt(2)))
    sampled = torch.sigmoid(s * torch.randn(100_000))
    middle = ((sampled > 0.1) & (sampled < 0.9)).float().mean().item()
    print(f"pre-activations ~ N(0, {s}^2): fraction of sigmoid values in (0.1, 0.9) "
          f"{exact:.3f}")
    assert abs(middle - exact) < 0.01                          # a sample agrees with it

a32 = torch.linspace(10, 20, 100_001)                  # float32
first_one = a32[torch.sigmoid(a32) == 1][0].item()
print(f"in float32, sigmoid(a) rounds to exactly 1 from a = {first_one:.2f} on")
assert 16 < first_one < 17

# %% [markdown]
# Only when the pre-activations have a standard deviation of several units of $a$ do the
# gates become mostly "binary". In float32, the format networks run in, a sigmoid rounds to
# exactly 1 once its pre-activation passes about 16.6 (and there, and only there, its
# derivative is exactly 0 too: a rounding artefact, not the rule).
#
# What do real gates look like? We train an LSTM of 32 units for 600 steps (batches of 64)
# on the adding problem with $T = 30$ and collect every gate value over 256 fresh sequences with
# `rnnbook.gradients.gate_trace`. (The LSTM itself is built in chapter 5; here we only read
# its gates: input $i$, forget $f$, output $o$.) Pooling all units together, as gate
# histograms usually do, answers "what values do gates take?". It does not answer the
# question that matters for memory, "what do the gates of the units that *hold* the
# memory do?", so we ask that too, in two ways. Correlation finds the units that *carry*
# the value: those whose cell state, just before the second marker, correlates strongly
# with the first marked value ($|r| > 0.8$). An ablation finds the ones the network
# *needs*: we rerun the trained LSTM step by step with `lstm_step`'s cell, replacing the
# cell state of chosen units at every step by its average, so that they can hold nothing,
# and measure the test error again. Then we look at the gates of those units between the
# two markers.

# %%
seed_everything(11)
adder = SequenceModel("lstm", 2, 32, 1, squeeze=True)
fit(adder, adding_batches(30, 11, size=64), nn.MSELoss(), steps=600, lr=1e-2, clip_norm=1.0,
    desc="adding LSTM")
x_add, y_add = adding_problem(256, 30, seed=12)
with torch.no_grad():
    add_mse = nn.functional.mse_loss(adder(x_add), y_add).item()
    gates = gate_trace(copy.deepcopy(adder.rnn).to(F64), x_add.to(F64))  # each (256, 30, 32)
print(f"adding LSTM (T = 30): test MSE {add_mse:.4f} = {add_mse / BASELINE:.3f} x baseline")

marks = x_add[..., 1].bool()                                        # (256, 30)
first_mark = marks.float().argmax(1)
second_mark = 29 - marks.flip(1).float().argmax(1)
between = (torch.arange(30) > first_mark[:, None]) & (torch.arange(30) < second_mark[:, None])
rows = torch.arange(256)
c_held = gates["c"][rows, second_mark - 1]                          # (256, 32)
first_value = x_add[rows, first_mark, 0].to(F64)
r = torch.stack([torch.corrcoef(torch.stack([c_held[:, u], first_value]))[0, 1]
                 for u in range(32)]).abs()
memory = r > 0.8
pooled = {k: ((gates[k] > 0.1) & (gates[k] < 0.9)).double().mean().item() for k in "ifo"}
f_mem, i_mem = gates["f"][between][:, memory], gates["i"][between][:, memory]
print("pooled over all units: " + ", ".join(f"{v:.1%} of {k} in (0.1, 0.9)"
                                             for k, v in pooled.items()))
print(f"{int(memory.sum())} of 32 units carry the first value (|r| > 0.8, best |r| = "
      f"{r.max():.3f}); between the markers their forget gates average {f_mem.mean():.2f} "
      f"and are above 0.9 for {(f_mem > 0.9).double().mean():.1%} of the values; their input "
      f"gates average {i_mem.mean():.2f}")
n_values = sum(gates[k].numel() for k in "ifo")
exact64 = sum(((gates[k] == 0) | (gates[k] == 1)).sum().item() for k in "ifo")
print(f"gate values exactly 0 or 1, in float64: {exact64} of {n_values:,}")

f_unit = gates["f"][between].mean(0)                  # each unit's mean forget gate there
memory_units = memory.nonzero().flatten()
latch = int(memory_units[f_unit[memory_units].argmax()])     # memory unit with the highest f
is_latch = torch.arange(32) == latch
cell = layer_cell(adder.rnn, impl="rnnbook")           # the trained weights, as a cell
c_mean = gates["c"].mean((0, 1)).float()


def knocked_out_mse(units: torch.Tensor) -> float:
    """Test MSE / baseline of the adding LSTM when the cell states of `units` (a boolean
    mask over the 32 units) are replaced by their average at every step."""
    with torch.no_grad():
        x_proj = nn.functional.linear(x_add, cell.weight_ih, cell.bias_ih)
        h = c = torch.zeros(256, 32)
        for t in range(30):
            step = cell.step(x_proj[:, t], (h, c))
            c = torch.where(units, c_mean, step["c"])      # the knocked-out units hold nothing
            h = step["o"] * torch.tanh(c)
        return nn.functional.mse_loss(adder.head(h).squeeze(-1), y_add).item() / BASELINE


knocked = {"no unit": knocked_out_mse(torch.zeros(32, dtype=torch.bool)),
           "the latch": knocked_out_mse(is_latch),
           "the other memory units": knocked_out_mse(memory & ~is_latch)}
print(f"the latch: unit {latch}, the memory unit with the highest forget gate, mean f "
      f"between the markers {f_unit[latch]:.3f} (the other {int(memory.sum()) - 1} memory "
      f"units: {f_unit[memory & ~is_latch].mean():.2f})")
for name, value in knocked.items():
    print(f"knock out {name:22s}: test MSE {value:.3f} x baseline")

# %%
n = 0
by_r = torch.argsort(r, descending=True)
order = torch.cat([torch.tensor([latch]), by_r[memory[by_r] & ~is_latch[by_r]],
                   by_r[~memory[by_r]]])                     # the latch, memory units, others
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6), layout="constrained")
for ax, k, title in zip(axes[:2], "fi", ("forget gate $f$", "input gate $i$"), strict=True):
    img = ax.imshow(gates[k][n][:, order].T.numpy(), aspect="auto", cmap="viridis", vmin=0,
                    vmax=1, extent=(0.5, 30.5, 31.5, -0.5), interpolation="nearest")
    ax.axhline(int(memory.sum()) - 0.5, color="w", lw=1.5)
    for t in marks[n].nonzero().flatten().tolist():
        ax.plot(t + 1, -0.5, "v", color="tab:red", ms=9, clip_on=False)
    ax.set(title=f"{title}, one sequence", xlabel="time step")
axes[0].set_ylabel(f"unit (top: the latch, unit {latch};\nmemory units above the line)")
fig.colorbar(img, ax=axes[1], label="gate value")
f_between = gates["f"][between]
for label, values, color in ((f"the latch (unit {latch})", f_between[:, latch], "C3"),
                             ("other memory units", f_between[:, memory & ~is_latch], "C2"),
                             ("other units", f_between[:, ~memory], "C7")):
    axes[2].hist(values.flatten().numpy(), bins=50, range=(0, 1), density=True, alpha=0.6,
                 color=color, label=label)
axes[2].axvspan(0.9, 1, color="0.9", zorder=0)
axes[2].set(title="forget gates between the markers, 256 sequences", xlabel="gate value")
axes[2].legend(fontsize=8)
plt.show()

assert add_mse < 0.05 * BASELINE                                  # it solved its task
assert exact64 == 0                                                # never exactly 0 or 1
assert min(pooled.values()) > 0.85                                 # pooled: mostly mid-range
assert memory.sum() >= 5                                           # many units carry it
assert f_mem.mean() < 0.7 and (f_mem > 0.9).double().mean() < 0.25  # ... mostly with f ~ 0.5
assert abs(knocked["no unit"] - add_mse / BASELINE) < 1e-3          # the rerun is the model
assert knocked["the latch"] > 0.7                                   # one unit holds it
assert knocked["the other memory units"] < 0.5                      # the others need it
assert f_unit[latch] > 0.95                                         # its f leans hard to 1

# %% [markdown]
# The evidence:
#
# - **No gate value is 0 or 1.** Recomputed in float64, not one of the gate values of the
#   trained model is; in float32 a sigmoid can round to 1, but only for pre-activations
#   beyond 16.6.
# - **Pooled over units, gates are dimmers.** More than 85% of the values of every gate
#   lie between 0.1 and 0.9.
# - **Many units carry the value; one holds it, the *latch*.** Correlation finds many units (at least
#   five for every seed we tried) whose cell state, just before the second marker, tracks
#   the first value closely ($|r| > 0.8$). Most of them have forget gates around 0.5
#   between the markers, which would halve a stored value at every step: they cannot be
#   keeping it themselves. The ablation settles who does. Knocking out the one memory unit
#   whose forget gate is highest sends the test error back to about the baseline (above
#   70% of it for every seed we tried), while knocking out *all the other* memory units
#   together leaves it far below (under half of it). The others depend on the latch: with
#   it knocked out they are all intact, yet the network has forgotten. We ran this over
#   six seed shifts, and it was the same picture every time: one unit.
# - **That unit's forget gate leans hard towards 1, and is still not 1.** Between the
#   markers it averages above 0.95 for every seed we tried (the red histogram, and the top
#   row of the left panel). Pooled histograms hide it: it is one unit of 32, a few percent
#   of the values. In the run stored here its input gate rises at the first marker and
#   stays nearly shut in between (the top row of the middle panel): write once, then keep.
#
# So the honest summary is neither "gates are switches" nor "gates are dimmers". Most gate
# values are mid-range, and the network's memory rests on a gate that stays near one end
# of its range for as long as the memory is needed. Chapter 5 finds the same on sequences
# of 100 steps: one memory unit whose forget gate stays close to 1. Gates are continuous
# because they must be differentiable: the network learns *how much* to keep through
# $\sigma'(a) = \sigma(a)(1 - \sigma(a))$, which would be zero for a true switch.

# %% [markdown]
# ## 11. What gates will fix, and what they will not
#
# The plain RNN routes memory and gradient through the same squashing matrix product. The
# LSTM (chapter 5) and the GRU (chapter 6) add a path along which the state is copied,
# scaled only by a gate, and that is why they solve long-range tasks where the tanh RNN
# cannot: they fix **vanishing**. They do not fix **exploding**. Their Jacobians still
# contain the recurrent weight matrices on every path that leaves the copied state and
# comes back, and when those weights are large the product grows exponentially, gates or
# not; chapter 5 builds such an LSTM and measures it. That is why this book clips the
# gradient of every model it trains, LSTMs and GRUs included, and why practitioners do.

# %% [markdown]
# ## Summary
#
# - The gradient that reaches step $k$ from a loss at step $T$ is a product of $T - k$
#   Jacobians $J_t = \operatorname{diag}(\phi'(\mathbf a_t))\,W_{hh}$. Products of many
#   factors shrink or grow exponentially: $0.5^{50} = 8.9 \times 10^{-16}$, $3^{50} = 7.2
#   \times 10^{23}$, and in float32 the products become exactly 0 after 150 halvings and
#   `inf` after 81 triplings.
# - $\lVert J_t \rVert \le \gamma\,\sigma_{\max}(W_{hh})$ with $\gamma = 1$ for tanh and
#   $1/4$ for the sigmoid. So $\sigma_{\max} < 1/\gamma$ is **sufficient** for vanishing
#   (Pascanu et al. 2013): 100 random tanh RNNs with $\sigma_{\max} < 1$ all stayed under
#   the bound $\sigma_{\max}^t$. Exploding **requires** $\sigma_{\max} > 1/\gamma$, but that
#   is not sufficient: $\sigma_{\max} = 1.5$ still vanished, $\sigma_{\max} = 6$ exploded with
#   weak inputs and vanished with strong ones (saturation), and a non-normal matrix with
#   $\sigma_{\max} = 4.06$ contracted like $0.5^t$.
# - With weak inputs a tanh RNN is nearly linear, and its gradient decays at the rate of the
#   spectral radius $\rho(W_{hh})$ (within 5%; tanh adds the rest). In general the growth
#   rate is the top Lyapunov exponent of the product, which the states decide: a $W_{hh}$
#   with $\rho = 0.5$ can still explode once a unit saturates (exercise 6).
# - Saturated units ($|a| > 1.8$ for tanh) pass on less than a tenth of their gradient.
# - Clipping by norm rescales the gradient and keeps its direction (cosine 1); clipping by
#   value changes the direction. On Pascanu's cliff, an unclipped step of length 7.1 threw
#   the parameters onto a plateau (loss 0.09, gradient ~0) for good; with the norm clipped
#   at 0.1, the run stayed next to the cliff at low loss.
# - Under SGD an exploding gradient is an enormous step: unclipped SGD on the IRNN took
#   steps over a hundred times longer than clipping allows, at learning rates of $10^{-3}$
#   and $10^{-4}$ alike. Under Adam no coordinate moves by more than about $3\eta$ per
#   step; unclipped, a few huge gradients inflated its running mean square and shrank its
#   steps. Clipping fixes both.
# - Initialisation matters at the start: after 100 steps at initialisation, the gradient
#   had shrunk by more than $10^{12}$ with PyTorch's default $W_{hh}$, far less with an
#   orthogonal one, and not at all with the IRNN's identity and ReLU.
# - On the adding problem (two or three seeds per model) the default tanh RNN learned $T = 10$ but
#   stayed at the baseline for $T = 50$, and so did the orthogonal tanh RNN; the IRNN learned
#   $T = 50$, with an exploding raw gradient that clipping kept in check. Its gradient
#   reached step 1 at every checkpoint; the tanh RNN's almost never did.
# - Sigmoid gates are never 0 or 1. Pooled over units, a trained LSTM's gates lay mostly
#   between 0.1 and 0.9. Many units carried the memory, but an ablation showed one unit
#   holding it, with a forget gate above 0.95 between the markers: near 1, never 1.
# - Gates fix vanishing, not exploding: clip the gradients of LSTMs and GRUs too.

# %% [markdown]
# ## Exercises
#
# **1. The sigmoid RNN.** Build a cell $\mathbf h_t = \sigma(W_{hh}\mathbf h_{t-1} +
# W_{xh}\mathbf x_t + \mathbf b)$ (a small `nn.Module` with `forward(x, h)`), give it a
# $W_{hh}$ with $\sigma_{\max} = 3.9$, and check with `jacobian_norms` that
# $\lVert \partial \mathbf h_t / \partial \mathbf h_0 \rVert \le (3.9/4)^t$ for every $t$,
# with strong inputs and random biases. Why is a largest singular value of 3.9, which would
# be "large" for tanh, still safe for the sigmoid?
#
# <details><summary>Solution</summary>
#
# For the sigmoid, $\gamma = \max \sigma' = 1/4$, so $\lVert J_t \rVert \le \sigma_{\max}/4
# = 0.975$ and the product is bounded by $0.975^t$. The code below checks it for 10 random
# input sequences. The bound is often far from tight: a sigmoid unit reaches its largest
# slope only at $\sigma = 1/2$, and its output is never negative, so the states cannot
# stay near the point of largest slope.
#
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
class SigmoidRNNCell(nn.Module):
    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.ih = nn.Linear(input_size, hidden_size, dtype=F64)
        self.hh = nn.Linear(hidden_size, hidden_size, bias=False, dtype=F64)

    def forward(self, x, h):
        return torch.sigmoid(self.ih(x) + self.hh(h))


seed_everything(20)
sig_cell = SigmoidRNNCell(2, 32)
with torch.no_grad():
    W = torch.randn(32, 32, dtype=F64)
    sig_cell.hh.weight.copy_(W * 3.9 / torch.linalg.matrix_norm(W, 2))
    sig_cell.ih.weight.mul_(10)
    sig_cell.ih.bias.normal_(0, 2)
worst = 0.0
for _ in range(10):
    norms = jacobian_norms(sig_cell, torch.randn(60, 2, dtype=F64), torch.rand(32, dtype=F64))
    worst = max(worst, (norms / (3.9 / 4) ** torch.arange(1, 61, dtype=F64)).max().item())
print(f"largest ||dh_t/dh_0|| / (3.9/4)^t over 10 sequences: {worst:.2e}")
assert worst <= 1 + 1e-9

# %% [markdown]
# **2. Transient growth.** For $W = \begin{pmatrix} 0.5 & a \\ 0 & 0.5 \end{pmatrix}$, show
# that $W^t = \begin{pmatrix} 0.5^t & a\,t\,0.5^{t-1} \\ 0 & 0.5^t \end{pmatrix}$, check it
# against `torch.linalg.matrix_power` for $a = 16$, and find where $\lVert W^t \rVert$ peaks.
# Show numerically that $\lVert W^{t+1} \rVert / \lVert W^t \rVert \to 0.5$, the spectral
# radius, as $t$ grows.
#
# <details><summary>Solution</summary>
#
# Write $W = 0.5 I + N$ with $N = \begin{pmatrix} 0 & a \\ 0 & 0 \end{pmatrix}$. Since
# $N^2 = 0$ and $I$ commutes with $N$, the binomial theorem stops after two terms:
# $W^t = 0.5^t I + t\,0.5^{t-1} N$. The off-diagonal entry $a\,t\,0.5^{t-1}$ dominates the
# norm; as a function of $t$ it peaks where $\frac{d}{dt}(t\,0.5^{t}) = 0$, at
# $t = 1/\ln 2 \approx 1.44$, so between steps 1 and 2. The ratio of successive norms is
# about $0.5\,(t+1)/t$, which tends to 0.5: in the long run only the eigenvalues count.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
a_off = 16.0
W_a = torch.tensor([[0.5, a_off], [0.0, 0.5]], dtype=F64)
for t in (1, 2, 3, 10, 40):
    closed = torch.tensor([[0.5**t, a_off * t * 0.5 ** (t - 1)], [0.0, 0.5**t]], dtype=F64)
    assert torch.allclose(torch.linalg.matrix_power(W_a, t), closed, rtol=1e-12, atol=0)
norms_a = np.array([torch.linalg.matrix_norm(torch.linalg.matrix_power(W_a, t), 2).item()
                    for t in range(1, 201)])
peak = int(norms_a.argmax()) + 1
ratio_200 = norms_a[-1] / norms_a[-2]
print(f"||W^t|| peaks at t = {peak} ({norms_a.max():.3f}); ||W^200|| / ||W^199|| = {ratio_200:.4f}")
assert peak in (1, 2) and abs(ratio_200 - 0.5) < 0.01

# %% [markdown]
# **3. Value clipping can turn a step by almost 90°.** A gradient has one component of
# 1000 and 9,999 components of 0.01. Compute, by hand and in code, the cosine between it and
# its value-clipped version at $c = 0.01$, and its norm-clipped version at $c = 1$. Which
# component did the value-clipped step stop caring about?
#
# <details><summary>Solution</summary>
#
# Value clipping makes every component 0.01: the vector $0.01 \cdot \mathbf 1$, of norm 1.
# The cosine is
# $\frac{1000 \cdot 0.01 + 9999 \cdot 0.01^2}{\lVert \mathbf g \rVert \cdot 1}
# = \frac{10.9999}{\sqrt{10^6 + 0.9999}} \approx 0.011$, an angle of about 89.4°. The one
# large component, the direction the loss is most sensitive to, now gets the same step as
# every negligible one. Norm clipping divides by $\lVert \mathbf g \rVert \approx 1000$ and
# keeps the cosine at exactly 1.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
g3 = torch.full((10_000,), 0.01, dtype=F64)
g3[0] = 1000.0
by_value = g3.clamp(-0.01, 0.01)
by_norm = g3 * min(1.0, 1.0 / g3.norm().item())
cos_value = nn.functional.cosine_similarity(g3, by_value, dim=0).item()
cos_norm = nn.functional.cosine_similarity(g3, by_norm, dim=0).item()
by_hand = (1000 * 0.01 + 9999 * 0.01**2) / (g3.norm().item() * by_value.norm().item())
print(f"cosine after value clipping {cos_value:.4f} (by hand {by_hand:.4f}, angle "
      f"{math.degrees(math.acos(cos_value)):.1f} degrees); after norm clipping {cos_norm:.4f}")
assert abs(cos_value - by_hand) < 1e-12 and cos_value < 0.02 and abs(cos_norm - 1) < 1e-12

# %% [markdown]
# **4. Value clipping on the cliff.** Rerun the cliff descent of section 6 with the gradient
# clipped by *value* at $c = 0.1/\sqrt 2$, so that the longest possible step is the same
# as with norm clipping at 0.1. Does it avoid the jump? Where does it end up?
#
# <details><summary>Solution</summary>
#
# It avoids the jump: no step is longer than $0.5 \cdot 0.1 = 0.05$. But it does not settle
# near the valley. Whenever both components exceed $c$, as they do on and near the cliff,
# value clipping replaces the gradient with $c\,(\pm 1, \pm 1)$, a step along a diagonal
# whatever the true direction, and the run keeps stepping back and forth across the edge.
# Its loss over the last 10 steps stays far above the norm-clipped run's. Bounding the step
# length was necessary, but the direction also matters.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
def descend_value_clipped(c: float, lr: float = 0.5, n_steps: int = 60):
    p = torch.tensor([4.5, -2.5], dtype=F64, requires_grad=True)
    path, losses = [p.detach().clone()], []
    for _ in range(n_steps):
        loss = cliff_loss(p[0], p[1])
        (g,) = torch.autograd.grad(loss, p)
        losses.append(loss.item())
        with torch.no_grad():
            p -= lr * g.clamp(-c, c)                     # clip by value
        path.append(p.detach().clone())
    losses.append(cliff_loss(p[0], p[1]).item())
    return torch.stack(path).numpy(), np.array(losses)


path_v, losses_v = descend_value_clipped(0.1 / math.sqrt(2))
longest = np.linalg.norm(np.diff(path_v, axis=0), axis=1).max()
print(f"value clipping: longest step {longest:.4f}; mean loss of the last 10 steps "
      f"{losses_v[-10:].mean():.4f} (norm clipping: {losses_c[-10:].mean():.4f})")
assert longest <= 0.05 + 1e-12
assert losses_v[-10:].mean() > 10 * losses_c[-10:].mean()

# %% [markdown]
# **5. Where does the trained IRNN keep its memory?** A ReLU unit with $a_t \le 0$ outputs
# 0 and passes on *no* gradient (its Jacobian factor is exactly 0). Run the trained
# $T = 50$ IRNNs of section 8 over 256 test sequences and measure: the fraction of hidden
# values that are exactly 0; how many of the 32 units are never active; and, per sequence,
# how many units stay active at all 50 steps. What do you conclude about how it solves the
# task?
#
# <details><summary>Solution</summary>
#
# Most of the network is switched off: more than three quarters of the hidden values are
# exactly 0, and several units never fire on these sequences at all (the cell below
# prints the numbers for each of the three seeds). Only a unit or two per sequence, on
# average, stays active from start to end (between 0.9 and 2.2 in every seed we tried).
# The IRNN solves the adding problem with such units used as accumulators, the role its
# identity initialisation prepared them for: an active unit with a self-connection near 1
# adds its input and keeps the sum, and passes gradient back with a factor near 1. Units
# that never fire carry neither information nor gradient, a known risk of ReLU networks
# ("dead" units).
#
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
x_dead, _ = adding_problem(256, T_LONG, seed=12)
dead_stats = []
for seed in SEEDS:
    with torch.no_grad():
        states, _ = results["irnn", T_LONG, seed][0].rnn(x_dead)     # (256, 50, 32)
    zero_fraction = (states == 0).float().mean().item()
    never_active = int((~(states > 0).any(dim=1).any(dim=0)).sum())
    always_active = (states > 0).all(dim=1).sum(dim=1).float().mean().item()
    dead_stats.append((zero_fraction, never_active, always_active))
    print(f"IRNN seed {seed}: hidden values exactly 0: {zero_fraction:.1%};  units never "
          f"active: {never_active} of 32;  units active at all 50 steps, per sequence: "
          f"mean {always_active:.2f}")
assert all(zero > 0.75 and never >= 3 and 0.5 < always < 4
           for zero, never, always in dead_stats)

# %% [markdown]
# **6. A spectral radius of 0.5, and a gradient that explodes.** Take the $2 \times 2$
# matrix $W = \begin{pmatrix} 1.5 & 1 \\ -2.5 & -1.5 \end{pmatrix}$. Show that its
# eigenvalues are $\pm 0.5i$, so $\rho(W) = 0.5$ and $W^t \to 0$. Then use it as $W_{hh}$ of
# a two-unit tanh RNN without input, in two settings: (a) all biases 0 and $\mathbf h_0 =
# 0$; (b) a bias of 8 on unit 2, which saturates it, and a bias on unit 1 that cancels
# unit 2's contribution, so that unit 1 sits at $h = 0$ where $\tanh' = 1$. Measure
# $\lVert \partial \mathbf h_t / \partial \mathbf h_0 \rVert$ for 50 steps with
# `jacobian_norms`. Why does (b) explode although $\rho(W) < 1$?
#
# <details><summary>Solution</summary>
#
# The characteristic polynomial is $\lambda^2 - \operatorname{tr}(W)\lambda + \det W =
# \lambda^2 + 0.25$, so $\lambda = \pm 0.5i$; indeed $W^2 = -0.25\,I$. In (a) the state
# stays at 0, every $\tanh'$ is 1, every Jacobian is $W$ itself, and the product decays like
# $0.5^t$. In (b) unit 2 is saturated, $\tanh' \approx 10^{-5}$, so the Jacobian is
# $\operatorname{diag}(1, \approx 0)\,W \approx \begin{pmatrix} 1.5 & 1 \\ 0 & 0
# \end{pmatrix}$, whose eigenvalues are 1.5 and 0: the product grows like $1.5^t$, by a
# factor of about $10^9$ over 50 steps. Multiplying the rows of a matrix by different
# numbers changes its eigenvalues, so the spectral radius of $W_{hh}$ says nothing
# certain about the product of the Jacobians; their growth rate is the top Lyapunov
# exponent of the sequence $J_t$, here $\ln 1.5$ per step. The bound of section 1 is not
# violated: $\sigma_{\max}(W) = 3.43 > 1$ allows growth.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
W_lyap = torch.tensor([[1.5, 1.0], [-2.5, -1.5]], dtype=F64)
eigenvalues = torch.linalg.eigvals(W_lyap)
h2 = 1.0
for _ in range(100):                              # unit 2's fixed point h2 = tanh(8 - 1.5 h2)
    h2 = math.tanh(8 - 1.5 * h2)


def two_unit_rnn(bias: list[float]) -> nn.RNNCell:
    cell = nn.RNNCell(1, 2, dtype=F64)
    with torch.no_grad():
        cell.weight_hh.copy_(W_lyap)
        cell.weight_ih.zero_()
        cell.bias_hh.zero_()
        cell.bias_ih.copy_(torch.tensor(bias, dtype=F64))
    return cell


no_input = torch.zeros(50, 1, dtype=F64)
linear = jacobian_norms(two_unit_rnn([0.0, 0.0]), no_input, torch.zeros(2, dtype=F64))
saturated = jacobian_norms(two_unit_rnn([-h2, 8.0]), no_input, torch.tensor([0.0, h2], dtype=F64))
growth = (saturated[-1] / saturated[-11]).item() ** 0.1        # per step, over the last 10
print(f"eigenvalues of W: {eigenvalues[0].imag.abs():.2f}i and -{eigenvalues[1].imag.abs():.2f}i"
      f" (real parts below 1e-12);  sigma_max {torch.linalg.matrix_norm(W_lyap, 2):.2f}")
print(f"(a) no saturation: ||dh_50/dh_0|| = {linear[-1]:.1e}")
print(f"(b) unit 2 saturated (tanh' = {1 - h2**2:.1e}): ||dh_50/dh_0|| = {saturated[-1]:.1e}, "
      f"growing by {growth:.3f} per step")
assert eigenvalues.real.abs().max() < 1e-12 and torch.allclose(eigenvalues.abs(),
                                                               torch.full((2,), 0.5, dtype=F64))
assert linear[-1] < 1e-12 and saturated[-1] > 1e8 and abs(growth - 1.5) < 0.01

# %% [markdown]
# ## References
#
# - Bengio, Y., Simard, P., & Frasconi, P. (1994). Learning long-term dependencies with
#   gradient descent is difficult. *IEEE Transactions on Neural Networks*, 5(2), 157–166.
# - Hochreiter, S. (1991). *Untersuchungen zu dynamischen neuronalen Netzen*. Diploma
#   thesis, Technische Universität München.
# - Hochreiter, S., & Schmidhuber, J. (1997). Long short-term memory. *Neural
#   Computation*, 9(8), 1735–1780.
# - Karpathy, A. (2015). `min-char-rnn.py`: minimal character-level language model with a
#   vanilla recurrent neural network, in Python/NumPy. GitHub gist, karpathy/d4dee566867f8291f086.
# - Kingma, D. P., & Ba, J. (2015). Adam: a method for stochastic optimization. In
#   *International Conference on Learning Representations (ICLR)*.
# - Le, Q. V., Jaitly, N., & Hinton, G. E. (2015). A simple way to initialize recurrent
#   networks of rectified linear units. *arXiv:1504.00941*.
# - Mikolov, T. (2012). *Statistical language models based on neural networks*. PhD
#   thesis, Brno University of Technology.
# - Pascanu, R., Mikolov, T., & Bengio, Y. (2013). On the difficulty of training recurrent
#   neural networks. In *Proceedings of the 30th International Conference on Machine
#   Learning (ICML)*, PMLR 28(3), 1310–1318.
# - Saxe, A. M., McClelland, J. L., & Ganguli, S. (2014). Exact solutions to the nonlinear
#   dynamics of learning in deep linear neural networks. In *International Conference on
#   Learning Representations (ICLR)*.

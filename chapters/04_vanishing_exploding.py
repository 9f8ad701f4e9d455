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
#   halves, including three matrices with $\sigma_{\max} > 1$ whose gradients still vanish.
# - How saturating nonlinearities (tanh, sigmoid) shrink the gradient further.
# - Gradient clipping by norm and by value: norm clipping keeps the direction of the step,
#   value clipping does not; and Pascanu's one-neuron "cliff", where an unclipped step jumps
#   off onto a plateau and a clipped one stays.
# - Initialisations that keep gradients alive: orthogonal matrices, and the identity with
#   ReLU (the IRNN of Le, Jaitly & Hinton 2015).
# - The adding problem: a tanh RNN learns it over 10 steps and stays at the trivial baseline
#   over 100, while the IRNN solves both, and a map of the per-step gradient during training
#   shows why.
# - Why "sigmoid gates output only 0 or 1" is wrong, measured on a trained LSTM.
#

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

from rnnbook import (ADDING_BASELINE_MSE, CharLM, CharVocab, SequenceModel, adding_problem,
                     char_batches, fit, generator, lm_loss, load_text, seed_everything)
from rnnbook.kinds import layer_cell
from rnnbook.gradients import (gate_trace, jacobian_norms, model_grad_norms,
                               state_jacobian)

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
# growth: it is only an upper bound. This is the result of Bengio, Simard & Frasconi (1994),
# sharpened by Pascanu, Mikolov & Bengio (2013), and we will test both directions.

# %% [markdown]
# ## 2. Multiply by 3, multiply by 0.5
#
# Strip the RNN down to one linear unit: $h_t = w\,h_{t-1} + x_t$. Every Jacobian is the
# number $w$, so $\partial h_T / \partial h_0 = w^T$. Ask autograd, with $T = 50$:

# %%
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

# %%
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

# %%
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

# %%
seed_everything(1)
cell1 = nn.RNNCell(1, 1, dtype=F64)          # one unit: weight_hh is the 1x1 matrix [w]
x1 = torch.randn(30, 1, dtype=F64)
h, by_hand = torch.zeros(1, dtype=F64), 1.0
with torch.no_grad():
    for x_t in x1:
        h = cell1(x_t, h)
        by_hand *= cell1.weight_hh.item() * (1 - h.item() ** 2)
autograd_jac = state_jacobian(cell1, x1, torch.zeros(1, dtype=F64)).item()
print(f"one unit, T = 30:  by hand {by_hand:.6e}   autograd {autograd_jac:.6e}")
assert abs(by_hand - autograd_jac) <= 1e-12 * abs(by_hand)

seed_everything(2)
cell64 = nn.RNNCell(1, 64, dtype=F64)
x64 = torch.randn(100, 1, dtype=F64)
h, product, hand_norms = torch.zeros(64, dtype=F64), torch.eye(64, dtype=F64), []
with torch.no_grad():
    for x_t in x64:
        h = cell64(x_t, h)
        product = torch.diag(1 - h**2) @ cell64.weight_hh @ product   # J_t ... J_1
        hand_norms.append(torch.linalg.matrix_norm(product, 2))
hand_norms = torch.stack(hand_norms)
auto_norms = jacobian_norms(cell64, x64, torch.zeros(64, dtype=F64))
worst = ((hand_norms - auto_norms).abs() / auto_norms).max().item()
print(f"64 units, T = 100: largest relative difference over all t = {worst:.1e}")
assert worst < 1e-10

# %% [markdown]
# Both agree to round-off: $\partial \mathbf h_T / \partial \mathbf h_0$ is exactly the
# product of $\operatorname{diag}(1 - \mathbf h_t^2) W_{hh}$ that section 1 derived. From
# here on we let `jacobian_norms` do the multiplying. We work in float64 throughout these
# measurements, because the norms we are about to see fall far below float32's range.

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
    return jacobian_norms(cell, x, torch.zeros(H, dtype=F64)).numpy()


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
ax1.set_xlabel("steps back $t$")
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
# For this matrix, $\rho / \sigma_{\max} = 0.57$. Read the left panel first. For
# $\sigma_{\max} \le 1$ every curve is a straight line on the log axis, that is, an
# exponential decay, and each stays under its dashed bound
# $\sigma_{\max}^t$, falling faster than the bound because tanh's derivative is below 1
# wherever the pre-activation is not exactly zero. At $\sigma_{\max} = 0.9$ the norm after
# 100 steps is $4.6 \times 10^{-30}$. Even $\sigma_{\max} = 1.5$ vanishes, to
# $9 \times 10^{-9}$. At $\sigma_{\max} = 2$ the curve stays roughly level, and at 3 and 6
# it rises: the gradient explodes, by a factor of $1.4 \times 10^{12}$ over 100 steps at
# $\sigma_{\max} = 6$.
#
# The right panel sweeps $\sigma_{\max}$ finely. The gradient after 100 steps spans more
# than 100 orders of magnitude, and it crosses 1 not at $\sigma_{\max} = 1$ (black) but
# just past the point where the spectral radius reaches 1 (red): for a matrix like this
# one, $\sigma_{\max} = 1$ is far on the safe side. We assert what the figure shows.

# %%
for s in (0.5, 0.9, 1.0):
    curve = curves_by_sigma[s]
    assert (curve <= s**t_axis * (1 + 1e-9)).all()          # under the bound at every t
    slope, intercept = np.polyfit(t_axis[9:], np.log(curve[9:]), 1)
    fitted = slope * t_axis[9:] + intercept
    r2 = 1 - ((np.log(curve[9:]) - fitted) ** 2).sum() / ((np.log(curve[9:])
                                                          - np.log(curve[9:]).mean()) ** 2).sum()
    print(f"sigma_max = {s}: fitted decay per step {math.exp(slope):.4f} "
          f"(bound {s}), R^2 of the exponential fit {r2:.4f}")
    assert r2 > 0.99 and math.exp(slope) < s                # exponential, faster than s^t
assert curves_by_sigma[1.5][-1] < 1e-6                      # sigma_max > 1, still vanishing
assert curves_by_sigma[6.0][-1] > 1e6                       # exploding
span = np.log10(final_norm.max() / final_norm.min())
print(f"over the sweep, ||dh_100/dh_0|| spans {span:.0f} orders of magnitude")
assert span > 100
crossing = sweep[np.argmax(final_norm > 1)]                 # first sigma_max with norm > 1
print(f"the norm after 100 steps first exceeds 1 at sigma_max = {crossing:.2f}; "
      f"rho = 1 at sigma_max = {sigma_at_rho_1:.2f}")
assert 0.8 * sigma_at_rho_1 < crossing < 1.3 * sigma_at_rho_1

# %% [markdown]
# The fitted decay per step is below $\sigma_{\max}$ in all three cases, and an exponential
# fits the curves almost perfectly ($R^2 > 0.99$). The norm after 100 steps first exceeds 1
# at $\sigma_{\max} = 2.00$, the first point of the sweep past $\sigma_{\max} = 1.76$, where
# $\rho = 1$.

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
    norms = jacobian_norms(cell, torch.randn(30, 3, dtype=F64), torch.randn(size, dtype=F64))
    ratio = (norms / s ** torch.arange(1, 31, dtype=F64)).max().item()
    worst_ratio, sigmas = max(worst_ratio, ratio), sigmas + [s]
print(f"100 random tanh RNNs, sigma_max in [{min(sigmas):.3f}, {max(sigmas):.3f}]: "
      f"largest ||dh_t/dh_0|| / sigma_max^t = {worst_ratio:.4f}")
assert worst_ratio <= 1 + 1e-9

# %% [markdown]
# The closest any network came to the bound was a factor of 0.93. So: **if the largest
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
for input_scale in (0.1, 1.0, 3.0, 10.0, 30.0):
    cell = tanh_rnn(6.0, input_scale=input_scale)
    with torch.no_grad():
        h, derivs = torch.zeros(H, dtype=F64), []
        for x_t in x_sweep:
            h = cell(x_t, h)
            derivs.append((1 - h**2).mean())
    norm = grad_curve(cell)[-1]
    print(f"input weights ~ N(0, {input_scale:4.1f}^2): mean tanh' = "
          f"{torch.stack(derivs).mean():.3f},  ||dh_100/dh_0|| = {norm:.1e}")
    if input_scale == 1.0:
        assert norm > 1e6                   # weak inputs: the same W_hh explodes...
    if input_scale == 10.0:
        assert norm < 1e-10                 # ...strong inputs: it vanishes
        saturated_norm = norm

# %% [markdown]
# Same $W_{hh}$, $\sigma_{\max} = 6$ throughout. With weak inputs, the gradient grows by a
# factor of about $10^{13}$ over 100 steps; with input weights ten times larger, the average
# derivative of tanh drops from 0.28 to 0.11 and the gradient falls to $3 \times 10^{-20}$.
#
# **A matrix that is large but contracting.** Take a linear recurrence (no saturation at
# all) with
# $W = \begin{pmatrix} 0.5 & 4 \\ 0 & 0.5 \end{pmatrix}$. Its largest singular value is
# about 4.06, but both eigenvalues are 0.5. Such a matrix is *non-normal* (its eigenvectors
# are not orthogonal): it can stretch a vector for a few steps, but its powers eventually
# shrink like $0.5^t$.

# %%
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
# step 100. For long products the spectral radius decides, not the largest singular value.
# What then is $\sigma_{\max} > 1$ good for? It is the condition under
# which the *bound* allows growth, so it is *necessary* for exploding, and the sweep shows
# that with $\sigma_{\max}$ well above 1 (and weak enough inputs) the gradient does explode.
# But it is not *sufficient*: saturation, or a matrix whose stretching does not compound,
# can still make it vanish.

# %% [markdown]
# ## 6. Gradient clipping: by norm or by value
#
# Vanishing and exploding are not symmetric problems. A vanishing gradient is *missing
# information*, and no rescaling can recover it. An exploding gradient still points
# somewhere sensible; it is just far too long, and a step along it throws the weights
# somewhere arbitrary. That is easy to prevent: shorten the step. Two ways are common, and
# both exist in PyTorch.
#
# - **Clipping by norm** (Pascanu et al. 2013; `torch.nn.utils.clip_grad_norm_`): if the
#   norm of the whole gradient $\mathbf g$ (all parameters together) exceeds a threshold
#   $c$, rescale it:
#   $\;\mathbf g \leftarrow \mathbf g \cdot \min\!\big(1, c / \lVert \mathbf g \rVert\big)$.
# - **Clipping by value** (`torch.nn.utils.clip_grad_value_`): clamp every component
#   separately, $\;g_i \leftarrow \max(-c, \min(c, g_i))$.
#
# Norm clipping multiplies the vector by one positive number, so it keeps the direction
# exactly. Value clipping cuts the large components and leaves the small ones, so it
# turns the vector towards the diagonal. We check both on a real gradient: that of an IRNN
# (section 7) at initialisation, on a batch of 100-step sequences from the adding problem
# (section 8), whose gradient is large.

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
# Value clipping turned it by 43 degrees (cosine 0.73): the update no longer follows the
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
fig, (ax1, ax3, ax2) = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
for ax, (gw, gb, surf), title in (
        (ax1, (w_grid, b_grid, surface), "Loss surface: the cliff is the sharp edge"),
        (ax3, (zoom_w, zoom_b, zoom), "Zoomed in around the start")):
    img = ax.pcolormesh(gw.numpy(), gb.numpy(), np.log10(surf + 1e-6), cmap="viridis",
                        shading="auto", vmin=-6, vmax=-0.5)
    for (name, (path, _, _)), color in zip(runs.items(), ("tab:red", "white"), strict=True):
        ax.plot(path[:, 0], path[:, 1], ".-", color=color, ms=4, lw=1, label=name)
    ax.plot(*path[0], "k*", ms=12, label="start (4.5, -2.5)")
    ax.set_xlim(gw.min(), gw.max())
    ax.set_ylim(gb.min(), gb.max())
    ax.set_xlabel("$w$")
    ax.set_title(title)
ax1.set_ylabel("$b$")
ax1.legend(fontsize=8, loc="upper left", facecolor="0.8")
fig.colorbar(img, ax=ax3, label=r"$\log_{10} L(w, b)$")
for name, (_, losses, _) in runs.items():
    ax2.semilogy(losses + 1e-8, label=name)
ax2.axhline(0.09, color="k", ls="--", lw=1, label=r"plateau $(1 - 0.7)^2 = 0.09$")
ax2.set_xlabel("gradient-descent step")
ax2.set_ylabel("loss")
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
# We build the three as `SequenceModel`s, exactly as they will be trained in section 8,
# take their recurrent layer out as a cell with `layer_cell`, and measure
# $\lVert \partial \mathbf h_t / \partial \mathbf h_0 \rVert$ along one sequence of the
# adding problem.

# %%
def make_model(init: str, seed: int = 0) -> SequenceModel:
    """A 64-unit model for the adding problem: 'default' and 'orthogonal' tanh RNNs, or 'irnn'."""
    seed_everything(seed)
    model = SequenceModel("irnn" if init == "irnn" else "rnn", 2, 64, 1, squeeze=True)
    if init == "orthogonal":
        nn.init.orthogonal_(model.rnn.weight_hh_l0)
    return model


x_one, _ = adding_problem(1, 100, seed=7)
init_curves, spectra = {}, {}
for init in ("default", "orthogonal", "irnn"):
    rnn = make_model(init).rnn
    W = rnn.weight_hh_l0.detach()
    spectra[init] = (torch.linalg.matrix_norm(W, 2).item(),
                     torch.linalg.eigvals(W).abs().max().item())
    init_curves[init] = jacobian_norms(layer_cell(rnn).to(F64), x_one[0].to(F64),
                                       torch.zeros(64, dtype=F64)).numpy()
    print(f"{init:10s}: sigma_max {torch.linalg.matrix_norm(W, 2):.2f}, spectral radius "
          f"{torch.linalg.eigvals(W).abs().max():.2f};  ||dh_t/dh_0|| at t = 10: "
          f"{init_curves[init][9]:.1e}, t = 100: {init_curves[init][-1]:.1e}")

fig, ax = plt.subplots(figsize=(7, 3.5))
for init, curve in init_curves.items():
    ax.semilogy(np.arange(1, 101), curve, label=init)
ax.set_xlabel("steps back $t$")
ax.set_ylabel(r"$\|\partial h_t / \partial h_0\|$")
ax.set_title("At initialisation, along one adding-problem sequence")
ax.legend()
plt.show()

sigma_default, rho_default = spectra["default"]
assert 1 < sigma_default < 1.3 and rho_default < 0.8           # sigma_max > 1, rho well below
assert all(abs(v - 1) < 1e-5 for v in spectra["orthogonal"] + spectra["irnn"])
assert init_curves["default"][-1] < 1e-15
assert init_curves["orthogonal"][-1] > 1e10 * init_curves["default"][-1]
assert np.allclose(init_curves["irnn"], 1.0, rtol=1e-12)

# %% [markdown]
# PyTorch's default $W_{hh}$ has $\sigma_{\max} = 1.14$ but a spectral radius of 0.63, and
# with it the gradient has fallen to $1.3 \times 10^{-20}$ after 100 steps. The orthogonal
# matrix keeps it at $2.2 \times 10^{-2}$, eighteen orders of magnitude more; what it
# loses, it loses to tanh's saturation alone. The IRNN keeps it at exactly 1: at least one
# unit stayed active over the whole sequence, and through such a unit the gradient passes
# untouched. A good start is not a guarantee, as training moves $W_{hh}$ away from where it
# began. Section 8 tests whether it matters.

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
# We train a 64-unit tanh RNN (PyTorch's default initialisation) and an IRNN with
# identical settings: Adam with learning rate $3 \times 10^{-3}$, batches of 64 fresh
# sequences, 1,000 steps, the gradient norm clipped at 1. We do it for $T = 10$ and for
# $T = 100$, and every 100 steps we record the test MSE on 1,000 held-out sequences and the
# per-step gradient norms $\lVert \partial L / \partial \mathbf h_t \rVert$ on 256 of them
# (in a float64 copy, so that tiny values stay measurable). That is what `evaluate` does;
# `fit` calls it without gradients, so it switches them back on for the measurement.

# %%
def train_adding(kind: str, length: int, steps: int = 1000, clip_norm: float | None = 1.0,
                 seed: int = 0):
    """Train a SequenceModel on the adding problem; return the model, its History, and the
    per-step gradient norms ||dL/dh_t|| at initialisation and at every evaluation."""
    x_test, y_test = adding_problem(1000, length, seed=123)
    x_probe, y_probe = x_test[:256].to(F64), y_test[:256].to(F64)
    model = make_model("irnn" if kind == "irnn" else "default", seed)
    gen = generator(seed)

    def batch():
        return adding_problem(64, length, seed=int(torch.randint(2**31, (1,), generator=gen)))

    def grad_profile(m):
        return model_grad_norms(copy.deepcopy(m).to(F64), x_probe, y_probe, nn.MSELoss())

    profiles = [grad_profile(model)]

    def evaluate(m):
        with torch.enable_grad():
            profiles.append(grad_profile(m))
        return {"mse": nn.functional.mse_loss(m(x_test), y_test)}

    history = fit(model, batch, nn.MSELoss(), steps=steps, lr=3e-3, clip_norm=clip_norm,
                  evaluate=evaluate, eval_every=100, desc=f"{kind}, T={length}")
    return model, history, torch.stack(profiles).numpy()


results = {(kind, length): train_adding(kind, length)
           for length in (10, 100) for kind in ("rnn", "irnn")}
for (kind, length), (_, history, _) in results.items():
    _, mse = history.metric("mse")
    print(f"T = {length:3d}, {kind:4s}: test MSE at steps 100, 200, ..., 1000: "
          + " ".join(f"{v:.4f}" for v in mse))

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
for ax, length in zip(axes, (10, 100), strict=True):
    for kind, label in (("rnn", "tanh RNN"), ("irnn", "IRNN")):
        steps_done, mse = results[(kind, length)][1].metric("mse")
        ax.semilogy(steps_done, mse, "o-", label=label)
    ax.axhline(ADDING_BASELINE_MSE, color="k", ls="--", lw=1, label="baseline 1/6")
    ax.set_title(f"Adding problem, T = {length}")
    ax.set_xlabel("training step")
axes[0].set_ylabel("test MSE")
axes[0].legend()
plt.show()

final = {key: res[1].evals[-1]["mse"] for key, res in results.items()}
best_rnn_100 = min(results[("rnn", 100)][1].metric("mse")[1])
print("final test MSE / baseline:  " + ",  ".join(
    f"{kind} T={length}: {mse / ADDING_BASELINE_MSE:.3f}" for (kind, length), mse in final.items()))
print(f"tanh RNN, T = 100: best test MSE at any evaluation {best_rnn_100:.4f} "
      f"= {best_rnn_100 / ADDING_BASELINE_MSE:.3f} x baseline")
assert final[("rnn", 10)] < 0.15 * ADDING_BASELINE_MSE      # learns the short problem
assert best_rnn_100 > 0.9 * ADDING_BASELINE_MSE              # never leaves the baseline
assert final[("irnn", 10)] < 0.01 * ADDING_BASELINE_MSE
assert final[("irnn", 100)] < 0.05 * ADDING_BASELINE_MSE     # the IRNN solves T = 100

# %% [markdown]
# Over 10 steps the tanh RNN learns: after a slow start its test MSE falls to 0.019, about
# a ninth of the baseline. Over 100 steps it never gets anywhere: its best test MSE at any
# evaluation is 0.160, 96% of the baseline, the MSE of predicting 1 every time. The IRNN,
# same size, same optimiser, same number of steps, reaches 0.0002 on $T = 10$ and 0.003 on
# $T = 100$, under 2% of the baseline. (One seed per run keeps this chapter within its time
# budget; chapter 7 repeats such comparisons over several seeds.)
#
# ### Exploding gradients, measured, and what clipping did about them
#
# `fit` records the norm of the full gradient at every step, *before* clipping. Look at
# those of the two $T = 100$ runs.

# %%
for kind in ("rnn", "irnn"):
    norms = np.array(results[(kind, 100)][1].grad_norm)
    print(f"{kind:4s} T=100: gradient norm median {np.median(norms):.2f}, largest "
          f"{norms.max():.1e};  clipped at {(norms > 1).mean():.0%} of the steps")
irnn_norms = np.array(results[("irnn", 100)][1].grad_norm)
rho_irnn = torch.linalg.eigvals(results[("irnn", 100)][0].rnn.weight_hh_l0.detach()).abs().max()
print(f"spectral radius of the IRNN's W_hh: {spectra['irnn'][1]:.2f} at initialisation, "
      f"{rho_irnn:.2f} after training")
assert irnn_norms.max() > 1e6 and (irnn_norms > 1).mean() > 0.5 and rho_irnn > 1.2

# %% [markdown]
# The IRNN's gradient *exploded*: its largest norm was about $10^{10}$, and 96% of its steps
# were clipped. The identity matrix starts the IRNN exactly where products neither shrink
# nor grow; training pushed the spectral radius of its $W_{hh}$ from 1 to 1.88, past the
# edge, and with ReLU nothing saturates to hold the growth back. What clipping buys is easy to measure:
# train the same IRNN for 300 steps without it.

# %%
_, history_free, _ = train_adding("irnn", 100, steps=300, clip_norm=None)
clipped_300 = results[("irnn", 100)][1].evals[2]
assert clipped_300["step"] == 300
free_300 = history_free.evals[-1]["mse"]
print(f"IRNN, T = 100, after 300 steps: test MSE {clipped_300['mse']:.4f} with clipping, "
      f"{free_300:.4f} without (baseline {ADDING_BASELINE_MSE:.4f}); largest gradient "
      f"norm without clipping {max(history_free.grad_norm):.1e}")
assert free_300 > ADDING_BASELINE_MSE > 4 * clipped_300["mse"]

# %% [markdown]
# Without clipping, the IRNN is *worse than the baseline* after 300 steps (its MSE of 0.62
# is nearly four times 1/6): a few enormous steps threw its weights far from anything
# useful. With clipping it was at 0.023. Good initialisation and clipping work as a pair:
# one keeps the gradient from vanishing, the other keeps it from wrecking the weights when
# it explodes.
#
# ## 9. Where the gradient goes during training
#
# Each recorded profile is $\lVert \partial L / \partial \mathbf h_t \rVert$ for
# $t = 1, \dots, 100$, on the same 256 test sequences. Divided by its value at the last
# step, it says what fraction of the error signal survives the trip back to step $t$.
# Stacking the profiles of the whole run gives a map: time step across, training progress
# down.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
ratios = {}
for ax, kind, label in ((axes[0], "rnn", "tanh RNN"), (axes[1], "irnn", "IRNN")):
    profiles = results[(kind, 100)][2]                       # (11 checkpoints, 100 steps)
    ratios[kind] = profiles / profiles[:, -1:]
    img = ax.imshow(np.log10(ratios[kind]), aspect="auto", cmap="magma", vmin=-25, vmax=1,
                    extent=(0.5, 100.5, 1050, -50), interpolation="nearest")
    ax.set_title(f"{label}, T = 100")
    ax.set_xlabel("time step $t$")
axes[0].set_ylabel("training step")
fig.colorbar(img, ax=axes, label=r"$\log_{10}\, \|\partial L/\partial h_t\| \,/\, "
             r"\|\partial L/\partial h_{100}\|$")
plt.show()

first_step = {kind: r[:, 0] for kind, r in ratios.items()}
for kind in ("rnn", "irnn"):
    print(f"{kind:4s}: ||dL/dh_1|| / ||dL/dh_100|| at steps 0, 100, ..., 1000: "
          + " ".join(f"{v:.0e}" for v in first_step[kind]))
rho_end = torch.linalg.eigvals(results[("rnn", 100)][0].rnn.weight_hh_l0.detach()).abs().max()
print(f"tanh RNN: spectral radius of W_hh after training {rho_end:.2f}")
assert (first_step["rnn"] < 1e-12).sum() >= 10               # 10 of the 11 checkpoints
assert first_step["irnn"].min() > 0.1                        # all of them

# %% [markdown]
# The left map is nearly black: for the tanh RNN, the gradient reaching the first step was
# a fraction between $10^{-24}$ and $10^{-13}$ of the one at the last step, at 10 of the 11
# checkpoints. The first marker sits somewhere in steps 1 to 50, so the network never
# received a usable signal about it, and it could not learn to remember it. The one
# exception is the last checkpoint (step 1,000): there the ratio is 0.5, because training
# had just pushed the spectral radius of $W_{hh}$ to 1.04, to the edge between vanishing
# and exploding. The test loss did not improve there; the network had no stable way of
# holding a value.
#
# The IRNN's map is bright everywhere: at every checkpoint at least a tenth of the signal
# reaches step 1. This is the whole story of the chapter in two pictures: the network that
# learns is the network whose gradient reaches back.
#
# Chapter 5 measures the same map for an LSTM with the same `model_grad_norms`.

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
# The sigmoid never outputs 0 or 1: $\sigma(a) \in (0, 1)$ for every finite $a$. How close
# it gets depends on the pre-activations. If they are Gaussian with standard deviation $s$,
# the fraction of gate values between 0.1 and 0.9 is
# $P(|a| < \ln 9) = \operatorname{erf}\!\big(\ln 9 / (s\sqrt 2)\big)$, since
# $\sigma(\ln 9) = 0.9$:

# %%
print(f"0.97**100 = {0.97**100:.3f}   0.95**100 = {0.95**100:.4f}")
seed_everything(8)
for s in (0.5, 1, 2, 4, 8):
    exact = math.erf(math.log(9) / (s * math.sqrt(2)))
    sampled = torch.sigmoid(s * torch.randn(100_000))
    middle = ((sampled > 0.1) & (sampled < 0.9)).float().mean().item()
    print(f"pre-activations ~ N(0, {s}^2): fraction of sigmoid values in (0.1, 0.9) "
          f"{exact:.3f} (sampled {middle:.3f})")
    assert abs(middle - exact) < 0.01

# %% [markdown]
# Only when the pre-activations have a standard deviation of several units of $a$ do the
# gates become mostly "binary". What do real gates look like? We train a small LSTM character model (64 units)
# for 400 steps on the Python-source corpus shipped with the package, and an LSTM of 32
# units for 600 steps on the adding problem with $T = 30$, then collect every gate value,
# over 64 windows of 100 characters and over 256 fresh adding sequences, with
# `rnnbook.gradients.lstm_gates`. (The LSTM itself is built in chapter 5; here we only read
# its gates: input $i$, forget $f$, output $o$.)

# %%
text = load_text()
vocab = CharVocab(text)
ids = vocab.encode(text)
seed_everything(9)
lm = CharLM(len(vocab), hidden_size=64, kind="lstm")
lm_history = fit(lm, char_batches(ids, 32, 64, generator=generator(9)),
                 lm_loss, steps=400, lr=1e-2, clip_norm=1.0, desc="char LSTM")
x_chars, _ = char_batches(ids, 64, 100, generator=generator(10))()

seed_everything(11)
adder = SequenceModel("lstm", 2, 32, 1, squeeze=True)
add_gen = generator(11)
add_history = fit(adder, lambda: adding_problem(
                      64, 30, seed=int(torch.randint(2**31, (1,), generator=add_gen))),
                  nn.MSELoss(), steps=600, lr=1e-2, clip_norm=1.0, desc="adding LSTM")
x_add, y_add = adding_problem(256, 30, seed=12)
with torch.no_grad():
    add_mse = nn.functional.mse_loss(adder(x_add), y_add).item()
print(f"char LSTM: mean training loss of the last 50 steps {np.mean(lm_history.loss[-50:]):.3f} "
      f"nats/char;  adding LSTM (T = 30): test MSE {add_mse:.4f}")

# Every gate value, as the models compute them (float32), and recomputed in float64.
lm64, adder64 = copy.deepcopy(lm).to(F64), copy.deepcopy(adder).to(F64)
with torch.no_grad():
    gates = {"char LSTM": gate_trace(lm.rnn, lm.embed(x_chars)),
             "adding LSTM": gate_trace(adder.rnn, x_add)}
    gates64 = {"char LSTM": gate_trace(lm64.rnn, lm64.embed(x_chars)),
               "adding LSTM": gate_trace(adder64.rnn, x_add.to(F64))}


a32 = torch.linspace(10, 20, 100_001)                  # float32
first_one = a32[torch.sigmoid(a32) == 1][0].item()
print(f"in float32, sigmoid(a) rounds to exactly 1 from a = {first_one:.2f} on")
assert 16 < first_one < 17


def hard(g: torch.Tensor) -> float:
    """The fraction of values that are exactly 0 or exactly 1."""
    return ((g == 0) | (g == 1)).float().mean().item()


stats = {}
for model_name in gates:
    for k in "ifo":
        g, g64 = gates[model_name][k], gates64[model_name][k]
        stats[model_name, k] = {"middle": ((g64 > 0.1) & (g64 < 0.9)).float().mean().item(),
                                "high": (g64 >= 0.9).float().mean().item(),
                                "hard32": hard(g), "hard64": hard(g64), "n": g.numel()}
        d = stats[model_name, k]
        print(f"{model_name:11s} gate {k}: {d['middle']:6.1%} in (0.1, 0.9), {d['high']:6.1%} "
              f"at 0.9 or above;  exactly 0 or 1: {d['hard64']:.0%} in float64, "
              f"{d['hard32']:.2%} in float32 (of {d['n']:,} values)")

# %%
fig, axes = plt.subplots(2, 3, figsize=(12, 5), sharex=True)
for row, model_name in enumerate(gates):
    for ax, k, title in zip(axes[row], "ifo", ("input gate i", "forget gate f", "output gate o"),
                            strict=True):
        values = gates64[model_name][k].flatten().numpy()
        ax.hist(values, bins=50, range=(0, 1), weights=np.full(values.size, 1 / values.size))
        ax.axvspan(0.1, 0.9, color="0.92", zorder=0)
        ax.set_title(f"{model_name}: {title}", fontsize=10)
    axes[row, 0].set_ylabel("fraction of values")
for ax in axes[1]:
    ax.set_xlabel("gate value (grey: between 0.1 and 0.9)")
plt.show()

assert all(d["hard64"] == 0 and d["hard32"] < 0.002 for d in stats.values())
assert min(stats["char LSTM", k]["middle"] for k in "ifo") > 0.10
assert min(stats["adding LSTM", k]["middle"] for k in "ifo") > 0.90
assert add_mse < 0.1 * ADDING_BASELINE_MSE

# %% [markdown]
# The evidence:
#
# - **Mathematically, no gate value is 0 or 1**: recomputed in float64, not one of the
#   more than 1.9 million values is. In float32, the format the models run in, a sigmoid
#   rounds to exactly 1 once its pre-activation exceeds about 16.6 (printed above); that
#   happened to 0.09% of the character model's input-gate values and 0.11% of its
#   output-gate values, and to none of its forget-gate values. (There, and only there, the gate's derivative is
#   exactly 0 too: a rounding artefact, not the rule.)
# - In the adding-problem LSTM (which solved its task, test MSE 0.0016), 96.5% to 97% of the
#   values of every gate lie between 0.1 and 0.9: these gates are dimmers, not switches.
# - The character model's gates are more polarised. Many values sit above 0.9 (81% for the
#   input gate), and there is a fair kernel of truth in the switch picture: a trained gate
#   often *leans* towards open or closed. Yet 14% to 23% of each gate's values lie in the
#   middle, and "above 0.9" is not 1: a forget gate of 0.95 held for 100 steps keeps
#   $0.95^{100} \approx 0.6\%$ of the memory.
#
# Gates are continuous because they must be differentiable: the network learns *how much*
# to keep through $\sigma'(a) = \sigma(a)(1 - \sigma(a))$, which would be zero for a true
# switch. How much to keep, and what that does to the gradient through the cell state, is
# where chapter 5 begins.
#
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
#   the bound $\sigma_{\max}^t$, and the decay was exponential. Exploding **requires**
#   $\sigma_{\max} > 1/\gamma$, but that is not sufficient: $\sigma_{\max} = 1.5$ still
#   vanished, $\sigma_{\max} = 6$ exploded with weak inputs and vanished with strong ones
#   (saturation), and a non-normal matrix with $\sigma_{\max} = 4.06$ contracted like
#   $0.5^t$. For long products the spectral radius decides, and in our sweep the gradient
#   after 100 steps crossed 1 near $\rho(W_{hh}) = 1$.
# - Saturated units ($|a| > 1.8$ for tanh) pass on less than a tenth of their gradient.
# - Clipping by norm rescales the gradient and keeps its direction (cosine 1); clipping by
#   value changes the direction. On Pascanu's cliff, an unclipped step of length 7.1 threw
#   the parameters onto a plateau (loss 0.09, gradient ~0) for good; with the norm clipped
#   at 0.1, the run stayed next to the cliff at low loss.
# - Initialisation matters: after 100 steps at initialisation, the gradient was
#   $10^{-20}$ with PyTorch's default, $2 \times 10^{-2}$ with an orthogonal $W_{hh}$, and
#   exactly 1 with the IRNN's identity and ReLU.
# - On the adding problem the tanh RNN learned $T = 10$ (test MSE 0.11 of the baseline)
#   but stayed at the baseline 1/6 for $T = 100$; its gradient at step 1 was below
#   $10^{-12}$ of the last step's at 10 of 11 checkpoints. The IRNN solved both (under 2% of
#   the baseline), with an exploding raw gradient (up to $10^{10}$) that clipping kept in
#   check; without clipping it ended worse than the baseline.
# - Sigmoid gates are never exactly 0 or 1 (in float32, about 0.1% of values round to 1). In
#   a trained LSTM, 96.5–97% of gate values lay in $(0.1, 0.9)$ on one task and 14–23% on
#   another; "nearly 1" compounds to very little over long spans.
#
# The plain RNN has to route memory and gradient through the same squashing matrix
# product. The LSTM (chapter 5) and GRU (chapter 6) add a path along which the state is
# copied, scaled only by a gate, and that is why they solve the adding problem where the
# tanh RNN cannot.
#
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
# = 0.975$ and the product is bounded by $0.975^t$. The code below checks it for 20 random
# input sequences. The bound is often far from tight: a sigmoid unit reaches its largest
# slope only at $\sigma = 1/2$, and its output is never negative, so the states cannot
# stay near the point of largest slope.
#
# </details>

# %%
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
for _ in range(20):
    norms = jacobian_norms(sig_cell, torch.randn(60, 2, dtype=F64), torch.rand(32, dtype=F64))
    worst = max(worst, (norms / (3.9 / 4) ** torch.arange(1, 61, dtype=F64)).max().item())
print(f"largest ||dh_t/dh_0|| / (3.9/4)^t over 20 sequences: {worst:.2e}")
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

# %%
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

# %%
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

# %%
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
# $T = 100$ IRNN of section 8 over 256 test sequences and measure: the fraction of hidden
# values that are exactly 0; how many of the 64 units are never active; and, per sequence,
# how many units stay active at all 100 steps. What do you conclude about how it solves the
# task?
#
# <details><summary>Solution</summary>
#
# Most of the network is switched off: about 95% of hidden values are exactly 0, and 41 of
# the 64 units never fire on these sequences. On average about one unit per sequence is
# active at every step. The IRNN solves the adding problem with a handful of units used as
# accumulators, the role its identity initialisation prepared them for: an active unit with
# a self-connection near 1 adds its input and keeps the sum, and passes gradient back with a
# factor near 1. The rest died during training, a known risk of ReLU networks, and carry
# neither information nor gradient.
#
# </details>

# %%
irnn_100 = results[("irnn", 100)][0]
x_dead, _ = adding_problem(256, 100, seed=12)
with torch.no_grad():
    states, _ = irnn_100.rnn(x_dead)                     # (256, 100, 64)
zero_fraction = (states == 0).float().mean().item()
never_active = int((~(states > 0).any(dim=1).any(dim=0)).sum())
always_active = (states > 0).all(dim=1).sum(dim=1).float()
print(f"hidden values exactly 0: {zero_fraction:.1%};  units never active: {never_active} "
      f"of 64;  units active at all 100 steps, per sequence: mean {always_active.mean():.2f}")
assert zero_fraction > 0.5 and never_active > 16

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
# # Sequences
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/rnnbook/rnnbook/blob/main/chapters/01_sequences.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/rnnbook/rnnbook/main?labpath=chapters%2F01_sequences.ipynb)
#
# Before we build a single recurrent network, we need to know what problem it solves and
# what it has to beat. This chapter treats sequences with the simplest tools there are:
# copying the last value, and a weighted sum of the last few values fitted by least squares.
# On real data these simple tools are remarkably strong, and a neural network that cannot beat
# them has learned nothing worth its cost.
#
# **What you will learn**
#
# - what makes data *sequential*, and how to measure that order carries information;
# - autoregression: predicting a value from the values before it;
# - how to cut a series into lag windows, and split it in time rather than at random;
# - two baselines that need no learning, persistence and seasonal naive, and a linear
#   autoregressive model fitted by least squares, compared on 44 years of real CO$_2$ data;
# - why inputs are scaled, why the scaler is fitted on the training split only, and what
#   leaks from the future when it is not;
# - what a fixed window cannot do, which is where recurrent networks come in.

# %%
# On Colab, install the book's package first. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "rnnbook @ git+https://github.com/rnnbook/rnnbook"], check=True)

# %% [markdown]
# ## Sequential data
#
# Most data that matters arrives in order. A sentence is a sequence of words, or of
# characters; a recording is a sequence of air-pressure samples, 16,000 of them per second
# for speech; a sensor, a price or a patient's heart rate gives a *time series*, one
# measurement per tick of a clock. What sets these apart from a table of independent rows is
# that the position of an item is part of its meaning: "dog bites man" and "man bites dog"
# hold the same words.
#
# Three sequences will follow us through the book, and all of them are on your disk already
# (nothing in this book downloads anything):
#
# - **text**: the source code of fourteen modules of Python's standard library, shipped with
#   `rnnbook` (under the Python Software Foundation licence), a sequence of characters;
# - **monthly CO$_2$** at Mauna Loa, 1958–2001, in parts per million (ppm), from the data
#   sets that ship with `statsmodels` (BSD licence; the measurements of Keeling & Whorf are
#   in the public domain);
# - **yearly sunspot numbers**, 1700–2008, also from `statsmodels` (public domain, from
#   NOAA's National Geophysical Data Center).

# %% tags=["nbval-check-output"]
import matplotlib.pyplot as plt
import numpy as np
import torch
from statsmodels.tsa.stattools import acf

import rnnbook
from rnnbook.baselines import LinearAR, persistence, rmse, seasonal_naive

text = rnnbook.load_text()
co2 = rnnbook.load_co2()                 # a pandas Series indexed by month
sunspots = rnnbook.load_sunspots()       # a pandas Series indexed by year
print(f"text: {len(text):,} characters")
print(f"CO2: {len(co2)} months, {co2.index[0]:%Y-%m} to {co2.index[-1]:%Y-%m}, "
      f"{co2.min():.1f} to {co2.max():.1f} ppm")
print(f"sunspots: {len(sunspots)} years, {sunspots.index[0]} to {sunspots.index[-1]}")

# %%
snippet = text[text.index("def wrap("):][:40]
fig, axes = plt.subplots(3, 1, figsize=(9, 7.5))
axes[0].bar(range(len(snippet)), [ord(c) for c in snippet], color="C0")
axes[0].set_xticks(range(len(snippet)), [repr(c)[1:-1] for c in snippet], fontsize=8)
axes[0].set(ylabel="character code", title="text: a sequence of characters")
axes[1].plot(co2.index, co2.to_numpy(), lw=1)
axes[1].set(ylabel="CO$_2$ (ppm)", title="monthly CO$_2$ at Mauna Loa")
axes[2].plot(sunspots.index, sunspots.to_numpy(), lw=1, color="C2")
axes[2].set(ylabel="sunspot number", title="yearly sunspot numbers")
fig.tight_layout()
plt.show()

# %% [markdown]
# The CO$_2$ curve has three visible parts: a rising trend (fossil fuels), a yearly wave
# (northern-hemisphere plants breathe in during summer and out during winter), and a little
# noise. The sunspots rise and fall in cycles of roughly eleven years, with peaks of very
# different heights.
#
# ## Order carries information
#
# How much does the order matter? Here is a direct test. Predict each month's CO$_2$ by the
# month before, and measure the root mean squared error (RMSE). Then shuffle the months, which
# keeps exactly the same values, and do it again.
#
# How badly should the shuffled version do? After a shuffle, two neighbours are two months
# drawn at random from the whole series, and for two distinct values drawn at random from
# $n$ values with variance $\sigma^2$ the expected squared difference is
# $2\sigma^2 \cdot n/(n-1)$. So whichever way the shuffle falls, its RMSE should be near
# $\sqrt{2n/(n-1)}\,\sigma$, a number we can compute without shuffling at all.

# %%
rnnbook.seed_everything(0)
values = co2.to_numpy()
shuffled = np.random.permutation(values)
in_order = rmse(values[:-1], values[1:])
out_of_order = rmse(shuffled[:-1], shuffled[1:])
n_months = len(values)
expected = np.sqrt(2 * n_months / (n_months - 1)) * values.std()
print(f"predict each month by the previous one: RMSE {in_order:.4f} ppm in time order")
print(f"after shuffling: RMSE {out_of_order:.2f} ppm; expected for any shuffle: about "
      f"{expected:.2f} ppm")
assert abs(out_of_order / expected - 1) < 0.15     # seed shifts 0-9: within 7% of it
assert out_of_order > 15 * in_order                 # seed shifts 0-9: 19.6 to 21.7 times

# %% [markdown]
# In time order the previous month is within about 1.19 ppm of the next. Shuffled, it is off
# by about 24 ppm, twenty times worse: the exact figure depends on the shuffle (another seed
# gives another one, a few percent away), but every shuffle lands near the 24.21 ppm that
# the formula predicts. Nothing about the values changed, only their order: the information
# was in the order.
#
# A finer tool is the **autocorrelation** at lag $k$, the correlation of a series with itself
# shifted by $k$ steps:
#
# $$r_k = \frac{\sum_{t=1}^{T-k} (x_t - \mu)(x_{t+k} - \mu)}{\sum_{t=1}^{T} (x_t - \mu)^2},$$
#
# where $\mu$ is the mean of the series.
#
# On the CO$_2$ levels themselves the autocorrelation is high at every lag, because the
# trend dominates: a high month is followed by high months for years. The monthly *changes*
# $x_{t+1} - x_t$ remove the trend and show the season.

# %% tags=["nbval-check-output"]
r_levels = acf(values, nlags=36)
print(f"autocorrelation of the levels: lag 1 {r_levels[1]:.4f}, lag 36 {r_levels[36]:.4f}, "
      f"smallest {r_levels.min():.4f}")
assert r_levels.min() > 0.75

changes = np.diff(values)
r = acf(changes, nlags=36)
strongest = int(np.argmax(r[1:])) + 1
print(f"autocorrelation of monthly changes: lag 1 {r[1]:.3f}, lag 6 {r[6]:.3f}, "
      f"lag 12 {r[12]:.3f}; strongest at lag {strongest}")
assert strongest == 12 and r[12] > 0.8 and r[6] < -0.4

fig, ax = plt.subplots(figsize=(8, 3))
ax.bar(range(37), r, color=["C3" if k % 12 == 0 and k else "C0" for k in range(37)])
ax.axhline(0, color="k", lw=0.5)
ax.set(xlabel="lag $k$ (months)", ylabel="$r_k$",
       title="autocorrelation of the monthly CO$_2$ changes")
plt.show()

# %% [markdown]
# The levels correlate at 0.9926 with the month before and still at 0.8036 with the month
# three years before: that is the trend. The changes tell more. This month's change is
# strongly correlated with the change twelve months ago
# ($r_{12} = 0.922$) and anti-correlated with the change six months ago ($r_6 = -0.525$):
# the seasons repeat. Whatever model we build should be able to look back at least a year.
#
# ## Autoregression
#
# An **autoregressive** model predicts the next value of a series from the values before it:
#
# $$\hat x_{t+1} = f(x_t, x_{t-1}, \dots, x_{t-p+1}).$$
#
# The $p$ values it looks at are the **lags**, and the simplest $f$ is linear,
# the AR($p$) model
#
# $$\hat x_{t+1} = c + a_1 x_t + a_2 x_{t-1} + \dots + a_p x_{t-p+1}.$$
#
# Written this way, forecasting is ordinary supervised learning: the input is a window of
# $p$ consecutive values and the target is the value that follows. To predict $h$ steps
# ahead instead of one, the target becomes $x_{t+h}$: $h$ is the **horizon**.
#
# ## Lag windows
#
# `rnnbook.make_windows(series, lags, horizon)` slides a window along the series and returns
# the inputs `X` and targets `y`. On a series $0, 1, \dots, 9$ the pattern is easy to read:

# %% tags=["nbval-check-output"]
toy = np.arange(10)
X_toy, y_toy = rnnbook.make_windows(toy, lags=4, horizon=2)
for x_row, y_row in zip(X_toy, y_toy, strict=True):
    print(f"inputs {x_row.astype(int)}  ->  targets {y_row.astype(int)}")
assert X_toy.shape == (len(toy) - 4 - 2 + 1, 4) and y_toy.shape == (5, 2)
assert all((X_toy[i] == toy[i:i + 4]).all() and (y_toy[i] == toy[i + 4:i + 6]).all()
           for i in range(len(X_toy)))

# %% [markdown]
# A series of length $T$ gives $T - p - h + 1$ windows; the first $p$ values never appear as
# a target, because they have too little history. Each row of `y` holds all $h$ values after
# the window. When we forecast exactly $h$ steps ahead, we use its last column, `y[:, -1]`.
#
# ## Splitting in time
#
# To measure how well a model forecasts, we must test it on data it has not seen, and for a
# series that means **data from later**. A random split would put March 1990 in the test set
# and February and April 1990 in the training set, and a model could "forecast" March by
# interpolating between its neighbours: a skill it will never have on the real future
# (exercise 3 measures how much a random split flatters a model). So we split in time:
# the first 80% of the months train, the last 20% test. We also keep the last 20% of the
# training part as a **validation** split, to choose settings such as $p$ without touching
# the test data.

# %% tags=["nbval-check-output"]
train, test = rnnbook.split_series(values, train_fraction=0.8)
fit_part, validation = rnnbook.split_series(train, train_fraction=0.8)
cut, val_cut = len(train), len(fit_part)
dates = co2.index
print(f"fit {len(fit_part)} months ({dates[0]:%Y-%m} to {dates[val_cut - 1]:%Y-%m}), "
      f"validation {len(validation)} ({dates[val_cut]:%Y-%m} to {dates[cut - 1]:%Y-%m}), "
      f"test {len(test)} ({dates[cut]:%Y-%m} to {dates[-1]:%Y-%m})")
assert len(fit_part) + len(validation) + len(test) == len(values)
assert (train == values[:cut]).all() and (test == values[cut:]).all()

# %% [markdown]
# One more detail. The first test targets need inputs from before the test period: the
# forecast for April 1993 uses the months up to March 1993, which belong to the training
# split. That is fine, those values were known when the forecast was made. What must never
# happen is a *target* from the test period inside the training windows. The argument
# `targets_from` of `make_windows` keeps just the windows whose target lies at or after a
# given index, with inputs reaching back as far as they need:

# %%
X_check, y_check = rnnbook.make_windows(values, lags=18, horizon=3, targets_from=cut)
assert len(y_check) == len(test) and (y_check[:, -1] == test.astype(np.float32)).all()

# %%
lags = 18                                  # the window length we choose below
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [3, 2]})
ax = axes[0]
ax.plot(dates[:val_cut], fit_part, lw=1, label="fit")
ax.plot(dates[val_cut:cut], validation, lw=1, label="validation")
ax.plot(dates[cut:], test, lw=1, label="test")
ax.set(ylabel="CO$_2$ (ppm)", title="split in time, never at random")
ax.legend()
ax = axes[1]
ax.plot(dates[:42], values[:42], "k.-", lw=0.7, ms=3)
for start, color in [(0, "C0"), (20, "C1")]:
    span = slice(start, start + lags)
    ax.plot(dates[span], values[span], color=color, lw=4, alpha=0.5,
            label=f"window from {dates[start]:%Y-%m}")
    ax.plot(dates[start + lags], values[start + lags], "*", color=color, ms=14)
ax.set(title=f"two windows of {lags} lags and their targets (stars)")
ax.legend(fontsize=8, loc="upper left")
ax.tick_params(axis="x", labelrotation=30)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Two baselines that need no learning
#
# Before fitting anything, ask what a forecast costs that requires no thought at all.
#
# - **Persistence** (the *naive* forecast): tomorrow looks like today,
#   $\hat x_{t+h} = x_t$. For many series, from weather to stock prices, it is
#   embarrassingly hard to beat.
# - **Seasonal naive**: this month looks like the same month last year,
#   $\hat x_{t+h} = x_{t+h-12}$ for monthly data with a yearly season (for $h \le 12$).
#
# Both are in `rnnbook.baselines` and take the windows directly (Hyndman & Athanasopoulos,
# 2021, call them the naive and the seasonal naive method, and compare every forecaster in
# their book with them). On the test split, one month ahead:

# %% tags=["nbval-check-output"]
X_test, y_test = rnnbook.make_windows(values, lags, targets_from=cut)
target = y_test[:, 0]
persistence_rmse = rmse(persistence(X_test), target)
seasonal_rmse = rmse(seasonal_naive(X_test, season=12), target)
print(f"one month ahead on the test split: persistence RMSE {persistence_rmse:.4f} ppm, "
      f"seasonal naive {seasonal_rmse:.4f} ppm")
assert persistence_rmse < seasonal_rmse
yearly_rise = (test - values[cut - 12:-12]).mean()          # x_t - x_{t-12} over the test years
monthly_move = np.abs(test - values[cut - 1:-1]).mean()     # |x_t - x_{t-1}|
print(f"test years: CO2 rose by {yearly_rise:.4f} ppm a year on average; "
      f"it moved by {monthly_move:.4f} ppm a month on average")
assert yearly_rise > monthly_move

# %% [markdown]
# Persistence is off by 1.2685 ppm (RMSE), and seasonal naive by 1.7951 ppm. One month ahead,
# last month is the better guess: over the test years CO$_2$ rose by 1.6416 ppm a year, more
# than it moved in a typical month (1.1291 ppm, the seasonal wave plus noise). Seasonal naive
# is blind to the trend, persistence to the season: each baseline captures one of the two
# patterns and misses the other. A model that captures both should beat them.
#
# ## A linear autoregressive model, by least squares
#
# Stack the $N$ training windows as rows of a matrix, with a column of ones for the
# intercept $c$:
#
# $$A = \begin{pmatrix} 1 & x_{1} & \cdots & x_{p} \\ 1 & x_{2} & \cdots & x_{p+1} \\
# \vdots & & & \vdots \end{pmatrix}, \qquad
# \theta = \begin{pmatrix} c \\ a_p \\ \vdots \\ a_1 \end{pmatrix}, \qquad
# \hat y = A\theta .$$
#
# Least squares chooses the $\theta$ that minimises $\lVert A\theta - y \rVert^2$. Setting the
# gradient $2A^\top(A\theta - y)$ to zero gives the *normal equations*
#
# $$A^\top A\,\theta = A^\top y .$$
#
# In code we let `np.linalg.lstsq` solve them; it works with a singular value decomposition
# of $A$ instead of forming $A^\top A$, which would square the condition number. Note the order of the
# weights: a window runs from oldest to newest, so the *last* weight multiplies the most
# recent value $x_t$.

# %% tags=["nbval-check-output"]
X_fit, y_fit = rnnbook.make_windows(fit_part, lags)
A = np.column_stack([np.ones(len(X_fit)), X_fit]).astype(np.float64)
theta, *_ = np.linalg.lstsq(A, y_fit[:, 0].astype(np.float64), rcond=None)
intercept, weights = theta[0], theta[1:]

X_val, y_val = rnnbook.make_windows(train, lags, targets_from=val_cut)
by_hand = intercept + X_val.astype(np.float64) @ weights
packaged = LinearAR().fit(X_fit, y_fit[:, 0])
print(f"AR({lags}) on the validation split: RMSE {rmse(by_hand, y_val[:, 0]):.4f} ppm")
assert np.allclose(packaged.predict(X_val), by_hand, atol=1e-8)

# %% [markdown]
# `rnnbook.baselines.LinearAR` is the same model in packaged form (the assert checks it
# gives the same forecasts); it also fits several targets at once and can add a penalty, which
# we will need below. We used 18 lags; why 18? We *choose* $p$ on the validation split, by
# fitting each candidate on the fit part and scoring it on the validation part. The test
# split stays locked away.

# %% tags=["nbval-check-output"]
candidates = [1, 2, 3, 4, 6, 9, 12, 18, 24, 36]
validation_rmse = {}
for p in candidates:
    X_p, y_p = rnnbook.make_windows(fit_part, p)
    X_pv, y_pv = rnnbook.make_windows(train, p, targets_from=val_cut)
    validation_rmse[p] = rmse(LinearAR().fit(X_p, y_p[:, 0]).predict(X_pv), y_pv[:, 0])
best_p = min(validation_rmse, key=validation_rmse.get)
print("validation RMSE by number of lags:",
      ", ".join(f"{p}: {v:.4f}" for p, v in validation_rmse.items()))
print(f"best: p = {best_p}")
assert best_p == lags
assert validation_rmse[12] < 0.6 * validation_rmse[6]   # a full year of lags pays off

# %% [markdown]
# The error falls steeply as the window grows from 6 to 12 lags (from 0.7413 to 0.4364 ppm)
# and comes to span the whole seasonal cycle, is lowest at $p = 18$ (0.3511 ppm), and creeps
# back up with more lags, which add parameters faster than they add information. Now we
# refit AR(18) on the whole training split and open the test split, once.

# %% tags=["nbval-check-output"]
X_train, y_train = rnnbook.make_windows(train, lags)
ar = LinearAR().fit(X_train, y_train[:, 0])
ar_rmse = rmse(ar.predict(X_test), target)
print(f"one month ahead on the test split: AR({lags}) {ar_rmse:.4f} ppm, "
      f"persistence {persistence_rmse:.4f}, seasonal naive {seasonal_rmse:.4f}")
print(f"AR error / persistence error = {ar_rmse / persistence_rmse:.3f}")
print(f"sum of the weights {ar.weights.sum():.4f}, intercept {ar.intercept:.4f}")
by_lag = ar.weights[::-1]                 # by_lag[k - 1] multiplies the value k months back
print("weights on the values 1, 11, 12, 13 and 14 months back: "
      + ", ".join(f"{by_lag[k - 1]:.2f}" for k in (1, 11, 12, 13, 14)))
assert ar_rmse < 0.4 * persistence_rmse
assert abs(ar.weights.sum() - 1) < 0.01
assert np.argmax(by_lag) == 0 and round(by_lag[0], 2) == 0.77
assert min(by_lag[10], by_lag[11]) > 0.2 and max(by_lag[12], by_lag[13]) < -0.1

fig, ax = plt.subplots(figsize=(8, 3))
ax.bar(range(1, lags + 1), ar.weights[::-1])
ax.axhline(0, color="k", lw=0.5)
ax.set(xlabel="lag (months before the target)", ylabel="weight",
       title=f"the weights of AR({lags}), most recent month first")
ax.set_xticks(range(1, lags + 1))
plt.show()

# %% [markdown]
# The linear model cuts the persistence error by about three quarters, to 0.3296 ppm. Its
# weights are easy to read. The largest, 0.77, is on last month. Then come positive weights
# on the values 11 and 12 months before the target and negative ones on 13 and 14 months
# before: together they measure how fast CO$_2$ was changing at this time of year, one year
# ago. So the forecast is, roughly, "most of last month, plus last year's seasonal change".
# The weights sum to 1.0021, so the forecast follows the level of the series wherever it
# goes: the model learned the trend and the season from data, without being told about
# either.
#
# ## Forecasting further ahead
#
# For a horizon of $h$ months we fit one model per horizon, each on windows whose target is
# $h$ steps after the window (the *direct* strategy; exercise 4 compares it with feeding
# one-step forecasts back in). The baselines need no fitting: persistence keeps predicting
# the last value, seasonal naive the value twelve months before the target.

# %% tags=["nbval-check-output"]
horizons = range(1, 13)
errors = {"persistence": [], "seasonal naive": [], f"AR({lags})": []}
for h in horizons:
    X_h, y_h = rnnbook.make_windows(train, lags, horizon=h)
    model_h = LinearAR().fit(X_h, y_h[:, -1])
    X_ht, y_ht = rnnbook.make_windows(values, lags, horizon=h, targets_from=cut)
    errors["persistence"].append(rmse(persistence(X_ht), y_ht[:, -1]))
    errors["seasonal naive"].append(rmse(seasonal_naive(X_ht, 12, h), y_ht[:, -1]))
    errors[f"AR({lags})"].append(rmse(model_h.predict(X_ht), y_ht[:, -1]))
for name, errs in errors.items():
    print(f"{name:>15}: " + " ".join(f"{e:.2f}" for e in errs))

per, sea, arr = (np.array(e) for e in errors.values())
assert (arr < per).all() and (arr < sea).all()       # AR wins at every horizon
assert int(np.argmax(per)) + 1 == 6                  # persistence is worst half a year out
assert np.isclose(per[-1], sea[-1])                  # at h = 12 the two baselines coincide
assert np.allclose(sea, sea[0])                      # seasonal naive: same error every h

fig, ax = plt.subplots(figsize=(7, 3.5))
for (name, errs), marker in zip(errors.items(), "os^", strict=True):
    ax.plot(horizons, errs, marker=marker, label=name)
ax.set(xlabel="horizon $h$ (months ahead)", ylabel="test RMSE (ppm)",
       title="forecast error against horizon", xticks=list(horizons))
ax.legend()
plt.show()

# %% [markdown]
# The figure tells the story of the two baselines. Persistence gets worse as the season
# carries the series away from the last value, worst at $h = 6$ (4.23 ppm, half a cycle), then
# better again as the season comes round; at $h = 12$ it *is* the seasonal naive forecast.
# Seasonal naive makes the same error at every horizon in this range, because it always
# looks at a value exactly one year before the target: its error is a year's worth of trend.
# The linear AR model beats both at every horizon, and its error grows smoothly, from 0.33
# ppm one month ahead to 0.75 ppm a year ahead.
#
# Here is what those forecasts look like, on the last four years of the test split:

# %%
X_tr12, y_tr12 = rnnbook.make_windows(train, lags, horizon=12)
ar_12 = LinearAR().fit(X_tr12, y_tr12[:, -1])
X_12, _ = rnnbook.make_windows(values, lags, horizon=12, targets_from=cut)
last = slice(-48, None)
fig, ax = plt.subplots(figsize=(9, 3.8))
ax.plot(dates[cut:][last], target[last], "k.-", lw=1, label="observed")
ax.plot(dates[cut:][last], persistence(X_test)[last], lw=1, label="persistence, 1 month ahead")
ax.plot(dates[cut:][last], ar.predict(X_test)[last], lw=1.5, label=f"AR({lags}), 1 month ahead")
ax.plot(dates[cut:][last], ar_12.predict(X_12)[last], lw=1.5, ls="--",
        label=f"AR({lags}), 12 months ahead")
ax.set(ylabel="CO$_2$ (ppm)", title="forecasts on the end of the test split")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Persistence is the observed curve shifted one month to the right, always a step late. The
# one-month AR forecast lies almost on the data. Even a year ahead the AR forecast (dashed)
# follows the seasonal wave, with an RMSE of 0.75 ppm over the test split.
#
# ## Scaling, fitted on the training split only
#
# Least squares does not care about the units of its inputs. Neural networks do. A unit of a
# network computes something like $\tanh(w^\top x + b)$, with small random initial weights;
# feed it raw CO$_2$ values near 340 and the sum $w^\top x$ lands far from zero, where
# $\tanh$ is flat at $\pm 1$ and its derivative, which learning needs, is practically zero. Let us count
# how many of 100 freshly initialised tanh units are *saturated* ($|\tanh| > 0.99$) on our
# training windows, raw and after **standardising** them,
# $z = (x - \mu)/\sigma$, with the mean $\mu$ and standard deviation $\sigma$ of the training
# split.

# %%
rnnbook.seed_everything(0)
units = torch.nn.Linear(lags, 100)       # PyTorch's default initialisation
scaler = rnnbook.StandardScaler().fit(train)
with torch.no_grad():
    raw_pre = units(torch.as_tensor(X_train))                      # w^T x + b, raw ppm
    scaled_pre = units(torch.as_tensor(scaler.transform(X_train)))  # the same, standardised
raw, scaled = torch.tanh(raw_pre), torch.tanh(scaled_pre)
saturated_raw = (raw.abs() > 0.99).float().mean().item()
saturated_scaled = (scaled.abs() > 0.99).float().mean().item()
print(f"training mean {float(scaler.mean):.4f} ppm, standard deviation {float(scaler.std):.4f} ppm")
print(f"median |w^T x + b|: {raw_pre.abs().median():.1f} on raw ppm, "
      f"{scaled_pre.abs().median():.2f} on standardised values")
print(f"saturated tanh outputs: {saturated_raw:.1%} on raw ppm, "
      f"{saturated_scaled:.1%} on standardised values")
# seed shifts 0-9: raw medians 99 to 167 and 97.6% to 100% saturated; scaled below 0.2%
assert raw_pre.abs().median() > 30 and scaled_pre.abs().median() < 1
assert saturated_raw > 0.9 and saturated_scaled < 0.01

# %% [markdown]
# On raw values the typical pre-activation is around a hundred and almost all the outputs
# are saturated (more than 97% for every seed we tried); on standardised values it is below
# one and practically none are. The exact percentages depend on the random initial weights,
# the verdict does not. So
# recurrent networks get scaled inputs, and the question becomes: scaled with statistics
# from *which* data? The scaler is a model too. Its two parameters, $\mu$ and $\sigma$, are
# learned from data, and like any learned parameter they must be learned from the training
# split only. `rnnbook.StandardScaler` is fitted with `fit(train)` and then applied,
# unchanged, to everything.
#
# The honest scaler also tells us something true: in its units the test split starts where
# the training split ends and goes far beyond it.

# %% tags=["nbval-check-output"]
z_train, z_test = scaler.transform(train), scaler.transform(test)
print(f"standardised training split: {z_train.min():.2f} to {z_train.max():.2f}; "
      f"test split: {z_test.min():.2f} to {z_test.max():.2f}")
assert z_test.max() > z_train.max() + 1

# %% [markdown]
# The test values reach 3.12 standard deviations, more than one standard deviation past
# anything in training (2.02). A model will have to *extrapolate*, and it is good to know
# that before we trust its test score.
#
# ### What leaks when the scaler sees everything
#
# > **Common mistake.** Many forecasting tutorials scale the whole series first
# > (`scaler.fit_transform(series)`) and split it into training and test data afterwards,
# > on the grounds that "it is only a mean and a standard deviation". Those two numbers
# > carry the future. The mean of the whole series is a weighted average of the training
# > mean and the test mean,
# >
# > $$\mu_{\text{all}} = \frac{n_{\text{train}}\,\mu_{\text{train}} + n_{\text{test}}\,\mu_{\text{test}}}{n_{\text{train}} + n_{\text{test}}},$$
# >
# > so anyone who holds the training data and the leaky scaler can solve for the average
# > level of the test period. The next cell does exactly that. (Kaufman et al. (2012)
# > describe such leaks in general, and how to detect and avoid them.)

# %% tags=["nbval-check-output"]
leaky = rnnbook.StandardScaler().fit(values)
n, n_train = len(values), len(train)
recovered = (n * float(leaky.mean) - n_train * train.mean()) / (n - n_train)
print(f"leaky scaler: mean {float(leaky.mean):.4f} ppm, standard deviation {float(leaky.std):.4f} ppm")
print(f"test-period mean recovered from it: {recovered:.4f} ppm; "
      f"true test mean: {test.mean():.4f} ppm")
assert abs(recovered - test.mean()) < 1e-3          # to within a thousandth of a ppm

# %% [markdown]
# The leaky scaler hands over the mean CO$_2$ of 1993–2001, 364.42 ppm, to within a
# thousandth of a ppm: the only error is rounding (exercise 5 recovers the test period's
# standard deviation too). Any
# forecaster of those years would love to know that number in advance, and a pipeline with
# a leaky scaler gets it for free.
#
# Does the leak change the fitted model? A clean way to find out is a *counterfactual
# future*: change the test years (say the world had emitted more, and every test month is
# 10 ppm higher), rerun the whole pipeline (scale, cut windows from the *training* years,
# fit), and compare the fitted models. An honest pipeline cannot notice: not one test value
# enters it. For the model we use a linear AR with a small **ridge** penalty
# $\lambda \lVert a \rVert^2$ on its weights, which, like a neural network trained from small
# initial weights or with weight decay, prefers small weights and so depends on the scale of
# its inputs.

# %% tags=["nbval-check-output"]
def fit_pipeline(series, scaler_data, ridge):
    """Scale with statistics of `scaler_data`, fit AR on the training years, return
    the model, the scaler and the in-sample forecasts in ppm."""
    sc = rnnbook.StandardScaler().fit(scaler_data)
    z = sc.transform(series)
    X, y = rnnbook.make_windows(z[:cut], lags)
    model = LinearAR(ridge=ridge).fit(X, y[:, 0])
    return model, sc, model.predict(X) * sc.std + sc.mean


future = values.copy()
future[cut:] += 10.0                      # a different future, same past
ridge = 1.0
honest_a, _, honest_fc_a = fit_pipeline(values, values[:cut], ridge)
honest_b, _, honest_fc_b = fit_pipeline(future, future[:cut], ridge)
leaky_a, leaky_sc_a, leaky_fc_a = fit_pipeline(values, values, ridge)
leaky_b, _, leaky_fc_b = fit_pipeline(future, future, ridge)
honest_shift = np.abs(honest_fc_a - honest_fc_b).max()
leaky_shift = np.abs(leaky_fc_a - leaky_fc_b).max()
print(f"largest change of the in-sample forecasts (training years) when the future changes: "
      f"honest {honest_shift:.4f} ppm, leaky {leaky_shift:.4f} ppm")
assert np.array_equal(honest_a.weights, honest_b.weights) and honest_shift == 0
assert leaky_shift > 0.05

# %% [markdown]
# The honest model is bit-for-bit identical in both worlds, as it must be. The leaky model is
# not: changing only the future moved its forecasts of the *past* by up to 0.1210 ppm,
# although no test value was ever in its training windows. The future reached it through the
# scaler. And its test score changes with it:

# %% tags=["nbval-check-output"]
X_test_honest = rnnbook.make_windows(scaler.transform(values), lags, targets_from=cut)[0]
X_test_leaky = rnnbook.make_windows(leaky_sc_a.transform(values), lags, targets_from=cut)[0]
honest_test = rmse(honest_a.predict(X_test_honest) * scaler.std + scaler.mean, target)
leaky_test = rmse(leaky_a.predict(X_test_leaky) * leaky_sc_a.std + leaky_sc_a.mean, target)
print(f"ridge AR({lags}) test RMSE: honest scaler {honest_test:.4f} ppm, "
      f"leaky scaler {leaky_test:.4f} ppm")
assert leaky_test > honest_test + 0.02              # here the leak makes the score worse

# the model that has learned nothing: 0 in scaled units, the scaler's mean in ppm
no_skill_honest = rmse(np.full_like(target, float(scaler.mean)), target)
no_skill_leaky = rmse(np.full_like(target, float(leaky.mean)), target)
print(f"always predicting the scaler's mean: honest {no_skill_honest:.4f} ppm, "
      f"leaky {no_skill_leaky:.4f} ppm")
assert no_skill_leaky < no_skill_honest - 5

# %% [markdown]
# For the ridge model the leak happens to make the test score *worse* (0.4843 against 0.4349
# ppm): with the scaler's standard deviation inflated by the future, the same penalty shrinks
# the weights differently. For other models it flatters the score, which is the dangerous
# case, since nobody double-checks good news. The second line shows the extreme: a model that
# has learned nothing and outputs 0 in scaled units, which is what a network with zero output
# weights does, forecasts the scaler's mean. With the honest scaler it is off by 31.3666 ppm;
# with the leaky one by only 25.2740, because that "mean" already contains the future. Either
# way, a test score computed after a leak measures a mixture of the model and the test data,
# not how the model would do on a future it has not seen.
#
# One honest caveat. *Plain* least squares with an intercept is immune: scaling is an affine
# map, and the weights and intercept absorb any affine map exactly, so both scalers give the
# same forecasts in ppm.

# %% tags=["nbval-check-output"]
plain = {}
for name, sc in [("honest", scaler), ("leaky", leaky)]:
    z = sc.transform(values)
    X, y = rnnbook.make_windows(z[:cut], lags)
    model = LinearAR().fit(X, y[:, 0])
    plain[name] = model.predict(rnnbook.make_windows(z, lags, targets_from=cut)[0]) * sc.std + sc.mean
gap = np.abs(plain["honest"] - plain["leaky"]).max()
print(f"plain least squares: the two scalers' forecasts differ by "
      f"{'less than 1e-3' if gap < 1e-3 else f'{gap:.1e}'} ppm "
      f"(rounding: the windows are float32); test RMSE {rmse(plain['honest'], target):.4f} ppm")
assert gap < 1e-3 and np.isclose(rmse(plain["honest"], target), ar_rmse, atol=1e-3)

# %% [markdown]
# Neural networks are not immune: their initial weights, their saturating units, their
# learning rates and any weight decay all depend on the scale of the inputs. So the rule of
# the book is simple and has no exceptions: **split first, then fit every statistic,
# scalers included, on the training split only.**
#
# ## What a window cannot do
#
# The AR model is strong on CO$_2$ because everything it needs, last month and the same
# months last year, lies within its 18-month window. A window is also its limitation:
#
# - it sees exactly $p$ values and nothing older. An event 19 months back is invisible to
#   AR(18), however important it is;
# - to look further back you need a bigger window, one more parameter per lag for a linear
#   model (and many more for a network), and the first $p$ values of every series are lost
#   as targets;
# - the window has a fixed length, while sentences, recordings and patient histories do not.
#
# A **recurrent** network (Elman, 1990) replaces the window by a *state*: a vector it updates at every
# step from the new input and the previous state, with the same weights at every step. The
# state can, in principle, carry information from arbitrarily far back, with a number of
# parameters that does not grow with the sequence length. Chapter 02 builds it. Whether it
# *does* carry information far back is another story, told in chapters 04 to 06. And when
# the book's networks forecast CO$_2$ in chapter 09, the numbers of this chapter, 1.27 ppm
# for persistence and 0.33 ppm for AR(18) one month ahead, are the bar they have to clear.
#
# ## Summary
#
# - Sequential data carries information in its order: predicting each CO$_2$ month by the one
#   before is twenty times more accurate in time order than shuffled, and the monthly changes
#   correlate at 0.92 with those a year earlier.
# - Autoregression turns forecasting into supervised learning on **lag windows**
#   (`rnnbook.make_windows`). Split series **in time**, never at random, and choose settings
#   like the number of lags on a validation split carved from the training data.
# - **Persistence** and **seasonal naive** forecasts need no learning and are the first bar
#   to clear. A **linear AR model** fitted by least squares (the normal equations
#   $A^\top A\theta = A^\top y$) cut the persistence error on CO$_2$ by three quarters one month
#   ahead, and beat both baselines at every horizon up to a year.
# - Neural networks need **scaled** inputs (on raw CO$_2$ almost every fresh tanh unit
#   saturates; on standardised values practically none does).
#   Fit the scaler on the training split only: a scaler fitted on everything hands over the
#   mean of the test period and makes the fitted model depend on the future.
# - A window sees a fixed number of past values. A recurrent network replaces it with a state
#   that is updated step by step: the subject of the next chapter.
#
# ## Exercises
#
# 1. **Sunspots.** Repeat the comparison of persistence and a linear AR model one year ahead
#    on the sunspot numbers: split 80/20 in time, choose $p$ from 1 to 12 on a validation
#    split, then score both on the test split.
# 2. **The sunspot cycle from two numbers.** Fit AR(2) on the training sunspot years. The
#    forecast recursion $x_t = c + a_1 x_{t-1} + a_2 x_{t-2}$ oscillates when the roots of
#    $z^2 - a_1 z - a_2$ are complex, with a period of $2\pi / |\arg z|$ steps. What period do
#    the fitted weights imply?
# 3. **A random split flatters.** Build all CO$_2$ windows with 18 lags and split them
#    *randomly* 80/20 instead of in time. Score a one-nearest-neighbour forecaster (predict
#    the target of the most similar training window) and the linear AR model under both
#    splits. Which model does the random split flatter, and why?
# 4. **Recursive or direct?** Instead of one model per horizon, forecast $h$ months ahead by
#    applying the one-month AR(18) model $h$ times, feeding each forecast back into the
#    window. Compare with the direct models at $h = 3, 6, 12$.
# 5. **The leak goes further.** Recover the standard deviation of the test period from the
#    leaky scaler and the training data alone.

# %% [markdown]
# <details>
# <summary>Solution 1</summary>
#
# The validation split is carved from the training years as before. AR wins clearly one
# year ahead, with about 59% of the persistence error: the sunspot cycle is regular enough
# for a linear model to follow.
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
spots = sunspots.to_numpy()
s_train, s_test = rnnbook.split_series(spots, 0.8)
s_fit, _ = rnnbook.split_series(s_train, 0.8)
s_val_scores = {}
for p in range(1, 13):
    X_p, y_p = rnnbook.make_windows(s_fit, p)
    X_pv, y_pv = rnnbook.make_windows(s_train, p, targets_from=len(s_fit))
    s_val_scores[p] = rmse(LinearAR().fit(X_p, y_p[:, 0]).predict(X_pv), y_pv[:, 0])
s_p = min(s_val_scores, key=s_val_scores.get)
X_s, y_s = rnnbook.make_windows(s_train, s_p)
X_st, y_st = rnnbook.make_windows(spots, s_p, targets_from=len(s_train))
s_ar = rmse(LinearAR().fit(X_s, y_s[:, 0]).predict(X_st), y_st[:, 0])
s_persist = rmse(persistence(X_st), y_st[:, 0])
print(f"sunspots, chosen p = {s_p}: AR RMSE {s_ar:.2f}, persistence {s_persist:.2f} "
      f"(ratio {s_ar / s_persist:.2f})")
assert s_ar < 0.7 * s_persist

# %% [markdown]
# <details>
# <summary>Solution 2</summary>
#
# The roots are a complex pair, so the fitted recursion oscillates, and the period it implies
# is about ten and a half years, close to the famous eleven-year solar cycle. Two numbers
# fitted by least squares found it, as Yule (1927) found when he invented autoregressive
# models for exactly these data.
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
X2, y2 = rnnbook.make_windows(s_train, 2)
ar2 = LinearAR().fit(X2, y2[:, 0])
a2, a1 = ar2.weights                      # oldest lag first: a2 multiplies x_{t-2}
roots = np.roots([1.0, -a1, -a2])
period = 2 * np.pi / abs(np.angle(roots[0]))
print(f"a1 = {a1:.4f}, a2 = {a2:.4f}, roots {np.round(roots, 4)}, period {period:.2f} years")
assert np.iscomplex(roots).all() and 9 < period < 12

# %% [markdown]
# <details>
# <summary>Solution 3</summary>
#
# The random split flatters the nearest-neighbour forecaster enormously: every test window
# has a training window one month to either side, and its target is almost the same number.
# In time order it cannot extrapolate above the highest level it has seen, and its error is
# about eight times larger (between 7.8 and 8.6 times over ten random splits; the split in
# time has no randomness). The linear AR model is hardly affected, because it extrapolates the
# trend instead of looking values up. So a random split does not merely add noise to the
# score, it rewards the models that are worst at the real task. (That the linear AR model
# survives a random split is no accident: Bergmeir, Hyndman & Koo (2018) show that for a
# purely autoregressive model with uncorrelated errors, randomly split cross-validation is
# valid. For a model that can memorise neighbours it is not.)
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
rnnbook.seed_everything(0)
X_all, y_all = rnnbook.make_windows(values, lags)
y_all = y_all[:, 0]
order = np.random.permutation(len(X_all))
random_train, random_test = order[: int(0.8 * len(X_all))], order[int(0.8 * len(X_all)):]
in_time = np.arange(len(X_all)) + lags >= cut          # target index at or after the cut
time_train, time_test = np.flatnonzero(~in_time), np.flatnonzero(in_time)


def nearest_neighbour(X_tr, y_tr, X_te):
    distances = ((X_te[:, None, :] - X_tr[None, :, :]) ** 2).sum(-1)
    return y_tr[distances.argmin(axis=1)]


split_scores = {}
for split, (tr, te) in {"random": (random_train, random_test),
                        "in time": (time_train, time_test)}.items():
    nn_score = rmse(nearest_neighbour(X_all[tr], y_all[tr], X_all[te]), y_all[te])
    ar_score = rmse(LinearAR().fit(X_all[tr], y_all[tr]).predict(X_all[te]), y_all[te])
    split_scores[split] = (nn_score, ar_score)
    print(f"{split:>8} split: 1-nearest-neighbour RMSE {nn_score:.4f}, AR({lags}) {ar_score:.4f}")
assert split_scores["in time"][0] > 5 * split_scores["random"][0]
assert abs(split_scores["in time"][1] - split_scores["random"][1]) < 0.1

# %% [markdown]
# <details>
# <summary>Solution 4</summary>
#
# Feed each one-step forecast back in as if it were an observation, and repeat. The direct
# models are slightly better at every horizon tested here, since each is trained for exactly
# the horizon it is scored on, while the recursive forecast compounds the one-step model's
# errors. The recursive strategy needs only one model, though, and can forecast any horizon.
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
one_step = LinearAR().fit(X_train, y_train[:, 0])
for h in (3, 6, 12):
    X_h, y_h = rnnbook.make_windows(values, lags, horizon=h, targets_from=cut)
    window = X_h.astype(np.float64)
    for _ in range(h):
        forecast = one_step.predict(window)
        window = np.column_stack([window[:, 1:], forecast])
    recursive = rmse(forecast, y_h[:, -1])
    direct = errors[f"AR({lags})"][h - 1]
    print(f"h = {h:2d}: recursive RMSE {recursive:.4f}, direct {direct:.4f}")
    assert direct < recursive < 1.2 * direct

# %% [markdown]
# <details>
# <summary>Solution 5</summary>
#
# The variance of the whole series splits into the variance within each part plus the
# spread of the part means around the overall mean:
#
# $$n\,\sigma_{\text{all}}^2 = n_{\text{train}}\big(\sigma_{\text{train}}^2 +
# (\mu_{\text{train}} - \mu_{\text{all}})^2\big) + n_{\text{test}}\big(\sigma_{\text{test}}^2 +
# (\mu_{\text{test}} - \mu_{\text{all}})^2\big).$$
#
# Everything in it is known except $\sigma_{\text{test}}$, once $\mu_{\text{test}}$ has been
# recovered as above.
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
mu_all, var_all = float(leaky.mean), float(leaky.std) ** 2
train_part = n_train * (train.var() + (train.mean() - mu_all) ** 2)
test_var = (n * var_all - train_part) / (n - n_train) - (recovered - mu_all) ** 2
print(f"test-period standard deviation recovered: {np.sqrt(test_var):.4f} ppm; "
      f"true: {test.std():.4f} ppm")
assert abs(np.sqrt(test_var) - test.std()) < 0.01

# %% [markdown]
# ## References
#
# - Yule, G. U. (1927). On a method of investigating periodicities in disturbed series, with
#   special reference to Wolfer's sunspot numbers. *Philosophical Transactions of the Royal
#   Society of London, Series A*, 226, 267–298.
# - Box, G. E. P., Jenkins, G. M., Reinsel, G. C., & Ljung, G. M. (2015). *Time Series
#   Analysis: Forecasting and Control* (5th ed.). Wiley.
# - Hyndman, R. J., & Athanasopoulos, G. (2021). *Forecasting: Principles and Practice*
#   (3rd ed.). OTexts. https://otexts.com/fpp3/
# - Bergmeir, C., Hyndman, R. J., & Koo, B. (2018). A note on the validity of
#   cross-validation for evaluating autoregressive time series prediction. *Computational
#   Statistics & Data Analysis*, 120, 70–83.
# - Kaufman, S., Rosset, S., Perlich, C., & Stitelman, O. (2012). Leakage in data mining:
#   formulation, detection, and avoidance. *ACM Transactions on Knowledge Discovery from
#   Data*, 6(4), article 15.
# - Keeling, C. D., & Whorf, T. P. (2004). Atmospheric CO$_2$ concentrations derived from
#   flask air samples at sites in the SIO network. In *Trends: A Compendium of Data on
#   Global Change*. Carbon Dioxide Information Analysis Center, Oak Ridge National
#   Laboratory. (The CO$_2$ data set of `statsmodels`.)
# - Seabold, S., & Perktold, J. (2010). Statsmodels: econometric and statistical modeling
#   with Python. In *Proceedings of the 9th Python in Science Conference*, 92–96.
# - Elman, J. L. (1990). Finding structure in time. *Cognitive Science*, 14(2), 179–211.

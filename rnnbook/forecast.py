"""Forecast evaluation: where to forecast from, how to score it, how to go many steps ahead.

    origins = rolling_origins(len(y), first=120, horizon=12)    # 120, 121, ..., len(y) - 12
    X, Y = origin_windows(y, origins, lags=24, horizon=12)       # the past before each origin,
                                                                 # and the 12 values after it
    mase(forecasts, Y, train=y[:120], season=12)                 # 1.0 = the in-sample error of
                                                                 # the seasonal naive forecast
    smape(forecasts, Y)                                          # percent, from 0 to 200
    coverage(Y, lower, upper)                                    # fraction inside the interval
    recursive_forecast(one_step, X, horizon=12)                  # feed forecasts back in

A forecast *origin* t is the index of the first value forecast: the forecaster knows
y[:t] and predicts y[t], ..., y[t + horizon - 1]. Rolling-origin evaluation (Tashman 2000)
forecasts from many origins, not from one split, so that one lucky or unlucky stretch of
the series does not decide the verdict. Scores take arrays of any shape, typically
(origins, horizon), and `axis=0` gives one score per horizon.

For a network with a Gaussian head, `gaussian_nll` is the training loss and
`split_gaussian` and `gaussian_interval` turn its output into a forecast with intervals.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import torch
from torch import Tensor

from rnnbook.checks import check_float, check_int, to_numpy

__all__ = [
    "rolling_origins", "origin_windows", "mase", "smape", "coverage",
    "directional_accuracy", "recursive_forecast", "split_gaussian", "gaussian_nll",
    "gaussian_interval",
]


def rolling_origins(length: int, first: int, horizon: int, step: int = 1) -> np.ndarray:
    """The forecast origins first, first + step, ... whose `horizon` values after them all
    lie inside a series of `length` values (origin + horizon <= length)."""
    length = check_int("length", length)
    first = check_int("first", first)
    horizon = check_int("horizon", horizon)
    step = check_int("step", step)
    if first + horizon > length:
        raise ValueError(f"first={first} plus horizon={horizon} must be at most "
                         f"length={length}, so that one origin fits")
    return np.arange(first, length - horizon + 1, step)


def origin_windows(series, origins, lags: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """For each origin t: the `lags` values before it, series[t - lags : t], and the
    `horizon` values from it, series[t : t + horizon]. Returns X (k, lags) and
    Y (k, horizon), float64, with k the number of origins."""
    arr = to_numpy(series, "series", ndim=(1,))
    t = to_numpy(origins, "origins", ndim=(1,), dtype=None)
    lags = check_int("lags", lags)
    horizon = check_int("horizon", horizon)
    if t.dtype.kind not in "iu" or len(t) == 0:
        raise TypeError(f"origins must be a non-empty 1-D array of ints, got dtype {t.dtype}")
    if t.min() < lags or t.max() + horizon > len(arr):
        raise ValueError(f"origins must lie in [lags, len(series) - horizon] = "
                         f"[{lags}, {len(arr) - horizon}], got {t.min()} to {t.max()}")
    X = arr[t[:, None] - lags + np.arange(lags)]
    Y = arr[t[:, None] + np.arange(horizon)]
    return X, Y


def _pair(forecast, actual) -> tuple[np.ndarray, np.ndarray]:
    f = to_numpy(forecast, "forecast")
    a = to_numpy(actual, "actual")
    if f.shape != a.shape:
        raise ValueError(f"forecast and actual must have the same shape, "
                         f"got {f.shape} and {a.shape}")
    if f.size == 0:
        raise ValueError("forecast and actual are empty")
    return f, a


def _axis(axis, ndim: int):
    if axis is not None:
        check_int("axis", axis, minimum=-ndim, maximum=ndim - 1)
    return axis


def mase(forecast, actual, train, season: int = 1, axis: int | None = None):
    """Mean absolute scaled error (Hyndman & Koehler 2006).

    The mean absolute error of the forecasts, divided by the mean absolute error that the
    naive forecast y[t - season] makes on the training series. Below 1: better than that
    naive forecast did in-sample. It has no units, so it can be averaged across series.
    Returns a float, or an array of scores along the other axes if `axis` is given.
    """
    f, a = _pair(forecast, actual)
    season = check_int("season", season)
    history = to_numpy(train, "train", ndim=(1,))
    if len(history) <= season:
        raise ValueError(f"train must hold more than season={season} values, "
                         f"got {len(history)}")
    scale = np.abs(history[season:] - history[:-season]).mean()
    if scale == 0:
        raise ValueError("train is constant over every season: the MASE scale is 0")
    score = np.abs(a - f).mean(axis=_axis(axis, f.ndim)) / scale
    return float(score) if np.ndim(score) == 0 else score


def smape(forecast, actual, axis: int | None = None):
    """Symmetric mean absolute percentage error, in percent (as in the M3 and M4
    competitions): 200 * mean(|actual - forecast| / (|actual| + |forecast|)).

    It lies between 0 and 200; a pair where both are 0 counts as a perfect forecast.
    """
    f, a = _pair(forecast, actual)
    denominator = np.abs(a) + np.abs(f)
    ratio = np.divide(np.abs(a - f), denominator, out=np.zeros_like(f),
                      where=denominator > 0)
    score = 200 * ratio.mean(axis=_axis(axis, f.ndim))
    return float(score) if np.ndim(score) == 0 else score


def coverage(actual, lower, upper, axis: int | None = None):
    """The fraction of `actual` values inside their intervals [lower, upper], ends included.

    An 80% interval should cover about 80% of the values it is tested on.
    """
    a = to_numpy(actual, "actual")
    lo, hi = to_numpy(lower, "lower"), to_numpy(upper, "upper")
    if not a.shape == lo.shape == hi.shape:
        raise ValueError(f"actual, lower and upper must have the same shape, got "
                         f"{a.shape}, {lo.shape} and {hi.shape}")
    if a.size == 0:
        raise ValueError("actual is empty")
    if (lo > hi).any():
        raise ValueError("lower must be <= upper everywhere")
    inside = ((lo <= a) & (a <= hi)).astype(np.float64)
    score = inside.mean(axis=_axis(axis, a.ndim))
    return float(score) if np.ndim(score) == 0 else score


def directional_accuracy(forecast, actual, last) -> float:
    """How often the forecast moves the same way as the series did.

    Among the targets where the series moved (actual != last, with `last` the last value
    known at the origin), the fraction with sign(forecast - last) == sign(actual - last).
    A forecast that never moves (persistence) scores 0; a coin scores about 0.5.
    """
    f, a = _pair(forecast, actual)
    before = to_numpy(last, "last")
    if before.shape != a.shape:
        raise ValueError(f"last must have the shape of actual {a.shape}, got {before.shape}")
    moved = a != before
    if not moved.any():
        raise ValueError("the series never moved: directional accuracy is undefined")
    return float((np.sign(f - before) == np.sign(a - before))[moved].mean())


def recursive_forecast(one_step: Callable[[np.ndarray], np.ndarray], X,
                       horizon: int) -> np.ndarray:
    """Forecast `horizon` steps by applying a one-step forecaster again and again, each
    time sliding the window by one and putting the last forecast in as if observed.

    one_step maps windows (N, lags) to next values (N,). Returns (N, horizon).
    """
    if not callable(one_step):
        raise TypeError(f"one_step must be a function of the windows, got {one_step!r}")
    window = to_numpy(X, "X", ndim=(2,))
    horizon = check_int("horizon", horizon)
    out = np.empty((len(window), horizon))
    for h in range(horizon):
        step = to_numpy(one_step(window), "one_step(X)")
        if step.shape != (len(window),):
            raise ValueError(f"one_step must return shape ({len(window)},), "
                             f"got {step.shape}")
        out[:, h] = step
        window = np.column_stack([window[:, 1:], step])
    return out


def split_gaussian(output: Tensor) -> tuple[Tensor, Tensor]:
    """The mean and standard deviation held by a Gaussian head's output (..., 2k):
    k means, then k unconstrained scales, mapped to std = softplus(scale) + 1e-3 so that
    the standard deviation is positive and cannot collapse to 0."""
    if not isinstance(output, Tensor):
        raise TypeError(f"output must be a torch.Tensor, got {type(output).__name__}")
    if output.dim() < 1 or output.shape[-1] % 2:
        raise ValueError(f"output must end in an even number 2k of values (k means, then "
                         f"k scales), got shape {tuple(output.shape)}")
    mean, scale = output.chunk(2, dim=-1)
    return mean, torch.nn.functional.softplus(scale) + 1e-3


def gaussian_nll(output: Tensor, target: Tensor) -> Tensor:
    """The mean Gaussian negative log-likelihood of `target` (..., k) under a Gaussian
    head's output (..., 2k), leaving out the constant log(2 pi) / 2: the loss for `fit`."""
    mean, std = split_gaussian(output)
    if mean.shape != target.shape:
        raise ValueError(f"target must have shape {tuple(mean.shape)} (half the output's "
                         f"last size), got {tuple(target.shape)}")
    return torch.nn.functional.gaussian_nll_loss(mean, target, std**2)


def gaussian_interval(mean, std, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The central interval holding probability `level` of a normal distribution:
    mean -/+ z * std, with z = 1.2816 for level 0.8 and 1.9600 for level 0.95."""
    level = check_float("level", level, above=0, below=1)
    m, s = to_numpy(mean, "mean"), to_numpy(std, "std")
    if m.shape != s.shape:
        raise ValueError(f"mean and std must have the same shape, got {m.shape} and {s.shape}")
    if (s < 0).any():
        raise ValueError("std must be >= 0")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    return m - z * s, m + z * s

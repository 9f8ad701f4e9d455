"""Baselines a recurrent model has to beat before its numbers mean anything.

    X, y = make_windows(series, lags=18, horizon=6)   # y[:, -1] is 6 steps ahead
    rmse(persistence(X), y[:, -1])                     # "tomorrow looks like today"
    rmse(seasonal_naive(X, season=12, horizon=6), y[:, -1])
    rmse(LinearAR().fit(X_train, y_train[:, -1]).predict(X), y[:, -1])

    ngram_cross_entropy(train_ids, test_ids, vocab_size=len(vocab), order=2)  # nats/char

Forecasting baselines take the input windows of `rnnbook.make_windows`, of shape
(N, lags), and forecast `horizon` steps after the last value of each window. The text
baseline scores a held-out id sequence under an n-gram model counted on a training one.
"""

from __future__ import annotations

import math

import numpy as np

from rnnbook.checks import check_float, check_int, to_numpy

__all__ = ["LinearAR", "ngram_cross_entropy", "persistence", "rmse", "seasonal_naive"]


def _windows(X, name: str = "X") -> np.ndarray:
    arr = to_numpy(X, name)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be windows of shape (N, lags), N and lags >= 1, "
                         f"got shape {arr.shape}")
    return arr


def persistence(X) -> np.ndarray:
    """The naive forecast: the last observed value, whatever the horizon. (N, lags) -> (N,)."""
    return _windows(X)[:, -1].copy()


def seasonal_naive(X, season: int, horizon: int = 1) -> np.ndarray:
    """The value observed at the same point of the season, in the last season seen.

    For a target `horizon` steps after the window, this is the value `k * season` steps
    before the target, with k the smallest whole number of seasons that reaches back into
    the window. The window must hold at least one full season (lags >= season).
    """
    arr = _windows(X)
    check_int("horizon", horizon)
    check_int("season", season)
    lags = arr.shape[1]
    if lags < season:
        raise ValueError(f"windows of {lags} lags do not hold a full season of {season}")
    back = season * math.ceil(horizon / season)      # steps from the target back
    return arr[:, lags - 1 + horizon - back].copy()


class LinearAR:
    """A linear autoregressive model fitted by least squares:

        y_hat = intercept + sum_i weights[i] * X[:, i]

    `ridge` adds the penalty ridge * ||weights||^2 (the intercept is not penalised).
    `y` may be (N,) for one target or (N, k) for k targets fitted at once (for example
    every horizon of a direct multi-step forecast). Computed in float64.
    """

    def __init__(self, ridge: float = 0.0) -> None:
        self.ridge = check_float("ridge", ridge, minimum=0)
        self.intercept: np.ndarray | None = None
        self.weights: np.ndarray | None = None

    def fit(self, X, y) -> LinearAR:
        arr = _windows(X)
        target = to_numpy(y, "y")
        if target.ndim not in (1, 2) or len(target) != len(arr):
            raise ValueError(f"y must be (N,) or (N, k) with N = {len(arr)} rows like X, "
                             f"got shape {target.shape}")
        if len(arr) <= arr.shape[1]:
            raise ValueError(f"{len(arr)} windows cannot determine {arr.shape[1]} weights "
                             f"and an intercept; use fewer lags or a longer series")
        x_mean, y_mean = arr.mean(axis=0), target.mean(axis=0)
        Xc, yc = arr - x_mean, target - y_mean     # centring leaves the intercept free
        if self.ridge == 0:
            self.weights = np.linalg.lstsq(Xc, yc, rcond=None)[0]
        else:
            gram = Xc.T @ Xc + self.ridge * np.eye(arr.shape[1])
            self.weights = np.linalg.solve(gram, Xc.T @ yc)
        self.intercept = y_mean - x_mean @ self.weights
        return self

    def predict(self, X) -> np.ndarray:
        if self.weights is None:
            raise RuntimeError("this LinearAR is not fitted yet: call fit(X, y) first")
        arr = _windows(X)
        if arr.shape[1] != len(self.weights):
            raise ValueError(f"X must have {len(self.weights)} lags like the training "
                             f"windows, got shape {arr.shape}")
        return self.intercept + arr @ self.weights

    def __repr__(self) -> str:
        if self.weights is None:
            return f"LinearAR(ridge={self.ridge}, not fitted)"
        return f"LinearAR(ridge={self.ridge}, lags={len(self.weights)})"


def rmse(prediction, target) -> float:
    """Root mean squared error, in the units of the series."""
    p, t = to_numpy(prediction, "prediction"), to_numpy(target, "target")
    if p.size == 0:
        raise ValueError("prediction and target are empty")
    if p.shape != t.shape:
        raise ValueError(f"prediction and target must have the same shape, "
                         f"got {p.shape} and {t.shape}")
    return float(np.sqrt(np.mean((p - t) ** 2)))


def _ids(ids, name: str) -> np.ndarray:
    arr = to_numpy(ids, name, ndim=(1,), dtype=None)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a 1-D sequence of integer ids, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def ngram_cross_entropy(train_ids, eval_ids, vocab_size: int, order: int = 1,
                        alpha: float = 1.0) -> float:
    """Mean cross-entropy in nats per symbol of `eval_ids` under an n-gram model of order
    `order` (1: unigram, 2: bigram, ...) counted on `train_ids`.

    P(next | previous order-1 symbols) = (count + alpha) / (context count + alpha * V),
    additive smoothing, so a pair never seen in training still gets some probability.
    With alpha=0 and eval_ids = train_ids, order=1 gives the entropy of the symbol
    distribution. The first order-1 symbols of eval_ids, which lack a full context, are
    not scored.
    """
    train, test = _ids(train_ids, "train_ids"), _ids(eval_ids, "eval_ids")
    order = check_int("order", order)
    vocab_size = check_int("vocab_size", vocab_size)
    if vocab_size ** order >= 2 ** 62:
        raise ValueError(f"vocab_size**order must be below 2**62, got {vocab_size}**{order}")
    alpha = check_float("alpha", alpha, minimum=0)
    for name, arr in (("train_ids", train), ("eval_ids", test)):
        if len(arr) < order:
            raise ValueError(f"{name} needs at least order={order} ids, got {len(arr)}")
        if arr.min() < 0 or arr.max() >= vocab_size:
            raise ValueError(f"{name} must hold ids in 0..{vocab_size - 1}")

    def keys(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes of each (context, next) n-gram and of its context."""
        n = len(arr) - order + 1
        context = np.zeros(n, dtype=np.int64)
        for i in range(order - 1):
            context = context * vocab_size + arr[i:i + n]
        return context * vocab_size + arr[order - 1:], context

    def lookup(table: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
        pos = np.clip(np.searchsorted(table, query), 0, len(table) - 1)
        return np.where(table[pos] == query, counts[pos], 0)

    train_full, train_ctx = keys(train)
    full_table, full_counts = np.unique(train_full, return_counts=True)
    ctx_table, ctx_counts = np.unique(train_ctx, return_counts=True)
    test_full, test_ctx = keys(test)
    numerator = lookup(full_table, full_counts, test_full) + alpha
    denominator = lookup(ctx_table, ctx_counts, test_ctx) + alpha * vocab_size
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(numerator / denominator)
    if not np.all(np.isfinite(logp)):
        raise ValueError("eval_ids contain an n-gram never seen in training, which has "
                         "probability 0 with alpha=0; use alpha > 0")
    return float(-logp.mean())

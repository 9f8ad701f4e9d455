"""Time series: lag windows, time-ordered splits, scaling without leakage, and the two
real series the chapters use.

    X, y = make_windows(series, lags=12, horizon=1)     # (N, 12), (N, 1)
    train, test = split_series(series, 0.8)             # in time order, never shuffled
    scaler = StandardScaler().fit(train)                # statistics of the past only
    co2 = load_co2()                                    # monthly ppm, 1958-2001

The series come from `statsmodels.datasets`, an installed dependency: nothing downloads.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks import check_bool, check_float, check_int, to_numpy

__all__ = ["StandardScaler", "load_co2", "load_sunspots", "make_windows", "split_series"]


def _as_series(series, name: str = "series") -> np.ndarray:
    """A series as float32 (time,) or (time, features), with no NaN or infinity."""
    arr = to_numpy(series, name, ndim=(1, 2), dtype=np.float32)
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one value, got shape {arr.shape}")
    return arr


def make_windows(series, lags: int, horizon: int = 1, targets_from: int = 0):
    """Cut a series into (inputs, targets) pairs for supervised learning.

    Input i holds the `lags` values series[i : i+lags], and target i the next `horizon`
    values series[i+lags : i+lags+horizon]. For a 1-D series of length T this returns
    X of shape (N, lags) and y of shape (N, horizon) with N = T - lags - horizon + 1;
    a 2-D series (T, F) gives X (N, lags, F) and y (N, horizon, F).

    targets_from: keep only the windows whose last target (the one `horizon` steps ahead)
    is at index `targets_from` or later; their inputs may reach back before it. With the
    index where the test split starts, this gives exactly one window per test value.
    """
    arr = _as_series(series)
    lags, horizon = check_int("lags", lags), check_int("horizon", horizon)
    targets_from = check_int("targets_from", targets_from, minimum=0)
    if targets_from >= len(arr):
        raise ValueError(f"targets_from={targets_from} is past the end of the series, "
                         f"which has {len(arr)} values")
    if 0 < targets_from < lags + horizon - 1:
        raise ValueError(f"targets_from={targets_from} leaves too little history before it "
                         f"for lags={lags} and horizon={horizon}: it must be at least "
                         f"{lags + horizon - 1}")
    if targets_from:
        arr = arr[targets_from - lags - horizon + 1:]
    n = len(arr) - lags - horizon + 1
    if n < 1:
        raise ValueError(f"a window of lags={lags} plus horizon={horizon} needs at least "
                         f"{lags + horizon} values, but the series has {len(arr)}")
    idx = np.arange(n)[:, None]
    return arr[idx + np.arange(lags)], arr[idx + lags + np.arange(horizon)]


def split_series(series, train_fraction: float = 0.8):
    """Split a series in time order (never shuffled): the first part trains, the rest tests."""
    train_fraction = check_float("train_fraction", train_fraction, above=0, below=1)
    if not hasattr(series, "__len__") or isinstance(series, (str, bytes)):
        raise TypeError(f"series must be a sequence of values, got {type(series).__name__}")
    cut = int(round(len(series) * train_fraction))
    if cut < 1 or cut >= len(series):
        raise ValueError(f"a series of length {len(series)} is too short to split at "
                         f"train_fraction={train_fraction}")
    return series[:cut], series[cut:]


class StandardScaler:
    """Subtract the mean and divide by the standard deviation, both learned by `fit`.

    Fit it on the training split only: statistics taken from the test split leak
    information about the future into the model. A scaler fitted on a 1-D series scales
    arrays of any shape (the series, its windows); one fitted on (time, F) scales arrays
    whose last dimension has the same F features.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, train) -> StandardScaler:
        arr = _as_series(train, "train")
        self.mean = arr.mean(axis=0)
        std = arr.std(axis=0)
        self.std = np.where(std > 0, std, 1.0).astype(np.float32)
        return self

    def _check(self, series, name: str) -> np.ndarray:
        """A scaler fitted on one series (scalar statistics) scales any array of that
        quantity: the series, its lag windows, its targets. One fitted on F features scales
        arrays whose last dimension holds those F features, and nothing else."""
        if self.mean is None:
            raise RuntimeError("this StandardScaler is not fitted yet: call fit(train) first")
        arr = to_numpy(series, name, dtype=np.float32)
        if arr.size == 0:
            raise ValueError(f"{name} is empty")
        if self.mean.ndim and (arr.ndim < 2 or arr.shape[-1] != self.mean.shape[0]):
            raise ValueError(f"{name} must have the {self.mean.shape[0]} features the scaler "
                             f"was fitted on in its last dimension, got shape {arr.shape}")
        return arr

    def transform(self, series) -> np.ndarray:
        return (self._check(series, "series") - self.mean) / self.std

    def fit_transform(self, train) -> np.ndarray:
        return self.fit(train).transform(train)

    def inverse_transform(self, scaled) -> np.ndarray:
        return self._check(scaled, "scaled") * self.std + self.mean

    def __repr__(self) -> str:
        if self.mean is None:
            return "StandardScaler(not fitted)"

        def fmt(a):
            return np.array2string(np.atleast_1d(a), precision=4, separator=", ")

        return f"StandardScaler(mean={fmt(self.mean)}, std={fmt(self.std)})"


def load_co2(monthly: bool = True):
    """Atmospheric CO2 at Mauna Loa (ppm), 1958-2001, from `statsmodels.datasets.co2`.

    The raw data are weekly with 59 missing weeks. With `monthly=True` (default) this
    returns the monthly means, with the few empty months filled by linear interpolation,
    as a pandas Series indexed by month start.
    """
    from statsmodels.datasets import co2

    monthly = check_bool("monthly", monthly)
    weekly = co2.load_pandas().data["co2"]
    if not monthly:
        return weekly
    return weekly.resample("MS").mean().interpolate().rename("co2")


def load_sunspots():
    """Yearly mean sunspot numbers 1700-2008, from `statsmodels.datasets.sunspots`."""
    import pandas as pd
    from statsmodels.datasets import sunspots

    df = sunspots.load_pandas().data
    return pd.Series(df["SUNACTIVITY"].to_numpy(), index=df["YEAR"].astype(int),
                     name="sunspots")

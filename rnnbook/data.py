"""Data for the book: synthetic tasks, real series, text, windows, scalers, vocabularies.

Everything the chapters use works offline. Synthetic tasks are generated from a seed, the
real series come from `statsmodels.datasets` (an installed dependency), and the text corpus
ships inside the package (`rnnbook/datasets`). `download` fetches optional, bigger data
into a cache, checked against a checksum; no tested chapter calls it.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from rnnbook.checks import check_int
from rnnbook.seeding import generator

# ---------------------------------------------------------------------------
# Synthetic long-dependency tasks
# ---------------------------------------------------------------------------


def adding_problem(n: int, length: int, seed: int | None = None):
    """The adding problem of Le, Jaitly & Hinton (2015).

    Each sequence has `length` steps with two features: a value drawn from U(0, 1) and a
    marker that is 1 at exactly two steps, one in each half of the sequence. The target is
    the sum of the two marked values. Predicting the constant 1 scores an MSE of 1/6.

    Returns `x` of shape (n, length, 2) and `y` of shape (n,), both float32, batch first.
    """
    check_int("n", n)
    check_int("length", length, minimum=2)
    g = generator(seed)
    values = torch.rand(n, length, generator=g)
    half = length // 2
    first = torch.randint(0, half, (n,), generator=g)
    second = torch.randint(half, length, (n,), generator=g)
    markers = torch.zeros(n, length)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=-1)
    y = values[rows, first] + values[rows, second]
    return x, y


ADDING_BASELINE_MSE = 1 / 6
"""MSE of always predicting 1, the mean target: the variance of the sum of two U(0,1)."""


def copy_task(n: int, delay: int, n_symbols: int = 10, n_categories: int = 8,
              seed: int | None = None):
    """The copy task of Arjovsky, Shah & Bengio (2016).

    Tokens: 0 is blank, 1..n_categories are symbols, n_categories + 1 is the delimiter.
    The input is `n_symbols` random symbols, `delay - 1` blanks, the delimiter, then
    `n_symbols` blanks; the target is `delay + n_symbols` blanks followed by the symbols.
    Both have length `delay + 2 * n_symbols` and are int64 of shape (n, length).
    """
    check_int("n", n)
    check_int("delay", delay)
    check_int("n_symbols", n_symbols)
    check_int("n_categories", n_categories)
    g = generator(seed)
    length = delay + 2 * n_symbols
    symbols = torch.randint(1, n_categories + 1, (n, n_symbols), generator=g)
    x = torch.zeros(n, length, dtype=torch.long)
    y = torch.zeros(n, length, dtype=torch.long)
    x[:, :n_symbols] = symbols
    x[:, delay + n_symbols - 1] = n_categories + 1
    y[:, -n_symbols:] = symbols
    return x, y


def copy_baseline(delay: int, n_symbols: int = 10, n_categories: int = 8) -> float:
    """Cross-entropy per step of the memoryless strategy: blanks, then uniform guesses."""
    return n_symbols * math.log(n_categories) / (delay + 2 * n_symbols)


TEMPORAL_ORDER_SYMBOLS = ("a", "b", "c", "d", "B", "E", "X", "Y")


def temporal_order(n: int, length: int = 100, seed: int | None = None):
    """The temporal-order task of Hochreiter & Schmidhuber (1997), experiment 6a.

    A sequence starts with B, ends with E, and is otherwise filled with distractors a-d,
    except for two relevant symbols, each X or Y: the first at a step in
    [length/10, 2*length/10], the second in [length/2, 6*length/10]. The class is the
    order of the two, XX, XY, YX or YY (0..3), so chance is 25%.

    Returns `x` one-hot of shape (n, length, 8), float32, and `y` int64 of shape (n,).
    Symbols are indexed as in TEMPORAL_ORDER_SYMBOLS.
    """
    check_int("n", n)
    check_int("length", length, minimum=20)
    g = generator(seed)
    tokens = torch.randint(0, 4, (n, length), generator=g)       # distractors a-d
    tokens[:, 0], tokens[:, -1] = 4, 5                             # B ... E
    first = torch.randint(length // 10, 2 * length // 10 + 1, (n,), generator=g)
    second = torch.randint(length // 2, 6 * length // 10 + 1, (n,), generator=g)
    which = torch.randint(0, 2, (n, 2), generator=g)               # 0 = X, 1 = Y
    rows = torch.arange(n)
    tokens[rows, first] = 6 + which[:, 0]
    tokens[rows, second] = 6 + which[:, 1]
    x = torch.nn.functional.one_hot(tokens, len(TEMPORAL_ORDER_SYMBOLS)).float()
    return x, 2 * which[:, 0] + which[:, 1]


def sine_waves(n: int, length: int, periods: tuple[float, float] = (10.0, 40.0),
               noise: float = 0.0, seed: int | None = None) -> torch.Tensor:
    """n sine waves of `length` steps, each with a random period (in steps) drawn uniformly
    from `periods`, a random phase, and optional Gaussian noise of standard deviation
    `noise`. Returns float32 of shape (n, length): predict each next value from the past."""
    check_int("n", n)
    check_int("length", length)
    low, high = periods
    if not 0 < low <= high:
        raise ValueError(f"periods must be (low, high) with 0 < low <= high, got {periods!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    g = generator(seed)
    period = low + (high - low) * torch.rand(n, 1, generator=g)
    phase = 2 * math.pi * torch.rand(n, 1, generator=g)
    t = torch.arange(length, dtype=torch.float32)
    waves = torch.sin(2 * math.pi * t / period + phase)
    return waves + noise * torch.randn(n, length, generator=g)


# The Reber grammar (Reber 1967; the benchmark of Hochreiter & Schmidhuber 1997): from each
# node, two symbols are allowed with equal probability, each leading to a next node.
REBER_GRAPH = {
    1: (("T", 2), ("P", 3)),
    2: (("S", 2), ("X", 4)),
    3: (("T", 3), ("V", 5)),
    4: (("X", 3), ("S", 6)),
    5: (("P", 4), ("V", 6)),
}


def _reber_string(g: torch.Generator) -> str:
    node, out = 1, ["B"]
    while node != 6:
        symbol, node = REBER_GRAPH[node][int(torch.randint(0, 2, (1,), generator=g))]
        out.append(symbol)
    return "".join(out) + "E"


def reber_strings(n: int, embedded: bool = False, seed: int | None = None) -> list[str]:
    """n strings of the Reber grammar, such as 'BTSSXSE'.

    With `embedded=True`, the embedded Reber grammar: 'B', then T or P, then a Reber
    string, then the same T or P again, then 'E'. Predicting that second T or P needs a
    memory of the symbol seen many steps before it.
    """
    check_int("n", n)
    g = generator(seed)
    strings = []
    for _ in range(n):
        inner = _reber_string(g)
        if embedded:
            branch = "TP"[int(torch.randint(0, 2, (1,), generator=g))]
            inner = f"B{branch}{inner}{branch}E"
        strings.append(inner)
    return strings


def is_reber(string: str, embedded: bool = False) -> bool:
    """Whether `string` belongs to the (embedded) Reber grammar."""
    if embedded:
        return (len(string) >= 4 and string[0] == "B" and string[-1] == "E"
                and string[1] in "TP" and string[-2] == string[1] and is_reber(string[2:-2]))
    if len(string) < 2 or string[0] != "B" or string[-1] != "E":
        return False
    node = 1
    for symbol in string[1:-1]:
        moves = dict(REBER_GRAPH.get(node, ()))
        if symbol not in moves:
            return False
        node = moves[symbol]
    return node == 6


# ---------------------------------------------------------------------------
# Series: windows, splits, scaling
# ---------------------------------------------------------------------------


def _as_series(series, name: str = "series") -> np.ndarray:
    if hasattr(series, "to_numpy"):  # pandas Series or DataFrame
        series = series.to_numpy()
    if isinstance(series, torch.Tensor):
        series = series.detach().cpu().numpy()
    arr = np.asarray(series)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D (time,) or 2-D (time, features), "
                         f"got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN at positions "
                         f"{np.argwhere(np.isnan(arr))[:5, 0].tolist()}; fill or drop them first")
    return arr.astype(np.float32)


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
    check_int("lags", lags)
    check_int("horizon", horizon)
    if not isinstance(targets_from, int) or targets_from < 0:
        raise ValueError(f"targets_from must be an int >= 0, got {targets_from!r}")
    if targets_from >= lags + horizon - 1:
        arr = arr[targets_from - lags - horizon + 1:]
    elif targets_from:
        raise ValueError(f"targets_from={targets_from} leaves too little history before it "
                         f"for lags={lags} and horizon={horizon}")
    n = len(arr) - lags - horizon + 1
    if n < 1:
        raise ValueError(f"a window of lags={lags} plus horizon={horizon} needs at least "
                         f"{lags + horizon} values, but the series has {len(arr)}")
    idx = np.arange(n)[:, None]
    X = arr[idx + np.arange(lags)]
    y = arr[idx + lags + np.arange(horizon)]
    return X, y


def split_series(series, train_fraction: float = 0.8):
    """Split a series in time order (never shuffled): the first part trains, the rest tests."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction!r}")
    cut = int(round(len(series) * train_fraction))
    if cut < 1 or cut >= len(series):
        raise ValueError(f"a series of length {len(series)} is too short to split at "
                         f"train_fraction={train_fraction}")
    return series[:cut], series[cut:]


class StandardScaler:
    """Subtract the mean and divide by the standard deviation, both learned by `fit`.

    Fit it on the training split only: statistics taken from the test split leak
    information about the future into the model.
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

    def _check_fitted(self) -> None:
        if self.mean is None:
            raise RuntimeError("this StandardScaler is not fitted yet: call fit(train) first")

    def transform(self, series) -> np.ndarray:
        self._check_fitted()
        return (_as_series(series) - self.mean) / self.std

    def fit_transform(self, train) -> np.ndarray:
        return self.fit(train).transform(train)

    def inverse_transform(self, scaled) -> np.ndarray:
        self._check_fitted()
        return _as_series(scaled, "scaled") * self.std + self.mean

    def __repr__(self) -> str:
        if self.mean is None:
            return "StandardScaler(not fitted)"
        def fmt(a):
            return np.array2string(np.atleast_1d(a), precision=4, separator=", ")

        return f"StandardScaler(mean={fmt(self.mean)}, std={fmt(self.std)})"


# ---------------------------------------------------------------------------
# Real data that installs with a dependency or ships with the package
# ---------------------------------------------------------------------------


def load_co2(monthly: bool = True):
    """Atmospheric CO2 at Mauna Loa (ppm), 1958-2001, from `statsmodels.datasets.co2`.

    The raw data are weekly with 59 missing weeks. With `monthly=True` (default) this
    returns the monthly means, with the few empty months filled by linear interpolation,
    as a pandas Series indexed by month start.
    """
    from statsmodels.datasets import co2

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


def load_text(name: str = "python_stdlib") -> str:
    """A text corpus shipped with the package. See rnnbook/datasets/README.md."""
    available = sorted(p.name[:-4] for p in resources.files("rnnbook.datasets").iterdir()
                       if p.name.endswith(".txt"))
    if name not in available:
        raise ValueError(f"unknown corpus {name!r}; available: {available}")
    return resources.files("rnnbook.datasets").joinpath(f"{name}.txt").read_text("utf-8")


def cache_dir() -> Path:
    """Where `download` keeps files: $RNNBOOK_CACHE, or ~/.cache/rnnbook."""
    return Path(os.environ.get("RNNBOOK_CACHE", Path.home() / ".cache" / "rnnbook"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, sha256: str, filename: str | None = None,
             directory: str | Path | None = None) -> Path:
    """Fetch `url` once into the cache and return its path; for optional, bigger data.

    The book's tested chapters never call this: they run offline. The file is checked
    against its SHA-256 `sha256` (a corrupt or changed file is refused), written to a
    temporary file and renamed into place, so an interrupted download never leaves a
    half-written file that looks complete. A cached file with the right checksum is
    reused without touching the network.
    """
    if not (isinstance(sha256, str) and len(sha256) == 64
            and all(c in "0123456789abcdef" for c in sha256.lower())):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    folder = Path(directory) if directory is not None else cache_dir()
    target = folder / (filename or Path(urllib.parse.urlparse(url).path).name)
    if not target.name:
        raise ValueError(f"cannot name a file after {url!r}: pass filename=")
    if target.exists() and _sha256(target) == sha256.lower():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        actual = _sha256(Path(tmp))
        if actual != sha256.lower():
            raise ValueError(f"checksum mismatch for {url}: expected {sha256.lower()}, "
                             f"got {actual}; the file was not saved")
        os.replace(tmp, target)                      # atomic on the same file system
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------


class CharVocab:
    """A character vocabulary: `encode` text to ids and `decode` ids back to text."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            raise ValueError("CharVocab needs a non-empty str to collect its characters from")
        self.chars = sorted(set(text))
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        unknown = sorted(set(text) - self.index.keys())
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown[:10]!r}")
        return torch.tensor([self.index[ch] for ch in text], dtype=torch.long)

    def decode(self, ids) -> str:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        bad = [i for i in ids if not 0 <= i < len(self.chars)]
        if bad:
            raise ValueError(f"ids out of range 0..{len(self.chars) - 1}: {bad[:10]}")
        return "".join(self.chars[i] for i in ids)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters)"

"""Synthetic tasks that need a long memory, generated from a seed.

    x, y = adding_problem(1000, length=100, seed=0)     # (1000, 100, 2), (1000,)
    x, y = temporal_order(500, length=100, seed=1)      # one-hot (500, 100, 8), classes 0..3
    x, y = copy_task(100, delay=50, seed=2)             # token ids (100, 70) each
    waves = sine_waves(8, 200, noise=0.1, seed=3)       # (8, 200)
    strings = reber_strings(5, embedded=True, seed=4)   # ['BTBTXSEtE', ...]

Every generator takes `seed`, which goes through `rnnbook.seeding` (so RNNBOOK_SEED_SHIFT
moves it too); with seed=None it follows the global seed set by `seed_everything`.
"""

from __future__ import annotations

import math

import torch

from rnnbook.checks import check_bool, check_float, check_int
from rnnbook.seeding import generator

__all__ = ["ADDING_BASELINE_MSE", "REBER_GRAPH", "TEMPORAL_ORDER_SYMBOLS", "adding_problem",
           "copy_baseline", "copy_task", "is_reber", "reber_strings", "sine_waves",
           "temporal_order"]


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
    check_int("delay", delay)
    check_int("n_symbols", n_symbols)
    check_int("n_categories", n_categories)
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
    if not (isinstance(periods, (tuple, list)) and len(periods) == 2):
        raise TypeError(f"periods must be a pair (low, high), got {periods!r}")
    low = check_float("periods[0]", periods[0], above=0)
    high = check_float("periods[1]", periods[1], minimum=low)
    noise = check_float("noise", noise, minimum=0)
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
    embedded = check_bool("embedded", embedded)
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
    if not isinstance(string, str):
        raise TypeError(f"string must be a str, got {type(string).__name__}")
    if check_bool("embedded", embedded):
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

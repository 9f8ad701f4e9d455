"""How the book's chapters are run: the environment of each pass, and the time budgets.

`conftest.py` (the test suite) and `tools/notebooks.py` (which stores the outputs) both
import this module, so a chapter runs under the tests exactly as it ran when its outputs
were stored.

Two passes run every chapter (RNNBOOK_PASS selects one; see CONTRIBUTING.md):

- "normal" (`make test`): one thread, seeds as written. Its times are held to the budget.
- "robust" (`make test-robust`): every seed shifted by RNNBOOK_SEED_SHIFT (1 unless set),
  two threads, and the variables that make MKL, PyTorch's element-wise kernels and oneDNN
  take other code paths, as another CPU would. Each changes the low-order bits of results,
  which training amplifies. Every assert must still hold; times are reported only.
"""

from __future__ import annotations

import os
from pathlib import Path

COMMON = {
    "RNNBOOK_QUIET": "1",                 # no progress bars: their rates change every run
    "TQDM_DISABLE": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "JUPYTER_PLATFORM_DIRS": "1",
}

PASSES = {
    "normal": {
        **COMMON,
        "OMP_NUM_THREADS": "1",           # one thread: two test workers share two cores
        "MKL_NUM_THREADS": "1",
        "RNNBOOK_SEED_SHIFT": "0",
    },
    "robust": {
        **COMMON,
        "OMP_NUM_THREADS": "2",           # a reader's default on a 2-core machine
        "MKL_NUM_THREADS": "2",
        "RNNBOOK_SEED_SHIFT": "1",
        "MKL_CBWR": "AVX2",               # MKL's matrix products take their AVX2 code path
        "ATEN_CPU_CAPABILITY": "default",  # PyTorch's element-wise kernels, unvectorised
        "ONEDNN_MAX_CPU_ISA": "AVX2",     # nn.LSTM's fused oneDNN kernel, AVX2 only
        "OMP_WAIT_POLICY": "PASSIVE",     # idle threads sleep instead of spinning: with two
    },                                    # workers of two threads each on two cores,
                                          # spinning burns CPU; results do not change
}

OVERRIDABLE = ("RNNBOOK_SEED_SHIFT",)
"""Variables whose value from the caller's environment wins: `RNNBOOK_SEED_SHIFT=3 make
test-robust` calibrates a chapter on another shift."""

BUDGET = {"07": 180}
"""Seconds a chapter may take to execute in the normal pass; DEFAULT_BUDGET otherwise.
Chapter 07 repeats its experiments over seeds. Authors aim at two thirds of the budget on
their own machine (TARGET), since a reader's machine may be 1.5x slower."""
DEFAULT_BUDGET = 90
TARGET_FRACTION = 2 / 3


def pass_name() -> str:
    name = os.environ.get("RNNBOOK_PASS", "normal") or "normal"
    if name not in PASSES:
        raise SystemExit(f"RNNBOOK_PASS must be one of {sorted(PASSES)}, got {name!r}")
    return name


def apply_environment() -> str:
    """Set the current pass's variables in os.environ (kernels started later inherit
    them) and return the pass's name."""
    name = pass_name()
    for key, value in PASSES[name].items():
        if key in OVERRIDABLE and os.environ.get(key, "").strip():
            continue
        os.environ[key] = value
    return name


def budget(notebook: str | Path) -> int:
    """Seconds chapter `notebook` may take to execute in the normal pass."""
    return BUDGET.get(Path(notebook).name[:2], DEFAULT_BUDGET)


def target(notebook: str | Path) -> int:
    """Seconds an author should see on their own machine: two thirds of the budget."""
    return round(budget(notebook) * TARGET_FRACTION)

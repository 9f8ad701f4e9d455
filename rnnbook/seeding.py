"""Seeds: every random number the book draws comes through here.

    seed_everything(0)              # Python's, NumPy's and PyTorch's global generators
    g = generator(3)                # a torch.Generator for one experiment
    rng = numpy_rng(4)              # a numpy.random.Generator

Each function adds the seed shift, the integer in the environment variable
RNNBOOK_SEED_SHIFT (default 0), to the seed it is given. Running a chapter with
RNNBOOK_SEED_SHIFT=1 therefore changes every random draw in it at once: the strongest
check that what the chapter asserts is a finding about a method and not one lucky
trajectory. The test suite runs every chapter that way (`make test-robust`).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from rnnbook.checks import check_int

__all__ = ["MAX_SEED", "generator", "numpy_rng", "seed_everything", "seed_shift", "shifted"]

MAX_SEED = 2**32 - 1
"""NumPy's legacy seeding, which `seed_everything` sets, takes seeds below 2**32."""


def seed_shift() -> int:
    """The offset added to every seed: RNNBOOK_SEED_SHIFT as an int >= 0, default 0."""
    text = os.environ.get("RNNBOOK_SEED_SHIFT", "").strip() or "0"
    try:
        shift = int(text)
    except ValueError:
        raise ValueError(f"RNNBOOK_SEED_SHIFT must be a whole number >= 0, got {text!r}") from None
    if shift < 0:
        raise ValueError(f"RNNBOOK_SEED_SHIFT must be a whole number >= 0, got {text!r}")
    return shift


def shifted(seed: int) -> int:
    """`seed` plus the seed shift: the seed that is really used."""
    check_int("seed", seed, minimum=0)
    total = int(seed) + seed_shift()
    if total > MAX_SEED:
        raise ValueError(f"seed plus RNNBOOK_SEED_SHIFT must be at most {MAX_SEED}, "
                         f"got {seed} + {seed_shift()}")
    return total


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's global generators with `shifted(seed)`, so that
    a cell repeats exactly on one machine whatever ran before it."""
    seed = shifted(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def generator(seed: int | None = None) -> torch.Generator:
    """A CPU torch.Generator seeded with `shifted(seed)`.

    With seed=None it is seeded from a draw of torch's global generator instead, so that
    `seed_everything` makes unseeded calls repeat too.
    """
    if seed is None:
        return torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,))))
    return torch.Generator().manual_seed(shifted(seed))


def numpy_rng(seed: int) -> np.random.Generator:
    """A numpy.random.Generator seeded with `shifted(seed)`."""
    return np.random.default_rng(shifted(seed))

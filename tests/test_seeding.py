"""rnnbook.seeding: every seed goes through one shift."""

import random

import numpy as np
import pytest
import torch

from rnnbook.seeding import generator, numpy_rng, seed_everything, seed_shift, shifted


def test_shift_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("RNNBOOK_SEED_SHIFT", "0")
    assert seed_shift() == 0 and shifted(5) == 5
    monkeypatch.setenv("RNNBOOK_SEED_SHIFT", "3")
    assert seed_shift() == 3 and shifted(5) == 8
    monkeypatch.setenv("RNNBOOK_SEED_SHIFT", "")
    assert seed_shift() == 0


@pytest.mark.parametrize("bad", ["-1", "1.5", "one"])
def test_a_bad_shift_is_refused(monkeypatch, bad):
    monkeypatch.setenv("RNNBOOK_SEED_SHIFT", bad)
    with pytest.raises(ValueError, match="RNNBOOK_SEED_SHIFT"):
        seed_shift()


def test_every_generator_follows_the_shift(monkeypatch):
    monkeypatch.setenv("RNNBOOK_SEED_SHIFT", "0")
    seed_everything(7)
    plain = (random.random(), np.random.rand(), torch.rand(1).item(),
             torch.rand(1, generator=generator(7)).item(), numpy_rng(7).random())
    monkeypatch.setenv("RNNBOOK_SEED_SHIFT", "1")
    seed_everything(6)
    moved = (random.random(), np.random.rand(), torch.rand(1).item(),
             torch.rand(1, generator=generator(6)).item(), numpy_rng(6).random())
    assert plain == moved                    # 6 + 1 is 7 + 0
    seed_everything(7)
    assert random.random() != plain[0] and torch.rand(1).item() != plain[2]


def test_seed_everything_repeats_torch_numpy_and_python():
    seed_everything(7)
    a = (torch.rand(3), np.random.rand(3), random.random())
    seed_everything(7)
    b = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(a[0], b[0]) and (a[1] == b[1]).all() and a[2] == b[2]


def test_unseeded_generator_follows_the_global_seed(monkeypatch):
    monkeypatch.setenv("RNNBOOK_SEED_SHIFT", "0")
    seed_everything(1)
    a = torch.rand(3, generator=generator())
    seed_everything(1)
    assert torch.equal(a, torch.rand(3, generator=generator()))


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.0, TypeError), (True, TypeError),
                                        ("3", TypeError), (2**32, ValueError)])
def test_bad_seeds_are_refused_before_anything_is_seeded(monkeypatch, bad, error):
    monkeypatch.setenv("RNNBOOK_SEED_SHIFT", "0")
    state = random.getstate()
    with pytest.raises(error, match="seed"):
        seed_everything(bad)
    assert random.getstate() == state


def test_numpy_integers_are_seeds(monkeypatch):
    monkeypatch.setenv("RNNBOOK_SEED_SHIFT", "0")
    assert generator(np.int64(4)).initial_seed() == 4

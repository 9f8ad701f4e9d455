"""rnnbook.tasks: the synthetic long-memory tasks, generated from a seed."""

import math

import pytest
import torch

from rnnbook import tasks


def test_adding_problem_shapes_markers_and_targets():
    x, y = tasks.adding_problem(500, 40, seed=0)
    assert x.shape == (500, 40, 2) and y.shape == (500,)
    markers = x[..., 1]
    assert torch.all(markers.sum(1) == 2)
    assert torch.all(markers[:, :20].sum(1) == 1) and torch.all(markers[:, 20:].sum(1) == 1)
    torch.testing.assert_close(y, (x[..., 0] * markers).sum(1))
    assert 0 <= x[..., 0].min() and x[..., 0].max() < 1


def test_adding_problem_baseline_is_one_sixth():
    _, y = tasks.adding_problem(200_000, 10, seed=1)
    assert abs(((y - 1) ** 2).mean().item() - tasks.ADDING_BASELINE_MSE) < 0.002
    assert abs(y.mean().item() - 1) < 0.005


def test_seeds_repeat_and_differ():
    a, _ = tasks.adding_problem(4, 10, seed=3)
    b, _ = tasks.adding_problem(4, 10, seed=3)
    c, _ = tasks.adding_problem(4, 10, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_copy_task_layout():
    x, y = tasks.copy_task(3, delay=5, n_symbols=4, n_categories=6, seed=0)
    assert x.shape == y.shape == (3, 5 + 8)
    torch.testing.assert_close(y[:, -4:], x[:, :4])
    assert torch.all((x[:, :4] >= 1) & (x[:, :4] <= 6))
    assert torch.all(x[:, 5 + 4 - 1] == 7)                  # delimiter
    assert torch.all(y[:, :-4] == 0) and int((x == 7).sum()) == 3
    assert tasks.copy_baseline(100) == pytest.approx(10 * math.log(8) / 120)


def test_temporal_order_classes_match_the_relevant_symbols():
    x, y = tasks.temporal_order(300, 100, seed=0)
    tokens = x.argmax(-1)
    assert torch.all(tokens[:, 0] == 4) and torch.all(tokens[:, -1] == 5)
    relevant = [row[(row == 6) | (row == 7)].tolist() for row in tokens]
    assert all(len(r) == 2 for r in relevant)
    expected = torch.tensor([2 * (r[0] - 6) + (r[1] - 6) for r in relevant])
    assert torch.equal(y, expected)
    assert set(y.tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("call,match", [
    (lambda: tasks.adding_problem(0, 10), "n must be"),
    (lambda: tasks.adding_problem(5, 1), "length must be"),
    (lambda: tasks.copy_task(5, 0), "delay must be"),
    (lambda: tasks.temporal_order(5, 10), "length must be"),
])
def test_task_arguments_are_checked(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_unseeded_tasks_follow_the_global_seed():
    torch.manual_seed(0)
    a = tasks.adding_problem(3, 8)[0], tasks.copy_task(3, 4)[0], tasks.temporal_order(3, 20)[0]
    torch.manual_seed(0)
    b = tasks.adding_problem(3, 8)[0], tasks.copy_task(3, 4)[0], tasks.temporal_order(3, 20)[0]
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


def test_sine_waves():
    waves = tasks.sine_waves(50, 200, periods=(10.0, 20.0), seed=0)
    assert waves.shape == (50, 200) and waves.dtype == torch.float32
    assert waves.abs().max() <= 1.0 + 1e-6
    # A period between 10 and 20 steps means the wave changes sign within 10 steps.
    sign_changes = (waves[:, 1:] * waves[:, :-1] < 0).sum(1)
    assert torch.all(sign_changes >= 200 // 20 * 2 - 2) and torch.all(sign_changes <= 42)
    noisy = tasks.sine_waves(50, 200, periods=(10.0, 20.0), noise=0.1, seed=0)
    assert 0.05 < (noisy - waves).std().item() < 0.15
    with pytest.raises(ValueError, match="periods"):
        tasks.sine_waves(2, 10, periods=(5.0, 1.0))


def test_reber_strings_follow_the_grammar():
    strings = tasks.reber_strings(500, seed=0)
    assert all(tasks.is_reber(s) for s in strings)
    assert len(set(strings)) > 50 and all(s.startswith("BT") or s.startswith("BP")
                                          for s in strings)
    embedded = tasks.reber_strings(500, embedded=True, seed=0)
    assert all(tasks.is_reber(s, embedded=True) for s in embedded)
    assert all(s[1] == s[-2] for s in embedded)
    assert {s[1] for s in embedded} == {"T", "P"}
    for bad in ["BTSSXSE"[:-1], "BTXE", "TSXSE", "BPVVEE", ""]:
        assert not tasks.is_reber(bad)
    assert tasks.is_reber("BTXSE") and tasks.is_reber("BPVVE")
    assert not tasks.is_reber("BTBTXSEPE", embedded=True)        # the two branches differ


@pytest.mark.parametrize("call", [
    lambda seed: tasks.adding_problem(2, 4, seed=seed),
    lambda seed: tasks.copy_task(2, 3, seed=seed),
    lambda seed: tasks.temporal_order(2, 20, seed=seed),
    lambda seed: tasks.sine_waves(2, 5, seed=seed),
    lambda seed: tasks.reber_strings(2, seed=seed),
])
def test_a_negative_seed_is_refused_not_wrapped_around(call):
    """seed=-1 used to give the same data as seed 2**64 - 1."""
    with pytest.raises(ValueError, match="seed must be an int >= 0, got -1"):
        call(-1)
    with pytest.raises(TypeError, match="seed must be an int, got 1.5"):
        call(1.5)


def test_sine_waves_refuse_non_finite_noise_and_periods():
    with pytest.raises(ValueError, match="noise must be a finite number, got inf"):
        tasks.sine_waves(2, 10, noise=float("inf"))
    with pytest.raises(ValueError, match="noise must be >= 0, got -0.1"):
        tasks.sine_waves(2, 10, noise=-0.1)
    with pytest.raises(ValueError, match=r"periods\[0\] must be a finite number, got nan"):
        tasks.sine_waves(2, 10, periods=(float("nan"), 3.0))
    with pytest.raises(TypeError, match=r"periods must be a pair \(low, high\), got 5"):
        tasks.sine_waves(2, 10, periods=5)


@pytest.mark.parametrize("kwargs", [dict(delay=0), dict(delay=3, n_symbols=0),
                                    dict(delay=3, n_categories=0), dict(delay=True),
                                    dict(delay=3.0)])
def test_copy_baseline_refuses_what_copy_task_refuses(kwargs):
    with pytest.raises((ValueError, TypeError)) as task_error:
        tasks.copy_task(2, **kwargs)
    with pytest.raises(type(task_error.value), match=str(task_error.value)):
        tasks.copy_baseline(**kwargs)


def test_is_reber_takes_strings_only():
    with pytest.raises(TypeError, match="string must be a str, got list"):
        tasks.is_reber(["B", "T", "E"])
    with pytest.raises(TypeError, match="embedded must be a bool"):
        tasks.is_reber("BTXSE", embedded="yes")

"""Tests of rnnbook.bptt: detaching a state between chunks, measuring saved tensors."""

import pytest
import torch
from torch import nn

from rnnbook.bptt import SavedTensors, detach_state, saved_tensors


def test_detach_state_keeps_values_and_cuts_history():
    h = torch.randn(2, 3, requires_grad=True) * 2
    c = torch.randn(2, 3, requires_grad=True) * 3
    for state in (h, (h, c), [h, c]):
        cut = detach_state(state)
        parts = (cut,) if isinstance(cut, torch.Tensor) else cut
        originals = (state,) if isinstance(state, torch.Tensor) else state
        assert type(cut) is type(state)
        for a, b in zip(parts, originals, strict=True):
            assert torch.equal(a, b)
            assert a.grad_fn is None and not a.requires_grad
    assert detach_state(None) is None


def test_detach_state_rejects_other_types():
    with pytest.raises(TypeError, match="state"):
        detach_state([1.0, 2.0])
    with pytest.raises(TypeError, match="state"):
        detach_state("h")


def test_detach_state_stops_the_gradient():
    cell = nn.RNNCell(2, 4)
    x = torch.randn(6, 1, 2, requires_grad=True)
    h = None
    for t in range(6):
        if t == 3:
            h = detach_state(h)
        h = cell(x[t], h)
    h.sum().backward()
    assert torch.all(x.grad[:3] == 0)
    assert torch.all(x.grad[3:].abs().sum(-1) > 0)


def test_saved_tensors_grows_linearly_with_steps_and_excludes_parameters():
    torch.manual_seed(0)
    cell = nn.RNNCell(3, 5)
    x = torch.randn(40, 2, 3)

    def run(steps):
        h = torch.zeros(2, 5)
        for t in range(steps):
            h = cell(x[t], h)
        return h.sum()

    sizes = [saved_tensors(lambda s=s: run(s), exclude=cell.parameters())[1] for s in (10, 20, 40)]
    assert all(isinstance(s, SavedTensors) for s in sizes)
    per_step = (sizes[1].nbytes - sizes[0].nbytes) / 10
    assert per_step > 0
    assert sizes[2].nbytes - sizes[1].nbytes == pytest.approx(20 * per_step)
    with_params = saved_tensors(lambda: run(10))[1]
    assert with_params.nbytes > sizes[0].nbytes      # the weights are saved too


def test_saved_tensors_counts_a_storage_once_and_returns_the_result():
    w = torch.randn(4, requires_grad=True)
    value, saved = saved_tensors(lambda: (w * w * w).sum())
    assert torch.allclose(value, (w.detach() ** 3).sum())
    assert saved == SavedTensors(count=2, nbytes=2 * 4 * 4)  # w, and w*w


def test_saved_tensors_rejects_a_non_callable():
    with pytest.raises(TypeError, match="fn"):
        saved_tensors(torch.ones(2))

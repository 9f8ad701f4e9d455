"""Truncated backpropagation through time: cut the graph, measure what autograd keeps.

Cut the graph between the chunks of truncated BPTT, and measure what autograd keeps in
memory for the backward pass.

    state = detach_state(state)                # between chunks: h, or (h, c) for an LSTM
    loss, saved = saved_tensors(lambda: loss_of(model, x), exclude=model.parameters())
    saved.nbytes, saved.count                  # the activations backward() will need

Backpropagation through time must keep every step's activations until the backward pass
has used them, so its memory grows with the number of steps it goes back. `saved_tensors`
makes that growth measurable, and `detach_state` is the one line that bounds it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["SavedTensors", "detach_state", "saved_tensors"]


def detach_state(state):
    """A recurrent state cut from the graph that made it: the same values, no history.

    `state` is a tensor h (RNN, GRU), a tuple or list of tensors such as (h, c) (LSTM), or
    None (no state yet), which is returned unchanged. The next backward pass stops here:
    that is truncated backpropagation through time.
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)) and all(isinstance(s, Tensor) for s in state):
        return type(state)(s.detach() for s in state)
    raise TypeError(f"state must be a tensor, a tuple of tensors or None, "
                    f"got {type(state).__name__}")


@dataclass(frozen=True)
class SavedTensors:
    """What autograd saved for the backward pass: distinct storages and their bytes."""

    count: int
    nbytes: int


def saved_tensors(fn: Callable[[], object],
                  exclude: Iterable[Tensor] = ()) -> tuple[object, SavedTensors]:
    """Call `fn()` and measure the tensors autograd saves for the backward pass.

    Each storage is counted once, at its full size, however many operations save it or
    views of it: that is the memory held until backward() runs. Storages of the tensors
    in `exclude` (typically `model.parameters()`, which exist anyway) are not counted.
    Returns fn's result and a SavedTensors(count, nbytes).
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function with no arguments, got {type(fn).__name__}")
    if isinstance(exclude, Tensor) or not hasattr(exclude, "__iter__"):
        raise TypeError(f"exclude must be an iterable of tensors, such as "
                        f"model.parameters(), got {type(exclude).__name__}")
    exclude = list(exclude)
    if not all(isinstance(t, Tensor) for t in exclude):
        raise TypeError("exclude must hold tensors only")
    excluded = {t.untyped_storage().data_ptr() for t in exclude}
    storages: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in excluded:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = fn()
    return result, SavedTensors(count=len(storages), nbytes=sum(storages.values()))

"""Device choice, a progress bar, and one small training loop.

    seed_everything(0)
    history = fit(model, batches, nn.MSELoss(), steps=500, lr=1e-3, clip_norm=1.0)
    history.loss[-1], history.evals[-1]

Set the environment variable RNNBOOK_QUIET=1 to silence progress bars (the test suite
does, so that a notebook's stored output does not depend on how fast the machine is).
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn


def choose_device(prefer: str | None = None) -> torch.device:
    """The best device available: CUDA, then Apple's MPS, then the CPU.

    Pass `prefer="cpu"` (or another device name) to choose yourself.
    """
    if prefer is not None:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("prefer='cuda' but no CUDA device is available")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError("prefer='mps' but no MPS device is available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def quiet() -> bool:
    """True when progress bars should be hidden (RNNBOOK_QUIET set to anything but 0)."""
    return os.environ.get("RNNBOOK_QUIET", "0") not in ("", "0")


def progress(iterable: Iterable, **kwargs):
    """`tqdm.auto.tqdm`, hidden when RNNBOOK_QUIET is set."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=quiet() or kwargs.pop("disable", False), **kwargs)


@dataclass
class History:
    """What `fit` records: the training loss and gradient norm of every step, and the
    metrics of every evaluation as dicts that include the step they were taken at."""

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    stopped_early: bool = False

    def metric(self, name: str) -> tuple[list[int], list[float]]:
        """(steps, values) of one evaluation metric, ready to plot."""
        if not self.evals or name not in self.evals[-1]:
            known = sorted(self.evals[-1]) if self.evals else []
            raise KeyError(f"no metric {name!r} was recorded; recorded: {known}")
        return [e["step"] for e in self.evals], [e[name] for e in self.evals]

    def first_step(self, name: str, *, at_least: float | None = None,
                   at_most: float | None = None) -> int | None:
        """The first evaluation step at which metric `name` reached `at_least` (or fell to
        `at_most`), or None if it never did: "steps to solve" a task."""
        if (at_least is None) == (at_most is None):
            raise ValueError("pass exactly one of at_least and at_most")
        for step, value in zip(*self.metric(name), strict=True):
            if (at_least is not None and value >= at_least) or \
                    (at_most is not None and value <= at_most):
                return step
        return None


def _batches_forever(batches):
    if callable(batches):
        while True:
            yield batches()
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("batches yielded nothing")


def fit(model: nn.Module, batches, loss_fn: Callable, *, steps: int,
        optimizer: torch.optim.Optimizer | None = None, lr: float = 1e-3,
        clip_norm: float | None = None, clip_value: float | None = None,
        evaluate: Callable[[nn.Module], dict] | None = None, eval_every: int = 100,
        patience: int | None = None, monitor: str = "loss", device=None,
        desc: str = "training") -> History:
    """Train `model` for `steps` optimiser steps and return its History.

    batches:  an iterable of (x, y) pairs, re-iterated when it runs out (a DataLoader or a
              list), or a function called with no arguments that returns a fresh (x, y).
    loss_fn:  called as loss_fn(model(x), y); returns a scalar tensor.
    optimizer: defaults to Adam with learning rate `lr`.
    clip_norm / clip_value: rescale the whole gradient to at most this norm, or clamp
              each component to [-clip_value, clip_value]. At most one of them.
    evaluate: a function model -> dict of metrics, run in eval mode without gradients
              every `eval_every` steps and after the last step.
    patience: stop after this many evaluations without improving `monitor` (lower is
              better), and restore the weights of the best evaluation.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if clip_norm is not None and clip_value is not None:
        raise ValueError("pass clip_norm or clip_value, not both")
    for name, value in (("clip_norm", clip_norm), ("clip_value", clip_value)):
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    if patience is not None and evaluate is None:
        raise ValueError("early stopping (patience) needs an evaluate function")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history = History()
    best, best_state, bad_evals = math.inf, None, 0
    data = _batches_forever(batches)

    def run_evaluation(step: int) -> bool:
        nonlocal best, best_state, bad_evals
        model.eval()
        with torch.no_grad():
            metrics = {k: float(v) for k, v in evaluate(model).items()}
        model.train()
        history.evals.append({"step": step, **metrics})
        if patience is None:
            return False
        if monitor not in metrics:
            raise KeyError(f"evaluate returned {sorted(metrics)}, which lacks {monitor!r}")
        if metrics[monitor] < best:
            best, best_state, bad_evals = metrics[monitor], copy.deepcopy(model.state_dict()), 0
        else:
            bad_evals += 1
        return bad_evals >= patience

    model.train()
    bar = progress(range(1, steps + 1), desc=desc)
    for step in bar:
        x, y = next(data)
        x, y = x.to(device), y.to(device)
        loss = loss_fn(model(x), y)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at step {step}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        params = [p for p in model.parameters() if p.grad is not None]
        norm = torch.nn.utils.clip_grad_norm_(params, clip_norm if clip_norm else math.inf)
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_(params, clip_value)
        optimizer.step()
        history.loss.append(loss.item())
        history.grad_norm.append(float(norm))
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.4f}")
        if evaluate is not None and (step % eval_every == 0 or step == steps):
            if run_evaluation(step):
                history.stopped_early = True
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history

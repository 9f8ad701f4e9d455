"""Device choice, a progress bar, and one small training loop.

    seed_everything(0)
    history = fit(model, batches, nn.MSELoss(), steps=500, lr=1e-3, clip_norm=1.0)
    history.loss[-1], history.evals[-1]

Set the environment variable RNNBOOK_QUIET=1 to silence progress bars (the test suite
does, so that a notebook's stored output does not depend on how fast the machine is).
"""

from __future__ import annotations

import copy
import inspect
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnbook.bptt import detach_state
from rnnbook.checks import _describe, check_bool, check_float, check_int

__all__ = ["History", "check_loss_inputs", "choose_device", "evaluating", "fit", "progress",
           "quiet"]


def choose_device(prefer: str | None = None) -> torch.device:
    """The best device available: CUDA, then Apple's MPS, then the CPU.

    Pass `prefer="cpu"` (or another device name) to choose yourself.
    """
    if prefer is not None:
        try:
            device = torch.device(prefer)
        except (RuntimeError, TypeError):
            raise ValueError(f"prefer must name a device such as 'cpu', 'cuda' or 'mps', "
                             f"got {prefer!r}") from None
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

    if not hasattr(iterable, "__iter__"):
        raise TypeError(f"iterable must be something to loop over, such as range(10), "
                        f"got {type(iterable).__name__}")
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
        if not isinstance(name, str):
            raise TypeError(f"name must be the name of a metric, got {type(name).__name__}")
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
        at_least = None if at_least is None else check_float("at_least", at_least)
        at_most = None if at_most is None else check_float("at_most", at_most)
        for step, value in zip(*self.metric(name), strict=True):
            if (at_least is not None and value >= at_least) or \
                    (at_most is not None and value <= at_most):
                return step
        return None


@contextmanager
def evaluating(model: nn.Module) -> Iterator[torch.device]:
    """Run the block with `model` in eval mode, and put its mode back after, even when the
    block raises. Yields the device of the model's parameters (the CPU if it has none)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {_describe(model)}")
    was_training = model.training
    model.eval()
    try:
        yield next((p.device for p in model.parameters()), torch.device("cpu"))
    finally:
        model.train(was_training)


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


def _to_device(value, device, what: str):
    """A tensor, or a tuple or list of them (a model may take several inputs), on `device`."""
    if isinstance(value, (Tensor, PackedSequence)):     # a PackedSequence is a tuple too
        return value.to(device)
    if isinstance(value, (tuple, list)) and value:
        return type(value)(_to_device(v, device, what) for v in value)
    raise TypeError(f"batches must give (x, y) pairs of tensors (or of tuples of tensors), "
                    f"but {what} is {_describe(value)}")


def _pair(batch, step: int) -> tuple:
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise TypeError(f"batches must give (x, y) pairs, got {_describe(batch)} at step {step}")
    return batch


ELEMENTWISE_LOSSES = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCELoss,
                      nn.BCEWithLogitsLoss)
ELEMENTWISE_FUNCTIONS = (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss,
                         F.binary_cross_entropy, F.binary_cross_entropy_with_logits)


def check_loss_inputs(loss_fn: Callable, prediction, target) -> None:
    """Refuse the classic silent bug: an element-wise loss given a prediction of shape
    (B,) and a target of shape (B, 1) (or the reverse) broadcasts them to (B, B) and
    trains on the wrong pairs. Other losses, such as cross-entropy, have their own rules."""
    elementwise = isinstance(loss_fn, ELEMENTWISE_LOSSES) or loss_fn in ELEMENTWISE_FUNCTIONS
    if elementwise and isinstance(prediction, Tensor) and isinstance(target, Tensor) \
            and prediction.shape != target.shape:
        name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
        raise ValueError(f"the model's prediction has shape {tuple(prediction.shape)} but the "
                         f"target has shape {tuple(target.shape)}: {name} would broadcast "
                         f"them and compare the wrong pairs. Make the shapes equal "
                         f"(SequenceModel(..., squeeze=True) predicts (B,) for a target (B,))")


def _scalar_loss(loss, step: int, batch) -> Tensor:
    if not isinstance(loss, Tensor) or loss.dim() != 0:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise ValueError(f"loss_fn must return a scalar tensor, got {shape} at step {step}")
    if not torch.isfinite(loss):
        bad = [name for name, t in zip("xy", batch, strict=True) if isinstance(t, Tensor)
               and t.is_floating_point() and not torch.isfinite(t).all()]
        if bad:                                       # bad data, not a diverging model
            raise ValueError(f"the batch's {' and '.join(bad)} contains NaN or infinity at "
                             f"step {step}; nothing was applied")
        raise FloatingPointError(f"the loss became {loss.item()} at step {step}; nothing was "
                                 f"applied. Lower the learning rate or clip the gradient")
    return loss


def fit(model: nn.Module, batches, loss_fn: Callable, *, steps: int,
        optimizer: torch.optim.Optimizer | None = None, lr: float = 1e-3,
        clip_norm: float | None = None, clip_value: float | None = None,
        evaluate: Callable[[nn.Module], dict] | None = None, eval_every: int = 100,
        patience: int | None = None, monitor: str = "loss", stateful: bool = False,
        device=None, desc: str = "training") -> History:
    """Train `model` for `steps` optimiser steps and return its History.

    batches:  an iterable of (x, y) pairs, re-iterated when it runs out (a DataLoader or a
              list), or a function called with no arguments that returns a fresh (x, y).
    loss_fn:  called as loss_fn(model(x), y); returns a scalar tensor. An element-wise loss
              (MSE, L1, BCE...) must get a prediction and a target of the same shape.
    optimizer: defaults to Adam with learning rate `lr`.
    clip_norm / clip_value: rescale the whole gradient to at most this norm, or clamp
              each component to [-clip_value, clip_value]. At most one of them.
    evaluate: a function model -> dict of metrics, run in eval mode without gradients
              every `eval_every` steps and after the last step.
    patience: stop after this many evaluations without improving `monitor` (lower is
              better), and restore the weights of the best evaluation.
    stateful: truncated backpropagation through time across batches. The model is called
              as model(x, state) and returns (output, state); the state it returns is
              detached (`rnnbook.bptt.detach_state`) and passed to the next batch, so
              consecutive batches must continue each other (`rnnbook.text.stream_batches`).

    A non-finite loss or gradient stops training with FloatingPointError before the step
    is applied (with ValueError if the batch itself holds NaN or infinity). On any exit the
    best weights (with `patience`) are restored, and the model is left in the mode (train
    or eval) it came in.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    if batches is None or not (callable(batches) or hasattr(batches, "__iter__")):
        raise TypeError(f"batches must be an iterable of (x, y) pairs or a function "
                        f"returning one, got {type(batches).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be a function model -> dict of metrics, "
                        f"got {type(evaluate).__name__}")
    if not isinstance(monitor, str):
        raise TypeError(f"monitor must be the name of a metric, got {type(monitor).__name__}")
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {type(desc).__name__}")
    steps = check_int("steps", steps)
    eval_every = check_int("eval_every", eval_every)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer such as "
                        f"torch.optim.Adam(model.parameters()), got {optimizer!r}")
    lr = check_float("lr", lr, above=0)
    if clip_norm is not None and clip_value is not None:
        raise ValueError("pass clip_norm or clip_value, not both")
    clip_norm = None if clip_norm is None else check_float("clip_norm", clip_norm, above=0)
    clip_value = None if clip_value is None else check_float("clip_value", clip_value, above=0)
    if patience is not None:
        patience = check_int("patience", patience)
        if evaluate is None:
            raise ValueError("early stopping (patience) needs an evaluate function")
    stateful = check_bool("stateful", stateful)
    if stateful:
        try:
            inspect.signature(model.forward).bind(None, None)
        except TypeError:
            raise TypeError(f"with stateful=True the model is called as model(x, state), but "
                            f"{type(model).__name__}.forward does not take a state") from None
    try:
        device = torch.device(device) if device is not None else params[0].device
    except (RuntimeError, TypeError):
        raise ValueError(f"device must name a device such as 'cpu' or 'cuda', "
                         f"got {device!r}") from None
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(params, lr=lr)
    history = History()
    best, best_state, bad_evals = math.inf, None, 0
    data = _batches_forever(batches)
    state = None

    def run_evaluation(step: int) -> bool:
        nonlocal best, best_state, bad_evals
        model.eval()
        try:
            with torch.no_grad():
                result = evaluate(model)
        finally:
            model.train()
        if not isinstance(result, Mapping):
            raise TypeError(f"evaluate must return a dict of metrics, got "
                            f"{_describe(result)}")
        metrics = {k: float(v) for k, v in result.items()}
        history.evals.append({"step": step, **metrics})
        if patience is None:
            return False
        if monitor not in metrics:
            raise ValueError(f"monitor={monitor!r} is not among the metrics evaluate returned, "
                             f"{sorted(metrics)}")
        if metrics[monitor] < best:
            best, best_state, bad_evals = metrics[monitor], copy.deepcopy(model.state_dict()), 0
        else:
            bad_evals += 1
        return bad_evals >= patience

    was_training = model.training
    model.train()
    try:
        bar = progress(range(1, steps + 1), desc=desc)
        for step in bar:
            x, y = _pair(next(data), step)
            x, y = _to_device(x, device, "x"), _to_device(y, device, "y")
            if stateful:
                result = model(x, state)
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise TypeError(f"with stateful=True the model must return (output, "
                                    f"state), got {_describe(result)}")
                out, state = result
                state = detach_state(state)
            else:
                out = model(x)
            check_loss_inputs(loss_fn, out, y)
            loss = _scalar_loss(loss_fn(out, y), step, (x, y))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grads = [p for p in params if p.grad is not None]
            norm = torch.nn.utils.clip_grad_norm_(grads, clip_norm or math.inf)
            if not torch.isfinite(norm):
                bad = [n for n, p in model.named_parameters()
                       if p.grad is not None and not torch.isfinite(p.grad).all()]
                raise FloatingPointError(f"the gradient of {bad[:5]} is not finite at step "
                                         f"{step} (the loss was {loss.item():.4g}); nothing "
                                         f"was applied")
            if clip_value is not None:
                torch.nn.utils.clip_grad_value_(grads, clip_value)
            optimizer.step()
            history.loss.append(loss.item())
            history.grad_norm.append(float(norm))
            if step % 20 == 0:
                bar.set_postfix(loss=f"{loss.item():.4f}")
            if evaluate is not None and (step % eval_every == 0 or step == steps):
                if run_evaluation(step):
                    history.stopped_early = True
                    break
    finally:
        if best_state is not None:
            model.load_state_dict(best_state)
        model.train(was_training)
    return history

"""Fair comparisons between recurrent layers: parameter counts, matched sizes, FLOPs.

    param_count("lstm", input_size=32, hidden_size=128)       # 82,944, as nn.LSTM's numel
    h = matched_hidden_size(lambda h: SequenceModel("gru", 8, h, 4), target=5_000)
    matmul_flops_per_step("gru", 32, 128) / matmul_flops_per_step("lstm", 32, 128)  # 0.75

Comparing an LSTM with 64 units to a GRU with 64 units compares models of different sizes:
the LSTM has 4/3 as many parameters. `matched_hidden_size` finds the hidden size that
gives any model (recurrent layer, head, embedding, all included) a target parameter count.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from rnnbook.checks import check_bool, check_int
from rnnbook.kinds import check_kind

__all__ = ["matched_hidden_size", "matmul_flops_per_step", "num_parameters", "param_count"]


def param_count(kind: str, input_size: int, hidden_size: int, num_layers: int = 1,
                bidirectional: bool = False, biases: int = 2) -> int:
    """Parameters of a recurrent layer, from the formula rather than by counting.

    Each layer and direction holds gates * (H*I + H*H + biases*H) numbers, where I is the
    layer's input size (input_size for the first layer, H or 2H for later ones). PyTorch
    keeps two bias vectors (biases=2); Keras's LSTM and SimpleRNN keep one (biases=1).
    """
    gates = check_kind(kind).n_gates
    check_int("input_size", input_size)
    check_int("hidden_size", hidden_size)
    check_int("num_layers", num_layers)
    check_int("biases", biases, minimum=0, maximum=2)
    directions = 2 if check_bool("bidirectional", bidirectional) else 1
    h, total = hidden_size, 0
    for layer in range(num_layers):
        i = input_size if layer == 0 else h * directions
        total += directions * gates * (h * i + h * h + biases * h)
    return total


def num_parameters(model: nn.Module) -> int:
    """The number of trainable numbers in a model."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def matched_hidden_size(build: Callable[[int], nn.Module], target: int,
                        max_hidden: int = 4096) -> int:
    """The hidden size h for which `build(h)` has the parameter count closest to `target`.

    `build` maps a hidden size to a model; its parameter count must grow with h (it does
    for every layer and model in this book). Ties go to the smaller model.
    """
    if not callable(build):
        raise TypeError(f"build must be a function of the hidden size, got {type(build).__name__}")
    check_int("target", target)
    check_int("max_hidden", max_hidden)
    def count(h: int) -> int:
        model = build(h)
        if not isinstance(model, nn.Module):
            raise TypeError(f"build must return a torch.nn.Module, got {type(model).__name__} "
                            f"for hidden size {h}")
        return num_parameters(model)

    hi = 1                              # double until big enough: never build a huge model
    while count(hi) < target:
        if hi >= max_hidden:
            raise ValueError(f"even hidden_size={max_hidden} gives fewer than "
                             f"target={target} parameters; raise max_hidden")
        hi = min(2 * hi, max_hidden)
    lo = max(1, hi // 2)
    while lo < hi:                      # the smallest h with count(h) >= target
        mid = (lo + hi) // 2
        if count(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    if lo > 1 and target - count(lo - 1) <= count(lo) - target:
        return lo - 1
    return lo


def matmul_flops_per_step(kind: str, input_size: int, hidden_size: int,
                          batch: int = 1) -> int:
    """Floating-point operations of one time step's matrix products (2 per multiply-add).

    The products W_ih x and W_hh h dominate a step's cost once H is moderately large; the
    element-wise gate arithmetic adds O(H) more, which this count leaves out.
    """
    gates = check_kind(kind).n_gates
    check_int("input_size", input_size)
    check_int("hidden_size", hidden_size)
    check_int("batch", batch)
    return 2 * batch * gates * hidden_size * (input_size + hidden_size)

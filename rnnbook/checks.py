"""Argument checks for the package's public functions, with one wording of messages.

Every message names the argument, says what was expected and shows what came:

    check_int("hidden_size", 0)   # ValueError: hidden_size must be an int >= 1, got 0

A value of the wrong type raises TypeError, a value of the right type out of range raises
ValueError, as in Python and PyTorch; a tensor of the wrong shape given to a layer raises
InputError, which is both a ValueError and torch's RuntimeError. NumPy's integers and
floats count as numbers; booleans do not count as integers, though Python lets True stand
for 1.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

__all__ = ["InputError", "check_bool", "check_choice", "check_float", "check_int", "to_numpy"]


class InputError(ValueError, RuntimeError):
    """A tensor of the wrong shape, size or dtype given to a recurrent cell or layer.

    It is a ValueError, as the book promises for bad input, and a RuntimeError, which is
    what torch.nn raises in the same places, so code written for either catches it.
    """


def _describe(value) -> str:
    """What came, for an error message: a tensor by its shape, anything short by its repr,
    a long list or tuple by its length, anything else by its type."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    text = repr(value)
    if len(text) <= 60:
        return text
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def check_int(name: str, value, minimum: int | None = 1, maximum: int | None = None) -> int:
    """`value` as a Python int, if it is an integer (not a bool) in [minimum, maximum]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_describe(value)}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = (f">= {minimum}" if maximum is None else f"<= {maximum}" if minimum is None
                  else f"in [{minimum}, {maximum}]")
        raise ValueError(f"{name} must be an int {bounds}, got {value}")
    return value


def check_float(name: str, value, minimum: float | None = None, maximum: float | None = None,
                *, above: float | None = None, below: float | None = None) -> float:
    """`value` as a finite Python float within the bounds given.

    minimum/maximum are inclusive bounds, above/below exclusive ones.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    for ok, words, bound in ((minimum is None or value >= minimum, ">=", minimum),
                             (maximum is None or value <= maximum, "<=", maximum),
                             (above is None or value > above, ">", above),
                             (below is None or value < below, "<", below)):
        if not ok:
            raise ValueError(f"{name} must be {words} {bound}, got {value}")
    return value


def check_bool(name: str, value) -> bool:
    """`value` if it is a bool: strings such as "no" are truthy and must not pass."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {_describe(value)}")
    return bool(value)


def check_choice(name: str, value, choices) -> object:
    """`value` if it is one of `choices`."""
    if not isinstance(value, str | int | None) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {_describe(value)}")
    return value


def to_numpy(values, name: str, *, ndim: tuple[int, ...] | None = None,
             finite: bool = True, dtype=np.float64) -> np.ndarray:
    """A NumPy array of numbers from a list, array, tensor or pandas object.

    ndim: the numbers of dimensions allowed. finite: reject NaN and infinity, saying where
    the first ones are. The result has `dtype` (None keeps the input's).
    """
    if hasattr(values, "to_numpy"):                       # pandas Series or DataFrame
        values = values.to_numpy()
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must hold numbers, got a {type(values).__name__}")
    try:
        arr = np.asarray(values)
    except ValueError as err:                             # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of numbers: {err}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} must hold numbers, got booleans")
    if ndim is not None and arr.ndim not in ndim:
        allowed = " or ".join(str(n) for n in ndim)
        raise ValueError(f"{name} must have {allowed} dimension(s), got shape {arr.shape}")
    if finite and arr.dtype.kind == "f" and not np.isfinite(arr).all():
        where = np.argwhere(~np.isfinite(arr))[:5].tolist()
        raise ValueError(f"{name} contains NaN or infinity at {where}; fill or drop them first")
    return arr if dtype is None else arr.astype(dtype)

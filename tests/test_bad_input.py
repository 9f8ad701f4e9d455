"""Bad input to every public callable of rnnbook, as a careless user would give it.

The README promises that bad input "gets a clear ValueError or TypeError that names the
argument and what was expected". This module holds that promise to account with a table:
one row per (function, argument, bad value, expected exception, message fragment). The rows
are generated from each callable's arguments and their kinds (an int >= 1, a bool, a data
array...), so every argument meets at least a wrong type, an out-of-range value, and where
data goes in a wrong shape, an empty array and NaN or infinity. A row passes when the call
raises the expected exception (TypeError or ValueError; InputError counts as ValueError)
and the message matches the fragment, which names the argument and what was expected.

test_every_public_callable_has_rows checks that every name in the __all__ of every module
of the package's core meets the table, or is listed in NO_ARGUMENTS with the reason.
"""

from __future__ import annotations

import importlib
import math
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

matplotlib.use("Agg")

NAN, INF = float("nan"), float("inf")
MODULES = ["checks", "seeding", "gates", "cells", "layers", "variants", "kinds", "fast", "scan",
           "dropout", "tasks", "series", "text", "download", "models", "train", "bptt", "gradients",
           "baselines", "compare", "bench", "plot"]


def mod(name: str):
    return importlib.import_module(f"rnnbook.{name}")


class Fresh:
    """A bad value built anew for each call (tensors, generators, figures)."""

    def __init__(self, make, label: str):
        self.make, self.label = make, label

    def __repr__(self) -> str:
        return self.label


@dataclass
class Target:
    """How to call one public callable: `call(**kwargs)`, with `good()` valid kwargs."""

    name: str
    call: Any
    good: Any = dict

    def run(self, **change):
        kwargs = self.good()
        kwargs.update({k: v.make() if isinstance(v, Fresh) else v for k, v in change.items()})
        return self.call(**kwargs)


@dataclass
class Row:
    target: str
    arg: str
    bad: Any
    error: type
    match: str
    names: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return f"{self.target}({self.arg}={self.bad!r})"


TARGETS: dict[str, Target] = {}
ROWS: list[Row] = []


def target(name, call, good=dict):
    TARGETS[name] = Target(name, call, good)


def row(name, arg, bad, error, match, names=()):
    ROWS.append(Row(name, arg, bad, error, match, names or (arg,)))


def _named_row(label):
    """row(), with messages that name the data by `label` rather than the argument."""
    def named(name, arg, bad, error, match, names=()):
        row(name, arg, bad, error, match, names or (label,))
    return named


# ---------------------------------------------------------------------------
# Kinds of argument, and the bad values each kind meets
# ---------------------------------------------------------------------------

def int_arg(name, arg, minimum=1, maximum=None, allow_none=False):
    """An int argument: wrong types (str, float, bool, None), out of range."""
    for bad in ("3", 2.5, True, *(() if allow_none else (None,)), np.float64(2.0)):
        row(name, arg, bad, TypeError, rf"{arg} must be an int, got")
    if minimum is not None:
        for bad in (minimum - 1, minimum - 10**6):
            row(name, arg, bad, ValueError, rf"{arg} must be an int (>=|in) .*got {bad}")
    if maximum is not None:
        row(name, arg, maximum + 1, ValueError, rf"{arg} must be an int (<=|in) .*got")


def float_arg(name, arg, low=None, strict=False, high=None, allow_none=False):
    """A number: wrong types, NaN and infinity, out of range."""
    for bad in ("0.5", *(() if allow_none else (None,)), True, [0.5]):
        row(name, arg, bad, TypeError, rf"{arg} must be a number, got")
    for bad in (NAN, INF, -INF):
        row(name, arg, bad, ValueError, rf"{arg} must be a finite number, got")
    if low is not None:
        row(name, arg, low if strict else low - 1.0, ValueError,
            rf"{arg} must be {'>' if strict else '>='} {low:g}(\.0)?, got")
    if high is not None:
        row(name, arg, high + 1.0, ValueError, rf"{arg} must be (<=|<) ")


def bool_arg(name, arg):
    for bad in ("yes", "False", 1, 0, None):
        row(name, arg, bad, TypeError, rf"{arg} must be a bool, got")


def choice_arg(name, arg, bad_values=("nope", None, 3, "")):
    for bad in bad_values:
        row(name, arg, bad, ValueError, rf"{arg} must be one of .*, got")


def data_arg(name, arg, shape_match=None, empty_match=None, label=None):
    """An array of numbers (list, array, tensor, pandas): not numbers, wrong shape, empty,
    NaN and infinity."""
    label = label or arg
    row = _named_row(label)
    row(name, arg, "abc", TypeError, rf"{label} must hold numbers")
    row(name, arg, np.array(["a", "b"]), TypeError, rf"{label} must hold numbers")
    row(name, arg, [True, False], TypeError, rf"{label} must hold numbers")
    row(name, arg, [[1.0, 2.0], [3.0]], ValueError, rf"{label} must be a rectangular array")
    row(name, arg, np.zeros((2, 2, 2, 2)), ValueError,
        shape_match or rf"{label} must have 1 or 2 dimension")
    row(name, arg, np.array([]), ValueError, empty_match or rf"{label} must (hold at least|be)")
    for bad in (NAN, INF, -INF):
        row(name, arg, np.array([1.0, bad, 2.0, 3.0, 4.0]), ValueError,
            rf"{label} contains NaN or infinity at \[\[1")


def tensor(*shape, dtype=torch.float32):
    return Fresh(lambda: torch.zeros(*shape, dtype=dtype), f"zeros{shape}:{dtype}")


def seed_arg(name):
    row(name, "seed", -1, ValueError, r"seed must be an int >= 0, got -1")
    row(name, "seed", 2.0, TypeError, r"seed must be an int, got 2.0")
    row(name, "seed", True, TypeError, r"seed must be an int, got True")
    row(name, "seed", "0", TypeError, r"seed must be an int, got '0'")
    row(name, "seed", 2**32, ValueError, r"seed plus RNNBOOK_SEED_SHIFT must be at most")


# ---------------------------------------------------------------------------
# checks and seeding
# ---------------------------------------------------------------------------

target("checks.check_int", lambda **kw: mod("checks").check_int(**kw),
       lambda: dict(name="n", value=3))
for bad in ("3", 2.5, True, None, np.bool_(True), [3]):
    row("checks.check_int", "value", bad, TypeError, r"n must be an int, got", names=("n",))
row("checks.check_int", "value", 0, ValueError, r"n must be an int >= 1, got 0", names=("n",))
target("checks.check_float", lambda **kw: mod("checks").check_float(**kw),
       lambda: dict(name="x", value=0.5, minimum=0.0))
for bad in ("0.5", None, True, complex(1, 1)):
    row("checks.check_float", "value", bad, TypeError, r"x must be a number, got", names=("x",))
for bad in (NAN, INF, -INF):
    row("checks.check_float", "value", bad, ValueError, r"x must be a finite number",
        names=("x",))
row("checks.check_float", "value", -1.0, ValueError, r"x must be >= 0.0, got -1.0", names=("x",))
target("checks.check_bool", lambda **kw: mod("checks").check_bool(**kw),
       lambda: dict(name="flag", value=True))
for bad in ("no", 1, None):
    row("checks.check_bool", "value", bad, TypeError, r"flag must be a bool", names=("flag",))
target("checks.check_choice", lambda **kw: mod("checks").check_choice(**kw),
       lambda: dict(name="kind", value="a", choices=("a", "b")))
for bad in ("c", None, ["a"], 1.5):
    row("checks.check_choice", "value", bad, ValueError, r"kind must be one of \('a', 'b'\)",
        names=("kind",))
target("checks.to_numpy", lambda **kw: mod("checks").to_numpy(**kw),
       lambda: dict(values=[1.0, 2.0], name="data", ndim=(1, 2)))
data_arg("checks.to_numpy", "values", label="data", empty_match=r"never")   # empty is allowed
ROWS.pop(-4)                                       # (the empty row: to_numpy accepts empty)

for fn in ("shifted", "seed_everything", "generator", "numpy_rng"):
    target(f"seeding.{fn}", lambda fn=fn, **kw: getattr(mod("seeding"), fn)(**kw),
           lambda: dict(seed=0))
    seed_arg(f"seeding.{fn}")


def seed_shift_with(value):
    import os
    old = os.environ.get("RNNBOOK_SEED_SHIFT")
    os.environ["RNNBOOK_SEED_SHIFT"] = value
    try:
        return mod("seeding").seed_shift()
    finally:
        if old is None:
            del os.environ["RNNBOOK_SEED_SHIFT"]
        else:
            os.environ["RNNBOOK_SEED_SHIFT"] = old


target("seeding.seed_shift", lambda RNNBOOK_SEED_SHIFT: seed_shift_with(RNNBOOK_SEED_SHIFT),
       lambda: dict(RNNBOOK_SEED_SHIFT="0"))
for bad in ("-1", "1.5", "one", "0x2"):
    row("seeding.seed_shift", "RNNBOOK_SEED_SHIFT", bad, ValueError,
        r"RNNBOOK_SEED_SHIFT must be a whole number >= 0")


# ---------------------------------------------------------------------------
# gates, cells, layers, variants, kinds, fast
# ---------------------------------------------------------------------------

B, I, H = 2, 3, 4
N_GATES = {"rnn_step": 1, "lstm_step": 4, "gru_step": 3, "cho_gru_step": 3}
for fn, n in N_GATES.items():
    parts = 2 if fn == "lstm_step" else 1
    target(f"gates.{fn}", lambda fn=fn, **kw: getattr(mod("gates"), fn)(**kw),
           lambda n=n, parts=parts: dict(x_proj=torch.zeros(B, n * H),
                                         state=tuple(torch.zeros(B, H) for _ in range(parts)),
                                         w_hh=torch.zeros(n * H, H), b_hh=torch.zeros(n * H)))
    g = f"gates.{fn}"
    row(g, "x_proj", tensor(B, n * H + 1), ValueError, r"x_proj must be a tensor \(batch, ")
    row(g, "x_proj", tensor(n * H), ValueError, r"x_proj must be a tensor \(batch, ")
    row(g, "x_proj", [[0.0] * (n * H)] * B, TypeError, r"x_proj must be a torch.Tensor")
    row(g, "state", tensor(B, H), TypeError, r"state must be a tuple")
    row(g, "state", (), TypeError, r"state must be a tuple")
    row(g, "state", Fresh(lambda p=parts: tuple(torch.zeros(H) for _ in range(p)), "(zeros(H),)"),
        ValueError, r"h must be a tensor of shape \(2, 4\), got a tensor of shape \(4,\)",
        names=("h",))
    row(g, "state", Fresh(lambda p=parts: tuple(torch.zeros(1, H) for _ in range(p)),
                          "(zeros(1, H),)"), ValueError, r"h must be a tensor of shape \(2, 4\)",
        names=("h",))
    row(g, "state", Fresh(lambda p=parts: tuple(torch.zeros(B, H).double() for _ in range(p)),
                          "(float64,)"), ValueError, r"h has dtype torch.float64", names=("h",))
    row(g, "w_hh", tensor(n * H, H + 1), ValueError, r"w_hh must be a tensor of shape")
    row(g, "w_hh", tensor(n * H), ValueError, r"w_hh a tensor")
    row(g, "w_hh", None, TypeError, r"w_hh must be a torch.Tensor, got None")
    row(g, "b_hh", tensor(H + 1), ValueError, r"b_hh must be a tensor of shape")
    row(g, "b_hh", [0.0] * (n * H), TypeError,
        r"b_hh must be a torch.Tensor, got (\[0.0, |a list of)")
    row(g, "b_hh", tensor(n * H, dtype=torch.float64), ValueError, r"b_hh has dtype")
for bad in ("sigmoid", None, "ReLU"):
    row("gates.rnn_step", "nonlinearity", bad, ValueError, r"nonlinearity must be one of")
row("gates.lstm_step", "w_hr", tensor(H, 2), ValueError, r"w_hr must be a tensor of shape")

CELL_CLASSES = {"cells.RNNCell": ("cells", "RNNCell"), "cells.LSTMCell": ("cells", "LSTMCell"),
                "cells.GRUCell": ("cells", "GRUCell"), "cells.CellBase": ("cells", "CellBase"),
                "variants.ChoGRUCell": ("variants", "ChoGRUCell")}
LAYER_CLASSES = {"layers.RNN": ("layers", "RNN"), "layers.LSTM": ("layers", "LSTM"),
                 "layers.GRU": ("layers", "GRU"), "layers.RecurrentBase": ("layers",
                                                                           "RecurrentBase"),
                 "variants.ChoGRU": ("variants", "ChoGRU"), "fast.FastLSTM": ("fast", "FastLSTM"),
                 "dropout.DropoutRNN": ("dropout", "DropoutRNN"),
                 "dropout.DropoutLSTM": ("dropout", "DropoutLSTM"),
                 "dropout.DropoutGRU": ("dropout", "DropoutGRU")}


def cls(spec):
    return getattr(mod(spec[0]), spec[1])


for name, spec in CELL_CLASSES.items():
    target(name, lambda spec=spec, **kw: cls(spec)(**kw),
           lambda: dict(input_size=I, hidden_size=H))
    int_arg(name, "input_size")
    int_arg(name, "hidden_size")
    bool_arg(name, "bias")
    is_lstm = spec[1] == "LSTMCell"
    target(f"{name}.forward", lambda spec=spec, **kw: cls(spec)(I, H)(**kw),
           lambda: dict(input=torch.zeros(B, I), hx=None))
    f = f"{name}.forward"
    row(f, "input", [[0.0] * I] * B, TypeError, r"input must be a torch.Tensor, got list")
    row(f, "input", None, TypeError, r"input must be a torch.Tensor, got NoneType")
    row(f, "input", tensor(B, 1, I), ValueError, r"input must be 1-D \(unbatched\) or 2-D")
    row(f, "input", tensor(B, I + 1), ValueError, r"input must have input_size=3 features")
    row(f, "input", tensor(B, I, dtype=torch.float64), ValueError,
        r"input dtype \(torch.float64\) does not match weight dtype")
    row(f, "input", tensor(B, I, dtype=torch.long), ValueError, r"must be floating point")
    row(f, "hx", tensor(B + 1, H), (TypeError if is_lstm else ValueError),
        r"hx \(the state\) must be a tuple \(h, c\)" if is_lstm else
        r"hx must have shape \(2, 4\), got \(3, 4\)")
    row(f, "hx", Fresh(lambda: (torch.zeros(B, H), torch.zeros(B, H)), "(h, c)") if not is_lstm
        else tensor(B, H), TypeError, r"hx \(the state\) must be")
    row(f, "hx", Fresh(lambda lstm=is_lstm: (torch.zeros(B, H, dtype=torch.float64),) * (2 if lstm
                                                                                     else 1)
                       if lstm else torch.zeros(B, H, dtype=torch.float64), "float64 state"),
        ValueError, r"dtype \(torch.float64\) does not match the input", names=("hx", "h", "c"))
    row(f, "hx", Fresh(lambda lstm=is_lstm: (torch.zeros(H),) * 2 if lstm else torch.zeros(H),
                       "unbatched state"), ValueError, r"must have shape \(2, 4\), got \(4,\)",
        names=("hx", "h", "c"))
    row(f, "hx", [0.0] * H, TypeError, r"(must be a torch.Tensor|must be a tuple|must be a "
                                       r"single tensor)", names=("hx", "h", "c"))
row("cells.RNNCell", "nonlinearity", "sigmoid", ValueError, r"nonlinearity must be one of")
row("cells.RNNCell", "nonlinearity", None, ValueError, r"nonlinearity must be one of")

for name, spec in LAYER_CLASSES.items():
    target(name, lambda spec=spec, **kw: cls(spec)(**kw),
           lambda: dict(input_size=I, hidden_size=H))
    int_arg(name, "input_size")
    int_arg(name, "hidden_size")
    int_arg(name, "num_layers")
    for arg in ("bias", "batch_first", "bidirectional"):
        bool_arg(name, arg)
    for bad in (True, "0.5", 1.5, -0.1, NAN):
        row(name, "dropout", bad, ValueError, r"dropout must be a number in \[0, 1\]")
    for bad in (None, [0.5]):                    # torch.nn: TypeError where float() fails
        row(name, "dropout", bad, TypeError, r"dropout must be a number in \[0, 1\]")
    is_lstm = spec[1] in ("LSTM", "FastLSTM", "DropoutLSTM")
    if spec[1] in ("RNN", "GRU", "ChoGRU", "DropoutRNN", "DropoutGRU"):
        for bad in (0, 2):
            row(name, "proj_size", bad, ValueError, r"proj_size applies to an LSTM only")
    if spec[1] in ("LSTM", "DropoutLSTM"):
        int_arg(name, "proj_size", minimum=0, maximum=H - 1)
    target(f"{name}.forward", lambda spec=spec, **kw: cls(spec)(I, H)(**kw),
           lambda: dict(input=torch.zeros(5, B, I), hx=None))
    f = f"{name}.forward"
    row(f, "input", [[[0.0] * I]], TypeError, r"input must be a torch.Tensor, got list")
    row(f, "input", np.zeros((5, B, I), dtype=np.float32), TypeError,
        r"input must be a torch.Tensor, got ndarray")
    row(f, "input", tensor(5, B, 1, I), ValueError, r"input must be 2-D \(unbatched\) or 3-D")
    row(f, "input", tensor(I), ValueError, r"input must be 2-D \(unbatched\) or 3-D")
    row(f, "input", tensor(5, B, I + 1), ValueError, r"input must have input_size=3 features")
    row(f, "input", tensor(0, B, I), ValueError, r"Expected sequence length to be larger than 0")
    row(f, "input", tensor(0, I), ValueError, r"Expected sequence length to be larger than 0")
    row(f, "input", tensor(5, B, I, dtype=torch.float64), ValueError,
        r"input dtype \(torch.float64\) does not match weight dtype \(torch.float32\)")
    row(f, "input", tensor(5, B, I, dtype=torch.long), ValueError, r"must be floating point")
    row(f, "input", tensor(5, B, I, dtype=torch.float16), ValueError, r"does not match weight")
    state = (lambda shape: Fresh(lambda: (torch.zeros(shape),) * 2, f"(h0, c0) {shape}")) \
        if is_lstm else (lambda shape: tensor(*shape))
    row(f, "hx", state((2, B, H)), ValueError, r"h0 must have shape \(1, 2, 4\), got \(2, 2, 4\)",
        names=("hx", "h0"))
    row(f, "hx", state((1, B + 1, H)), ValueError, r"h0 must have shape \(1, 2, 4\)",
        names=("hx", "h0"))
    row(f, "hx", state((B, H)), ValueError, r"h0 must have shape \(1, 2, 4\), got \(2, 4\)",
        names=("hx", "h0"))
    row(f, "hx", Fresh(lambda lstm=is_lstm: (torch.zeros(1, B, H, dtype=torch.float64),) * 2
                       if lstm else torch.zeros(1, B, H, dtype=torch.float64), "float64 hx"),
        ValueError, r"h0 dtype \(torch.float64\) does not match the input", names=("hx", "h0"))
    row(f, "hx", Fresh(lambda lstm=is_lstm: torch.zeros(1, B, H) if lstm else
                       (torch.zeros(1, B, H),), "hx of the other form"), TypeError,
        r"hx \(the state\) must be (a tuple \(h0, c0\)|a single tensor h0)")
    row(f, "hx", 0.0, TypeError, r"(hx \(the state\) must be a tuple|h0 must be a torch.Tensor)",
        names=("hx", "h0"))
row("layers.RNN", "nonlinearity", "sigmoid", ValueError, r"nonlinearity must be one of")
row("layers.RNN", "nonlinearity", None, ValueError, r"nonlinearity must be one of")
row("fast.FastLSTM", "proj_size", 2, ValueError, r"FastLSTM has no projections")
row("fast.FastLSTM.forward", "input",
    Fresh(lambda: nn.utils.rnn.pack_sequence([torch.zeros(3, I)]), "PackedSequence"),
    TypeError, r"FastLSTM takes padded input only")
row("layers.LSTM.forward", "input",
    Fresh(lambda: nn.utils.rnn.pack_sequence([torch.zeros(3, I + 1)]), "packed, 4 features"),
    ValueError, r"input must have input_size=3 features")

target("fast.LSTMSequence.apply", lambda **kw: mod("fast").LSTMSequence.apply(*kw.values()),
       lambda: dict(x_proj=torch.zeros(5, B, 4 * H), h0=torch.zeros(B, H),
                    c0=torch.zeros(B, H), w_hh=torch.zeros(4 * H, H)))
row("fast.LSTMSequence.apply", "x_proj", tensor(5, B, 3 * H), ValueError,
    r"x_proj must be \(T, B, 4 \* H\) = \(T, 2, 16\)")
row("fast.LSTMSequence.apply", "x_proj", tensor(B, 4 * H), ValueError, r"x_proj must be \(T, B")
row("fast.LSTMSequence.apply", "x_proj", tensor(0, B, 4 * H), ValueError,
    r"x_proj must hold at least one step")
row("fast.LSTMSequence.apply", "h0", tensor(B + 1, H), ValueError,
    r"h0 must have shape \(2, 4\), got \(3, 4\)")
row("fast.LSTMSequence.apply", "c0", tensor(H), ValueError, r"c0 must have shape \(2, 4\)")
row("fast.LSTMSequence.apply", "w_hh", tensor(4 * H, H + 1), ValueError,
    r"w_hh must have shape \(16, 4\)")
row("fast.LSTMSequence.apply", "h0", tensor(B, H, dtype=torch.float64), ValueError,
    r"h0 has dtype torch.float64")
row("fast.LSTMSequence.apply", "w_hh", [0.0], TypeError, r"w_hh must be a torch.Tensor")

# The ladder of fast paths (rnnbook.fast) and the scans (rnnbook.scan): chapter 15.
T5 = 5


def _rung_args():
    return dict(x=torch.zeros(T5, B, I), h0=torch.zeros(B, H), c0=torch.zeros(B, H),
                w_ih=torch.zeros(4 * H, I), w_hh=torch.zeros(4 * H, H), b_ih=torch.zeros(4 * H),
                b_hh=torch.zeros(4 * H))


for rung in ("lstm_per_gate", "lstm_hoisted", "lstm_fused", "lstm_hand_written",
             "lstm_c_kernel"):
    rf = f"fast.{rung}"
    target(rf, lambda rung=rung, **kw: getattr(mod("fast"), rung)(**kw), _rung_args)
    row(rf, "x", tensor(B, I), ValueError, r"x must be \(T, B, I\) with T >= 1, got \(2, 3\)")
    row(rf, "x", tensor(0, B, I), ValueError, r"x must be \(T, B, I\) with T >= 1")
    row(rf, "x", [[0.0]], TypeError, r"x must be a torch.Tensor")
    row(rf, "h0", tensor(B + 1, H), ValueError, r"h0 must have shape \(2, 4\)")
    row(rf, "c0", tensor(H), ValueError, r"c0 must have shape \(2, 4\)")
    row(rf, "w_ih", tensor(4 * H, I + 1), ValueError, r"w_ih must have shape \(16, 3\)")
    row(rf, "w_hh", tensor(3 * H, H), ValueError, r"w_hh must have shape \(16, 4\)")
    row(rf, "b_ih", tensor(4 * H + 1), ValueError, r"b_ih must have shape \(16,\)")
    row(rf, "b_hh", tensor(4 * H, dtype=torch.float64), ValueError, r"b_hh has dtype")
    row(rf, "w_hh", None, TypeError, r"w_hh must be a torch.Tensor")
target("fast.KernelLSTMSequence.apply",
       lambda **kw: mod("fast").KernelLSTMSequence.apply(*kw.values()),
       lambda: dict(x_proj=torch.zeros(5, B, 4 * H), h0=torch.zeros(B, H),
                    c0=torch.zeros(B, H), w_hh=torch.zeros(4 * H, H)))
row("fast.KernelLSTMSequence.apply", "x_proj", tensor(5, B, 3 * H), ValueError,
    r"x_proj must be \(T, B, 4 \* H\)")
row("fast.KernelLSTMSequence.apply", "x_proj", tensor(5, B, 4 * H, dtype=torch.float16),
    ValueError, r"h0 has dtype", names=("h0",))
row("fast.KernelLSTMSequence.apply", "h0", tensor(B, H + 1), ValueError, r"h0 must have shape")
row("fast.KernelLSTMSequence.apply", "w_hh", "w", TypeError, r"w_hh must be a torch.Tensor")
target("fast.KernelLSTM", lambda **kw: mod("fast").KernelLSTM(**kw),
       lambda: dict(input_size=I, hidden_size=H))
row("fast.KernelLSTM", "proj_size", 2, ValueError, r"FastLSTM has no projections")
row("fast.KernelLSTM", "hidden_size", 0, ValueError, r"hidden_size must be an int >= 1")
target("fast.kernel_function", lambda **kw: mod("fast").kernel_function(**kw),
       lambda: dict(name="scan_forward", dtype=torch.float32))
choice_arg("fast.kernel_function", "name", ("scan", None, 3))
for bad in (torch.float16, "float32", None):
    row("fast.kernel_function", "dtype", bad, ValueError, r"dtype must be torch.float32 or "
        r"torch.float64")
target("fast.build_kernels", lambda **kw: mod("fast").build_kernels(**kw))
bool_arg("fast.build_kernels", "force")

target("scan.scan_loop", lambda **kw: mod("scan").scan_loop(**kw),
       lambda: dict(a=torch.ones(T5, B, H), b=torch.ones(T5, B, H), h0=torch.ones(B, H)))
target("scan.linear_scan", lambda **kw: mod("scan").linear_scan(**kw),
       lambda: dict(a=torch.ones(T5, B, H), b=torch.ones(T5, B, H), h0=torch.ones(B, H)))
target("scan.LinearScan.apply", lambda **kw: mod("scan").LinearScan.apply(*kw.values()),
       lambda: dict(a=torch.ones(T5, B, H), b=torch.ones(T5, B, H), h0=torch.ones(B, H)))
target("scan.scan_log", lambda **kw: mod("scan").scan_log(**kw),
       lambda: dict(log_a=torch.zeros(T5, B, H), log_b=torch.zeros(T5, B, H),
                    log_h0=torch.zeros(B, H)))
for sf, (s_a, s_b, s_h0) in (("scan.scan_loop", ("a", "b", "h0")),
                        ("scan.linear_scan", ("a", "b", "h0")),
                        ("scan.LinearScan.apply", ("a", "b", "h0")),
                        ("scan.scan_log", ("log_a", "log_b", "log_h0"))):
    row(sf, s_a, tensor(0, B, H), ValueError, rf"{s_a} must be \(T, ...\) with T >= 1")
    row(sf, s_a, tensor(H), ValueError, rf"{s_a} must be \(T, ...\)")
    row(sf, s_b, tensor(T5, B, H + 1), ValueError, rf"{s_b} must have the shape of {s_a}")
    row(sf, s_h0, tensor(B + 1, H), ValueError, rf"{s_h0} must have shape \(2, 4\)")
    row(sf, s_h0, tensor(B, H, dtype=torch.float64), ValueError, rf"{s_h0} has dtype")
    row(sf, s_a, [1.0], TypeError, rf"{s_a} must be a torch.Tensor")
choice_arg("scan.linear_scan", "scan", ("fft", None, 3))
target("scan.linear_scan.log", lambda **kw: mod("scan").linear_scan(**kw),
       lambda: dict(a=torch.ones(T5, B, H), b=torch.ones(T5, B, H), h0=torch.ones(B, H),
                    scan="log"))
row("scan.linear_scan.log", "b", Fresh(lambda: -torch.ones(T5, B, H), "negative b"), ValueError,
    r"scan='log' needs a, b and h0 > 0", names=("scan",))
row("scan.LinearScan.apply", "a", tensor(T5, B, H, dtype=torch.float16), ValueError,
    r"b has dtype", names=("b",))
for g_fn in ("g", "log_g"):
    target(f"scan.{g_fn}", lambda g_fn=g_fn, **kw: getattr(mod("scan"), g_fn)(**kw),
           lambda: dict(x=torch.zeros(3)))
    for bad in ([0.5], 0.5, None):
        row(f"scan.{g_fn}", "x", bad, TypeError, r"x must be a torch.Tensor")
for min_cls in ("MinGRU", "MinLSTM"):
    target(f"scan.{min_cls}",
           lambda min_cls=min_cls, **kw: getattr(mod("scan"), min_cls)(**kw),
           lambda: dict(input_size=I, hidden_size=H))
    int_arg(f"scan.{min_cls}", "input_size")
    int_arg(f"scan.{min_cls}", "hidden_size")
    choice_arg(f"scan.{min_cls}", "scan", ("fft", None, 3, "Loop"))
    target(f"scan.{min_cls}.forward",
           lambda min_cls=min_cls, **kw: getattr(mod("scan"), min_cls)(I, H)(**kw),
           lambda: dict(x=torch.zeros(T5, B, I)))
    row(f"scan.{min_cls}.forward", "x", tensor(T5, B, I + 1), ValueError,
        r"x must be \(T, B, input_size=3\)")
    row(f"scan.{min_cls}.forward", "x", tensor(B, I), ValueError, r"x must be \(T, B")
    row(f"scan.{min_cls}.forward", "x", "abc", TypeError, r"x must be a torch.Tensor")
    row(f"scan.{min_cls}.forward", "h0", tensor(B, H + 1), ValueError, r"h0 must be a tensor of "
        r"shape \(2, 4\)")
    row(f"scan.{min_cls}.forward", "h0", 0.5, ValueError, r"h0 must be a tensor")

target("kinds.check_kind", lambda **kw: mod("kinds").check_kind(**kw), lambda: dict(kind="lstm"))
choice_arg("kinds.check_kind", "kind", ("LSTM", "transformer", None, 3, ""))
target("kinds.kind_of", lambda **kw: mod("kinds").kind_of(**kw),
       lambda: dict(module=nn.LSTM(2, 3)))
for bad in (nn.Linear(2, 3), "lstm", None, nn.LSTM):
    row("kinds.kind_of", "module", bad, TypeError, r"module must be a recurrent cell or layer")
target("kinds.layer_cell", lambda **kw: mod("kinds").layer_cell(**kw),
       lambda: dict(layer=nn.LSTM(2, 3, num_layers=2), index=0, impl=None))
for bad in (nn.Linear(2, 3), "lstm", None):
    row("kinds.layer_cell", "layer", bad, TypeError, r"layer must be a recurrent layer")
row("kinds.layer_cell", "layer", nn.LSTMCell(2, 3), TypeError, r"not a cell: got LSTMCell")
row("kinds.layer_cell", "layer", Fresh(lambda: nn.GRU(2, 3, bidirectional=True), "bidir"),
    ValueError, r"layer must be one-directional")
row("kinds.layer_cell", "layer", Fresh(lambda: nn.LSTM(2, 3, proj_size=2), "proj"), ValueError,
    r"an LSTM with proj_size > 0 has no equal cell", names=("proj_size",))
int_arg("kinds.layer_cell", "index", minimum=0, maximum=1)
choice_arg("kinds.layer_cell", "impl", ("keras", "TORCH", 1, ""))


# ---------------------------------------------------------------------------
# tasks, series, text, download
# ---------------------------------------------------------------------------

TASKS = {"adding_problem": dict(n=4, length=10), "copy_task": dict(n=4, delay=5),
         "temporal_order": dict(n=4, length=20), "sine_waves": dict(n=4, length=10),
         "reber_strings": dict(n=4)}
for fn, good in TASKS.items():
    name = f"tasks.{fn}"
    target(name, lambda fn=fn, **kw: getattr(mod("tasks"), fn)(**kw), lambda good=good: dict(good))
    for arg in good:
        int_arg(name, arg, minimum={"length": 2 if fn == "adding_problem" else 20
                                    if fn == "temporal_order" else 1}.get(arg, 1))
    seed_arg(name)
for arg in ("n_symbols", "n_categories"):
    int_arg("tasks.copy_task", arg)
float_arg("tasks.sine_waves", "noise", low=0.0)
row("tasks.sine_waves", "periods", 5.0, TypeError, r"periods must be a pair \(low, high\)")
row("tasks.sine_waves", "periods", (1.0, 2.0, 3.0), TypeError, r"periods must be a pair")
row("tasks.sine_waves", "periods", (0.0, 2.0), ValueError, r"periods\[0\] must be > 0")
row("tasks.sine_waves", "periods", (5.0, 2.0), ValueError, r"periods\[1\] must be >= 5.0")
row("tasks.sine_waves", "periods", (NAN, 2.0), ValueError, r"periods\[0\] must be a finite")
row("tasks.sine_waves", "periods", (1.0, INF), ValueError, r"periods\[1\] must be a finite")
row("tasks.sine_waves", "periods", ("1", 2.0), TypeError, r"periods\[0\] must be a number")
bool_arg("tasks.reber_strings", "embedded")
target("tasks.copy_baseline", lambda **kw: mod("tasks").copy_baseline(**kw),
       lambda: dict(delay=5))
for arg in ("delay", "n_symbols", "n_categories"):
    int_arg("tasks.copy_baseline", arg)
target("tasks.is_reber", lambda **kw: mod("tasks").is_reber(**kw), lambda: dict(string="BTXSE"))
for bad in (None, ["B", "E"], 3, b"BTXSE"):
    row("tasks.is_reber", "string", bad, TypeError, r"string must be a str, got")
bool_arg("tasks.is_reber", "embedded")

target("series.make_windows", lambda **kw: mod("series").make_windows(**kw),
       lambda: dict(series=np.arange(30.0), lags=3, horizon=1, targets_from=0))
data_arg("series.make_windows", "series")
int_arg("series.make_windows", "lags")
int_arg("series.make_windows", "horizon")
int_arg("series.make_windows", "targets_from", minimum=0)
row("series.make_windows", "lags", 30, ValueError, r"a window of lags=30 plus horizon=1 needs "
    r"at least 31 values, but the series has 30")
row("series.make_windows", "targets_from", 50, ValueError,
    r"targets_from=50 is past the end of the series, which has 30 values")
row("series.make_windows", "targets_from", 2, ValueError, r"targets_from=2 leaves too little")
target("series.split_series", lambda **kw: mod("series").split_series(**kw),
       lambda: dict(series=np.arange(10.0), train_fraction=0.8))
float_arg("series.split_series", "train_fraction", low=0.0, strict=True, high=1.0)
row("series.split_series", "train_fraction", 1.0, ValueError, r"train_fraction must be < 1")
for bad in (5, None, 2.5):
    row("series.split_series", "series", bad, TypeError, r"series must be a sequence of values")
row("series.split_series", "series", "abcdef", TypeError, r"series must be a sequence of values")
row("series.split_series", "series", np.array([]), ValueError, r"a series of length 0 is too "
    r"short", names=("series",))
row("series.split_series", "series", [1.0], ValueError, r"a series of length 1 is too short",
    names=("series",))

target("series.StandardScaler.fit", lambda **kw: mod("series").StandardScaler().fit(**kw),
       lambda: dict(train=np.arange(5.0)))
data_arg("series.StandardScaler.fit", "train")
target("series.StandardScaler.fit_transform",
       lambda **kw: mod("series").StandardScaler().fit_transform(**kw),
       lambda: dict(train=np.arange(5.0)))
data_arg("series.StandardScaler.fit_transform", "train")
for method, arg in (("transform", "series"), ("inverse_transform", "scaled")):
    name = f"series.StandardScaler.{method}"
    target(name, lambda method=method, **kw: getattr(
        mod("series").StandardScaler().fit(np.ones((4, 3))), method)(**kw),
        lambda arg=arg: {arg: np.ones((4, 3))})
    row(name, arg, "abc", TypeError, rf"{arg} must hold numbers")
    row(name, arg, np.zeros(4), ValueError, rf"{arg} must have the 3 features the scaler")
    row(name, arg, np.zeros((4, 2)), ValueError, rf"{arg} must have the 3 features the scaler")
    row(name, arg, np.zeros((0, 3)), ValueError, rf"{arg} (is empty|must hold at least)")
    row(name, arg, np.array([[1.0, NAN, 2.0]]), ValueError, rf"{arg} contains NaN or infinity")
    row(name, arg, np.array([[1.0, INF, 2.0]]), ValueError, rf"{arg} contains NaN or infinity")
target("series.load_co2", lambda **kw: mod("series").load_co2(**kw), lambda: dict(monthly=True))
bool_arg("series.load_co2", "monthly")

target("text.load_text", lambda **kw: mod("text").load_text(**kw),
       lambda: dict(name="python_stdlib"))
for bad in ("war_and_peace", "", None, 3, "../python_stdlib"):
    row("text.load_text", "name", bad, (ValueError, TypeError), r"(unknown corpus|name must be)",
        names=("name", "corpus"))
target("text.CharVocab", lambda **kw: mod("text").CharVocab(**kw), lambda: dict(text="abc"))
for bad in ("", None, ["a", "b"], 3):
    row("text.CharVocab", "text", bad, (ValueError, TypeError), r"text must be a non-empty str")
target("text.CharVocab.encode", lambda **kw: mod("text").CharVocab("abc").encode(**kw),
       lambda: dict(text="ab"))
row("text.CharVocab.encode", "text", "abz", ValueError, r"characters not in the vocabulary: "
    r"\['z'\]", names=("vocabulary",))
for bad in (["a"], None, 3, b"ab"):
    row("text.CharVocab.encode", "text", bad, TypeError, r"text must be a str")
target("text.CharVocab.decode", lambda **kw: mod("text").CharVocab("abc").decode(**kw),
       lambda: dict(ids=[0, 1]))
for bad in ([3], [-1], [0.5], [True], [[0]], Fresh(lambda: torch.tensor([1.0]), "tensor([1.])")):
    row("text.CharVocab.decode", "ids", bad, ValueError, r"ids must be ints in 0..2, got")
for bad in ("ab", None, 3):
    row("text.CharVocab.decode", "ids", bad, TypeError, r"ids must be a sequence of ints")
for fn in ("char_batches", "stream_batches"):
    name = f"text.{fn}"
    target(name, lambda fn=fn, **kw: getattr(mod("text"), fn)(**kw),
           lambda: dict(ids=torch.arange(100), batch_size=4, seq_len=5))
    int_arg(name, "batch_size")
    int_arg(name, "seq_len")
    for bad in ([1, 2, 3], np.arange(100), Fresh(lambda: torch.arange(100.0), "float ids"),
                Fresh(lambda: torch.arange(100).view(10, 10), "2-D ids")):
        row(name, "ids", bad, TypeError, r"ids must be a 1-D int64 tensor")
    row(name, "ids", Fresh(lambda: torch.arange(3), "3 ids"), ValueError, r"(ids must be longer "
        r"than seq_len|3 ids cannot fill)", names=("ids",))
row("text.char_batches", "generator", 0, TypeError, r"generator must be a torch.Generator")
target("text.lm_loss", lambda **kw: mod("text").lm_loss(**kw),
       lambda: dict(logits=torch.zeros(2, 3, 5), targets=torch.zeros(2, 3, dtype=torch.long)))
for bad in (tensor(6, 5), tensor(2, 3, 5, 1), [[0.0]], None):
    row("text.lm_loss", "logits", bad, ValueError, r"logits must be \(batch, time, vocab\)")
for bad in (tensor(3, 2, dtype=torch.long), tensor(6, dtype=torch.long), [[0, 1, 2]] * 2, None):
    row("text.lm_loss", "targets", bad, ValueError, r"targets must be \(batch, time\) = \(2, 3\)")
row("text.lm_loss", "targets", tensor(2, 3), TypeError, r"targets must hold class ids \(int64\)")
row("text.lm_loss", "targets", Fresh(lambda: torch.full((2, 3), 5), "ids 5 of 5"), ValueError,
    r"targets must be ids in 0..4, got 5..5")

GOOD_SHA = "0" * 64
target("download.download", lambda **kw: mod("download").download(**kw),  # never fetches:
       lambda: dict(url="file:///nonexistent/rnnbook/x.txt", sha256=GOOD_SHA,  # a row that
                    filename=None, directory=tempfile.gettempdir()))     # passes would fail

for bad in (None, 3, b"https://example.org/x"):
    row("download.download", "url", bad, TypeError, r"url must be a str")
for bad in ("x.txt", "", "example.org/x.txt"):
    row("download.download", "url", bad, ValueError, r"url must be an absolute URL")
row("download.download", "url", "https://example.org/data/", ValueError, r"url .* ends in '/'")
for bad in (None, 3):
    row("download.download", "sha256", bad, TypeError, r"sha256 must be a str")
for bad in ("abc", "g" * 64, "0" * 63, ""):
    row("download.download", "sha256", bad, ValueError, r"sha256 must be 64 hexadecimal digits")
for bad in ("../x", "/etc/passwd", "a/b", "..", "", ".x", "a\\b"):
    row("download.download", "filename", bad, ValueError, r"filename must give a plain file name")
row("download.download", "filename", 3, TypeError, r"filename must be a str or None")
row("download.download", "directory", 3, TypeError, r"directory must be a str or a path")
row("download.download", "directory", "", ValueError, r"directory must name a folder")


# ---------------------------------------------------------------------------
# models, train, bptt, gradients
# ---------------------------------------------------------------------------

target("models.recurrent_layer", lambda **kw: mod("models").recurrent_layer(**kw),
       lambda: dict(kind="lstm", input_size=2, hidden_size=3, num_layers=1, impl="torch"))
choice_arg("models.recurrent_layer", "kind", ("transformer", "LSTM", None))
choice_arg("models.recurrent_layer", "impl", ("keras", None, ""))
for arg in ("input_size", "hidden_size", "num_layers"):
    int_arg("models.recurrent_layer", arg)
float_arg("models.recurrent_layer", "forget_bias", allow_none=True)
target("models.SequenceModel", lambda **kw: mod("models").SequenceModel(**kw),
       lambda: dict(kind="gru", input_size=2, hidden_size=3, output_size=1))
choice_arg("models.SequenceModel", "kind", ("transformer", None))
for arg in ("input_size", "hidden_size", "output_size", "num_layers"):
    int_arg("models.SequenceModel", arg)
bool_arg("models.SequenceModel", "every_step")
bool_arg("models.SequenceModel", "squeeze")
choice_arg("models.SequenceModel", "impl", ("keras",))
target("models.SequenceModel.forward", lambda **kw: mod("models").SequenceModel(
    "gru", 2, 3, 1)(**kw), lambda: dict(x=torch.zeros(4, 5, 2)))
for bad in (tensor(5, 2), tensor(4, 5, 2, 1), [[[0.0, 0.0]]], None):
    row("models.SequenceModel.forward", "x", bad, ValueError,
        r"x must be a tensor \(batch, time, features\)")
row("models.SequenceModel.forward", "x", tensor(4, 5, 3), ValueError,
    r"x must have input_size=2 features in its last dimension, got shape \(4, 5, 3\)")
row("models.SequenceModel.forward", "x", tensor(4, 0, 2), ValueError,
    r"x must hold at least one step")
target("models.CharLM", lambda **kw: mod("models").CharLM(**kw), lambda: dict(vocab_size=5))
for arg in ("vocab_size", "hidden_size", "num_layers", "embedding_size"):
    int_arg("models.CharLM", arg, allow_none=arg == "embedding_size")
choice_arg("models.CharLM", "kind", ("transformer", None))
target("models.CharLM.forward", lambda **kw: mod("models").CharLM(5, 4)(**kw),
       lambda: dict(ids=torch.zeros(2, 3, dtype=torch.long)))
for bad in (tensor(2, 3), tensor(6, dtype=torch.long), [[0, 1]], None):
    row("models.CharLM.forward", "ids", bad, ValueError, r"ids must be an int64 tensor of shape")
for bad in (Fresh(lambda: torch.full((2, 3), 5), "id 5"), Fresh(lambda: torch.full((2, 3), -1),
                                                                 "id -1")):
    row("models.CharLM.forward", "ids", bad, ValueError, r"ids must lie in 0..4")
row("models.CharLM.forward", "ids", tensor(2, 0, dtype=torch.long), ValueError,
    r"ids must hold at least one step")


def sample(**kw):
    return mod("models").CharLM(5, 4).sample(**kw)


target("models.CharLM.sample", sample,
       lambda: dict(vocab=mod("text").CharVocab("abcde"), prompt="a", length=3))
row("models.CharLM.sample", "vocab", Fresh(lambda: mod("text").CharVocab("abc"), "3 chars"),
    ValueError, r"vocab has 3 characters but this model was built for 5")
for bad in ("abcde", None, 5):
    row("models.CharLM.sample", "vocab", bad, TypeError, r"vocab must be the CharVocab")
for bad in ("", "az"):
    row("models.CharLM.sample", "prompt", bad, ValueError,
        r"(prompt must be a non-empty str|characters not in the vocabulary)",
        names=("prompt", "vocabulary"))
for bad in (None, 3, ["a"]):
    row("models.CharLM.sample", "prompt", bad, TypeError, r"prompt must be a non-empty str")
int_arg("models.CharLM.sample", "length", minimum=0)
float_arg("models.CharLM.sample", "temperature", low=0.0, strict=True)
row("models.CharLM.sample", "generator", 0, TypeError, r"generator must be a torch.Generator")


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1)

    def forward(self, x):
        return self.lin(x).squeeze(-1)


def fit(**kw):
    return mod("train").fit(**kw)


target("train.fit", fit, lambda: dict(model=Linear(), batches=[(torch.zeros(4, 3),
                                                                  torch.zeros(4))],
                                      loss_fn=nn.MSELoss(), steps=2))
for bad in ("model", None, nn.Linear):
    row("train.fit", "model", bad, TypeError, r"model must be a torch.nn.Module")
row("train.fit", "model", Fresh(lambda: nn.Linear(3, 1).requires_grad_(False), "frozen"),
    ValueError, r"the model has no trainable parameters", names=("model",))
for bad in (None, 3):
    row("train.fit", "batches", bad, TypeError, r"batches must be an iterable of")
row("train.fit", "batches", [], ValueError, r"batches yielded nothing")
row("train.fit", "batches", Fresh(lambda: [torch.zeros(4, 3)], "[tensor]"), TypeError,
    r"batches must give \(x, y\) pairs, got a tensor")
row("train.fit", "batches", Fresh(lambda: [(torch.zeros(4, 3), torch.zeros(4, 1))], "(B, 1)"),
    ValueError, r"prediction has shape \(4,\) but the target has shape \(4, 1\)",
    names=("target",))
row("train.fit", "batches", Fresh(lambda: [(torch.full((4, 3), NAN), torch.zeros(4))], "NaN x"),
    ValueError, r"the batch's x contains NaN or infinity at step 1; nothing was applied",
    names=("x",))
for bad in ("mse", None):
    row("train.fit", "loss_fn", bad, TypeError, r"loss_fn must be callable")
row("train.fit", "loss_fn", Fresh(lambda: nn.MSELoss(reduction="none"), "reduction none"),
    ValueError, r"loss_fn must return a scalar tensor, got \(4,\)")
int_arg("train.fit", "steps")
int_arg("train.fit", "eval_every")
float_arg("train.fit", "lr", low=0.0, strict=True)
float_arg("train.fit", "clip_norm", low=0.0, strict=True, allow_none=True)
float_arg("train.fit", "clip_value", low=0.0, strict=True, allow_none=True)
int_arg("train.fit", "patience", allow_none=True)
row("train.fit", "optimizer", "adam", TypeError, r"optimizer must be a torch.optim.Optimizer")
row("train.fit", "patience", 3, ValueError, r"early stopping \(patience\) needs an evaluate",
    names=("patience",))
bool_arg("train.fit", "stateful")
row("train.fit", "evaluate", "accuracy", TypeError, r"evaluate must be a function")
row("train.fit", "monitor", 3, TypeError, r"monitor must be the name of a metric")
row("train.fit", "device", "gpu", ValueError, r"device must name a device")
row("train.fit", "desc", 3, TypeError, r"desc must be a str")
target("train.choose_device", lambda **kw: mod("train").choose_device(**kw),
       lambda: dict(prefer="cpu"))
for bad in ("gpu", 3, "", "cpu:x"):
    row("train.choose_device", "prefer", bad, ValueError, r"prefer must name a device")
target("train.evaluating", lambda **kw: mod("train").evaluating(**kw).__enter__(),
       lambda: dict(model=nn.Linear(2, 2)))
for bad in (None, "model", [nn.Linear(2, 2)]):
    row("train.evaluating", "model", bad, TypeError, r"model must be a torch.nn.Module, got")
target("train.progress", lambda **kw: mod("train").progress(**kw),
       lambda: dict(iterable=range(3)))
for bad in (3, None, 2.5):
    row("train.progress", "iterable", bad, TypeError, r"iterable must be something to loop over")
target("train.History.metric", lambda **kw: mod("train").History(
    evals=[{"step": 1, "acc": 0.5}]).metric(**kw), lambda: dict(name="acc"))
row("train.History.metric", "name", "loss", KeyError, r"no metric 'loss' was recorded; "
    r"recorded: \['acc', 'step'\]", names=("metric",))
row("train.History.metric", "name", 3, TypeError, r"name must be the name of a metric")
target("train.History.first_step", lambda **kw: mod("train").History(
    evals=[{"step": 1, "acc": 0.5}]).first_step(**kw), lambda: dict(name="acc", at_least=0.5))
float_arg("train.History.first_step", "at_least", allow_none=True)
row("train.History.first_step", "at_most", 0.5, ValueError, r"pass exactly one of at_least and "
    r"at_most", names=("at_most",))
target("train.check_loss_inputs", lambda **kw: mod("train").check_loss_inputs(**kw),
       lambda: dict(loss_fn=nn.MSELoss(), prediction=torch.zeros(4), target=torch.zeros(4)))
for bad in (tensor(4, 1), tensor(1, 4), tensor(2, 2)):
    row("train.check_loss_inputs", "target", bad, ValueError, r"prediction has shape \(4,\) but "
        r"the target has shape")

target("bptt.detach_state", lambda **kw: mod("bptt").detach_state(**kw),
       lambda: dict(state=torch.zeros(2)))
for bad in ([1.0, 2.0], "h", 3, (torch.zeros(2), None)):
    row("bptt.detach_state", "state", bad, TypeError, r"state must be a tensor, a tuple of "
        r"tensors or None")
target("bptt.saved_tensors", lambda **kw: mod("bptt").saved_tensors(**kw),
       lambda: dict(fn=lambda: 1, exclude=()))
for bad in (Fresh(lambda: torch.ones(2), "a tensor"), None, 3):
    row("bptt.saved_tensors", "fn", bad, TypeError, r"fn must be a function with no arguments")
for bad in (3, Fresh(lambda: torch.ones(2), "a tensor"), [1.0]):
    row("bptt.saved_tensors", "exclude", bad, TypeError, r"exclude must (be an iterable of "
        r"tensors|hold tensors only)")


def rnn_cell():
    return nn.RNNCell(1, 2)


GRAD_TARGETS = {
    "unroll": lambda: dict(cell=rnn_cell(), x=torch.zeros(3, 1)),
    "hidden_grad_norms": lambda: dict(cell=rnn_cell(), x=torch.zeros(3, 1),
                                      loss_fn=lambda hs: hs[-1].sum()),
    "state_jacobian": lambda: dict(cell=rnn_cell(), x=torch.zeros(3, 1), h0=torch.zeros(2)),
    "jacobian_norms": lambda: dict(cell=rnn_cell(), x=torch.zeros(3, 1), state0=torch.zeros(2)),
}
for fn, good in GRAD_TARGETS.items():
    name = f"gradients.{fn}"
    target(name, lambda fn=fn, **kw: getattr(mod("gradients"), fn)(**kw), good)
    for bad in ("rnn", None, 3):
        row(name, "cell", bad, TypeError, r"cell must be a recurrent cell")
    for bad in ([[0.0]] * 3, None, np.zeros((3, 1))):
        row(name, "x", bad, TypeError, r"x must be a torch.Tensor")
    row(name, "x", tensor(3, 1, 1, 1), ValueError, r"x must be (\(T, B, I\)|one unbatched)")
    row(name, "x", tensor(0, 1), ValueError, r"x must hold at least one step")
    for bad in (NAN, INF):
        row(name, "x", Fresh(lambda bad=bad: torch.tensor([[0.0], [bad], [0.0]]), f"x {bad}"),
            ValueError, r"x contains NaN or infinity")
row("gradients.hidden_grad_norms", "loss_fn", "sum", TypeError, r"loss_fn must be a function")
row("gradients.hidden_grad_norms", "loss_fn", lambda hs: hs[-1], ValueError,
    r"loss_fn must return a scalar tensor, got \(2,\)")
row("gradients.hidden_grad_norms", "loss_fn", lambda hs: 1.0, ValueError,
    r"loss_fn must return a scalar tensor, got float")
row("gradients.state_jacobian", "x", tensor(3, 2, 1), ValueError, r"x must be one unbatched")
row("gradients.state_jacobian", "h0", tensor(1, 2), ValueError, r"h0 must be an unbatched state")
row("gradients.jacobian_norms", "x", tensor(3, 2, 1), ValueError, r"x must be one unbatched")
row("gradients.jacobian_norms", "state0", tensor(1, 2), ValueError, r"state0 must be an "
    r"unbatched state")
for bad in ("x", 3, None):
    row("gradients.jacobian_norms", "ord", bad, ValueError, r"ord must be one of")
target("gradients.layer_states", lambda **kw: mod("gradients").layer_states(**kw),
       lambda: dict(layer=nn.GRU(2, 3), x=torch.zeros(4, 2, 2)))
for bad in (nn.GRUCell(2, 3), "gru", None):
    row("gradients.layer_states", "layer", bad, TypeError, r"layer must be a recurrent layer")
row("gradients.layer_states", "layer", Fresh(lambda: nn.GRU(2, 3, bidirectional=True), "bidir"),
    ValueError, r"layer must be one-directional")
for bad in (tensor(4, 2), [[[0.0, 0.0]]]):
    row("gradients.layer_states", "x", bad, (ValueError, TypeError), r"x must be")
row("gradients.layer_states", "x", Fresh(lambda: torch.full((4, 2, 2), NAN), "NaN x"),
    ValueError, r"x contains NaN or infinity")


def model_grad_norms(**kw):
    return mod("gradients").model_grad_norms(**kw)


target("gradients.model_grad_norms", model_grad_norms,
       lambda: dict(model=mod("models").SequenceModel("gru", 2, 3, 1, squeeze=True),
                    x=torch.zeros(2, 4, 2), y=torch.zeros(2), loss_fn=nn.MSELoss()))
for bad in (nn.Linear(2, 1), None):
    row("gradients.model_grad_norms", "model", bad, TypeError, r"model must be a SequenceModel")
for bad in (tensor(4, 2), Fresh(lambda: torch.full((2, 4, 2), NAN), "NaN x")):
    row("gradients.model_grad_norms", "x", bad, ValueError, r"x (must be a batch|contains NaN)")
for bad in (tensor(2, 1), tensor(1, 2)):
    row("gradients.model_grad_norms", "y", bad, ValueError, r"prediction has shape \(2,\) but "
        r"the target has shape", names=("target",))
row("gradients.model_grad_norms", "y", [0.0, 0.0], TypeError, r"y must be a torch.Tensor")
row("gradients.model_grad_norms", "loss_fn", "mse", TypeError, r"loss_fn must be callable")
bool_arg("gradients.model_grad_norms", "per_sample")
target("gradients.gate_trace", lambda **kw: mod("gradients").gate_trace(**kw),
       lambda: dict(layer=nn.LSTM(2, 3), x=torch.zeros(4, 2, 2), state=None))
for bad in (nn.Linear(2, 3), None, nn.LSTMCell(2, 3)):
    row("gradients.gate_trace", "layer", bad, TypeError, r"layer must be a recurrent layer")
for bad, match in ((nn.LSTM(2, 3, num_layers=2), r"gate_trace reads one-layer layers"),
                   (nn.LSTM(2, 3, bidirectional=True), r"layer must be one-directional"),
                   (nn.LSTM(2, 3, proj_size=2), r"proj_size")):
    row("gradients.gate_trace", "layer", bad, ValueError, match,
        names=("layer", "num_layers", "proj_size"))
for bad in (tensor(4, 2), tensor(4, 2, 3), [[[0.0, 0.0]]], tensor(0, 2, 2)):
    row("gradients.gate_trace", "x", bad, ValueError, r"x must (be a batch|hold at least)")
row("gradients.gate_trace", "x", tensor(4, 2, 2, dtype=torch.float64), ValueError,
    r"x dtype \(torch.float64\) does not match")
row("gradients.gate_trace", "state", tensor(2, 3), TypeError, r"state must be a tuple \(h0, c0\)")
row("gradients.gate_trace", "state", Fresh(lambda: (torch.zeros(1, 2, 3),) * 2, "3-D state"),
    ValueError, r"h0 must have shape \(2, 3\)", names=("state", "h0"))


# ---------------------------------------------------------------------------
# baselines, compare, bench, plot
# ---------------------------------------------------------------------------

WINDOWS = np.arange(60.0).reshape(20, 3)
target("baselines.persistence", lambda **kw: mod("baselines").persistence(**kw),
       lambda: dict(X=WINDOWS))
target("baselines.seasonal_naive", lambda **kw: mod("baselines").seasonal_naive(**kw),
       lambda: dict(X=WINDOWS, season=3, horizon=1))
target("baselines.LinearAR.fit", lambda **kw: mod("baselines").LinearAR().fit(**kw),
       lambda: dict(X=np.random.default_rng(0).normal(size=(20, 3)), y=np.arange(20.0)))
target("baselines.LinearAR.predict", lambda **kw: mod("baselines").LinearAR().fit(
    np.random.default_rng(0).normal(size=(20, 3)), np.arange(20.0)).predict(**kw),
    lambda: dict(X=WINDOWS))
for name in ("baselines.persistence", "baselines.seasonal_naive", "baselines.LinearAR.fit",
             "baselines.LinearAR.predict"):
    data_arg(name, "X", shape_match=r"X must be windows of shape \(N, lags\)",
             empty_match=r"X must be windows of shape \(N, lags\)")
    row(name, "X", np.arange(5.0), ValueError, r"X must be windows of shape \(N, lags\)")
    row(name, "X", np.zeros((0, 3)), ValueError, r"X must be windows of shape \(N, lags\)")
int_arg("baselines.seasonal_naive", "season")
int_arg("baselines.seasonal_naive", "horizon")
row("baselines.seasonal_naive", "season", 4, ValueError, r"windows of 3 lags do not hold a full "
    r"season of 4", names=("season",))
data_arg("baselines.LinearAR.fit", "y", shape_match=r"y must be \(N,\) or \(N, k\)",
         empty_match=r"y must be \(N,\) or \(N, k\)")
row("baselines.LinearAR.fit", "y", np.arange(19.0), ValueError, r"y must be \(N,\) or \(N, k\) "
    r"with N = 20 rows like X")
row("baselines.LinearAR.predict", "X", np.zeros((4, 2)), ValueError, r"X must have 3 lags")
target("baselines.LinearAR", lambda **kw: mod("baselines").LinearAR(**kw), lambda: dict())
float_arg("baselines.LinearAR", "ridge", low=0.0)
target("baselines.rmse", lambda **kw: mod("baselines").rmse(**kw),
       lambda: dict(prediction=[1.0, 2.0, 3.0, 4.0, 5.0], target=[1.0, 2.0, 3.0, 4.0, 5.0]))
for arg in ("prediction", "target"):
    data_arg("baselines.rmse", arg, shape_match=r"must have the same shape",
             empty_match=r"(prediction and target are empty|must have the same shape)")
    row("baselines.rmse", arg, [1.0, 2.0], ValueError, r"prediction and target must have the "
        r"same shape", names=(arg,))
target("baselines.ngram_cross_entropy", lambda **kw: mod("baselines").ngram_cross_entropy(**kw),
       lambda: dict(train_ids=[0, 1, 2, 1], eval_ids=[1, 2, 0], vocab_size=3, order=1,
                    alpha=1.0))
for arg in ("train_ids", "eval_ids"):
    ng = "baselines.ngram_cross_entropy"
    row(ng, arg, [0.5, 1.0], TypeError, rf"{arg} must be a 1-D sequence of integer ids")
    row(ng, arg, "abc", TypeError, rf"{arg} must hold numbers")
    row(ng, arg, [[0, 1]], ValueError, rf"{arg} must have 1 dimension")
    row(ng, arg, [0, 5], ValueError, rf"{arg} must hold ids in 0..2")
    row(ng, arg, [-1, 0], ValueError, rf"{arg} must hold ids in 0..2")
    row(ng, arg, [], (ValueError, TypeError), rf"{arg} (needs at least|must be a 1-D)")
    row(ng, arg, [0.0, NAN], (ValueError, TypeError), rf"{arg} (contains NaN|must be a 1-D)")
int_arg("baselines.ngram_cross_entropy", "vocab_size")
int_arg("baselines.ngram_cross_entropy", "order")
float_arg("baselines.ngram_cross_entropy", "alpha", low=0.0)
row("baselines.ngram_cross_entropy", "vocab_size", 2, ValueError, r"train_ids must hold ids in "
    r"0..1", names=("train_ids", "vocab_size"))
row("baselines.ngram_cross_entropy", "order", 40, ValueError, r"vocab_size\*\*order must be "
    r"below 2\*\*62")

target("compare.param_count", lambda **kw: mod("compare").param_count(**kw),
       lambda: dict(kind="lstm", input_size=3, hidden_size=4))
choice_arg("compare.param_count", "kind", ("transformer", None, "LSTM"))
for arg in ("input_size", "hidden_size", "num_layers"):
    int_arg("compare.param_count", arg)
int_arg("compare.param_count", "biases", minimum=0, maximum=2)
bool_arg("compare.param_count", "bidirectional")
target("compare.num_parameters", lambda **kw: mod("compare").num_parameters(**kw),
       lambda: dict(model=nn.Linear(2, 2)))
for bad in (3, None, nn.Linear):
    row("compare.num_parameters", "model", bad, TypeError, r"model must be a torch.nn.Module")
target("compare.matched_hidden_size", lambda **kw: mod("compare").matched_hidden_size(**kw),
       lambda: dict(build=lambda h: nn.Linear(h, 1), target=10))
for bad in (3, None):
    row("compare.matched_hidden_size", "build", bad, TypeError, r"build must be a function")
row("compare.matched_hidden_size", "build", lambda h: 3, TypeError, r"build must return a "
    r"torch.nn.Module, got int")
int_arg("compare.matched_hidden_size", "target")
int_arg("compare.matched_hidden_size", "max_hidden")
row("compare.matched_hidden_size", "target", 10**9, ValueError, r"even hidden_size=4096 gives "
    r"fewer than target=1000000000", names=("target", "max_hidden"))
target("compare.matmul_flops_per_step", lambda **kw: mod("compare").matmul_flops_per_step(**kw),
       lambda: dict(kind="gru", input_size=3, hidden_size=4))
choice_arg("compare.matmul_flops_per_step", "kind", ("transformer", None))
for arg in ("input_size", "hidden_size", "batch"):
    int_arg("compare.matmul_flops_per_step", arg)

target("bench.time_it", lambda **kw: mod("bench").time_it(**kw),
       lambda: dict(fn=lambda: None, warmup=0, repeats=2))
for bad in (3, None):
    row("bench.time_it", "fn", bad, TypeError, r"fn must be a function with no arguments")
int_arg("bench.time_it", "repeats")
int_arg("bench.time_it", "warmup", minimum=0)
choice_arg("bench.time_it", "clock", ("sundial", None, 3))
row("bench.time_it", "device", "gpu", ValueError, r"device must name a device")
target("bench.forward_backward", lambda **kw: mod("bench").forward_backward(**kw),
       lambda: dict(layer=nn.GRU(2, 3), x=torch.zeros(3, 1, 2)))
row("bench.forward_backward", "layer", "gru", TypeError, r"layer must be a torch.nn.Module")
row("bench.forward_backward", "x", [[0.0]], TypeError, r"x must be a torch.Tensor")
for table in ("compare_layers", "compare_ladder"):     # the same arguments: one race each
    target(f"bench.{table}", lambda table=table, **kw: getattr(mod("bench"), table)(**kw),
           lambda: dict(batch=1, steps=2, input_size=2, hidden_size=2, repeats=1, rounds=1,
                        warmup=0))
    for arg in ("batch", "steps", "input_size", "hidden_size", "repeats", "rounds"):
        int_arg(f"bench.{table}", arg)
    int_arg(f"bench.{table}", "warmup", minimum=0)
    choice_arg(f"bench.{table}", "clock", ("sundial",))
row("bench.compare_layers", "device", "gpu", ValueError, r"device must name a device")
target("bench.race", lambda **kw: mod("bench").race(**kw),
       lambda: dict(runs={"a": lambda: None}, rounds=1, warmup=0, repeats=1))
for bad in ({}, [lambda: None], None):
    row("bench.race", "runs", bad, TypeError, r"runs must be a non-empty dict")
row("bench.race", "runs", {"a": 3}, TypeError, r"runs\['a'\] must be a function",
    names=("runs",))
int_arg("bench.race", "rounds")
int_arg("bench.race", "repeats")
int_arg("bench.race", "warmup", minimum=0)
choice_arg("bench.race", "clock", ("sundial",))
target("bench.main", lambda **kw: mod("bench").main(**kw), lambda: dict(argv=[]))
for opt in ("--batch", "--steps", "--input-size", "--hidden-size", "--repeats", "--rounds"):
    row("bench.main", "argv", [opt, "0"], ValueError,
        rf"{opt[2:].replace('-', '_')} must be an int >= 1, got 0",
        names=(opt[2:].replace("-", "_"),))


def figure_target(name, call, good):
    def run(**kw):
        import matplotlib.pyplot as plt
        try:
            return call(**kw)
        finally:
            plt.close("all")

    target(name, run, good)


P = "plot"
figure_target("plot.moving_average", lambda **kw: mod(P).moving_average(**kw),
              lambda: dict(values=np.arange(10.0), window=3))
int_arg("plot.moving_average", "window", maximum=None)
row("plot.moving_average", "window", 11, ValueError, r"window=11 is longer than the 10 values",
    names=("window",))
row("plot.moving_average", "values", "abc", TypeError, r"values must hold numbers")
row("plot.moving_average", "values", [[1.0], [1.0, 2.0]], ValueError, r"values must be a "
    r"rectangular")
figure_target("plot.spread_curve", lambda **kw: mod(P).spread_curve(**kw),
              lambda: dict(values=np.ones((3, 10))))
for bad, error, match in (("abc", TypeError, r"values must hold numbers"),
                          ([[1.0, 2.0], [1.0]], ValueError, r"the runs must all have the same"),
                          (np.zeros((2, 2, 2)), ValueError, r"values must be one run"),
                          (np.array([]), ValueError, r"values must be one run"),
                          ([True], TypeError, r"values must hold numbers")):
    row("plot.spread_curve", "values", bad, error, match)
for bad in ([1.0, 2.0], "abc", np.zeros((10, 2))):
    row("plot.spread_curve", "x", bad, (ValueError, TypeError), r"x must (have one position|"
        r"hold numbers)")
row("plot.spread_curve", "ax", "axes", TypeError, r"ax must be a matplotlib Axes")
for fn in ("loss_curves", "grad_norm_curves"):
    arg = "runs" if fn == "loss_curves" else "norms"
    figure_target(f"plot.{fn}", lambda fn=fn, **kw: getattr(mod(P), fn)(**kw),
                  lambda arg=arg: {arg: {"a": np.ones((2, 10))}})
    for bad in ([1.0, 2.0], {}, None, np.ones(3)):
        row(f"plot.{fn}", arg, bad, TypeError, rf"{arg} must be a non-empty mapping")
    row(f"plot.{fn}", arg, {"a": "abc"}, TypeError, rf"{arg}\['a'\] must hold numbers")
    row(f"plot.{fn}", arg, {"a": np.zeros((2, 2, 2))}, ValueError, rf"{arg}\['a'\] must be one "
        r"run")
    row(f"plot.{fn}", "ax", 3, TypeError, r"ax must be a matplotlib Axes")
int_arg("plot.loss_curves", "smooth")
row("plot.loss_curves", "smooth", 11, ValueError, r"smooth=11 is longer than the 10 values of "
    r"runs\['a'\]")
float_arg("plot.loss_curves", "baseline", allow_none=True)
bool_arg("plot.loss_curves", "log")
figure_target("plot.gate_heatmaps", lambda **kw: mod(P).gate_heatmaps(**kw),
              lambda: dict(gates={"f": np.full((10, 3), 0.5)}))
for bad in ({}, [np.zeros((10, 3))], None):
    row("plot.gate_heatmaps", "gates", bad, TypeError, r"gates must be a non-empty mapping")
for bad, match in ((np.zeros(10), r"gates\['f'\] must be one sequence of shape \(T, H\)"),
                   (np.full((10, 3), NAN), r"gates\['f'\] contains NaN or infinity"),
                   (np.full((10, 3), INF), r"gates\['f'\] contains NaN or infinity"),
                   (np.zeros((0, 3)), r"gates\['f'\] must hold at least one step")):
    row("plot.gate_heatmaps", "gates", {"f": bad}, ValueError, match)
row("plot.gate_heatmaps", "gates", {"f": "abc"}, TypeError, r"gates\['f'\] must hold numbers")
row("plot.gate_heatmaps", "gates", {"f": np.zeros((10, 3)), "i": np.zeros((9, 3))}, ValueError,
    r"every gate must cover the same number of time steps", names=("gate",))
for bad in ("3", [3.5], [NAN], [0], [11]):
    row("plot.gate_heatmaps", "marks", bad, (TypeError, ValueError), r"marks(\[0\])? must be")
row("plot.gate_heatmaps", "axes", [], ValueError, r"need one axes per gate \(1\), got 0",
    names=("axes",))
figure_target("plot.gate_histograms", lambda **kw: mod(P).gate_histograms(**kw),
              lambda: dict(gates={"z": np.full(10, 0.5)}))
for bad in ({}, None):
    row("plot.gate_histograms", "gates", bad, TypeError, r"gates must be a non-empty mapping")
for bad, match in ((np.array([]), r"gates\['z'\] is empty"),
                   (np.array([0.5, NAN]), r"gates\['z'\] contains NaN or infinity"),
                   (np.array([0.5, INF]), r"gates\['z'\] contains NaN or infinity")):
    row("plot.gate_histograms", "gates", {"z": bad}, ValueError, match)
int_arg("plot.gate_histograms", "bins")
bool_arg("plot.gate_histograms", "log")
row("plot.gate_histograms", "axes", [], ValueError, r"need one axes per gate \(1\), got 0",
    names=("axes",))
figure_target("plot.cell_diagram", lambda **kw: mod(P).cell_diagram(**kw),
              lambda: dict(kind="lstm"))
choice_arg("plot.cell_diagram", "kind", ("transformer", None, 3, "LSTM"))
row("plot.cell_diagram", "ax", "axes", TypeError, r"ax must be a matplotlib Axes")


# ---------------------------------------------------------------------------
# language (chapter 11)
# ---------------------------------------------------------------------------

# rnnbook.dropout: the rates of the three layers (their other arguments are the layers'
# own, in LAYER_CLASSES), and LockedDropout.
for name in ("dropout.DropoutRNN", "dropout.DropoutLSTM", "dropout.DropoutGRU"):
    for rate in ("input_dropout", "recurrent_dropout", "weight_dropout"):
        float_arg(name, rate, low=0.0, high=0.0)
        row(name, rate, 1.0, ValueError, rf"{rate} must be < 1")
target("dropout.LockedDropout", lambda **kw: mod("dropout").LockedDropout(**kw),
       lambda: dict(p=0.5))
float_arg("dropout.LockedDropout", "p", low=0.0)
row("dropout.LockedDropout", "p", 1.0, ValueError, r"p must be < 1")
bool_arg("dropout.LockedDropout", "batch_first")
target("dropout.LockedDropout.forward", lambda **kw: mod("dropout").LockedDropout(0.5)(**kw),
       lambda: dict(x=torch.zeros(5, B, I)))
row("dropout.LockedDropout.forward", "x", tensor(B, I), ValueError,
    r"x must be a tensor \(time, batch, features\), got \(2, 3\)")
row("dropout.LockedDropout.forward", "x", [[[0.0]]], ValueError,
    r"x must be a tensor \(time, batch, features\), got list")

MODULES.append("language")
LANG = "language"


def tiny_lm(kind="lstm"):
    return mod("models").CharLM(5, hidden_size=4, kind=kind)


def lm_ids():
    return torch.arange(5).repeat(4)


NOT_A_CHARLM = (None, "model", Fresh(lambda: nn.Linear(2, 2), "nn.Linear(2, 2)"))
BAD_IDS = ([1, 2, 3], np.arange(5), Fresh(lambda: torch.arange(20.0), "float ids"),
           Fresh(lambda: torch.arange(20).view(4, 5), "2-D ids"))

for fn in ("bits_per_char", "ablated_losses"):
    name = f"{LANG}.{fn}"
    target(name, lambda fn=fn, **kw: getattr(mod(LANG), fn)(**kw),
           lambda: dict(model=tiny_lm(), ids=lm_ids(), streams=2))
    for bad in NOT_A_CHARLM:
        row(name, "model", bad, TypeError, r"model must be a rnnbook.CharLM")
    for bad in BAD_IDS:
        row(name, "ids", bad, TypeError, r"ids must be a 1-D int64 tensor")
    row(name, "ids", Fresh(lambda: torch.tensor([0, 7, 1, 2]), "id 7 of 5"), ValueError,
        r"ids must be ids in 0..4, the vocabulary of the model, got 0..7")
    row(name, "ids", Fresh(lambda: torch.tensor([1, 2]), "2 ids"), ValueError,
        r"ids must hold more than streams = 2 ids, got 2")
    int_arg(name, "streams")
int_arg(f"{LANG}.bits_per_char", "seq_len")
bool_arg(f"{LANG}.bits_per_char", "carry_state")
for bad in ("ab", 3, None):
    row(f"{LANG}.ablated_losses", "units", bad, TypeError, r"units must be a list of unit")
row(f"{LANG}.ablated_losses", "units", [4], ValueError, r"units must be an int in \[0, 3\], got 4")
row(f"{LANG}.ablated_losses", "units", [-1], ValueError, r"units must be an int in \[0, 3\]")
row(f"{LANG}.ablated_losses", "units", [1.5], TypeError, r"units must be an int, got 1.5")
row(f"{LANG}.ablated_losses", "model", Fresh(lambda: tiny_lm("gru"), "a GRU CharLM"), ValueError,
    r"model must be a CharLM with a one-layer torch LSTM")

target(f"{LANG}.feature_correlation", lambda **kw: mod(LANG).feature_correlation(**kw),
       lambda: dict(states=np.arange(10.0).reshape(5, 2), feature=np.arange(5.0)))
for arg, shape in (("states", (5, 2)), ("feature", (5,))):
    row(f"{LANG}.feature_correlation", arg, "abc", TypeError, rf"{arg} must hold numbers")
    row(f"{LANG}.feature_correlation", arg, np.ones(shape, dtype=bool), TypeError,
        rf"{arg} must hold numbers")
    for bad in (NAN, INF):
        arr = np.ones(shape)
        arr[1] = bad
        row(f"{LANG}.feature_correlation", arg, arr, ValueError, rf"{arg} contains NaN or inf")
row(f"{LANG}.feature_correlation", "states", np.ones(5), ValueError,
    r"states must have 2 dimension")
row(f"{LANG}.feature_correlation", "feature", np.ones((5, 2)), ValueError,
    r"feature must have 1 dimension")
row(f"{LANG}.feature_correlation", "feature", np.ones(4), ValueError,
    r"states and feature must have one row per step, got 5 and 4")

target(f"{LANG}.filter_logits", lambda **kw: mod(LANG).filter_logits(**kw),
       lambda: dict(logits=torch.zeros(2, 5), temperature=1.0, top_k=None, top_p=None))
for bad in ([1.0, 2.0], None, tensor(3, dtype=torch.long)):
    row(f"{LANG}.filter_logits", "logits", bad, TypeError, r"logits must be a float tensor")
row(f"{LANG}.filter_logits", "logits", tensor(2, 0), ValueError,
    r"logits must have at least one symbol")
float_arg(f"{LANG}.filter_logits", "temperature", low=0, strict=True)
int_arg(f"{LANG}.filter_logits", "top_k", allow_none=True)
float_arg(f"{LANG}.filter_logits", "top_p", low=0, strict=True, high=1, allow_none=True)

target(f"{LANG}.sample", lambda **kw: mod(LANG).sample(**kw),
       lambda: dict(model=tiny_lm(), vocab=mod("text").CharVocab("abcde"), prompts=["ab", "cd"],
                    length=3))
for bad in NOT_A_CHARLM:
    row(f"{LANG}.sample", "model", bad, TypeError, r"model must be a rnnbook.CharLM")
for bad in ("abc", None, 3):
    row(f"{LANG}.sample", "vocab", bad, TypeError, r"vocab must be the CharVocab")
row(f"{LANG}.sample", "vocab", Fresh(lambda: mod("text").CharVocab("ab"), "CharVocab('ab')"),
    ValueError, r"vocab has 2 characters but the model was built for 5")
for bad in (3, None, ["a", 3], b"ab"):
    row(f"{LANG}.sample", "prompts", bad, TypeError, r"prompts must be a str or a list of str")
for bad in ([], "", ["a", "bb"], ["a", ""]):
    row(f"{LANG}.sample", "prompts", bad, ValueError, r"prompts must be non-empty strs")
int_arg(f"{LANG}.sample", "length")
float_arg(f"{LANG}.sample", "temperature", low=0, strict=True)
int_arg(f"{LANG}.sample", "top_k", allow_none=True)
float_arg(f"{LANG}.sample", "top_p", low=0, strict=True, high=1, allow_none=True)
row(f"{LANG}.sample", "generator", 0, TypeError, r"generator must be a torch.Generator")

target(f"{LANG}.scan_python", lambda **kw: mod(LANG).scan_python(**kw), lambda: dict(text="x"))
for bad in (None, 3, b"x = 1", ["x"]):
    row(f"{LANG}.scan_python", "text", bad, TypeError, r"text must be a str")

target(f"{LANG}.KneserNey", lambda **kw: mod(LANG).KneserNey(**kw), lambda: dict(order=2))
int_arg(f"{LANG}.KneserNey", "order")
target(f"{LANG}.KneserNey.fit", lambda **kw: mod(LANG).KneserNey(2).fit(**kw),
       lambda: dict(train_ids=[0, 1, 2, 1, 0], vocab_size=3))
int_arg(f"{LANG}.KneserNey.fit", "vocab_size")
row(f"{LANG}.KneserNey.fit", "vocab_size", 10**10, ValueError, r"vocab_size\*\*order must be")


def fitted_kn():
    return mod(LANG).KneserNey(2).fit([0, 1, 2, 1, 0], 3)


target(f"{LANG}.KneserNey.probs", lambda **kw: fitted_kn().probs(**kw),
       lambda: dict(grams=[[0, 1]]))
target(f"{LANG}.KneserNey.cross_entropy", lambda **kw: fitted_kn().cross_entropy(**kw),
       lambda: dict(eval_ids=[0, 1, 2]))
for name, arg in (("fit", "train_ids"), ("probs", "grams"), ("cross_entropy", "eval_ids")):
    two_d = arg == "grams"
    for bad in ("ab", [True, False], np.array(["a", "b"])):
        row(f"{LANG}.KneserNey.{name}", arg, bad, TypeError, rf"{arg} must hold numbers")
    row(f"{LANG}.KneserNey.{name}", arg, [[0.5, 1.0]] if two_d else [0.5, 1.0, 1.5], TypeError,
        rf"{arg} must hold integer ids")
    row(f"{LANG}.KneserNey.{name}", arg, [[0, 3]] if two_d else [0, 3, 1], ValueError,
        rf"{arg} must hold ids in 0..2")
    row(f"{LANG}.KneserNey.{name}", arg, [[0, -1]] if two_d else [0, -1, 1], ValueError,
        rf"{arg} must hold ids in 0..2")
    row(f"{LANG}.KneserNey.{name}", arg, [0, 1] if two_d else [[0, 1]], ValueError,
        rf"{arg} must have {2 if two_d else 1} dimension")
    row(f"{LANG}.KneserNey.{name}", arg, np.array([[0.0, NAN]] if two_d else [0.0, NAN, 1.0]),
        ValueError, rf"{arg} contains NaN or infinity")
    if not two_d:
        row(f"{LANG}.KneserNey.{name}", arg, [0], ValueError,
            rf"{arg} needs at least order=2 ids, got 1")
row(f"{LANG}.KneserNey.probs", "grams", [[0, 1, 2]], ValueError,
    r"grams must have order=2 columns")

TRAIN_GOOD = dict(steps=2, hidden_size=4, batch_size=2, seq_len=8, eval_every=1)
target(f"{LANG}.train", lambda **kw: mod(LANG).train(**kw), lambda: dict(TRAIN_GOOD))
for arg in ("steps", "hidden_size", "batch_size", "seq_len", "eval_every"):
    int_arg(f"{LANG}.train", arg)
float_arg(f"{LANG}.train", "lr", low=0, strict=True)
seed_arg(f"{LANG}.train")
for bad in (3, ["x.pt"]):
    row(f"{LANG}.train", "out", bad, TypeError, r"out must be a path or None")

target(f"{LANG}.load_checkpoint", lambda **kw: mod(LANG).load_checkpoint(**kw),
       lambda: dict(path=None))
for bad in (3, ["x.pt"]):
    row(f"{LANG}.load_checkpoint", "path", bad, TypeError, r"path must be a path to a checkpoint")
for bad in ("/nonexistent/rnnbook/x.pt", tempfile.gettempdir()):
    row(f"{LANG}.load_checkpoint", "path", bad, ValueError, r"path must name a checkpoint file")

target(f"{LANG}.main", lambda **kw: mod(LANG).main(**kw),
       lambda: dict(argv=["train", "--steps", "1", "--hidden-size", "4", "--seq-len", "8",
                          "--batch-size", "2", "--eval-every", "1",
                          "--out", f"{tempfile.gettempdir()}/rnnbook_language_main.pt"]))
for bad in ("train", 3, {"train": 1}):
    row(f"{LANG}.main", "argv", bad, TypeError, r"argv must be a list of str")
for flag, arg in (("--steps", "steps"), ("--hidden-size", "hidden_size"),
                  ("--seq-len", "seq_len")):
    row(f"{LANG}.main", "argv", ["train", flag, "0", "--out", "x.pt"], ValueError,
        rf"{arg} must be an int >= 1, got 0", names=(arg,))


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------

NO_ARGUMENTS = {
    "dropout.RecurrentDropout": "a mixin, called through DropoutRNN, DropoutLSTM and DropoutGRU",
    "series.load_sunspots": "takes no arguments",
    "download.cache_dir": "takes no arguments; an empty RNNBOOK_CACHE counts as unset "
                          "(test_download)",
    "train.quiet": "takes no arguments; reads RNNBOOK_QUIET, where any text but '' and '0' "
                   "means quiet",
    "bench.onednn_off": "takes no arguments",
    "fast.kernel_path": "takes no arguments",
    "fast.kernels_available": "takes no arguments",
    "checks.InputError": "an exception class",
    "kinds.Kind": "a record of the registry, built by rnnbook.kinds itself",
    "bptt.SavedTensors": "a record that saved_tensors returns",
    "bench.Timing": "a record that time_it returns",
    "train.History": "a record that fit returns (its methods metric and first_step are rows)",
}


def outcome(r: Row) -> tuple[str, BaseException | None]:
    """What a row's call did: 'clear' (the expected exception, whose message names the
    argument), 'unclear' (another exception, or one that does not name the argument),
    'silent' (no exception at all)."""
    try:
        TARGETS[r.target].run(**{r.arg: r.bad})
    except BaseException as err:  # noqa: BLE001 - every outcome is counted
        names = any(re.search(rf"\b{re.escape(n)}\b", str(err)) for n in r.names)
        return ("clear" if isinstance(err, r.error) and names else "unclear"), err
    return "silent", None


def failure(r: Row) -> str | None:
    """Why a row fails, or None if it passes."""
    kind, err = outcome(r)
    if kind == "silent":
        return f"{r} was accepted silently"
    if not isinstance(err, r.error):
        return f"{r} raised {type(err).__name__}: {err}"
    if not re.search(r.match, str(err)):
        return f"{r}: message {str(err)!r} lacks {r.match!r}"
    if kind != "clear":
        return f"{r}: message {str(err)!r} does not name {r.names}"
    return None


BY_TARGET: dict[str, list[Row]] = {}
for _r in ROWS:
    BY_TARGET.setdefault(_r.target, []).append(_r)


@pytest.mark.parametrize("name", list(BY_TARGET))
def test_bad_input_gets_a_clear_error(name):
    """Every row of one callable (one test per callable keeps the table fast)."""
    failures = [f for f in map(failure, BY_TARGET[name]) if f is not None]
    assert not failures, "\n".join(failures)


def test_the_good_arguments_of_every_target_work():
    """Each row changes one argument of a call that works: otherwise a row could pass for
    the wrong reason."""
    for name, t in TARGETS.items():
        if name == "download.download":                  # would fetch from the network
            continue
        if name == "bench.main":                         # a small run, not the default one
            t.run(argv=["--batch", "1", "--steps", "2", "--input-size", "2",
                        "--hidden-size", "2", "--repeats", "1", "--rounds", "1"])
            continue
        t.run()


def public_callables():
    for m in MODULES:
        module = mod(m)
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and not isinstance(obj, dict):
                yield m, name


def test_every_public_callable_has_rows():
    covered = {r.target for r in ROWS}
    missing = []
    for m, name in public_callables():
        full = f"{m}.{name}"
        if full in NO_ARGUMENTS:
            continue
        if full not in covered and not any(t.startswith(full + ".") for t in covered):
            missing.append(full)
    assert not missing, f"public callables without bad-input rows: {missing}"
    assert len(ROWS) >= 300


def test_every_module_declares_its_public_api():
    for m in MODULES:
        module = mod(m)
        assert all(hasattr(module, n) for n in module.__all__), m
        public = {n for n, v in vars(module).items() if not n.startswith("_")
                  and getattr(v, "__module__", None) == module.__name__
                  and (callable(v) and not isinstance(v, type(math)))}
        assert public - set(module.__all__) <= INTERNAL.get(m, set()), \
            f"rnnbook.{m} defines public names missing from __all__: " \
            f"{public - set(module.__all__) - INTERNAL.get(m, set())}"


INTERNAL = {
    "cells": {"register_weights", "reset_uniform", "check_sizes", "check_input", "check_dtype",
              "as_state"},
    "gates": {"check_step"},
    "gradients": set(),
    "train": set(),
}

"""The book's reusable figures: cell diagrams, curves with their spread over seeds, and
gate heatmaps and histograms, each drawn in a chapter and available to readers' own runs.

    cell_diagram("lstm")                           # the LSTM cell, drawn with matplotlib
    cell_diagram("gru")                            # the GRU cell (and "rnn" for Elman's)
    loss_curves({"LSTM": losses, "RNN": other}, smooth=50, baseline=1 / 6)
    grad_norm_curves({"RNN": norms_rnn, "LSTM": norms_lstm})
    gate_heatmaps({"input i": i[0], "forget f": f[0]}, marks=[12, 31])
    gate_histograms({"r": r, "z": z})

Curves accept one run, a 1-D array, or several runs (seeds) as the rows of a 2-D array or
a list of equal-length sequences; several runs are drawn as their median with a band from
the lowest to the highest run, so the spread over seeds is always visible. Every function
draws on the `ax` (or `axes`) it is given, or on a new figure, and returns what it drew
on, so a chapter can add titles and labels and end the cell with `plt.show()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle, Ellipse, FancyBboxPatch

from rnnbook.checks import check_bool, check_choice, check_float, check_int, to_numpy

__all__ = ["cell_diagram", "gate_heatmaps", "gate_histograms", "grad_norm_curves",
           "loss_curves", "moving_average", "spread_curve"]

# ---------------------------------------------------------------------------
# Curves over steps, with their spread over seeds
# ---------------------------------------------------------------------------


def _axes(ax, name: str = "ax", size=(7, 3.5)) -> Axes:
    """The Axes to draw on: `ax` if given (checked), else one of a new figure."""
    if ax is None:
        return plt.subplots(figsize=size)[1]
    if not isinstance(ax, Axes):
        raise TypeError(f"{name} must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _as_runs(values, name: str) -> np.ndarray:
    """One run (1-D) or several runs of equal length (2-D) as a float array (runs, T)."""
    try:
        arr = to_numpy(values, name, finite=False)
    except ValueError as err:                      # ragged lists of runs
        raise ValueError(f"{name}: the runs must all have the same length") from err
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be one run (1-D) or several runs of equal length "
                         f"(2-D), got shape {arr.shape}")
    return arr


def moving_average(values, window: int) -> np.ndarray:
    """The mean of each `window` consecutive values along the last axis ('valid' part only).

    A curve of T values becomes T - window + 1 values; window=1 returns the values as they
    are. Noisy training losses read better smoothed this way.
    """
    arr = to_numpy(values, "values", finite=False)
    check_int("window", window)
    if window > arr.shape[-1]:
        raise ValueError(f"window={window} is longer than the {arr.shape[-1]} values")
    if window == 1:
        return arr
    csum = np.cumsum(np.insert(arr, 0, 0.0, axis=-1), axis=-1)
    return (csum[..., window:] - csum[..., :-window]) / window


def spread_curve(values, x=None, *, ax: Axes | None = None, label: str | None = None,
                 color=None, **line_kwargs) -> Axes:
    """Draw one curve, or several runs as their median and a min-to-max band.

    values: 1-D (one run) or 2-D (runs, T). x: the T positions (default 0..T-1).
    """
    runs = _as_runs(values, "values")
    x = np.arange(runs.shape[1]) if x is None else to_numpy(x, "x")
    if x.shape != (runs.shape[1],):
        raise ValueError(f"x must have one position per value ({runs.shape[1]}), "
                         f"got shape {x.shape}")
    ax = _axes(ax)
    if len(runs) > 1 and label is not None:
        label = f"{label} (median of {len(runs)}, min-max band)"
    (line,) = ax.plot(x, np.median(runs, axis=0), label=label, color=color, **line_kwargs)
    if len(runs) > 1:
        ax.fill_between(x, runs.min(axis=0), runs.max(axis=0), color=line.get_color(),
                        alpha=0.2, lw=0)
    return ax


def loss_curves(runs: Mapping[str, object], *, smooth: int = 1, baseline: float | None = None,
                baseline_label: str = "trivial baseline", log: bool = False,
                ax: Axes | None = None, xlabel: str = "training step",
                ylabel: str = "loss") -> Axes:
    """Training curves of several models, each over one or several seeds.

    runs: a mapping from a model's name to its losses, one per step (1-D) or one row per
    seed (2-D). smooth: moving-average window. baseline: a horizontal line, for example the
    loss of a model that ignores its input.
    """
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError("runs must be a non-empty mapping from a name to its loss curves")
    smooth = check_int("smooth", smooth)
    baseline = None if baseline is None else check_float("baseline", baseline)
    log = check_bool("log", log)
    curves = {name: _as_runs(values, f"runs[{name!r}]") for name, values in runs.items()}
    for name, arr in curves.items():
        if smooth > arr.shape[1]:
            raise ValueError(f"smooth={smooth} is longer than the {arr.shape[1]} values of "
                             f"runs[{name!r}]")
    ax = _axes(ax)
    for name, values in curves.items():
        arr = moving_average(values, smooth)
        steps = np.arange(arr.shape[1]) + smooth    # the last step each average includes
        spread_curve(arr, steps, ax=ax, label=name)
    if baseline is not None:
        ax.axhline(baseline, color="k", ls="--", lw=1, label=baseline_label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel if smooth == 1 else f"{ylabel} (mean of {smooth} steps)")
    ax.legend(frameon=False)
    return ax


def grad_norm_curves(norms: Mapping[str, object], *, ax: Axes | None = None,
                     ylabel: str = r"$\|\partial L / \partial h_t\|$",
                     xlabel: str = "time step $t$") -> Axes:
    """Gradient norm per time step, on a log scale, for several models.

    norms: a mapping from a model's name to its norms for t = 1..T (1-D) or one row per
    seed (2-D). Zeros (a step the loss does not reach) are left out of the log plot.
    """
    if not isinstance(norms, Mapping) or not norms:
        raise TypeError("norms must be a non-empty mapping from a name to its norms")
    curves = {name: _as_runs(values, f"norms[{name!r}]") for name, values in norms.items()}
    ax = _axes(ax)
    for name, arr in curves.items():
        spread_curve(np.where(arr > 0, arr, np.nan), np.arange(1, arr.shape[1] + 1),
                     ax=ax, label=name)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    return ax


# ---------------------------------------------------------------------------
# Gates
# ---------------------------------------------------------------------------


def _as_matrix(values, name: str) -> np.ndarray:
    arr = to_numpy(values, f"gates[{name!r}]")
    if arr.ndim != 2:
        raise ValueError(f"gates[{name!r}] must be one sequence of shape (T, H), "
                         f"got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"gates[{name!r}] must hold at least one step of one unit, "
                         f"got shape {arr.shape}")
    return arr


def gate_heatmaps(gates: Mapping[str, object], *, marks: Sequence[int] = (),
                  axes: Sequence[Axes] | None = None, xlabel: str = "time step $t$"):
    """One heatmap per gate: units down, time steps across, for one sequence.

    gates: a mapping from a gate's name to its values over one sequence, shape (T, H).
    Gates with values in [0, 1] (sigmoids) share a 0-to-1 colour scale; others (tanh
    candidates, cell states) get a symmetric red-blue scale around 0. marks: time steps
    (counted from 1, as on the x axis) to point at with a small triangle above each panel,
    such as the positions of the symbols that matter (a line across the image would hide
    the very column to look at).
    Returns the list of axes.
    """
    if not isinstance(gates, Mapping) or not gates:
        raise TypeError("gates must be a non-empty mapping from a name to a (T, H) array")
    mats = {name: _as_matrix(v, name) for name, v in gates.items()}
    if len({m.shape[0] for m in mats.values()}) != 1:
        raise ValueError("every gate must cover the same number of time steps")
    steps = next(iter(mats.values())).shape[0]
    if isinstance(marks, (str, bytes)) or not hasattr(marks, "__iter__"):
        raise TypeError(f"marks must be a sequence of time steps, got {type(marks).__name__}")
    marks = [check_int(f"marks[{k}]", m, minimum=1, maximum=steps) for k, m in enumerate(marks)]
    if axes is None:
        heights = [max(1.0, min(2.4, 0.06 * m.shape[1])) for m in mats.values()]
        _, axes = plt.subplots(len(mats), 1, figsize=(9, sum(heights) + 0.6), sharex=True,
                               squeeze=False, gridspec_kw={"height_ratios": heights})
        axes = list(axes[:, 0])
    if len(axes) != len(mats):
        raise ValueError(f"need one axes per gate ({len(mats)}), got {len(axes)}")
    for ax, (name, m) in zip(axes, mats.items(), strict=True):
        unit = bool(m.min() >= 0 and m.max() <= 1)
        lim = 1.0 if unit else max(float(np.abs(m).max()), 1e-12)
        img = ax.imshow(m.T, aspect="auto", interpolation="nearest",
                        cmap="viridis" if unit else "RdBu_r",
                        vmin=0.0 if unit else -lim, vmax=1.0 if unit else lim,
                        extent=(0.5, steps + 0.5, m.shape[1] - 0.5, -0.5))
        if len(marks):
            ax.plot(list(marks), [1.0] * len(marks), "v", color="k", markersize=7,
                    transform=ax.get_xaxis_transform(), clip_on=False)
        ax.set_ylabel(f"{name}\nunit", rotation=0, ha="right", va="center")
        ax.figure.colorbar(img, ax=ax, pad=0.01, fraction=0.03)
    axes[-1].set_xlabel(xlabel)
    return axes


def gate_histograms(gates: Mapping[str, object], *, bins: int = 40,
                    axes: Sequence[Axes] | None = None, log: bool = False):
    """A histogram of each gate's values, all time steps, units and sequences pooled.

    Sigmoid gates are binned on [0, 1], tanh values on [-1, 1]. Returns the list of axes.
    """
    if not isinstance(gates, Mapping) or not gates:
        raise TypeError("gates must be a non-empty mapping from a name to its values")
    bins = check_int("bins", bins)
    log = check_bool("log", log)
    if axes is None:
        _, axes = plt.subplots(1, len(gates), figsize=(3.2 * len(gates), 2.8), squeeze=False)
        axes = list(axes[0])
    if len(axes) != len(gates):
        raise ValueError(f"need one axes per gate ({len(gates)}), got {len(axes)}")
    for ax, (name, values) in zip(axes, gates.items(), strict=True):
        flat = to_numpy(values, f"gates[{name!r}]").ravel()
        if flat.size == 0:
            raise ValueError(f"gates[{name!r}] is empty")
        lo = 0.0 if flat.min() >= 0 else -1.0
        ax.hist(flat, bins=bins, range=(lo, 1.0), color="C0",
                weights=np.full(flat.size, 1.0 / flat.size))
        ax.set_title(name)
        ax.set_xlabel("value")
        if log:
            ax.set_yscale("log")
    axes[0].set_ylabel("fraction of values")
    return axes


# ---------------------------------------------------------------------------
# Cell diagrams
# ---------------------------------------------------------------------------

# Colours of the gates, shared by the diagrams and the chapters' own figures.
GATE_COLORS = {"forget": "#e07b6f", "input": "#7bbf6a", "candidate": "#f2c45a",
               "output": "#6fa8dc", "reset": "#c48fd6", "update": "#e0a05c",
               "plain": "#b7c4cf"}


class _Canvas:
    """Small drawing primitives in data coordinates."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax

    def wire(self, points, arrow: bool = True, lw: float = 1.6, color: str = "#333333",
             z: int = 1) -> None:
        xs, ys = zip(*points, strict=True)
        self.ax.plot(xs[:-1] + (xs[-1],), ys, color=color, lw=lw, zorder=z,
                     solid_capstyle="round")
        if arrow:
            self.ax.annotate("", xy=points[-1], xytext=points[-2], zorder=z,
                             arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw,
                                         "shrinkA": 0, "shrinkB": 0, "mutation_scale": 14})

    def gate(self, x: float, y: float, text: str, color: str, label: str | None = None,
             w: float = 0.9, h: float = 0.6) -> None:
        self.ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                         boxstyle="round,pad=0.02,rounding_size=0.12",
                                         fc=color, ec="#333333", lw=1.2, zorder=3))
        size = 12 if text.startswith("$") else 9      # a word ("tanh") is wider than a symbol
        self.ax.text(x, y, text, ha="center", va="center", fontsize=size, zorder=4)
        if label:
            self.ax.text(x - w / 2 - 0.08, y + h / 2 + 0.05, label, ha="right", va="bottom",
                         fontsize=12, zorder=4)

    def op(self, x: float, y: float, text: str, r: float = 0.26, size: int = 12) -> None:
        self.ax.add_patch(Circle((x, y), r, fc="white", ec="#333333", lw=1.2, zorder=3))
        self.ax.text(x, y - 0.01, text, ha="center", va="center", fontsize=size, zorder=4)

    def oval(self, x: float, y: float, text: str) -> None:
        self.ax.add_patch(Ellipse((x, y), 0.95, 0.5, fc="white", ec="#333333", lw=1.2,
                                  zorder=3))
        self.ax.text(x, y, text, ha="center", va="center", fontsize=9, zorder=4)

    def highway(self, y: float, stops: tuple[float, ...], color: str, left: str,
                right: str) -> None:
        """The state's thick line across the cell at height y, from `left` to `right`,
        broken at each x in `stops` where it passes through an operator (radius 0.26)."""
        ends = [0.0, *(x + d for x in stops for d in (-0.26, 0.26)), 12.2]
        for k in range(0, len(ends), 2):
            self.wire([(ends[k], y), (ends[k + 1], y)], arrow=k + 2 == len(ends), lw=3.2,
                      color=color)
        self.label(0.1, y + 0.35, left, ha="left")
        self.label(12.1, y + 0.35, right, ha="right")

    def label(self, x: float, y: float, text: str, **kw) -> None:
        self.ax.text(x, y, text, zorder=4, **{"ha": "center", "va": "center",
                                              "fontsize": 13, **kw})

    def body(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0,
                                         boxstyle="round,pad=0.02,rounding_size=0.4",
                                         fc="#f4f6f8", ec="#8a9aa8", lw=1.5, zorder=0))


def _draw_lstm(c: _Canvas) -> None:
    top, bus, gy = 5.4, 1.4, 2.7
    c.body(1.4, 0.7, 10.9, 6.2)
    # The cell state: the highway along the top, touched only by * and +.
    c.highway(top, (3.0, 5.75), "#b03a2e", r"$c_{t-1}$", r"$c_t$")
    c.label(7.6, top + 0.3, "cell state: only scaled and added to", fontsize=9,
            color="#b03a2e", style="italic")
    # The inputs: h_{t-1} from the left, x_t from below, together on a bus.
    c.wire([(0.0, bus), (7.9, bus)], arrow=False)
    c.label(0.1, bus - 0.35, r"$h_{t-1}$", ha="left")
    c.wire([(2.1, -0.4), (2.1, bus)], arrow=False)
    c.label(2.1, -0.75, r"$x_t$")
    # Four gates read [h_{t-1}, x_t].
    xs = {"f": 3.0, "i": 4.6, "g": 6.2, "o": 7.9}
    for key in xs:
        c.wire([(xs[key], bus), (xs[key], gy - 0.3)])
    c.gate(xs["f"], gy, r"$\sigma$", GATE_COLORS["forget"], r"$f_t$")
    c.gate(xs["i"], gy, r"$\sigma$", GATE_COLORS["input"], r"$i_t$")
    c.gate(xs["g"], gy, "tanh", GATE_COLORS["candidate"], r"$g_t$")
    c.gate(xs["o"], gy, r"$\sigma$", GATE_COLORS["output"], r"$o_t$")
    # Forget: c_{t-1} * f_t.
    c.wire([(xs["f"], gy + 0.3), (xs["f"], top - 0.26)])
    c.op(xs["f"], top, r"$\times$")
    # Write: i_t * g_t, added to the cell.
    mid, wy = 5.75, 4.05
    c.wire([(xs["i"], gy + 0.3), (xs["i"], wy), (mid - 0.26, wy)])
    c.wire([(xs["g"], gy + 0.3), (xs["g"], wy), (mid + 0.26, wy)])
    c.op(mid, wy, r"$\times$")
    c.wire([(mid, wy + 0.26), (mid, top - 0.26)])
    c.op(mid, top, "+")
    # Read: h_t = o_t * tanh(c_t).
    ox = 9.2
    c.wire([(ox, top), (ox, 4.35)])
    c.oval(ox, 4.1, "tanh")
    c.wire([(ox, 3.85), (ox, gy + 0.26)])
    c.wire([(xs["o"] + 0.45, gy), (ox - 0.26, gy)])
    c.op(ox, gy, r"$\times$")
    c.wire([(ox, gy - 0.26), (ox, bus), (12.2, bus)])
    c.label(12.1, bus - 0.35, r"$h_t$", ha="right")
    c.wire([(10.3, bus), (10.3, 7.0)])
    c.label(10.3, 7.3, r"$h_t$ (output)")


def _draw_gru(c: _Canvas) -> None:
    top, bus, gy = 5.4, 1.4, 2.7
    c.body(1.4, 0.7, 10.9, 6.2)
    # The hidden state runs along the top: kept in proportion z, replaced in 1 - z.
    c.highway(top, (4.0, 7.5), "#1f5f99", r"$h_{t-1}$", r"$h_t$")
    c.wire([(1.9, top), (1.9, bus), (7.5, bus)], arrow=False)
    c.wire([(2.6, -0.4), (2.6, bus)], arrow=False)
    c.label(2.6, -0.75, r"$x_t$")
    xs = {"z": 4.0, "r": 5.6, "n": 7.5}
    for key in xs:
        c.wire([(xs[key], bus), (xs[key], gy - 0.3)])
    c.gate(xs["z"], gy, r"$\sigma$", GATE_COLORS["update"], r"$z_t$")
    c.gate(xs["r"], gy, r"$\sigma$", GATE_COLORS["reset"], r"$r_t$")
    c.gate(xs["n"], gy, "tanh", GATE_COLORS["candidate"], r"$n_t$")
    # The reset gate scales the old state's contribution to the candidate.
    c.wire([(xs["r"] + 0.45, gy), (xs["n"] - 0.45, gy)])
    # z_t keeps the old state; 1 - z_t lets the candidate in.
    my = 4.1
    c.wire([(xs["z"], gy + 0.3), (xs["z"], top - 0.26)])
    c.op(xs["z"], top, r"$\times$")
    c.wire([(xs["z"], my), (5.5, my)], arrow=False)
    c.op(5.75, my, "1−", r=0.3, size=9)
    c.wire([(6.05, my), (xs["n"] - 0.26, my)])
    c.wire([(xs["n"], gy + 0.3), (xs["n"], my - 0.26)])
    c.op(xs["n"], my, r"$\times$")
    c.wire([(xs["n"], my + 0.26), (xs["n"], top - 0.26)])
    c.op(xs["n"], top, "+")
    c.wire([(10.0, top), (10.0, 7.0)])
    c.label(10.0, 7.3, r"$h_t$ (output)")


def _draw_rnn(c: _Canvas) -> None:
    bus = 1.4
    c.body(1.4, 0.7, 10.9, 6.2)
    c.wire([(0.0, bus), (6.0, bus), (6.0, 3.2)])
    c.label(0.1, bus - 0.35, r"$h_{t-1}$", ha="left")
    c.wire([(3.0, -0.4), (3.0, bus)], arrow=False)
    c.label(3.0, -0.75, r"$x_t$")
    c.gate(6.0, 3.5, "tanh", GATE_COLORS["plain"])
    c.wire([(6.0, 3.8), (6.0, 4.6), (12.2, 4.6)])
    c.label(12.1, 4.25, r"$h_t$", ha="right")
    c.wire([(10.0, 4.6), (10.0, 7.0)])
    c.label(10.0, 7.3, r"$h_t$ (output)")


_DIAGRAMS = {"lstm": _draw_lstm, "gru": _draw_gru, "rnn": _draw_rnn}


def cell_diagram(kind: str = "lstm", ax: Axes | None = None) -> Axes:
    """Draw one step of an LSTM, GRU or plain RNN cell, as matplotlib patches.

    The LSTM's cell state c runs along the top and is only multiplied by the forget gate
    and added to, never squashed: the "highway". The GRU's hidden state runs along the
    top, kept in proportion z_t (PyTorch's convention) and replaced by the candidate n_t in
    proportion 1 - z_t; its reset gate r_t feeds the candidate (before or after the
    recurrent matmul, depending on the formulation). Each sigma/tanh box is a layer with
    its own weights reading [h_{t-1}, x_t]; circles are element-wise operations.
    """
    check_choice("kind", kind, _DIAGRAMS)
    ax = _axes(ax, size=(8.5, 5.2))
    _DIAGRAMS[kind](_Canvas(ax))
    ax.set_xlim(-0.3, 12.5)
    ax.set_ylim(-1.1, 7.7)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax

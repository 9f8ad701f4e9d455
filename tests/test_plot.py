"""rnnbook.plot: every figure draws what it promises, and bad input is refused clearly."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from rnnbook import plot  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_moving_average_matches_a_direct_mean():
    x = np.arange(10.0) ** 2
    got = plot.moving_average(x, 3)
    assert got.shape == (8,)
    np.testing.assert_allclose(got, [x[i:i + 3].mean() for i in range(8)])
    np.testing.assert_allclose(plot.moving_average(np.stack([x, -x]), 4)[1],
                               -plot.moving_average(x, 4))
    assert plot.moving_average(x, 1) is not None and np.allclose(plot.moving_average(x, 1), x)


@pytest.mark.parametrize("window, error", [(0, ValueError), (11, ValueError), (2.5, TypeError),
                                           (True, TypeError)])
def test_moving_average_rejects_bad_windows(window, error):
    with pytest.raises(error, match="window"):
        plot.moving_average(np.arange(10.0), window)


def test_spread_curve_draws_the_median_and_the_min_max_band():
    runs = np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0], [2.0, 9.0, 4.0]])
    ax = plot.spread_curve(runs, label="model")
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [2.0, 4.0, 4.0])
    assert "median of 3" in line.get_label()
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    ys = bands[0].get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(1.0) and ys.max() == pytest.approx(9.0)


def test_spread_curve_with_one_run_has_no_band_and_accepts_tensors():
    ax = plot.spread_curve(torch.tensor([1.0, 2.0]), x=[5, 6])
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [5, 6])
    assert not ax.collections


def test_spread_curve_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same length"):
        plot.spread_curve([[1.0, 2.0], [1.0]])
    with pytest.raises(ValueError, match="x must have one position"):
        plot.spread_curve([1.0, 2.0], x=[1, 2, 3])
    with pytest.raises(ValueError, match="1-D"):
        plot.spread_curve(np.zeros((2, 2, 2)))


def test_loss_curves_smooths_and_draws_the_baseline():
    rng = np.random.default_rng(0)
    ax = plot.loss_curves({"a": rng.random((3, 50)), "b": rng.random(50)}, smooth=10,
                          baseline=0.5, log=True)
    lines = ax.get_lines()
    assert len(lines) == 3                               # two models and the baseline
    assert len(lines[0].get_xdata()) == 41
    assert lines[0].get_xdata()[0] == 10                 # the first full window ends there
    assert list(lines[2].get_ydata()) == [0.5, 0.5]
    assert ax.get_yscale() == "log"
    assert "mean of 10" in ax.get_ylabel()
    with pytest.raises(TypeError, match="mapping"):
        plot.loss_curves([1.0, 2.0])


def test_grad_norm_curves_is_logarithmic_and_skips_zeros():
    ax = plot.grad_norm_curves({"rnn": [1e-8, 1e-4, 1.0], "lstm": [[0.0, 0.1, 1.0]] * 2})
    assert ax.get_yscale() == "log"
    assert np.isnan(ax.get_lines()[1].get_ydata()[0])
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1, 2, 3])


def test_gate_heatmaps_picks_scales_from_the_values():
    rng = np.random.default_rng(0)
    gates = {"f": rng.random((20, 8)), "g": np.tanh(rng.normal(size=(20, 8)))}
    axes = plot.gate_heatmaps(gates, marks=[3, 9])
    assert len(axes) == 2
    sig, cand = axes[0].get_images()[0], axes[1].get_images()[0]
    assert sig.get_clim() == (0.0, 1.0)
    lo, hi = cand.get_clim()
    assert lo == -hi and hi == pytest.approx(np.abs(gates["g"]).max())
    assert sig.get_array().shape == (8, 20)              # units down, time across
    (marks,) = axes[0].get_lines()                       # the marks, as triangles on top
    assert list(marks.get_xdata()) == [3, 9] and list(marks.get_ydata()) == [1.0, 1.0]
    assert not axes[0].get_lines()[0].get_clip_on()


def test_gate_heatmaps_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(T, H\)"):
        plot.gate_heatmaps({"f": np.zeros(5)})
    with pytest.raises(ValueError, match="same number of time steps"):
        plot.gate_heatmaps({"f": np.zeros((5, 2)), "i": np.zeros((6, 2))})
    with pytest.raises(TypeError):
        plot.gate_heatmaps({})


def test_gate_histograms_bins_fractions_on_the_gate_range():
    z = torch.tensor([0.0, 0.1, 0.9, 1.0])
    axes = plot.gate_histograms({"z": z, "n": torch.tensor([-0.5, 0.5])}, bins=4)
    heights = [p.get_height() for p in axes[0].patches]
    assert sum(heights) == pytest.approx(1.0)
    assert heights == pytest.approx([0.5, 0.0, 0.0, 0.5])
    assert axes[1].patches[0].get_x() == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="one axes per gate"):
        plot.gate_histograms({"z": z}, axes=[])


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_cell_diagrams_draw(kind):
    ax = plot.cell_diagram(kind)
    assert len(ax.patches) >= 2 and ax.texts
    labels = " ".join(t.get_text() for t in ax.texts)
    assert r"$x_t$" in labels and r"$h_{t-1}$" in labels
    if kind == "lstm":
        assert all(name in labels for name in (r"$f_t$", r"$i_t$", r"$g_t$", r"$o_t$"))
    if kind == "gru":
        assert all(name in labels for name in (r"$r_t$", r"$z_t$", r"$n_t$"))
        assert r"$c_{t-1}$" not in labels


def test_cell_diagram_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="kind"):
        plot.cell_diagram("transformer")

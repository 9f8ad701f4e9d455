"""Tests for rnnbook.forecast: rolling origins, MASE, sMAPE, coverage, multi-step helpers.

Expected values are worked out by hand in the comments.
"""

import math

import numpy as np
import pytest
import torch

from rnnbook import make_windows
from rnnbook.baselines import LinearAR
from rnnbook.forecast import (
    coverage,
    directional_accuracy,
    gaussian_interval,
    gaussian_nll,
    mase,
    origin_windows,
    recursive_forecast,
    rolling_origins,
    smape,
    split_gaussian,
)


def test_rolling_origins_keep_every_horizon_inside_the_series():
    # length 10, horizon 3: the last origin is 7 (it forecasts indices 7, 8, 9)
    assert rolling_origins(10, first=6, horizon=3).tolist() == [6, 7]
    assert rolling_origins(10, first=4, horizon=3, step=2).tolist() == [4, 6]
    assert rolling_origins(10, first=7, horizon=3).tolist() == [7]


def test_rolling_origins_bad_input():
    with pytest.raises(ValueError, match="first=8 plus horizon=3"):
        rolling_origins(10, first=8, horizon=3)
    with pytest.raises(TypeError, match="length"):
        rolling_origins(10.0, first=2, horizon=3)
    with pytest.raises(ValueError, match="step"):
        rolling_origins(10, first=2, horizon=3, step=0)


def test_origin_windows_hold_the_past_before_and_the_future_after_each_origin():
    X, Y = origin_windows(np.arange(10), [5, 7], lags=3, horizon=2)
    assert X.tolist() == [[2, 3, 4], [4, 5, 6]]
    assert Y.tolist() == [[5, 6], [7, 8]]
    assert X.dtype == np.float64


def test_origin_windows_agree_with_make_windows():
    series = np.sin(np.arange(60) / 3.0)
    lags, horizon, first = 7, 4, 30
    X, Y = origin_windows(series, rolling_origins(60, first, horizon), lags, horizon)
    X_mw, Y_mw = make_windows(series, lags, horizon, targets_from=first + horizon - 1)
    assert np.allclose(X, X_mw, atol=1e-6) and np.allclose(Y, Y_mw, atol=1e-6)


def test_origin_windows_bad_input():
    with pytest.raises(ValueError, match=r"origins must lie in \[lags"):
        origin_windows(np.arange(10), [2], lags=3, horizon=1)
    with pytest.raises(ValueError, match="origins must lie"):
        origin_windows(np.arange(10), [9], lags=3, horizon=2)
    with pytest.raises(TypeError, match="origins"):
        origin_windows(np.arange(10), [5.0], lags=3, horizon=1)
    with pytest.raises(ValueError, match="series"):
        origin_windows(np.ones((10, 2)), [5], lags=3, horizon=1)


def test_mase_by_hand():
    train = [1.0, 3.0, 2.0, 5.0]
    # one-step naive errors in train: |3-1|, |2-3|, |5-2| = 2, 1, 3 -> scale 2
    # forecast errors |5-4|, |5-6| = 1, 1 -> MAE 1 -> MASE 0.5
    assert mase([4.0, 6.0], [5.0, 5.0], train) == pytest.approx(0.5)
    # seasonal naive with season 2: |2-1|, |5-3| = 1, 2 -> scale 1.5 -> MASE 2/3
    assert mase([4.0, 6.0], [5.0, 5.0], train, season=2) == pytest.approx(2 / 3)


def test_mase_per_horizon():
    forecast = np.array([[1.0, 2.0], [3.0, 4.0]])
    actual = np.array([[2.0, 2.0], [3.0, 6.0]])
    # absolute errors [[1, 0], [0, 2]]: column means 0.5 and 1, scale 2 (train 0, 2, 4)
    assert np.allclose(mase(forecast, actual, [0.0, 2.0, 4.0], axis=0), [0.25, 0.5])
    assert mase(forecast, actual, [0.0, 2.0, 4.0]) == pytest.approx(0.375)


def test_mase_of_the_naive_forecast_in_sample_is_one():
    train = np.cumsum(np.random.default_rng(0).normal(size=200))
    assert mase(train[:-1], train[1:], train) == pytest.approx(1.0)
    season = 12
    assert mase(train[:-season], train[season:], train, season=season) == pytest.approx(1.0)


def test_mase_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        mase([1.0, 2.0], [1.0], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="scale is 0"):
        mase([1.0], [2.0], [3.0, 3.0, 3.0])
    with pytest.raises(ValueError, match="train must hold more than season=12"):
        mase([1.0], [2.0], np.arange(12.0), season=12)
    with pytest.raises(TypeError, match="forecast"):
        mase(["a"], [1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="actual contains NaN"):
        mase([1.0], [np.nan], [0.0, 1.0])
    with pytest.raises(ValueError, match="axis"):
        mase([1.0], [2.0], [0.0, 1.0], axis=1)


def test_smape_by_hand_and_its_asymmetry():
    # 200 * 10 / 210 = 9.5238...: over-forecasting by 10
    assert smape([110.0], [100.0]) == pytest.approx(2000 / 210)
    # 200 * 10 / 190 = 10.526...: under-forecasting by the same 10 costs more
    assert smape([90.0], [100.0]) == pytest.approx(2000 / 190)
    assert smape([110.0, 90.0], [100.0, 100.0]) == pytest.approx((2000 / 210 + 2000 / 190) / 2)
    assert smape([0.0, 1.0], [0.0, 1.0]) == 0.0           # 0/0 counts as perfect
    assert smape([0.0], [5.0]) == pytest.approx(200.0)    # the worst possible
    assert np.allclose(smape([[110.0, 100.0]], [[100.0, 100.0]], axis=0), [2000 / 210, 0.0])


def test_coverage_by_hand():
    actual = [1.0, 2.0, 3.0, 4.0]
    lower = [0.0, 2.0, 4.0, 0.0]
    upper = [1.0, 3.0, 5.0, 3.0]
    # 1 in [0, 1] (an end counts), 2 in [2, 3]; 3 below [4, 5]; 4 above [0, 3]
    assert coverage(actual, lower, upper) == 0.5
    assert np.allclose(coverage(np.reshape(actual, (2, 2)), np.reshape(lower, (2, 2)),
                                np.reshape(upper, (2, 2)), axis=0), [0.5, 0.5])


def test_coverage_bad_input():
    with pytest.raises(ValueError, match="lower must be <= upper"):
        coverage([1.0], [2.0], [0.0])
    with pytest.raises(ValueError, match="same shape"):
        coverage([1.0, 2.0], [0.0], [3.0])


def test_directional_accuracy_by_hand():
    last = [10.0, 10.0, 10.0, 10.0]
    actual = [11.0, 9.0, 10.0, 12.0]     # up, down, no move (not scored), up
    forecast = [10.5, 10.2, 11.0, 9.0]   # up (right), up (wrong), -, down (wrong)
    assert directional_accuracy(forecast, actual, last) == pytest.approx(1 / 3)
    assert directional_accuracy(last, actual, last) == 0.0   # persistence never moves


def test_directional_accuracy_bad_input():
    with pytest.raises(ValueError, match="never moved"):
        directional_accuracy([1.0], [2.0], [2.0])
    with pytest.raises(ValueError, match="last must have the shape"):
        directional_accuracy([1.0, 2.0], [2.0, 3.0], [2.0])


def test_recursive_forecast_feeds_each_forecast_back():
    # next = sum of the window: from [1, 2] the Fibonacci numbers 3, 5, 8
    out = recursive_forecast(lambda w: w.sum(axis=1), [[1.0, 2.0]], horizon=3)
    assert out.tolist() == [[3.0, 5.0, 8.0]]


def test_recursive_forecast_of_a_linear_ar_is_exact_on_a_noiseless_ar_series():
    x = np.zeros(100)
    x[:2] = 1.0, 0.5
    for t in range(2, 100):
        x[t] = 0.2 + 1.5 * x[t - 1] - 0.8 * x[t - 2]
    X, y = make_windows(x, lags=2)
    model = LinearAR().fit(X, y[:, 0])
    Xo, Yo = origin_windows(x, rolling_origins(100, 60, 5), lags=2, horizon=5)
    assert np.allclose(recursive_forecast(model.predict, Xo, 5), Yo, atol=1e-6)


def test_recursive_forecast_bad_input():
    with pytest.raises(TypeError, match="one_step"):
        recursive_forecast(3, [[1.0, 2.0]], horizon=2)
    with pytest.raises(ValueError, match=r"one_step must return shape \(1,\)"):
        recursive_forecast(lambda w: w, [[1.0, 2.0]], horizon=2)
    with pytest.raises(ValueError, match="horizon"):
        recursive_forecast(lambda w: w[:, -1], [[1.0, 2.0]], horizon=0)


def test_gaussian_head_mean_std_and_loss_by_hand():
    output = torch.tensor([[0.5, -1.0, 0.0, 2.0]])          # means 0.5, -1; scales 0, 2
    mean, std = split_gaussian(output)
    assert torch.allclose(mean, torch.tensor([[0.5, -1.0]]))
    expected_std = torch.tensor([[math.log(2), math.log(1 + math.e**2)]]) + 1e-3
    assert torch.allclose(std, expected_std)
    target = torch.tensor([[1.5, -1.0]])
    var = expected_std**2
    # 0.5 * (log var + (y - mean)^2 / var), averaged over the two values
    by_hand = 0.5 * (torch.log(var) + torch.tensor([[1.0, 0.0]]) / var)
    assert torch.allclose(gaussian_nll(output, target), by_hand.mean())


def test_gaussian_nll_trains_the_std_towards_the_spread_of_the_data():
    torch.manual_seed(0)
    y = 3.0 + 0.5 * torch.randn(500, 1)
    raw = torch.zeros(1, 2, requires_grad=True)
    opt = torch.optim.Adam([raw], lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        gaussian_nll(raw.expand(len(y), 2), y).backward()
        opt.step()
    mean, std = split_gaussian(raw.detach())
    assert abs(mean.item() - y.mean().item()) < 0.02 and abs(std.item() - y.std().item()) < 0.02


def test_gaussian_head_bad_input():
    with pytest.raises(ValueError, match="even number"):
        split_gaussian(torch.zeros(2, 3))
    with pytest.raises(TypeError, match="output must be a torch.Tensor"):
        split_gaussian(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"target must have shape \(2, 2\)"):
        gaussian_nll(torch.zeros(2, 4), torch.zeros(2))


def test_gaussian_interval_by_hand():
    lo, hi = gaussian_interval([0.0, 10.0], [1.0, 2.0], level=0.95)
    assert np.allclose(hi, [1.959964, 10 + 2 * 1.959964], atol=1e-6)
    assert np.allclose(lo, [-1.959964, 10 - 2 * 1.959964], atol=1e-6)
    lo, hi = gaussian_interval([0.0], [1.0], level=0.8)
    assert np.allclose([lo[0], hi[0]], [-1.281552, 1.281552], atol=1e-6)


def test_gaussian_interval_bad_input():
    with pytest.raises(ValueError, match="level must be < 1"):
        gaussian_interval([0.0], [1.0], level=1.0)
    with pytest.raises(TypeError, match="level"):
        gaussian_interval([0.0], [1.0], level="95%")
    with pytest.raises(ValueError, match="std must be >= 0"):
        gaussian_interval([0.0], [-1.0], level=0.8)

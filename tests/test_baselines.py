"""Tests for rnnbook.baselines: forecasting baselines for series, n-gram baselines for text."""

import math

import numpy as np
import pytest
import torch

from rnnbook import make_windows
from rnnbook.baselines import LinearAR, ngram_cross_entropy, persistence, rmse, seasonal_naive


def test_persistence_is_the_last_value_of_each_window():
    X, _ = make_windows(np.arange(10.0), lags=3)
    assert persistence(X).tolist() == [2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize("horizon", [1, 2, 5, 12, 13, 30])
def test_seasonal_naive_repeats_a_periodic_series_exactly(horizon):
    season = 12
    series = np.sin(2 * np.pi * np.arange(300) / season)
    X, y = make_windows(series, lags=season, horizon=horizon)
    assert np.allclose(seasonal_naive(X, season, horizon), y[:, -1], atol=1e-6)
    # and it is the value exactly k seasons before the target
    k = math.ceil(horizon / season)
    start = np.arange(len(X)) + season + horizon - 1 - k * season
    assert np.array_equal(seasonal_naive(X, season, horizon), series[start].astype(np.float32))


def test_seasonal_naive_needs_a_full_season():
    X, _ = make_windows(np.arange(30.0), lags=5)
    with pytest.raises(ValueError, match="full season"):
        seasonal_naive(X, season=12)
    with pytest.raises(ValueError, match="horizon"):
        seasonal_naive(X, season=2, horizon=0)


def test_linear_ar_recovers_the_coefficients_of_a_simulated_ar2():
    rng = np.random.default_rng(0)
    x = np.zeros(20_000)
    for t in range(2, len(x)):
        x[t] = 0.5 + 1.2 * x[t - 1] - 0.5 * x[t - 2] + rng.normal(0, 0.1)
    X, y = make_windows(x, lags=2)
    model = LinearAR().fit(X, y[:, 0])
    # weights are ordered like the window: oldest lag first
    assert np.allclose(model.weights, [-0.5, 1.2], atol=0.02)
    assert model.intercept == pytest.approx(0.5, abs=0.03)


def test_linear_ar_equals_plain_least_squares_with_a_column_of_ones():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(50, 4)), rng.normal(size=50)
    A = np.c_[np.ones(50), X]
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    model = LinearAR().fit(X, y)
    assert np.allclose(model.predict(X), A @ coef, atol=1e-10)


def test_linear_ar_fits_several_targets_at_once():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    both = LinearAR(ridge=0.5).fit(X, Y).predict(X)
    for k in range(2):
        assert np.allclose(both[:, k], LinearAR(ridge=0.5).fit(X, Y[:, k]).predict(X))


def test_ridge_shrinks_the_weights_but_not_the_intercept():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    y = 100.0 + X @ np.array([1.0, -2.0, 0.5]) + rng.normal(0, 0.1, 200)
    plain, ridge = LinearAR().fit(X, y), LinearAR(ridge=1e6).fit(X, y)
    assert np.linalg.norm(ridge.weights) < 0.01 * np.linalg.norm(plain.weights)
    assert ridge.predict(X).mean() == pytest.approx(y.mean(), abs=1e-6)


def test_linear_ar_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        LinearAR().predict(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="ridge"):
        LinearAR(ridge=-1)
    with pytest.raises(ValueError, match="rows like X"):
        LinearAR().fit(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="fewer lags"):
        LinearAR().fit(np.zeros((3, 5)), np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        LinearAR().fit(np.zeros(10), np.zeros(10))
    model = LinearAR().fit(np.random.default_rng(0).normal(size=(10, 2)), np.zeros(10))
    with pytest.raises(ValueError, match="2 lags"):
        model.predict(np.zeros((4, 3)))


def test_rmse():
    assert rmse([1.0, 2.0], [1.0, 4.0]) == pytest.approx(math.sqrt(2))
    with pytest.raises(ValueError, match="same shape"):
        rmse([1.0], [1.0, 2.0])


def test_unigram_with_alpha_zero_on_its_own_data_is_the_entropy():
    ids = torch.tensor([0, 0, 1, 2, 0, 1])
    p = np.array([3, 2, 1]) / 6
    assert ngram_cross_entropy(ids, ids, 3, order=1, alpha=0) == pytest.approx(
        -(p * np.log(p)).sum())


def test_bigram_matches_counting_by_hand():
    train, test = [0, 1, 0, 1, 1, 0], [1, 0, 0]
    V, a = 3, 0.5
    # pairs in train: 01 01 10 11 10 -> from 0: {1: 2}; from 1: {0: 2, 1: 1}
    p10 = (2 + a) / (3 + a * V)
    p00 = (0 + a) / (2 + a * V)
    expected = -(math.log(p10) + math.log(p00)) / 2
    assert ngram_cross_entropy(train, test, V, order=2, alpha=a) == pytest.approx(expected)


def test_unseen_context_gets_the_uniform_distribution():
    assert ngram_cross_entropy([0, 0, 0], [2, 2], 4, order=2) == pytest.approx(math.log(4))


def test_ngram_on_a_deterministic_sequence_approaches_zero_with_order():
    ids = np.tile([0, 1, 2, 3], 500)
    uni = ngram_cross_entropy(ids, ids, 4, order=1, alpha=0)
    bi = ngram_cross_entropy(ids, ids, 4, order=2, alpha=0)
    assert uni == pytest.approx(math.log(4)) and bi == pytest.approx(0.0, abs=1e-12)


def test_ngram_errors():
    with pytest.raises(ValueError, match="alpha > 0"):
        ngram_cross_entropy([0, 0], [1, 1], 2, order=1, alpha=0)
    with pytest.raises(ValueError, match="ids in 0..1"):
        ngram_cross_entropy([0, 5], [0, 1], 2)
    with pytest.raises(TypeError, match="integer ids"):
        ngram_cross_entropy([0.5, 1.0], [0, 1], 2)
    with pytest.raises(ValueError, match="order"):
        ngram_cross_entropy([0, 1], [0, 1], 2, order=0)

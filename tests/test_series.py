"""rnnbook.series: lag windows, time-ordered splits, a scaler without leakage, real series."""

import numpy as np
import pytest

from rnnbook.series import (
    StandardScaler,
    load_co2,
    load_sunspots,
    make_windows,
    split_series,
)


def test_make_windows_1d_and_2d():
    X, y = make_windows(np.arange(10), lags=3, horizon=2)
    assert X.shape == (6, 3) and y.shape == (6, 2)
    np.testing.assert_array_equal(X[0], [0, 1, 2])
    np.testing.assert_array_equal(y[0], [3, 4])
    np.testing.assert_array_equal(y[-1], [8, 9])
    X2, y2 = make_windows(np.arange(20).reshape(10, 2), lags=4)
    assert X2.shape == (6, 4, 2) and y2.shape == (6, 1, 2)


@pytest.mark.parametrize("series,kwargs,error,match", [
    (np.arange(4), dict(lags=3, horizon=2), ValueError, "needs at least 5 values"),
    (np.array([1.0, np.nan, 3.0, 4.0]), dict(lags=1), ValueError, r"NaN or infinity at \[\[1\]\]"),
    (np.arange(10), dict(lags=0), ValueError, "lags must be"),
    (np.zeros((3, 3, 3)), dict(lags=1), ValueError, r"1 or 2 dimension\(s\)"),
    (np.array(["a", "b", "c"]), dict(lags=1), TypeError, "numbers"),
])
def test_make_windows_errors(series, kwargs, error, match):
    with pytest.raises(error, match=match):
        make_windows(series, **kwargs)


def test_split_series_keeps_time_order():
    train, test = split_series(np.arange(10), 0.7)
    np.testing.assert_array_equal(train, np.arange(7))
    np.testing.assert_array_equal(test, np.arange(7, 10))
    with pytest.raises(ValueError, match="train_fraction"):
        split_series(np.arange(10), 1.0)


def test_scaler_uses_training_statistics_only():
    train, test = np.array([1.0, 2.0, 3.0]), np.array([10.0, 11.0])
    scaler = StandardScaler().fit(train)
    np.testing.assert_allclose(scaler.transform(train).mean(), 0, atol=1e-6)
    np.testing.assert_allclose(scaler.transform(test), (test - 2) / np.std(train), rtol=1e-6)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test, rtol=1e-6)
    constant = StandardScaler().fit(np.ones(4))
    np.testing.assert_allclose(constant.transform(np.ones(2)), 0)


def test_scaler_must_be_fitted_first():
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(np.ones(3))


def test_real_series_load_offline():
    co2 = load_co2()
    assert len(co2) > 500 and not co2.isna().any()
    assert 310 < co2.iloc[0] < 320 and co2.iloc[-1] > 360       # ppm, rising
    assert load_co2(monthly=False).isna().sum() > 0        # the raw weekly data has gaps
    sun = load_sunspots()
    assert sun.index[0] == 1700 and len(sun) > 300 and (sun >= 0).all()


def test_scaler_repr_is_rounded():
    scaler = StandardScaler().fit(np.array([1.0, 2.0, 4.0]))
    assert repr(scaler) == "StandardScaler(mean=[2.3333], std=[1.2472])"
    assert repr(StandardScaler()) == "StandardScaler(not fitted)"


def test_make_windows_targets_from_gives_one_window_per_later_value():
    series = np.arange(30.0)
    for horizon in (1, 3):
        X, y = make_windows(series, lags=5, horizon=horizon, targets_from=20)
        np.testing.assert_array_equal(y[:, -1], series[20:])      # one per test value
        np.testing.assert_array_equal(X[0], series[20 - 5 - horizon + 1:20 - horizon + 1])
    X, _ = make_windows(series, lags=5, horizon=1, targets_from=5)
    assert len(X) == 25                                           # the earliest possible
    with pytest.raises(ValueError, match="too little history"):
        make_windows(series, lags=5, targets_from=3)
    with pytest.raises(ValueError, match="targets_from"):
        make_windows(series, lags=5, targets_from=-1)


@pytest.mark.parametrize("fit_on, apply_to", [(np.zeros((5, 3)), np.zeros(4)),
                                              (np.zeros((5, 3)), np.zeros((4, 2))),
                                              (np.zeros((5, 3)), np.zeros((4, 3, 2)))])
def test_scaler_of_features_refuses_arrays_without_those_features(fit_on, apply_to):
    """Statistics per feature must meet the same features, in the last dimension: the
    scaler used to broadcast (3,) statistics over whatever came."""
    scaler = StandardScaler().fit(fit_on)
    for method in (scaler.transform, scaler.inverse_transform):
        with pytest.raises(ValueError, match="must have the 3 features the scaler was fitted on"):
            method(apply_to)


def test_scaler_of_one_series_scales_any_array_of_it():
    """Scalar statistics (fitted on a 1-D series) apply to every value of that series,
    however it is arranged: the series itself, its lag windows, its targets."""
    series = np.arange(20.0)
    scaler = StandardScaler().fit(series[:10])
    X, y = make_windows(series, lags=3, horizon=2)
    np.testing.assert_allclose(scaler.transform(X), (X - 4.5) / np.std(np.arange(10.0)),
                               rtol=1e-6)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(y)), y, rtol=1e-6)


@pytest.mark.parametrize("bad, error, match", [
    (np.array([]), ValueError, r"train must hold at least one value, got shape \(0,\)"),
    (np.zeros((0, 3)), ValueError, r"train must hold at least one value"),
    (np.zeros((4, 0)), ValueError, r"train must hold at least one value"),
    (np.array([1.0, np.inf]), ValueError, r"train contains NaN or infinity at \[\[1\]\]"),
    (np.array([1.0, -np.inf]), ValueError, "NaN or infinity"),
    (np.array([1.0, np.nan]), ValueError, "NaN or infinity"),
    ("abc", TypeError, "train must hold numbers"),
])
def test_scaler_refuses_empty_and_non_finite_training_data(bad, error, match):
    with pytest.raises(error, match=match):
        StandardScaler().fit(bad)


def test_scaler_fits_per_feature_and_inverts():
    train = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    scaler = StandardScaler().fit(train)
    np.testing.assert_allclose(scaler.mean, [3.0, 10.0])
    np.testing.assert_allclose(scaler.std, [np.std([1.0, 3.0, 5.0]), 1.0])   # constant: 1
    scaled = scaler.fit_transform(train)
    np.testing.assert_allclose(scaled[:, 0], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    np.testing.assert_allclose(scaler.inverse_transform(scaled), train, rtol=1e-6)


def test_make_windows_reports_the_real_series_length():
    with pytest.raises(ValueError, match="targets_from=50 is past the end of the series, which "
                                         "has 30 values"):
        make_windows(np.arange(30.0), lags=5, targets_from=50)


def test_split_series_takes_lists_arrays_and_pandas():
    import pandas as pd
    s = pd.Series(np.arange(10.0), index=pd.date_range("2000", periods=10, freq="MS"))
    train, test = split_series(s, 0.8)
    assert len(train) == 8 and test.index[0] == pd.Timestamp("2000-09-01")
    assert split_series(list(range(5)), 0.6) == ([0, 1, 2], [3, 4])
    with pytest.raises(TypeError, match="series must be a sequence of values, got int"):
        split_series(5, 0.5)
    with pytest.raises(ValueError, match=r"a series of length 2 is too short to split at "
                                         r"train_fraction=0.1"):
        split_series([1.0, 2.0], 0.1)
    with pytest.raises(TypeError, match="train_fraction must be a number, got '0.5'"):
        split_series([1.0, 2.0], "0.5")


def test_load_co2_monthly_argument_is_a_bool():
    with pytest.raises(TypeError, match="monthly must be a bool, got 'yes'"):
        load_co2(monthly="yes")

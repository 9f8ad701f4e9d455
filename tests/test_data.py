"""rnnbook.data: synthetic tasks, windows, scalers, real data, vocabularies."""

import math

import numpy as np
import pytest
import torch

from rnnbook import data


def test_adding_problem_shapes_markers_and_targets():
    x, y = data.adding_problem(500, 40, seed=0)
    assert x.shape == (500, 40, 2) and y.shape == (500,)
    markers = x[..., 1]
    assert torch.all(markers.sum(1) == 2)
    assert torch.all(markers[:, :20].sum(1) == 1) and torch.all(markers[:, 20:].sum(1) == 1)
    torch.testing.assert_close(y, (x[..., 0] * markers).sum(1))
    assert 0 <= x[..., 0].min() and x[..., 0].max() < 1


def test_adding_problem_baseline_is_one_sixth():
    _, y = data.adding_problem(200_000, 10, seed=1)
    assert abs(((y - 1) ** 2).mean().item() - data.ADDING_BASELINE_MSE) < 0.002
    assert abs(y.mean().item() - 1) < 0.005


def test_seeds_repeat_and_differ():
    a, _ = data.adding_problem(4, 10, seed=3)
    b, _ = data.adding_problem(4, 10, seed=3)
    c, _ = data.adding_problem(4, 10, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_copy_task_layout():
    x, y = data.copy_task(3, delay=5, n_symbols=4, n_categories=6, seed=0)
    assert x.shape == y.shape == (3, 5 + 8)
    torch.testing.assert_close(y[:, -4:], x[:, :4])
    assert torch.all((x[:, :4] >= 1) & (x[:, :4] <= 6))
    assert torch.all(x[:, 5 + 4 - 1] == 7)                  # delimiter
    assert torch.all(y[:, :-4] == 0) and int((x == 7).sum()) == 3
    assert data.copy_baseline(100) == pytest.approx(10 * math.log(8) / 120)


def test_temporal_order_classes_match_the_relevant_symbols():
    x, y = data.temporal_order(300, 100, seed=0)
    tokens = x.argmax(-1)
    assert torch.all(tokens[:, 0] == 4) and torch.all(tokens[:, -1] == 5)
    relevant = [row[(row == 6) | (row == 7)].tolist() for row in tokens]
    assert all(len(r) == 2 for r in relevant)
    expected = torch.tensor([2 * (r[0] - 6) + (r[1] - 6) for r in relevant])
    assert torch.equal(y, expected)
    assert set(y.tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("call,match", [
    (lambda: data.adding_problem(0, 10), "n must be"),
    (lambda: data.adding_problem(5, 1), "length must be"),
    (lambda: data.copy_task(5, 0), "delay must be"),
    (lambda: data.temporal_order(5, 10), "length must be"),
])
def test_task_arguments_are_checked(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_make_windows_1d_and_2d():
    X, y = data.make_windows(np.arange(10), lags=3, horizon=2)
    assert X.shape == (6, 3) and y.shape == (6, 2)
    np.testing.assert_array_equal(X[0], [0, 1, 2])
    np.testing.assert_array_equal(y[0], [3, 4])
    np.testing.assert_array_equal(y[-1], [8, 9])
    X2, y2 = data.make_windows(np.arange(20).reshape(10, 2), lags=4)
    assert X2.shape == (6, 4, 2) and y2.shape == (6, 1, 2)


@pytest.mark.parametrize("series,kwargs,error,match", [
    (np.arange(4), dict(lags=3, horizon=2), ValueError, "needs at least 5 values"),
    (np.array([1.0, np.nan, 3.0, 4.0]), dict(lags=1), ValueError, "NaN at positions"),
    (np.arange(10), dict(lags=0), ValueError, "lags must be"),
    (np.zeros((3, 3, 3)), dict(lags=1), ValueError, "1-D"),
    (np.array(["a", "b", "c"]), dict(lags=1), TypeError, "numbers"),
])
def test_make_windows_errors(series, kwargs, error, match):
    with pytest.raises(error, match=match):
        data.make_windows(series, **kwargs)


def test_split_series_keeps_time_order():
    train, test = data.split_series(np.arange(10), 0.7)
    np.testing.assert_array_equal(train, np.arange(7))
    np.testing.assert_array_equal(test, np.arange(7, 10))
    with pytest.raises(ValueError, match="train_fraction"):
        data.split_series(np.arange(10), 1.0)


def test_scaler_uses_training_statistics_only():
    train, test = np.array([1.0, 2.0, 3.0]), np.array([10.0, 11.0])
    scaler = data.StandardScaler().fit(train)
    np.testing.assert_allclose(scaler.transform(train).mean(), 0, atol=1e-6)
    np.testing.assert_allclose(scaler.transform(test), (test - 2) / np.std(train), rtol=1e-6)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test, rtol=1e-6)
    constant = data.StandardScaler().fit(np.ones(4))
    np.testing.assert_allclose(constant.transform(np.ones(2)), 0)


def test_scaler_must_be_fitted_first():
    with pytest.raises(RuntimeError, match="not fitted"):
        data.StandardScaler().transform(np.ones(3))


def test_real_series_load_offline():
    co2 = data.load_co2()
    assert len(co2) > 500 and not co2.isna().any()
    assert 310 < co2.iloc[0] < 320 and co2.iloc[-1] > 360       # ppm, rising
    assert data.load_co2(monthly=False).isna().sum() > 0        # the raw weekly data has gaps
    sun = data.load_sunspots()
    assert sun.index[0] == 1700 and len(sun) > 300 and (sun >= 0).all()


def test_text_corpus_and_vocabulary():
    text = data.load_text()
    assert len(text) > 200_000 and "def " in text
    vocab = data.CharVocab(text)
    ids = vocab.encode("def f(x):\n")
    assert ids.dtype == torch.long and vocab.decode(ids) == "def f(x):\n"
    assert vocab.decode(vocab.encode(text[:5000])) == text[:5000]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        data.CharVocab("abc").encode("abd")
    with pytest.raises(ValueError, match="out of range"):
        data.CharVocab("abc").decode([0, 3])
    with pytest.raises(ValueError, match="unknown corpus"):
        data.load_text("war_and_peace")


def test_unseeded_tasks_follow_the_global_seed():
    torch.manual_seed(0)
    a = data.adding_problem(3, 8)[0], data.copy_task(3, 4)[0], data.temporal_order(3, 20)[0]
    torch.manual_seed(0)
    b = data.adding_problem(3, 8)[0], data.copy_task(3, 4)[0], data.temporal_order(3, 20)[0]
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


def test_scaler_repr_is_rounded():
    scaler = data.StandardScaler().fit(np.array([1.0, 2.0, 4.0]))
    assert repr(scaler) == "StandardScaler(mean=[2.3333], std=[1.2472])"
    assert repr(data.StandardScaler()) == "StandardScaler(not fitted)"


def test_make_windows_targets_from_gives_one_window_per_later_value():
    series = np.arange(30.0)
    for horizon in (1, 3):
        X, y = data.make_windows(series, lags=5, horizon=horizon, targets_from=20)
        np.testing.assert_array_equal(y[:, -1], series[20:])      # one per test value
        np.testing.assert_array_equal(X[0], series[20 - 5 - horizon + 1:20 - horizon + 1])
    X, _ = data.make_windows(series, lags=5, horizon=1, targets_from=5)
    assert len(X) == 25                                           # the earliest possible
    with pytest.raises(ValueError, match="too little history"):
        data.make_windows(series, lags=5, targets_from=3)
    with pytest.raises(ValueError, match="targets_from"):
        data.make_windows(series, lags=5, targets_from=-1)


def test_sine_waves():
    waves = data.sine_waves(50, 200, periods=(10.0, 20.0), seed=0)
    assert waves.shape == (50, 200) and waves.dtype == torch.float32
    assert waves.abs().max() <= 1.0 + 1e-6
    # A period between 10 and 20 steps means the wave changes sign within 10 steps.
    sign_changes = (waves[:, 1:] * waves[:, :-1] < 0).sum(1)
    assert torch.all(sign_changes >= 200 // 20 * 2 - 2) and torch.all(sign_changes <= 42)
    noisy = data.sine_waves(50, 200, periods=(10.0, 20.0), noise=0.1, seed=0)
    assert 0.05 < (noisy - waves).std().item() < 0.15
    with pytest.raises(ValueError, match="periods"):
        data.sine_waves(2, 10, periods=(5.0, 1.0))


def test_reber_strings_follow_the_grammar():
    strings = data.reber_strings(500, seed=0)
    assert all(data.is_reber(s) for s in strings)
    assert len(set(strings)) > 50 and all(s.startswith("BT") or s.startswith("BP")
                                          for s in strings)
    embedded = data.reber_strings(500, embedded=True, seed=0)
    assert all(data.is_reber(s, embedded=True) for s in embedded)
    assert all(s[1] == s[-2] for s in embedded)
    assert {s[1] for s in embedded} == {"T", "P"}
    for bad in ["BTSSXSE"[:-1], "BTXE", "TSXSE", "BPVVEE", ""]:
        assert not data.is_reber(bad)
    assert data.is_reber("BTXSE") and data.is_reber("BPVVE")
    assert not data.is_reber("BTBTXSEPE", embedded=True)        # the two branches differ


def test_download_checks_caches_and_writes_atomically(tmp_path):
    import hashlib

    source = tmp_path / "corpus.txt"
    source.write_bytes(b"to be or not to be\n")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    path = data.download(source.as_uri(), digest, directory=cache)
    assert path == cache / "corpus.txt" and path.read_bytes() == source.read_bytes()
    source.unlink()                                              # cached: no fetch needed
    assert data.download(source.as_uri(), digest, directory=cache) == path
    other = tmp_path / "other.txt"
    other.write_bytes(b"something else")
    with pytest.raises(ValueError, match="checksum mismatch"):
        data.download(other.as_uri(), digest, filename="x.txt", directory=cache)
    assert sorted(p.name for p in cache.iterdir()) == ["corpus.txt"]   # nothing half-written
    with pytest.raises(ValueError, match="64 hexadecimal"):
        data.download(other.as_uri(), "abc", directory=cache)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))
    assert data.cache_dir() == tmp_path

"""rnnbook.anomaly: loaders, windows and scores, and the metrics, on hand-made cases."""

import sys

import numpy as np
import pytest
import torch

from rnnbook import anomaly
from rnnbook.anomaly import (
    anomaly_ranges,
    matrix_profile_join,
    point_adjust,
    point_adjusted_f1,
    point_precision_recall,
    point_scores,
    pr_auc,
    range_precision_recall,
    report,
    sliding_windows,
    ucr_protocol,
)

#            0  1  2  3  4  5  6  7  8  9
LABELS = [0, 0, 1, 1, 1, 1, 0, 0, 0, 0]                # one range: (2, 6)
TWO = [1, 1, 0, 0, 0, 0, 1, 1, 1, 1]                   # two ranges: (0, 2), (6, 10)


# --- loaders -----------------------------------------------------------------------------

def test_ucr_135_is_the_archive_series():
    data = anomaly.load_ucr_135()
    assert data.train.shape == (1200,) and data.test.shape == data.labels.shape == (6301,)
    assert data.test_start == 1200
    # the archive's file name, 135_UCR_Anomaly_InternalBleeding16_1200_4187_4199, says:
    # train part 1200 points, anomaly from 4187 up to 4199 (exclusive) in file positions
    assert anomaly_ranges(data.labels) == [(4187 - 1200, 4199 - 1200)]
    assert data.train.dtype == data.test.dtype == np.float64


def test_gutentag_ecg_has_three_ranges_and_a_clean_train_part():
    data = anomaly.load_gutentag_ecg()
    assert data.train.shape == data.test.shape == data.labels.shape == (10_000,)
    assert anomaly_ranges(data.labels) == [(1560, 1660), (6600, 6700), (6940, 7040)]
    assert data.test_start == 0


def test_loaders_say_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "aeon", None)            # "import aeon" now fails
    with pytest.raises(ImportError, match=r"rnnbook\[data\]"):
        anomaly.load_ucr_135()


def test_loader_missing_from_a_newer_aeon(monkeypatch):
    import aeon.datasets

    monkeypatch.delattr(aeon.datasets, "load_ecg_diff_count_3")
    with pytest.raises(ImportError, match="aeon>=1.6,<1.7"):
        anomaly.load_gutentag_ecg()


def test_loader_rejects_changed_data(monkeypatch):
    import aeon.datasets

    def no_anomaly(split="test"):
        n = 1200 if split == "train" else 2000
        return np.arange(n, dtype=float), np.zeros(n, dtype=int)

    monkeypatch.setattr(aeon.datasets, "load_kdd_tsad_135", no_anomaly)
    with pytest.raises(ValueError, match="has the data set changed"):
        anomaly.load_ucr_135()


# --- windows and scores ------------------------------------------------------------------

def test_sliding_windows():
    w = sliding_windows(np.arange(6), 3)
    np.testing.assert_array_equal(w, [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]])
    assert w.dtype == np.float32 and w.flags.writeable        # a copy, not a view
    assert sliding_windows([1.0, 2.0], 2).shape == (1, 2)


def test_point_scores_by_hand():
    # three windows of width 2 over four points: [0,1], [1,2], [2,3]
    scores = [1.0, 5.0, 2.0]
    np.testing.assert_array_equal(point_scores(scores, 2, "max"), [1, 5, 5, 2])
    np.testing.assert_array_equal(point_scores(scores, 2, "mean"), [1, 3, 3.5, 2])
    np.testing.assert_array_equal(point_scores(scores, 2, "last"), [1, 1, 5, 2])
    np.testing.assert_array_equal(point_scores([7.0], 1, "max"), [7])


def test_point_scores_match_a_loop():
    rng = np.random.default_rng(0)
    scores, width = rng.normal(size=40), 7
    n = len(scores) + width - 1
    covering = [[scores[i] for i in range(len(scores)) if i <= p < i + width] for p in range(n)]
    np.testing.assert_allclose(point_scores(scores, width, "max"), [max(c) for c in covering])
    np.testing.assert_allclose(point_scores(scores, width, "mean"), [np.mean(c) for c in covering])


def _brute_force_join(test, reference, width):
    def z(w):
        return (w - w.mean()) / w.std()
    out = []
    for i in range(len(test) - width + 1):
        a = z(test[i:i + width])
        out.append(min(np.linalg.norm(a - z(reference[j:j + width]))
                       for j in range(len(reference) - width + 1)))
    return np.array(out)


def test_matrix_profile_join_equals_brute_force():
    rng = np.random.default_rng(1)
    test, reference = rng.normal(size=60), rng.normal(size=45)
    expected = _brute_force_join(test, reference, 8)
    np.testing.assert_allclose(matrix_profile_join(test, reference, 8), expected, atol=1e-9)
    np.testing.assert_allclose(matrix_profile_join(test, reference, 8, chunk=5), expected,
                               atol=1e-9)


def test_matrix_profile_join_equals_stumpy():
    stumpy = pytest.importorskip("stumpy")
    rng = np.random.default_rng(2)
    test = np.sin(np.arange(300) / 5) + 0.1 * rng.normal(size=300)
    reference = np.sin(np.arange(200) / 5 + 1) + 0.1 * rng.normal(size=200)
    ours = matrix_profile_join(test, reference, 20)
    for i in (0, 17, 150, len(ours) - 1):                 # stumpy's distance profiles
        theirs = stumpy.mass(test[i:i + 20], reference).min()
        assert abs(ours[i] - theirs) < 1e-6


def test_a_window_found_in_the_reference_is_at_distance_zero():
    reference = np.sin(np.arange(100) / 3)
    distances = matrix_profile_join(reference[10:40] * 5 + 2, reference, 10)
    assert np.all(distances < 1e-6)                        # z-normalised: scale and level go


# --- the UCR protocol --------------------------------------------------------------------

def test_ucr_protocol_inside_at_the_margin_and_outside():
    labels = np.zeros(1000, dtype=int)
    labels[500:512] = 1                                    # 12 points: margin 100
    scores = np.zeros(1000)
    for location, hit, distance in ((505, True, 0), (400, True, 100), (611, True, 100),
                                    (399, False, 101), (612, False, 101)):
        scores[:] = 0
        scores[location] = 1
        result = ucr_protocol(scores, labels)
        assert (result.hit, result.location, result.distance) == (hit, location, distance)
        assert (result.start, result.stop, result.margin) == (500, 512, 100)


def test_ucr_margin_grows_with_a_long_range_and_ties_go_to_the_first():
    labels = np.zeros(1000, dtype=int)
    labels[400:550] = 1                                    # 150 points: margin 150
    scores = np.zeros(1000)
    scores[[250, 900]] = 1.0                               # a tie: the first one counts
    result = ucr_protocol(scores, labels)
    assert result.margin == 150 and result.location == 250 and result.hit
    assert ucr_protocol(scores, labels, min_margin=0).margin == 150   # the range's length
    assert ucr_protocol(scores, labels, min_margin=200).margin == 200
    scores[250] = 0                                        # now 900 is the top
    assert not ucr_protocol(scores, labels).hit
    scores[249] = 2                                        # one point beyond the margin
    assert not ucr_protocol(scores, labels).hit


def test_ucr_protocol_needs_exactly_one_range():
    with pytest.raises(ValueError, match="exactly one labelled anomaly; these labels hold 2"):
        ucr_protocol(np.arange(10.0), TWO)


# --- point-wise, range-based and point-adjusted metrics ----------------------------------

def test_point_precision_recall_by_hand():
    predicted = [0, 1, 1, 1, 0, 0, 0, 0, 0, 1]             # 2 of 4 right; 2 of 4 found
    assert point_precision_recall(LABELS, predicted) == (0.5, 0.5, 0.5)
    assert point_precision_recall(LABELS, [0] * 10) == (0.0, 0.0, 0.0)
    assert point_precision_recall(LABELS, LABELS) == (1.0, 1.0, 1.0)
    p, r, f = point_precision_recall(LABELS, [1] * 10)
    assert (p, r) == (0.4, 1.0) and abs(f - 2 * 0.4 / 1.4) < 1e-12


def test_range_precision_recall_by_hand():
    # labelled (2, 6); predicted ranges (1, 3) and (5, 6)
    predicted = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    # recall: the range has 2 of its 4 points covered, touched by 2 predicted ranges
    # precision: (1, 3) has 1 of 2 points inside, (5, 6) has 1 of 1: mean 0.75
    assert range_precision_recall(LABELS, predicted) == (0.75, 0.5)
    assert range_precision_recall(LABELS, predicted, cardinality="reciprocal") == (0.75, 0.25)
    assert range_precision_recall(LABELS, predicted, alpha=1.0) == (0.75, 1.0)
    assert range_precision_recall(LABELS, predicted, alpha=0.5) == (0.75, 0.75)
    assert range_precision_recall(LABELS, [0] * 10) == (0.0, 0.0)


def test_range_recall_averages_over_ranges_not_points():
    predicted = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]              # all of the short range only
    precision, recall = range_precision_recall(TWO, predicted)
    assert precision == 1.0 and recall == 0.5              # point-wise recall: 2/6
    assert point_precision_recall(TWO, predicted)[1] == pytest.approx(2 / 6)


def test_range_metrics_equal_aeons():
    metrics = pytest.importorskip("aeon.benchmarking.metrics.anomaly_detection")
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(200):
        n = int(rng.integers(5, 60))
        labels = (rng.random(n) < rng.uniform(0.1, 0.6)).astype(int)
        predicted = (rng.random(n) < rng.uniform(0.1, 0.6)).astype(int)
        if labels.sum() == 0 or len(np.unique(predicted)) < 2:   # aeon returns 0 for those
            continue
        for cardinality in ("one", "reciprocal"):
            for alpha in (0.0, 0.3, 1.0):
                precision, recall = range_precision_recall(labels, predicted, alpha, cardinality)
                assert precision == pytest.approx(
                    metrics.range_precision(labels, predicted, cardinality=cardinality), abs=1e-12)
                assert recall == pytest.approx(metrics.range_recall(
                    labels, predicted, alpha=alpha, cardinality=cardinality), abs=1e-12)
                checked += 1
    assert checked > 500


def test_point_adjustment_by_hand():
    predicted = [0, 0, 0, 1, 0, 0, 0, 0, 1, 0]             # one point in the range, one out
    np.testing.assert_array_equal(point_adjust(LABELS, predicted),
                                  [0, 0, 1, 1, 1, 1, 0, 0, 1, 0])
    assert point_precision_recall(LABELS, predicted)[2] == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert point_adjusted_f1(LABELS, predicted) == pytest.approx(2 * 0.8 * 1.0 / 1.8)
    assert point_adjusted_f1(LABELS, [0] * 10) == 0.0


def test_pr_auc_by_hand():
    labels = [0, 1, 0, 1]
    # ranking 0.9 (anomaly), 0.8 (normal), 0.7 (anomaly): precision 1 at recall 1/2,
    # 2/3 at recall 1, so average precision = 1/2 * 1 + 1/2 * 2/3
    assert pr_auc(labels, [0.1, 0.9, 0.8, 0.7]) == pytest.approx(0.5 + 1 / 3)
    assert pr_auc(labels, [0.0, 1.0, 0.0, 1.0]) == 1.0


def test_report_for_one_and_for_several_ranges():
    scores = np.array([0, 0, 1, 3, 2, 1, 0, 0, 0, 0.5])
    out = report(LABELS, scores, threshold=0.75)
    assert out["UCR hit"] is True and out["distance"] == 0 and out["flagged"] == 4
    assert out["precision"] == 1.0 and out["recall"] == 1.0 and out["PR-AUC"] == 1.0
    assert "UCR hit" not in report(TWO, np.arange(10.0), threshold=5)


# --- bad input ---------------------------------------------------------------------------

def test_metrics_accept_booleans_lists_and_tensors():
    as_bool = np.array(LABELS, dtype=bool)
    tensor = torch.tensor(LABELS)
    for labels in (as_bool, tensor, tuple(LABELS)):
        assert point_precision_recall(labels, as_bool) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("call, error, words", [
    (lambda: point_precision_recall([0, 0, 0], [1, 0, 0]), ValueError, "mark no anomaly"),
    (lambda: point_precision_recall([0, 2, 1], [1, 0, 0]), ValueError, "only 0 and 1"),
    (lambda: point_precision_recall(LABELS, [1, 0]), ValueError, "one value per label"),
    (lambda: point_precision_recall([[0, 1]], [[0, 1]]), ValueError, "1 dimension"),
    (lambda: point_precision_recall([], []), ValueError, "empty"),
    (lambda: point_precision_recall("0101", [0, 1, 0, 1]), TypeError, "labels"),
    (lambda: point_precision_recall([0, [1, 2]], [0, 1]), ValueError, "labels must be"),
    (lambda: pr_auc(LABELS, [0.0] * 9 + [np.nan]), ValueError, "NaN"),
    (lambda: pr_auc(LABELS, [0.0] * 9), ValueError, "one value per label"),
    (lambda: range_precision_recall(LABELS, LABELS, alpha=2), ValueError, "alpha"),
    (lambda: range_precision_recall(LABELS, LABELS, cardinality="many"), ValueError,
     "cardinality"),
    (lambda: ucr_protocol(np.arange(10.0), LABELS, min_margin=-1), ValueError, "min_margin"),
    (lambda: ucr_protocol(np.arange(10.0), LABELS, min_margin=2.5), TypeError, "min_margin"),
    (lambda: report(LABELS, np.arange(10.0), threshold=np.inf), ValueError, "threshold"),
    (lambda: sliding_windows(np.arange(5.0), 6), ValueError, "longer than series"),
    (lambda: sliding_windows(np.arange(5.0), 0), ValueError, "width"),
    (lambda: sliding_windows(np.ones((5, 2)), 2), ValueError, "dimension"),
    (lambda: sliding_windows([], 1), ValueError, "empty"),
    (lambda: point_scores([1.0, 2.0], 2, how="median"), ValueError, "how"),
    (lambda: point_scores([], 2), ValueError, "empty"),
    (lambda: point_scores([1.0, np.inf], 2), ValueError, "NaN or infinity"),
    (lambda: matrix_profile_join(np.arange(9.0), np.arange(9.0), 1), ValueError, "width"),
    (lambda: matrix_profile_join(np.arange(9.0), np.arange(3.0), 4), ValueError,
     "longer than reference"),
    (lambda: matrix_profile_join(np.arange(3.0), np.arange(9.0), 4), ValueError,
     "longer than test"),
    (lambda: matrix_profile_join([1.0, np.nan, 2.0], np.arange(9.0), 2), ValueError,
     "test contains NaN"),
    (lambda: matrix_profile_join(np.arange(9.0), np.arange(9.0), 3, chunk=0), ValueError,
     "chunk"),
])
def test_bad_input_names_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()

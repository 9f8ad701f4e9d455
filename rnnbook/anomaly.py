"""Anomaly detection in time series: labelled series, windows and scores, and the metrics
the benchmarks use, each defined once.

    data = load_ucr_135()                        # normal train part, test part, its labels
    windows = sliding_windows(data.test, 32)     # (N, 32): window i is test[i : i+32]
    scores = point_scores(window_scores, 32)     # one score per point of the test part again
    ucr_protocol(scores, data.labels)            # is the top-scoring point in the labelled range?
    report(data.labels, scores, threshold)       # PR-AUC, point-wise, range-based, point-adjusted

Labels hold 1 for a point inside a labelled anomaly and 0 for a normal point; a run of
consecutive 1s is one anomaly, a *range*. Ranges are half-open, (start, stop), as Python
slices are. A detector gives every point a score, higher meaning more anomalous; a
threshold turns scores into predictions, `scores > threshold`.

The series come from aeon, an installed dependency (BSD-3-Clause): nothing downloads.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import average_precision_score

from rnnbook.checks import check_choice, check_float, check_int, to_numpy

__all__ = [
    "UCR_MARGIN", "LabelledSeries", "UCRResult", "anomaly_ranges", "load_gutentag_ecg",
    "load_ucr_135", "matrix_profile_join", "point_adjust", "point_adjusted_f1",
    "point_precision_recall", "point_scores", "pr_auc", "range_precision_recall", "report",
    "sliding_windows", "ucr_protocol",
]

UCR_MARGIN = 100
"""Points of slack on each side of the labelled range in the UCR protocol, at least."""


# ---------------------------------------------------------------------------------------
# Labelled series
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LabelledSeries:
    """A univariate series for semi-supervised anomaly detection.

    train:  anomaly-free values to fit detectors and choose thresholds on.
    test:   values to score; `labels[i]` is 1 where test[i] lies in a labelled anomaly.
    test_start: where test[0] sits in the source file (the UCR files hold the train part
            and the test part as one series; other sources keep them apart: 0).
    source: where the values and the labels come from.
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    labels: np.ndarray
    test_start: int
    source: str


def _aeon_loader(name: str):
    """A loader from aeon.datasets, with a clear error if aeon or the loader is missing."""
    try:
        import aeon
        import aeon.datasets
    except ImportError:
        raise ImportError("the anomaly data sets come with aeon: pip install 'rnnbook[data]'"
                          ) from None
    if not hasattr(aeon.datasets, name):
        raise ImportError(f"aeon {aeon.__version__} has no aeon.datasets.{name}: it shipped "
                          f"with aeon 1.6 (deprecated there, removed in 1.7); "
                          f"pip install 'aeon>=1.6,<1.7'")
    return getattr(aeon.datasets, name)


def _checked(name: str, train, test, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    train = to_numpy(train, f"{name} train", ndim=(1,), dtype=np.float64)
    test = to_numpy(test, f"{name} test", ndim=(1,), dtype=np.float64)
    labels = to_numpy(labels, f"{name} labels", ndim=(1,), dtype=np.int64)
    if len(labels) != len(test) or not np.isin(labels, (0, 1)).all() or labels.sum() == 0:
        raise ValueError(f"{name}: the test labels are not what this loader expects "
                         f"(0/1 per test point, some 1s); has the data set changed?")
    return train, test, labels


def load_ucr_135() -> LabelledSeries:
    """Series 135 of the UCR anomaly archive, "InternalBleeding16", as aeon ships it.

    The archive (Wu & Keogh 2021, the KDD Cup 2021 data) gives each series an
    anomaly-free train part and a test part that holds exactly one labelled anomaly,
    marked by the archive's authors. Here: 7,501 values, the first 1,200 for training;
    the anomaly covers the 12 points 4187-4198 of the file (test[2987:2999]).
    """
    load = _aeon_loader("load_kdd_tsad_135")
    series, labels = load("test")            # aeon's "test" is the whole file
    train, train_labels = load("train")      # its first part, free of anomalies
    start = len(train)
    if not np.array_equal(series[:start], train) or np.any(train_labels):
        raise ValueError("UCR 135: the train part is not the anomaly-free start of the "
                         "series; has the data set changed?")
    train, test, labels = _checked("UCR 135", train, series[start:], labels[start:])
    return LabelledSeries("UCR 135 InternalBleeding16", train, test, labels, start,
                          "UCR anomaly archive (Wu & Keogh 2021) via aeon.datasets")


def load_gutentag_ecg() -> LabelledSeries:
    """A synthetic ECG-like series with three injected anomalies of different kinds.

    aeon ships it as "ecg-diff-count-3" (a unit-test data set, deprecated in aeon 1.6):
    generated by GutenTAG (Wenig, Schmidl & Papenbrock 2022), which draws a normal
    ECG-like signal and injects anomalies at known places, so the labels are exact by
    construction. The train part (10,000 values) has no anomaly; the test part (10,000
    values, a separate draw) has three ranges of 100 points.
    """
    load = _aeon_loader("load_ecg_diff_count_3")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)     # aeon's deprecation notice
        test, labels, train, train_labels = load("semi-supervised")
    if np.any(train_labels):
        raise ValueError("GutenTAG ECG: the train part has labelled anomalies; "
                         "has the data set changed?")
    train, test, labels = _checked("GutenTAG ECG", train, test, labels)
    return LabelledSeries("GutenTAG ECG", train, test, labels, 0,
                          "GutenTAG (Wenig et al. 2022), aeon's ecg-diff-count-3")


# ---------------------------------------------------------------------------------------
# Windows and scores
# ---------------------------------------------------------------------------------------

def _series(series, name: str = "series") -> np.ndarray:
    arr = to_numpy(series, name, ndim=(1,), dtype=np.float64)
    if len(arr) == 0:
        raise ValueError(f"{name} is empty")
    return arr


def sliding_windows(series, width: int) -> np.ndarray:
    """Every window of `width` consecutive values: (len(series) - width + 1, width).

    Window i is series[i : i+width], a copy, in float32 (ready for torch.as_tensor).
    """
    return _windows(_series(series), check_int("width", width), "series")


def _windows(arr: np.ndarray, width: int, name: str) -> np.ndarray:
    if width > len(arr):
        raise ValueError(f"width={width} is longer than {name} ({len(arr)} values)")
    return np.lib.stride_tricks.sliding_window_view(arr, width).astype(np.float32)


def point_scores(window_scores, width: int, how: str = "max") -> np.ndarray:
    """Spread one score per window back onto the points: len(window_scores) + width - 1.

    Window i covers points i .. i+width-1, as `sliding_windows` cuts them.
    how="max":  a point gets the highest score of the windows that cover it;
    how="mean": their mean;
    how="last": each window's score goes to its last point only, as a next-value
                predictor's error belongs to the value it predicted; the first width-1
                points, which no window ends at, get the lowest score there is.
    """
    scores = to_numpy(window_scores, "window_scores", ndim=(1,), dtype=np.float64)
    if len(scores) == 0:
        raise ValueError("window_scores is empty")
    width = check_int("width", width)
    check_choice("how", how, ("max", "mean", "last"))
    n = len(scores) + width - 1
    if how == "last":
        return np.concatenate([np.full(width - 1, scores.min()), scores])
    if how == "mean":
        ones = np.ones(width)
        return np.convolve(scores, ones) / np.convolve(np.ones(len(scores)), ones)
    out = np.full(n, -np.inf)
    for k in range(width):                       # window i reaches point i + k
        out[k:k + len(scores)] = np.maximum(out[k:k + len(scores)], scores)
    return out


def _z_normalised(windows: np.ndarray) -> np.ndarray:
    mean, std = windows.mean(1, keepdims=True), windows.std(1, keepdims=True)
    return (windows - mean) / np.where(std > 0, std, 1.0)


def matrix_profile_join(test, reference, width: int, chunk: int = 1024) -> np.ndarray:
    """For each window of `test`, the distance to its nearest neighbour among the windows
    of `reference`: the AB-join matrix profile (Yeh et al. 2016), one value per test window.

    Distances are Euclidean between z-normalised windows, so they compare shapes, not
    levels: d = sqrt(2 * width * (1 - r)) with r the windows' Pearson correlation. The same
    numbers as `stumpy.stump(test, width, T_B=reference, ignore_trivial=False)[:, 0]`,
    computed as matrix products, without stumpy's compilation. A constant window has no
    shape; it is normalised to zeros, at distance sqrt(2 * width) from every window.
    """
    width = check_int("width", width, minimum=2)
    chunk = check_int("chunk", chunk)
    a = _z_normalised(_windows(_series(test, "test"), width, "test").astype(np.float64))
    b = _z_normalised(_windows(_series(reference, "reference"), width, "reference")
                      .astype(np.float64))
    best = np.concatenate([(a[i:i + chunk] @ b.T).max(1) for i in range(0, len(a), chunk)])
    return np.sqrt(np.maximum(2 * width - 2 * best, 0.0))    # a @ b = width * r


# ---------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------

def _binary(values, name: str) -> np.ndarray:
    """A 1-D array of 0/1 (or booleans) as booleans."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    elif hasattr(values, "to_numpy"):
        values = values.to_numpy()
    if isinstance(values, (list, tuple)):
        try:
            values = np.asarray(values)
        except ValueError:
            raise ValueError(f"{name} must be a 1-D sequence of 0s and 1s") from None
    if isinstance(values, np.ndarray) and values.dtype == bool:
        values = values.astype(np.int8)
    arr = to_numpy(values, name, ndim=(1,), dtype=None)
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1, got values such as "
                         f"{np.setdiff1d(arr, (0, 1))[:3].tolist()}")
    return arr.astype(bool)


def _labels(labels) -> np.ndarray:
    arr = _binary(labels, "labels")
    if not arr.any():
        raise ValueError("labels mark no anomaly: there is nothing to detect, so no metric "
                         "of detection is defined (check the labels of the data set)")
    return arr


def _same_length(labels: np.ndarray, other: np.ndarray, name: str) -> None:
    if len(other) != len(labels):
        raise ValueError(f"{name} must have one value per label: {len(labels)} labels, "
                         f"{len(other)} {name}")


def _scores(scores, labels: np.ndarray) -> np.ndarray:
    arr = to_numpy(scores, "scores", ndim=(1,), dtype=np.float64)
    _same_length(labels, arr, "scores")
    return arr


def _predicted(predicted, labels: np.ndarray) -> np.ndarray:
    arr = _binary(predicted, "predicted")
    _same_length(labels, arr, "predicted")
    return arr


def anomaly_ranges(labels) -> list[tuple[int, int]]:
    """The runs of 1s in a 0/1 sequence, as half-open (start, stop) pairs."""
    edges = np.diff(np.concatenate([[0], _binary(labels, "labels").astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


@dataclass(frozen=True)
class UCRResult:
    """The UCR protocol's verdict on one series: was the top-scoring point close enough?"""

    hit: bool
    location: int           # index of the highest score (the first one, if tied)
    start: int              # the labelled range, half-open
    stop: int
    margin: int             # slack allowed on each side of the range

    @property
    def distance(self) -> int:
        """Points between the top location and the labelled range (0 inside it)."""
        return max(self.start - self.location, self.location - (self.stop - 1), 0)


def ucr_protocol(scores, labels, min_margin: int = UCR_MARGIN) -> UCRResult:
    """Score a series with one labelled anomaly as the UCR anomaly archive does.

    A detector is right if the single point it scores highest lies in the labelled range
    (start, stop), give or take a margin of max(stop - start, min_margin) points on each
    side: start - margin <= location <= stop - 1 + margin. Wu & Keogh (2021) ask for
    the location only; this margin is the one of Rewicki, Denzler & Niebling (2023).
    """
    labels = _labels(labels)
    scores = _scores(scores, labels)
    min_margin = check_int("min_margin", min_margin, minimum=0)
    ranges = anomaly_ranges(labels)
    if len(ranges) != 1:
        raise ValueError(f"the UCR protocol scores a series with exactly one labelled "
                         f"anomaly; these labels hold {len(ranges)}")
    (start, stop), location = ranges[0], int(np.argmax(scores))
    margin = max(stop - start, min_margin)
    return UCRResult(start - margin <= location <= stop - 1 + margin, location, start, stop,
                     margin)


def point_precision_recall(labels, predicted) -> tuple[float, float, float]:
    """Precision, recall and F1 counted point by point (0 where a ratio is 0/0)."""
    labels = _labels(labels)
    predicted = _predicted(predicted, labels)
    tp = int(np.sum(labels & predicted))
    precision = tp / predicted.sum() if predicted.any() else 0.0
    recall = tp / labels.sum()
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return float(precision), float(recall), float(f1)


def _range_ids(mask: np.ndarray) -> np.ndarray:
    """1, 2, 3, ... on the points of the first, second, third range of `mask`; 0 elsewhere."""
    starts = np.diff(np.concatenate([[0], mask.astype(np.int8)])) == 1
    return np.cumsum(starts) * mask


def _range_score(ranges, other: np.ndarray, alpha: float, cardinality: str) -> float:
    """Tatbul et al.'s average over `ranges` of alpha * existence + (1 - alpha) * gamma *
    overlap, with a flat positional bias: overlap is the share of the range's points that
    `other` marks, and gamma is 1, or 1 / (number of ranges of `other` it touches)."""
    ids = _range_ids(other)
    total = 0.0
    for start, stop in ranges:
        touched = len(np.unique(ids[start:stop][other[start:stop]]))
        overlap = other[start:stop].mean()
        gamma = 1.0 / touched if cardinality == "reciprocal" and touched > 1 else 1.0
        total += alpha * (touched > 0) + (1 - alpha) * gamma * overlap
    return total / len(ranges)


def range_precision_recall(labels, predicted, alpha: float = 0.0,
                           cardinality: str = "one") -> tuple[float, float]:
    """Range-based precision and recall (Tatbul et al. 2018), with a flat positional bias.

    Recall averages over the labelled ranges R_i, precision over the predicted ranges P_j:

        recall    = mean_i [ alpha * exists_i + (1 - alpha) * gamma_i * |R_i ∩ P| / |R_i| ]
        precision = mean_j [ gamma_j * |P_j ∩ R| / |P_j| ]

    where P (R) is the set of all predicted (labelled) points, exists_i is 1 if any
    prediction touches R_i, and gamma is 1 (cardinality="one") or 1/k when a range touches
    k > 1 ranges of the other kind (cardinality="reciprocal": a fragmented detection counts
    less). alpha rewards merely touching a range; alpha=0 counts only the overlap. With no
    predicted range, precision is 0. Equal to aeon's range_precision and range_recall
    with bias="flat" (tests/test_anomaly.py checks it).
    """
    labels = _labels(labels)
    predicted = _predicted(predicted, labels)
    alpha = check_float("alpha", alpha, 0.0, 1.0)
    check_choice("cardinality", cardinality, ("one", "reciprocal"))
    predicted_ranges = anomaly_ranges(predicted) if predicted.any() else []
    recall = _range_score(anomaly_ranges(labels), predicted, alpha, cardinality)
    precision = (_range_score(predicted_ranges, labels, 0.0, cardinality)
                 if predicted_ranges else 0.0)
    return float(precision), float(recall)


def point_adjust(labels, predicted) -> np.ndarray:
    """The point-adjustment protocol: if a detector flags any point of a labelled range,
    count the whole range as flagged. Returns the adjusted predictions (booleans)."""
    labels = _labels(labels)
    adjusted = _predicted(predicted, labels).copy()
    for start, stop in anomaly_ranges(labels):
        if adjusted[start:stop].any():
            adjusted[start:stop] = True
    return adjusted


def point_adjusted_f1(labels, predicted) -> float:
    """F1 after point adjustment: how many papers report it, and why it flatters (see the
    chapter): one lucky point in a long range earns the whole range."""
    return point_precision_recall(labels, point_adjust(labels, predicted))[2]


def pr_auc(labels, scores) -> float:
    """Area under the precision-recall curve of `scores`, point-wise, as scikit-learn's
    average precision: the step-wise sum over thresholds, not the optimistic trapezoid.
    A detector that scores at random gets about the share of anomalous points."""
    labels = _labels(labels)
    return float(average_precision_score(labels, _scores(scores, labels)))


def report(labels, scores, threshold: float, min_margin: int = UCR_MARGIN) -> dict:
    """Every metric of the chapter for one detector: the UCR protocol (on a series with one
    labelled range), PR-AUC, and, with predictions `scores > threshold`, point-wise
    precision, recall and F1, range-based precision and recall (alpha=0, cardinality
    "one"), and the point-adjusted F1."""
    labels = _labels(labels)
    scores = _scores(scores, labels)
    threshold = check_float("threshold", threshold)
    predicted = scores > threshold
    out = {}
    if len(anomaly_ranges(labels)) == 1:
        result = ucr_protocol(scores, labels, min_margin)
        out.update({"UCR hit": result.hit, "distance": result.distance})
    precision, recall, f1 = point_precision_recall(labels, predicted)
    range_precision, range_recall = range_precision_recall(labels, predicted)
    out.update({"PR-AUC": pr_auc(labels, scores), "flagged": int(predicted.sum()),
                "precision": precision, "recall": recall, "F1": f1,
                "range precision": range_precision, "range recall": range_recall,
                "PA-F1": point_adjusted_f1(labels, predicted)})
    return out

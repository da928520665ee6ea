"""Calibration: temperature scaling (Guo et al., 2017), expected calibration error, reliability.

>>> import numpy as np
>>> probs = np.array([[0.9, 0.1], [0.6, 0.4]]); labels = np.array([0, 1])
>>> round(expected_calibration_error(probs, labels, n_bins=10), 3)   # |0.9-1|/2 + |0.6-0|/2
0.35
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (numerically stable).

    >>> softmax(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray, *, t_min: float = 0.05, t_max: float = 20.0) -> float:
    """The temperature ``T`` minimising the negative log-likelihood of ``softmax(logits / T)``.

    A bounded 1-D search on ``log T`` (golden section, then refined), so it needs no
    optimiser state and is deterministic.

    >>> import numpy as np
    >>> # always 10 nats sure, right 3 times out of 4: T = 10 / ln 3
    >>> round(fit_temperature(np.array([[10.0, 0.0]] * 4), np.array([0, 0, 0, 1])), 2)
    9.1
    """
    import torch  # only here: the rest of this module is numpy
    import torch.nn.functional as F

    z = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    if len(y) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        return float(F.cross_entropy(z / np.exp(log_t), y))

    lo, hi = np.log(t_min), np.log(t_max)
    g = (np.sqrt(5) - 1) / 2
    a, b = lo + (1 - g) * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = lo + (1 - g) * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(b)
    return float(np.exp((lo + hi) / 2))


def reliability(confidence, correct, n_bins: int = 15) -> pd.DataFrame:
    """Per equal-width confidence bin ``[lo, hi)``: ``count``, mean ``confidence``, ``accuracy``, ``gap``.

    ``confidence`` is the probability given to each prediction, ``correct`` whether it was
    right. NaN confidences are ignored; empty bins are kept with count 0.

    >>> reliability([0.9, 0.9, 0.1], [True, False, False], n_bins=2)["count"].tolist()
    [1, 2]
    """
    conf = np.asarray(list(confidence), dtype=float)
    ok = np.asarray(list(correct), dtype=float)
    keep = ~np.isnan(conf)
    conf, ok = np.clip(conf[keep], 0.0, 1.0), ok[keep]
    idx = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    rows = []
    for b in range(n_bins):
        m = idx == b
        c = float(conf[m].mean()) if m.any() else np.nan
        a = float(ok[m].mean()) if m.any() else np.nan
        rows.append({"lo": b / n_bins, "hi": (b + 1) / n_bins, "count": int(m.sum()), "confidence": c,
                     "accuracy": a, "gap": abs(c - a) if m.any() else np.nan})
    return pd.DataFrame(rows)


def calibration_error(confidence, correct, n_bins: int = 15) -> float:
    """ECE: the count-weighted mean of ``|accuracy - confidence|`` over :func:`reliability` bins.

    NaN when there is nothing to measure.

    >>> calibration_error([0.9, 0.9, 0.1, 0.1], [True, False, False, False], n_bins=10)
    0.25
    """
    t = reliability(confidence, correct, n_bins)
    used = t[t["count"] > 0]
    if used.empty:
        return float("nan")
    return float(round((used["gap"] * used["count"]).sum() / used["count"].sum(), 12))


def reliability_table(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> pd.DataFrame:
    """:func:`reliability` of a classifier's top-class probabilities against ``labels``.

    >>> import numpy as np
    >>> t = reliability_table(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 0]), n_bins=5)
    >>> t["count"].tolist()
    [0, 0, 0, 0, 2]
    """
    conf, correct = _top(probs, labels)
    return reliability(conf, correct, n_bins)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """ECE of a classifier's top-class probabilities against ``labels`` (0 when empty).

    >>> import numpy as np
    >>> expected_calibration_error(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1]))
    0.0
    """
    conf, correct = _top(probs, labels)
    return calibration_error(conf, correct, n_bins) if len(conf) else 0.0


def _top(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    if not len(p):
        return np.zeros(0), np.zeros(0, bool)
    return p.max(axis=1), p.argmax(axis=1) == np.asarray(labels)
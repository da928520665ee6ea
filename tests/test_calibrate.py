"""calibrate: temperature scaling, ECE and reliability on small known arrays."""

from __future__ import annotations

import numpy as np
import pytest

from cheque_reader.calibrate import expected_calibration_error, fit_temperature, reliability_table, softmax
from conftest import load_script


def test_ece_by_hand():
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    labels = np.array([0, 1, 1, 1])
    # bins of width 0.1: {0.9: conf .9, acc .5}, {0.7: conf .7 acc 1}, {0.6: conf .6 acc 0}
    expect = (2 * 0.4 + 1 * 0.3 + 1 * 0.6) / 4
    assert expected_calibration_error(probs, labels, n_bins=10) == pytest.approx(expect)


def test_perfect_and_empty():
    assert expected_calibration_error(np.eye(3), np.arange(3)) == 0.0
    assert expected_calibration_error(np.zeros((0, 3)), np.zeros(0, int)) == 0.0


def test_reliability_table_counts_and_gaps():
    probs = np.array([[0.95, 0.05], [0.85, 0.15], [0.55, 0.45]])
    t = reliability_table(probs, np.array([0, 1, 0]), n_bins=5)
    assert len(t) == 5 and t["count"].tolist() == [0, 0, 1, 0, 2]
    top = t.iloc[4]
    assert top["confidence"] == pytest.approx(0.9) and top["accuracy"] == pytest.approx(0.5)
    assert top["gap"] == pytest.approx(0.4)


def test_softmax_rows_sum_to_one_and_temperature_flattens():
    z = np.array([[2.0, 0.0, -1.0]])
    p1, p2 = softmax(z), softmax(z, 2.0)
    assert p1.sum() == pytest.approx(1.0) and p2.sum() == pytest.approx(1.0)
    assert p2.max() < p1.max()
    assert softmax(np.array([[1000.0, 0.0]]))[0, 0] == pytest.approx(1.0)


@pytest.mark.parametrize("true_t", [0.5, 1.0, 3.0])
def test_fit_temperature_recovers_known_temperature(true_t):
    rng = np.random.default_rng(1)
    n, k = 4000, 4
    base = rng.normal(size=(n, k)) * 2.0
    p = softmax(base)  # calibrated by construction: sample labels from p
    labels = np.array([rng.choice(k, p=row) for row in p])
    t = fit_temperature(base * true_t, labels)
    assert t == pytest.approx(true_t, rel=0.12)


def test_temperature_scaling_reduces_ece_of_overconfident_logits():
    rng = np.random.default_rng(2)
    base = rng.normal(size=(3000, 5)) * 1.5
    labels = np.array([rng.choice(5, p=row) for row in softmax(base)])
    sharp = base * 4.0
    t = fit_temperature(sharp, labels)
    assert expected_calibration_error(softmax(sharp, t), labels) < 0.5 * expected_calibration_error(softmax(sharp), labels)


def test_amount_calibration_ridge_by_leave_one_out_follows_the_signal():
    F = load_script("fit_amount_calibration")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 1))
    signal = (x[:, 0] + 0.3 * rng.normal(size=80) > 0).astype(float)
    noise = (rng.random(80) < 0.5).astype(float)
    # a strong signal wants little shrinkage, pure noise a lot
    assert F.loo_log_loss(x, signal, 0.01) < F.loo_log_loss(x, signal, 10.0)
    assert F.loo_log_loss(x, noise, 10.0) < F.loo_log_loss(x, noise, 0.01)
    # by hand on 12 fields: each predicted by a fit on the other 11
    xs, ys = x[:12], signal[:12]
    losses = []
    for i in range(12):
        coef, b = F.fit_logistic(np.delete(xs, i, axis=0), np.delete(ys, i), 1.0)
        p = 1 / (1 + np.exp(-(xs[i] @ coef + b)))
        losses.append(-np.log(p) if ys[i] else -np.log(1 - p))
    assert F.loo_log_loss(xs, ys, 1.0) == pytest.approx(np.mean(losses))


def test_cross_fitted_figures_follow_the_signal_and_the_policy():
    F = load_script("fit_amount_calibration")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 1))
    ok = x[:, 0] > -0.5                              # the feature separates right from wrong reads
    everyone = np.ones(200, bool)
    sharp = F.cross_fitted(x, ok, everyone, "1.0", repeats=2)
    assert sharp["fields"] == 200 and sharp["auto_accepted_error"] <= 0.02   # near the 1% target
    assert 0.3 < sharp["auto_accepted"] <= ok.mean() + 0.02 and sharp["read_rate_at_target"] > 0.3
    assert F.cross_fitted(x, ok, ~everyone, "1.0", repeats=2)["auto_accepted"] == 0.0  # nothing eligible
    noise = rng.random(200) < 0.8                    # 20% wrong, unrelated to the feature
    blind = F.cross_fitted(x, noise, everyone, "1.0", repeats=2)
    assert blind["read_rate_at_target"] < 0.2 and blind["ece"] < 0.2

"""The pieces the car models' heads are fitted and decided with, on numbers with a known answer.

``backbone.RichFeatures`` must pool the very map ``Features`` pools (one backbone pass, the same
weights), ``heads.fit_logistic`` must hand back weights for raw rows although it fits on
standardised ones, and ``training.floored_threshold`` must keep both recalls at the floor when
it can, and otherwise the best worse recall.
"""

from __future__ import annotations

import numpy as np
import torch
from modelplane_models import backbone, heads, training


def test_rich_features_pool_the_backbone_map_features_pools() -> None:
    images = torch.from_numpy(np.random.default_rng(3).random((2, 3, 224, 224), np.float32))
    with torch.no_grad():
        rich = backbone.shared_rich()(images)
        pooled = backbone.shared()(images)[0]
    assert rich.shape == (2, backbone.RICH_FEATURES)
    torch.testing.assert_close(rich[:, : backbone.FEATURES], pooled, atol=1e-5, rtol=1e-5)
    final_max = rich[:, backbone.FEATURES : 2 * backbone.FEATURES]
    assert bool((final_max >= pooled - 1e-6).all())  # a max over the map is never under its mean
    mid = rich[:, 2 * backbone.FEATURES :]
    mid_avg, mid_max = mid[:, : backbone.MID_CHANNELS], mid[:, backbone.MID_CHANNELS :]
    assert bool((mid_max >= mid_avg - 1e-6).all()) and bool((mid_max > mid_avg).any())


def test_fit_logistic_weights_apply_to_raw_rows() -> None:
    """Features on wildly different scales (standardised inside), 9:1 imbalance (balanced
    weights): the returned raw-row weights separate the classes, both recalls high."""
    rng = np.random.default_rng(0)
    labels = (rng.random(600) < 0.1).astype(np.int64)
    signal = labels * 2.0 - 1.0 + rng.normal(0, 0.6, 600)
    rows = np.stack([signal * 1000.0, rng.normal(0, 1e-3, 600), signal * 0.01], axis=1)
    weight, bias = heads.fit_logistic(rows.astype(np.float32), labels, 2, l2=1e-3)
    assert weight.shape == (2, 3) and bias.shape == (2,)
    predicted = (rows @ weight.T + bias).argmax(axis=1)
    for label in (0, 1):
        assert (predicted[labels == label] == label).mean() > 0.9, label
    strong, _ = heads.fit_logistic(rows.astype(np.float32), labels, 2, l2=100.0)
    assert np.abs(strong).sum() < np.abs(weight).sum()  # the penalty shrinks the weights


def test_floored_threshold_keeps_both_recalls_at_the_floor() -> None:
    """Positives rarer than negatives: Youden's J weighs the rates equally; the floored rule
    takes the most right answers while both recalls stay at least 0.85."""
    rng = np.random.default_rng(1)
    positive = rng.normal(0.65, 0.12, 400)
    negative = rng.normal(0.35, 0.12, 1000)
    grid = np.linspace(0.05, 0.95, 91)
    t = training.floored_threshold(positive, negative, grid, 0.85)
    assert (positive > t).mean() >= 0.85 and (negative <= t).mean() >= 0.85
    right = (positive > t).sum() + (negative <= t).sum()
    for other in grid:
        if (positive > other).mean() >= 0.85 and (negative <= other).mean() >= 0.85:
            assert (positive > other).sum() + (negative <= other).sum() <= right
    youden = training.best_threshold(positive, negative, grid)
    assert right >= (positive > youden).sum() + (negative <= youden).sum()


def test_floored_threshold_without_a_threshold_at_the_floor_balances_the_recalls() -> None:
    positive = np.linspace(0.3, 0.7, 101)
    negative = np.linspace(0.3, 0.7, 101)  # no threshold gets both recalls to 0.85
    grid = np.linspace(0.05, 0.95, 91)
    t = training.floored_threshold(positive, negative, grid, 0.85)
    assert abs(t - 0.5) < 0.011  # the worse recall is best in the middle

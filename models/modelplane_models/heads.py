"""Training small heads on cached backbone features: the loop every photo model shares.

The backbone is frozen and its features are cached (:mod:`modelplane_models.backbone`), so a
head trains on [N, 1280] rows in seconds on 2 CPU cores; class weights (inverse frequency)
counter the imbalance of the real sets.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from numpy.typing import NDArray

from . import training

BatchLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def class_weights(labels: NDArray[np.int64], classes: int) -> torch.Tensor:
    """Inverse class frequency, normalised to mean 1 over the present classes."""
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / (counts > 0).sum(), 0)
    return torch.tensor(weights, dtype=torch.float32)


def fit(
    module: torch.nn.Module,
    rows: NDArray[np.float32],
    extra: NDArray[np.float32],
    labels: NDArray[np.int64],
    loss_fn: BatchLoss,
    config: training.FitConfig,
    gen: torch.Generator,
    name: str,
) -> float:
    """Train on (features, extra column(s), label) rows; returns the last epoch's loss.

    Feature noise (Gaussian, 5% of each feature's spread) is the augmentation: the cached
    features of one photo would otherwise be seen identically every epoch.
    """
    x, e, y = torch.from_numpy(rows), torch.from_numpy(extra), torch.from_numpy(labels)
    spread = x.std(dim=0, keepdim=True) * 0.05

    def batch_loss(index: torch.Tensor) -> torch.Tensor:
        noisy = x[index] + torch.randn(len(index), x.shape[1], generator=gen) * spread
        return loss_fn(noisy, e[index], y[index])

    return training.fit_batches(module, len(x), batch_loss, config, gen, name)

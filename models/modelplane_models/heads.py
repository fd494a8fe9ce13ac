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

from . import log, training

_log = log.get("heads")
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
    """AdamW + one-cycle over (features, extra column(s), label) rows; returns the last loss.

    Feature noise (Gaussian, 5% of each feature's spread) is the augmentation: the cached
    features of one photo would otherwise be seen identically every epoch.
    """
    x, e, y = torch.from_numpy(rows), torch.from_numpy(extra), torch.from_numpy(labels)
    spread = x.std(dim=0, keepdim=True) * 0.05
    steps = max(1, len(x) // config.batch_size)
    optimiser = torch.optim.AdamW(
        module.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=config.lr, total_steps=config.epochs * steps
    )
    progress = log.Progress(_log, f"{name}.train", config.epochs * steps)
    module.train()
    last = 0.0
    for epoch in range(config.epochs):
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for step in range(steps):
            index = order[step * config.batch_size : (step + 1) * config.batch_size]
            noisy = x[index] + torch.randn(len(index), x.shape[1], generator=gen) * spread
            loss = loss_fn(noisy, e[index], y[index])
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            schedule.step()
            total += loss.item()
            progress.update(
                epoch * steps + step + 1, epoch=epoch + 1, loss=round(total / (step + 1), 4)
            )
        last = total / steps
    module.eval()
    return last

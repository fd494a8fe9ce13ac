"""Training small heads on cached backbone features: the loop every photo model shares.

The backbone is frozen and its features are cached (:mod:`modelplane_models.backbone`), so a
head trains on [N, 1280] rows in seconds on 2 CPU cores; class weights (inverse frequency)
counter the imbalance of the real sets.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
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


def fit_logistic(
    rows: NDArray[np.float32], labels: NDArray[np.int64], classes: int, l2: float
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Class-balanced multinomial logistic regression with an L2 penalty, full batch (LBFGS),
    on standardised rows; returns (weight [classes, D], bias [classes]) on the raw rows (the
    standardisation folded in, so the graph needs only one linear layer).

    Why a linear model: on the estimable / severe boundary the MLP heads overfit the ~1,800
    VDS training photos; a strong penalty (``l2`` ~1 on standardised features) did better in
    cross-validation on the train pile (models/README.md).
    """
    mean = rows.mean(axis=0, dtype=np.float64)
    scale = rows.std(axis=0, dtype=np.float64) + 1e-6
    x = torch.from_numpy((rows - mean) / scale)
    y = torch.from_numpy(labels)
    weights = class_weights(labels, classes).double()
    w = torch.zeros(x.shape[1], classes, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(classes, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = F.cross_entropy(x @ w + b, y, weight=weights) + l2 * w.pow(2).sum()
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    with torch.enable_grad():
        optimiser.step(closure)  # type: ignore[no-untyped-call]
    raw = w.detach().numpy() / scale[:, None]
    bias = b.detach().numpy() - mean @ raw
    return raw.T.astype(np.float32), bias.astype(np.float32)

"""The training loop shared by the image models: batching, augmentation, optimiser, progress.

Kept generic (a loss callback per batch) so the quality gate and the breed classifier train the
same way and report progress in the same structured lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from . import imaging, log

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
_log = log.get("training")


@dataclass(frozen=True)
class FitConfig:
    """Optimiser settings; part of a model's build fingerprint through its params."""

    epochs: int
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4


def set_seed(seed: int) -> torch.Generator:
    """Seed torch globally (weight init) and return a generator for batch order/augmentation."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def augment(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """uint8 NCHW -> float [0, 1] with label-preserving jitter: mirror, exposure, contrast.

    Blur, crops and zooms would change a quality-gate label, so they happen in the data
    generators (where the label is known), not here.
    """
    x = images.float() / 255.0
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
    gain = 1.0 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.2
    contrast = 1.0 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.2
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * contrast + mean).mul(gain).clamp(0.0, 1.0)


def fit(
    model: torch.nn.Module,
    images: NDArray[np.uint8],
    targets: torch.Tensor,
    loss_fn: LossFn,
    config: FitConfig,
    gen: torch.Generator,
    name: str,
) -> float:
    """Train ``model`` in place on uint8 images (augmented per batch); the last epoch loss."""
    data = torch.from_numpy(images)
    return fit_batches(
        model,
        len(data),
        lambda index: loss_fn(augment(data[index], gen), targets[index]),
        config,
        gen,
        name,
    )


def fit_batches(
    model: torch.nn.Module,
    count: int,
    batch_loss: Callable[[torch.Tensor], torch.Tensor],
    config: FitConfig,
    gen: torch.Generator,
    name: str,
) -> float:
    """AdamW and a one-cycle schedule over shuffled batches of row indices ``0..count-1``;
    ``batch_loss(index)`` gives one batch's loss. Returns the last epoch's mean loss."""
    steps_per_epoch = max(1, count // config.batch_size)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch
    )
    progress = log.Progress(_log, f"{name}.train", config.epochs * steps_per_epoch)
    model.train()
    epoch_loss = 0.0
    for epoch in range(config.epochs):
        order = torch.randperm(count, generator=gen)
        total = 0.0
        for step in range(steps_per_epoch):
            loss = batch_loss(order[step * config.batch_size : (step + 1) * config.batch_size])
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            schedule.step()
            total += loss.item()
            progress.update(
                epoch * steps_per_epoch + step + 1,
                epoch=epoch + 1,
                loss=round(total / (step + 1), 4),
            )
        epoch_loss = total / steps_per_epoch
    model.eval()
    return epoch_loss


def to_float(images: NDArray[np.uint8]) -> NDArray[np.float32]:
    """uint8 images -> the float [0, 1] model input (the contract's ``/255``)."""
    return imaging.scale(images)


@torch.no_grad()
def predict(
    module: torch.nn.Module, images: NDArray[np.uint8], batch_size: int = 256
) -> tuple[torch.Tensor, ...]:
    """Run ``module`` in eval mode over uint8 images; outputs concatenated along the batch."""
    module.eval()
    chunks: list[tuple[torch.Tensor, ...]] = []
    for start in range(0, len(images), batch_size):
        out = module(torch.from_numpy(to_float(images[start : start + batch_size])))
        chunks.append(out if isinstance(out, tuple) else (out,))
    return tuple(torch.cat(parts) for parts in zip(*chunks, strict=True))


def best_threshold(
    positive: NDArray[np.float64], negative: NDArray[np.float64], grid: NDArray[np.float64]
) -> float:
    """Threshold on a score (higher = positive) maximising TPR - FPR (Youden's J).

    Where a whole range of thresholds ties (well separated classes), take its middle: the
    margin to both classes is then largest. Used by every calibrated decision in the graphs.
    """
    scores = np.array([(positive > t).mean() - (negative > t).mean() for t in grid])
    best = np.flatnonzero(scores >= scores.max() - 1e-9)
    return float(grid[best[len(best) // 2]])


def floored_threshold(
    positive: NDArray[np.float64],
    negative: NDArray[np.float64],
    grid: NDArray[np.float64],
    floor: float,
) -> float:
    """Threshold (higher = positive) with the most right answers among those keeping both
    recalls at least ``floor``; where none does, the one with the best worse recall.

    For a boundary with a goal on both sides and unequal classes: Youden's J weighs the two
    rates equally, so the larger class pays for the smaller one's recall beyond the goal.
    """
    hit = np.array([(positive > t).mean() for t in grid])
    kept = np.array([(negative <= t).mean() for t in grid])
    right = hit * len(positive) + kept * len(negative)
    scores = np.where((hit >= floor) & (kept >= floor), right, np.minimum(hit, kept) - 1.0)
    best = np.flatnonzero(scores >= scores.max() - 1e-9)
    return float(grid[best[len(best) // 2]])

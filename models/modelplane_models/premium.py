"""Pet-insurance premium regression (``premium``): policy features -> KRW per year.

Inputs are six [N, 1] tensors (``breed`` and ``region`` index ``breed/labels.txt`` and
``regions.txt``); the network learns log-premium with embeddings for the categorical inputs,
and the exponential is inside the graph, so the output is already KRW. Trained on
:mod:`modelplane_models.synth.policies`, whose pricing rule is documented there and in README.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import export, log, repository, training
from .spec import ModelSpec, TensorSpec
from .synth import policies

NAME = "premium"
SCALE_KRW = 300_000.0  # premiums are learnt relative to this, so the log target is near 0
SPEC = ModelSpec(
    name=NAME,
    inputs=(
        TensorSpec("breed", "INT64", (1,)),
        TensorSpec("age_years", "FP32", (1,)),
        TensorSpec("weight_kg", "FP32", (1,)),
        TensorSpec("sex", "INT64", (1,)),
        TensorSpec("neutered", "INT64", (1,)),
        TensorSpec("region", "INT64", (1,)),
    ),
    outputs=(TensorSpec("premium", "FP32", (1,)),),
    max_batch_size=64,
    preferred_batch_sizes=(16, 64),
)
_log = log.get(NAME)


class PremiumNet(nn.Module):
    """Embeddings for breed and region + scaled numeric features -> MLP -> exp -> KRW."""

    def __init__(
        self, breeds: int = len(policies.BREEDS), regions: int = len(policies.REGIONS)
    ) -> None:
        super().__init__()
        self.breed = nn.Embedding(breeds, 8)
        self.region = nn.Embedding(regions, 4)
        self.mlp = nn.Sequential(
            nn.Linear(8 + 4 + 5, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 1)
        )

    def log_premium(
        self,
        breed: torch.Tensor,
        age: torch.Tensor,
        weight: torch.Tensor,
        sex: torch.Tensor,
        neutered: torch.Tensor,
        region: torch.Tensor,
    ) -> torch.Tensor:
        a = age / policies.MAX_AGE
        numeric = torch.cat(
            [a, a * a, torch.log(weight.clamp(min=0.5)) / 4.0, sex.float(), neutered.float()], dim=1
        )
        features = torch.cat([self.breed(breed[:, 0]), self.region(region[:, 0]), numeric], dim=1)
        out: torch.Tensor = self.mlp(features)
        return out

    def forward(
        self,
        breed: torch.Tensor,
        age: torch.Tensor,
        weight: torch.Tensor,
        sex: torch.Tensor,
        neutered: torch.Tensor,
        region: torch.Tensor,
    ) -> torch.Tensor:
        return torch.exp(self.log_premium(breed, age, weight, sex, neutered, region)) * SCALE_KRW


def load_graph(checkpoint: Path) -> PremiumNet:
    """The exported torch module from a model folder's checkpoint."""
    net = PremiumNet()
    net.load_state_dict(torch.load(checkpoint, weights_only=True))
    return net.eval()


@dataclass(frozen=True)
class PremiumParams:
    """Everything that shapes the trained regressor (and so its build fingerprint)."""

    seed: int = 23
    policies: int = 20_000
    holdout_policies: int = 4_000
    epochs: int = 40
    batch_size: int = 256
    lr: float = 5e-3


def mape(predicted: np.ndarray[Any, Any], actual: np.ndarray[Any, Any]) -> float:
    """Mean absolute percentage error, as a fraction."""
    return float(np.mean(np.abs(predicted - actual) / actual))


def _tensors(book: policies.Book) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(v)) for v in book.features().values()]


def _train(params: PremiumParams, book: policies.Book) -> PremiumNet:
    training.set_seed(params.seed)
    net = PremiumNet()
    inputs, target = _tensors(book), torch.log(torch.from_numpy(book.premium) / SCALE_KRW)
    optimiser = torch.optim.AdamW(net.parameters(), lr=params.lr, weight_decay=1e-5)
    steps = params.epochs * (len(target) // params.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, params.lr, total_steps=steps)
    progress = log.Progress(_log, f"{NAME}.train", steps)
    gen = torch.Generator().manual_seed(params.seed)
    for step in range(steps):
        if step % (len(target) // params.batch_size) == 0:
            order = torch.randperm(len(target), generator=gen)
        index = order[(step % (len(target) // params.batch_size)) * params.batch_size :][
            : params.batch_size
        ]
        loss = F.mse_loss(net.log_premium(*(x[index] for x in inputs))[:, 0], target[index])
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        schedule.step()
        progress.update(step + 1, loss=round(loss.item(), 5))
    return net.eval()


def build(folder: Path, params: PremiumParams, data: Path | None) -> dict[str, Any]:
    """Train on a synthetic book, export, check parity, measure MAPE on a held-out book."""
    if data is not None:
        raise ValueError("premium trains on the synthetic book only (no --data)")
    net = _train(params, policies.book(params.policies, params.seed))
    held = policies.book(params.holdout_policies, params.seed + 1000)
    feeds = held.features()
    onnx_path = repository.model_file(folder, SPEC)
    example = {k: torch.from_numpy(np.ascontiguousarray(v[:2])) for k, v in feeds.items()}
    export.export_onnx(net, SPEC, example, onnx_path)
    parity = export.check_parity(
        net, SPEC, onnx_path, {k: v[:33] for k, v in feeds.items()}, atol=1e-2, rtol=1e-5
    )
    predicted = export.run_onnx(onnx_path, feeds)["premium"][:, 0]
    clean = policies.expected_premium(
        held.breed,
        held.age_years.astype(np.float64),
        held.weight_kg.astype(np.float64),
        held.sex,
        held.neutered,
        held.region,
    )
    metrics = {
        "mape": mape(predicted, held.premium),
        "mape_vs_rule": mape(predicted, clean),
        "noise_floor_mape": mape(clean, held.premium),
    }
    log.event(_log, "evaluated", split="holdout", **metrics)
    torch.save(net.state_dict(), folder / repository.CHECKPOINT_FILE)
    repository.write_config(folder, SPEC)
    repository.write_lines(folder / "regions.txt", policies.REGIONS)
    repository.write_json(
        folder / repository.META_FILE,
        {
            "breeds": list(policies.BREEDS),
            "regions": list(policies.REGIONS),
            "unit": "KRW/year",
        },
    )
    return {
        "parity_max_abs": parity,
        "evaluated_on": "holdout",
        "policies": len(held.premium),
        **metrics,
    }


BUILDER = repository.Builder(
    name=NAME,
    sources=("premium", "synth.policies", "pet_photos", "training"),
    params=PremiumParams(),
    build=build,
)

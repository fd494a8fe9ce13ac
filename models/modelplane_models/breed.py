"""Dog breed classifier (``breed``): a small CNN over :data:`~modelplane_models.synth.dogs.BREEDS`.

``make models`` trains on procedurally drawn dogs; ``train breed --data DIR`` retrains on real
photos in ``DIR/<breed>/`` (one sub-folder per name in ``labels.txt``, all of them present, so the
label order — which the ``premium`` model's ``breed`` input indexes — never changes).
Softmax is inside the graph: the output is ``probabilities`` [N, K].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import datasets, export, log, repository, training
from .nets import Backbone
from .spec import ModelSpec, TensorSpec
from .synth import dogs

NAME = "breed"
INPUT_SIZE = (96, 96)  # (W, H)
LABELS = dogs.NAMES
SPEC = ModelSpec(
    name=NAME,
    inputs=(TensorSpec("image", "FP32", (3, INPUT_SIZE[1], INPUT_SIZE[0])),),
    outputs=(TensorSpec("probabilities", "FP32", (len(LABELS),), label_filename="labels.txt"),),
    max_batch_size=32,
    preferred_batch_sizes=(8, 16, 32),
)
_log = log.get(NAME)


class BreedNet(nn.Module):
    """Backbone + linear classifier; ``forward`` returns logits (training)."""

    def __init__(self, classes: int = len(LABELS)) -> None:
        super().__init__()
        self.backbone = Backbone((16, 32, 48, 64), extra=2)
        self.dropout = nn.Dropout(0.1)
        self.classify = nn.Linear(self.backbone.out_features, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classify(self.dropout(self.backbone(x)))
        return logits


class BreedGraph(nn.Module):
    """Exported graph: image -> probabilities (softmax inside, so serving only takes argmax)."""

    def __init__(self, net: BreedNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(image), dim=1)


def load_graph(checkpoint: Path) -> BreedGraph:
    """The exported torch module from a model folder's checkpoint."""
    graph = BreedGraph(BreedNet())
    graph.load_state_dict(torch.load(checkpoint, weights_only=True))
    return graph.eval()


@dataclass(frozen=True)
class BreedParams:
    """Everything that shapes the trained classifier (and so its build fingerprint)."""

    seed: int = 11
    train_per_breed: int = 400
    holdout_per_breed: int = 60
    epochs: int = 14
    batch_size: int = 64
    lr: float = 4e-3
    label_smoothing: float = 0.05
    val_fraction: float = 0.2  # of a user's folder


def holdout(seed: int, per_breed: int) -> datasets.ImageSet:
    """Fresh synthetic dogs for evaluation (use a seed the build never trained on)."""
    return datasets.synthesize(
        dogs.generators(), dict.fromkeys(LABELS, per_breed), INPUT_SIZE, seed, f"{NAME}.holdout"
    )


def evaluate(onnx_path: Path, data: datasets.ImageSet) -> dict[str, float]:
    """Top-1 accuracy overall and its worst breed, through ONNX Runtime."""
    probs = export.run_onnx(onnx_path, {"image": training.to_float(data.images)})["probabilities"]
    hit = probs.argmax(axis=1) == data.labels
    per_class = [
        float(hit[data.labels == i].mean()) for i in range(len(LABELS)) if (data.labels == i).any()
    ]
    return {"top1": float(hit.mean()), "worst_breed_top1": min(per_class)}


def _data(params: BreedParams, data: Path | None) -> tuple[datasets.ImageSet, datasets.ImageSet]:
    if data is not None:
        full = datasets.from_folder(data, {name: name for name in LABELS}, INPUT_SIZE)
        return datasets.split(full, params.val_fraction, params.seed)
    train = datasets.synthesize(
        dogs.generators(),
        dict.fromkeys(LABELS, params.train_per_breed),
        INPUT_SIZE,
        params.seed,
        NAME,
    )
    return train, holdout(params.seed + 1000, params.holdout_per_breed)


def build(folder: Path, params: BreedParams, data: Path | None) -> dict[str, Any]:
    """Train, export with softmax, check parity, write labels, evaluate on held-out dogs."""
    train, evaluation = _data(params, data)
    log.event(_log, "data", train=len(train), evaluation=len(evaluation))
    gen = training.set_seed(params.seed)
    net = BreedNet()
    config = training.FitConfig(params.epochs, params.batch_size, params.lr)

    def loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(net(x), y, label_smoothing=params.label_smoothing)

    training.fit(net, train.images, torch.from_numpy(train.labels), loss, config, gen, NAME)
    graph = BreedGraph(net).eval()
    onnx_path = repository.model_file(folder, SPEC)
    sample = evaluation.images[:7].astype(np.float32) / 255.0
    export.export_onnx(graph, SPEC, {"image": torch.from_numpy(sample[:2])}, onnx_path)
    parity = export.check_parity(graph, SPEC, onnx_path, {"image": sample})
    torch.save(graph.state_dict(), folder / repository.CHECKPOINT_FILE)
    repository.write_config(folder, SPEC)
    repository.write_lines(folder / "labels.txt", LABELS)
    repository.write_json(folder / repository.META_FILE, {"input_size": list(INPUT_SIZE)})
    metrics = evaluate(onnx_path, evaluation)
    split = "validation" if data else "holdout"
    log.event(_log, "evaluated", split=split, **metrics)
    return {"parity_max_abs": parity, "evaluated_on": split, "images": len(evaluation), **metrics}


BUILDER = repository.Builder(
    name=NAME,
    sources=("breed", "nets", "training", "datasets", "synth.dogs", "synth.photo"),
    params=BreedParams(),
    build=build,
)

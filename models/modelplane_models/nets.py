"""Small torch building blocks (torchvision cannot be installed beside the CPU torch build).

The CNNs are sized for training in about a minute on two CPU cores: a strided stem, a few
conv-BN-ReLU stages and global average pooling. Input normalisation is a fixed layer inside the
network, so the exported ONNX graph takes raw [0, 1] RGB as the serving contract says.
"""

from __future__ import annotations

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Normalize(nn.Module):
    """(x - mean) / std per channel, as buffers so they are exported as graph constants."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self, mean: tuple[float, ...] = IMAGENET_MEAN, std: tuple[float, ...] = IMAGENET_STD
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def conv_bn(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3x3 conv, batch norm, ReLU: BN folds into the conv at export, so it costs nothing."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Backbone(nn.Module):
    """Strided CNN -> global-average-pooled feature vector of ``widths[-1]`` channels.

    Each width is one stage that halves the resolution; ``extra`` stages also get a second,
    stride-1 conv (the deeper, cheaper-resolution ones, where extra depth is affordable).
    """

    def __init__(self, widths: tuple[int, ...] = (16, 32, 48, 64), extra: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [Normalize()]
        cin = 3
        for index, width in enumerate(widths):
            layers.append(conv_bn(cin, width, stride=2))
            if index >= len(widths) - extra:
                layers.append(conv_bn(width, width))
            cin = width
        self.features = nn.Sequential(*layers)
        self.out_features = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features: torch.Tensor = self.features(x)
        return features.mean(dim=(2, 3))

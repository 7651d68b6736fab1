"""MobileNetV2 with torchvision's module layout, so torchvision's ImageNet checkpoint loads with every key.

Written here because painsynth does not depend on torchvision. Same names and shapes as
``torchvision.models.mobilenet_v2()`` (``features.0.0.weight`` … ``features.18.1.running_var``,
``classifier.1.weight``), same initialisation and forward pass (224² ImageNet input, normalised with
:data:`IMAGENET_MEAN` / :data:`IMAGENET_STD`).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from painsynth.models.weights import load_into, mobilenet_v2_imagenet_path, read_state_dict

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
EMBEDDING_DIM = 1280

# t (expansion), c (channels), n (repeats), s (first stride) -- torchvision's table
_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def _make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class ConvBNReLU(nn.Sequential):
    """torchvision's Conv2dNormActivation with ReLU6: indices 0 (conv), 1 (batch norm), 2 (activation)."""

    def __init__(self, inp: int, out: int, kernel: int = 3, stride: int = 1, groups: int = 1):
        super().__init__(nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(out), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, out: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        self.stride = stride
        self.use_res_connect = stride == 1 and inp == out
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU(inp, hidden, kernel=1))
        layers += [ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, out, 1, 1, 0, bias=False), nn.BatchNorm2d(out)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """``features`` (images [B, 3, H, W] → [B, 1280, H/32, W/32]) and ``classifier`` (dropout, linear)."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2):
        super().__init__()
        channels = _make_divisible(32 * width_mult)
        self.last_channel = _make_divisible(EMBEDDING_DIM * max(1.0, width_mult))
        features: list[nn.Module] = [ConvBNReLU(3, channels, stride=2)]
        for t, c, n, s in _SETTINGS:
            out = _make_divisible(c * width_mult)
            for i in range(n):
                features.append(InvertedResidual(channels, out, s if i == 0 else 1, t))
                channels = out
        features.append(ConvBNReLU(channels, self.last_channel, kernel=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.last_channel, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Global-average-pooled features [B, 1280] of normalised images [B, 3, H, W]."""
        return nn.functional.adaptive_avg_pool2d(self.features(x), 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(x))


def mobilenet_v2(pretrained: bool = False, weights: str | Path | None = None, **kwargs) -> MobileNetV2:
    """A MobileNetV2; with ``pretrained`` the packaged, checksum-verified ImageNet checkpoint, or the
    user's checkpoint at ``weights`` (torchvision layout), loaded strictly."""
    net = MobileNetV2(**kwargs)
    if weights is not None or pretrained:
        path = Path(weights) if weights is not None else mobilenet_v2_imagenet_path()
        load_into(net, read_state_dict(path), path, head_prefix="classifier.")
    return net

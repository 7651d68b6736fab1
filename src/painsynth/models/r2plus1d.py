"""``r2plus1d-18``: the R(2+1)D-18 video ResNet (Tran et al., 2018) with torchvision's module layout.

Written here because painsynth does not depend on torchvision: same module names and shapes as
``torchvision.models.video.r2plus1d_18()`` (``stem.0.weight`` … ``layer4.1.conv2.0.3.weight``,
``fc.weight``), same initialisation, so a user's torchvision checkpoint (e.g. the Kinetics-400
``r2plus1d_18-91a641e6.pth``) loads with ``weights=PATH``; a head of another size (400 classes into a
2-class model) is left at its fresh initialisation. Random init by default.

Input: [B, 3, T, H, W] float, RGB normalised with :data:`KINETICS_MEAN` / :data:`KINETICS_STD`
(torchvision's recipe: 112×112 crops of 16 frames). Registered as a frame model with ``from_frames``: the
trainer decodes frames [B, T, 3, H, W] in [0, 1] and :meth:`R2Plus1D18.from_frames` makes the clip
(resized to ``image_size``). About 31 M parameters and ~40 GFLOPs per 16×112² clip: a GPU model; on
CPU only smoke-tested on tiny inputs.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from painsynth.models import FRAMES, ModelSpec, register_model
from painsynth.models.weights import load_into, read_state_dict

KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)


class Conv2Plus1D(nn.Sequential):
    """A 3×3×3 convolution factored into spatial (1×3×3) then temporal (3×1×1)."""

    def __init__(self, in_planes: int, out_planes: int, midplanes: int, stride: int = 1, padding: int = 1):
        super().__init__(
            nn.Conv3d(in_planes, midplanes, (1, 3, 3), (1, stride, stride), (0, padding, padding), bias=False),
            nn.BatchNorm3d(midplanes),
            nn.ReLU(inplace=True),
            nn.Conv3d(midplanes, out_planes, (3, 1, 1), (stride, 1, 1), (padding, 0, 0), bias=False),
        )


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        midplanes = (inplanes * planes * 3 * 3 * 3) // (inplanes * 3 * 3 + 3 * planes)
        self.conv1 = nn.Sequential(Conv2Plus1D(inplanes, planes, midplanes, stride), nn.BatchNorm3d(planes),
                                   nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(Conv2Plus1D(planes, planes, midplanes), nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + residual)


class R2Plus1dStem(nn.Sequential):
    def __init__(self):
        super().__init__(
            nn.Conv3d(3, 45, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False), nn.BatchNorm3d(45), nn.ReLU(inplace=True),
            nn.Conv3d(45, 64, (3, 1, 1), (1, 1, 1), (1, 0, 0), bias=False), nn.BatchNorm3d(64), nn.ReLU(inplace=True),
        )


@register_model("r2plus1d-18", ModelSpec(input=FRAMES, from_frames=True))
class R2Plus1D18(nn.Module):
    def __init__(self, num_classes: int = 2, weights: str | Path | None = None, zero_init_residual: bool = False,
                 image_size: int = 112):
        super().__init__()
        if num_classes < 2 or image_size < 16:
            raise ValueError("r2plus1d-18 needs num_classes >= 2 and image_size >= 16")
        self.num_classes = num_classes
        self.image_size = image_size
        self.register_buffer("pixel_mean", torch.tensor(KINETICS_MEAN).view(1, 3, 1, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(KINETICS_STD).view(1, 3, 1, 1, 1), persistent=False)
        self.inplanes = 64
        self.stem = R2Plus1dStem()
        self.layer1 = self._make_layer(64, 2, stride=1)
        self.layer2 = self._make_layer(128, 2, stride=2)
        self.layer3 = self._make_layer(256, 2, stride=2)
        self.layer4 = self._make_layer(512, 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(512 * BasicBlock.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.zeros_(m.conv2[1].weight)
        if weights is not None:
            load_into(self, read_state_dict(weights), weights, head_prefix="fc.")

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * BasicBlock.expansion:
            downsample = nn.Sequential(
                nn.Conv3d(self.inplanes, planes * BasicBlock.expansion, 1, stride=(stride, stride, stride), bias=False),
                nn.BatchNorm3d(planes * BasicBlock.expansion))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * BasicBlock.expansion
        layers += [BasicBlock(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    @staticmethod
    def example_input(batch: int = 1, frames: int = 8, size: int = 64) -> torch.Tensor:
        """A random normalised clip [batch, 3, frames, size, size]."""
        return torch.randn(batch, 3, frames, size, size)

    def from_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames [B, T, 3, H, W] float in [0, 1] (RGB) -> the normalised clip [B, 3, T, S, S] that
        :meth:`forward` takes, resized to ``image_size`` S when they are of another size."""
        if frames.ndim != 5 or frames.shape[2] != 3:
            raise ValueError(f"r2plus1d-18 from_frames expects frames [batch, frames, 3, H, W], got {list(frames.shape)}")
        b, t = frames.shape[:2]
        if frames.shape[-2:] != (self.image_size, self.image_size):
            frames = F.interpolate(frames.flatten(0, 1), size=(self.image_size, self.image_size), mode="bilinear",
                                   align_corners=False, antialias=True).view(b, t, 3, self.image_size, self.image_size)
        return (frames.transpose(1, 2) - self.pixel_mean) / self.pixel_std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 5 or x.shape[1] != 3:
            raise ValueError(f"r2plus1d-18 expects clips [batch, 3, frames, H, W], got {list(x.shape)}")
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(self.avgpool(x).flatten(1))

"""``au-tcn``: a small temporal convolution network over per-frame captured features.

Input [B, T, F]: per frame the 52 ARKit blendshapes, head rotation and translation (6) and a few
landmark-derived distances (see :func:`painsynth.train.track_features`). The features are standardised with a
mean and std stored in the model (fitted on the training set by the trainer through ``set_normalisation``,
so a checkpoint carries them), then residual dilated Conv1d blocks, mean + max pooling over time and a linear head give
logits [B, num_classes]. About 40 k parameters at the defaults: thousands of clips train in
seconds per epoch on 2 CPU cores.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from painsynth.models import FEATURES, ModelSpec, register_model


class TemporalBlock(nn.Module):
    """Residual dilated Conv1d over time; shared by the temporal heads of au-tcn and frame-temporal."""

    def __init__(self, channels: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation)
        self.norm = nn.GroupNorm(1, channels)  # batch-size independent (works for a batch of 1)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop(self.act(self.norm(self.conv(x))))


@register_model("au-tcn", ModelSpec(input=FEATURES, normalised=True))
class AUTCN(nn.Module):
    def __init__(self, in_features: int = 65, num_classes: int = 2, hidden: int = 64, layers: int = 3,
                 kernel: int = 3, dropout: float = 0.2):
        super().__init__()
        if in_features < 1 or num_classes < 2 or hidden < 1 or layers < 1 or kernel < 1 or kernel % 2 == 0:
            raise ValueError("au-tcn needs in_features >= 1, num_classes >= 2, hidden >= 1, layers >= 1 and an odd kernel")
        self.in_features = in_features
        self.num_classes = num_classes
        self.register_buffer("feature_mean", torch.zeros(in_features))
        self.register_buffer("feature_std", torch.ones(in_features))
        self.stem = nn.Conv1d(in_features, hidden, 1)
        self.blocks = nn.Sequential(*[TemporalBlock(hidden, kernel, 2 ** i, dropout) for i in range(layers)])
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, num_classes))

    def set_normalisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.feature_std.copy_(torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[-1] != self.in_features:
            raise ValueError(f"au-tcn expects [batch, frames, {self.in_features}] features, got {list(x.shape)}")
        x = (x - self.feature_mean) / self.feature_std
        h = self.blocks(self.stem(x.transpose(1, 2)))  # [B, hidden, T]
        pooled = torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)
        return self.head(pooled)

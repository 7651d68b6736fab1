"""Smooth vertex normals of animated meshes, for a whole clip at once."""

from __future__ import annotations

import numpy as np
import torch


class VertexNormals:
    """Area-weighted smooth normals of a fixed triangle list, for many frames at once."""

    def __init__(self, triangles: np.ndarray, device: torch.device | str = "cpu"):
        self._corners = [torch.as_tensor(triangles[:, k], dtype=torch.long, device=device) for k in range(3)]

    def __call__(self, vertices: np.ndarray | torch.Tensor) -> torch.Tensor:
        """[T, V, 3] vertices → [T, V, 3] unit normals (float32 tensor, on this object's device)."""
        # Worked on as [3, V, T], so that every gather, cross product and sum runs over whole rows
        # of frames: 5x faster than on [T, V, 3], where they go vertex by vertex.
        points = torch.as_tensor(vertices, dtype=torch.float32, device=self._corners[0].device).permute(2, 1, 0).contiguous()
        a, b, c = (points.index_select(1, corner) for corner in self._corners)
        u, v = b - a, c - a
        # Twice each triangle's area long: the sum below weights by area for free.
        face_normals = torch.stack([u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]])
        normals = torch.zeros_like(points)
        for corner in self._corners:
            normals.index_add_(1, corner, face_normals)
        # (torch.nn.functional.normalize along the first axis took 25x as long)
        length_squared = normals[0] * normals[0] + normals[1] * normals[1] + normals[2] * normals[2]
        normals *= length_squared.clamp_min(1e-24).rsqrt()
        return normals.permute(2, 1, 0).contiguous()

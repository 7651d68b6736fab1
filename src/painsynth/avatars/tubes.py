"""Thin tubes along a path (glasses' rims and temples, hoop earrings), closed or capped, wound outwards, and
meshes merged into one."""

from __future__ import annotations

import numpy as np

SIDES = 6  # tube cross-section corners


def tube_mesh(path, depth_radius, plane_radius, closed, depth_axis, metal):
    """A tube of ``SIDES`` corners along ``path`` [M, 3]: radii [M] along ``depth_axis`` and across; ``metal`` [M]
    bool. Returns points [N, 3], triangles [F, 3], directions [N, 3] (along the tube) and metal [N]."""
    m = len(path)
    if closed:
        tangent = np.roll(path, -1, 0) - np.roll(path, 1, 0)
    else:
        tangent = np.gradient(path, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-12)
    a = depth_axis - (tangent @ depth_axis)[:, None] * tangent
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = np.cross(tangent, a)
    phi = 2 * np.pi * np.arange(SIDES) / SIDES
    ring = (path[:, None] + np.cos(phi)[None, :, None] * depth_radius[:, None, None] * a[:, None]
            + np.sin(phi)[None, :, None] * plane_radius[:, None, None] * b[:, None])
    points = ring.reshape(-1, 3)
    segments = m if closed else m - 1
    i = np.arange(segments)[:, None]
    k = np.arange(SIDES)[None]
    a0 = i * SIDES + k
    a1 = i * SIDES + (k + 1) % SIDES
    b0 = ((i + 1) % m) * SIDES + k
    b1 = ((i + 1) % m) * SIDES + (k + 1) % SIDES
    # Counter-clockwise seen from outside, as the renderer expects of a closed surface.
    tris = np.concatenate([np.stack([a0, b1, b0], -1).reshape(-1, 3), np.stack([a0, a1, b1], -1).reshape(-1, 3)])
    directions = np.repeat(tangent, SIDES, 0)
    metal_points = np.repeat(np.asarray(metal, bool), SIDES)
    if not closed:  # caps
        caps = []
        for end, ring_start, turn in ((0, 0, -1), (m - 1, (m - 1) * SIDES, 1)):  # facing back, forward
            index = len(points) + len(caps)
            caps.append(path[end])
            for kk in range(SIDES):
                rim = [ring_start + kk, ring_start + (kk + 1) % SIDES][::turn]
                tris = np.concatenate([tris, [[index, *rim]]])
        points = np.concatenate([points, caps])
        directions = np.concatenate([directions, tangent[[0, -1]]])
        metal_points = np.concatenate([metal_points, np.asarray(metal, bool)[[0, -1]]])
    return points, tris, directions, metal_points


def merge_meshes(parts):
    """One mesh (points, triangles, directions, metal) from parts of that form, their triangles re-indexed."""
    points, tris, dirs, metal, offset = [], [], [], [], 0
    for p, t, dr, mt in parts:
        points.append(p)
        tris.append(np.asarray(t) + offset)
        dirs.append(dr)
        metal.append(mt)
        offset += len(p)
    return np.concatenate(points), np.concatenate(tris), np.concatenate(dirs), np.concatenate(metal)

"""Eyelashes: cards along the upper (long, curled up and out) and lower (short) lid margins, each
point riding its lid-rim vertex (:class:`SurfaceBinding`), so the lashes follow every blink."""

from __future__ import annotations

import functools
import zlib
from typing import TYPE_CHECKING

import numpy as np

from painsynth.avatars.colour import to_srgb8
from painsynth.avatars.hair_colour import hair_rgb
from painsynth.render.layers import Layer, SurfaceBinding

if TYPE_CHECKING:
    from painsynth.avatars.anatomy import Anatomy
    from painsynth.avatars.spec import AvatarSpec

_PIGMENTED = ("black", "dark_brown", "brown", "blond", "red")
_LASH_TEXTURE = (256, 64)  # texels along the lid, from root to tip
_LASHES_PER_TILE = 70
# Tiles of the texture along each lid: about 160 upper lashes, and the lower lid's 0.45-long
# lashes half as dense, as on people.
_TILES = {True: 4.0, False: 2.0}
# The cards' v stops short of the texture's edges: filtering wraps round them, and the roots'
# row drew a line along the tips.
_V_ROOT = 0.03


@functools.lru_cache(maxsize=1)
def _reference_rims() -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Reference face-frame positions of the reference vertices, and per eye (person's left
    first) the upper and lower lid-rim vertex ids, ordered from the inner to the outer corner:
    the head skin's open border around each eye, split at the eye corners."""
    from painsynth.avatars.reference import PART, reference_head

    head = reference_head()
    iod = float(np.linalg.norm(head.eye_centres[0] - head.eye_centres[1]))
    face = ((head.vertices - head.eye_centres.mean(0)) / iod).astype(np.float32)
    skin = head.faces[head.face_parts == PART["head"]]
    edges = np.sort(np.concatenate([skin[:, [0, 1]], skin[:, [1, 2]], skin[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    border = unique[counts == 1]
    middle = head.vertices[border].mean(1)
    gap = np.linalg.norm(middle[:, None] - head.eye_centres[None], axis=2)
    rims = []
    for eye in range(2):
        ids = np.unique(border[(gap.argmin(1) == eye) & (gap.min(1) < 1.5 * head.eye_radius)])
        p = head.vertices[ids]
        inner_to_outer = np.abs(p[:, 0])  # |x| grows outwards
        mid_z = np.median(p[:, 2])
        # The corners (extreme x) belong to both lids.
        inner, outer = ids[inner_to_outer.argmin()], ids[inner_to_outer.argmax()]
        for upper in (True, False):
            side = (p[:, 2] >= mid_z) if upper else (p[:, 2] < mid_z)
            chosen = np.unique(np.concatenate([ids[side], [inner, outer]]))
            order = np.argsort(np.abs(head.vertices[chosen, 0]))
            rims.append(chosen[order])
    return face, tuple(rims)


def _rim_vertices(an: Anatomy) -> list[np.ndarray]:
    """Identity vertex ids of the four lid rims: (left upper, left lower, right upper, right lower)."""
    from scipy.spatial import cKDTree

    face, rims = _reference_rims()
    tree = cKDTree(an.face)
    out = []
    for rim in rims:
        distance, ids = tree.query(face[rim])
        out.append(ids[distance < 1e-3])
    return out


def _lash_texture(spec: AvatarSpec, rng: np.random.Generator) -> np.ndarray:
    """RGBA strands across the texture (u along the lid, v from the lid at 0 to the tips at 1):
    each a few texels wide at its root, tapering to one, of its own length and slant, so a lid
    reads as a fringe of fine hairs rather than a comb of bars."""
    width, height = _LASH_TEXTURE
    colour = spec.brow_color if spec.brow_color in _PIGMENTED or spec.brow_color in ("grey", "white") else "black"
    if colour in ("blond", "red"):
        colour = "brown"  # lashes are darker than the scalp hair
    v = 1 - (np.arange(height) + 0.5) / height  # image row 0 is the tips
    u = np.arange(width) + 0.5
    alpha = np.zeros((height, width), np.float32)
    for root, length, slant in zip(rng.uniform(0, width, _LASHES_PER_TILE), rng.uniform(0.55, 1.0, _LASHES_PER_TILE),
                                   rng.normal(0, 6, _LASHES_PER_TILE)):
        centre = root + slant * v[:, None] ** 2
        half_width = 2.6 * (1 - 0.6 * v[:, None] / length)
        offset = np.abs((u[None] - centre + width / 2) % width - width / 2)  # wraps round the tile
        alpha = np.maximum(alpha, np.clip(half_width - offset + 0.5, 0, 1) * (v[:, None] < length))
    rgb = hair_rgb(colour, rng.standard_normal(width * height) * 0.5).reshape(height, width, 3) * 0.55
    image = np.empty((height, width, 4), np.uint8)
    image[..., :3] = to_srgb8(rgb)
    image[..., 3] = np.round(255 * alpha).astype(np.uint8)
    return image


def build_lashes(spec: AvatarSpec, an: Anatomy) -> list[Layer]:
    """Upper and lower lash cards for both eyes, one layer; deterministic for a spec."""
    rng = np.random.default_rng(zlib.crc32(f"{spec.seed}|lashes|{spec.lash_length}".encode()))
    length = float(spec.lash_length)
    forward, up = np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.0, 1.0])
    points, directions, uvs, anchors, triangles = [], [], [], [], []
    for k, rim in enumerate(_rim_vertices(an)):
        if len(rim) < 2:
            continue
        eye, upper = k // 2, k % 2 == 0
        base = an.vertices[rim]
        outward_x = np.sign(an.eye_centres[eye, 0])  # the outer corner's side
        t = np.linspace(0, 1, len(rim))  # inner to outer corner
        # Longest a little past the middle, short at the corners.
        size = length * (0.35 + 0.65 * np.sin(np.pi * np.clip(t * 0.9 + 0.05, 0, 1)) ** 0.6)
        if upper:
            size = size * (0.9 + 0.2 * t)
            first = 0.9 * forward - 0.25 * up + 0.15 * outward_x * t[:, None] * np.array([1.0, 0, 0])
            second = 0.45 * forward + 0.9 * up + 0.25 * outward_x * t[:, None] * np.array([1.0, 0, 0])
        else:
            size = size * 0.45
            first = 0.9 * forward + 0.2 * up + 0.1 * outward_x * t[:, None] * np.array([1.0, 0, 0])
            second = 0.6 * forward - 0.8 * up + 0.15 * outward_x * t[:, None] * np.array([1.0, 0, 0])
        first = first / np.linalg.norm(first, axis=-1, keepdims=True) * np.ones((len(rim), 1))
        second = second / np.linalg.norm(second, axis=-1, keepdims=True) * np.ones((len(rim), 1))
        root = base + 0.0004 * forward + (0.0003 if upper else -0.0003) * up
        bend = root + 0.5 * size[:, None] * first
        tip = bend + 0.5 * size[:, None] * second
        start = sum(len(p) for p in points)
        n = len(rim)
        for row, (where, run) in enumerate(((root, first), (bend, 0.5 * (first + second)), (tip, second))):
            points.append(where)
            directions.append(run / np.linalg.norm(run, axis=1, keepdims=True))
            uvs.append(np.stack([t * _TILES[upper] + 0.37 * k, np.full(n, _V_ROOT + (1 - 2 * _V_ROOT) * row / 2)], 1))
            anchors.append(rim)
        for row in range(2):
            a = start + row * n + np.arange(n - 1)
            triangles += [np.stack([a, a + 1, a + n + 1], 1), np.stack([a, a + n + 1, a + n], 1)]
    if not points:
        return []
    points, directions = np.concatenate(points), np.concatenate(directions)
    binding = SurfaceBinding.fit(an.vertices, an.normals, an.neighbour, np.concatenate(anchors), points, directions)
    return [Layer("lashes", "lash", np.concatenate(triangles).astype(np.int32),
                  np.concatenate(uvs).astype(np.float32), _lash_texture(spec, rng), binding, gloss=0.4)]

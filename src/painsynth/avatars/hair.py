"""Scalp hair as geometry worn over the head, in the identity's hairstyle (:mod:`painsynth.avatars.hair_style`)
and growing where :mod:`painsynth.avatars.hairline` says.

The hair is built from each identity's own neutral vertices:

- *shells*: a few offset copies of the scalp region (head skin above the hairline, ears left out),
  each with a strand alpha texture; inner shells are solid and darker (occlusion), outer ones
  sparse. They ride the scalp through a :class:`SurfaceBinding`. A fringe is the front of the shells
  let down over the forehead, never below the brows. Short, medium and long hair is parted (in the
  middle or to one side): the shells are cut along both sides of the parting line
  (:class:`painsynth.avatars.hairline.Parting`), and the hair rises from its roots there.
- *cards* for what hangs or stands off the skull, moved rigidly with the skull
  (:class:`RigidBinding`): curtains of long hair behind the ears and down the back to the
  shoulders, a ponytail, a bun.

Every point carries the strand's run as its direction, for the anisotropic highlight. Nothing is
placed in front of the eyes, brows or cheeks.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from painsynth.avatars.afro import afro_lift, afro_taper
from painsynth.avatars.canvas import sine_noise
from painsynth.avatars.colour import smoothstep
from painsynth.avatars.cut_mesh import CutMesh
from painsynth.avatars.hair_style import CURLY, FRINGE_FROM, FRINGED, is_curly
from painsynth.avatars.hairline import hair_depth, parting
from painsynth.avatars.reference import head_angles
from painsynth.avatars.strands import COIL_CLUMP, U_TILES, along_the_skin, strand_texture
from painsynth.render.layers import Layer, RigidBinding, SurfaceBinding

if TYPE_CHECKING:
    from painsynth.avatars.anatomy import Anatomy
    from painsynth.avatars.spec import AvatarSpec


# Curly and coily hair stands off the scalp: cut short or medium it is this much thicker (a short
# coily cut is 1-3 cm deep), rather than a cap.
_CURLY_LOFT = 1.8
_LOFTED = ("short", "medium")
_CURLY_GLOSS = 0.12  # strength of a curly shell's highlight (straight hair 0.6): coils scatter it
_CURLY_LUMPS = 0.3  # curly hair's depth varies by up to this share over the head
_CURLY_LUMP_SIZE = 1.2  # interocular units from one lump to the next
_CURLY_EDGE_FADE = 1.0  # curly shells over the first fade out where seen edge on (render.shaders)
_DOWN_THE_HEAD = np.array([0.0, 0.35, -1.0])  # strands run down the meridians (and back over the crown)
_PART_RISE = 0.35  # how far from the parting (interocular units) the hair reaches its full volume


# Per family: number of shells, thickness (m) at volume 0 and at volume 1.
_SHELLS = {
    "buzz": (1, 0.0012, 0.0018),
    "receding": (2, 0.003, 0.006),
    "balding": (2, 0.0025, 0.005),
    "short": (3, 0.004, 0.009),
    "medium": (3, 0.008, 0.016),
    "long_straight": (3, 0.006, 0.012),
    "long_wavy": (3, 0.008, 0.015),
    "ponytail": (2, 0.003, 0.005),
    "bun": (2, 0.003, 0.005),
    "afro": (6, 0.03, 0.05),
}
_FACE_TOP = 0.8  # face-frame height (interocular units above the eyes) no hair comes below in front
# Where a bun sits: degrees up from the back of the head (at the height of the skull's centre) to the
# top. Low at the back only, it was hidden in front view, and a woman with her hair in a bun read as
# a man with short hair there; a top knot shows above the head.
_BUN_RISE = (20.0, 80.0)
# A ponytail's root (share of the head's height above the eyes) and its thickness (m, at volume 0 and 1,
# for a 23 cm head): tied at 0.18 and 1.1-1.7 cm thick, it showed at 45 degrees as a thin tag behind
# the ear, and the hair read as short.
_PONYTAIL_ROOT, _PONYTAIL_THICK = 0.26, (0.016, 0.024)


@dataclass(frozen=True)
class _ShellLook:
    """How a family's shells are drawn where it differs from the rest."""

    tiles: int = U_TILES  # times the strand texture repeats round the head
    lumps: float = _CURLY_LUMPS  # curly hair's depth varies by up to this share over the head
    gloss: float = _CURLY_GLOSS  # a curly shell's highlight
    inner_shade: float = 0.55  # the innermost shell's shade (the outermost's is 1): occlusion
    ramp: float = 18.0  # degrees inside the hairline over which the hair reaches its full depth


# An afro: six shells (with four, 1.2 cm apart, they read as sheets of crumpled paper; seven exceed the
# hair's 4000 triangles); 3 tiles (u runs round the head and closes in at the crown: with 6 the coils'
# texture was squeezed across and drew streaks rising from the crown, like flames); lumps of 0.12 (0.3 of
# its 5 cm drew spikes in its outline); nearly matte (its highlight read as foil); inner shells less dark
# (the outer shells' gaps showed them as dark streaks).
_LOOKS = {"afro": _ShellLook(tiles=3, lumps=0.12, gloss=0.03, inner_shade=0.75, ramp=30.0)}


def build_hair(spec: AvatarSpec, anatomy: Anatomy) -> list[Layer]:
    """The hair layers of one identity (none for a bald head); deterministic for a spec."""
    family = spec.hair_family
    if family == "bald" or family not in _SHELLS:
        return []
    rng = np.random.default_rng(zlib.crc32(
        f"{spec.seed}|{family}|{spec.hairline}|{sorted(spec.hair.items())}|{spec.hair_color}".encode()))
    p = {"length": 0.5, "volume": 0.5, "curl": 0.0, "part": 0.0, "fringe": 0.0, **spec.hair}
    frame = _HeadFrame(anatomy)
    layers = _shells(spec, anatomy, frame, p, rng)
    if family in ("long_straight", "long_wavy"):
        layers += _curtains(spec, anatomy, frame, p, rng, wavy=family == "long_wavy")
    elif family == "ponytail":
        layers.append(_ponytail(spec, anatomy, frame, p, rng))
    elif family == "bun":
        layers.append(_bun(spec, anatomy, frame, p, rng))
    return layers


def _shells(spec: AvatarSpec, an: Anatomy, frame: _HeadFrame, p: dict, rng: np.random.Generator) -> list[Layer]:
    family = spec.hair_family
    count, thin, thick = _SHELLS[family]
    curly = is_curly(spec)
    thickness = (thin + (thick - thin) * p["volume"]) * (_CURLY_LOFT if curly and family in _LOFTED else 1.0)
    depth_at = _depth_function(an, family, spec.hairline, p)
    depth = depth_at(an.azimuth, an.elevation)
    # Nothing in front of the brows, eyes or cheeks, whatever the hairline or fringe.
    face_front = (np.abs(an.face[:, 0]) < 1.1) & (an.face[:, 1] < 0.5) & (an.face[:, 2] < _FACE_TOP)
    grows = an.head_skin & ~an.ears & (depth > -7) & ~face_front
    mesh = CutMesh.of(an, grows)
    part = parting(family, p)
    if part is not None:
        mesh = part.cut(mesh)
    mesh = mesh.compact()
    azimuth, elevation = head_angles(mesh.face)
    depth = depth_at(azimuth, elevation)
    # Texture coordinates: u around the head (meridians are strands), v from the hair's edge.
    look = _LOOKS.get(family, _ShellLook())
    u = azimuth / 360 * look.tiles
    v = np.clip(0.12 + depth / 110, 0, 1)
    tri, ids, u = _across_the_seam(mesh.triangles, u, look.tiles)
    uvs = np.stack([u, v[ids]], 1).astype(np.float32)

    normals, anchors = mesh.normal[ids], mesh.anchor[ids]
    if curly:  # coils run every way: their highlight breaks into patches instead of bands round the head
        directions = along_the_skin(normals, rng.standard_normal((len(ids), 3)))
    else:
        directions = along_the_skin(normals, _DOWN_THE_HEAD)
    taper = smoothstep(-2.0, look.ramp, depth[ids])
    if family == "afro":
        taper *= afro_taper(azimuth[ids], elevation[ids])
    if part is not None:  # the hair rises from its roots at the parting
        taper *= 0.15 + 0.85 * smoothstep(0.0, _PART_RISE, part.distance(mesh.face[ids]))
    if curly:  # curls stand out in clumps: a lumpy outline, not a smooth cap
        taper *= 1 + look.lumps * np.clip(sine_noise(rng, _CURLY_LUMP_SIZE)(mesh.face[ids]), -1.5, 1.5) / 1.5
    if family == "afro":  # lifted to a round outline, not by one depth along the normals
        lift, outwards = afro_lift(frame.low, frame.high, mesh.position[ids], normals, thickness)
        lift = lift * taper
    else:
        lift, outwards = thickness * taper, normals
    layers = []
    for k in range(count):
        share = (k + 1) / count
        points = mesh.position[ids] + 0.0007 * (k + 1) * normals + (share * lift)[:, None] * outwards
        binding = SurfaceBinding.fit(an.vertices, an.normals, an.neighbour, anchors, points, directions)
        coverage = 1.0 if k == 0 else (0.85 - 0.35 * (k - 1) / max(count - 2, 1))
        shade = look.inner_shade + (1 - look.inner_shade) * share if count > 1 else 0.9
        # Curly and coily hair is matte and fuzzy at every length, not a smooth glossy cap.
        texture = strand_texture(spec, rng, coverage, shade, curly=curly, blob=COIL_CLUMP)
        layers.append(Layer(f"hair_shell{k}", "hair", tri.astype(np.int32), uvs, texture, binding,
                            gloss=look.gloss if curly else 0.6, edge_fade=_CURLY_EDGE_FADE if curly and k else 0.0))
    return layers


def _across_the_seam(triangles: np.ndarray, u: np.ndarray, tiles: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triangles across the nape's seam (azimuth ±180) get copies of their negative-azimuth corners
    at u + ``tiles`` (u's span round the head): (triangles, the point each corner copies, u of every corner)."""
    tri = triangles.copy()
    corner_u = u[tri]
    seam = corner_u.max(1) - corner_u.min(1) > tiles / 2
    extra = np.unique(tri[seam][corner_u[seam] < 0])
    remap = np.arange(len(u))
    remap[extra] = len(u) + np.arange(len(extra))
    tri[seam] = np.where(corner_u[seam] < 0, remap[tri[seam]], tri[seam])
    return tri, np.concatenate([np.arange(len(u)), extra]), np.concatenate([u, u[extra] + tiles])


def _depth_function(an: Anatomy, family: str, hairline: str, p: dict):
    """Degrees inside the scalp hair as a function of (azimuth, elevation), a fringe let down."""
    if family not in FRINGED or p["fringe"] <= FRINGE_FROM or p["curl"] > CURLY:  # curls are not let down
        return lambda azimuth, elevation: hair_depth(azimuth, elevation, family, hairline)
    lowest = _fringe_floor(an)

    def depth(azimuth, elevation):  # the front let down over the forehead, stopping well above the brows
        edge = elevation - hair_depth(azimuth, elevation, family, hairline)
        front = np.clip(1 - np.abs(azimuth) / 38, 0, 1) ** 0.7
        # Swept towards the side away from the parting: a straight-cut fringe on every head
        # framed every face alike.
        swept = np.clip(1 - 0.9 * p["part"] * np.clip(azimuth / 38, -1, 1), 0.15, 1.9)
        drop = (8 + 16 * (p["fringe"] - FRINGE_FROM) / (1 - FRINGE_FROM)) * front * swept
        return elevation - np.maximum(edge - drop, np.minimum(edge, lowest))

    return depth


def _fringe_floor(an: Anatomy) -> float:
    """Lowest elevation (degrees) a fringe may reach: brows sit about 0.45 interocular above the
    eyes, the fringe stops clear of them."""
    front = an.head_skin & (np.abs(an.azimuth) < 25) & (an.face[:, 2] > _FACE_TOP + 0.12)
    return float(an.elevation[front].min()) if front.any() else 20.0


class _HeadFrame:
    """A vertical axis through the identity's skull and a profile of how far its head and body
    reach from it, per azimuth and height: long hair hangs just outside that profile."""

    def __init__(self, an: Anatomy):
        skin = an.head_skin | (an.part == 0)
        eye_z = float(an.eye_centres[:, 2].mean())
        head = an.head_skin & (an.vertices[:, 2] > eye_z)
        self.low, self.high = an.vertices[head].min(0), an.vertices[head].max(0)  # the skull above the eyes
        self.axis = (self.low[:2] + self.high[:2]) / 2
        self.top = float(self.high[2])
        chin = an.head_skin & (np.abs(an.azimuth) < 20)
        self.chin = float(an.vertices[chin, 2].min())
        self.eye_z = eye_z
        self.points = an.vertices[skin]
        rel = self.points[:, :2] - self.axis
        self.radius = np.hypot(rel[:, 0], rel[:, 1])
        self.angle = np.arctan2(rel[:, 0], -rel[:, 1])  # 0 at the nose, like azimuth

    def reach(self, angle: float, z: float, band: float = 0.012) -> float:
        """Largest distance from the axis of the body near ``angle`` (rad) and height ``z``."""
        gap = np.abs(np.angle(np.exp(1j * (self.angle - angle))))
        near = (gap < 0.16) & (np.abs(self.points[:, 2] - z) < band)
        return float(self.radius[near].max()) if near.any() else 0.0

    def at(self, angle: np.ndarray, radius: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.stack([self.axis[0] + radius * np.sin(angle), self.axis[1] - radius * np.cos(angle), z], -1)


def _grid_triangles(rows: int, cols: int) -> np.ndarray:
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    a = (r * cols + c).ravel()
    return np.concatenate([np.stack([a, a + 1, a + cols + 1], 1), np.stack([a, a + cols + 1, a + cols], 1)]).astype(np.int32)


def _curtains(spec: AvatarSpec, an: Anatomy, frame: _HeadFrame, p: dict, rng: np.random.Generator,
              wavy: bool) -> list[Layer]:
    """Long hair: two curtains (inner solid and darker, outer stranded) from the widest part of
    the skull down behind the ears and the back, to the shoulders."""
    height = frame.top - frame.chin
    rows, cols = 10, 21
    z_top = frame.eye_z + 0.28 * height
    z_end = frame.chin + 0.05 * height - (0.1 + 0.45 * p["length"]) * height
    spread = np.radians(108 + 4 * p["volume"])  # front edge of the curtain, from the nose
    angles = np.pi + np.linspace(-1, 1, cols) * (np.pi - spread)
    # The sides end higher (a U hem), so they fall behind the shoulders, not over them.
    back = np.cos(0.5 * np.clip(np.abs(angles - np.pi) / (np.pi - spread), 0, 1) * np.pi)
    z_side = frame.chin + 0.05 * height - 0.1 * p["length"] * height
    hem = z_side + (z_end - z_side) * back ** 0.6
    zs = z_top + np.linspace(0, 1, rows)[:, None] * (hem - z_top)[None]  # [rows, cols]
    widest = max(frame.reach(a, z_top) for a in angles[::4]) + 0.03
    _, _, thick = _SHELLS[spec.hair_family]
    lift = 0.004 + 0.006 * p["volume"]
    radius = np.zeros((rows, cols))
    for j, angle in enumerate(angles):
        r = 0.0
        for i, z in enumerate(zs[:, j]):
            body = frame.reach(angle, z) + (0.7 * thick if i == 0 else lift)
            r = max(body, r - 0.004) if i else body  # falls nearly straight below the skull's widest
            radius[i, j] = min(r, widest)
    radius[0] = np.maximum(radius[0], radius[1] - 0.002)
    wave = np.zeros_like(radius)
    if wavy:
        phase = rng.uniform(0, 2 * np.pi)
        along = (zs[0] - zs) / 0.045
        wave = (0.003 + 0.005 * p["curl"]) * np.sin(2 * np.pi * along + phase + 0.8 * angles[None]) * (along / along.max(0))
    z = zs
    layers = []
    for k, (inset, coverage, shade) in enumerate(((-0.003, 1.0, 0.6), (0.0, 0.8, 1.0))):
        points = frame.at(angles[None], radius + wave + inset, z).reshape(-1, 3)
        grid = points.reshape(rows, cols, 3)
        run = np.gradient(grid, axis=0).reshape(-1, 3)
        run /= np.maximum(np.linalg.norm(run, axis=1, keepdims=True), 1e-9)
        u = np.tile(np.linspace(0, 4, cols), rows)
        v = np.repeat(np.linspace(1, 0, rows), cols)
        texture = strand_texture(spec, rng, coverage, shade, ragged_end=k == 1,
                                  curly=wavy and p["curl"] > CURLY)
        layers.append(Layer(f"hair_long{k}", "hair", _grid_triangles(rows, cols), np.stack([u, v], 1).astype(np.float32),
                            texture, RigidBinding.fit(an.vertices, an.skull, points, run), gloss=0.6))
    return layers


def _tube(frame: _HeadFrame, centre: np.ndarray, radii: np.ndarray, sides: int) -> tuple[np.ndarray, np.ndarray]:
    """Points [rows * (sides + 1), 3] of a tube round a polyline, and the run along it."""
    run = np.gradient(centre, axis=0)
    run /= np.linalg.norm(run, axis=1, keepdims=True)
    side = np.cross(run, [0.0, 0.0, 1.0] if abs(run[0, 2]) < 0.9 else [1.0, 0.0, 0.0])
    side /= np.linalg.norm(side, axis=1, keepdims=True)
    other = np.cross(run, side)
    t = np.linspace(0, 2 * np.pi, sides + 1)
    ring = np.cos(t)[None, :, None] * side[:, None] + np.sin(t)[None, :, None] * other[:, None]
    points = centre[:, None] + radii[:, None, None] * ring
    return points.reshape(-1, 3), np.repeat(run, sides + 1, axis=0)


def _ponytail(spec: AvatarSpec, an: Anatomy, frame: _HeadFrame, p: dict, rng: np.random.Generator) -> Layer:
    """A tail of hair tied at the back of the head, out over the nape and down towards the shoulders."""
    height = frame.top - frame.chin
    z_root = frame.eye_z + _PONYTAIL_ROOT * height
    back = frame.reach(np.pi, z_root) + 0.004
    length = (0.35 + 0.5 * p["length"]) * height
    rows, sides = 9, 7
    s = np.linspace(0, 1, rows)
    drop = length * s
    out = back + 0.035 * np.sin(np.pi * np.minimum(s * 1.6, 1)) + 0.015 * s
    centre = frame.at(np.full(rows, np.pi), out, z_root - drop)
    thick = (_PONYTAIL_THICK[0] + (_PONYTAIL_THICK[1] - _PONYTAIL_THICK[0]) * p["volume"]) * height / 0.23
    radii = thick * (1 - 0.7 * s) * np.minimum(1, 0.55 + 3 * s)
    points, run = _tube(frame, centre, radii, sides)
    u = np.tile(np.linspace(0, 2, sides + 1), rows)
    v = np.repeat(np.linspace(1, 0, rows), sides + 1)
    texture = strand_texture(spec, rng, 0.95, 0.9, ragged_end=True, curly=p["curl"] > CURLY)
    return Layer("hair_ponytail", "hair", _grid_triangles(rows, sides + 1), np.stack([u, v], 1).astype(np.float32),
                 texture, RigidBinding.fit(an.vertices, an.skull, points, run), gloss=0.6)


def _bun(spec: AvatarSpec, an: Anatomy, frame: _HeadFrame, p: dict, rng: np.random.Generator) -> Layer:
    """A bun on the skull, from low at the back of the head to a top knot (``length``), squashed against it."""
    height = frame.top - frame.chin
    size = (0.13 + 0.05 * p["volume"]) * height
    rise = np.radians(_BUN_RISE[0] + (_BUN_RISE[1] - _BUN_RISE[0]) * p["length"])
    up = np.array([0.0, np.cos(rise), np.sin(rise)])  # from the head's centre: back (+y) and up (z)
    middle = np.array([*frame.axis, frame.eye_z + 0.15 * height])
    skull = an.vertices[an.head_skin]
    root = skull[np.argmax((skull - middle) @ up)]
    centre = root + 0.35 * size * up
    side = np.array([1.0, 0.0, 0.0])
    across = np.cross(up, side)
    rows, cols = 7, 11
    lat = np.linspace(-np.pi / 2, np.pi / 2, rows)[:, None]
    lon = np.linspace(0, 2 * np.pi, cols)[None]
    ring = np.cos(lat)[..., None] * (np.cos(lon)[..., None] * side + np.sin(lon)[..., None] * across)
    points = (centre + size * (ring + 0.75 * np.sin(lat)[..., None] * up)).reshape(-1, 3)
    # Strands wind round the bun: along the rings' tangent, a little out from the head.
    run = -np.sin(lon)[..., None] * side + np.cos(lon)[..., None] * across + 0.3 * up
    run = np.broadcast_to(run / np.linalg.norm(run, axis=-1, keepdims=True), (rows, cols, 3)).reshape(-1, 3)
    u = np.tile(np.linspace(0, 3, cols), rows)
    v = np.repeat(np.linspace(0.2, 1, rows), cols)
    texture = strand_texture(spec, rng, 1.0, 0.9, curly=p["curl"] > CURLY)
    return Layer("hair_bun", "hair", _grid_triangles(rows, cols), np.stack([u, v], 1).astype(np.float32), texture,
                 RigidBinding.fit(an.vertices, an.skull, points, run), gloss=0.6)

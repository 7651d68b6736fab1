"""Glasses: frames of several shapes with clear lenses, sitting on the nose and ears.

Everything is fitted per identity in its own eye frame (origin between its eyeball centres, x to
the person's left, y backwards, z up, metres): lens size and spacing from its interocular
distance, the lens plane in front of its corneas, brows and cheeks, the bridge resting on its own
nose bridge, the temples clearing the sides of its head and resting on its ear roots, then bending
down behind the ears. Vertices are *picked* by their reference face-frame coordinates (the same
topological places on every head) and *measured* at the identity's own positions, so the fit holds
for children, large adults and every face shape. The frame is thin tubes (material "frame"), the
lenses clear shells (material "glass"); both move rigidly with the skull.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from painsynth.avatars.colour import linear, to_srgb8
from painsynth.avatars.reference import PART
from painsynth.avatars.tables import GLASSES
from painsynth.avatars.tubes import merge_meshes, tube_mesh
from painsynth.render.layers import Layer, RigidBinding

_FRAME_COLOURS = ("111111", "3b2418", "6b4a2b", "8c8c8c", "c9b27a", "2a3550", "5a1e24")
# Linear grey of thin metal parts: a dark gunmetal. A bright ring round each eye (and a bright
# temple across the side of the face) is the strongest edge on a dark face and at 45° it costs
# MediaPipe the face: with every avatar in glasses (generate --glasses-share 1, 40 clips at left and
# right 45°, seeds 5 / 6), a grey of 0.3 let it find the face in 97.7 / 94.8 % of the Monk 9-10
# clips' frames, 0.08 in 99.6 / 96.5 %. The highlight (gloss) still reads as metal.
_METAL = np.array([0.08, 0.08, 0.082])
# Clear lenses reflect light specularly (the shader's Fresnel term), not diffusely: a near-black
# albedo keeps the glint and rim sheen without laying a milky film over the eyes.
_LENS_SRGB = 40


@dataclass(frozen=True)
class _Style:
    width: float  # lens width / interocular distance
    aspect: float  # lens height / width
    power: float  # superellipse exponent: 2 ellipse .. 6 nearly a rectangle
    rim: tuple[float, float]  # rim tube radii (in the lens plane, in depth), mm, for an adult
    metal: bool  # thin metal rims and temples
    lift: float = 0.0  # cat eye: how far the upper outer corner sweeps up
    brow: float = 0.0  # browline: extra in-plane thickness along the top of the rim, mm


_STYLES = {
    "rectangular": _Style(0.80, 0.52, 5.0, (1.6, 1.8), False),
    "round": _Style(0.70, 0.94, 2.0, (0.8, 0.8), True),
    "oval": _Style(0.76, 0.66, 2.3, (1.0, 1.0), True),
    "cat_eye": _Style(0.82, 0.58, 3.2, (1.6, 1.9), False, lift=0.35),
    "browline": _Style(0.80, 0.60, 3.5, (0.6, 0.6), True, brow=2.0),
}
_RIM_POINTS = 48


def sample_glasses(rng: np.random.Generator, age_years: float, share: float) -> tuple[str, str]:
    """(frame style or "none", frame colour hex): glasses on about ``share`` of identities."""
    wears = rng.random() < share
    style = GLASSES[1 + int(rng.integers(len(GLASSES) - 1))]
    colour = _FRAME_COLOURS[int(rng.integers(len(_FRAME_COLOURS)))]
    return (style if wears else "none"), colour


def glasses_layers(spec, anatomy) -> list[Layer]:
    """Frame and lens layers of ``spec.glasses`` fitted to this identity (none for "none")."""
    if spec.glasses == "none":
        return []
    fit = fit_glasses(spec.glasses, anatomy)
    world = lambda p: fit.origin + np.asarray(p) @ fit.axes  # noqa: E731 - local (eye frame) -> world
    frame_points, frame_tris, frame_dirs, frame_metal = fit.frame
    colour = linear(spec.glasses_color)
    texture = np.zeros((2, 4, 4), np.uint8)
    texture[:, :2, :3] = to_srgb8(colour)
    texture[:, 2:, :3] = to_srgb8(_METAL)
    texture[..., 3] = 255
    uvs = np.stack([np.where(frame_metal, 0.75, 0.25), np.full(len(frame_metal), 0.5)], 1).astype(np.float32)
    style = _STYLES[spec.glasses]
    frame = Layer("glasses_frame", "frame", frame_tris.astype(np.int32), uvs, texture,
                  RigidBinding.fit(anatomy.vertices, anatomy.skull, world(frame_points), frame_dirs @ fit.axes),
                  gloss=0.85 if style.metal else 0.55)
    lens_points, lens_tris = fit.lenses
    lens_texture = np.full((2, 2, 4), _LENS_SRGB, np.uint8)
    lens_texture[..., 3] = 255
    lens_dirs = np.tile([1.0, 0.0, 0.0], (len(lens_points), 1))
    lens = Layer("glasses_lens", "glass", lens_tris.astype(np.int32), np.full((len(lens_points), 2), 0.5, np.float32),
                 lens_texture, RigidBinding.fit(anatomy.vertices, anatomy.skull, world(lens_points), lens_dirs @ fit.axes),
                 gloss=0.9)
    return [frame, lens]


@dataclass
class GlassesFit:
    """Glasses fitted to one identity, in its eye frame (``world = origin + local @ axes``)."""

    origin: np.ndarray  # [3]
    axes: np.ndarray  # [3, 3] rows: x (to the person's left), y (backwards), z (up)
    frame: tuple  # points [N, 3], triangles, directions [N, 3], metal [N] bool
    lenses: tuple  # points [M, 3], triangles
    bridge: np.ndarray  # [K, 3] the bridge's centre line
    temples: tuple[np.ndarray, np.ndarray]  # centre lines, person's left then right
    nose: np.ndarray  # [3] the nose-bridge skin point the bridge rests on


def fit_glasses(style_name: str, anatomy) -> GlassesFit:
    style = _STYLES[style_name]
    f = anatomy.face
    eyes = anatomy.eye_centres.astype(np.float64)
    origin = eyes.mean(0)
    x = eyes[0] - eyes[1]
    x /= np.linalg.norm(x)
    z = np.array([0.0, 0.0, 1.0]) - x[2] * x
    z /= np.linalg.norm(z)
    axes = np.stack([x, np.cross(z, x), z])
    local = (anatomy.vertices.astype(np.float64) - origin) @ axes.T
    d = float(anatomy.interocular)
    scale = float(np.clip(d / 0.063, 0.75, 1.15))  # tube thickness follows the head's size, a little
    head = anatomy.part == PART["head"]

    # Lens outlines (person's left lens; the right one mirrors it).
    w = style.width * d
    h = style.aspect * w
    centre = np.array([0.5 * d + 0.03 * d, -0.03 * d + (0.02 * d if style.lift else 0.0)])
    outline = _outline(style, w, h)  # [M, 2] (x, z) around the lens centre, x outward
    rim_plane, rim_depth = style.rim[0] * 1e-3 * scale, style.rim[1] * 1e-3 * scale

    # Lens plane: clear of the corneas (and lashes), of brows and cheeks behind the rims, and no
    # further forward than the nose bridge lets the frame rest.
    cornea = local[np.isin(anatomy.part, [PART["eye_front.L"], PART["eye_front.R"]]), 1].min()
    behind = np.zeros(len(local), bool)
    for sign in (1, -1):
        rel_x = (sign * local[:, 0] - centre[0]) / (w / 2 + rim_plane + 0.003)
        rel_z = (local[:, 2] - centre[1]) / (h / 2 + rim_plane + 0.003 + style.brow * 1e-3)
        behind |= (np.abs(rel_x) ** style.power + np.abs(rel_z) ** style.power < 1.3) & head
    skin_front = local[behind, 1].min() - rim_depth - 0.002
    bridge_region = head & (np.abs(f[:, 0]) < 0.1) & (f[:, 1] < 0.3) & (f[:, 2] > -0.15) & (f[:, 2] < 0.35)
    nose_ids = np.flatnonzero(bridge_region)
    seat = nose_ids[np.argmin(np.abs(f[nose_ids, 2] - 0.1))]
    z_bridge = local[seat, 2]
    near = nose_ids[np.abs(local[nose_ids, 2] - z_bridge) < 0.06 * d]
    nose = local[near[np.argmin(local[near, 1])]]
    bridge_radius = (rim_plane + rim_depth) / 2
    y_lens = min(cornea - 0.011 * max(scale, 0.8), skin_front, nose[1] - 0.002)

    rims, lenses, bridge_ends, hinges = [], [], [], []
    for sign in (1, -1):
        xz = np.stack([sign * (centre[0] + outline[:, 0]), centre[1] + outline[:, 1]], 1)
        # a gentle wrap: the outer ends sit a little further back
        y = y_lens + 0.08 * np.clip(outline[:, 0] / (w / 2), 0, None) ** 2 * w * 0.25
        rim = np.stack([xz[:, 0], y, xz[:, 1]], 1)
        rims.append(rim)
        lenses.append(_lens(rim, np.array([sign * centre[0], y_lens - 0.0015 * scale, centre[1]])))
        inner = np.argmin(np.abs(sign * rim[:, 0]) + 2.0 * np.abs(rim[:, 2] - z_bridge - 0.03 * d))
        bridge_ends.append(rim[inner])
        hinges.append(rim[np.argmax(sign * rim[:, 0] + 0.5 * rim[:, 2])])

    # Bridge: from the inner rims down onto the nose, resting on its skin.
    rest = nose + np.array([0.0, -(bridge_radius + 0.0005), 0.0])
    t = np.linspace(0, 1, 13)[:, None]
    control = 2 * rest - 0.5 * (bridge_ends[0] + bridge_ends[1])  # the curve passes through `rest`
    bridge = (1 - t) ** 2 * bridge_ends[0] + 2 * t * (1 - t) * control + t ** 2 * bridge_ends[1]

    temples = [_temple(local, f, head, hinge, sign, d, rim_plane) for hinge, sign in zip(hinges, (1, -1))]

    # Meshes
    plane = np.full(_RIM_POINTS, rim_plane)
    top = np.clip(outline[:, 1] / (h / 2), 0, 1) ** 2
    plane_rim = plane + style.brow * 1e-3 * scale * top
    # browline: a heavy coloured brow over a thin metal lower rim
    metal_rim = top < 0.15 if style.brow else np.full(_RIM_POINTS, style.metal)
    parts = []
    for rim in rims:
        parts.append(tube_mesh(rim, np.full(len(rim), rim_depth) + 0.6 * style.brow * 1e-3 * scale * top,
                           plane_rim, closed=True, depth_axis=np.array([0.0, 1.0, 0.0]), metal=metal_rim))
    parts.append(tube_mesh(bridge, np.full(len(bridge), bridge_radius), np.full(len(bridge), bridge_radius),
                       closed=False, depth_axis=np.array([0.0, 1.0, 0.0]), metal=np.full(len(bridge), style.metal)))
    temple_r = (0.9e-3 if style.metal else 1.4e-3) * scale
    for temple in temples:
        parts.append(tube_mesh(temple, np.full(len(temple), temple_r), np.full(len(temple), temple_r * (1.0 if style.metal else 1.6)),
                           closed=False, depth_axis=np.array([1.0, 0.0, 0.0]), metal=np.full(len(temple), style.metal)))
    frame = merge_meshes(parts)
    lens_points, lens_tris = merge_meshes([(p, tr, np.zeros_like(p), np.zeros(len(p), bool)) for p, tr in lenses])[:2]
    return GlassesFit(origin, axes, frame, (lens_points, lens_tris), bridge, tuple(temples), nose)


def _outline(style: _Style, w: float, h: float) -> np.ndarray:
    """[M, 2] lens outline (x outward from the nose, z up), a superellipse, counter-clockwise."""
    angle = np.linspace(0, 2 * np.pi, _RIM_POINTS, endpoint=False)
    c, s = np.cos(angle), np.sin(angle)
    e = 2.0 / style.power
    x = np.sign(c) * np.abs(c) ** e
    z = np.sign(s) * np.abs(s) ** e
    if style.lift:  # sweep the upper outer corner up and out, narrow the lower inner one
        outer = np.clip(x, 0, None)
        z = z + style.lift * outer ** 2 * np.clip(z + 0.3, 0, None)
        x = x + 0.12 * outer * np.clip(z, 0, None)
        z = z - 0.1 * np.clip(-x, 0, None) * np.clip(-z, 0, None)
    return np.stack([x * w / 2, z * h / 2], 1)


def _lens(rim: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A lens filling the rim, bulging slightly forward: centre, a middle ring and the rim."""
    middle = centre + 0.6 * (rim - centre)
    middle[:, 1] = 0.6 * rim[:, 1] + 0.4 * centre[1] - 0.0004
    points = np.concatenate([centre[None], middle, rim])
    m = len(rim)
    i = np.arange(m)
    j = (i + 1) % m
    fan = np.stack([np.zeros(m, int), 1 + i, 1 + j], 1)
    ring = np.concatenate([np.stack([1 + i, 1 + m + i, 1 + m + j], 1), np.stack([1 + i, 1 + m + j, 1 + j], 1)])
    return points, np.concatenate([fan, ring])


def _temple(local, f, head, hinge, sign, d, radius) -> np.ndarray:
    """Centre line of one temple: out from the hinge, back along the side of the head clear of its
    skin, over the ear root, then down behind the ear."""
    side = sign * local[:, 0]
    ear = head & (sign * f[:, 0] > 1.27) & (f[:, 1] > 0.8) & (f[:, 1] < 1.9) & (f[:, 2] > -1.0) & (f[:, 2] < 0.4)
    ear_pts = local[ear]
    top_z = np.percentile(ear_pts[:, 2], 97)
    upper = ear_pts[ear_pts[:, 2] > top_z - 0.12 * d]
    root = np.array([0.0, np.median(upper[:, 1]), top_z - 0.04 * d])
    start = hinge + np.array([sign * 0.004, 0.003, 0.0])
    n = 20
    t = np.linspace(0, 1, n)[:, None]
    path = start + t * (root - start)
    path[:, 0] = sign * (np.abs(start[0]) + t[:, 0] * 0.0)
    out = np.maximum.accumulate(np.maximum(np.abs(start[0]), _clearance(local, head, side, path, d, radius)))
    path[:, 0] = sign * out
    # Behind the ear: bend down and slightly in, following the skull, still clear of the skin.
    bend = np.linspace(0, 1, 9)[1:, None]
    tail = path[-1] + bend * np.array([0.0, 0.22 * d, 0.0]) + bend ** 2 * np.array([-sign * 0.06 * d, 0.0, -0.5 * d])
    tail[:, 0] = sign * np.maximum(np.abs(tail[:, 0]), _clearance(local, head, side, tail, d, radius))
    return np.concatenate([path, tail])


def _clearance(local, head, side, path, d, radius) -> np.ndarray:
    """For each point of ``path``, the distance from the midplane that keeps a tube of ``radius``
    outside the widest head skin nearby."""
    clear = np.zeros(len(path))
    for k, p in enumerate(path):
        nearby = head & (np.abs(local[:, 1] - p[1]) < 0.06 * d) & (np.abs(local[:, 2] - p[2]) < 0.06 * d) & (side > 0)
        if nearby.any():
            clear[k] = side[nearby].max() + radius + 0.001
    return clear

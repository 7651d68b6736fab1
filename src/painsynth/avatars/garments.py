"""Upper-body garments: a fabric shell over shoulders and chest.

The shell is the identity's own body skin below the neck pushed out along its normals by a few
millimetres, cut along a neckline (and, for a tank top, arm holes and straps). Where the garment
covers is a field on the *reference* face-frame coordinates of each vertex (interocular units, see
:mod:`painsynth.avatars.anatomy`), so a neckline sits at the same anatomical place on every body;
the cut follows the field's zero line through the triangles, so the edge is smooth rather than
the mesh's staircase. Each garment is one to three layers: the body, a trim band along its edges
(ribbed crew neck, sweater collar, tank-top binding) and, for the collared shirt, a collar standing
around the neck with its points lying on the chest. Every point rides the local frame of the skin
vertex under it (:class:`SurfaceBinding`), so the garment follows the neck and shoulders.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from painsynth.avatars.colour import hex_of, linear, luminance, to_srgb8
from painsynth.avatars.cut_mesh import CutMesh
from painsynth.avatars.reference import PART
from painsynth.render.layers import Layer, SurfaceBinding

_PATTERN_ODDS = {"plain": 0.55, "stripes": 0.2, "check": 0.12, "dots": 0.13}

# Everyday fabric colours (sRGB): neutrals, denim blues, earth tones and a few brights.
_FABRIC_COLOURS = (
    "1b1b1f", "2b2f3a", "1f2a44", "27365e", "3c5a8a", "6d8fb8", "a9c0d8", "f2f2ee", "e6e0d2",
    "c8c3b8", "8d8f91", "5a5c60", "4b5320", "6b7345", "2f4f3e", "7a1f2b", "a8323a", "c96b5a",
    "e3a1a8", "b58db6", "5b3f6e", "d9a441", "8a5a35", "c2a27c", "2f7f7a",
)
_SHIRT_COLOURS = ("f4f4f0", "dfe8f3", "a9c4e0", "f2e6e8", "3b4a6b", "e9e4d4", "c8d6c0", "4a4a4f")
_GOWN_COLOURS = ("a9c9de", "b3d4c6", "9fc7c9", "c1d3e6", "a8cdb8")

# Shell offsets along the skin normal, metres: body, trim band, collar (its rim between body and collar).
_OFFSET = {"hospital_gown": (0.006, 0.0065, 0.0), "t_shirt": (0.0035, 0.0045, 0.0),
           "collared_shirt": (0.0045, 0.005, 0.0075), "sweater": (0.008, 0.0105, 0.0),
           "tank_top": (0.003, 0.0038, 0.0)}
# How far the collar's rim reaches past the collar's edge (interocular units, ~2.5 mm), and how dark it
# is against the shirt: the shade in the fold between collar and shirt that outlines a real
# collar. Without it the collar, the shirt's own colour, could not be told from the shirt at 224 px.
_COLLAR_RIM = 0.04
_COLLAR_RIM_SHADE = 0.4
# Width of the trim band along the edges, interocular units (0: none). A tank top's straps (0.4 wide) are
# all binding: the band reaches 0.06 past its width into the body, so at 0.14 or more it meets itself
# down the strap's middle (at 0.12 a sliver of the body's fabric showed there).
_TRIM = {"hospital_gown": 0.14, "t_shirt": 0.2, "collared_shirt": 0.0, "sweater": 0.4, "tank_top": 0.15}

_NECK_AXIS_Y = 1.7  # the neck's vertical axis, face frame (it passes x = 0)
_NECK_TOP = -2.5  # face-frame height above which nothing is covered (the chin ends near -2.3)
_UNSEEN_BELOW = -0.9  # cosine around the neck (1 at the throat) behind which no view sees a cut (a 45° view of a head turned 20° sees to 155°)
# Skin at least this far inside the garment body's edge (interocular units, ~2 cm, beyond the trim
# band) is never drawn; nearer the cut, the skin may show between the shell and the body.
HIDDEN_MARGIN = 0.3
_TEXTURE_SIZE = (256, 512)  # rows (height, z) x columns (around the body)
_Z_RANGE = (-6.8, -1.0)  # face-frame heights the texture spans


def sample_garment(rng: np.random.Generator, gender: str, age_years: float,
                   allowed: tuple[str, ...]) -> tuple[str, str, str]:
    """(garment, fabric colour hex, pattern) for one identity, among the ``allowed`` garments."""
    garment = allowed[int(rng.integers(len(allowed)))]
    palette = {"hospital_gown": _GOWN_COLOURS, "collared_shirt": _SHIRT_COLOURS}.get(garment, _FABRIC_COLOURS)
    base = linear(palette[int(rng.integers(len(palette)))])
    colour = np.clip(base * rng.uniform(0.88, 1.12) * rng.uniform(0.95, 1.05, 3), 0.0, 1.0)
    odds = dict(_PATTERN_ODDS)
    if garment == "hospital_gown":  # mostly a small print, some plain
        odds = {"plain": 0.3, "stripes": 0.05, "check": 0.05, "dots": 0.6}
    patterns, p = tuple(odds), np.asarray(tuple(odds.values()))
    pattern = patterns[int(rng.choice(len(patterns), p=p / p.sum()))]
    return garment, hex_of(colour), pattern


def garment_layers(spec, anatomy) -> list[Layer]:
    """The layers of ``spec.garment`` over this identity's shoulders and chest."""
    garment = spec.garment
    rng, wrap = _draws(spec)
    body_off, trim_off, collar_off = _OFFSET[garment]

    def cover(face: np.ndarray) -> np.ndarray:
        return _cover_field(garment, face, wrap)

    skin = np.isin(anatomy.part, [PART["body"], PART["head"]])
    mesh = CutMesh.of(anatomy, skin)
    colour = linear(spec.garment_color)
    layers = []
    trim = _TRIM[garment]
    body = mesh.clip(lambda face: cover(face) + trim, _seen)
    layers.append(_layer("garment", body, anatomy, body_off,
                         _fabric_texture(colour, spec.garment_pattern, garment, rng)))
    if trim:
        # The band overlaps the body a little, and stands proud of it, so no crack opens between them.
        band = mesh.clip(cover, _seen).clip(lambda face: -(cover(face) + trim + 0.06), _seen)
        layers.append(_layer("garment_trim", band, anatomy, trim_off, _trim_texture(colour, garment, rng)))
    if garment == "collared_shirt":
        collar = mesh.clip(_collar_field, _seen)
        layers.append(_layer("garment_collar", collar, anatomy, collar_off,
                             _fabric_texture(colour, "plain", garment, rng)))
        # Over the shirt only: over the neck, the rim's grey lit up dark skin.
        rim = mesh.clip(lambda face: _collar_field(face) - _COLLAR_RIM, _seen).clip(cover, _seen)
        layers.append(_layer("garment_collar_rim", rim, anatomy, (body_off + collar_off) / 2,
                             _fabric_texture(colour * _COLLAR_RIM_SHADE, "plain", garment, rng)))
    return [layer for layer in layers if len(layer.triangles)]


def covered_triangles(spec, anatomy) -> np.ndarray:
    """[F] bool: the skin triangles under the garment's body, at least ``HIDDEN_MARGIN`` inside its edge.
    The body rides the skin vertex under each of its points (:class:`SurfaceBinding`), a few millimetres
    out, so no head motion or view shows them: the renderer leaves them out (11-16 % of the head's
    triangles under sleeved garments, 2-3 % under a tank top)."""
    _, wrap = _draws(spec)
    skin = np.isin(anatomy.part, [PART["body"], PART["head"]])
    under = skin & (_cover_field(spec.garment, anatomy.face, wrap) + _TRIM[spec.garment] < -HIDDEN_MARGIN)
    return under[anatomy.triangles].all(axis=1)


def _draws(spec) -> tuple[np.random.Generator, bool]:
    """The garment's random source and its first draw: whether a gown wraps over at the front."""
    rng = np.random.default_rng([int(spec.seed) % 2**32, 0x6A12])
    return rng, bool(rng.random() < 0.5)


# Where each garment covers: negative inside, roughly a distance in interocular units.

def _neck_angle(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of the angle around the neck axis (1 at the throat, -1 at the nape) and the radius."""
    dx, dy = f[:, 0], f[:, 1] - _NECK_AXIS_Y
    radius = np.hypot(dx, dy)
    return -dy / np.maximum(radius, 1e-9), radius


def _seen(centres: np.ndarray) -> np.ndarray:
    """Where a camera framing the face can see a cut (not on the back): only there is it refined."""
    return _neck_angle(centres)[0] > _UNSEEN_BELOW


def _neckline(f: np.ndarray, front: float, side: float, back: float, opening: float) -> np.ndarray:
    """Exposure of a round neckline: positive above the line (front/side/back heights) and within
    ``opening`` of the neck axis; the garment covers where it is negative."""
    c, radius = _neck_angle(f)
    height = np.where(c > 0, side + (front - side) * c, side + (side - back) * c)
    return np.minimum(f[:, 2] - height, opening - radius)


def _v_neck(f: np.ndarray, bottom: float, slope: float, centre: float = 0.0, slope_right: float | None = None):
    x = f[:, 0] - centre
    slopes = np.where(x >= 0, slope, slope if slope_right is None else slope_right)
    return np.minimum(f[:, 2] - (bottom + slopes * np.abs(x)), (_NECK_AXIS_Y - 0.3) - f[:, 1])


def _cover_field(garment: str, f: np.ndarray, wrap: bool = False) -> np.ndarray:
    # Nothing above the neck: the head (face, chin, ears) stays bare whatever the neckline.
    return np.maximum(_body_cover(garment, f, wrap), f[:, 2] - _NECK_TOP)


def _body_cover(garment: str, f: np.ndarray, wrap: bool) -> np.ndarray:
    if garment in ("t_shirt", "sweater"):
        return _neckline(f, front=-3.3, side=-3.0, back=-2.9, opening=1.55)
    if garment == "collared_shirt":
        return np.maximum(_neckline(f, front=-3.15, side=-2.95, back=-2.85, opening=1.5),
                          _v_neck(f, bottom=-3.75, slope=1.6))
    if garment == "hospital_gown":
        crew = _neckline(f, front=-3.3, side=-3.05, back=-2.95, opening=1.6)
        v = _v_neck(f, -4.0, 1.1, centre=0.35, slope_right=1.9) if wrap else _v_neck(f, -3.95, 1.3)
        return np.maximum(crew, v)
    if garment == "tank_top":
        c, _ = _neck_angle(f)
        low = np.where(c > 0, -3.6 - 0.55 * c, -3.6 + 0.35 * c)  # low and scooped at the front
        torso = np.maximum(f[:, 2] - low, np.abs(f[:, 0]) - 2.75)
        straps = np.abs(np.abs(f[:, 0]) - 1.85) - 0.2
        return np.minimum(torso, straps)
    raise ValueError(f"unknown garment {garment!r}")


def _collar_field(f: np.ndarray) -> np.ndarray:
    """A collar band standing 2.5 cm up the neck from the shirt's neckline, open at the throat,
    and two collar points lying on the chest either side of the opening."""
    neck = _neckline(f, front=-3.15, side=-2.95, back=-2.85, opening=1.5)
    c, _ = _neck_angle(f)
    gap = np.minimum(0.32 - np.abs(f[:, 0]), c - 0.3)  # open in front of the throat
    band = np.maximum.reduce([-neck, neck - 0.42, gap])
    x, z = np.abs(f[:, 0]), f[:, 2]
    # A triangle on each side of the chest: top edge along the neckline, tip pointing down.
    top = z - (-3.05 - 0.12 * np.clip(1.2 - x, 0, None))
    inner = (0.2 - x) + 0.45 * (-3.2 - z)
    outer = (x - 1.25) + 1.1 * (-3.25 - z) * 0.9
    points = np.maximum.reduce([top, inner * 0.8, outer * 0.6, 0.6 - c])
    return np.maximum(np.minimum(band, points), f[:, 2] - (_NECK_TOP + 0.1))


def _layer(name: str, mesh: CutMesh, anatomy, offset: float, texture: np.ndarray) -> Layer:
    points = mesh.position + offset * mesh.normal
    around = np.arctan2(mesh.face[:, 0], -(mesh.face[:, 1] - _NECK_AXIS_Y))  # 0 at the throat
    u = around / (2 * np.pi) + 0.5
    v = (mesh.face[:, 2] - _Z_RANGE[0]) / (_Z_RANGE[1] - _Z_RANGE[0])
    triangles = mesh.triangles
    # Triangles across the seam down the back: their corners on the left get u + 1 (the texture
    # repeats around the body).
    span = np.ptp(u[triangles], axis=1)
    seam = span > 0.5
    if seam.any():
        corners = triangles[seam]
        low = u[corners] < 0.5
        copies = np.unique(corners[low])
        index = np.full(len(u), -1, np.int64)
        index[copies] = len(u) + np.arange(len(copies))
        corners = np.where(low, index[corners], corners)
        triangles = triangles.copy()
        triangles[seam] = corners
        points = np.concatenate([points, points[copies]])
        u = np.concatenate([u, u[copies] + 1])
        v = np.concatenate([v, v[copies]])
        anchors = np.concatenate([mesh.anchor, mesh.anchor[copies]])
    else:
        anchors = mesh.anchor
    directions = np.tile([0.0, 0.0, -1.0], (len(points), 1))
    binding = SurfaceBinding.fit(anatomy.vertices, anatomy.normals, anatomy.neighbour, anchors, points, directions)
    uvs = np.stack([u, v], 1).astype(np.float32)
    return Layer(name, "fabric", triangles.astype(np.int32), uvs, texture, binding, gloss=0.1)


# Fabric textures (u around the body, v up; they repeat across u = 0 / 1 at the back)

def _wrapped_noise(rng: np.random.Generator, shape, sigma) -> np.ndarray:
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return noise / max(noise.std(), 1e-9)


def _periodic(columns: int, texels: float) -> float:
    """A period near ``texels`` that divides the texture width, so patterns meet at the seam."""
    return columns / max(1, round(columns / texels))


def _fabric_texture(colour: np.ndarray, pattern: str, garment: str, rng: np.random.Generator) -> np.ndarray:
    h, w = _TEXTURE_SIZE
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    lightness = float(luminance(colour))
    second = np.array([0.85, 0.85, 0.82]) if lightness < 0.35 else colour * rng.uniform(0.15, 0.4)
    if garment == "hospital_gown":
        second = np.clip(colour * np.array([0.55, 0.62, 0.75]), 0, 1) if rng.random() < 0.6 else np.full(3, 0.9)
    mix = np.zeros((h, w))
    if pattern == "stripes":
        period = _periodic(w, rng.uniform(10, 26))
        if garment == "collared_shirt":  # pinstripes down the shirt
            mix = (np.mod(cols, period) < max(1.5, period * rng.uniform(0.1, 0.25))).astype(float)
        else:
            mix = (np.mod(rows, period * 1.0) < period * rng.uniform(0.3, 0.5)).astype(float)
    elif pattern == "check":
        period = _periodic(w, rng.uniform(14, 34))
        a = (np.mod(cols, period) < period / 2).astype(float)
        b = (np.mod(rows, period) < period / 2).astype(float)
        mix = 0.5 * (a + b) if rng.random() < 0.5 else (a * b + 0.35 * np.abs(a - b))  # gingham or plaid
    elif pattern == "dots":
        small = garment == "hospital_gown"
        period = _periodic(w, rng.uniform(7, 10) if small else rng.uniform(14, 26))
        cu, cv = np.mod(cols, period) - period / 2, np.mod(rows, period) - period / 2
        odd = np.mod(np.floor(rows / period), 2) == 1
        cu = np.where(odd, np.mod(cols + period / 2, period) - period / 2, cu)
        if small:  # a small diamond print
            mix = (np.abs(cu) + np.abs(cv) < period * 0.22).astype(float)
        else:
            mix = (np.hypot(cu, cv) < period * rng.uniform(0.18, 0.3)).astype(float)
    mix = ndimage.uniform_filter(mix, 2, mode="wrap")
    albedo = colour[None, None] * (1 - mix[..., None]) + second[None, None] * mix[..., None]
    # Weave: thread lines and fine noise; sweaters a knit of columns of V stitches.
    weave = 0.03 * np.sign(np.sin(np.pi * (rows + cols))) + 0.035 * rng.standard_normal((h, w))
    if garment == "sweater":
        weave = weave + 0.09 * np.abs(np.sin(np.pi * cols / 3 + 0.6 * np.pi * np.mod(rows, 3) / 3)) - 0.05
        weave += 0.05 * _wrapped_noise(rng, (h, w), 1.0)
    # Folds: soft, mostly vertical drapes, darker in their valleys.
    folds = _wrapped_noise(rng, (h, w), (14, 5)) + 0.5 * _wrapped_noise(rng, (h, w), (5, 3))
    shade = (1 + weave) * (1 - 0.16 * np.clip(folds, 0, None)) * (1 + 0.04 * np.clip(-folds, 0, 2))
    return _rgba(albedo * shade[..., None])


def _trim_texture(colour: np.ndarray, garment: str, rng: np.random.Generator) -> np.ndarray:
    h, w = 64, 512
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    if garment == "hospital_gown":  # a plain binding, a shade darker
        base = colour * 0.85
        shade = 1 + 0.03 * rng.standard_normal((h, w))
    else:  # knit rib: raised columns, every other in shadow
        base = colour
        shade = 0.92 + 0.12 * np.abs(np.sin(np.pi * cols / 2.5)) + 0.03 * rng.standard_normal((h, w))
    return _rgba(np.broadcast_to(base, (h, w, 3)) * shade[..., None])


def _rgba(albedo_linear: np.ndarray) -> np.ndarray:
    rgb = to_srgb8(np.clip(albedo_linear, 0, 1))
    return np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)

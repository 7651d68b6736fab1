"""Eyes: sclera, iris, pupil, the socket's conjunctiva, the lid crease and the dark line of the
lash roots.

The eyeball is painted as it is seen, in the shadow of the lids and lashes: a sclera of
realistic reflectance that dims towards the lids and corners, so on dark skin in low light the
whites of the eyes do not glow, nor under the lights raised for dark skin (``lighting.light_gain``).
The wet highlight comes from the renderer, through high gloss.
"""

from __future__ import annotations

import functools

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import lerp, linear, smoothstep
from painsynth.avatars.lighting import light_gain
from painsynth.avatars.reference import IRIS_DEGREES, PART, PUPIL_DEGREES, reference_head, uv_layout
from painsynth.avatars.spec import AvatarSpec

_IRIS_RGB = {
    "dark_brown": "2b190f", "brown": "583418", "hazel": "7a5b2c",
    "green": "5e7b46", "blue": "5a84ab", "grey": "7d8a90",
}

_WHITE_STRAND_SHARE = {"grey": 0.4, "white": 0.85}
# The sclera reflects about 60 % (it is not paper white) and is a little warm.
_SCLERA = np.array([0.62, 0.58, 0.54], np.float32)
_PUPIL = np.full(3, 0.01, np.float32)
_CONJUNCTIVA_TINT = np.array([0.9, 0.68, 0.68], np.float32)
# Eyelid crease: height above the lash line (metres) and how marked, single-lidded to deep-set.
_CREASE_HEIGHT = (0.0045, 0.0085)
_TYPICAL_LASH_LENGTH = 0.0085


def paint_lash_lines(canvas: Canvas, spec: AvatarSpec | None = None) -> None:
    """The dark line of the lash roots along the lid margins: fuller for long lashes and on
    women (denser, darker lashes), and thickening towards the outer corner."""
    upper, lower = canvas.where.lid_rim.T
    fullness = 1.0
    if spec is not None:
        fullness = float(np.clip(spec.lash_length / _TYPICAL_LASH_LENGTH, 0.6, 1.5))
        fullness *= 1.3 if spec.gender == "female" else 1.0
    outer = smoothstep(0.45, 0.75, np.abs(canvas.where.face[:, 0]))
    width = 0.0012 * fullness * (1 + 0.35 * outer)
    line = 0.9 * np.exp(-((upper / width) ** 2)) + 0.45 * np.exp(-((lower / (0.0008 * fullness)) ** 2))
    canvas.colour *= (1 - np.clip(line, 0, 0.93) * canvas.where.skin)[:, None]
    canvas.gloss += 30 * np.exp(-((lower / 0.0015) ** 2)) * canvas.where.skin  # the wet lower margin


def paint_eyes(canvas: Canvas, spec: AvatarSpec) -> None:
    _paint_lids(canvas, spec)
    where = canvas.where
    fibres = canvas.streaks(1.0, along_rows=True)
    on_eye = where.eye_angle < 180
    angle = where.eye_angle[on_eye]
    x, _, z = where.face[on_eye].T
    around = _iris_polar_angle(canvas.layout.size)[on_eye]

    # The lids and lashes shade the eyeball: most under the upper lid, a little under the lower
    # one and in the corners.
    shade = 0.88 - 0.55 * smoothstep(-0.08, 0.05, z) - 0.2 * smoothstep(-0.05, -0.11, z)
    shade *= 1 - 0.4 * smoothstep(35, 75, angle)
    sclera = _SCLERA * (1 + 0.04 * fibres[on_eye])[:, None]
    # Redder towards the corners, where the vessels show.
    sclera *= np.array([1.0, 0.92, 0.9], np.float32) ** smoothstep(30, 75, angle)[:, None]

    iris = linear(_IRIS_RGB[spec.eye_color]) * (0.85 + 0.12 * fibres[on_eye])[:, None]
    if spec.eye_color == "hazel":  # green outside, brown around the pupil
        brown_inside = 1 - smoothstep(PUPIL_DEGREES, IRIS_DEGREES, angle)
        iris = lerp(linear(_IRIS_RGB["green"]), iris, brown_inside[:, None])
    # Radial fibres and crypts, a paler collarette part way out, a dark limbal ring at the edge.
    radius = np.clip((angle - PUPIL_DEGREES) / (IRIS_DEGREES - PUPIL_DEGREES), 0, 1)
    rng = np.random.default_rng([spec.seed, 31])
    spokes = _periodic_noise(rng, around, 90) + 0.5 * _periodic_noise(rng, around + 0.3 * radius, 30)
    collarette = np.exp(-(((radius - 0.35 - 0.04 * _periodic_noise(rng, around, 14)) / 0.08) ** 2))
    limbal_ring = smoothstep(0.6, 1.0, radius)
    iris *= (1 + 0.22 * spokes + 0.25 * collarette - 0.6 * limbal_ring)[:, None]
    iris = np.clip(iris, 0, 1)

    in_iris = 1 - smoothstep(IRIS_DEGREES - 1.5, IRIS_DEGREES + 1.5, angle)
    in_pupil = 1 - smoothstep(PUPIL_DEGREES - 1.0, PUPIL_DEGREES + 1.0, angle)
    eye = lerp(lerp(sclera, iris, in_iris[:, None]), _PUPIL, in_pupil[:, None])
    # Under the lights raised for dark skin the eyeball gives back the whole gain: with half of it (as the
    # teeth) a Monk 10 face's whites still burnt out; so they come out as on a light face.
    canvas.colour[on_eye] = eye * (shade / light_gain(spec.monk_tone))[:, None]
    canvas.gloss[on_eye] = GLOSS["eye"]
    canvas.relief[on_eye] = 0.0

    layout = canvas.layout
    socket = np.isin(layout.part, [PART["eye_cavity.L"], PART["eye_cavity.R"]])
    # The socket shows at the eye corners, and under a hard squeeze pokes through the lower lid:
    # reddened skin reads right in both places, where a deep red would look like a wound.
    shade = 1 - np.clip(layout.occlusion[socket], 0, 0.3)
    canvas.colour[socket] *= _CONJUNCTIVA_TINT * shade[:, None]
    canvas.gloss[socket] = GLOSS["wet"]


def _paint_lids(canvas: Canvas, spec: AvatarSpec) -> None:
    """The upper lid's crease (a fine dark groove a few millimetres above the lashes, lower and
    fainter on single-lidded eyes, deeper with age) and the shadowed hollow between it and the
    brow."""
    where = canvas.where
    upper, lower = where.lid_rim.T
    x, y, z = where.face.T
    ax = np.abs(x)
    near = where.skin & (upper < 0.02) & (upper < lower) & (z > -0.05) & (y < 0.2)
    u, ax, z = upper[near], ax[near], z[near]
    single_lid = _asian_share(spec)
    aging = float(np.clip((spec.age_years - 30) / 45, 0, 1))
    height = lerp(_CREASE_HEIGHT[1], _CREASE_HEIGHT[0], single_lid) * (1 + 0.25 * aging)
    # Over the lid only: it fades out beyond the eye corners.
    span = smoothstep(0.3, 0.4, ax) * (1 - smoothstep(0.72, 0.86, ax))
    crease = np.exp(-(((u - height) / 0.0011) ** 2)) * span * (1 - 0.6 * single_lid)
    crease *= 0.7 + 0.5 * aging
    hollow = smoothstep(0.6 * height, 1.1 * height, u) * (1 - smoothstep(0.013, 0.02, u)) * span
    hollow *= 0.5 + 0.5 * smoothstep(0.7, 0.35, ax)  # deepest towards the nose
    hollow *= 0.7 + 0.6 * aging
    canvas.colour[near] *= (1 - 0.32 * np.clip(crease, 0, 1) - 0.12 * hollow)[:, None]
    canvas.relief[near] -= 0.5 * np.clip(crease, 0, 1) + 0.15 * hollow


def _asian_share(spec: AvatarSpec) -> float:
    try:
        return float(spec.ethnicity["asian"])
    except (KeyError, ZeroDivisionError):
        return 0.0


@functools.lru_cache(maxsize=4)
def _iris_polar_angle(size: int) -> np.ndarray:
    """Per texel, the angle (radians) around its eye's gaze axis; 0 off the eyes."""
    head, layout = reference_head(), uv_layout(size)
    around = np.zeros(len(layout.part), np.float32)
    for side, centre, axis in zip("LR", head.eye_centres, head.eye_axes):
        on_eye = np.isin(layout.part, [PART[f"eye_front.{side}"], PART[f"eye_back.{side}"]])
        first = np.cross(axis, [0.0, 0.0, 1.0])
        first /= np.linalg.norm(first)
        second = np.cross(axis, first)
        offset = layout.position[on_eye] - centre
        around[on_eye] = np.arctan2(offset @ second, offset @ first)
    return around


def _periodic_noise(rng: np.random.Generator, angle: np.ndarray, waves: int) -> np.ndarray:
    """Noise around a circle (std ~1) with about ``waves`` features per turn."""
    k = np.arange(1, waves + 1)
    amplitude = rng.normal(size=waves) / np.sqrt(waves / 2)
    phase = rng.uniform(0, 2 * np.pi, waves)
    return (amplitude * np.sin(np.outer(angle, k) + phase)).sum(1).astype(np.float32)

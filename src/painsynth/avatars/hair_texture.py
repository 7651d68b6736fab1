"""Hair painted into the skin texture: eyebrows, the scalp under the hair, facial hair."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import lerp, linear, smoothstep
from painsynth.avatars.reference import CHIN_Z, MOUTH_Z, NOSE_TIP
from painsynth.avatars.skin import soft
from painsynth.avatars.spec import AvatarSpec

_HAIR_PIGMENT = {
    "black": "1f1b19", "dark_brown": "3a281d", "brown": "664630", "blond": "b8955f",
    "red": "93411f",
}
_WHITE_HAIR = "d6d2ca"
_WHITE_STRAND_SHARE = {"grey": 0.4, "white": 0.85}

# Hairline elevation (degrees) by azimuth (degrees from the nose), knots for a typical short cut:
# high over the forehead, a sideburn in front of the ear, over the ear, down to the nape.
_HAIRLINE_AZIMUTH = (0, 30, 50, 68, 73, 80, 84, 112, 130, 180)
_HAIRLINE = {
    "straight": (36, 34, 26, 10, -22, -22, 0, 0, -25, -55),
    # Long hair worn back: the scalp layer cannot hang, so it covers the nape down to the neck.
    "tied_back": (36, 34, 24, 6, -28, -34, -36, -40, -50, -65),
}


def hair_rgb(color: str, strands: np.ndarray, white_share: float | None = None) -> np.ndarray:
    """Per-texel hair colour: strands vary in shade, and grey or white hair mixes pigmented and
    white strands rather than being one flat grey."""
    variation = np.clip(strands, -2, 2)[:, None]
    if color in _HAIR_PIGMENT:
        return linear(_HAIR_PIGMENT[color]) * (0.75 + 0.2 * variation)
    share = _WHITE_STRAND_SHARE[color] if white_share is None else white_share
    white = np.clip(share + 0.2 * variation, 0, 1)
    return lerp(linear(_HAIR_PIGMENT["dark_brown"]), linear(_WHITE_HAIR), white)


def paint_eyebrows(canvas: Canvas, spec: AvatarSpec) -> None:
    where = canvas.where
    x, _, z = where.face.T
    # 0 at the brow's head, over the inner eye corner; 1 at its tail.
    along = (np.abs(x) - 0.17) / 0.68
    arch = np.clip(along, 0, 1)
    centre = 0.34 + 0.07 * np.sin(np.pi * arch**0.8) - 0.05 * np.clip(along - 0.7, 0, 1)
    half_width = (0.045 + 0.055 * spec.brow_thickness) * (1.1 - 0.5 * arch)
    band = 1 - smoothstep(0.3 * half_width, half_width, np.abs(z - centre))
    band *= smoothstep(-0.08, 0.12, along) * (1 - smoothstep(0.85, 1.05, along))
    band *= where.head_skin * (where.facing > 0.2)
    near = band > 0
    strands = canvas.streaks(2.5, along_rows=True)[near]
    density = np.clip((0.8 + 0.2 * spec.brow_thickness) * (1 + 0.15 * strands), 0, 1)
    # Brows sit in shadow and their hairs are short and dense: a shade darker than scalp hair,
    # and they keep more pigmented hairs than the scalp when greying.
    hair = 0.7 * hair_rgb(spec.brow_color, 0.6 * strands, white_share=0.3)
    canvas.cover(near, hair, band[near] * density, GLOSS["hair"])


def paint_scalp_hair(canvas: Canvas, spec: AvatarSpec) -> None:
    if spec.hair_family == "bald":
        return
    where = canvas.where
    azimuth = np.abs(where.azimuth)
    knots = _HAIRLINE["tied_back" if spec.hair_family in ("ponytail", "bun") else "straight"]
    hairline = np.interp(azimuth, _HAIRLINE_AZIMUTH, knots)
    if spec.hairline == "widows_peak":
        hairline -= 7 * np.clip(1 - azimuth / 14, 0, 1) - 3 * np.exp(-(((azimuth - 22) / 10) ** 2))
    if spec.hair_family in ("receding", "balding"):
        hairline += 14 * np.exp(-(((azimuth - 32) / 16) ** 2)) + 5 * (azimuth < 60)
    hairline += 1.5 * canvas.smooth(0.012) + 0.8 * canvas.streaks(1.5, along_rows=True)
    region = smoothstep(hairline - 1.0, hairline + 3.0, where.elevation)
    if spec.hair_family == "balding":  # a fringe round the back and sides, bare on top
        region *= 1 - smoothstep(8, 16, where.elevation - 0.1 * np.clip(azimuth - 90, 0, 90))
    region *= (1 - smoothstep(0.05, 0.4, canvas.layout.masks["ears"])) * where.head_skin
    near = region > 0
    strands = canvas.streaks(6.0, along_rows=False)[near]
    if spec.hair_family == "buzz":
        density = 0.5 * (canvas.speckle()[near] < 0.7) + 0.3
    else:
        density = np.clip(0.98 + 0.1 * strands, 0, 1)
    sheen = 1 + 0.15 * canvas.streaks(14.0, along_rows=False)[near, None]
    hair = np.clip(hair_rgb(spec.hair_color, strands) * sheen, 0, 1)
    canvas.cover(near, hair, region[near] * density, GLOSS["hair"])


def paint_facial_hair(canvas: Canvas, spec: AvatarSpec) -> None:
    if spec.gender != "male" or spec.age_years < 18:
        return
    where = canvas.where
    x, _, z = where.face.T
    under_nose = 1 - smoothstep(NOSE_TIP[2] - 0.2, NOSE_TIP[2] - 0.1, z)
    above_lip = smoothstep(MOUTH_Z + 0.08, MOUTH_Z + 0.16, z)
    moustache = (1 - smoothstep(0.3, 0.5, np.abs(x))) * above_lip * under_nose
    # The beard's upper edge runs from the sideburn down across the cheek to the mouth corner;
    # below, it stops on the upper neck.
    cheek_line = lerp(MOUTH_Z + 0.45, -0.35, np.clip((np.abs(x) - 0.5) / 0.7, 0, 1))
    cheek_line += 0.06 * canvas.smooth(0.015)
    beard = 1 - smoothstep(cheek_line - 0.15, cheek_line + 0.05, z)
    beard *= smoothstep(CHIN_Z - 0.3, CHIN_Z - 0.1, z)
    beard *= 1 - smoothstep(75, 95, np.abs(where.azimuth))
    region = moustache if spec.facial_hair == "moustache" else np.maximum(beard, moustache)
    region *= (1 - soft(canvas.layout.masks["lips"])) * where.head_skin
    near = region > 0
    if spec.facial_hair in ("moustache", "goatee", "beard", "full_beard"):
        strands = canvas.streaks(3.0, along_rows=False)[near]
        alpha = np.clip(0.95 + 0.12 * strands, 0, 1)
        hair = hair_rgb(spec.hair_color, 0.5 * strands)
    else:
        # Stubble, or on a shaven man the faint shadow of hair under the skin: both show as hair
        # ends shadowed in the skin, darker than the hair itself.
        dots = canvas.speckle()[near] < 0.35
        alpha = (0.12 + 0.3 * dots) if spec.facial_hair == "stubble" else np.full(len(dots), 0.06)
        hair = 0.35 * hair_rgb(spec.hair_color, canvas.streaks(0.5, along_rows=False)[near])
    canvas.cover(near, hair, region[near] * alpha, GLOSS["hair"])

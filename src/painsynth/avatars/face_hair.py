"""Hair painted into the skin texture on the face: eyebrows and facial hair (stubble to full beard).

Hair darkens the skin under it and stands a little proud of it in the relief map."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import lerp, smoothstep
from painsynth.avatars.hair_colour import hair_rgb, person_hair_rgb
from painsynth.avatars.lighting import painted_layer_factor
from painsynth.avatars.reference import CHIN_Z, MOUTH_Z, NOSE_TIP
from painsynth.avatars.skin import soft
from painsynth.avatars.spec import AvatarSpec

_HAIR_RELIEF = 0.3
_IN_THE_BEARDS_SHADE = 0.55


def brow_band(canvas: Canvas, spec: AvatarSpec) -> np.ndarray:
    """Coverage (0-1) of the eyebrows per texel: a rounded, tapered head over the inner eye
    corner, a body rising to an arch (higher and further out with ``brow_arch``) and a tail
    that falls and thins. Women's brows sit higher and are finer; men's lower and straighter."""
    where = canvas.where
    x, _, z = where.face.T
    rng = np.random.default_rng([spec.seed, 2718])
    arch = float(np.clip(spec.brow_arch, 0, 1))
    thickness = float(np.clip(spec.brow_thickness, 0, 1))
    female = spec.gender == "female"
    head_x = 0.16 + 0.02 * female + rng.uniform(-0.05, 0.05)
    length = rng.uniform(0.55, 0.8)  # to the tail's end; short tails stop inside the eye corner
    # 0 at the brow's head, over the inner eye corner; 1 at its tail.
    along = (np.abs(x) - head_x) / length
    peak = 0.55 + 0.17 * arch
    rising = np.sin(0.5 * np.pi * np.clip(along / peak, 0, 1)) ** (0.7 + 0.8 * arch)
    falling = np.clip((along - peak) / (1 - peak), 0, 1.2)
    height = 0.015 + 0.11 * arch
    # How high the brows sit over the eyes, and their slant, differ from face to face: with these
    # (and thickness from thin to heavy) 40 % of avatar pairs were "the same person" to dlib, 37 %
    # (40 avatars, seed 1); twice the spread gained nothing more.
    lift, slant = rng.uniform(-0.06, 0.08), rng.uniform(-0.07, 0.07)
    centre = 0.3 + 0.04 * female + lift + slant * along + height * rising - (height + 0.02 + 0.04 * arch) * falling**1.6
    half_width = (0.028 + 0.085 * thickness) * (0.8 if female else 1.0)
    # Widest just before the arch, tapering to a point at the tail and rounding off at the head.
    half_width *= 1.05 - 0.7 * (np.clip(along - 0.3, 0, 0.7) / 0.7) ** 1.2
    band = 1 - smoothstep(0.35 * half_width, half_width, np.abs(z - centre))
    band *= smoothstep(-0.06, 0.1, along) * (1 - smoothstep(0.86, 1.0, along))
    return band * where.head_skin * (where.facing > 0.2)


def paint_eyebrows(canvas: Canvas, spec: AvatarSpec) -> None:
    band = brow_band(canvas, spec)
    near = band > 0
    strands = canvas.streaks(2.5, along_rows=True)[near]
    thickness = float(np.clip(spec.brow_thickness, 0, 1))
    # Edges are scattered single hairs rather than a soft blur; the core is dense.
    scattered = canvas.speckle()[near] < band[near] ** 0.7
    coverage = np.where(band[near] > 0.8, 1.0, 0.55 * band[near] + 0.45 * scattered)
    fullness = np.random.default_rng([spec.seed, 2719]).uniform(0.6, 1.1)  # sparse to dense brows
    density = np.clip(fullness * (0.75 + 0.2 * thickness) * (1 + 0.15 * strands), 0, 1)
    # Brows sit in shadow and their hairs are short and dense: a shade darker than scalp hair,
    # and they keep more pigmented hairs than the scalp when greying.
    hair = 0.7 * hair_rgb(spec.brow_color, 0.6 * strands, white_share=0.3 if spec.brow_color == "grey" else None)
    alpha = coverage * density
    canvas.cover(near, hair * painted_layer_factor(spec.monk_tone), alpha, GLOSS["hair"])
    canvas.relief[near] += _HAIR_RELIEF * alpha


def facial_hair_regions(canvas: Canvas) -> dict[str, np.ndarray]:
    """Coverage (0-1) per texel of each facial-hair style (before the lips are cut out)."""
    where = canvas.where
    return facial_hair_fields(where.face, where.azimuth, 0.04 * canvas.smooth(0.015))


def facial_hair_fields(face: np.ndarray, azimuth: np.ndarray, jitter: np.ndarray) -> dict[str, np.ndarray]:
    """Coverage (0-1) of each facial-hair style at points of reference face coordinates ``face``
    [N, 3] (interocular units) and ``azimuth`` [N] (degrees), its edges moved by ``jitter`` [N]:
    what is painted (per texel) and what beards' strands grow from (per vertex, ``beard``)."""
    x, y, z = face.T
    ax = np.abs(x)
    under_nose = 1 - smoothstep(NOSE_TIP[2] - 0.2, NOSE_TIP[2] - 0.1, z)
    # The upper lip, its lower edge following the lip line down to the mouth corners.
    lip_edge = MOUTH_Z + 0.12 - 0.1 * smoothstep(0.2, 0.42, ax)
    moustache = (1 - smoothstep(0.36, 0.48, ax)) * smoothstep(lip_edge - 0.04, lip_edge + 0.04, z) * under_nose
    # Goatee: the chin below the lower lip, joined to the moustache round the mouth corners.
    chin_half_width = 0.36 - 0.1 * smoothstep(CHIN_Z + 0.3, CHIN_Z - 0.1, z) + jitter
    goatee = (1 - smoothstep(chin_half_width - 0.05, chin_half_width + 0.03, ax))
    goatee *= (1 - smoothstep(MOUTH_Z - 0.13, MOUTH_Z - 0.05, z) * smoothstep(0.2, 0.3, ax))
    goatee *= (1 - smoothstep(MOUTH_Z + 0.02, MOUTH_Z + 0.1, z)) * smoothstep(CHIN_Z - 0.25, CHIN_Z - 0.1, z)
    goatee *= (y < 0.1)
    goatee = np.maximum(goatee, moustache)
    # The beard's upper edge runs from the sideburn down across the cheek to the mouth corner;
    # a short beard stops under the jaw, a full one fuller on the cheeks and down the neck.
    # The edge thins out over a band rather than stopping at a line: a hard-edged dark patch over
    # the lower face reads as a mask, to a viewer and to MediaPipe's face landmarker alike
    # (at 45° it lost the face on 7 of 8 bearded avatars with a hard, high edge).
    cheek_line = lerp(MOUTH_Z + 0.32, -0.5, np.clip((ax - 0.5) / 0.7, 0, 1)) + 1.5 * jitter
    sideways = 1 - smoothstep(70, 95, np.abs(azimuth))
    beard = (1 - smoothstep(cheek_line - 0.25, cheek_line + 0.03, z)) * sideways
    full = (1 - smoothstep(cheek_line - 0.15, cheek_line + 0.1, z)) * sideways
    beard *= smoothstep(-2.35, -2.15, z + jitter)
    full *= smoothstep(-3.0, -2.6, z + 2 * jitter)
    return {
        "moustache": moustache,
        "goatee": goatee,
        "beard": np.maximum(beard, moustache),
        "full_beard": np.maximum(full, moustache),
        "stubble": np.maximum(beard, moustache),
        "none": np.maximum(beard, moustache),
    }


def paint_facial_hair(canvas: Canvas, spec: AvatarSpec) -> None:
    if spec.gender != "male" or spec.age_years < 18:
        return
    where = canvas.where
    style = spec.facial_hair if spec.facial_hair in ("moustache", "goatee", "beard", "full_beard", "stubble") else "none"
    region = facial_hair_regions(canvas)[style]
    region *= (1 - soft(canvas.layout.masks["lips"])) * where.skin
    near = region > 0
    if style in ("moustache", "goatee", "beard", "full_beard"):
        # Longer hair shows longer strands; a full beard is thicker and a little lighter at its
        # tips, a short boxed beard dense and even.
        length = {"moustache": 2.5, "goatee": 3.0, "beard": 2.0, "full_beard": 6.0}[style]
        strands = canvas.streaks(length, along_rows=False)[near]
        alpha = np.clip((0.9 if style == "full_beard" else 0.82) + 0.1 * strands, 0, 1)
        # The painted hair is what shows between the beard's strands (beard.build_beard): in
        # their shade, so a white beard over dark skin is not a flat white patch.
        hair = _IN_THE_BEARDS_SHADE * person_hair_rgb(spec, 0.35 * strands)
        if style == "full_beard":
            hair = hair * (1 + 0.1 * canvas.smooth(0.02)[near, None])
        relief = _HAIR_RELIEF * (1.3 if style == "full_beard" else 1.0) * (0.8 + 0.2 * strands)
    else:
        # Stubble, or on a shaven man the faint shadow of hair under the skin: both show as hair
        # ends shadowed in the skin, darker than the hair itself.
        dots = canvas.speckle()[near] < 0.35
        alpha = (0.14 + 0.32 * dots) if style == "stubble" else np.full(len(dots), 0.06)
        hair = 0.35 * person_hair_rgb(spec, canvas.streaks(0.5, along_rows=False)[near])
        relief = 0.15 * dots if style == "stubble" else 0.0
    alpha = region[near] * alpha
    canvas.cover(near, hair * painted_layer_factor(spec.monk_tone), alpha, GLOSS["hair"])
    canvas.relief[near] += relief * alpha

"""Hair painted into the skin texture on the face: eyebrows and facial hair (stubble to full beard)."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import lerp, smoothstep
from painsynth.avatars.hair_colour import hair_rgb
from painsynth.avatars.reference import CHIN_Z, MOUTH_Z, NOSE_TIP
from painsynth.avatars.skin import soft
from painsynth.avatars.spec import AvatarSpec


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

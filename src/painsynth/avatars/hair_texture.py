"""The scalp under the hair, painted into the skin texture: hairline, density, colour."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import smoothstep
from painsynth.avatars.hair_colour import hair_rgb
from painsynth.avatars.spec import AvatarSpec

# Hairline elevation (degrees) by azimuth (degrees from the nose), knots for a typical short cut:
# high over the forehead, a sideburn in front of the ear, over the ear, down to the nape.
_HAIRLINE_AZIMUTH = (0, 30, 50, 68, 73, 80, 84, 112, 130, 180)
_HAIRLINE = {
    "straight": (36, 34, 26, 10, -22, -22, 0, 0, -25, -55),
    # Long hair worn back: the scalp layer cannot hang, so it covers the nape down to the neck.
    "tied_back": (36, 34, 24, 6, -28, -34, -36, -40, -50, -65),
}


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

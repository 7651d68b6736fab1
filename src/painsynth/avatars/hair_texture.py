"""The scalp under the hair, painted into the skin texture: hairline, density, colour.

The hair itself is geometry (``hair.build_hair``); this paints the skin it grows from, with the
same hairline (``hairline.hair_depth``) reaching a little further out than the geometry's strands, so
no bare gap shows at the hairline, and darkened as the hair shades it. Bald, balding and receding
heads show skin where the hairline leaves it bare.
"""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import smoothstep
from painsynth.avatars.hairline import hair_depth, parting
from painsynth.avatars.hair_colour import person_hair_rgb
from painsynth.avatars.lighting import painted_layer_factor
from painsynth.avatars.spec import AvatarSpec

_OCCLUSION = 0.6  # the scalp hair's roots, in the shade of the hair over them
_PARTING_BARE = 0.55  # share of the hair's cover gone along the middle of a parting


def paint_scalp_hair(canvas: Canvas, spec: AvatarSpec) -> None:
    if spec.hair_family == "bald":
        return
    where = canvas.where
    depth = hair_depth(where.azimuth, where.elevation, spec.hair_family, spec.hairline)
    depth = depth + 1.2 * canvas.smooth(0.012) + 0.6 * canvas.streaks(1.5, along_rows=True)
    # The geometry's strands start between 2 degrees outside and 4 inside the hairline.
    region = smoothstep(-3.5, 0.5, depth)
    region *= (1 - smoothstep(0.05, 0.4, canvas.layout.masks["ears"])) * where.head_skin
    near = region > 0
    strands = canvas.streaks(6.0, along_rows=False)[near]
    if spec.hair_family == "buzz":
        density = 0.5 * (canvas.speckle()[near] < 0.7) + 0.3
    else:
        density = np.clip(0.95 + 0.1 * strands, 0, 1)
    part = parting(spec.hair_family, spec.hair)
    if part is not None:  # the scalp shows along the parting, between the hair's roots either side
        face = where.face[near]
        half_width = part.half_width(face)
        bare = 1 - smoothstep(0.5, 1.2, np.abs(face[:, 0] - part.x) / np.maximum(half_width, 1e-6))
        density = density * (1 - _PARTING_BARE * bare * (half_width > 0))
    shade = _OCCLUSION + (1 - _OCCLUSION) * (1 - smoothstep(-2.0, 6.0, depth[near]))[:, None]
    hair = np.clip(person_hair_rgb(spec, strands) * shade, 0, 1) * painted_layer_factor(spec.monk_tone)
    canvas.cover(near, hair, region[near] * density, GLOSS["hair"])

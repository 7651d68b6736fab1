"""An identity's appearance maps: albedo and gloss in anny's UV space, painted layer by layer."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import linear, to_srgb8
from painsynth.avatars.eyes import paint_eyes, paint_lash_lines
from painsynth.avatars.face_hair import paint_eyebrows, paint_facial_hair
from painsynth.avatars.hair_texture import paint_scalp_hair
from painsynth.avatars.makeup import paint_makeup
from painsynth.avatars.mouth import paint_mouth
from painsynth.avatars.skin import paint_skin
from painsynth.avatars.spec import AvatarSpec

# Monk swatches are skin as seen, not reflectance: as albedo the light tones would render near
# white under any key light, so the texture keeps their hue at a physically plausible level.
_SKIN_ALBEDO_SCALE = 0.8


def appearance_maps(spec: AvatarSpec, size: int = 1024) -> dict[str, np.ndarray]:
    """Albedo (sRGB uint8 [size, size, 3]), gloss and relief (uint8 [size, size]; relief 128 is
    flat, lower a groove, higher a ridge) in anny's UV space (row = (1 - v) * size, column =
    u * size); deterministic for a spec."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 64:
        raise ValueError(f"size must be an int >= 64, got {size!r}")
    skin_rgb = linear(spec.skin_hex) * _SKIN_ALBEDO_SCALE
    canvas = Canvas(size, skin_rgb, np.random.default_rng(spec.seed))
    paint_skin(canvas, spec)
    paint_eyebrows(canvas, spec)
    paint_scalp_hair(canvas, spec)
    paint_facial_hair(canvas, spec)
    paint_lash_lines(canvas, spec)
    paint_makeup(canvas, spec)
    paint_eyes(canvas, spec)
    paint_mouth(canvas)

    texels = canvas.layout.texels
    albedo = np.empty((size * size, 3), np.uint8)
    albedo[:] = to_srgb8(skin_rgb)
    albedo[texels] = to_srgb8(canvas.colour)
    gloss = np.full(size * size, GLOSS["skin"], np.uint8)
    gloss[texels] = np.clip(np.round(canvas.gloss), 0, 255)
    relief = np.full(size * size, 128, np.uint8)
    relief[texels] = np.clip(np.round(128 + 127 * canvas.relief), 0, 255)
    return {"albedo": albedo.reshape(size, size, 3), "gloss": gloss.reshape(size, size),
            "relief": relief.reshape(size, size)}

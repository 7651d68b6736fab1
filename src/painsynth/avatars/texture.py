"""An identity's appearance maps: albedo and gloss in anny's UV space, painted layer by layer."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import linear, luminance, to_srgb8
from painsynth.avatars.eyes import paint_eyes, paint_lash_lines
from painsynth.avatars.face_hair import paint_eyebrows, paint_facial_hair
from painsynth.avatars.hair_texture import paint_scalp_hair
from painsynth.avatars.makeup import paint_makeup
from painsynth.avatars.mouth import paint_mouth
from painsynth.avatars.skin import paint_skin
from painsynth.avatars.spec import AvatarSpec
from painsynth.avatars.tables import MONK_TONES

# Monk swatches are skin as seen, not reflectance: as albedo the light tones would render near
# white under any key light, so the texture keeps their hue at a physically plausible level.
_SKIN_ALBEDO_SCALE = 0.8
# Skin darker than Monk 8 keeps melanin's colour. Melanin absorbs blue light more than red, so skin does
# not turn neutral as it darkens, but the Monk 9 and 10 swatches are nearly grey (CIELAB chroma 6.5 / 3.8,
# Monk 6-8 18-28): under the lights set for them (avatars.lighting) a face of that albedo rendered ash
# grey (sRGB saturation 0.24 / 0.18, Monk 6-8 0.43-0.47). So below Monk 8's luminance the colour's
# log-chromaticity is stretched to the length of Monk 8's (its hue, undertone included, and its
# luminance kept): chroma 13.5 / 11.6, and Monk 10 lit renders sRGB (94, 68, 51) instead of (82, 74, 67).
_MELANIN_SWATCH = MONK_TONES[7]


def _log_chromaticity(rgb: np.ndarray) -> np.ndarray:
    return np.log(rgb / luminance(rgb))


def skin_albedo(skin_hex: str) -> np.ndarray:
    """Linear albedo [3] of skin seen as ``skin_hex`` (a jittered Monk swatch, ``AvatarSpec.skin_hex``)."""
    seen, melanin = linear(skin_hex), linear(_MELANIN_SWATCH)
    if luminance(seen) >= luminance(melanin):
        return seen * _SKIN_ALBEDO_SCALE
    direction = _log_chromaticity(seen)
    stretch = max(1.0, np.linalg.norm(_log_chromaticity(melanin)) / max(np.linalg.norm(direction), 1e-6))
    stretched = np.exp(stretch * direction)
    return (stretched * luminance(seen) / luminance(stretched) * _SKIN_ALBEDO_SCALE).astype(np.float32)


def appearance_maps(spec: AvatarSpec, size: int = 1024) -> dict[str, np.ndarray]:
    """Albedo (sRGB uint8 [size, size, 3]), gloss and relief (uint8 [size, size]; relief 128 is
    flat, lower a groove, higher a ridge) in anny's UV space (row = (1 - v) * size, column =
    u * size); deterministic for a spec."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 64:
        raise ValueError(f"size must be an int >= 64, got {size!r}")
    skin_rgb = skin_albedo(spec.skin_hex)
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

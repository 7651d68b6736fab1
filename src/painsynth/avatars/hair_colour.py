"""Hair colours: pigment per named colour, and grey or white hair as a mix of strands."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.colour import lerp, linear

_HAIR_PIGMENT = {
    "black": "1f1b19", "dark_brown": "3a281d", "brown": "664630", "blond": "b8955f",
    "red": "93411f",
}
_WHITE_HAIR = "d6d2ca"
_WHITE_STRAND_SHARE = {"grey": 0.4, "white": 0.85}


def hair_rgb(color: str, strands: np.ndarray, white_share: float | None = None) -> np.ndarray:
    """Per-texel hair colour: strands vary in shade, and grey or white hair mixes pigmented and
    white strands rather than being one flat grey."""
    variation = np.clip(strands, -2, 2)[:, None]
    if color in _HAIR_PIGMENT:
        return linear(_HAIR_PIGMENT[color]) * (0.75 + 0.2 * variation)
    share = _WHITE_STRAND_SHARE[color] if white_share is None else white_share
    white = np.clip(share + 0.2 * variation, 0, 1)
    return lerp(linear(_HAIR_PIGMENT["dark_brown"]), linear(_WHITE_HAIR), white)

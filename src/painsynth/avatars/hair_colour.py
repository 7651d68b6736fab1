"""Hair colours: pigment per named colour, and grey or white hair as a mix of strands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import erf

from painsynth.avatars.colour import lerp, linear, smoothstep

if TYPE_CHECKING:
    from painsynth.avatars.spec import AvatarSpec

_HAIR_PIGMENT = {
    "black": "1f1b19", "dark_brown": "3a281d", "brown": "664630", "blond": "b8955f",
    "red": "93411f",
}
_WHITE_HAIR = "d6d2ca"
_WHITE_STRAND_SHARE = {"grey": 0.4, "white": 0.85}


def hair_rgb(color: str, strands: np.ndarray, white_share: float | None = None,
             whiteness: np.ndarray | None = None) -> np.ndarray:
    """Per-texel hair colour: strands vary in shade, and greying hair mixes pigmented and white
    strands rather than being one flat grey. ``white_share``: the share of white strands (the
    person's own, spec.hair["white"]); None gives a pigmented colour none and "grey" or "white" their
    typical share. ``whiteness`` (standard normal per texel, default ``strands``): which ones are white."""
    variation = np.clip(strands, -2, 2)[:, None]
    which = variation if whiteness is None else np.clip(whiteness, -2, 2)[:, None]
    if color in _HAIR_PIGMENT:
        pigmented = linear(_HAIR_PIGMENT[color]) * (0.75 + 0.2 * variation)
        if not white_share:
            return pigmented
        # Each strand is white or not: the strands' own values decide which, so the white ones
        # are scattered through the hair (salt and pepper), not a tint over all of it.
        white = smoothstep(-0.15, 0.15, white_share - _strand_rank(which))
        return lerp(pigmented, linear(_WHITE_HAIR), white)
    share = _WHITE_STRAND_SHARE[color] if white_share is None else white_share
    white = np.clip(share + 0.2 * which, 0, 1)
    return lerp(linear(_HAIR_PIGMENT["dark_brown"]), linear(_WHITE_HAIR), white)


def person_hair_rgb(spec: AvatarSpec, strands: np.ndarray, whiteness: np.ndarray | None = None) -> np.ndarray:
    """:func:`hair_rgb` of this person's scalp (and beard) hair: its colour and share of white strands."""
    return hair_rgb(spec.hair_color, strands, spec.hair.get("white"), whiteness)


def _strand_rank(variation: np.ndarray) -> np.ndarray:
    """A strand's standard-normal value as its rank in 0-1 (the normal CDF), so a share s whitens
    about s of the strands."""
    return 0.5 * (1 + erf(variation / np.sqrt(2)))

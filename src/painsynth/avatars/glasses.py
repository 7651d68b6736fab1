"""Glasses: frames of several shapes with clear lenses, sitting on the nose and ears."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.tables import GLASSES

_FRAME_COLOURS = ("111111", "3b2418", "6b4a2b", "8c8c8c", "c9b27a", "2a3550", "5a1e24")


def sample_glasses(rng: np.random.Generator, age_years: float, share: float) -> tuple[str, str]:
    """(frame style or "none", frame colour hex): glasses on about ``share`` of identities."""
    wears = rng.random() < share
    style = GLASSES[1 + int(rng.integers(len(GLASSES) - 1))]
    colour = _FRAME_COLOURS[int(rng.integers(len(_FRAME_COLOURS)))]
    return (style if wears else "none"), colour

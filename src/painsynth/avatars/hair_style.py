"""An identity's hairstyle: its family, hairline and shape parameters, drawn by gender, age and ancestry,
and what they mean for the rest of the hair (curly or straight, a fringe let down or not)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from painsynth.avatars.tables import HAIRLINES

if TYPE_CHECKING:
    from painsynth.avatars.spec import AvatarSpec

# How a family's odds scale at full African ancestry (geometric in the ancestry share): afros and
# close crops more common, long loose hair less. Women's hair less so: with men's factors half of
# the adult women of full African ancestry wore an afro, a crop or short hair (51-55 % by age), and
# with them many read as men in close-ups; long relaxed or straightened hair and hair tied back in a
# bun or ponytail are common (now 32-37 % afro, crop or short).
_ANCESTRY_FACTOR = {"afro": 5.0, "buzz": 1.8, "long_straight": 0.3, "long_wavy": 0.4, "medium": 0.6}
_WOMEN_ANCESTRY_FACTOR = {"afro": 3.0, "long_straight": 0.6, "long_wavy": 0.6, "medium": 0.8, "ponytail": 1.4,
                          "bun": 1.6}
_COILY_SHARE = 0.85  # share of full African ancestry with coily hair (the rest relaxed or straightened)
CURLY = 0.7  # curl above which hair is drawn curly or coily (curly strands, no parting)
_ASIAN_STRAIGHTER = 0.6  # curl scaled down by this at full East Asian ancestry
FRINGED = ("short", "medium", "long_straight", "long_wavy")
FRINGE_FROM = 0.55  # hair["fringe"] above this lets a fringe down (45 % of fringed families)


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


def sample_hair(rng: np.random.Generator, gender: str, age_years: float, allowed: tuple[str, ...],
                ancestry: dict[str, float] | None = None) -> tuple[str, str, dict[str, float]]:
    """(family, hairline, parameters) of one identity's hair, among the ``allowed`` families.

    Hair texture follows ancestry: most people of African ancestry have coily hair, worn mostly
    close-cropped, short or as an afro, less often long; East Asian hair is mostly straight. Drawn
    without ancestry, nearly every dark-skinned avatar wore straight, parted hair.
    """
    african, asian = (ancestry or {}).get("african", 0.0), (ancestry or {}).get("asian", 0.0)
    factor = _WOMEN_ANCESTRY_FACTOR if gender == "female" and age_years >= 18 else _ANCESTRY_FACTOR
    odds = {family: p * factor.get(family, 1.0) ** african
            for family, p in _odds(gender, age_years).items() if family in allowed}
    if not any(odds.values()):
        odds = {family: 1.0 for family in allowed}
    families, p = tuple(odds), np.asarray(tuple(odds.values()), float)
    family = families[int(rng.choice(len(families), p=p / p.sum()))]
    hairline = HAIRLINES[int(rng.choice(len(HAIRLINES), p=(0.35, 0.25, 0.12, 0.13, 0.15)))]
    coily = rng.random() < african * _COILY_SHARE
    curl = rng.uniform(CURLY, 1) if coily else rng.uniform(0, 1) * (1 - _ASIAN_STRAIGHTER * asian)
    params = {
        "length": round(float(rng.uniform(0, 1)), 3),  # within the family's range
        "volume": round(float(rng.uniform(0, 1)), 3),
        "curl": round(float(curl), 3),
        "part": round(float(rng.uniform(-1, 1)), 3),  # side of the parting, -1 right .. 1 left
        "fringe": round(float(rng.uniform(0, 1)), 3),
    }
    return family, hairline, params


def is_curly(spec: AvatarSpec) -> bool:
    """Whether the identity's hair is drawn curly or coily: the afro family, or curl above ``CURLY``."""
    return spec.hair_family == "afro" or spec.hair.get("curl", 0.0) > CURLY

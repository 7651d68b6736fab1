"""anny phenotype values of an identity, drawn from anny's own age-conditional calibration."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from painsynth.animate import import_anny
from painsynth.avatars.tables import PHENOTYPE_LABELS


def anny_root() -> Path:
    import_anny()
    from anny.paths import get_anny_root_dir

    return Path(get_anny_root_dir())


# How far anny's calibrated draws are shrunk toward 0.5 (0: anny's own spread). Measured with dlib
# (30 avatars, seed 1): no shrink at all, or weight/muscle/proportions moved by 0.25, changes a face
# about 0.09 per 13 mm (a quarter of what eyes, nose or mouth give per mm) and the same-person share
# by 1-2 points, so the shrink that keeps the U-shaped extremes out stays.
SHRINK = {"muscle": 0.4, "weight": 0.4, "height": 0.0}
PROPORTIONS_BETA = (2.0, 3.0)  # Beta of anny's body proportions


def sample_phenotype(
    rng: np.random.Generator, gender: str, age_years: float, ancestry: dict[str, float]
) -> dict[str, float]:
    age = years_to_anny_age(age_years)
    calibration = _shape_calibration("boys" if gender == "male" else "girls")

    def anny_draw(name: str, shrink: float) -> float:
        # anny's calibrated Beta per age; shrunk toward 0.5 because its adult weight and muscle
        # Betas are U-shaped and their extremes give caricatures rather than faces.
        alpha, beta = calibration[name](age)
        return 0.5 + (1.0 - shrink) * (float(rng.beta(alpha, beta)) - 0.5)

    woman = gender == "female" and age_years >= 18
    phenotype = {
        "gender": float(rng.uniform(0.85, 1.0) if gender == "female" else rng.uniform(0.0, 0.15)),
        "age": age,
        "muscle": anny_draw("muscle", SHRINK["muscle"]),
        "weight": anny_draw("weight", SHRINK["weight"]),
        "height": anny_draw("height", SHRINK["height"]),
        "proportions": float(rng.beta(*PROPORTIONS_BETA)),
        "cupsize": float(rng.beta(3, 3)) if woman else 0.5,
        "firmness": float(rng.beta(3, 3) - 0.004 * max(age_years - 40, 0)) if woman else 0.5,
        **ancestry,
    }
    return {k: round(float(np.clip(phenotype[k], 0.0, 1.0)), 4) for k in PHENOTYPE_LABELS}


@functools.lru_cache(maxsize=2)
def _calibration_state(group: str) -> dict:
    import torch

    path = anny_root() / f"data/shape_calibration/{group}.pth"
    return torch.load(path, weights_only=True, map_location="cpu")


@functools.lru_cache(maxsize=1)
def _age_mapping():
    import_anny()
    from anny.shape_distribution import MorphologicalAgeMapping

    mapping = MorphologicalAgeMapping()
    mapping.load_state_dict(_calibration_state("boys")["morphological_age_mapping"])
    return mapping


def years_to_anny_age(age_years: float) -> float:
    import torch

    years = torch.tensor([age_years], dtype=torch.float64)
    return float(_age_mapping().morphological_to_anny_age(years)[0])


@functools.lru_cache(maxsize=2)
def _shape_calibration(group: str) -> dict:
    """anny's age-conditional Beta parameters for muscle, weight and height of boys or girls."""
    import torch
    import_anny()
    from anny.shape_distribution import ConditionalBetaDistribution

    params = {}
    for name in ("muscle", "weight", "height"):
        distribution = ConditionalBetaDistribution()
        distribution.load_state_dict(_calibration_state(group)[f"conditional_{name}_distribution"])

        def at_age(age: float, distribution=distribution) -> tuple[float, float]:
            ages = torch.tensor([age], dtype=torch.float64)
            alpha, beta = distribution.get_distribution_params(ages)
            return float(alpha[0]), float(beta[0])

        params[name] = at_age
    return params

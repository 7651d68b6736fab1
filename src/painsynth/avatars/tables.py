"""Named choices of the avatar bank, shared by every stage that reads specs (no heavy imports)."""

from __future__ import annotations

# Monk Skin Tone scale (Monk 2019; Google's 10 official swatches), lightest to darkest.
MONK_TONES: tuple[str, ...] = (
    "f6ede4", "f3e7db", "f7ead0", "eadaba", "d7bd96",
    "a07e56", "825c43", "604134", "3a312a", "292420",
)
ANCESTRIES: tuple[str, ...] = ("african", "asian", "caucasian")
GENDERS: tuple[str, ...] = ("female", "male")
# Age bands in years, [low, high): 18-30, 31-45, 46-60, 61-85; children 4-11 and 12-17.
ADULT_AGE_BANDS: tuple[tuple[int, int], ...] = ((18, 31), (31, 46), (46, 61), (61, 85))
CHILD_AGE_BANDS: tuple[tuple[int, int], ...] = ((4, 12), (12, 18))

EYE_COLORS: tuple[str, ...] = ("dark_brown", "brown", "hazel", "green", "blue", "grey")
HAIR_COLORS: tuple[str, ...] = ("black", "dark_brown", "brown", "blond", "red", "grey", "white")
HAIR_STYLES: tuple[str, ...] = (
    "bald", "balding", "buzz", "receding", "straight", "widows_peak", "tied_back",
)
FACIAL_HAIR: tuple[str, ...] = ("none", "stubble", "moustache", "beard")

PHENOTYPE_LABELS: tuple[str, ...] = (
    "gender", "age", "muscle", "weight", "height", "proportions", "cupsize", "firmness",
    "african", "asian", "caucasian",
)

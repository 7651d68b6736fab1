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
# Hair families, each built as geometry over the scalp (painted scalp underneath).
HAIR_FAMILIES: tuple[str, ...] = (
    "bald", "balding", "receding", "buzz", "short", "medium", "long_straight", "long_wavy",
    "ponytail", "bun", "afro",
)
# Hairline shapes over the forehead.
HAIRLINES: tuple[str, ...] = ("straight", "rounded", "widows_peak", "m_shaped", "high")
FACIAL_HAIR: tuple[str, ...] = ("none", "stubble", "moustache", "goatee", "beard", "full_beard")
GARMENTS: tuple[str, ...] = ("hospital_gown", "t_shirt", "collared_shirt", "sweater", "tank_top")
GARMENT_PATTERNS: tuple[str, ...] = ("plain", "stripes", "check", "dots")
# Frame shapes; "none" is no glasses.
GLASSES: tuple[str, ...] = ("none", "rectangular", "round", "oval", "cat_eye", "browline")
GLASSES_SHARE = 0.25  # default share of identities wearing glasses
EARRINGS: tuple[str, ...] = ("none", "stud", "hoop")  # "none" is no earrings

PHENOTYPE_LABELS: tuple[str, ...] = (
    "gender", "age", "muscle", "weight", "height", "proportions", "cupsize", "firmness",
    "african", "asian", "caucasian",
)

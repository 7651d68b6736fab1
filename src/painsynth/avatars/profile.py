"""The face in profile: the nose tip stands in front of both lips.

How far the nose tip stands in front of each lip along the face's forward axis (its margins, at the
vertices ``NOSE_TIP`` and ``LIPS`` of anny's topology): in adults a few millimetres with African
ancestry, about a centimetre with European. Drawn freely, the bank's nose and mouth modifiers (its
smaller average nose, the draws of nose depth, mouth position and chin) left the lips level with or in
front of the nose tip on many faces: on 600 avatars of one bank (``sample_avatars(600, 5)``), a lip
within 3 mm of the tip or in front of it on 57 % of those of mostly African ancestry (upper lip: median
3.0 mm, tenth percentile -5.2 mm), 32 % of the East Asian and 5 % of the European ones. Seen from the
side such a face is a muzzle, not a person. anny's own faces, without modifiers, keep the tip 3-18 mm
in front of the upper lip (80 phenotypes of bank 1).

So the margins are predicted from the phenotype and the face modifiers, linearly (``PROFILE_BASE_MM``,
``PROFILE_MM``: measured with ``benchmarks/face_shape_ranges.py --profile``, 0.3 mm RMS from anny's own
meshes on 80 drawn faces), and where a margin falls under ``FLOOR_MM + SOFT_MM`` the modifiers that bring
that lip forward are scaled towards 0, to a margin eased into (FLOOR_MM, FLOOR_MM + SOFT_MM]. No face is
left under FLOOR_MM unless anny's own face of its phenotype is (the rule only takes back what the
modifiers bring), and the faces that were under it are not all left at one value. With it (and the
average face's shallower nose spared on African ancestry, ``face_shape.AVERAGE_FACE_SPARED``), the same
600 avatars measured on anny: upper-lip margin median 7.8 / 7.1 / 12.2 mm (African / East Asian /
European), tenth percentile 4.6 / 4.5 / 6.0 mm, least 3.8 / 3.2 / 3.8 mm.
"""

from __future__ import annotations

import numpy as np

NOSE_TIP = 297  # anny vertex: the most forward point of the nose on the midline (pronasale)
LIPS = (466, 495)  # anny vertices: the most forward midline points of the upper and lower lip
# A pulled-in margin is eased into (FLOOR_MM, FLOOR_MM + SOFT_MM]. With a floor of 2 mm the faces it pulled
# in still looked like muzzles side-on (the eight of benchmarks/profile_sheet.py); 4 mm stays below where
# anny puts an unmodified African-ancestry adult's upper lip (about 5 mm behind the tip).
FLOOR_MM = 4.0
SOFT_MM = 3.0
# mm the tip stands in front of the (upper, lower) lip per unit of each phenotype value; the ancestry
# weights, which sum to 1, carry the intercept.
PROFILE_BASE_MM: dict[str, tuple[float, float]] = {
    "african": (-6.44, -4.90), "asian": (-3.16, 0.03), "caucasian": (3.81, 8.78),
    "age": (12.16, 11.46), "gender": (-1.71, -2.23), "height": (4.90, 6.53), "muscle": (0.05, 0.35),
    "weight": (-0.27, -0.01), "proportions": (-0.22, -0.01), "cupsize": (-0.21, -0.39), "firmness": (0.19, 0.43),
}
# Change of the (upper, lower) margins, mm, with a modifier at -1 and at +1 on the average head (the
# modifiers that move either by more than 0.3 mm); in between, linear on each side of 0.
PROFILE_MM: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "nose-scale-depth-incr": ((-11.8, -11.8), (8.6, 8.6)),
    "mouth-trans-forward": ((6.4, 6.4), (-10.2, -10.3)),
    "nose-volume-incr": ((7.7, 7.7), (4.3, 4.3)),
    "chin-prognathism-incr": ((0.0, 7.0), (0.0, -7.0)),
    "nose-point-up": ((6.4, 6.4), (0.0, 0.0)),
    "nose-trans-forward": ((-2.9, -3.4), (5.9, 5.9)),
    "mouth-lowerlip-volume-incr": ((0.0, 2.0), (0.0, -4.1)),
    "mouth-scale-depth-incr": ((3.9, 2.5), (-2.9, -1.9)),
    "mouth-upperlip-volume-incr": ((2.3, 0.0), (-1.5, 0.0)),
    "head-age-incr": ((-1.6, -1.7), (1.9, 1.9)),
    "mouth-lowerlip-middle-up": ((0.0, -1.1), (0.0, 0.0)),
    "mouth-trans-up": ((0.0, 0.0), (-1.0, -1.0)),
    "nose-septumangle-incr": ((-0.1, -0.1), (0.5, 0.5)),
}


def contributions(shape: dict[str, float]) -> dict[str, np.ndarray]:
    """label -> its change of the (upper, lower) margins, mm, at its value in ``shape``."""
    out = {}
    for label, (at_minus, at_plus) in PROFILE_MM.items():
        value = shape.get(label, 0.0)
        out[label] = np.array(at_plus) * value if value >= 0 else np.array(at_minus) * -value
    return out


def margins_on(vertices: np.ndarray) -> np.ndarray:
    """[2]: mm the nose tip stands in front of the upper and the lower lip on anny's vertices [V, 3] (metres,
    the face looking to -y): what the tables predict."""
    return 1000 * (vertices[list(LIPS), 1] - vertices[NOSE_TIP, 1])


def profile_margins(shape: dict[str, float], phenotype: dict[str, float]) -> np.ndarray:
    """[2]: mm the nose tip stands in front of the upper and the lower lip, predicted."""
    base = sum(np.array(PROFILE_BASE_MM[k]) * phenotype.get(k, 0.0) for k in PROFILE_BASE_MM)
    return base + sum(contributions(shape).values())


def eased(margin: float) -> float:
    """The margin a face is given: kept above FLOOR_MM + SOFT_MM, eased into (FLOOR_MM, FLOOR_MM + SOFT_MM]
    below it (smoothly: the same value and slope where the two meet)."""
    knee = FLOOR_MM + SOFT_MM
    return margin if margin >= knee else FLOOR_MM + SOFT_MM * float(np.exp((margin - knee) / SOFT_MM))


def lips_behind_nose(shape: dict[str, float], phenotype: dict[str, float]) -> dict[str, float]:
    """``shape`` with the modifiers that bring a lip forward scaled towards 0 where its margin is under
    FLOOR_MM + SOFT_MM, to the :func:`eased` margin (upper lip first; the modifiers that bring the lower lip
    forward bring the upper one forward too or leave it, so putting the lower right keeps the upper)."""
    shape = dict(shape)
    for lip in range(2):
        margin = float(profile_margins(shape, phenotype)[lip])
        wanted = eased(margin)
        forward = {label: c[lip] for label, c in contributions(shape).items() if c[lip] < 0}
        pulled = sum(forward.values())
        if wanted <= margin or pulled >= 0:
            continue
        keep = float(np.clip(1.0 - (wanted - margin) / -pulled, 0.0, 1.0))
        for label in forward:
            shape[label] = round(shape[label] * keep, 3)
    return shape

"""Where scalp hair grows: the hairline by hairline style and family, a balding head's bare top, and the
parting; shared by the hair's geometry (:mod:`painsynth.avatars.hair`) and the scalp painted under it
(:mod:`painsynth.avatars.hair_texture`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from painsynth.avatars.colour import smoothstep
from painsynth.avatars.cut_mesh import CutMesh
from painsynth.avatars.hair_style import CURLY, FRINGE_FROM, FRINGED

# Hairline elevation (degrees) by azimuth (degrees from the nose), knots for a typical short cut:
# high over the forehead, a sideburn in front of the ear, over the ear, down to the nape.
_HAIRLINE_AZIMUTH = (0, 30, 50, 68, 73, 80, 84, 112, 130, 180)
_HAIRLINE = {
    "straight": (36, 34, 26, 10, -22, -22, 0, 0, -25, -55),
    # Long or tied hair: the scalp hair reaches down the nape to the neck.
    "tied_back": (36, 34, 24, 6, -28, -34, -36, -40, -50, -65),
}
TIED_OR_LONG = ("long_straight", "long_wavy", "ponytail", "bun")


def hairline_elevation(azimuth: np.ndarray, family: str, hairline: str) -> np.ndarray:
    """Elevation (degrees) of the lower edge of the scalp hair at each azimuth (degrees)."""
    a = np.abs(np.asarray(azimuth, np.float64))
    edge = np.interp(a, _HAIRLINE_AZIMUTH, _HAIRLINE["tied_back" if family in TIED_OR_LONG else "straight"])
    if hairline == "rounded":  # a smooth arc: temples filled in, the middle a little higher
        edge += 2.5 * np.clip(1 - a / 25, 0, 1) - 4 * np.exp(-(((a - 38) / 12) ** 2))
    elif hairline == "widows_peak":
        edge -= 7 * np.clip(1 - a / 14, 0, 1) - 3 * np.exp(-(((a - 22) / 10) ** 2))
    elif hairline == "m_shaped":  # recessed temples either side of a central lobe
        edge += 7 * np.exp(-(((a - 30) / 11) ** 2)) - 1.5 * np.clip(1 - a / 12, 0, 1)
    elif hairline == "high":
        edge += 6 * np.clip(1 - a / 70, 0, 1)
    if family in ("receding", "balding"):
        edge += 14 * np.exp(-(((a - 32) / 16) ** 2)) + 5 * (a < 60)
    return edge


def balding_top(azimuth: np.ndarray) -> np.ndarray:
    """Elevation (degrees) above which a balding head is bare: a fringe round the back and sides."""
    return 12 + 0.1 * np.clip(np.abs(azimuth) - 90, 0, 90)


def hair_depth(azimuth: np.ndarray, elevation: np.ndarray, family: str, hairline: str) -> np.ndarray:
    """Degrees inside the scalp hair (negative outside): distance to the hairline, and for a
    balding head to the bare top as well."""
    depth = elevation - hairline_elevation(azimuth, family, hairline)
    if family == "balding":
        depth = np.minimum(depth, balding_top(azimuth) - elevation)
    return depth


# Parting: a line of scalp between the shells, painted under them too.
# A line in the face frame (interocular units): x = the parting's side, from the front hairline back
# to the crown, narrowing to nothing behind it.
_PARTED = ("short", "medium", "long_straight", "long_wavy")
_CENTRE_PART = 0.3  # |hair["part"]| below this parts in the middle
_SIDE_PART = 0.7  # x of the side parting at |hair["part"]| = 1 (the pupils are at 0.5)
_PART_HALF_WIDTH = 0.03  # (~1.7 mm: a line of scalp 3-4 mm wide, 2-3 px at 224 px)
_PART_CROWN = (1.6, 1.9)  # face-frame depth (y, back) over which the parting narrows to nothing
_PART_FRONT = 0.6  # face-frame height the parting starts from (its width grows over 0.3 above it)
_PART_FRONT_BEHIND_FRINGE = 1.25  # the same behind a let-down fringe (the head's top is at ~1.85)


@dataclass(frozen=True)
class Parting:
    """A parting line at face-frame x = ``x``, from height ``front`` (face frame) back to the crown."""

    x: float
    front: float

    def half_width(self, face: np.ndarray) -> np.ndarray:
        """Half the line's width (interocular units) at face-frame points [N, 3]."""
        along = 1 - smoothstep(*_PART_CROWN, face[:, 1])
        return _PART_HALF_WIDTH * along * smoothstep(self.front, self.front + 0.3, face[:, 2])

    def distance(self, face: np.ndarray) -> np.ndarray:
        """How far outside the line face-frame points [N, 3] lie (interocular units; negative on it)."""
        return np.abs(face[:, 0] - self.x) - self.half_width(face)

    def cut(self, scalp: CutMesh) -> CutMesh:
        """The scalp mesh less the line: cut along both of its sides. Each side's field is nearly
        linear in the face frame, so the cut on the scalp's own triangles lies on it without
        refining them (refined once, the shells had 1.5x the triangles and looked the same at 224 px)."""
        return scalp.clip(lambda f: (f[:, 0] - self.x) + self.half_width(f), refine=0).joined(
            scalp.clip(lambda f: (self.x - f[:, 0]) + self.half_width(f), refine=0))


def parting(family: str, p: dict) -> Parting | None:
    """The parting of this hair, or None for a family worn without one. Behind a let-down fringe it
    starts on the top of the head: cut through the fringe, it left a bare stripe down the forehead."""
    if family not in _PARTED or p.get("curl", 0.0) > CURLY:
        return None
    side = float(p.get("part", 0.0))
    fringe = family in FRINGED and p.get("fringe", 0.0) > FRINGE_FROM
    return Parting(x=0.0 if abs(side) < _CENTRE_PART else _SIDE_PART * side,
                   front=_PART_FRONT_BEHIND_FRINGE if fringe else _PART_FRONT)

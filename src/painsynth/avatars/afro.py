"""An afro's shape: how far each point of the scalp is lifted, and in which direction, so that the hair's
outline is a round halo over the upper head (used by :mod:`painsynth.avatars.hair`'s shells)."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.colour import smoothstep

# Its depth, as a share of the full depth, rises with the elevation (degrees above the head centre) from
# the nape and over the ears to the upper head: cut close there and full above, it reads as an afro; as
# deep at the nape as on top, it made a bob-like shelf round the back of the head. Full from 10 degrees,
# it comes down round the sides to the tops of the ears (full from 25, it ended in a shelf above them).
CLOSE, FULL_FROM = 0.3, (-25.0, 10.0)
# Thin over the forehead and temples, so the face stays open: up to 50-70 degrees of elevation (the
# forehead's hairline lies near 45), and from the front round to 60-110 degrees of azimuth. Thin up to the
# crown, it drew a notch between two peaks in front view; thin only to 40-95 degrees round, a child's afro
# at full volume covered 6 % of its eyes and brows at 45 degrees (tests/avatars/test_hair.py).
OPEN_UP_TO, OPEN_ROUND_TO = (50.0, 70.0), (60.0, 110.0)
OPEN_SHARE = 0.35  # the depth kept over the open part
# The ellipsoid the hair fills: widest at this share of the skull's height above the eyes, and its full
# depth times these outside the skull (sides, front and back, top): as deep on top as at the sides, it
# stood up in a peak.
WIDEST = 0.35
SPREAD = (1.1, 1.0, 0.85)


def afro_taper(azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """[N] share of the full depth at each point (degrees [N] round the head and above its centre)."""
    open_front = (1 - smoothstep(*OPEN_ROUND_TO, np.abs(azimuth))) * (1 - smoothstep(*OPEN_UP_TO, elevation))
    return (1 - (1 - OPEN_SHARE) * open_front) * (CLOSE + (1 - CLOSE) * smoothstep(*FULL_FROM, elevation))


def afro_lift(low: np.ndarray, high: np.ndarray, points: np.ndarray, normals: np.ndarray,
              depth: float) -> tuple[np.ndarray, np.ndarray]:
    """How far (m) [N] and in which directions [N, 3] the scalp ``points`` [N, 3] are lifted to meet an
    ellipsoid round the upper skull (its box above the eyes: corners ``low``, ``high`` [3]), ``depth`` outside
    it: half along their ``normals`` [N, 3], half out from the ellipsoid's centre. Lifted along the normals
    alone, the outline followed every bump of the scalp (it looked crumpled); out from the centre alone, the
    hair at the temples came forward over the brows."""
    centre = (low + high) / 2
    centre[2] = low[2] + WIDEST * (high[2] - low[2])
    radii = np.append((high - low)[:2] / 2, high[2] - centre[2]) + depth * np.asarray(SPREAD)
    out = points - centre
    out /= np.maximum(np.linalg.norm(out, axis=1), 1e-9)[:, None]
    direction = out + normals
    direction /= np.maximum(np.linalg.norm(direction, axis=1), 1e-9)[:, None]
    q, e = (points - centre) / radii, direction / radii  # the ray in the frame where the ellipsoid is a unit sphere
    a, b, c = (e * e).sum(axis=1), (q * e).sum(axis=1), (q * q).sum(axis=1) - 1
    reach = (-b + np.sqrt(np.maximum(b * b - a * c, 0.0))) / a
    return np.where(c < 0, reach, 0.0), direction

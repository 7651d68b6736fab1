"""``direct`` retargeting: MediaPipe's blendshape scores as anny's face units, less the neutral face's.

Per unit, the neutral level ``b`` is the neutral face's score (MediaPipe scores sit above zero on a
relaxed face, and by a person-specific amount); the weight is ``(score - b) / (1 - b)`` clipped to
[0, 1], so the neutral face maps to 0 and a full score still maps to 1. The weights are then smoothed
over time as the landmark fit's are, all but the blinks, and the gaze is read as one for both eyes
(:mod:`painsynth.capture.retarget.gaze`).
"""

from __future__ import annotations

import numpy as np

from painsynth.capture.patches import eye_width_ratio
from painsynth.capture.retarget.base import Observation
from painsynth.capture.retarget.gaze import conjugate_gaze, left_eye_share
from painsynth.capture.timeline import smooth_rows
from painsynth.tracks import BLENDSHAPE_INDEX

# Read from a clip itself, the neutral level is this percentile of each unit's valid frames: a unit
# active nearly all the clip loses its offset, which is why a person's own neutral is preferred.
NEUTRAL_PERCENTILE = 5.0
# Read from dedicated neutral material (a baseline clip, a neutral photo): its median frame.
DEDICATED_PERCENTILE = 50.0
# MediaPipe's scores jitter from frame to frame; smoothed over this many frames (Savitzky-Golay, order 2,
# as the fit's weights), real videos replayed on avatars and read back (benchmarks/real_roundtrip.py)
# replay better: per-unit median r 0.84 / 0.76 -> 0.85 / 0.77 (front / 30 degrees), on a held-out bank
# 0.80 / 0.73 -> 0.81 / 0.74 (window 7: the same medians). The blinks are left as read: a blink lasts
# about as long as the window.
SMOOTH_WINDOW = 5
SMOOTHED = np.array([i for name, i in BLENDSHAPE_INDEX.items() if not name.startswith("eyeBlink")])


def neutral_scores(scores: np.ndarray, valid: np.ndarray | None = None, dedicated: bool = False) -> np.ndarray:
    """The neutral level [52] of each unit from scores [T, 52] (``dedicated``: neutral material);
    ``valid`` [T] (default all) marks the frames to read."""
    scores = np.clip(np.asarray(scores, np.float64), 0.0, 1.0)
    reference = scores[valid] if valid is not None and np.any(valid) else scores
    percentile = DEDICATED_PERCENTILE if dedicated else NEUTRAL_PERCENTILE
    return np.minimum(np.percentile(reference, percentile, axis=0), 0.99)


def direct_retarget(scores: np.ndarray, valid: np.ndarray, neutral: np.ndarray | None = None) -> np.ndarray:
    """Weights [T, 52] from MediaPipe's scores [T, 52]; ``neutral`` [52] (default: the clip's own)."""
    scores = np.clip(np.asarray(scores, np.float64), 0.0, 1.0)
    if neutral is None:
        neutral = neutral_scores(scores, valid)
    neutral = np.minimum(np.asarray(neutral, np.float64), 0.99)
    weights = np.clip((scores - neutral) / (1.0 - neutral), 0.0, 1.0)
    return np.clip(smooth_rows(weights, SMOOTH_WINDOW, SMOOTHED), 0.0, 1.0).astype(np.float32)


def read_direct(observation: Observation, neutral: np.ndarray | None = None) -> np.ndarray:
    """``direct``'s weights [T, 52] of a clip: :func:`direct_retarget` against the neutral scores [52] (default:
    the clip's own), with one gaze for both eyes, each eye weighted by how fully the landmarks show it."""
    weights = direct_retarget(observation.scores, observation.valid, neutral)
    return conjugate_gaze(weights, left_eye_share(eye_width_ratio(observation.landmarks, observation.image_size)))

"""``direct`` retargeting: MediaPipe's blendshape scores as anny's face units, less the neutral face's.

Per unit, the neutral level ``b`` is the neutral face's score (MediaPipe scores sit above zero on a
relaxed face, and by a person-specific amount); the weight is ``(score - b) / (1 - b)`` clipped to
[0, 1], so the neutral face maps to 0 and a full score still maps to 1.
"""

from __future__ import annotations

import numpy as np

# Read from a clip itself, the neutral level is this percentile of each unit's valid frames: a unit
# active nearly all the clip loses its offset, which is why a person's own neutral is preferred.
NEUTRAL_PERCENTILE = 5.0
# Read from dedicated neutral material (a baseline clip, a neutral photo): its median frame.
DEDICATED_PERCENTILE = 50.0


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
    return np.clip((scores - neutral) / (1.0 - neutral), 0.0, 1.0).astype(np.float32)

"""Gaze read as one direction for both eyes.

Both eyes turn together: vertical gaze is conjugate, horizontal differs only by vergence, which a face filmed
from a metre hardly shows. MediaPipe scores each eye's gaze on its own, and the far eye of a turned face
poorly. In the four real videos of ``benchmarks/real_roundtrip.py`` the two eyes' scores move together
(down r 0.77-1.00, up 0.54-0.99, one eye's out with the other's in 0.50-1.00; the lowest in glasses), while
their avatar replays seen at 30 degrees read the far eye's down-gaze at r 0.67 against the near eye's 0.86.
So capture reads one gaze from both eyes, each weighted by how fully it is seen (equally frontally, the near
eye alone from ``NEAR_EYE_ONLY`` on), and gives it to both: the same down and up, and sideways one eye's out
as the other's in.
"""

from __future__ import annotations

import numpy as np

from painsynth.capture.retarget.cue import BOTH_SIDES_EYE_RATIO
from painsynth.tracks import BLENDSHAPE_INDEX

# |eye width log ratio| (patches.eye_width_ratio) from which only the near eye is read: where the image
# cue, too, stops reading the far eye (~0.35 at 30 degrees, 0.55-0.8 at 45).
NEAR_EYE_ONLY = BOTH_SIDES_EYE_RATIO
VERTICAL = ("eyeLookDown", "eyeLookUp")
# Gaze towards the subject's left: the left eye looks out, the right eye in.
TOWARDS_LEFT = ("eyeLookOutLeft", "eyeLookInRight")
TOWARDS_RIGHT = ("eyeLookInLeft", "eyeLookOutRight")


def left_eye_share(eye_ratio: np.ndarray) -> np.ndarray:
    """[T] weight of the subject's left eye's reading (the right's is one minus it), from the eye width log
    ratio [T]: 0.5 frontally, 1 where the left eye is near enough that the right one is not read."""
    return np.clip(0.5 + 0.5 * np.asarray(eye_ratio, np.float64) / NEAR_EYE_ONLY, 0.0, 1.0)


def conjugate_gaze(weights: np.ndarray, left_share: np.ndarray | float = 0.5) -> np.ndarray:
    """Face-unit weights [T, 52] with the eight gaze units made one gaze for both eyes, each eye's reading
    weighted by ``left_share`` [T] (the left eye's; :func:`left_eye_share`)."""
    out = np.array(weights, np.float32, copy=True)
    left = np.broadcast_to(np.asarray(left_share, np.float64), (len(out),))

    def mixed(left_unit: str, right_unit: str) -> np.ndarray:
        return left * weights[:, BLENDSHAPE_INDEX[left_unit]] + (1 - left) * weights[:, BLENDSHAPE_INDEX[right_unit]]

    for stem in VERTICAL:
        out[:, [BLENDSHAPE_INDEX[stem + "Left"], BLENDSHAPE_INDEX[stem + "Right"]]] = mixed(stem + "Left",
                                                                                        stem + "Right")[:, None]
    sideways = mixed(*TOWARDS_LEFT) - mixed(*TOWARDS_RIGHT)
    out[:, [BLENDSHAPE_INDEX[u] for u in TOWARDS_LEFT]] = np.clip(sideways, 0.0, 1.0)[:, None]
    out[:, [BLENDSHAPE_INDEX[u] for u in TOWARDS_RIGHT]] = np.clip(-sideways, 0.0, 1.0)[:, None]
    return out

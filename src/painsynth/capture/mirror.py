"""MediaPipe's landmarks in a mirrored frame: which landmark each one becomes (the mirror map, built by the
capture's calibration from renders and shipped with it) and how a mirrored frame's result maps back."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).with_name("assets")
# Without this file, frames with no face found are not retried mirrored and the blendshape net reads
# each face one way only (as while the map itself is being built).
MIRROR_FILE = "mediapipe_mirror_v1.npz"


@functools.lru_cache(maxsize=1)
def mirror_partners() -> np.ndarray | None:
    """[478] int: the landmark that each landmark of a mirrored frame is in the frame itself (an
    involution), or None where the shipped file is missing."""
    if not (ASSETS / MIRROR_FILE).is_file():
        return None
    with np.load(ASSETS / MIRROR_FILE, allow_pickle=False) as data:
        return data["partner"]


def unmirror(matrix: np.ndarray, landmarks: np.ndarray, partner: np.ndarray):
    """MediaPipe's (matrix [4, 4], landmarks [478, 3]) of a horizontally mirrored frame, as they are
    in the frame itself: the landmarks move back across the image and take their partners' places, and
    the pose is reflected (the canonical face is symmetric about its x = 0 plane, so the reflected pose
    is S M S with S = diag(-1, 1, 1, 1))."""
    landmarks = np.array(landmarks, copy=True)
    landmarks[:, 0] = 1.0 - landmarks[:, 0]
    reflect = np.diag([-1.0, 1.0, 1.0, 1.0])
    return reflect @ matrix @ reflect, landmarks[partner]

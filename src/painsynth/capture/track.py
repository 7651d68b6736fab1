"""A captured MotionTrack from MediaPipe's raw output: validity, head pose, retargeting.

Head pose is converted to anny's axes, relative to the clip's median pose; the face units come from
the chosen retargeting method (:mod:`painsynth.capture.retarget`) against the person's neutral face.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from painsynth.capture.calibration import retarget_assets
from painsynth.capture.landmarks import RawCapture
from painsynth.capture.observe import observe, resample
from painsynth.capture.retarget import CLIP_NEUTRAL, Assets, Neutral, retarget
from painsynth.tracks import MotionTrack

# MediaPipe's canonical face / camera space: x image right, y up, z towards the camera.
# anny's world: z up, the face looks towards -y, +x is the subject's left (image right in the front view).
# A frontal face maps image right -> +x, up -> +z, towards the camera -> -y:  v_anny = MP_TO_ANNY @ v_mp.
MP_TO_ANNY = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
CM_TO_M = 0.01  # MediaPipe's face geometry is in centimetres


class CaptureError(ValueError):
    """A clip cannot be captured (unreadable, empty, truncated, face not found often enough)."""


def head_pose(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(axis-angle rotation [T, 3], translation [T, 3] in metres) in anny's axes, relative to the median pose.

    A frontal face gives zero rotation; a nose turning to the image's right (the subject turning
    to their left) gives positive rotation about anny's z.
    """
    rotations = np.einsum("ij,tjk,lk->til", MP_TO_ANNY, matrices[:, :3, :3], MP_TO_ANNY)
    absolute = Rotation.from_matrix(rotations)
    median = Rotation.from_rotvec(np.median(absolute.as_rotvec(), axis=0))
    relative = (absolute * median.inv()).as_rotvec()  # world-frame delta from the median pose
    translation = matrices[:, :3, 3] @ MP_TO_ANNY.T * CM_TO_M
    return relative.astype(np.float32), (translation - np.median(translation, axis=0)).astype(np.float32)


def check_valid(raw: RawCapture, min_valid: float, source_path: str = "") -> None:
    """CaptureError when the face was found in fewer than ``min_valid`` of the frames."""
    share = float(raw.valid.mean()) if len(raw.valid) else 0.0
    if share < min_valid:
        raise CaptureError(f"{source_path}: face found in {share:.0%} of {len(raw.valid)} frames "
                           f"(needs {min_valid:.0%})")


def build_track(raw: RawCapture, fps: float = 25.0, min_valid: float = 0.8, *, source_path: str = "",
                subject: str = "", label: int = -1, method: str = "hybrid", neutral: Neutral = CLIP_NEUTRAL,
                assets: Assets | None = None) -> MotionTrack:
    """A captured MotionTrack, or CaptureError when the face was found too rarely.

    ``method``: a name of :data:`painsynth.capture.retarget.METHODS`; ``neutral``: the person's neutral
    face (default: each clip's own least active frames); ``assets``: what the method uses (default:
    :func:`painsynth.capture.calibration.retarget_assets`).
    """
    assets = assets or retarget_assets(method)
    check_valid(raw, min_valid, source_path)
    seen = observe(raw, fps)
    rotation, translation = np.zeros((len(raw.times), 3)), np.zeros((len(raw.times), 3))
    rotation[raw.valid], translation[raw.valid] = head_pose(raw.matrices[raw.valid])
    return MotionTrack(
        blendshapes=retarget(method, seen, assets, neutral),
        head_rotation=resample(raw, rotation, fps),
        head_translation=resample(raw, translation, fps),
        valid=seen.valid,
        fps=fps,
        subject=subject,
        label=label,
        source="captured",
        source_path=source_path,
        landmarks=seen.landmarks,
        method=method,
        neutral=neutral.source,
        extra={"mediapipe_blendshapes": seen.scores.astype(np.float32)},
    )

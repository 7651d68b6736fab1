"""Capture: facial motion of real videos as motion tracks.

Landmarking (:mod:`.landmarks`: PyAV decoding + MediaPipe Face Landmarker), the track
(:mod:`.track`), retargeting onto anny's face units (:mod:`.retarget`, one name table of methods),
the built assets (:mod:`.calibration`, the only module that renders) and the batch run (:mod:`.run`, with its
settings and summary in :mod:`.settings`, its work units in :mod:`.jobs` and its neutral faces in :mod:`.neutrals`).
"""

from painsynth.capture.jobs import capture_one
from painsynth.capture.model import MODEL_SHA256, ModelError, packaged_model, verified_model
from painsynth.capture.run import capture
from painsynth.capture.settings import NEUTRAL_MODES, CaptureSettings, CaptureSummary
from painsynth.capture.track import CaptureError, build_track, head_pose
from painsynth.fileio import ERRORS_FILE
from painsynth.sources import CaptureInput, InputError, collect_inputs

__all__ = [
    "CaptureError", "CaptureInput", "CaptureSettings", "CaptureSummary", "ERRORS_FILE", "InputError",
    "MODEL_SHA256", "ModelError", "NEUTRAL_MODES", "build_track", "capture", "capture_one", "collect_inputs",
    "head_pose", "packaged_model", "verified_model",
]

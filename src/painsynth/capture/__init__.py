"""Capture: facial motion of real videos as motion tracks (MediaPipe Face Landmarker, ``direct`` retargeting)."""

from painsynth.capture.inputs import CaptureInput, InputError, collect_inputs, parse_label, parse_name
from painsynth.capture.model import MODEL_SHA256, ModelError, packaged_model, verified_model
from painsynth.capture.run import ERRORS_FILE, CaptureSummary, capture, capture_one
from painsynth.capture.tracker import CaptureError, build_track, direct_retarget, head_pose, run_landmarker

__all__ = [
    "CaptureError", "CaptureInput", "CaptureSummary", "ERRORS_FILE", "InputError", "MODEL_SHA256",
    "ModelError", "build_track", "capture", "capture_one", "collect_inputs", "direct_retarget",
    "head_pose", "packaged_model", "parse_label", "parse_name", "run_landmarker", "verified_model",
]

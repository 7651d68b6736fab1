"""The dlib model files the audit embeds with, found in the installed package or a folder the user gives,
and checked against their published size and SHA-256 before use, so that an audit never runs on a
wrong or damaged model. Also the audit's error, since a missing model file is the first thing to stop it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from painsynth.fileio import file_problem

MODELS_PACKAGE = "face_recognition_models"

# name -> (bytes, SHA-256), from docs/assets.md
MODEL_FILES = {
    "dlib_face_recognition_resnet_model_v1.dat":
        (22_466_066, "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"),
    "shape_predictor_5_face_landmarks.dat":
        (9_150_489, "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"),
}
RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
INSTALL_HINT = ("pip install dlib-bin==20.0.1.post1 && "
                "pip install --no-deps face_recognition_models==0.3.0, or give --models DIR")


class AuditError(ValueError):
    """The audit cannot run: a model file is missing or wrong, or the datasets give nothing to compare."""


def models_folder() -> Path:
    """The ``models/`` folder of the installed face_recognition_models package (not imported, only located)."""
    spec = importlib.util.find_spec(MODELS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise AuditError(f"package {MODELS_PACKAGE!r} is not installed: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def model_paths(models: str | Path | None = None) -> dict[str, Path]:
    """The verified model files: from ``models`` (a folder holding them) or the installed package.

    AuditError names the file when one is missing or its size or SHA-256 is not the expected one.
    """
    folder = Path(models) if models is not None else models_folder()
    if models is not None and not folder.is_dir():
        raise AuditError(f"{folder}: models folder does not exist")
    paths = {}
    for name, (size, digest) in MODEL_FILES.items():
        path = folder / name
        if not path.is_file():
            raise AuditError(f"{path}: model file missing ({INSTALL_HINT})")
        _verify(path, size, digest)
        paths[name] = path
    return paths


def _verify(path: Path, size: int, digest: str) -> None:
    problem = file_problem(path, digest, size)
    if problem:
        raise AuditError(f"{path}: model file {problem}; reinstall face_recognition_models==0.3.0")

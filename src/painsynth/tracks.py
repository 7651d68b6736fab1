"""Motion tracks: the per-clip facial motion every stage exchanges (docs/design.md, "Files between stages").

One ``.npz`` per clip. Arrays are per frame; metadata is stored as 0-d arrays so the file
needs nothing but numpy to read (``allow_pickle`` stays off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from painsynth.fileio import atomic_path

# The 52 ARKit blendshapes in the order that anny's facial actions and MediaPipe share.
ARKIT_BLENDSHAPES: tuple[str, ...] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight",
    "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward",
    "jawLeft", "jawOpen", "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight",
    "mouthFrownLeft", "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft",
    "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)
BLENDSHAPE_INDEX = {name: i for i, name in enumerate(ARKIT_BLENDSHAPES)}


def other_side(name: str) -> str:
    """The unit's mirror image: ``eyeSquintLeft`` -> ``eyeSquintRight`` and back; a unit with no side is its own."""
    for side, other in (("Left", "Right"), ("Right", "Left")):
        if name.endswith(side):
            return name[:-len(side)] + other
    return name

# BioVid Part A class names by pain level.
LEVEL_NAMES = ("BL1", "PA1", "PA2", "PA3", "PA4")

# A captured subject's neutral face, kept beside their tracks (capture's neutrals/ folder): not a track.
NEUTRAL_SUFFIX = ".neutral.npz"

_META_KEYS = ("source_path", "subject", "label", "source", "method", "neutral")


class TrackError(ValueError):
    """A motion track file is missing, unreadable or inconsistent."""


@dataclass
class MotionTrack:
    blendshapes: np.ndarray  # [T, 52] float32 in [0, 1]
    head_rotation: np.ndarray  # [T, 3] axis-angle, radians, relative to the clip's median pose
    head_translation: np.ndarray  # [T, 3] metres, relative to the clip's median pose
    valid: np.ndarray  # [T] bool
    fps: float
    subject: str = ""
    label: int = -1  # pain level 0-4, -1 when unknown
    source: str = "procedural"  # procedural | captured | real
    source_path: str = ""
    method: str = ""  # captured tracks: the retargeting method (capture --method)
    neutral: str = ""  # captured tracks: whose neutral face was subtracted (capture --neutral)
    landmarks: np.ndarray | None = None  # [T, 478, 3], captured tracks only
    au: np.ndarray | None = None  # [T, K] AU intensities 0-5, procedural tracks only
    au_names: tuple[str, ...] = ()
    pspi: np.ndarray | None = None  # [T] 0-16
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.blendshapes = np.asarray(self.blendshapes, dtype=np.float32)
        self.head_rotation = np.asarray(self.head_rotation, dtype=np.float32)
        self.head_translation = np.asarray(self.head_translation, dtype=np.float32)
        self.valid = np.asarray(self.valid, dtype=bool)
        n = len(self.blendshapes)
        if self.blendshapes.shape != (n, len(ARKIT_BLENDSHAPES)):
            raise TrackError(f"blendshapes must be [T, 52], got {self.blendshapes.shape}")
        for name in ("head_rotation", "head_translation"):
            if getattr(self, name).shape != (n, 3):
                raise TrackError(f"{name} must be [{n}, 3], got {getattr(self, name).shape}")
        if self.valid.shape != (n,):
            raise TrackError(f"valid must be [{n}], got {self.valid.shape}")
        if self.fps <= 0:
            raise TrackError(f"fps must be positive, got {self.fps}")
        for name in ("au", "pspi", "landmarks"):
            value = getattr(self, name)
            if value is not None:
                value = np.asarray(value, dtype=np.float32)
                if len(value) != n:
                    raise TrackError(f"{name} has {len(value)} frames, blendshapes has {n}")
                setattr(self, name, value)

    @property
    def n_frames(self) -> int:
        return len(self.blendshapes)

    @property
    def pspi_max(self) -> float:
        return float(self.pspi.max()) if self.pspi is not None and len(self.pspi) else float("nan")

    def save(self, path: str | Path) -> Path:
        """Write the track atomically (temporary name, then rename)."""
        path = Path(path)
        arrays: dict[str, np.ndarray] = {
            "blendshapes": self.blendshapes,
            "blendshape_names": np.array(ARKIT_BLENDSHAPES),
            "head_rotation": self.head_rotation,
            "head_translation": self.head_translation,
            "valid": self.valid,
            "fps": np.float32(self.fps),
            "source_path": np.array(self.source_path),
            "subject": np.array(self.subject),
            "label": np.int64(self.label),
            "source": np.array(self.source),
            "method": np.array(self.method),
            "neutral": np.array(self.neutral),
        }
        if self.landmarks is not None:
            arrays["landmarks"] = self.landmarks
        if self.au is not None:
            arrays["au"] = self.au
            arrays["au_names"] = np.array(self.au_names)
        if self.pspi is not None:
            arrays["pspi"] = self.pspi
        arrays.update(self.extra)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "MotionTrack":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except FileNotFoundError:
            raise TrackError(f"{path}: no such motion track") from None
        except Exception as exc:  # zip/npy errors come in many types
            raise TrackError(f"{path}: not a readable motion track ({exc})") from None
        missing = {"blendshapes", "head_rotation", "head_translation", "valid", "fps"} - set(arrays)
        if missing:
            raise TrackError(f"{path}: motion track lacks {sorted(missing)}")
        names = tuple(str(n) for n in arrays.pop("blendshape_names", ARKIT_BLENDSHAPES))
        if names != ARKIT_BLENDSHAPES:
            raise TrackError(f"{path}: blendshape columns are not in ARKit order")
        known = {"blendshapes", "head_rotation", "head_translation", "valid", "fps",
                 "landmarks", "au", "au_names", "pspi", *_META_KEYS}
        au = arrays.get("au")
        return cls(
            blendshapes=arrays["blendshapes"],
            head_rotation=arrays["head_rotation"],
            head_translation=arrays["head_translation"],
            valid=arrays["valid"],
            fps=float(arrays["fps"]),
            subject=str(arrays.get("subject", "")),
            label=int(arrays.get("label", -1)),
            source=str(arrays.get("source", "procedural")),
            source_path=str(arrays.get("source_path", "")),
            method=str(arrays.get("method", "")),
            neutral=str(arrays.get("neutral", "")),
            landmarks=arrays.get("landmarks"),
            au=au,
            au_names=tuple(str(n) for n in arrays.get("au_names", ())),
            pspi=arrays.get("pspi"),
            extra={k: v for k, v in arrays.items() if k not in known},
        )
def readable_track(path: str | Path) -> bool:
    """Whether ``path`` holds a motion track that loads (a finished one, not a partial or foreign file)."""
    try:
        MotionTrack.load(path)
    except TrackError:
        return False
    return True

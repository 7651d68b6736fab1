"""What every retargeting method reads: a clip's observation, the person's neutral face, the built assets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from painsynth.fileio import atomic_path


@dataclass(frozen=True)
class Observation:
    """MediaPipe's view of a clip at the track's frame times (invalid frames filled from their neighbours)."""

    scores: np.ndarray  # [T, 52] blendshape scores, ARKit order
    landmarks: np.ndarray  # [T, 478, 3] normalised image coordinates
    valid: np.ndarray  # [T] bool: a face was found (near) this frame
    image_size: tuple[int, int]  # (width, height) of the source frames: the landmarks' aspect ratio
    patches: np.ndarray | None = None  # [T, 2, P, P] grey eye patches (the image cue's input)


@dataclass(frozen=True)
class Neutral:
    """A person's neutral face as each method reads it; a part left None is read from the clip itself.

    ``source`` says where it came from (recorded in every track made with it), e.g. ``subject S1:
    2 baseline clips``, ``population``, ``image face.png``, ``clip``.
    """

    source: str
    scores: np.ndarray | None = None  # [52] MediaPipe's neutral level per unit (``direct``)
    residual: np.ndarray | None = None  # [478, 3] aligned landmark residual, template metres (``fit``)
    patches: np.ndarray | None = None  # [2, P, P] blurred eye patches (the image cue)

    def save(self, path: str | Path) -> Path:
        arrays = {"source": np.array(self.source)}
        arrays.update({k: v for k, v in (("scores", self.scores), ("residual", self.residual),
                                          ("patches", self.patches)) if v is not None})
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Neutral:
        with np.load(path, allow_pickle=False) as data:
            return cls(source=str(data["source"]), **{k: data[k] for k in ("scores", "residual", "patches")
                                                      if k in data.files})


CLIP_NEUTRAL = Neutral("clip")  # every part read from the clip's own least active frames


@dataclass(frozen=True)
class Assets:
    """What methods need beyond the clip, built once per process by :mod:`painsynth.capture.calibration`."""

    fitter: object | None = None  # retarget.fit.LandmarkFitter
    cue_model: dict[str, np.ndarray] | None = None  # the image cue's regression
    levels: np.ndarray | None = None  # [52] gain per unit on the hybrid's output (1 where none)

"""One identity embedding per clip, the quantity every comparison of the audit is made on: dlib's face
detector, alignment and recognition network on frames spread over the clip. dlib is imported only
here, and only when an embedder is made."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from painsynth.audit.model_files import INSTALL_HINT, RECOGNITION_MODEL, SHAPE_MODEL, AuditError, model_paths
from painsynth.video import read_frames


class Embedder:
    """dlib HOG face detector + 5-point alignment + face-recognition ResNet: 128-d identity embeddings."""

    def __init__(self, models: str | Path | None = None, upsample: int = 1):
        paths = model_paths(models)
        try:
            import dlib
        except ImportError as exc:
            raise AuditError(f"audit needs dlib: {INSTALL_HINT} ({exc})") from None
        self.paths = paths
        self.upsample = upsample
        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(paths[SHAPE_MODEL]))
        self.net = dlib.face_recognition_model_v1(str(paths[RECOGNITION_MODEL]))

    def embed_frame(self, frame: np.ndarray) -> np.ndarray | None:
        """The embedding of the most confident face in an RGB uint8 frame, or None when there is none."""
        image = np.ascontiguousarray(frame[..., :3], dtype=np.uint8)
        boxes, scores, _ = self.detector.run(image, self.upsample, 0.0)
        if not boxes:
            return None
        best = max(range(len(boxes)), key=lambda i: (scores[i], boxes[i].area()))
        shape = self.shape(image, boxes[best])
        return np.asarray(self.net.compute_face_descriptor(image, shape), dtype=np.float64)

    def embed_clip(self, path: str | Path, n_frames: int, sample: int) -> tuple[np.ndarray | None, int, int]:
        """(mean embedding or None, frames with a face, frames sampled) of ``sample`` frames spread over the clip."""
        indices = sample_indices(n_frames, sample)
        embeddings = [e for e in (self.embed_frame(f) for f in read_frames(path, indices)) if e is not None]
        mean = np.mean(embeddings, axis=0) if embeddings else None
        return mean, len(embeddings), len(indices)


def sample_indices(n_frames: int, sample: int) -> list[int]:
    """``sample`` frame indices spread evenly over ``n_frames`` (fewer if the clip is shorter)."""
    if n_frames < 1:
        raise ValueError(f"clip has {n_frames} frames")
    return sorted({round(float(i)) for i in np.linspace(0, n_frames - 1, min(sample, n_frames))})

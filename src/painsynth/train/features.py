"""Captured face features of a clip ([T, 65] per frame) and their cache: the only part of training that runs capture.

Every clip's video is run through :mod:`painsynth.capture` -- the path real videos take, so synthetic
clips are featurised from their rendered pixels exactly as real clips are -- with one of capture's
retargeting methods (``capture_method``, default :data:`~painsynth.train.inputs.DEFAULT_CAPTURE_METHOD`),
each clip read against its own calmest frames (``neutral="clip"``: a clip is featurised alone, without its
subject's other clips). Clips not in the cache are captured in parallel processes, one per core (capture
runs MediaPipe on about one core: two processes captured 40 clips of 138 frames in 61 s instead of 98 s on 2 cores). The features are cached per method under
``<dataset>/features/capture-<method>/<clip_id>.npz``, reused while the video's content (its sha256,
:func:`painsynth.train.datasets.current_sha256`) and the method's retargeting (:func:`feature_cache_key`) match.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from painsynth.executors import LocalExecutor
from painsynth.fileio import atomic_path
from painsynth.tracks import TrackError
from painsynth.train.errors import ClipSkipped, TrainError
from painsynth.train.inputs import DEFAULT_CAPTURE_METHOD, EMBEDDINGS, InputSpec
from painsynth.video import VideoError

FEATURES_DIR = "features"
FEATURE_VERSION = 2

# Landmark-derived distances (MediaPipe Face Mesh indices), in units of the inter-ocular distance
# (outer eye corners 33 and 263): eye openings, brow-to-eye, mouth opening and width, nose-to-lip.
OUTER_EYE_CORNERS = (33, 263)
LANDMARK_DISTANCES = (
    ("eye_open_right", 159, 145), ("eye_open_left", 386, 374),
    ("brow_eye_right", 105, 159), ("brow_eye_left", 334, 386),
    ("mouth_open", 13, 14), ("mouth_width", 61, 291), ("nose_lip", 1, 13),
)
N_FEATURES = 52 + 6 + len(LANDMARK_DISTANCES)


def track_features(track, width: int = 1, height: int = 1) -> np.ndarray:
    """[T, N_FEATURES] float32: blendshapes, head rotation and translation, landmark distances (0 without landmarks)."""
    parts = [track.blendshapes, track.head_rotation, track.head_translation]
    distances = np.zeros((track.n_frames, len(LANDMARK_DISTANCES)), np.float32)
    if track.landmarks is not None:
        points = track.landmarks[:, :, :2] * np.array([width, height], np.float32)  # pixels: square units
        scale = np.linalg.norm(points[:, OUTER_EYE_CORNERS[0]] - points[:, OUTER_EYE_CORNERS[1]], axis=1)
        scale = np.maximum(scale, 1e-6)
        for column, (_, a, b) in enumerate(LANDMARK_DISTANCES):
            distances[:, column] = np.linalg.norm(points[:, a] - points[:, b], axis=1) / scale
    parts.append(distances)
    return np.nan_to_num(np.concatenate(parts, axis=1).astype(np.float32))


def cache_path(root: Path, clip_id: str, spec: InputSpec | None = None) -> Path:
    """Where a clip's cached features (by ``spec``'s capture method) or embeddings (by its encoder) are kept."""
    spec = spec or InputSpec()
    name = f"{clip_id.replace('/', '__').replace(chr(92), '__')}.npz"
    folder = spec.encoder if spec.kind == EMBEDDINGS else f"capture-{spec.capture_method}"
    return root / FEATURES_DIR / folder / name


def check_capture_method(method: str) -> None:
    """TrainError unless ``method`` is one of capture's retargeting methods."""
    from painsynth.capture.retarget import METHODS

    if method not in METHODS:
        raise TrainError(f"unknown capture method {method!r}; available: {', '.join(METHODS)}")


def feature_cache_key(method: str = DEFAULT_CAPTURE_METHOD) -> str:
    """What a cached features file must have been made with to be reused: this module's feature layout,
    the per-clip neutral and capture's retargeting ``method`` (its assets' versions and rules)."""
    from painsynth.capture.calibration import retarget_key

    return f"{FEATURE_VERSION}-clip-neutral-{retarget_key(method)}"


def load_cached_features(path: Path, sha256: str, method: str = DEFAULT_CAPTURE_METHOD) -> np.ndarray | None:
    """The cached features at ``path`` when they were made from this video by this capture, else None."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["sha256"]) != sha256 or str(data["version"]) != feature_cache_key(method):
                return None
            features = data["features"].astype(np.float32)
    except (OSError, KeyError, ValueError, EOFError):
        return None
    return features if features.ndim == 2 and features.shape[1] == N_FEATURES and len(features) else None


def featurise_clip(root: Path, row: dict, model_path: Path, method: str = DEFAULT_CAPTURE_METHOD) -> np.ndarray:
    """Capture one clip of a dataset folder by ``method`` and cache its features; raise on a clip that cannot be captured."""
    from painsynth.capture import CaptureInput, CaptureSettings, capture_one

    entry = CaptureInput(path=root / row["path"], label=int(row["label"]), subject=row["split_group"])
    settings = CaptureSettings(fps=float(row["fps"]), method=method, neutral="clip")
    track, _ = capture_one(entry, model_path, settings)
    features = track_features(track, row["width"], row["height"])
    with atomic_path(cache_path(root, row["clip_id"], InputSpec(capture_method=method))) as tmp:
        np.savez(tmp, features=features, valid=track.valid, sha256=np.array(row["sha256"]),
                 version=np.array(feature_cache_key(method)))
    return features


def _featurise_unit(work: tuple) -> np.ndarray:
    """A clip as executors run it, ``(root, row, model_path, method)``: captured and cached; ClipSkipped
    when it cannot be captured."""
    from painsynth.capture import CaptureError

    root, row, model_path, method = work
    try:
        return featurise_clip(root, row, model_path, method)
    except (CaptureError, VideoError, TrackError, OSError) as exc:
        raise ClipSkipped(str(exc)) from None


def _featurise_positioned(item: tuple) -> np.ndarray:
    return _featurise_unit(item[1])


class CapturedFeatures:
    """Loads the features [T, N_FEATURES] captured by ``method`` of one dataset folder's clips (manifest rows,
    whose ``sha256`` is the video's current content): the cached file when it still matches, else a capture
    of the video. The landmarker model is verified on the first capture; a clip that cannot be captured
    raises ClipSkipped."""

    def __init__(self, root: Path, method: str = DEFAULT_CAPTURE_METHOD, capture_model: str | Path | None = None,
                 workers: int | None = None):
        self.root, self.method, self.capture_model, self._model_path = root, method, capture_model, None
        self.workers = workers or os.cpu_count() or 1

    def _cached(self, row: dict) -> np.ndarray | None:
        cached = cache_path(self.root, row["clip_id"], InputSpec(capture_method=self.method))
        return load_cached_features(cached, row["sha256"], self.method)

    def __call__(self, row: dict) -> np.ndarray:
        features = self._cached(row)
        if features is not None:
            return features
        return _featurise_unit((self.root, row, self._verified_model(), self.method))

    def each(self, rows: Sequence[dict]) -> Iterator[tuple[int, np.ndarray | ClipSkipped]]:
        """(position, features or the ClipSkipped) of every row: the cached ones at once, then the others as
        their captures finish, ``workers`` at a time in separate processes."""
        missing = []
        for position, row in enumerate(rows):
            features = self._cached(row)
            if features is None:
                missing.append(position)
            else:
                yield position, features
        if not missing:
            return
        model_path = self._verified_model()
        runner = LocalExecutor(workers=min(self.workers, len(missing)))
        work = [(position, (self.root, rows[position], model_path, self.method)) for position in missing]
        for (position, _), result in runner.map(_featurise_positioned, work):
            if isinstance(result, BaseException) and not isinstance(result, ClipSkipped):
                result = ClipSkipped(f"{self.root / rows[position]['path']}: capture failed ({result})")
            yield position, result

    def _verified_model(self) -> Path:
        from painsynth.capture import ModelError, verified_model

        if self._model_path is None:
            try:
                self._model_path = verified_model(self.capture_model)
            except ModelError as exc:
                raise TrainError(str(exc)) from None
        return self._model_path

"""Landmarking: run MediaPipe Face Landmarker on every frame of a video (decoded by :mod:`.decode`).

Per frame: 478 landmarks, the facial transformation matrix, 52 ARKit blendshape scores (MediaPipe's
blendshape net on the face turned to the front, :mod:`.blendshapes`), and two small grey patches
around the eyes (:mod:`.patches`, the image cue's input).
Where MediaPipe finds no face in a frame, the frame is tried again as ``RETRIES`` say: mirrored (its
result mirrored back, :func:`painsynth.capture.mirror.unmirror`), then brightened, then both. MediaPipe's
detector is not symmetric: a face turned 45 degrees to one side is missed far more often than the same
face turned to the other (rendered avatars: 10 misses in 200 images at left 45 degrees, none at right 45;
9 of the 10 were found mirrored); and it misses the darkest skin in dim light, which a brighter tone
curve gives back without moving a landmark.
The result, a :class:`RawCapture` at the source frame times, is what the track is built from
(:mod:`painsynth.capture.track`); it can be saved and loaded, so that a batch run can set a
subject's clips aside until that subject's neutral face is known.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from painsynth.capture.blendshapes import blendshape_net
from painsynth.capture.decode import iter_frames, prefetch
from painsynth.capture.mirror import mirror_partners, unmirror
from painsynth.capture.model import verified_model
from painsynth.capture.patches import PATCH, extract_patches
from painsynth.fileio import atomic_path
from painsynth.quiet import native_chatter_filtered
from painsynth.tracks import ARKIT_BLENDSHAPES
from painsynth.video import VideoError

N_LANDMARKS = 478
BRIGHTEN_GAMMA = 0.6  # the tone curve of a brightened retry: level 40 of 255 becomes 84, 128 becomes 168
_BRIGHTER = np.round(255.0 * (np.arange(256) / 255.0) ** BRIGHTEN_GAMMA).astype(np.uint8)


def _brightened(image: np.ndarray) -> np.ndarray:
    return _BRIGHTER[image]


def _mirrored(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


# A frame with no face found is tried again, in this order: (image change, whether it mirrors)
RETRIES = ((_mirrored, True), (_brightened, False), (lambda image: _mirrored(_brightened(image)), True))
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
# On the frame where it (re)finds a face, MediaPipe's VIDEO mode places the landmarks from the
# detector's box, then refines them from its own landmarks over the next frames: on 50 identical
# frames of a still face (224 px) the first frame's landmarks were 3.4 px from where they settle, the
# second 2.0, the third 0.8, then within the ~0.3 px frame-to-frame jitter. The fit read that start as
# brows lowered by up to 0.9 in a clip's first frames. So that frame is read this many more times
# (a frame interval apart in MediaPipe's clock) before its result is kept.
SETTLE_READS = 3
SETTLE_INTERVAL_MS = 40
STILL_GAP_MS = 1000  # between two still images read by one tracker (FaceTracker.still)



@dataclass
class RawCapture:
    """MediaPipe's per-frame output at the source frame times."""

    times: np.ndarray  # [N] seconds from the first frame
    valid: np.ndarray  # [N] bool
    scores: np.ndarray  # [N, 52] ARKit order: MediaPipe's blendshape net on the face turned to the front
    matrices: np.ndarray  # [N, 4, 4] facial transformation matrices (canonical face -> camera, cm)
    landmarks: np.ndarray  # [N, 478, 3] normalised image coordinates
    source_fps: float
    image_size: tuple[int, int] = (1, 1)  # (width, height) of the frames; the landmarks' aspect ratio
    # [N, 2, P, P] grey patches around the eyes (the image cue for cheekSquint / noseSneer);
    # kept instead of the frames themselves, which a long high-resolution clip could not afford
    patches: np.ndarray | None = None

    def save(self, path: str | Path) -> Path:
        """Write atomically (uncompressed: it is set aside for minutes, not kept)."""
        arrays = {"times": self.times, "valid": self.valid, "scores": self.scores, "matrices": self.matrices,
                  "landmarks": self.landmarks, "source_fps": np.float64(self.source_fps),
                  "image_size": np.asarray(self.image_size, np.int64)}
        if self.patches is not None:
            arrays["patches"] = self.patches
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> RawCapture:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        return cls(times=arrays["times"], valid=arrays["valid"], scores=arrays["scores"],
                   matrices=arrays["matrices"], landmarks=arrays["landmarks"],
                   source_fps=float(arrays["source_fps"]), image_size=tuple(int(v) for v in arrays["image_size"]),
                   patches=arrays.get("patches"))


# ---------------------------------------------------------------- MediaPipe

def create_landmarker(options):
    """MediaPipe's Face Landmarker for ``options``, its native start-up log lines filtered out
    (:mod:`painsynth.quiet`; ``painsynth --verbose`` shows them)."""
    from mediapipe.tasks.python import vision

    with native_chatter_filtered():
        return vision.FaceLandmarker.create_from_options(options)


class FaceTracker:
    """MediaPipe Face Landmarker in VIDEO mode; one instance per clip (timestamps restart at 0). A frame
    where it (re)finds a face is read ``SETTLE_READS`` more times, so that its landmarks settle.

    ``raw_results``: read MediaPipe's C result struct straight into arrays instead of through its
    Python result objects (478 landmark objects a frame cost about 1 ms, a tenth of the frame's
    time); falls back to the public API where this mediapipe lacks the struct. ``retries``: the changed
    images tried where no face is found (``RETRIES``; none with ``()``).
    """

    def __init__(self, model: Path, raw_results: bool = True, retries: tuple = RETRIES):
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,
            output_face_blendshapes=False,  # read on the face turned to the front instead (self._net)
            output_facial_transformation_matrixes=True,
        )
        self._options = options
        self._net = blendshape_net(model)
        self._landmarker = create_landmarker(options)
        self._raw = raw_results and _raw_api(self._landmarker)
        self._last_ms = -1
        self._delay_ms = 0  # MediaPipe's clock runs this far behind the video's, for the settling reads
        self._tracking = False  # whether the last frame's face was found by the main landmarker
        self._retry_changes = retries
        self._retries: dict[int, object] = {}  # one landmarker per retry (RETRIES), made at its first use

    def __enter__(self) -> FaceTracker:  # noqa: PYI034
        return self

    def __exit__(self, *exc_info) -> None:
        self._landmarker.close()
        for landmarker in self._retries.values():
            landmarker.close()

    def track(self, time_s: float, image: np.ndarray):
        """(scores [52], matrix [4, 4], landmarks [478, 3]) or None when no face is found, in the
        frame nor in any of its ``RETRIES``; the scores are read on the face turned to the front."""
        return self._with_scores(self._locate(time_s, image), image)

    def _with_scores(self, found, image: np.ndarray):
        """(scores, matrix, landmarks) from :meth:`_locate`'s (matrix, landmarks) in ``image``, or None."""
        if found is None:
            return None
        matrix, landmarks = found
        return self._net.frontal_scores(landmarks, matrix, (image.shape[1], image.shape[0])), matrix, landmarks

    def _locate(self, time_s: float, image: np.ndarray):
        """(matrix [4, 4], landmarks [478, 3]) in the frame or its ``RETRIES``, or None."""
        stamp = max(round(time_s * 1000) + self._delay_ms, self._last_ms + 1)  # must increase strictly
        self._last_ms = stamp

        def detect(attempt: int | None, frame: np.ndarray):
            if attempt is not None:
                if attempt not in self._retries:
                    self._retries[attempt] = create_landmarker(self._options)
                return self._detect(self._retries[attempt], frame, stamp)
            found = self._detect(self._landmarker, frame, stamp)
            settled = found if found is None or self._tracking else self._settle(frame)
            self._tracking = settled is not None
            return found if settled is None else settled

        return first_found(image, detect, self._retry_changes)

    def still(self, image: np.ndarray):
        """:meth:`track` of a still image: its :meth:`still_face` and the scores read on it."""
        return self._with_scores(self.still_face(image), image)

    def still_face(self, image: np.ndarray):
        """(matrix [4, 4], landmarks [478, 3]) of a still image, or None, read as a video's frames are: as a
        newly found face (settled). A blank frame read first ends every landmarker's tracking of the image
        before, so that each image is read as a fresh tracker reads it alone. No scores: callers that want
        only the landmarks skip the blendshape net."""
        stamp, blank = self._later(STILL_GAP_MS), np.full_like(image, 128)
        for landmarker in (self._landmarker, *self._retries.values()):
            self._detect(landmarker, blank, stamp)
        self._tracking = False
        return self._locate(0.0, image)

    def _settle(self, image: np.ndarray):
        """The main landmarker's result for ``image`` after ``SETTLE_READS`` more reads of it (None if the
        face is lost meanwhile)."""
        found = None
        for _ in range(SETTLE_READS):
            found = self._detect(self._landmarker, image, self._later(SETTLE_INTERVAL_MS))
            if found is None:
                return None
        return found

    def _later(self, ms: int) -> int:
        """A stamp ``ms`` after the last one, for a read the video's clock does not see (later frames shift with it)."""
        self._delay_ms += ms
        self._last_ms += ms
        return self._last_ms

    def _detect(self, landmarker, image: np.ndarray, stamp: int):
        import mediapipe as mp

        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        if self._raw:
            return _detect_raw(landmarker, frame, stamp)
        result = landmarker.detect_for_video(frame, stamp)
        if not result.face_landmarks:
            return None
        matrix = (np.asarray(result.facial_transformation_matrixes[0], np.float64).reshape(4, 4)
                  if result.facial_transformation_matrixes else np.eye(4))
        landmarks = np.array([(p.x, p.y, p.z) for p in result.face_landmarks[0]], np.float32)
        return matrix, landmarks


def first_found(image: np.ndarray, detect, retries=RETRIES):
    """What ``detect(attempt, image)`` finds, (matrix, landmarks) or None: in ``image`` itself
    (attempt None), else in each of ``retries`` in turn (attempt = its place in RETRIES), a mirrored
    one mirrored back. Mirrored retries are left out where the mirror map is missing."""
    found = detect(None, image)
    partner = mirror_partners()
    for attempt, (change, mirrors) in enumerate(retries):
        if found is not None:
            break
        if mirrors and partner is None:
            continue
        found = detect(attempt, change(image))
        if found is not None and mirrors:
            found = unmirror(*found, partner)
    return found


def _raw_api(landmarker) -> bool:
    """Whether this mediapipe exposes the C result struct as :func:`_detect_raw` reads it (1.2.x)."""
    try:
        from mediapipe.tasks.python.components.containers import landmark_c
        from mediapipe.tasks.python.vision import face_landmarker
    except ImportError:
        return False
    point = landmark_c.MpNormalizedLandmarkC
    if not hasattr(face_landmarker, "MpFaceLandmarkerResultC"):
        return False
    floats = [name for name, kind in point._fields_[:3] if kind is ctypes.c_float]
    return (hasattr(landmarker, "_lib") and hasattr(landmarker, "_handle") and floats == ["x", "y", "z"]
            and (point.y.offset, point.z.offset) == (point.x.offset + 4, point.x.offset + 8))


def _detect_raw(landmarker, image, stamp: int):
    """``detect_for_video`` reading the result struct directly (same call, same status checks)."""
    from mediapipe.tasks.python.vision.face_landmarker import MpFaceLandmarkerResultC

    result = MpFaceLandmarkerResultC()
    landmarker._lib.MpFaceLandmarkerDetectForVideo(landmarker._handle, image._image_ptr, None, stamp,
                                                   ctypes.byref(result))
    try:
        if not result.face_landmarks_count:
            return None
        face = result.face_landmarks[0]
        point = ctypes.sizeof(face.landmarks._type_)
        data = ctypes.string_at(face.landmarks, point * face.landmarks_count)
        landmarks = np.ndarray((face.landmarks_count, 3), np.float32, data, face.landmarks._type_.x.offset,
                               (point, 4)).copy()
        matrix = (result.facial_transformation_matrixes[0].to_numpy().astype(np.float64).reshape(4, 4)
                  if result.facial_transformation_matrixes_count else np.eye(4))
        return matrix, landmarks
    finally:
        landmarker._lib.MpFaceLandmarkerCloseResult(ctypes.byref(result))


def run_landmarker(path: str | Path, model: Path) -> RawCapture:
    """MediaPipe's output for every frame of a video."""
    return landmark_frames(prefetch(iter_frames(path)), model)


def landmark_image(path: str | Path, model: Path | None = None) -> RawCapture:
    """MediaPipe's output for one still image (a one-frame clip), e.g. a photo of a neutral face."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            frame = np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise VideoError(f"{path}: not a readable image ({exc})") from None
    return landmark_frames([(0.0, frame)], verified_model(model))


def landmark_frames(frames: Iterable[tuple[float, np.ndarray]], model: Path) -> RawCapture:
    """MediaPipe's output for (time in seconds, RGB frame) pairs."""
    times, valid, scores, matrices, landmarks, patches = [], [], [], [], [], []
    size = (1, 1)
    with FaceTracker(model) as tracker:
        for time_s, image in frames:
            size = (image.shape[1], image.shape[0])
            found = tracker.track(time_s, image)
            times.append(time_s)
            valid.append(found is not None)
            if found is None:
                found = (np.zeros(len(ARKIT_BLENDSHAPES), np.float32), np.eye(4),
                         np.zeros((N_LANDMARKS, 3), np.float32))
                patches.append(np.zeros((2, PATCH, PATCH), np.float32))
            else:
                patches.append(extract_patches(image, found[2]))
            scores.append(found[0]), matrices.append(found[1]), landmarks.append(found[2])
    times = np.asarray(times, np.float64)
    times -= times[0]
    step = np.median(np.diff(times)) if len(times) > 1 else 0.0
    return RawCapture(times=times, valid=np.asarray(valid), scores=np.stack(scores),
                      matrices=np.stack(matrices), landmarks=np.stack(landmarks),
                      source_fps=float(1 / step) if step > 0 else 0.0, image_size=size, patches=np.stack(patches))


def detect_image(image: np.ndarray, model: Path | None = None) -> np.ndarray | None:
    """The 478 landmarks [478, 3] (normalised image coordinates) of one image, read as a video's frame where
    it first finds the face (:meth:`FaceTracker.still`), or None."""
    return detect_images([image], model)[0]


def detect_images(images, model: Path | None = None, retry: bool = True) -> list[np.ndarray | None]:
    """:func:`detect_image` for many images, with one tracker (building one costs more than a detection).
    ``retry``: where no face is found, try the image again as ``RETRIES`` say (as a video's frames are)."""
    with FaceTracker(verified_model(model), retries=RETRIES if retry else ()) as tracker:
        found = [tracker.still_face(np.ascontiguousarray(image)) for image in images]
    return [None if result is None else result[1].astype(np.float64) for result in found]

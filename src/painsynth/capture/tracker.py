"""Track a face through a video with MediaPipe Face Landmarker and turn the result into a MotionTrack.

Steps for one clip:
1. decode with PyAV (any frame rate; timestamps from the stream; rotation metadata applied), in a
   background thread that keeps a few frames ready for the landmarker;
2. MediaPipe Face Landmarker, Tasks API, VIDEO mode, one face: 478 landmarks, 52 ARKit blendshape
   scores and the facial transformation matrix per frame, and two small grey patches around the eyes
   (the ``hybrid`` retargeting's image cue, :mod:`painsynth.capture.cue`);
3. frames without a face are marked invalid and filled by linear interpolation over time from
   their valid neighbours (nearest valid frame at the edges);
4. everything is resampled to the track's frame rate (linear over time; ``valid`` from the nearest
   source frame);
5. head pose converted to anny's axes, relative to the clip's median pose;
6. ``direct`` retargeting of the blendshape scores (see :func:`direct_retarget`).
"""

from __future__ import annotations

import ctypes
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from scipy.spatial.transform import Rotation

from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX, MotionTrack
from painsynth.video import VideoError

N_LANDMARKS = 478
# MediaPipe's canonical face / camera space: x image right, y up, z towards the camera.
# anny's world: z up, the face looks towards -y, +x is the subject's left (image right in the front view).
# A frontal face maps image right -> +x, up -> +z, towards the camera -> -y:  v_anny = MP_TO_ANNY @ v_mp.
MP_TO_ANNY = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
CM_TO_M = 0.01  # MediaPipe's face geometry is in centimetres
# direct retargeting: the per-clip neutral level of each unit is this percentile of its valid frames.
NEUTRAL_PERCENTILE = 5.0
# hybrid first: the default, best on the round-trip benchmark (benchmarks/roundtrip.py)
RETARGET_METHODS = ("hybrid", "fit", "direct")
PREFETCH_FRAMES = 8  # decoded frames kept ready ahead of the landmarker


class CaptureError(ValueError):
    """A clip cannot be captured (unreadable, empty, truncated, face not found often enough)."""


@dataclass
class RawCapture:
    """MediaPipe's per-frame output at the source frame times."""

    times: np.ndarray  # [N] seconds from the first frame
    valid: np.ndarray  # [N] bool
    scores: np.ndarray  # [N, 52] ARKit order (MediaPipe's "_neutral" dropped)
    matrices: np.ndarray  # [N, 4, 4] facial transformation matrices (canonical face -> camera, cm)
    landmarks: np.ndarray  # [N, 478, 3] normalised image coordinates
    source_fps: float
    image_size: tuple[int, int] = (1, 1)  # (width, height) of the frames; the landmarks' aspect ratio
    # [N, 2, P, P] grey patches around the eyes (the image cue for cheekSquint / noseSneer, cue.py);
    # kept instead of the frames themselves, which a long high-resolution clip could not afford
    patches: np.ndarray | None = None


# ---------------------------------------------------------------- decoding

def iter_frames(path: str | Path) -> Iterator[tuple[float, np.ndarray]]:
    """(time in seconds, uint8 RGB frame upright) for every frame of the first video stream."""
    path = Path(path)
    try:
        container = av.open(str(path))
    except FileNotFoundError:
        raise VideoError(f"{path}: no such file") from None
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise VideoError(f"{path}: not a readable video ({getattr(exc, 'strerror', None) or exc})") from None
    with container:
        if not container.streams.video:
            raise VideoError(f"{path}: contains no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 25.0
        declared = stream.frames or 0
        rotate = _stream_rotation(stream)
        count = 0
        try:
            for frame in container.decode(stream):
                time = frame.time if frame.time is not None else count / fps
                image = frame.to_ndarray(format="rgb24")
                yield float(time), _upright(image, _frame_rotation(frame, rotate))
                count += 1
        except av.error.FFmpegError as exc:
            raise VideoError(f"{path}: corrupt or truncated after {count} frames ({exc.strerror})") from None
    if count == 0:
        raise VideoError(f"{path}: contains no frames")
    if count < declared:
        raise VideoError(f"{path}: truncated, decoded {count} of the {declared} frames it declares")


def _stream_rotation(stream) -> int:
    try:
        return int(float(stream.metadata.get("rotate", 0)))
    except (TypeError, ValueError):
        return 0


def _frame_rotation(frame, fallback: int) -> int:
    """Counter-clockwise degrees the frame must be turned to display upright (best effort)."""
    try:
        rotation = frame.rotation  # PyAV >= 13: from the display-matrix side data
    except AttributeError:
        rotation = 0
    if rotation:
        return round(rotation)
    return -fallback  # the legacy "rotate" tag is clockwise


def _upright(image: np.ndarray, ccw_degrees: int) -> np.ndarray:
    turns = round(ccw_degrees / 90) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def prefetch(items: Iterator, depth: int = PREFETCH_FRAMES) -> Iterator:
    """``items`` produced by a background thread, up to ``depth`` ahead of the consumer.

    Decoding overlaps the landmarker this way: PyAV decodes and converts without holding the GIL.
    The producer's exception is raised in the consumer; stopping early stops the producer.
    """
    buffer: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    thread = threading.Thread(target=_produce, args=(items, buffer, stop), name="prefetch", daemon=True)
    thread.start()
    try:
        while True:
            more, item = buffer.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _produce(items: Iterator, buffer: queue.Queue, stop: threading.Event) -> None:
    try:
        for item in items:
            if not _put(buffer, (True, item), stop):
                return
        _put(buffer, (False, None), stop)
    except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
        _put(buffer, (False, exc), stop)
    finally:
        close = getattr(items, "close", None)
        if close:
            close()  # a generator's finally blocks (closing the container) run in its own thread


def _put(buffer: queue.Queue, item, stop: threading.Event) -> bool:
    """Put unless the consumer has stopped (a timeout so a full buffer cannot block forever)."""
    while not stop.is_set():
        try:
            buffer.put(item, timeout=0.1)
            return True
        except queue.Full:
            pass
    return False


# ---------------------------------------------------------------- MediaPipe

class FaceTracker:
    """MediaPipe Face Landmarker in VIDEO mode; one instance per clip (timestamps restart at 0).

    ``raw_results``: read MediaPipe's C result struct straight into arrays instead of through its
    Python result objects (478 landmark objects a frame cost about 1 ms, a tenth of the frame's
    time); falls back to the public API where this mediapipe lacks the struct.
    """

    def __init__(self, model: Path, raw_results: bool = True):
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._raw = raw_results and _raw_api(self._landmarker)
        self._last_ms = -1

    def __enter__(self) -> FaceTracker:  # noqa: PYI034
        return self

    def __exit__(self, *exc_info) -> None:
        self._landmarker.close()

    def track(self, time_s: float, image: np.ndarray):
        """(scores [52], matrix [4, 4], landmarks [478, 3]) or None when no face is found."""
        import mediapipe as mp

        stamp = max(round(time_s * 1000), self._last_ms + 1)  # must increase strictly
        self._last_ms = stamp
        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        if self._raw:
            return _detect_raw(self._landmarker, frame, stamp)
        result = self._landmarker.detect_for_video(frame, stamp)
        if not result.face_landmarks:
            return None
        pairs = ((c.category_name, c.score) for c in (result.face_blendshapes or [()])[0])
        matrix = (np.asarray(result.facial_transformation_matrixes[0], np.float64).reshape(4, 4)
                  if result.facial_transformation_matrixes else np.eye(4))
        landmarks = np.array([(p.x, p.y, p.z) for p in result.face_landmarks[0]], np.float32)
        return _scores(pairs), matrix, landmarks


def _scores(pairs) -> np.ndarray:
    """ARKit-ordered scores [52] from MediaPipe's (category name, score) pairs."""
    scores = np.zeros(len(ARKIT_BLENDSHAPES), np.float32)
    for name, score in pairs:
        index = BLENDSHAPE_INDEX.get(name)
        if index is not None:  # "_neutral" has no ARKit column
            scores[index] = score
    return scores


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
        categories = result.face_blendshapes[0] if result.face_blendshapes_count else None
        pairs = ((c.category_name.decode(), c.score) for c in
                 (categories.categories[j] for j in range(categories.categories_count if categories else 0)))
        matrix = (result.facial_transformation_matrixes[0].to_numpy().astype(np.float64).reshape(4, 4)
                  if result.facial_transformation_matrixes_count else np.eye(4))
        return _scores(pairs), matrix, landmarks
    finally:
        landmarker._lib.MpFaceLandmarkerCloseResult(ctypes.byref(result))


def run_landmarker(path: str | Path, model: Path) -> RawCapture:
    """MediaPipe's output for every frame of a video."""
    from painsynth.capture.cue import PATCH, extract_patches

    times, valid, scores, matrices, landmarks, patches = [], [], [], [], [], []
    size = (1, 1)
    with FaceTracker(model) as tracker:
        for time_s, image in prefetch(iter_frames(path)):
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


# ---------------------------------------------------------------- pure conversions

def interp_rows(new_times: np.ndarray, times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Linear interpolation over time of [N, ...] rows onto new_times (held constant past the ends)."""
    values = np.asarray(values, np.float64)
    if len(times) == 1:
        return np.repeat(values, len(new_times), axis=0)
    right = np.clip(np.searchsorted(times, new_times, side="right"), 1, len(times) - 1)
    left = right - 1
    span = times[right] - times[left]
    weight = np.clip((new_times - times[left]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
    weight = weight.reshape((-1,) + (1,) * (values.ndim - 1))
    return values[left] * (1 - weight) + values[right] * weight


def fill_invalid(times: np.ndarray, values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Invalid frames filled by linear interpolation over time from valid ones (edges: nearest valid)."""
    values = np.asarray(values, np.float64)
    if valid.all() or not valid.any():
        return values.copy()
    filled = values.copy()
    filled[~valid] = interp_rows(times[~valid], times[valid], values[valid])
    return filled


def output_times(times: np.ndarray, fps: float) -> np.ndarray:
    """Frame times at ``fps`` spanning the source clip."""
    count = int(np.floor(times[-1] * fps + 1e-6)) + 1
    return np.arange(count) / fps


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


def direct_retarget(scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """MediaPipe's scores as anny face-unit weights, calibrated to the clip's neutral face.

    Per unit: the neutral level ``b`` is the 5th percentile of the unit's score over the valid
    frames (MediaPipe scores sit above zero on a relaxed face, and by a person-specific amount);
    the weight is ``(score - b) / (1 - b)`` clipped to [0, 1], so the neutral face maps to 0 and a
    full score still maps to 1. Clips in which a unit is active nearly all the time lose that offset.
    """
    scores = np.clip(np.asarray(scores, np.float64), 0.0, 1.0)
    reference = scores[valid] if valid.any() else scores
    neutral = np.minimum(np.percentile(reference, NEUTRAL_PERCENTILE, axis=0), 0.99)
    return np.clip((scores - neutral) / (1.0 - neutral), 0.0, 1.0).astype(np.float32)


def resampled_patches(raw: RawCapture, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(patches [T, 2, P, P], valid [T]) at the track's frame times, as :func:`build_track` resamples."""
    new_times = output_times(raw.times, fps)
    nearest = np.abs(raw.times[None, :] - new_times[:, None]).argmin(axis=1)
    patches = fill_invalid(raw.times, raw.patches, raw.valid)
    return interp_rows(new_times, raw.times, patches).astype(np.float32), raw.valid[nearest]


def build_track(raw: RawCapture, fps: float = 25.0, min_valid: float = 0.8, *, source_path: str = "",
                subject: str = "", label: int = -1, method: str = "hybrid") -> MotionTrack:
    """A captured MotionTrack from MediaPipe's raw output, or CaptureError when the face was found too rarely.

    ``method``: ``direct`` (MediaPipe's scores, :func:`direct_retarget`), ``fit`` (anny's face
    units solved from the landmarks) or ``hybrid`` (direct, with the units MediaPipe misses on
    anny from the fit); see :mod:`painsynth.capture.fit`.
    """
    if method not in RETARGET_METHODS:
        raise ValueError(f"unknown retargeting method {method!r} (direct, fit or hybrid)")
    share = float(raw.valid.mean()) if len(raw.valid) else 0.0
    if share < min_valid:
        raise CaptureError(f"{source_path}: face found in {share:.0%} of {len(raw.valid)} frames "
                           f"(needs {min_valid:.0%})")
    times, valid = raw.times, raw.valid
    scores = fill_invalid(times, raw.scores, valid)
    landmarks = fill_invalid(times, raw.landmarks, valid)
    rotation, translation = np.zeros((len(times), 3)), np.zeros((len(times), 3))
    rotation[valid], translation[valid] = head_pose(raw.matrices[valid])
    rotation = fill_invalid(times, rotation, valid)
    translation = fill_invalid(times, translation, valid)

    new_times = output_times(times, fps)
    nearest = np.abs(times[None, :] - new_times[:, None]).argmin(axis=1)
    out_valid = valid[nearest]
    out_scores = np.clip(interp_rows(new_times, times, scores), 0.0, 1.0)
    out_landmarks = interp_rows(new_times, times, landmarks)
    blendshapes = direct_retarget(out_scores, out_valid)
    if method != "direct":
        from painsynth.capture.fit import fit_retarget, hybrid_retarget

        fitted = fit_retarget(out_landmarks, out_valid, raw.image_size)
        cue = frames = None
        if method == "hybrid" and raw.patches is not None:
            from painsynth.capture.cue import cue_retarget, within_training_views

            cue = cue_retarget(resampled_patches(raw, fps)[0], out_valid)
            frames = within_training_views(out_landmarks, raw.image_size)
        blendshapes = fitted if method == "fit" else hybrid_retarget(blendshapes, fitted, cue=cue, cue_frames=frames)
    return MotionTrack(
        blendshapes=blendshapes,
        head_rotation=interp_rows(new_times, times, rotation),
        head_translation=interp_rows(new_times, times, translation),
        valid=out_valid,
        fps=fps,
        subject=subject,
        label=label,
        source="captured",
        source_path=source_path,
        landmarks=out_landmarks,
        extra={"mediapipe_blendshapes": out_scores.astype(np.float32)},
    )

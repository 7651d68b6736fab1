"""H.264 video files (PyAV): streaming, crash-safe, byte-reproducible writing and checked reading.

Frames are uint8 RGB arrays [H, W, 3]; files are mp4 with libx264 in yuv420p.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from painsynth.fileio import atomic_path

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                "veryslow", "placebo")

# The manifest stores each clip's sha256 and re-runs are compared byte for byte, so identical frames
# must give identical files on any machine:
# - one x264 thread, because x264's output depends on its thread count and its default thread count
#   on the machine's cores. A single thread still encodes 224x224 at over 1000 frames/s.
# - no macroblock-tree rate control, because with it x264 (core 165) on AVX-512 CPUs gives
#   run-to-run different output at some frame sizes (224x224 among them).
DETERMINISTIC_X264_OPTIONS = {"threads": "1", "x264-params": "mbtree=0"}


class VideoError(ValueError):
    """A video file is missing, unreadable, truncated or empty, or frames do not fit the video."""


class H264Writer:
    """Stream frames into an H.264 mp4 that appears at ``path`` only when the ``with`` block succeeds.

        with H264Writer("clip.mp4", fps=25, width=224, height=224) as video:
            for frame in frames:
                video.write(frame)

    An exception inside the block, or a block that wrote no frame, leaves nothing at ``path``
    and no temporary file.

    Given an ``encoder`` (an executor with one thread, which several writers may share), frames are
    encoded there in the order written while the caller goes on: a frame's shape is still checked at
    ``write``, an encoding error is raised at a later ``write`` or at the end of the block, and the
    file's bytes are the same.
    """

    # Frames waiting for the encoder, at most: a renderer's batch and the next.
    PENDING = 16

    def __init__(self, path: str | Path, fps: float, width: int, height: int, crf: int = 18,
                 preset: str = "veryfast", encoder: Executor | None = None) -> None:
        self.path = Path(path)
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise VideoError(f"{self.path}: width and height must be positive and even (yuv420p), "
                             f"got {width}x{height}")
        if not fps > 0:
            raise VideoError(f"{self.path}: fps must be positive, got {fps}")
        if not 0 <= crf <= 51:
            raise VideoError(f"{self.path}: crf must be in 0..51, got {crf}")
        if preset not in X264_PRESETS:
            raise VideoError(f"{self.path}: unknown x264 preset {preset!r}, expected one of {X264_PRESETS}")
        self.fps = Fraction(fps).limit_denominator(1001)
        self.width, self.height, self.crf, self.preset = width, height, crf, preset
        self.frames_written = 0
        self._cleanup: contextlib.ExitStack | None = None
        self._encoder = encoder
        self._pending: deque[Future] = deque()

    def __enter__(self) -> H264Writer:
        with contextlib.ExitStack() as stack:
            tmp = stack.enter_context(atomic_path(self.path))
            self._container = stack.enter_context(av.open(str(tmp), "w", format="mp4"))
            self._stream = self._add_stream()
            stack.callback(self._drop_pending)  # before the container closes
            self._cleanup = stack.pop_all()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        cleanup, self._cleanup = self._cleanup, None
        if exc_type is not None:
            return bool(cleanup.__exit__(exc_type, exc, tb))  # drops the temporary file
        with cleanup:  # closes the container, then renames the temporary file (or drops it if flushing fails)
            self._wait(0)
            self._in_turn(self._flush)
        return False

    def write(self, frame: np.ndarray) -> None:
        """Encode one uint8 RGB frame [height, width, 3]."""
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.shape != (self.height, self.width, 3):
            raise VideoError(f"{self.path}: frames must be uint8 {(self.height, self.width, 3)}, "
                             f"got {frame.dtype} {frame.shape}")
        pts, self.frames_written = self.frames_written, self.frames_written + 1
        if self._encoder is None:
            self._encode(np.ascontiguousarray(frame), pts)
            return
        self._wait(self.PENDING - 1)
        # A copy: the caller may fill the same array with its next frame meanwhile.
        self._pending.append(self._encoder.submit(self._encode, np.array(frame, order="C"), pts))

    def _encode(self, frame: np.ndarray, pts: int) -> None:
        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        video_frame.pts = pts
        self._container.mux(self._stream.encode(video_frame))

    def _wait(self, pending: int) -> None:
        """Let the encoder finish frames until at most ``pending`` wait (raises its error)."""
        while len(self._pending) > pending:
            self._pending.popleft().result()

    def _in_turn(self, work: Callable[[], None]) -> None:
        """``work`` where the frames are encoded: the encoder's thread, or this one."""
        if self._encoder is None:
            work()
        else:
            self._encoder.submit(work).result()

    def _drop_pending(self) -> None:
        """Forget the frames not yet encoded and wait for the one being encoded (its error is moot)."""
        for future in self._pending:
            if not future.cancel():
                with contextlib.suppress(Exception):
                    future.result()
        self._pending.clear()

    def _add_stream(self) -> av.VideoStream:
        stream = self._container.add_stream("libx264", rate=self.fps)
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = "yuv420p"
        stream.time_base = 1 / self.fps
        stream.options = {"crf": str(self.crf), "preset": self.preset, **DETERMINISTIC_X264_OPTIONS}
        return stream

    def _flush(self) -> None:
        if self.frames_written == 0:
            raise VideoError(f"{self.path}: no frames were written")
        self._container.mux(self._stream.encode(None))


def write_video(path: str | Path, frames: Iterable[np.ndarray] | np.ndarray, fps: float, **kw) -> Path:
    """Write uint8 RGB frames ([T, H, W, 3] array or an iterable of [H, W, 3]) to an H.264 mp4.

    Keyword arguments go to :class:`H264Writer` (``crf``, ``preset``).
    """
    frames = iter(frames)
    first = np.asarray(next(frames, np.empty((0,))))
    if first.ndim != 3:
        raise VideoError(f"{path}: expected frames of shape [H, W, 3], got {first.shape}")
    with H264Writer(path, fps, width=first.shape[1], height=first.shape[0], **kw) as video:
        video.write(first)
        for frame in frames:
            video.write(frame)
    return Path(path)


def read_video(path: str | Path, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """Decode a video into uint8 RGB frames [T, H, W, 3] (the first ``max_frames`` if given) and its fps."""
    path = Path(path)
    if max_frames is not None and max_frames < 1:
        raise VideoError(f"{path}: max_frames must be at least 1, got {max_frames}")
    frames, count, fps, declared = _decode(path, keep=lambda index: True, stop=max_frames)
    _check_not_short(path, count, declared if max_frames is None else min(declared, max_frames))
    return np.stack(list(frames.values())), fps


def read_frames(path: str | Path, indices: Sequence[int]) -> np.ndarray:
    """Decode only the frames at ``indices`` (any order, repeats allowed): uint8 RGB [len(indices), H, W, 3].

    Converting just the frames asked for is what makes sampling a few frames per clip cheap.
    """
    path = Path(path)
    wanted = {int(i) for i in indices}
    if not wanted or min(wanted) < 0:
        raise VideoError(f"{path}: frame indices must be a non-empty list of indices >= 0")
    frames, count, _, declared = _decode(path, keep=wanted.__contains__, stop=max(wanted) + 1)
    if max(wanted) >= count:
        _check_not_short(path, count, declared)
        raise VideoError(f"{path}: frame {max(wanted)} asked for, the video has {count} frames")
    return np.stack([frames[int(i)] for i in indices])


def probe_video(path: str | Path) -> dict:
    """Frame count, fps, size and codec of a video.

    Reads the container's header; decodes the video only to count frames where the header has no count.
    """
    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        info = {"n_frames": stream.frames, "fps": _fps(path, stream), "width": stream.codec_context.width,
                "height": stream.codec_context.height, "codec": stream.codec_context.name}
    if not info["n_frames"]:
        info["n_frames"] = _decode(path, keep=lambda index: False, stop=None)[1]
    return info


def count_frames(path: str | Path) -> int:
    """How many frames decode from the whole video (VideoError when it is unreadable, corrupt or truncated)."""
    path = Path(path)
    _, count, _, declared = _decode(path, keep=lambda index: False, stop=None)
    _check_not_short(path, count, declared)
    return count


def _open(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path))
    except FileNotFoundError:
        raise VideoError(f"{path}: no such file") from None
    except av.error.FFmpegError as exc:
        raise VideoError(f"{path}: not a readable video ({exc.strerror})") from None
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path}: contains no video stream")
    return container


def _decode(path: Path, keep: Callable[[int], bool],
            stop: int | None) -> tuple[dict[int, np.ndarray], int, float, int]:
    """Decode frames [0, stop) of the first video stream and convert to RGB those where ``keep(index)``.

    Returns ({index: frame} in frame order, how many frames were decoded, fps, the frame count
    the container declares or 0).
    """
    frames: dict[int, np.ndarray] = {}
    count = 0
    with _open(path) as container:
        stream = container.streams.video[0]
        fps, declared = _fps(path, stream), stream.frames
        try:
            for frame in container.decode(stream):
                if keep(count):
                    frames[count] = frame.to_ndarray(format="rgb24")
                count += 1
                if count == stop:
                    break
        except av.error.FFmpegError as exc:
            raise VideoError(f"{path}: corrupt or truncated after {count} frames ({exc.strerror})") from None
    if count == 0:
        raise VideoError(f"{path}: contains no frames")
    return frames, count, fps, declared


def _fps(path: Path, stream: av.VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate
    if not rate:
        raise VideoError(f"{path}: has no frame rate")
    return float(rate)


def _check_not_short(path: Path, decoded: int, declared: int) -> None:
    if decoded < declared:
        raise VideoError(f"{path}: truncated, decoded {decoded} of the {declared} frames it declares")

"""Decoding for capture: every frame of a video, upright (PyAV), with a background thread that keeps a few
frames ready for the landmarker."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from painsynth.video import VideoError

PREFETCH_FRAMES = 8  # decoded frames kept ready ahead of the landmarker


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

"""MediaPipe's raw output resampled to the track's frame rate: the :class:`Observation` retargeting reads.

Frames without a face are filled by linear interpolation over time from their valid neighbours
(nearest valid frame at the edges); everything is resampled linearly over time, ``valid`` from the
nearest source frame.
"""

from __future__ import annotations

import numpy as np

from painsynth.capture.landmarks import RawCapture
from painsynth.capture.retarget import Observation


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


def resample(raw: RawCapture, values: np.ndarray, fps: float) -> np.ndarray:
    """Per-source-frame ``values`` [N, ...], invalid frames filled, at the track's frame times."""
    return interp_rows(output_times(raw.times, fps), raw.times, fill_invalid(raw.times, values, raw.valid))


def observe(raw: RawCapture, fps: float) -> Observation:
    """The clip as retargeting reads it, at ``fps``."""
    new_times = output_times(raw.times, fps)
    nearest = np.abs(raw.times[None, :] - new_times[:, None]).argmin(axis=1)
    patches = None if raw.patches is None else resample(raw, raw.patches, fps).astype(np.float32)
    return Observation(scores=np.clip(resample(raw, raw.scores, fps), 0.0, 1.0),
                       landmarks=resample(raw, raw.landmarks, fps), valid=raw.valid[nearest],
                       image_size=tuple(raw.image_size), patches=patches)

"""MediaPipe's raw output resampled to the track's frame rate: the :class:`Observation` retargeting reads.

Frames without a face are filled by linear interpolation over time from their valid neighbours
(nearest valid frame at the edges); everything is resampled linearly over time, ``valid`` from the
nearest source frame.
"""

from __future__ import annotations

import numpy as np

from painsynth.capture.landmarks import RawCapture
from painsynth.capture.retarget import Observation
from painsynth.capture.timeline import fill_invalid, interp_rows


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

"""Per-frame rows over time: linear interpolation (resampling a clip, filling frames that cannot be read, such
as no face found or eyes shut, from the frames around them) and smoothing. Capture's modules share it."""

from __future__ import annotations

import numpy as np
from scipy.signal import savgol_filter


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


def smooth_rows(values: np.ndarray, window: int, columns: np.ndarray | None = None) -> np.ndarray:
    """[T, C] rows smoothed over time (Savitzky-Golay, ``window`` frames, order 2: peaks keep their height
    better than under a moving mean); only ``columns`` where given; unchanged when shorter than the window."""
    values = np.asarray(values)
    if len(values) < window:
        return values
    smoothed = savgol_filter(values, window, 2, axis=0, mode="interp")
    if columns is None:
        return smoothed
    out = np.array(values, copy=True)
    out[:, columns] = smoothed[:, columns]
    return out

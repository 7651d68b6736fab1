"""Linear interpolation over time of per-frame rows: resampling a clip, and filling frames that cannot be read
(no face found, eyes shut) from the frames around them. Pure numpy; capture's modules share it."""

from __future__ import annotations

import numpy as np


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

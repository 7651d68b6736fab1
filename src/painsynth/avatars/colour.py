"""Colour helpers: sRGB hex and 8-bit values to linear light and back, and easing curves."""

from __future__ import annotations

import functools

import numpy as np

_REC709 = np.array([0.2126, 0.7152, 0.0722])


def linear(hex_rgb: str) -> np.ndarray:
    srgb = np.array([int(hex_rgb[i : i + 2], 16) for i in (0, 2, 4)], np.float32) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    return linear.astype(np.float32)


def luminance(linear_rgb: np.ndarray) -> float | np.ndarray:
    """Relative luminance of linear RGB [..., 3] (Rec. 709 weights), in the input's float precision."""
    rgb = np.asarray(linear_rgb)
    return rgb @ _REC709.astype(rgb.dtype, copy=False)


def to_srgb8(linear: np.ndarray) -> np.ndarray:
    lut = _srgb8_table()
    return lut[np.round(np.clip(linear, 0, 1) * (len(lut) - 1)).astype(np.int32)]


@functools.lru_cache(maxsize=1)
def _srgb8_table() -> np.ndarray:
    # Fine enough that even the darkest step is under one 8-bit level.
    c = np.linspace(0, 1, 16384)
    srgb = np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)
    return np.round(srgb * 255).astype(np.uint8)


def hex_of(linear_rgb: np.ndarray) -> str:
    return "".join(f"{int(v):02x}" for v in to_srgb8(np.asarray(linear_rgb)))


def lerp(a, b, t):
    return a + (b - a) * t


def smoothstep(edge0, edge1, x):
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)

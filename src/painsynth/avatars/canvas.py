"""The canvas an identity's maps are painted on, and its random fields."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from painsynth.avatars.colour import lerp
from painsynth.avatars.reference import fields_of, reference_head, uv_layout

GLOSS = {"skin": 95, "t_zone": 120, "lips": 170, "eye": 235, "wet": 200, "hair": 35}


class Canvas:
    """The painted texels of one identity's maps (linear RGB and gloss), where each lies on the
    face, and that identity's random fields: smooth noise on the 3D reference surface (seamless
    across UV islands) and fine streaks drawn in texture space (strands, fibres, pores)."""

    def __init__(self, size: int, skin_rgb: np.ndarray, rng: np.random.Generator):
        self.layout, self.where = uv_layout(size), fields_of(size)
        self.colour = np.empty((len(self.layout.texels), 3), np.float32)
        self.colour[:] = skin_rgb
        self.gloss = np.full(len(self.layout.texels), GLOSS["skin"], np.float32)
        # Surface relief for the shader's bump shading: 0 flat, -1 a deep groove (wrinkle,
        # pore), +1 a raised ridge; the renderer turns its gradient into normal detail.
        self.relief = np.zeros(len(self.layout.texels), np.float32)
        self._rng = rng
        self._scale = size / 1024
        # Streaks come from one periodic tile repeated over the texture: far cheaper than a
        # full-size field, and half the texture apart the repeat is lost in the other noise.
        self._tile = max(64, size // 2)

    def smooth(self, wavelength: float, waves: int = 6, rng: np.random.Generator | None = None) -> np.ndarray:
        """Band-limited noise (mean 0, std ~1) with features about ``wavelength`` metres wide, drawn from ``rng``
        (default: the canvas's own, which every field drawn after it then depends on).

        Evaluated at mesh vertices and interpolated, so wavelengths must exceed ~1 cm."""
        at_vertices = sine_noise(rng or self._rng, wavelength, waves)(reference_head().vertices).astype(np.float32)
        return np.einsum("nk,nk->n", self.layout.weights, at_vertices[self.layout.corners])

    def streaks(self, length_px: float, along_rows: bool) -> np.ndarray:
        """Noise stretched along UV columns (down the head) or rows (across the brow); std ~1."""
        white = self._rng.standard_normal((self._tile, self._tile), dtype=np.float32)
        axis = 0 if along_rows else 1
        sigma = max(length_px * self._scale, 0.5)
        field = ndimage.gaussian_filter1d(white, sigma, axis=axis, mode="wrap")
        field = ndimage.gaussian_filter1d(field, 0.6 * self._scale, axis=1 - axis, mode="wrap")
        values = field[self.where.rows % self._tile, self.where.cols % self._tile]
        return values / max(float(field.std()), 1e-6)

    def speckle(self) -> np.ndarray:
        return self._rng.random(len(self.layout.texels), dtype=np.float32)

    def cover(self, where: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, gloss: float) -> None:
        """Lay ``rgb`` with opacity ``alpha`` over the texels selected by ``where``."""
        self.colour[where] = lerp(self.colour[where], rgb, alpha[:, None])
        self.gloss[where] = lerp(self.gloss[where], gloss, alpha)


def sine_noise(rng: np.random.Generator, wavelength: float, waves: int = 6):
    """Band-limited noise (mean 0, std ~1) as a function of 3D points [N, 3] -> [N]: ``waves`` plane
    waves of one ``wavelength`` (in the points' units) in random directions and phases drawn from ``rng``."""
    directions = rng.normal(size=(3, waves))
    directions *= 2 * np.pi / wavelength / np.linalg.norm(directions, axis=0)
    phases = rng.uniform(0, 2 * np.pi, waves)
    return lambda points: np.sin(points @ directions + phases).sum(1) * math.sqrt(2 / waves)

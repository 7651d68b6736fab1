"""Strand textures for hair worn as geometry: scalp hair's shells and cards, and beards."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from painsynth.avatars.colour import to_srgb8
from painsynth.avatars.hair_colour import person_hair_rgb

if TYPE_CHECKING:
    from painsynth.avatars.spec import AvatarSpec

_TEXTURE = 128
U_TILES = 6  # times a strand texture repeats around the head, on the shells of hair and beards
# Light and shade over the hair (about a mean of 0.9): from strand to strand, and stronger between
# a curl's top and the gaps around it.
_STRAND_DEPTH, _CURL_DEPTH = 0.1, 0.25
# Curly blobs' size (Gaussian sigma, texels): a curly card's or bun's; a beard's, finer; a scalp's
# coils, in clumps of a few millimetres: finer ones blurred at 224 px into a smooth film over the head.
CURL_BLOB, BEARD_BLOB, COIL_CLUMP = 2.2, 1.6, 3.5
_WHITE_GRAIN = 0.7  # texels (Gaussian sigma): the size of a curly head's white and pigmented specks


def strand_texture(spec: AvatarSpec, rng: np.random.Generator, coverage: float, shade: float,
                    ragged_end: bool = False, curly: bool = False, blob: float = CURL_BLOB) -> np.ndarray:
    """A tileable strand texture (RGBA, sRGB) [128, 128, 4], strands running along v (rows), each its
    own shade; ``curly``: covered in blobs (``blob``: their size, texels), its colour varying in
    clumps with no direction. Rows with v < 0.1 are bare and the strands end raggedly above it (the
    hairline); with ``ragged_end`` they also end raggedly near v = 0 (the tips of hanging hair)."""
    n = _TEXTURE
    strand = rng.standard_normal(n)  # one value per column
    along = ndimage.gaussian_filter1d(rng.standard_normal((n, n)), 6, axis=0, mode="wrap")
    along /= along.std() + 1e-9
    if curly:
        noise = rng.standard_normal((n, n))
        blobs = ndimage.gaussian_filter(noise, blob, mode="wrap")
        field = blobs / (blobs.std() + 1e-9)
        # Which hairs are white is decided hair by hair, not clump by clump: by the clumps, grey curls
        # came out in dark and white blotches (crumpled paper) instead of salt and pepper.
        fine = ndimage.gaussian_filter(noise, _WHITE_GRAIN, mode="wrap")
        whiteness = (fine / (fine.std() + 1e-9)).ravel()
        # Curls have no strands running along v: their colour varies in clumps, not per column
        # (per-column colour drew straight streaks from the crown down over a coily head).
        clumps = ndimage.gaussian_filter(rng.standard_normal((n, n)), 5.0, mode="wrap")
        tone = clumps / (clumps.std() + 1e-9)
    else:
        field = strand[None, :] + 0.35 * along
        tone = np.broadcast_to(strand[None, :], (n, n))
        whiteness = None  # each strand's own shade decides it
    cover = field > np.quantile(field, 1 - coverage) if coverage < 1 else np.ones((n, n), bool)
    v = 1 - (np.arange(n) + 0.5) / n  # row 0 is v = 1
    start = 0.1 + 0.06 * rng.random(n)  # each strand's own end at the hairline
    alpha = cover & (v[:, None] > start[None])
    if ragged_end:
        tips = 0.01 + 0.28 * rng.random(n) ** 2
        alpha = cover & (v[:, None] > tips[None])
    shading, depth = (field, _CURL_DEPTH) if curly else (along, _STRAND_DEPTH)
    variation = (tone * 0.6 + 0.4 * shading).ravel()
    rgb = person_hair_rgb(spec, variation, whiteness).reshape(n, n, 3)
    rgb = rgb * shade * (0.9 + depth * np.tanh(shading))[..., None]
    image = np.empty((n, n, 4), np.uint8)
    image[..., :3] = to_srgb8(rgb)
    image[..., 3] = np.where(alpha, 255, 0)
    return image


def along_the_skin(normals: np.ndarray, run: np.ndarray, where_head_on: np.ndarray | None = None) -> np.ndarray:
    """Unit strand directions [N, 3]: ``run`` [3] (or one per normal, [N, 3]) laid into the skin's
    tangent plane at each of ``normals`` [N, 3]; where it meets the skin nearly head on (less than 0.2
    of it left) and ``where_head_on`` [N, 3] is given, that direction instead."""
    across = normals @ run if run.ndim == 1 else np.einsum("ij,ij->i", normals, run)
    d = run - across[:, None] * normals
    if where_head_on is not None:
        d = np.where(np.linalg.norm(d, axis=1, keepdims=True) > 0.2, d, where_head_on)
    return d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)

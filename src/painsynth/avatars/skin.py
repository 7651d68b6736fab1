"""Skin: tone, mottling, pores, flush, eye rings, freckles, lips, creases and the oily T-zone."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import lerp, smoothstep
from painsynth.avatars.reference import CHEEKS, NOSE_TIP
from painsynth.avatars.spec import AvatarSpec


def paint_skin(canvas: Canvas, spec: AvatarSpec) -> None:
    where, masks = canvas.where, canvas.layout.masks
    x, y, z = where.face.T
    lightness = 1.0 - (spec.monk_tone - 1) / 9  # redness and veins show less on dark skin
    blood = np.array([1.0, 1 - 0.05 * lightness, 1 - 0.06 * lightness], np.float32)
    mottling = 0.05 * canvas.smooth(0.06) + 0.025 * canvas.smooth(0.015)
    pores = 0.015 * canvas.streaks(0.4, along_rows=True)
    canvas.colour *= blood * (1 + mottling + pores)[:, None]

    flush_spots = np.clip(0.6 + 0.4 * canvas.smooth(0.02), 0, 1)
    cheeks = sum(np.exp(-((x - cx) ** 2 + (z - cz) ** 2) / 0.12) for cx, cz in CHEEKS)
    nose = np.exp(-np.sum((where.face - NOSE_TIP) ** 2, axis=1) / 0.06)
    flush = 0.8 * cheeks + 0.7 * nose + 0.5 * masks["ears"] + 0.15
    flush *= spec.redness * (0.35 + 0.65 * lightness) * flush_spots
    canvas.colour *= np.stack([1 + 0.06 * flush, 1 - 0.22 * flush, 1 - 0.18 * flush], 1)

    # Thin skin under and around the eyes reads darker and cooler, more so with age.
    eye_ring = sum(np.exp(-(((x - e) / 0.42) ** 2 + ((z + 0.12) / 0.3) ** 2)) for e in (0.5, -0.5))
    eye_ring *= ((y < 0.2) & (np.abs(z) < 0.9)) * (0.6 + 0.4 * (spec.age_years > 40))
    eye_ring += 0.6 * soft(masks["eyelids"]) * (0.5 + 0.5 * (1 - lightness))  # pigmented lids
    canvas.colour *= 1 - np.array([0.13, 0.16, 0.12], np.float32) * eye_ring[:, None]
    if spec.freckles > 0:
        spots = canvas.speckle() < 0.05 * spec.freckles
        spots = spots * np.exp(-((np.abs(x) - 0.4) ** 2 + (z + 0.55) ** 2) / 0.35)
        canvas.colour *= 1 - 0.25 * spots[:, None] * np.array([0.6, 0.9, 1.1], np.float32)
    if spec.age_years > 50:  # skin yellows a little with age
        canvas.colour *= np.array([1.0, 0.985, 0.95], np.float32) ** ((spec.age_years - 50) / 35)

    lips = soft(masks["lips"])
    lip_tint = lerp(np.array([0.78, 0.45, 0.50]), np.array([0.66, 0.52, 0.58]), 1 - lightness)
    canvas.colour *= 1 - lips[:, None] * (1 - lip_tint.astype(np.float32))
    canvas.colour *= (1 - np.clip(1.6 * canvas.layout.occlusion, 0, 0.85))[:, None]
    t_zone = np.exp(-(x**2) / 0.15) * (z > -0.8) * (where.facing > 0.3)
    canvas.gloss += (GLOSS["t_zone"] - GLOSS["skin"]) * t_zone
    canvas.gloss += (GLOSS["lips"] - GLOSS["skin"]) * lips


def soft(mask: np.ndarray) -> np.ndarray:
    return smoothstep(0.1, 0.7, mask)


def sample_skin_detail(rng: np.random.Generator, age_years: float, monk_tone: int) -> dict[str, float]:
    """How marked each kind of skin detail is (0-1): wrinkles deepen with age."""
    aging = float(np.clip((age_years - 25) / 50, 0, 1))
    return {
        "wrinkles": round(float(np.clip(aging * rng.uniform(0.7, 1.3), 0, 1)), 3),
        "pores": round(float(rng.uniform(0.2, 1.0)), 3),
        "moles": round(float(rng.beta(1.2, 4)), 3),
        "blemishes": round(float(rng.beta(1.2, 5) * (1.5 if age_years < 30 else 0.7)), 3),
        "oiliness": round(float(rng.uniform(0, 1)), 3),
    }

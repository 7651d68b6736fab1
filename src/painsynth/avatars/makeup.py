"""Lip colour and make-up: what varies most between faces of one skin tone that the mesh does not carry.

Every identity gets its own natural lip colour (darker or paler, pinker or browner than the tone's
average). Some get make-up, more often adult women, less with age: lipstick from nude to deep red
and berry, eyeliner along the upper lash line, eyeshadow on the lid and blush on the cheeks.
Measured with dlib (`benchmarks/identity_diversity.py`): faces of one gender, age and skin tone
were the look-alikes, and lip colour and the eye region are what tells such faces apart in photos.
"""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import lerp, linear, smoothstep
from painsynth.avatars.lighting import painted_layer_factor
from painsynth.avatars.reference import CHEEKS
from painsynth.avatars.spec import AvatarSpec

# Lipsticks as worn (sRGB): nude, pink, rose, coral, red, deep red, berry, plum.
LIPSTICKS = ("b77c6b", "c8707f", "a85463", "d0604f", "b0242c", "7e1b24", "8a2846", "5e2a3c")
EYESHADOWS = ("8a6a58", "5e4a44", "7b6f86", "9b7b5c", "4f5564")


def sample_makeup(rng: np.random.Generator, gender: str, age_years: float) -> dict:
    """The identity's lip colour and make-up; every value in 0-1 except the hex colours."""
    adult_woman = gender == "female" and age_years >= 16
    odds = (0.75 - 0.006 * max(age_years - 30, 0)) if adult_woman else (0.03 if age_years >= 16 else 0.0)
    wears = bool(rng.random() < odds)
    strength = float(rng.beta(2.5, 2)) if wears else 0.0
    return {
        "lip_darkness": round(float(rng.uniform(-1, 1)), 3),  # against the tone's average lip
        "lip_hue": round(float(rng.uniform(-1, 1)), 3),  # -1 browner .. +1 pinker
        "lipstick": round(strength * float(rng.uniform(0.5, 1.0)) if rng.random() < 0.85 else 0.0, 3),
        "lipstick_hex": LIPSTICKS[int(rng.integers(len(LIPSTICKS)))],
        "liner": round(strength * float(rng.uniform(0.3, 1.0)) if rng.random() < 0.7 else 0.0, 3),
        "shadow": round(strength * float(rng.uniform(0.2, 0.8)) if rng.random() < 0.6 else 0.0, 3),
        "shadow_hex": EYESHADOWS[int(rng.integers(len(EYESHADOWS)))],
        "blush": round(strength * float(rng.uniform(0.2, 0.7)) if rng.random() < 0.5 else 0.0, 3),
    }


def paint_lips(canvas: Canvas, spec: AvatarSpec, lips: np.ndarray) -> None:
    """The identity's own lip colour over the tone's average, then lipstick; ``lips`` [N] 0-1."""
    makeup = spec.makeup
    own = np.array([1.0, 1.0 - 0.08 * makeup["lip_hue"], 1.0 + 0.04 * makeup["lip_hue"]], np.float32)
    own *= 1.0 - 0.22 * makeup["lip_darkness"]
    canvas.colour *= (1 - lips[:, None] * (1 - own))
    if makeup["lipstick"] > 0:
        canvas.cover(lips > 0, linear(makeup["lipstick_hex"]) * _skin_light(canvas, spec),
                     makeup["lipstick"] * lips[lips > 0], GLOSS["lips"] + 30)


def paint_makeup(canvas: Canvas, spec: AvatarSpec) -> None:
    """Eyeliner, eyeshadow and blush (lipstick is laid with the lips)."""
    makeup = spec.makeup
    where = canvas.where
    upper, lower = where.lid_rim.T
    x, y, z = where.face.T
    skin = where.skin
    outer = smoothstep(0.45, 0.8, np.abs(x))
    if makeup["liner"] > 0:
        width = 0.0014 * (1 + 0.8 * outer)
        line = np.exp(-((upper / width) ** 2)) * (upper < lower) * skin
        canvas.colour *= (1 - 0.85 * makeup["liner"] * line)[:, None]
    if makeup["shadow"] > 0:
        lid = smoothstep(0.011, 0.004, upper) * (upper < lower) * (z > -0.05) * (y < 0.2) * skin
        lid *= smoothstep(0.25, 0.35, np.abs(x)) * (1 - smoothstep(0.8, 0.95, np.abs(x)))
        chosen = linear(makeup["shadow_hex"]) * _skin_light(canvas, spec)
        canvas.colour[:] = lerp(canvas.colour, chosen, (0.6 * makeup["shadow"] * lid)[:, None])
    if makeup["blush"] > 0:
        cheeks = sum(np.exp(-((x - cx) ** 2 + (z - cz) ** 2) / 0.08) for cx, cz in CHEEKS) * skin
        canvas.colour *= (1 - makeup["blush"] * cheeks[:, None] * np.array([0.0, 0.16, 0.12], np.float32))


def _skin_light(canvas: Canvas, spec: AvatarSpec) -> float:
    """Make-up is chosen to suit the skin, deeper shades on darker skin, and is lit as what the avatar wears."""
    tone = float(np.median(canvas.colour[canvas.where.skin > 0.5].mean(axis=1)))
    return float(np.clip(0.45 + 0.9 * tone, 0.5, 1.0)) * painted_layer_factor(spec.monk_tone)


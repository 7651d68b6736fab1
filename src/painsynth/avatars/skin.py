"""Skin: tone, mottling, pores, flush, eye rings, freckles, moles and blemishes, lips, the lines
and folds of age, and the oily T-zone.

Age shows twice: as albedo (grooves darken the skin multiplicatively, so they read on Monk 10 as
on Monk 1) and as relief (grooves negative, the folds and bags beside them a little raised), so
the faces look their age whether or not the renderer uses the relief map.
"""

from __future__ import annotations

import functools

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import lerp, smoothstep
from painsynth.avatars.reference import CHEEKS, CHIN_Z, MOUTH_Z, NOSE_TIP, fields_of
from painsynth.avatars.makeup import paint_lips
from painsynth.avatars.spec import AvatarSpec

_DETAIL_KEYS = ("wrinkles", "pores", "moles", "blemishes", "oiliness")
# How much a groove of depth 1 darkens the skin (linear light), on light and on the darkest skin:
# dark skin needs a stronger ratio for the same visible line.
_GROOVE_DARKENING = (0.34, 0.46)
# Depth of the deepest wrinkle in the relief map (-1 is the deepest groove the map holds).
_GROOVE_RELIEF = 0.6


SKY_SHADE = 0.45


def paint_skin(canvas: Canvas, spec: AvatarSpec) -> None:
    where, masks = canvas.where, canvas.layout.masks
    x, y, z = where.face.T
    detail = {key: float(np.clip(spec.skin_detail.get(key, 0.0), 0, 1)) for key in _DETAIL_KEYS}
    lightness = 1.0 - (spec.monk_tone - 1) / 9  # redness and veins show less on dark skin
    blood = np.array([1.0, 1 - 0.05 * lightness, 1 - 0.06 * lightness], np.float32)
    mottling = 0.05 * canvas.smooth(0.06) + 0.025 * canvas.smooth(0.015)
    fine = canvas.streaks(0.4, along_rows=True)
    pores = (0.005 + 0.01 * detail["pores"]) * fine
    canvas.colour *= blood * (1 + mottling + pores)[:, None]

    flush_spots = np.clip(0.6 + 0.4 * canvas.smooth(0.02), 0, 1)
    cheeks = sum(np.exp(-((x - cx) ** 2 + (z - cz) ** 2) / 0.12) for cx, cz in CHEEKS)
    nose = np.exp(-np.sum((where.face - NOSE_TIP) ** 2, axis=1) / 0.06)
    flush = 0.8 * cheeks + 0.7 * nose + 0.5 * masks["ears"] + 0.15
    flush *= spec.redness * (0.35 + 0.65 * lightness) * flush_spots
    canvas.colour *= np.stack([1 + 0.06 * flush, 1 - 0.22 * flush, 1 - 0.18 * flush], 1)

    # Thin skin under and around the eyes reads darker and cooler, more so with age.
    eye_ring = sum(np.exp(-(((x - e) / 0.42) ** 2 + ((z + 0.12) / 0.3) ** 2)) for e in (0.5, -0.5))
    eye_ring *= ((y < 0.2) & (np.abs(z) < 0.9)) * (0.6 + 0.4 * _ramp(spec.age_years, 30, 60))
    eye_ring += 0.6 * soft(masks["eyelids"]) * (0.5 + 0.5 * (1 - lightness))  # pigmented lids
    canvas.colour *= 1 - np.array([0.13, 0.16, 0.12], np.float32) * eye_ring[:, None]
    if spec.freckles > 0:
        spots = canvas.speckle() < 0.05 * spec.freckles
        spots = spots * np.exp(-((np.abs(x) - 0.4) ** 2 + (z + 0.55) ** 2) / 0.35)
        canvas.colour *= 1 - 0.25 * spots[:, None] * np.array([0.6, 0.9, 1.1], np.float32)
    if spec.age_years > 50:  # skin yellows a little with age
        canvas.colour *= np.array([1.0, 0.985, 0.95], np.float32) ** ((spec.age_years - 50) / 35)

    _paint_pores(canvas, detail["pores"], fine)
    groove = _paint_age_lines(canvas, spec, detail["wrinkles"], lightness)
    _paint_spots(canvas, spec, detail, lightness)

    lips = soft(masks["lips"])
    lip_tint = lerp(np.array([0.78, 0.45, 0.50]), np.array([0.66, 0.52, 0.58]), 1 - lightness)
    canvas.colour *= 1 - lips[:, None] * (1 - lip_tint.astype(np.float32))
    paint_lips(canvas, spec, lips)
    canvas.colour *= (1 - np.clip(1.6 * canvas.layout.occlusion, 0, 0.85))[:, None]
    # Broad occlusion (under the chin and nose, the eye sockets, behind the ears): ambient light
    # reaches these less whatever the key light does.
    canvas.colour *= (1 - SKY_SHADE * canvas.layout.sky ** 1.5)[:, None]

    # Sheen: an oily T-zone (forehead, nose, chin) by how oily the skin is, patchy everywhere,
    # duller in the grooves.
    t_zone = np.exp(-(x**2) / 0.15) * (z > -0.8) * (where.facing > 0.3)
    t_zone = np.maximum(t_zone, np.exp(-(x**2 + (z - CHIN_Z + 0.25) ** 2) / 0.12) * (where.facing > 0.3))
    oil = (0.2 + 1.8 * detail["oiliness"]) * (GLOSS["t_zone"] - GLOSS["skin"])
    canvas.gloss += oil * t_zone * np.clip(1 + 0.35 * canvas.smooth(0.025), 0.3, 1.7)
    canvas.gloss *= 1 + 0.08 * canvas.smooth(0.04) - 0.25 * groove
    canvas.gloss += (GLOSS["lips"] - GLOSS["skin"]) * lips


def soft(mask: np.ndarray) -> np.ndarray:
    return smoothstep(0.1, 0.7, mask)


def _ramp(age: float, start: float, full: float) -> float:
    return float(np.clip((age - start) / (full - start), 0, 1))


def _paint_pores(canvas: Canvas, amount: float, fine: np.ndarray) -> None:
    """Pores as sub-millimetre pits in the relief (biggest on the nose and cheeks) and a fine
    grain over all the skin."""
    x, _, z = canvas.where.face.T
    where_big = 1 + 0.8 * np.exp(-(x**2 / 0.12 + (z + 0.6) ** 2 / 0.2)) * (np.abs(z + 0.6) < 0.5)
    pits = canvas.speckle() < 0.18 * where_big
    canvas.relief += canvas.where.skin * (0.06 * fine - (0.1 + 0.3 * amount) * pits * where_big)
    canvas.colour *= (1 - 0.015 * amount * pits)[:, None]


def _age_line_layout(seed: int) -> dict[str, float]:
    """Where one person's lines run and which of them mark most: people differ in how many forehead
    lines they have and how far apart, one or two frown lines, the fan of their crow's feet, the
    course of their nasolabial folds. One layout for everybody made old faces alike to dlib: of the
    pairs of bank 1's 25 avatars over 60, 34.4 % were "the same person" with no wrinkles, 40.9 % with
    one shared layout, 38.8 % with each person's own (over the whole bank 25.5 and 25.8 %: no gain;
    kept for the look)."""
    rng = np.random.default_rng([seed, 7741])
    return {
        "forehead_start": rng.uniform(0.55, 0.72), "forehead_spacing": rng.uniform(0.13, 0.21),
        "forehead_lines": float(rng.integers(2, 5)), "forehead_arch": rng.uniform(0.0, 0.22),
        "frown_gap": rng.uniform(0.05, 0.11), "frown_slant": rng.uniform(-0.02, 0.14),
        "frown_single": float(rng.random() < 0.25),
        "crow_spacing": np.radians(rng.uniform(13, 22)), "crow_lines": float(rng.integers(1, 3)),
        "crow_reach": rng.uniform(0.32, 0.48),
        "fold_start": rng.uniform(0.22, 0.32), "fold_curve": rng.uniform(0.14, 0.26),
        "marionette_at": rng.uniform(0.38, 0.48),
        **{f"{part}_depth": rng.uniform(0.55, 1.3) for part in ("forehead", "frown", "crow", "fold")},
    }


def _paint_age_lines(canvas: Canvas, spec: AvatarSpec, wrinkles: float, lightness: float) -> np.ndarray:
    """Forehead and frown lines, crow's feet, under-eye bags, nasolabial and marionette folds, lip
    lines and neck rings, laid out as this person's (:func:`_age_line_layout`); each comes at its own
    age and deepens with ``wrinkles``. Returns the groove depth per texel (0-1)."""
    where = canvas.where
    lay = _age_line_layout(spec.seed)
    x, y, z = where.face.T
    ax = np.abs(x)
    age = spec.age_years
    front = where.skin & (where.facing > 0.15) & (y < 0.3)
    # Lines come and go along their length rather than running as perfect stripes.
    broken = np.clip(0.75 + 0.55 * canvas.smooth(0.025), 0.15, 1.2)
    wobble = 0.025 * canvas.smooth(0.02)
    # Long lines undulate gently: with the wobble's features 2 cm wide, neck rings and forehead lines zigzagged
    # like stitching in close-ups. Its own generator leaves every other field as it was drawn.
    undulation = 0.025 * canvas.smooth(0.05, rng=np.random.default_rng([spec.seed, 53]))
    crepe = np.abs(canvas.streaks(0.8, along_rows=False))  # the fine creasing of old skin
    w = wrinkles

    def line(distance: np.ndarray, width: float) -> np.ndarray:
        return np.exp(-((distance / width) ** 2))

    grooves = np.zeros(len(x), np.float32)
    ridges = np.zeros(len(x), np.float32)

    # Forehead: two to four horizontal lines above the brows, rising to the sides.
    forehead = front & (z > 0.45) & (z < 1.5) & (ax < 0.95)
    f = forehead
    spacing = lay["forehead_spacing"]
    phase = (z[f] - lay["forehead_start"] - lay["forehead_arch"] * ax[f] ** 2 + undulation[f]) / spacing
    k = np.round(phase)
    strength = (k >= 0) & (k < lay["forehead_lines"])
    depth = line((phase - k) * spacing, 0.02 + 0.01 * w) * strength * (1 - 0.15 * k)
    depth *= 1 - smoothstep(0.55, 0.92, ax[f])
    grooves[f] += lay["forehead_depth"] * (0.15 + 0.85 * w) * _ramp(age, 22, 45) * depth * broken[f]
    # Frown lines between the brows: a pair, or one down the middle.
    glabella = front & (ax < 0.25) & (z > 0.1) & (z < 0.7)
    g = glabella
    gap = 0.0 if lay["frown_single"] else lay["frown_gap"]
    depth = line(ax[g] - gap - lay["frown_slant"] * (z[g] - 0.25), 0.022) * smoothstep(0.15, 0.25, z[g])
    depth *= 1 - smoothstep(0.45, 0.6, z[g])
    grooves[g] += lay["frown_depth"] * w * _ramp(age, 30, 60) * depth

    # Crow's feet: a fan of lines from the outer eye corner.
    corner = front & (ax > 0.7) & (ax < 1.25) & (np.abs(z) < 0.45)
    c = corner
    dx, dz = ax[c] - 0.74, z[c] + 0.01
    r = np.hypot(dx, dz)
    angle = np.arctan2(dz, dx) - 1.2 * r * np.sign(dz) + 3 * wobble[c]
    spacing = lay["crow_spacing"]
    k = np.round(angle / spacing)
    depth = line(r * (angle - k * spacing), 0.016 + 0.008 * w) * (np.abs(k) <= lay["crow_lines"])
    depth *= smoothstep(0.05, 0.12, r) * (1 - smoothstep(lay["crow_reach"] - 0.17, lay["crow_reach"], r)) * (dx > 0)
    grooves[c] += lay["crow_depth"] * w * _ramp(age, 28, 55) * depth * broken[c]

    # Under-eye bags: a soft bulge under the lower lid above the lid-cheek groove (tear trough).
    under = front & (ax > 0.2) & (ax < 1.0) & (z > -0.6) & (z < -0.05)
    u = under
    trough = -0.3 + 0.55 * (ax[u] - 0.55) ** 2 - 0.06 * w
    span = smoothstep(0.22, 0.35, ax[u]) * (1 - smoothstep(0.8, 0.95, ax[u]))
    bags = w * _ramp(age, 35, 65)
    grooves[u] += (0.1 + 0.6 * bags) * line(z[u] - trough, 0.035 + 0.015 * bags) * span
    ridges[u] += bags * line(z[u] - trough - 0.09, 0.05) * span

    # Nasolabial folds: from the nose wing down past the mouth corners; everyone has a trace.
    fold = front & (ax > 0.15) & (ax < 0.85) & (z < -0.45) & (z > -1.55)
    n = fold
    t = np.clip((-0.52 - z[n]) / 0.75, 0, 1.3)
    centre = lay["fold_start"] + lay["fold_curve"] * t**0.9 + 0.05 * np.sin(np.pi * np.clip(t, 0, 1)) + wobble[n]
    width = 0.03 + 0.025 * w
    ends = smoothstep(0.0, 0.12, t) * (1 - smoothstep(0.95, 1.3, t))
    nasolabial = 0.25 + 0.75 * lay["fold_depth"] * w * _ramp(age, 25, 65)
    grooves[n] += nasolabial * line(ax[n] - centre, width) * ends
    ridges[n] += nasolabial * line(ax[n] - centre - 1.8 * width, 1.5 * width) * ends

    # Marionette lines: from the mouth corners down towards the jaw.
    marionette = front & (ax > 0.25) & (ax < 0.75) & (z < MOUTH_Z) & (z > CHIN_Z + 0.05)
    m = marionette
    t = (MOUTH_Z - 0.06 - z[m]) / 0.5
    depth = line(ax[m] - lay["marionette_at"] - 0.08 * t - wobble[m], 0.04) * smoothstep(0, 0.15, t)
    depth *= 1 - smoothstep(0.8, 1.1, t)
    grooves[m] += 0.7 * w * _ramp(age, 42, 70) * depth

    # Fine vertical lines on the upper lip.
    lip = front & (ax < 0.4) & (z > MOUTH_Z + 0.02) & (z < MOUTH_Z + 0.2)
    p = lip
    phase = (x[p] + 2 * wobble[p]) / 0.07
    depth = line((phase - np.round(phase)) * 0.07, 0.01) * (1 - smoothstep(0.25, 0.4, ax[p]))
    depth *= 1 - smoothstep(MOUTH_Z + 0.1, MOUTH_Z + 0.2, z[p])
    grooves[p] += 0.8 * w * _ramp(age, 50, 80) * depth * broken[p] * (1 - soft(canvas.layout.masks["lips"][p]))

    # Neck rings across the front of the neck.
    neck = where.skin & (y > 0.2) & (z < -2.15) & (z > -3.5) & (where.facing > 0.2) & (ax < 1.3)
    q = neck
    phase = (z[q] + 2.45 - 0.12 * x[q] ** 2 + 2 * undulation[q]) / 0.33
    k = np.round(phase)
    depth = line((phase - k) * 0.33, 0.035 + 0.015 * w) * (k <= 0) * (k >= -2)
    depth *= 1 - smoothstep(0.8, 1.3, ax[q])
    grooves[q] += (0.1 + 0.9 * w) * _ramp(age, 35, 70) * depth * broken[q]

    # Old skin: fine crepe over the cheeks, the eyes and the neck.
    old = w * _ramp(age, 45, 85)
    grooves += 0.12 * old * np.clip(crepe - 1.0, 0, 1.5) * front

    grooves = np.clip(grooves, 0, 1)
    ridges = np.clip(ridges, 0, 1)
    canvas.relief += _GROOVE_RELIEF * (0.4 * ridges - grooves)
    darkening = lerp(_GROOVE_DARKENING[0], _GROOVE_DARKENING[1], 1 - lightness)
    canvas.colour *= (1 - darkening * grooves + 0.04 * ridges)[:, None]
    return grooves


@functools.lru_cache(maxsize=4)
def _face_texels_by_x(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The skin texels of the face and front neck, sorted by x, so a spot finds its
    neighbourhood by bisection."""
    where = fields_of(size)
    x, y, z = where.face.T
    chosen = np.nonzero(where.skin & (where.facing > 0.1) & (z > -3.3) & (z < 1.6) & (np.abs(x) < 1.4))[0]
    order = chosen[np.argsort(x[chosen], kind="stable")]
    return order, x[order]


def _paint_spots(canvas: Canvas, spec: AvatarSpec, detail: dict[str, float], lightness: float) -> None:
    """Moles (dark, some raised), blemishes (reddish or, on dark skin, darker papules) and, with
    age, flat brown age spots: round marks a millimetre or three across."""
    rng = np.random.default_rng([spec.seed, 5316])
    order, xs = _face_texels_by_x(canvas.layout.size)
    face = canvas.where.face
    x, _, z = face[order].T
    eyes_or_lips = (np.abs(z + 0.03) < 0.2) & (np.abs(np.abs(x) - 0.52) < 0.25)
    eyes_or_lips |= canvas.layout.masks["lips"][order] > 0.2
    allowed = np.nonzero(~eyes_or_lips & (np.abs(x) < 1.1))[0]
    kinds = [
        # count, radius range (interocular units), colour factor, relief, opacity
        (round(16 * detail["moles"]), (0.012, 0.03),
         lerp(np.array([0.42, 0.32, 0.28]), np.array([0.5, 0.45, 0.45]), 1 - lightness), 0.45, 0.9),
        (round(22 * detail["blemishes"]), (0.012, 0.028),
         lerp(np.array([1.0, 0.74, 0.74]), np.array([0.72, 0.66, 0.66]), 1 - lightness), 0.3, 0.7),
        (round(30 * _ramp(spec.age_years, 45, 85) * (0.3 + 0.7 * lightness)), (0.025, 0.06),
         np.array([0.78, 0.68, 0.58]), 0.0, 0.55),
    ]
    for count, (r_lo, r_hi), factor, raised, opacity in kinds:
        if count == 0:
            continue
        centres = order[rng.choice(allowed, count)]
        radii = rng.uniform(r_lo, r_hi, count)
        raise_share = rng.random(count) < 0.6
        for centre, radius, up in zip(centres, radii, raise_share):
            lo, hi = np.searchsorted(xs, face[centre, 0] + np.array([-2.5, 2.5]) * radius)
            near = order[lo:hi]
            d2 = np.sum((face[near] - face[centre]) ** 2, axis=1) / radius**2
            spot = np.exp(-d2 * d2)  # flat-topped, soft-edged
            keep = spot > 0.02
            near, spot = near[keep], spot[keep]
            canvas.colour[near] *= 1 - opacity * spot[:, None] * (1 - factor.astype(np.float32))
            canvas.relief[near] += raised * up * spot


def sample_skin_detail(rng: np.random.Generator, age_years: float, monk_tone: int) -> dict[str, float]:
    """How marked each kind of skin detail is (0-1): wrinkles deepen with age, from the early
    twenties to the eighties, and a few years later on darker skin (melanin shields it from the
    sun); some people line early, others late."""
    onset = 22 + 0.8 * (monk_tone - 1)
    aging = float(np.clip((age_years - onset) / 55, 0, 1)) ** 0.9
    return {
        "wrinkles": round(float(np.clip(aging * rng.uniform(0.7, 1.3), 0, 1)), 3),
        "pores": round(float(rng.uniform(0.2, 1.0)), 3),
        "moles": round(float(rng.beta(1.2, 4)), 3),
        "blemishes": round(float(rng.beta(1.2, 5) * (1.5 if age_years < 30 else 0.7)), 3),
        "oiliness": round(float(rng.uniform(0, 1)), 3),
    }

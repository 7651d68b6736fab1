"""A contact sheet of avatars × views, neutral and at peak pain, to judge a bank before rendering it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from painsynth.fileio import atomic_path
from painsynth.procedural import AU_TO_BLENDSHAPES, MAX_AU_INTENSITY
from painsynth.tracks import BLENDSHAPE_INDEX

# A strong pain face (PSPI 4 + 4 + 3.5 + 0 = 11.5) with the lips parted and stretched.
PEAK_PAIN_AUS = {"AU4": 4.0, "AU6": 4.0, "AU7": 4.0, "AU9": 3.5, "AU10": 3.5, "AU20": 2.0, "AU25": 2.5}
LABEL_HEIGHT = 14


def blendshapes_for(aus: dict[str, float]) -> np.ndarray:
    """The 52 blendshape weights [52] of a face showing these AU intensities (0-5)."""
    weights = np.zeros(len(BLENDSHAPE_INDEX), dtype=np.float32)
    for au, intensity in aus.items():
        for name, weight in AU_TO_BLENDSHAPES[au].items():
            weights[BLENDSHAPE_INDEX[name]] += weight * intensity / MAX_AU_INTENSITY
    return np.clip(weights, 0.0, 1.0)


def contact_sheet(out: str | Path, count: int, views: list[str], seed: int, size: int = 192,
                  children: bool = False, choices=None, specs=None) -> Path:
    """Render `count` avatars of the bank `seed` (or the given `specs`) in each view, neutral then
    peak pain; write a PNG."""
    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.build import build_avatar
    from painsynth.render import create_renderer, frame_head, make_background, sample_lighting

    rig, renderer = HeadRig(), create_renderer(size, samples=4)
    faces = np.stack([np.zeros(len(BLENDSHAPE_INDEX), np.float32), blendshapes_for(PEAK_PAIN_AUS)])
    still = np.zeros((2, 3), dtype=np.float32)
    rows = []
    for spec in specs or sample_avatars(count, seed, children=children, choices=choices):
        avatar = build_avatar(spec, rig)
        renderer.load_avatar(avatar)
        rng = np.random.default_rng(seed)
        cameras = [frame_head(avatar.identity.mesh.head_box, view) for view in views]
        backdrop = [make_background("gradient", (size, size), rng)] * len(views)
        frames = list(renderer.render_clip(avatar.animate(faces, still, still), cameras,
                                           sample_lighting(rng), backdrop))
        tiles = [frames[state][v] for v in range(len(views)) for state in (0, 1)]
        rows.append(_with_caption(np.concatenate(tiles, axis=1), caption_of(spec)))
    renderer.release()
    header = _with_caption(np.full((0, rows[0].shape[1], 3), 255, np.uint8),
                           "   ".join(f"{v}: neutral | pain" for v in views))
    out = Path(out)
    with atomic_path(out) as tmp:
        Image.fromarray(np.concatenate([header, *rows], axis=0)).save(tmp, format="PNG")
    return out


def caption_of(spec) -> str:
    glasses = "" if spec.glasses == "none" else " glasses"
    return (f"{spec.avatar_id} {spec.gender} {spec.age_years:.0f}y Monk {spec.monk_tone} "
            f"{spec.hair_family} {spec.garment}{glasses}")


def _with_caption(image: np.ndarray, text: str) -> np.ndarray:
    label = Image.new("RGB", (image.shape[1], LABEL_HEIGHT), "white")
    ImageDraw.Draw(label).text((3, 1), text, fill="black")
    return np.concatenate([np.asarray(label), image], axis=0)

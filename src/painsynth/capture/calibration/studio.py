"""What the asset builders share: the average anny head, and identities rendered and captured as a video is."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from painsynth.animate import HeadRig
from painsynth.avatars.build import build_avatar
from painsynth.capture.landmarks import run_landmarker
from painsynth.capture.observe import observe
from painsynth.video import write_video

@functools.lru_cache(maxsize=1)
def average_identity():
    """anny's average head (no face shape): the fit's template and geometric basis sit on it."""
    return HeadRig().identity({})


def loaded(specs, rig, renderer):
    """Each spec's avatar, built and loaded into ``renderer``, one at a time."""
    for spec in specs:
        avatar = build_avatar(spec, rig)
        renderer.load_avatar(avatar)
        yield avatar


def captured(renderer, identity, shapes: np.ndarray, rotation: np.ndarray, cameras, lighting, backgrounds,
             folder: str, model_path: Path) -> list:
    """The identity playing (shapes [T, 52], rotation [T, 3]) seen by each camera: rendered, encoded to
    H.264 and captured exactly as a video is; one Observation per camera."""
    vertices = identity.animate(shapes, rotation, np.zeros_like(rotation))
    rendered = list(renderer.render_clip(vertices, cameras, lighting, backgrounds))
    return [observe(run_landmarker(write_video(Path(folder) / "clip.mp4", np.stack([f[v] for f in rendered]), 25.0),
                                   model_path), 25.0)
            for v in range(len(cameras))]

"""The mirror map of MediaPipe's landmarks (5. in :mod:`painsynth.capture.calibration`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from painsynth.animate import HeadRig
from painsynth.avatars import sample_avatars
from painsynth.capture.calibration import store
from painsynth.capture.calibration.correspondence import CORRESPONDENCE_SIZE
from painsynth.capture.calibration.studio import loaded
from painsynth.capture.landmarks import detect_images
from painsynth.capture.mirror import MIRROR_FILE
from painsynth.capture.retarget.fit import N_LANDMARKS
from painsynth.render import Lighting, create_renderer, frame_head, make_background

MIRROR_AVATARS = 3  # sample_avatars(3, seed=0) made symmetric (the correspondence's identities)


def mirror_path() -> Path:
    return store.CACHE / MIRROR_FILE


def build_mirror_map(model: Path | None = None, rig=None) -> dict[str, np.ndarray]:
    """``partner`` [478] (landmark i of a mirrored frame is landmark partner[i] of the frame) and
    ``error`` [478] (px at CORRESPONDENCE_SIZE: mean distance between the mirrored-back landmark and
    its partner found directly), matched over frontal renders of symmetric faces (no face shape, no
    glasses, no hair) by the assignment of least total distance."""
    from scipy.optimize import linear_sum_assignment

    rig = rig or HeadRig()
    size = CORRESPONDENCE_SIZE
    renderer = create_renderer(size, batch=1)
    lighting = Lighting(key_direction=(0.0, -1.0, 0.4), key_color=(0.9, 0.9, 0.9),
                        fill_direction=(0.0, -1.0, 0.1), fill_color=(0.35, 0.35, 0.35),
                        ambient_color=(0.25, 0.25, 0.25), key_kelvin=5500.0)  # light from straight ahead
    background = make_background("solid", (size, size), np.random.default_rng(0))
    images = []
    try:
        symmetric = [dataclasses.replace(spec, face_shape={}, glasses="none", hair_family="bald", facial_hair="none")
                     for spec in sample_avatars(MIRROR_AVATARS, 0)]
        for avatar in loaded(symmetric, rig, renderer):
            camera = frame_head(avatar.identity.mesh.head_box, "front")
            images.append(next(iter(renderer.render_clip(avatar.identity.mesh.neutral_vertices[None], [camera],
                                                         lighting, [background])))[0])
    finally:
        renderer.release()
    direct = detect_images(images, model, retry=False)
    flipped = detect_images([image[:, ::-1] for image in images], model, retry=False)
    cost, pairs = np.zeros((N_LANDMARKS, N_LANDMARKS)), 0
    for seen, mirrored in zip(direct, flipped):
        if seen is None or mirrored is None:
            continue
        back = mirrored[:, :2] * (-1.0, 1.0) + (1.0, 0.0)
        cost += np.linalg.norm(back[:, None] - seen[None, :, :2], axis=2) * size
        pairs += 1
    if not pairs:
        raise RuntimeError("the landmarker found no face on the mirror map's renders")
    rows, partner = linear_sum_assignment(cost)
    return {"partner": partner.astype(np.int64), "error": cost[rows, partner] / pairs}

"""The landmark-to-mesh correspondence (1. in :mod:`painsynth.capture.calibration`)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from painsynth.animate import HeadRig
from painsynth.avatars import sample_avatars
from painsynth.capture.calibration import store
from painsynth.capture.calibration.store import built
from painsynth.capture.calibration.studio import loaded
from painsynth.capture.landmarks import detect_image
from painsynth.capture.model import MODEL_SHA256
from painsynth.capture.retarget.fit import N_LANDMARKS
from painsynth.render import Lighting, create_renderer, frame_head, make_background

CORRESPONDENCE_VERSION = 29  # 29: afros round, buns up to top knots, ponytails higher, grey curls salt and pepper; 28: earrings (earlier reasons: see the package docstring)
CORRESPONDENCE_SIZE = 448  # px, square render for the correspondence
CORRESPONDENCE_AVATARS = (0, 1, 2)  # sample_avatars(3, seed=0): both genders, different tones
NEIGHBOURS = 3  # vertices kept per landmark
VISIBLE_DEPTH = 0.004  # m behind the front-most vertex near a landmark still counts as visible
SEARCH_RADIUS = 6.0  # px at CORRESPONDENCE_SIZE


def correspondence_path() -> Path:
    return store.keyed_path("mediapipe_anny_correspondence", CORRESPONDENCE_VERSION, MODEL_SHA256, CORRESPONDENCE_SIZE,
                            CORRESPONDENCE_AVATARS, NEIGHBOURS)


def _back_project(landmarks: np.ndarray, vertices: np.ndarray, camera, size: int) -> list[dict[int, float]]:
    """Per landmark, {mesh vertex index: weight}: the nearest visible projected vertices."""
    pixels = camera.project(vertices, size, size)
    view = camera.view_matrix()
    depth = -(vertices @ view[:3, :3].T + view[:3, 3])[:, 2]  # distance in front of the camera
    tree = cKDTree(pixels)
    votes = []
    for x, y, _ in landmarks:
        point = np.array([x * size, y * size])
        radius = SEARCH_RADIUS
        near = tree.query_ball_point(point, radius)
        while len(near) < NEIGHBOURS:
            radius *= 1.5
            near = tree.query_ball_point(point, radius)
        near = np.asarray(sorted(near))
        visible = near[depth[near] < depth[near].min() + VISIBLE_DEPTH]
        distance = np.linalg.norm(pixels[visible] - point, axis=1)
        order = np.argsort(distance, kind="stable")[:NEIGHBOURS]
        weight = 1.0 / (distance[order] + 0.5)
        votes.append({int(v): float(w) for v, w in zip(visible[order], weight / weight.sum())})
    return votes


def build_correspondence(model: Path | None = None, rig=None) -> dict[str, np.ndarray]:
    """Render anny's neutral face, run the landmarker, back-project (see the package doc).

    Returns ``vertex_ids`` [478, K] (anny's full vertex indices), ``weights`` [478, K] (rows sum
    to 1) and ``pixel_error`` [478] (mean distance, px at 448, from landmark to its vertices).
    """

    rig = rig or HeadRig()
    size = CORRESPONDENCE_SIZE
    specs = sample_avatars(max(CORRESPONDENCE_AVATARS) + 1, 0)
    renderer = create_renderer(size, batch=1)
    lighting = Lighting(key_direction=(0.3, -1.0, 0.4), key_color=(0.9, 0.9, 0.9),
                        fill_direction=(-0.5, -1.0, 0.1), fill_color=(0.35, 0.35, 0.35),
                        ambient_color=(0.25, 0.25, 0.25), key_kelvin=5500.0)
    background = make_background("solid", (size, size), np.random.default_rng(0))
    totals: list[dict[int, float]] = [{} for _ in range(N_LANDMARKS)]
    errors = np.zeros(N_LANDMARKS)
    found = 0
    try:
        for avatar in loaded([specs[index] for index in CORRESPONDENCE_AVATARS], rig, renderer):
            identity = avatar.identity
            camera = frame_head(identity.mesh.head_box, "front")
            vertices = identity.mesh.neutral_vertices
            image = next(iter(renderer.render_clip(vertices[None], [camera], lighting, [background])))[0]
            landmarks = detect_image(image, model)
            if landmarks is None:
                continue
            found += 1
            pixels = camera.project(vertices, size, size)
            for k, vote in enumerate(_back_project(landmarks, vertices, camera, size)):
                for v, w in vote.items():
                    full = int(identity.mesh.vertex_ids[v])
                    totals[k][full] = totals[k].get(full, 0.0) + w
                errors[k] += np.mean(np.linalg.norm(pixels[list(vote)] - landmarks[k, :2] * size, axis=1))
    finally:
        renderer.release()
    if not found:
        raise RuntimeError("the landmarker found no face on anny's neutral renders")
    ids = np.zeros((N_LANDMARKS, NEIGHBOURS), np.int64)
    weights = np.zeros((N_LANDMARKS, NEIGHBOURS))
    for k, total in enumerate(totals):
        best = sorted(total.items(), key=lambda item: (-item[1], item[0]))[:NEIGHBOURS]
        while len(best) < NEIGHBOURS:
            best.append((best[0][0], 0.0))
        ids[k] = [v for v, _ in best]
        weights[k] = np.array([w for _, w in best]) / sum(w for _, w in best)
    return {"vertex_ids": ids, "weights": weights, "pixel_error": errors / found}


@functools.lru_cache(maxsize=1)
def correspondence() -> dict[str, np.ndarray]:
    """The MediaPipe-to-anny correspondence, from the on-disk cache or built (and cached) once."""
    return built(correspondence_path(), ("vertex_ids", "weights", "pixel_error"), build_correspondence)

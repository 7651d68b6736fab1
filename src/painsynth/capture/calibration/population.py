"""The population's neutral face (4. in :mod:`painsynth.capture.calibration`)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from painsynth.animate import HeadRig
from painsynth.avatars import sample_avatars
from painsynth.capture.calibration import store
from painsynth.capture.calibration.correspondence import correspondence, correspondence_path
from painsynth.capture.calibration.store import built
from painsynth.capture.calibration.studio import average_identity, loaded
from painsynth.capture.landmarks import landmark_frames
from painsynth.capture.model import MODEL_SHA256, verified_model
from painsynth.capture.retarget import Neutral
from painsynth.capture.retarget.fit import LandmarkFitter
from painsynth.render import create_renderer, frame_head, make_background, sample_lighting

POPULATION_VERSION = 30  # 30: as CORRESPONDENCE_VERSION 29 (earlier reasons: see the package docstring)
POPULATION_SEED = 4  # sample_avatars(.., seed=4): none of the other assets' or the benchmark's identities
POPULATION_AVATARS = 40
POPULATION_VIEWS = ("front", "left30", "right30")
POPULATION_SIZE = 224


def population_path() -> Path:
    return store.keyed_path("population_neutral", POPULATION_VERSION, MODEL_SHA256, correspondence_path().stem,
                            POPULATION_SEED, POPULATION_AVATARS, POPULATION_VIEWS, POPULATION_SIZE)


def build_population_neutral(model: Path | None = None, rig=None, fitter: LandmarkFitter | None = None,
                             avatars: int = POPULATION_AVATARS) -> dict[str, np.ndarray]:
    """MediaPipe on neutral renders of ``avatars`` identities (``POPULATION_VIEWS``, random studio light):
    ``scores`` [52] (median per unit) and ``residual`` [478, 3] (mean aligned residual, template metres)."""
    rig = rig or HeadRig()
    fitter = fitter or LandmarkFitter(average_identity(), correspondence())
    model = verified_model(model)
    size = POPULATION_SIZE
    rng = np.random.default_rng(POPULATION_SEED)
    renderer = create_renderer(size)
    scores, residuals = [], []
    try:
        for avatar in loaded(sample_avatars(avatars, POPULATION_SEED), rig, renderer):
            mesh = avatar.identity.mesh
            cameras = [frame_head(mesh.head_box, view) for view in POPULATION_VIEWS]
            backgrounds = [make_background("solid", (size, size), rng) for _ in cameras]
            images = next(iter(renderer.render_clip(mesh.neutral_vertices[None], cameras, sample_lighting(rng),
                                                    backgrounds)))
            for image in images:
                raw = landmark_frames([(0.0, image)], model)
                if raw.valid[0]:
                    scores.append(raw.scores[0])
                    residuals.append(fitter.residuals(raw.landmarks, (size, size))[0][0])
    finally:
        renderer.release()
    if not scores:
        raise RuntimeError("the landmarker found no face on the population's neutral renders")
    return {"scores": np.median(scores, axis=0), "residual": np.mean(residuals, axis=0)}


@functools.lru_cache(maxsize=1)
def population_neutral() -> Neutral:
    """The neutral face of nobody in particular (:func:`build_population_neutral`), cached. The image cue
    has no population patch (skin and light differ from person to person): it reads the clip's own."""
    arrays = built(population_path(), ("scores", "residual"), build_population_neutral)
    return Neutral("population", scores=arrays["scores"].astype(np.float32), residual=arrays["residual"])

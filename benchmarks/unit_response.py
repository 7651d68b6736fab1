"""How strongly MediaPipe's blendshape net reads each of anny's 52 face units: the response per unit weight.

    python benchmarks/unit_response.py [--seed 9] [--avatars 6] [--views front,left30,right30]

Identities of bank ``--seed`` (9: none of the capture assets' or round trips' banks) are rendered at
224x224 (random studio light, solid background) neutral and with each unit alone at weight 0.5 and 1.0;
MediaPipe's face landmarker scores every image as capture reads a newly found face (its blendshape net on
the face turned to the front, ``painsynth.capture.blendshapes``). Per identity and view, a unit's response is the
least-squares slope of its own score over the weight, through the neutral image's score (1.0: MediaPipe
reads anny's unit at its weight; 0.1: a tenth of it). Printed (Markdown), per unit: the mean response,
its spread over identities and views, and MediaPipe's score on the neutral face; then how many units
MediaPipe reads at under a quarter of their weight.

``direct`` retargeting takes MediaPipe's scores as anny's weights, so a real video's unit replayed on
anny and captured back comes back at about this fraction of its level, and a unit read at a few percent
comes back as MediaPipe's noise (see docs/measurements.md, "Real motion").
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from painsynth.tracks import ARKIT_BLENDSHAPES

STRENGTHS = (0.5, 1.0)
SIZE = 224


def unit_images() -> np.ndarray:
    """Face-unit weights [1 + 52 * len(STRENGTHS), 52]: the neutral face, then each unit alone at each strength."""
    shapes = np.zeros((1 + len(ARKIT_BLENDSHAPES) * len(STRENGTHS), len(ARKIT_BLENDSHAPES)), np.float32)
    for unit in range(len(ARKIT_BLENDSHAPES)):
        for k, strength in enumerate(STRENGTHS):
            shapes[1 + unit * len(STRENGTHS) + k, unit] = strength
    return shapes


def responses(scores: np.ndarray) -> np.ndarray:
    """Per unit, the slope [52] of its own score over its weight, from scores [len(unit_images()), 52]."""
    strengths = np.asarray(STRENGTHS)
    rows = 1 + np.arange(len(ARKIT_BLENDSHAPES))[:, None] * len(strengths) + np.arange(len(strengths))
    moved = scores[rows, np.arange(len(ARKIT_BLENDSHAPES))[:, None]] - scores[0][:, None]  # [52, S]
    return moved @ strengths / strengths.dot(strengths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--avatars", type=int, default=6)
    parser.add_argument("--views", default="front,left30,right30")
    args = parser.parse_args()

    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.build import build_avatar
    from painsynth.capture.landmarks import FaceTracker
    from painsynth.capture.model import verified_model
    from painsynth.render import create_renderer, frame_head, make_background, sample_lighting

    started = time.perf_counter()
    views = args.views.split(",")
    shapes = unit_images()
    still = np.zeros((len(shapes), 3), np.float32)
    rng = np.random.default_rng(args.seed)
    rig, renderer = HeadRig(), create_renderer(SIZE)
    slopes, neutral = [], []
    try:
        with FaceTracker(verified_model(None), retries=()) as tracker:
            for spec in sample_avatars(args.avatars, args.seed):
                avatar = build_avatar(spec, rig)
                renderer.load_avatar(avatar)
                cameras = [frame_head(avatar.identity.mesh.head_box, view) for view in views]
                backgrounds = [make_background("solid", (SIZE, SIZE), rng) for _ in views]
                scores = np.zeros((len(views), len(shapes), len(ARKIT_BLENDSHAPES)))
                found_all = np.ones(len(views), bool)
                frames = renderer.render_clip(avatar.animate(shapes, still, still), cameras, sample_lighting(rng),
                                              backgrounds)
                for k, images in enumerate(frames):
                    for v, image in enumerate(images):
                        found = tracker.still(np.ascontiguousarray(image))  # as capture reads a new face
                        found_all[v] &= found is not None
                        if found is not None:
                            scores[v, k] = found[0]
                for view_scores in scores[found_all]:  # a face missed in one image: that view is left out
                    slopes.append(responses(view_scores))
                    neutral.append(view_scores[0])
                print(f"\rrendered and scored {spec.avatar_id}", end="", flush=True)
    finally:
        renderer.release()
    slopes, neutral = np.array(slopes), np.array(neutral)
    print(f"\n{args.avatars} identities of seed {args.seed} x {len(views)} views ({len(slopes)} with every image's "
          f"face found), {time.perf_counter() - started:.0f} s\n")
    print("| unit | response per unit weight | spread (SD) | neutral score |\n|---|---:|---:|---:|")
    mean = slopes.mean(axis=0)
    for unit in np.argsort(mean):
        print(f"| {ARKIT_BLENDSHAPES[unit]} | {mean[unit]:.2f} | {slopes[:, unit].std():.2f} | {neutral[:, unit].mean():.2f} |")
    print(f"\nunits read at under 0.25 of their weight: {int((mean < 0.25).sum())} of {len(mean)}; "
          f"median response {np.median(mean):.2f}")


if __name__ == "__main__":
    main()

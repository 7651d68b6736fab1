"""What the avatars' new parts cost: rendering with and without worn layers and the key-light shadow,
and the once-per-avatar build, measured in one process.

    python benchmarks/avatar_cost.py [--avatars 4] [--views front,left45,right45]

Per setting: frames/s of `Renderer.render_clip` on 138-frame procedural clips at 224x224 (best of
3 runs per avatar, summed over the avatars), and the same with H.264 encoding of every view as
`generate` does it (libx264, one writer per view). Ratios are against the bare head (no layers, no
shadow) measured in the same run. Then the build of one avatar split into its steps.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

SETTINGS = {"bare head": (False, False), "+ worn layers": (True, False), "+ shadow (the default)": (True, True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--avatars", type=int, default=4)
    parser.add_argument("--views", default="front,left45,right45")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import torch

    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.build import build_avatar
    from painsynth.procedural import make_track
    from painsynth.render import Renderer, frame_head, make_background, sample_lighting
    from painsynth.video import H264Writer

    torch.set_num_threads(1)  # as a generate worker
    views = args.views.split(",")
    rig = HeadRig()
    specs = sample_avatars(args.avatars, args.seed)
    avatars = [build_avatar(spec, rig) for spec in specs]
    track = make_track(4, seed=args.seed, n_frames=138)
    rng = np.random.default_rng(args.seed)
    lighting = sample_lighting(rng)
    backgrounds = [make_background("noise", (224, 224), rng) for _ in views]
    print(f"{len(avatars)} avatars ({', '.join(f'{s.hair_family}/{s.garment}/{s.glasses}' for s in specs)}), "
          f"{len(views)} views, 138 frames, 224x224")
    print("| setting | render frames/s | vs bare | with H.264 frames/s | vs bare |")
    print("|---|---:|---:|---:|---:|")
    baseline = None
    for name, (layers, shadows) in SETTINGS.items():
        renderer = Renderer(224, 224, shadows=shadows)
        render_s = encode_s = 0.0
        for avatar in avatars:
            maps = avatar.maps
            renderer.load_identity(avatar.identity.mesh, maps["albedo"], maps["gloss"], maps["relief"],
                                   avatar.layers if layers else ())
            vertices = avatar.animate(track.blendshapes, track.head_rotation, track.head_translation)
            cameras = [frame_head(avatar.identity.mesh.head_box, view) for view in views]
            render_s += min(_timed(lambda: sum(1 for _ in renderer.render_clip(vertices, cameras, lighting, backgrounds)))
                            for _ in range(3))
            with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
                writers = [stack.enter_context(H264Writer(Path(folder) / f"{v}.mp4", 25.0, 224, 224, crf=18))
                           for v in views]
                started = time.perf_counter()
                for images in renderer.render_clip(vertices, cameras, lighting, backgrounds):
                    for writer, image in zip(writers, images):
                        writer.write(image)
            encode_s += time.perf_counter() - started
        renderer.release()
        frames = 138 * len(avatars)
        rates = (frames / render_s, frames / encode_s)
        baseline = baseline or rates
        print(f"| {name} | {rates[0]:.0f} | {rates[0] / baseline[0]:.2f}x | {rates[1]:.0f} | {rates[1] / baseline[1]:.2f}x |")
    _build_steps(rig, specs[0])


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _build_steps(rig, spec) -> None:
    from painsynth.avatars.anatomy import anatomy_of
    from painsynth.avatars.build import WEARABLES
    from painsynth.avatars.texture import appearance_maps

    steps = {}
    started = time.perf_counter()
    identity = rig.identity(spec.phenotype, spec.face_shape)
    steps["identity (anny rest mesh with face shape)"] = time.perf_counter() - started
    started = time.perf_counter()
    anatomy = anatomy_of(identity)
    steps["anatomy (per-vertex anatomy, skull fit points)"] = time.perf_counter() - started
    for name, build in WEARABLES.items():
        started = time.perf_counter()
        build(spec, anatomy)
        steps[f"layers: {name}"] = time.perf_counter() - started
    started = time.perf_counter()
    appearance_maps(spec)
    steps["appearance maps (1024x1024 albedo, gloss, relief)"] = time.perf_counter() - started
    print("\nOnce per avatar (warm process):")
    for step, seconds in steps.items():
        print(f"  {step}: {1000 * seconds:.0f} ms")


if __name__ == "__main__":
    main()

"""What the avatars' worn layers and key-light shadow cost on the whole generate path, measured in
one process.

    python benchmarks/avatar_cost.py [--avatars 4] [--views front,left45,right45] [--repeats 2] [--hair-family afro]

Per setting, on 138-frame procedural clips at 224x224 played by each avatar:

- render: frames/s of `Renderer.render_clip` alone (vertices animated beforehand);
- whole path: what `generate` does per performance: anny animation, rendering, and H.264 of
  every view to files on disk (libx264, one writer per view; in the last setting, as in `generate`,
  encoded in a thread of their own while the next frames are drawn), as frames/s and as
  view-images/s (frames x views, the project's target: >= 150 on 2 cores);
- CPU ms per frame of the whole path, all of this process's threads (llvmpipe's included): less
  disturbed than wall time when other processes share the cores.

Best of --repeats runs per avatar, summed over the avatars; settings take turns within each repeat,
so a busy spell on the machine hits them alike. Ratios are against the bare head (no layers, no
shadow, views encoded in turn) of the same run. Then the build of one avatar split into its steps (its worn layers timed
as if it wore every one: a full beard and glasses too).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import numpy as np

# name -> (worn layers, key-light shadow, views encoded in a thread of their own while the next frames are drawn)
SETTINGS = {"bare head": (False, False, False), "+ worn layers": (True, False, False), "+ shadow": (True, True, False),
            "+ encoder thread (the default)": (True, True, True)}
FRAMES = 138
SIZE = 224


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--avatars", type=int, default=4)
    parser.add_argument("--views", default="front,left45,right45")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hair-family", help="only avatars of the bank wearing this hair family (e.g. afro)")
    args = parser.parse_args()

    import torch

    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.build import build_avatar
    from painsynth.procedural import make_track
    from painsynth.render import create_renderer, make_background, sample_lighting

    torch.set_num_threads(1)  # as a generate worker
    views = args.views.split(",")
    rig = HeadRig()
    specs = sample_avatars(args.avatars, args.seed)
    if args.hair_family:
        specs = [s for s in sample_avatars(400, args.seed) if s.hair_family == args.hair_family][:args.avatars]
    avatars = [build_avatar(spec, rig) for spec in specs]
    track = make_track(4, seed=args.seed, n_frames=FRAMES)
    rng = np.random.default_rng(args.seed)
    lighting = sample_lighting(rng)
    backgrounds = [make_background("noise", (SIZE, SIZE), rng) for _ in views]
    renderers = {name: create_renderer(SIZE, shadows=shadows) for name, (_, shadows, _) in SETTINGS.items()}
    print(f"{len(avatars)} avatars ({', '.join(f'{s.hair_family}/{s.garment}/{s.glasses}' for s in specs)}), "
          f"{len(views)} views, {FRAMES} frames, {SIZE}x{SIZE}, best of {args.repeats}\n")

    # [setting][avatar] -> best (render s, whole-path s, whole-path CPU s)
    best = {name: [(np.inf, np.inf, np.inf)] * len(avatars) for name in SETTINGS}
    with OtherCpu() as other:
        for _ in range(args.repeats):
            for name, (layers, _, encoder_thread) in SETTINGS.items():
                renderer = renderers[name]
                for index, avatar in enumerate(avatars):
                    load(renderer, avatar, layers)
                    run = Performance(renderer, avatar, track, views, lighting, backgrounds, encoder_thread)
                    times = (run.render_seconds(), *run.whole_path_seconds())
                    best[name][index] = tuple(map(min, best[name][index], times))
    for renderer in renderers.values():
        renderer.release()
    print_table(best, len(avatars), len(views))
    print(f"\nOther processes used {other.seconds:.0f} CPU s while this ran (2 idle cores give "
          f"{2 * other.elapsed:.0f} CPU s in {other.elapsed:.0f} s).")
    _build_steps(rig, specs[0])


def load(renderer, avatar, layers: bool) -> None:
    """The avatar as generate loads it, or (``layers`` False) its bare head: the same maps, layout and lights."""
    if layers:
        renderer.load_avatar(avatar)
        return
    maps = avatar.maps
    renderer.load_identity(avatar.identity.mesh, maps["albedo"], maps["gloss"], maps["relief"], (),
                           avatar.inner_triangles, avatar.texture_coordinates, avatar.light_gain)


class Performance:
    """One avatar playing the track in every view, as `generate.render_performance` does."""

    def __init__(self, renderer, avatar, track, views, lighting, backgrounds, encoder_thread: bool):
        from painsynth.render import frame_head

        self.renderer, self.avatar, self.track, self.encoder_thread = renderer, avatar, track, encoder_thread
        self.cameras = [frame_head(avatar.identity.mesh.head_box, view) for view in views]
        self.lighting, self.backgrounds = lighting, backgrounds
        self.vertices = self.animate()

    def animate(self) -> np.ndarray:
        track = self.track
        return self.avatar.animate(track.blendshapes, track.head_rotation, track.head_translation)

    def render_seconds(self) -> float:
        started = time.perf_counter()
        for _ in self.renderer.render_clip(self.vertices, self.cameras, self.lighting, self.backgrounds):
            pass
        return time.perf_counter() - started

    def whole_path_seconds(self) -> tuple[float, float]:
        """Wall and CPU seconds of animation, rendering and H.264 files on disk."""
        from painsynth.video import H264Writer

        with tempfile.TemporaryDirectory() as folder:
            started, cpu = time.perf_counter(), time.process_time()
            vertices = self.animate()
            with ExitStack() as stack:
                encoder = stack.enter_context(ThreadPoolExecutor(1)) if self.encoder_thread else None
                writers = [stack.enter_context(H264Writer(Path(folder) / f"{k}.mp4", self.track.fps, SIZE, SIZE, crf=18,
                                                          encoder=encoder))
                           for k in range(len(self.cameras))]
                for images in self.renderer.render_clip(vertices, self.cameras, self.lighting, self.backgrounds):
                    for writer, image in zip(writers, images):
                        writer.write(image)
            return time.perf_counter() - started, time.process_time() - cpu


def print_table(best: dict, n_avatars: int, n_views: int) -> None:
    frames = FRAMES * n_avatars
    print("| setting | render frames/s | vs bare | whole path frames/s | whole path view-images/s | vs bare "
          "| whole path CPU ms/frame |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    bare = None
    for name, runs in best.items():
        render_s, whole_s, cpu_s = (sum(column) for column in zip(*runs))
        rates = (frames / render_s, frames / whole_s)
        bare = bare or rates
        print(f"| {name} | {rates[0]:.1f} | {rates[0] / bare[0]:.2f}x | {rates[1]:.1f} | {rates[1] * n_views:.0f} "
              f"| {rates[1] / bare[1]:.2f}x | {1000 * cpu_s / frames:.1f} |")


class OtherCpu:
    """CPU seconds other processes used on this machine while the block ran (from /proc/stat)."""

    def __enter__(self) -> OtherCpu:
        self._start = _machine_busy_seconds() - _own_cpu_seconds()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc_info) -> None:
        self.seconds = max(0.0, _machine_busy_seconds() - _own_cpu_seconds() - self._start)
        self.elapsed = time.perf_counter() - self._started


def _machine_busy_seconds() -> float:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    import resource

    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


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
    # Every layer timed on someone who wears it: the first avatar, with a full beard and glasses.
    wearer = dataclasses.replace(spec, gender="male", age_years=max(spec.age_years, 30.0), facial_hair="full_beard",
                                 glasses=spec.glasses if spec.glasses != "none" else "round")
    for name, build in WEARABLES.items():
        started = time.perf_counter()
        build(wearer, anatomy)
        steps[f"layers: {name}"] = time.perf_counter() - started
    started = time.perf_counter()
    appearance_maps(spec)
    steps["appearance maps (1024x1024 albedo, gloss, relief)"] = time.perf_counter() - started
    print("\nOnce per avatar (warm process):")
    for step, seconds in steps.items():
        print(f"  {step}: {1000 * seconds:.0f} ms")


if __name__ == "__main__":
    main()

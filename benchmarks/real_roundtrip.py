"""Capture fidelity on real motion: real face videos captured, replayed on avatars, captured back.

Each real video is captured (``hybrid``; its own calmest frames as the neutral, since each is one
clip of one person), and the track is replayed on ``--avatars`` identities of a seed no capture asset
was built on, rendered at 224x224 from the front and 30 degrees, with a short neutral clip of each
avatar in the same studio as its baseline. The renders are captured back through a CSV (``neutral``
column: the baseline) exactly as ``painsynth capture`` does, and compared with the replayed track:

- per-unit Pearson r over the units that move in the real clip (the replayed weight spans at least
  ``--moving`` between its 5th and 95th percentile), median over units and avatars, and the lowest
  and highest of each avatar's own median (how much the figure rests on which faces replay it);
- Pearson r of the summed PSPI units (browDown, cheekSquint, eyeSquint, noseSneer, mouthUpperUp,
  eyeBlink; left and right);
- per unit, its median r over the videos it moves in and the avatars, worst first.

The real videos are read from the folder given (they are not part of the repository) and never
copied; the script says so and stops when the folder holds none.

    .venv/bin/python benchmarks/real_roundtrip.py FOLDER_OF_REAL_VIDEOS              # ~3 min on 2 cores
    .venv/bin/python benchmarks/real_roundtrip.py FOLDER_OF_REAL_VIDEOS --avatars 2  # quicker, noisier
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX, MotionTrack

VIEWS = ("front", "left30")
SIZE = 224
SEED = 11  # avatars of a seed none of the capture assets (0-4) or roundtrip.py (0, 7) uses; --seed for others
PSPI_STEMS = ("browDown", "cheekSquint", "eyeSquint", "noseSneer", "mouthUpperUp", "eyeBlink")
PSPI_COLUMNS = [BLENDSHAPE_INDEX[stem + side] for stem in PSPI_STEMS for side in ("Left", "Right")]
BASELINE_FRAMES = 50


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) < 1e-9 or np.std(b) < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def moving_units(track: MotionTrack, spread: float) -> list[int]:
    high, low = np.percentile(track.blendshapes, [95, 5], axis=0)
    return [int(i) for i in np.flatnonzero(high - low >= spread)]


def describe(spec) -> str:
    worn = ([spec.facial_hair] if spec.facial_hair != "none" else []) + (
        [f"{spec.glasses} glasses"] if spec.glasses != "none" else [])
    return ", ".join([f"{spec.avatar_id}: {spec.gender}", f"{spec.age_years:.0f} y", f"Monk {spec.monk_tone}",
                      f"{spec.hair_family} hair", *worn])


def render_replays(tracks: dict[str, MotionTrack], avatars: int, folder: Path, seed: int = SEED) -> tuple[Path, list]:
    """Each track on each avatar, both views, plus each avatar's baseline; the CSV that lists them and the
    avatars' specs."""
    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.build import build_avatar
    from painsynth.render import create_renderer, frame_head, make_background, sample_lighting
    from painsynth.video import write_video

    rig = HeadRig()
    renderer = create_renderer(SIZE)
    rng = np.random.default_rng(seed)
    rows, specs = [], sample_avatars(avatars, seed)
    try:
        for spec in specs:
            avatar = build_avatar(spec, rig)
            renderer.load_avatar(avatar)
            mesh = avatar.identity.mesh
            cameras = [frame_head(mesh.head_box, view) for view in VIEWS]
            backgrounds = [make_background("solid", (SIZE, SIZE), rng) for _ in VIEWS]
            lighting = sample_lighting(rng)
            clips = {"baseline": (np.zeros((BASELINE_FRAMES, 52), np.float32), np.zeros((BASELINE_FRAMES, 3), np.float32))}
            clips.update({name: (t.blendshapes, t.head_rotation) for name, t in tracks.items()})
            for name, (shapes, rotation) in clips.items():
                vertices = avatar.identity.animate(shapes, rotation, np.zeros_like(rotation))
                frames = list(renderer.render_clip(vertices, cameras, lighting, backgrounds))
                for v, view in enumerate(VIEWS):
                    path = write_video(folder / f"{spec.avatar_id}__{view}__{name}.mp4",
                                       np.stack([f[v] for f in frames]), 25.0)
                    rows.append((path.name, -1, f"{spec.avatar_id}__{view}", int(name == "baseline")))
    finally:
        renderer.release()
    listing = folder / "replays.csv"
    with open(listing, "w", newline="") as f:
        csv.writer(f).writerows([("path", "label", "subject", "neutral"), *rows])
    return listing, specs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("real", type=Path, help="folder of real face videos (*.mp4)")
    parser.add_argument("--avatars", type=int, default=6,
                        help="avatars each video is replayed on (with 2 the medians moved by 0.03 against 6)")
    parser.add_argument("--seed", type=int, default=SEED,
                        help=f"the avatars' bank (default {SEED}, where every choice was made; others are held out)")
    parser.add_argument("--moving", type=float, default=0.15, help="a unit moves when its 5-95 %% range spans this")
    args = parser.parse_args()
    from painsynth.capture import CaptureSettings, capture

    videos = sorted(args.real.glob("*.mp4")) if args.real.is_dir() else []
    if not videos:
        sys.exit(f"{args.real}: no real videos (*.mp4) there")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sources = {}
        for video in videos:  # one clip per person: its own calmest frames are the neutral
            summary = capture(video, tmp / "real", settings=CaptureSettings(neutral="clip"))
            if summary.errors:
                print(f"- {video.name}: {summary.errors[0]}")
                continue
            sources[video.stem] = MotionTrack.load(tmp / "real" / f"{video.stem}.npz")
        listing, specs = render_replays(sources, args.avatars, tmp / "replays", args.seed)
        summary = capture(listing, tmp / "back")
        print(f"\n## Real motion replayed on {args.avatars} avatars (seed {args.seed}) and captured back "
              f"(neutral: each avatar's baseline)\n")
        print("| video | view | moving units | per-unit r (median) | per-unit r (min) | PSPI-unit sum r |")
        print("|---|---|---|---|---|---|")
        overall = {view: ([], []) for view in VIEWS}
        by_unit = {view: {} for view in VIEWS}  # unit -> r over videos and avatars
        by_avatar = {view: {} for view in VIEWS}  # avatar id -> r over videos and units
        for name, source in sources.items():
            units = moving_units(source, args.moving)
            for view in VIEWS:
                per_unit, pain = [], []
                for back in sorted((tmp / "back").glob(f"*__{view}__{name}.npz")):
                    got = MotionTrack.load(back)
                    n = min(got.n_frames, source.n_frames)
                    rs = [pearson(source.blendshapes[:n, u], got.blendshapes[:n, u]) for u in units]
                    per_unit += rs
                    by_avatar[view].setdefault(back.name.split("__")[0], []).extend(rs)
                    for u, r in zip(units, rs):
                        by_unit[view].setdefault(u, []).append(r)
                    pain.append(pearson(source.blendshapes[:n, PSPI_COLUMNS].sum(axis=1),
                                        got.blendshapes[:n, PSPI_COLUMNS].sum(axis=1)))
                overall[view][0].extend(per_unit), overall[view][1].extend(pain)
                print(f"| {name} | {view} | {len(units)} | "
                      f"{np.median(per_unit) if per_unit else float('nan'):.2f} | "
                      f"{min(per_unit) if per_unit else float('nan'):.2f} | {np.mean(pain) if pain else float('nan'):.2f} |")
        print("\n| view | per-unit r, median over all videos, units and avatars | per avatar (lowest-highest) "
              "| PSPI-unit sum r, mean |")
        print("|---|---|---|---|")
        for view, (per_unit, pain) in overall.items():
            each = [np.median(rs) for rs in by_avatar[view].values()]
            print(f"| {view} | {np.median(per_unit):.2f} | {min(each):.2f}-{max(each):.2f} | {np.mean(pain):.2f} |")
        print("\n| avatar | " + " | ".join(f"{view} per-unit r (median)" for view in VIEWS) + " |")
        print("|---|" + "---:|" * len(VIEWS))
        for spec in specs:
            cells = " | ".join(f"{np.median(by_avatar[view][spec.avatar_id]):.2f}" for view in VIEWS)
            print(f"| {describe(spec)} | {cells} |")
        print("\n| unit (worst first) | " + " | ".join(f"{view} median r" for view in VIEWS) + " | replays |")
        print("|---|" + "---:|" * (len(VIEWS) + 1))
        for u in sorted(by_unit[VIEWS[0]], key=lambda u: np.median(by_unit[VIEWS[0]][u])):
            cells = " | ".join(f"{np.median(by_unit[view].get(u, [np.nan])):.2f}" for view in VIEWS)
            print(f"| {ARKIT_BLENDSHAPES[u]} | {cells} | {len(by_unit[VIEWS[0]][u])} |")
        lost = summary.errors
        print(f"\nReplays not captured back: {len(lost)}" + "".join(f"\n- {line}" for line in lost))
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

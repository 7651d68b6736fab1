"""Motion re-identification with and without motion privacy: the table behind `generate --motion-privacy`.

Stand-in "participants" are procedural performers with strong individual signatures (blink rate, side
bias, head-sway habit, expression tempo; `procedural.signature_style`), optionally joined by real people:
`--real FOLDER` captures every video in FOLDER (one person per video; slow on 2 cores) and cuts each
track into segments of `--segment` frames, each a clip of that person. The attacker is trained on
half of every person's clips ("real"); the other half are replayed after each privacy method and
attacked ("synthetic"). This measures the motion tracks themselves, before rendering and re-capture,
so it is an upper bound on what survives replay on avatars.

    python benchmarks/motion_privacy.py [--performers 12] [--clips 10] [--real FOLDER]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from painsynth.privacy.audit import ClipMotion, reidentify
from painsynth.privacy.features import track_features
from painsynth.privacy.mitigate import METHODS, apply
from painsynth.procedural import make_track, signature_style
from painsynth.tracks import MotionTrack


def procedural_people(performers: int, clips: int, frames: int) -> list[MotionTrack]:
    return [make_track(k % 5, 1000 * p + k, frames, 25.0, f"perf-{p:02d}", signature_style(f"perf-{p:02d}"))
            for p in range(performers) for k in range(clips)]


def captured_people(folder: Path, segment: int) -> list[MotionTrack]:
    """Each video in ``folder`` captured (its own calmest frames as neutral) and cut into ``segment``-frame clips."""
    from dataclasses import replace

    from painsynth.capture import CaptureSettings, capture

    with tempfile.TemporaryDirectory() as tmp:
        capture(folder, Path(tmp), settings=CaptureSettings(neutral="clip"))
        tracks = [MotionTrack.load(p) for p in sorted(Path(tmp).glob("*.npz"))]
    pieces = []
    for person, track in enumerate(tracks):
        for start in range(0, track.n_frames - segment + 1, segment):
            cut = slice(start, start + segment)
            pieces.append(replace(track, blendshapes=track.blendshapes[cut], head_rotation=track.head_rotation[cut],
                                  head_translation=track.head_translation[cut], valid=track.valid[cut],
                                  landmarks=None, subject=f"real-{person}", label=0))
    return pieces


def halves(tracks: list[MotionTrack]) -> tuple[list[MotionTrack], list[MotionTrack]]:
    """Every person's clips alternately into the attacker's training half and the replayed half."""
    seen: dict[str, int] = {}
    first, second = [], []
    for track in tracks:
        n = seen[track.subject] = seen.get(track.subject, -1) + 1
        (first if n % 2 == 0 else second).append(track)
    return first, second


def table(tracks: list[MotionTrack], seed: int) -> list[str]:
    known, replayed = halves(tracks)
    real = [ClipMotion(f"r{i}", t.subject, None, track_features(t)) for i, t in enumerate(known)]
    lines = ["| motion privacy | people | clips attacked | top-1 (95 % CI) | chance top-1 | top-5 (95 % CI) | chance top-5 |",
             "|---|---:|---:|---|---:|---|---:|"]
    for name in METHODS:
        changed = apply(name, replayed, seed)
        synthetic = [ClipMotion(f"s{i}", t.subject, None, track_features(t)) for i, t in enumerate(changed)]
        result = reidentify(real, synthetic, seed)
        lines.append(_row(name, result["synthetic"]))
    lines.append(_row("(sanity: real, held out)", result["sanity"]))
    return lines


def _row(name: str, f: dict) -> str:
    def pct(v):
        return f"{100 * v:.0f} %"

    def ci(c):
        return f"{100 * c[0]:.0f}–{100 * c[1]:.0f} %"

    return (f"| {name} | {f['n_subjects']} | {f['n_clips']} | {pct(f['top1'])} ({ci(f['top1_ci95'])}) | "
            f"{pct(f['chance_top1'])} | {pct(f['top5'])} ({ci(f['top5_ci95'])}) | {pct(f['chance_top5'])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--performers", type=int, default=12)
    parser.add_argument("--clips", type=int, default=10, help="clips per performer")
    parser.add_argument("--frames", type=int, default=138)
    parser.add_argument("--real", type=Path, help="folder of real face videos, one person each (captured: slow)")
    parser.add_argument("--segment", type=int, default=50, help="frames per clip cut from a real video")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    tracks = procedural_people(args.performers, args.clips, args.frames)
    if args.real:
        tracks += captured_people(args.real, args.segment)
    print("\n".join(table(tracks, args.seed)))
    print(f"\n{len(tracks)} clips, {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

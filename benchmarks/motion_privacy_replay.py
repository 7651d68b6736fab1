"""Motion re-identification after replay on avatars: rendered, re-captured, then attacked.

`benchmarks/motion_privacy.py` attacks the motion tracks themselves, an upper bound. This runs the path a
user runs: procedural performers with individual signatures (`procedural.signature_style`: blink rate, side
bias, head-sway habit, expression tempo) make a motion folder of .npz tracks (subject = performer, two pain
levels); for each `--motion-privacy` method `generate` replays the folder on new avatars (`front` view, one
avatar per clip, the same avatars for every method), and `audit --motion`'s `run_motion_audit` captures the
rendered videos (MediaPipe + retargeting, cached in the synthetic folder) and attacks them.

The source side ("real" clips the attacker knows) is the source tracks themselves, written as dataset
folders whose clips' captured features sit in the training feature cache (nothing is rendered there).
Two attackers: one trained on the very clips that were replayed (what `audit --source` does when the source
folder is where the motions came from), one trained on other clips of the same performers (as
`motion_privacy.py` does). The audit standardises each view of the synthetic set on its own before the
attacker reads it (`privacy.audit.align_to_source`), which takes out the offset that rendering and
re-capture add to every clip.
Below the table, checks: how far the re-captured motion features of the `none`
clips agree with their source tracks' (correlation over clips, per group of features), and whether an
attacker trained on re-captured clips still re-identifies re-captured clips (cross-validated).

    python benchmarks/motion_privacy_replay.py [--performers 8] [--clips 6] [--frames 100] [--out DIR]

With `--out`, re-runs resume: rendered videos and captured features are reused.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np

from painsynth.dataset import group_members, manifest_rows, write_manifest
from painsynth.privacy.attacker import cross_validated_ranks
from painsynth.privacy.audit import rank_figures, run_motion_audit
from painsynth.privacy.features import FEATURE_NAMES, clip_features
from painsynth.privacy.mitigate import METHODS
from painsynth.procedural import make_track, signature_style
from painsynth.tracks import MotionTrack

FPS = 25.0
CAPTURE_METHOD = "hybrid"


def performers_tracks(performers: int, clips: int, frames: int, levels: list[int], seed_offset: int) -> list[MotionTrack]:
    """``clips`` tracks per performer, pain levels alternating, each performer with a signature of their own."""
    return [make_track(levels[k % len(levels)], 1000 * p + seed_offset + k, frames, FPS, f"perf-{p:02d}",
                       signature_style(f"perf-{p:02d}"))
            for p in range(performers) for k in range(clips)]


def write_motions(folder: Path, tracks: list[MotionTrack]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for track in tracks:
        k = counts[track.subject] = counts.get(track.subject, -1) + 1
        track.save(folder / f"{track.subject}_{k:02d}.npz")


def source_dataset(root: Path, tracks: list[MotionTrack]) -> None:
    """A dataset folder of "real" clips whose captured features are the tracks themselves, in the training
    cache's own format; the videos are placeholders that are never decoded (their sha256 keys the cache)."""
    from painsynth.train.features import cache_path, feature_cache_key, track_features
    from painsynth.train.inputs import InputSpec

    rows = []
    for i, track in enumerate(tracks):
        clip_id = f"src{i:03d}"
        video = root / "videos" / f"{clip_id}.mp4"
        video.parent.mkdir(parents=True, exist_ok=True)
        video.write_bytes(clip_id.encode())
        digest = hashlib.sha256(video.read_bytes()).hexdigest()
        rows.append({"clip_id": clip_id, "path": f"videos/{clip_id}.mp4", "split_group": track.subject,
                     "source": "real", "label": track.label, "fps": FPS, "n_frames": track.n_frames,
                     "width": 224, "height": 224, "sha256": digest, "view": None})
        path = cache_path(root, clip_id, InputSpec(capture_method=CAPTURE_METHOD))
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, features=track_features(track), valid=track.valid, sha256=np.array(digest),
                 version=np.array(feature_cache_key(CAPTURE_METHOD)))
    write_manifest(rows, root / "manifest.parquet")


def generate_replay(motions: Path, out: Path, method: str, seed: int) -> float:
    from painsynth.config import make_config
    from painsynth.generate import generate

    started = time.perf_counter()
    summary = generate(make_config(out=out, motions=motions, motion_privacy=method, views=["front"], per_motion=1,
                                   workers=1, seed=seed))
    if summary.failed:
        print(f"  {method}: {summary.failed} clip(s) failed to render (see {out / 'errors.jsonl'})")
    return time.perf_counter() - started


def audit(synthetic: Path, source: Path, seed: int, label: str) -> dict:
    started, last = time.perf_counter(), [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 60 or done == total:
            last[0] = time.perf_counter()
            print(f"  {label}: {done}/{total} clips featurised, {last[0] - started:.0f} s", flush=True)

    result = run_motion_audit(synthetic, source, capture_method=CAPTURE_METHOD, capture_missing=True, seed=seed,
                              on_progress=progress)
    for note in result["notes"]:
        print(f"  {label}: {note}")
    return result


def _row(method: str, knows: str, f: dict) -> str:
    def pct(v):
        return "–" if v is None else f"{100 * v:.0f} %"

    def ci(c):
        return "–" if c is None else f"{100 * c[0]:.0f}–{100 * c[1]:.0f} %"

    return (f"| {method} | {knows} | {f['n_subjects']} | {f['n_clips']} | {pct(f['top1'])} ({ci(f['top1_ci95'])}) | "
            f"{pct(f['chance_top1'])} | {pct(f['top5'])} ({ci(f['top5_ci95'])}) | {pct(f['chance_top5'])} |")


TABLE_HEAD = ["| motion privacy | attacker trained on | people | clips attacked | top-1 (95 % CI) | chance top-1 "
              "| top-5 (95 % CI) | chance top-5 |", "|---|---|---:|---:|---|---:|---|---:|"]


def _captured_motion(root: Path, row: dict) -> np.ndarray:
    from painsynth.train.features import cache_path, load_cached_features
    from painsynth.train.inputs import InputSpec

    cached = cache_path(root, str(row["clip_id"]), InputSpec(capture_method=CAPTURE_METHOD))
    frames = load_cached_features(cached, str(row["sha256"]), CAPTURE_METHOD)
    return None if frames is None else clip_features(frames, float(row["fps"]))


def cached_side(root: Path) -> tuple[np.ndarray, list[str]]:
    """A dataset folder's clips with cached captured features: motion features and the leading subject."""
    vectors, subjects = [], []
    for row in manifest_rows(root):
        vector = _captured_motion(root, row)
        if vector is not None:
            vectors.append(vector)
            subjects.append(group_members(row["split_group"])[0])
    return np.stack(vectors), subjects


FEATURE_GROUPS = {  # name -> predicate on a feature name
    "blendshape statistics": lambda n: "." in n and n.split(".")[1] in
    ("mean", "std", "p10", "p50", "p90", "speed_mean", "velocity_std") and not n.startswith("head_"),
    "head pose statistics": lambda n: n.startswith("head_") and ".band_" not in n and "log_power" not in n,
    "blinks (rate, duration, depth)": lambda n: n in ("blink.rate", "blink.duration", "blink.peak"),
    "left-right asymmetry": lambda n: ".asym_" in n,
    "spectra (band shares, log power)": lambda n: ".band_" in n or ".log_power" in n,
}


def agreement(replay: Path, motions: Path) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """Per feature, the correlation over clips between a source track's motion features and its rendered and
    re-captured clip's; lines of a Markdown table by group, and the captured features with their subjects."""
    from painsynth.privacy.features import track_features

    source, captured, subjects = [], [], []
    for row in manifest_rows(replay):
        vector = _captured_motion(replay, row)
        if vector is None:
            continue
        source.append(track_features(MotionTrack.load(motions / Path(str(row["track"])).name)))
        captured.append(vector)
        subjects.append(str(row["split_group"]))
    source, captured = np.stack(source), np.stack(captured)
    varied = (source.std(0) > 1e-9) & (captured.std(0) > 1e-9)
    r = np.full(source.shape[1], np.nan)
    for j in np.flatnonzero(varied):
        r[j] = np.corrcoef(source[:, j], captured[:, j])[0, 1]
    lines = ["| features | n | varying in both | median r | r > 0.5 |", "|---|---:|---:|---:|---:|"]
    for group, member in FEATURE_GROUPS.items():
        idx = np.array([j for j, n in enumerate(FEATURE_NAMES) if member(n)])
        ok = idx[varied[idx]]
        median = f"{np.median(r[ok]):.2f}" if len(ok) else "–"
        lines.append(f"| {group} | {len(idx)} | {len(ok)} | {median} | {int((r[ok] > 0.5).sum())} |")
    best = [j for j in np.argsort(-np.nan_to_num(r, nan=-2))[:8]]
    lines.append("")
    lines.append("Best kept: " + ", ".join(f"{FEATURE_NAMES[j]} {r[j]:.2f}" for j in best))
    return lines, captured, source, subjects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--performers", type=int, default=8)
    parser.add_argument("--clips", type=int, default=6, help="clips per performer (replayed; as many more train "
                        "the second attacker)")
    parser.add_argument("--frames", type=int, default=100, help="frames per clip at 25 fps (138: BioVid's 5.5 s)")
    parser.add_argument("--levels", default="0,4", help="pain levels, alternating over each performer's clips")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="work folder, kept (default: a temporary one, removed)")
    args = parser.parse_args()
    levels = [int(v) for v in args.levels.split(",")]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.out or Path(tmp)
        motions = work / "motions"
        replayed = performers_tracks(args.performers, args.clips, args.frames, levels, 0)
        write_motions(motions, replayed)
        source_dataset(work / "source-same", replayed)
        source_dataset(work / "source-other", performers_tracks(args.performers, args.clips, args.frames, levels, 500))
        print(f"{len(replayed)} source clips ({args.performers} performers x {args.clips}, {args.frames} frames, "
              f"levels {args.levels}) in {motions}", flush=True)
        results: dict[str, dict[str, dict]] = {}
        seconds: dict[str, float] = {}
        for method in methods:
            seconds[f"generate {method}"] = generate_replay(motions, work / f"replay-{method}", method, args.seed)
            print(f"generate --motion-privacy {method}: {seconds[f'generate {method}']:.0f} s", flush=True)
            began = time.perf_counter()
            results[method] = {knows: audit(work / f"replay-{method}", work / f"source-{knows}", args.seed,
                                            f"{method} vs {knows}")
                               for knows in ("same", "other")}
            seconds[f"capture + audit {method}"] = time.perf_counter() - began
            print(f"capture + audit {method}: {seconds[f'capture + audit {method}']:.0f} s", flush=True)
        knows_text = {"same": "the replayed clips", "other": "other clips"}
        lines = list(TABLE_HEAD)
        for knows in knows_text:
            lines += [_row(m, knows_text[knows], results[m][knows]["synthetic"]) for m in methods]
        for knows in ("same", "other"):
            lines.append(_row("(sanity: source, held out)", knows_text[knows], results[methods[0]][knows]["sanity"]))
        checks = []
        if "none" in methods:
            groups, captured, _, subjects = agreement(work / "replay-none", motions)
            recaptured = rank_figures(cross_validated_ranks(captured, subjects, args.seed), len(set(subjects)))
            lines.append(_row("(check: none, re-captured, held out)", "other re-captured clips", recaptured))
            checks = ["", "Re-captured motion features of the `none` clips against their source tracks' "
                      "(Pearson r over clips, per feature):", "", *groups]
        wall = time.perf_counter() - started
    print("\n" + "\n".join(lines + checks))
    print("\n" + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()))
    print(f"{len(replayed)} clips x {len(methods)} methods rendered and captured, wall time {wall:.0f} s "
          f"({wall / 60:.1f} min)")


if __name__ == "__main__":
    main()

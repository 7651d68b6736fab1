"""What motion privacy costs in pain recognition: `experiment` AUROC with synthetic sets made under each
`generate --motion-privacy` method.

The stand-in "real" dataset of `benchmarks/standin_experiment.py` (20 subjects x 10 clips, each subject one
avatar with its own procedural motion style, right 30 degrees) is made, or reused, under ``--out``. Its
subjects' motion tracks play the part of captured participants: one clip per subject and pain level (100
tracks) is replayed on other avatars (front view, one avatar per clip, the same avatars for every method)
under each method, and `painsynth experiment` trains `au-tcn` on synthetic + real with 0, 1, 2 and 4 real
subjects (5 subject-disjoint folds x 2 seeds; a synthetic clip whose motion came from a test subject, alone
or in a mix, is left out of that fold's training). The source tracks are the subjects' true motions, so
this is the cost of each method on a perfect capture.

    python benchmarks/motion_privacy_cost.py [--out runs/privacy_cost] [--task binary]

Re-runs resume every step (videos, captured features, cells). Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from standin_experiment import PAINSYNTH, REAL  # noqa: E402

from painsynth.privacy.mitigate import METHODS  # noqa: E402
from painsynth.tracks import MotionTrack  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "runs" / "privacy_cost"  # runs/ is git-ignored
SYNTHETIC = ["--views", "front", "--seed", "7", "--frames", "100"]
BUDGETS = "0,1,2,4"


def run(args: list[str]) -> float:
    started = time.perf_counter()
    print("$ painsynth " + " ".join(args), flush=True)
    subprocess.run([*PAINSYNTH, *args], check=True)
    return time.perf_counter() - started


def one_clip_per_level(real: Path, folder: Path) -> int:
    """Link the first track of each (subject, level) of the real set into ``folder``; their count."""
    folder.mkdir(parents=True, exist_ok=True)
    seen = set()
    for path in sorted((real / "tracks").glob("*.npz")):
        track = MotionTrack.load(path)
        key = (track.subject, track.label)
        if key not in seen:
            seen.add(key)
            link = folder / path.name
            if not link.exists():
                link.symlink_to(path.resolve())
    return len(seen)


def auroc_table(results: Path) -> dict[tuple[str, int], list[float]]:
    cells = defaultdict(list)
    with open(results, newline="") as f:
        for row in csv.DictReader(f):
            if row["auroc"] and not row["error"]:
                cells[(row["setting"], int(row["budget"]))].append(float(row["auroc"]))
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="(default: runs/privacy_cost in the repository)")
    parser.add_argument("--task", default="binary")
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    real = args.out / "real"
    if not (real / "manifest.parquet").is_file():
        run(["generate", "--out", str(real), *REAL])
    motions = args.out / "motions"
    print(f"{one_clip_per_level(real, motions)} source motions (one per subject and level)")
    tables = {}
    for method in args.methods.split(","):
        synthetic = args.out / f"syn-{method}"
        run(["generate", "--out", str(synthetic), "--motions", str(motions), "--motion-privacy", method, *SYNTHETIC])
        exp = args.out / f"exp-{method}-{args.task}"
        run(["experiment", "--synthetic", str(synthetic), "--real", str(real), "--real-subjects", BUDGETS,
             "--model", "au-tcn", "--task", args.task, "--folds", "5", "--seeds", "2", "--out", str(exp)])
        tables[method] = auroc_table(exp / "results.csv")
    budgets = [int(b) for b in BUDGETS.split(",")]
    print(f"\nTask `{args.task}`, AUROC mean ± std over 5 folds x 2 seeds:\n")
    print("| training set | " + " | ".join(f"{b} real" for b in budgets) + " |")
    print("|---|" + "---:|" * len(budgets))
    first = next(iter(tables.values()))
    rows = [("real only", "real-only", first)]
    rows += [(f"synthetic ({method}) + real", "synthetic+real", table) for method, table in tables.items()]
    for name, setting, table in rows:
        cells = [f"{np.mean(v):.3f} ± {np.std(v):.3f}" if (v := table.get((setting, b))) else "" for b in budgets]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

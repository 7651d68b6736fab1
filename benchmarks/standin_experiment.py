"""The paper's experiment end to end on data this machine can make.

No real pain video ships with any package, so a *stand-in* plays the real dataset:

- "real": 20 subjects x 10 clips (2 per pain level), each subject one avatar (``--avatar-per-subject``)
  with its own procedural motion style, seen from the right at 30 degrees with camera jitter and
  noise/gradient backgrounds (seed 101);
- "synthetic": 150 procedural clips (30 performers x 5 levels) on 150 other avatars, front and
  left 45 degrees, solid/gradient/noise backgrounds (seed 7).

Both come from the same procedural FACS model, so the domain gap is only faces, views, lighting and
motion styles -- far smaller than between renders and real patients. The performers share names
(``perf-0000`` ...) and therefore motion styles across the two sets; the experiment's leak guard keeps
a synthetic performer out of training whenever the real subject of that name is in the test fold.

Every clip goes through the same path: rendered pixels -> ``capture`` (MediaPipe + retargeting) ->
``au-tcn``. The real subjects make 5 subject-disjoint folds, each trained with 2 seeds; every cell, whatever
its setting and budget, trains all its epochs without a validation split and keeps the last
(``painsynth.experiment``). Run: ``.venv/bin/python benchmarks/standin_experiment.py [--out DIR] [--task
binary]``; re-runs resume every step, so another ``--task`` on the same ``--out`` only trains.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

PAINSYNTH = [str(Path(sys.executable).with_name("painsynth"))]  # the venv's console script
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "runs" / "standin"  # runs/ is git-ignored
REAL = ["--clips", "200", "--clips-per-performer", "10", "--avatar-per-subject", "--views", "right30",
        "--seed", "101", "--frames", "100", "--jitter", "0.5", "--backgrounds", "noise,gradient"]
SYNTHETIC = ["--clips", "150", "--views", "front,left45", "--seed", "7", "--frames", "100"]


def run(args: list[str]) -> float:
    started = time.perf_counter()
    print("$ painsynth " + " ".join(args), flush=True)
    subprocess.run([*PAINSYNTH, *args], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="(default: runs/standin in the repository)")
    parser.add_argument("--task", default="binary-extreme")
    parser.add_argument("--model", default="au-tcn")
    parser.add_argument("--budgets", default="0,1,2,4,8,all")
    parser.add_argument("--folds", default="5", help="subject-disjoint folds of the real subjects")
    parser.add_argument("--seeds", default="2", help="training seeds per fold and budget")
    parser.add_argument("--docs", type=Path, default=None, help="copy results.png here (README figure)")
    args = parser.parse_args()
    real, synthetic = args.out / "real", args.out / "syn"
    seconds = {"generate real": run(["generate", "--out", str(real), *REAL]),
               "generate synthetic": run(["generate", "--out", str(synthetic), *SYNTHETIC])}
    exp = args.out / f"exp-{args.model}-{args.task}"
    seconds["experiment (capture + train)"] = run([
        "experiment", "--synthetic", str(synthetic), "--real", str(real), "--real-subjects", args.budgets,
        "--model", args.model, "--task", args.task, "--folds", args.folds, "--seeds", args.seeds, "--out", str(exp)])
    for step, value in seconds.items():
        print(f"{step}: {value:.0f} s")
    if args.docs:
        shutil.copyfile(exp / "results.png", args.docs)
        print(f"plot copied to {args.docs}")


if __name__ == "__main__":
    main()

"""What `generate`'s memory is made of, and whether its peak grows with the number of clips.

    .venv/bin/python benchmarks/generate_memory.py [--breakdown-clips 4] [--clips 10,60] [--frames 16]

Each run is a fresh process rendering one view with one process (`workers=1`), seed 0:

- breakdown: resident memory after importing torch and after loading anny (the model every avatar is
  made from), then the peak of a `generate` run of `--breakdown-clips` 138-frame clips; the rest of
  the peak is rendering (contexts, framebuffers, per-clip vertex streams) and the cache of the last
  avatars built (`painsynth.generate.performance.AVATARS_KEPT`).
- clips: the peak of `generate` for each of `--clips` clip counts of `--frames` frames: short clips make
  the avatar cache the part that could grow, and the peak stays flat once it is full.

`render_throughput.py --parts memory` gives the peaks of 138-frame clips with 1 and 2 workers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

from render_throughput import GENERATE_CHILD, OtherCpu

BREAKDOWN_CHILD = """
import json, sys
from pathlib import Path

def kib(field):
    return next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith(field + ":"))

import numpy
stages = {"Python + numpy": kib("VmRSS")}
import torch
stages["torch"] = kib("VmRSS")
from painsynth.animate import load_anny
load_anny()
stages["anny"] = kib("VmRSS")
from painsynth.config import make_config
from painsynth.generate import generate
summary = generate(make_config(**json.loads(sys.argv[1])))
assert summary.written and not summary.failed
stages["generate's peak"] = kib("VmHWM")
print(json.dumps(stages))
"""


def run_child(code: str, clips: int, frames: int) -> dict:
    """Run ``code`` with generate's settings for this many clips into a temporary folder; its last line as JSON."""
    with tempfile.TemporaryDirectory(prefix="painsynth-memory-") as out:
        settings = {"out": out, "clips": clips, "frames": frames, "views": ["front"], "workers": 1, "seed": 0}
        done = subprocess.run([sys.executable, "-c", code, json.dumps(settings)], capture_output=True, text=True,
                              check=False)
    if done.returncode != 0:
        raise RuntimeError(f"generate failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def breakdown(clips: int) -> None:
    with OtherCpu() as other:
        stages = run_child(BREAKDOWN_CHILD, clips, 138)
    print(f"\n## What generate's memory is made of: {clips} clips x 138 frames, 1 view, one process\n")
    print("| after | resident MiB | added MiB |")
    print("|---|---:|---:|")
    before = 0
    for stage, kib in stages.items():
        print(f"| {stage} | {kib / 1024:.0f} | {(kib - before) / 1024:+.0f} |")
        before = kib
    print(f"\nOther processes used {other.seconds:.1f} CPU s while this ran.")


def peaks(clip_counts: list[int], frames: int) -> None:
    from painsynth.generate import AVATARS_KEPT

    with OtherCpu() as other:
        runs = {clips: run_child(GENERATE_CHILD, clips, frames) for clips in clip_counts}
    print(f"\n## Peak memory against clip count: {frames}-frame clips, 1 view, one process "
          f"(a new avatar per clip; the last {AVATARS_KEPT} are kept)\n")
    print("| clips | frames/s | peak RSS MiB |")
    print("|---:|---:|---:|")
    for clips, run in runs.items():
        print(f"| {clips} | {run['frames'] / run['seconds']:.1f} | {run['parent_kb'] / 1024:.0f} |")
    print(f"\nOther processes used {other.seconds:.1f} CPU s while this ran.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--breakdown-clips", type=int, default=4, help="138-frame clips of the breakdown run")
    parser.add_argument("--clips", default="10,60", help="clip counts of the peak runs, comma-separated")
    parser.add_argument("--frames", type=int, default=16, help="frames per clip of the peak runs")
    args = parser.parse_args()
    breakdown(args.breakdown_clips)
    peaks([int(c) for c in args.clips.split(",")], args.frames)


if __name__ == "__main__":
    main()

"""Capture throughput at 224x224 in one process: MediaPipe tracking alone, and the whole capture
(decode, track, retarget, write) over rendered clips.

    .venv/bin/python benchmarks/capture_speed.py [--clips 4]
"""

import argparse
import tempfile
import time
from pathlib import Path

from painsynth.capture import capture, verified_model
from painsynth.capture.landmarks import run_landmarker
from painsynth.config import make_config
from painsynth.generate import generate


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=4, help="138-frame front-view clips to render and capture")
    clips = parser.parse_args().clips
    with tempfile.TemporaryDirectory() as folder:
        dataset = Path(folder) / "syn"
        generate(make_config(out=dataset, clips=clips, views=["front"], seed=3, workers=1))
        videos = sorted(dataset.glob("videos/**/*.mp4"))
        model = verified_model()
        start = time.perf_counter()
        frames = sum(len(run_landmarker(video, model).times) for video in videos)
        tracking = time.perf_counter() - start
        summary = capture(dataset / "videos", Path(folder) / "motions")
    print("| stage | clips | frames | s | frames/s |\n|---|---:|---:|---:|---:|")
    print(f"| decode + MediaPipe landmarker | {len(videos)} | {frames} | {tracking:.1f} | {frames / tracking:.0f} |")
    print(f"| whole capture (decode, track, retarget, save) | {summary.tracked} | {frames} | "
          f"{summary.seconds:.1f} | {summary.frames_per_second:.0f} |")


if __name__ == "__main__":
    main()

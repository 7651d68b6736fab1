"""A held expression through capture: a real photo smiling throughout, read against each neutral.

The scikit-image astronaut (a real photograph, smiling) is animated with small similarity motion
(50 frames at 25 fps, 512x512) and captured alone with ``--neutral subject`` (a lone clip: the
population's neutral face, with a warning) and ``--neutral clip`` (its own calmest frames, what capture
did before). Printed: MediaPipe's raw mean score and the retargeted mean weight of mouthSmile and
mouthUpperUp under each.

    .venv/bin/python benchmarks/held_expression.py        # ~1 min
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from skimage import data, transform

from painsynth.capture import CaptureSettings, capture
from painsynth.tracks import BLENDSHAPE_INDEX, MotionTrack
from painsynth.video import write_video

UNITS = ("mouthSmileLeft", "mouthSmileRight", "mouthUpperUpLeft", "mouthUpperUpRight")


def astronaut_clip(path: Path, frames: int = 50) -> Path:
    image = data.astronaut()
    moved = []
    for k in range(frames):
        motion = transform.SimilarityTransform(scale=1 + 0.02 * np.cos(k / 6), rotation=0.03 * np.sin(k / 8),
                                               translation=(4 * np.sin(k / 5), 3 * np.cos(k / 7)))
        moved.append((transform.warp(image, motion.inverse, mode="edge") * 255).astype(np.uint8))
    return write_video(path, np.stack(moved), 25.0)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        video = astronaut_clip(Path(tmp) / "astronaut.mp4")
        print("| neutral | " + " | ".join(f"{u} raw / retargeted" for u in UNITS) + " |")
        print("|---|" + "---|" * len(UNITS))
        for mode in ("subject", "clip"):
            out = Path(tmp) / mode
            capture(video, out, settings=CaptureSettings(neutral=mode))
            track = MotionTrack.load(out / "astronaut.npz")
            raw = track.extra["mediapipe_blendshapes"]
            cells = [f"{raw[:, BLENDSHAPE_INDEX[u]].mean():.2f} / {track.blendshapes[:, BLENDSHAPE_INDEX[u]].mean():.2f}"
                     for u in UNITS]
            print(f"| {mode} ({track.neutral}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

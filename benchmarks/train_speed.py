"""Training cost per model at the demo's clip format (224x224, 25 fps, 138 frames; 32 frames sampled per
clip): the one-off featurising pass and one training epoch, as wall time per 1,000 clips on this machine.

    .venv/bin/python benchmarks/train_speed.py [--clips 4] [--au-tcn 1000] [--frame-temporal 300] [--frame-models 8]

Featurising runs the real loading path (:func:`painsynth.train.clip_features`, empty caches) over ``--clips``
rendered clips: capture (au-tcn), decode + MobileNetV2 encoding at 112 px (frame-temporal, frozen encoder),
decode + resize to 112 px into memory (r2plus1d-18, frame-temporal --train-encoder); seconds per clip x 1000.

An epoch is one :func:`painsynth.train.fit` epoch (batch 64, or 4 for the frame models; training on 80 % of
the clips, validation on the other 20 %) over N clips that replicate the rendered clips' real inputs (N given
per model above), scaled to 1,000 clips by x 1000 / N. The frame models train on FrameClips that decode from
memory, so their epoch includes sampling the frames.
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from painsynth import train as T
from painsynth.config import make_config
from painsynth.generate import generate

FRAMES = 32
MODELS = (  # label, registry name, model options
    ("au-tcn (captured features)", "au-tcn", {}),
    ("frame-temporal (frozen encoder, cached embeddings)", "frame-temporal", {}),
    ("frame-temporal --train-encoder (frames)", "frame-temporal", {"freeze_encoder": False}),
    ("r2plus1d-18 (frames)", "r2plus1d-18", {}),
)


def featurise(dataset: Path, model: str, kwargs: dict) -> tuple[T.ClipFeatures, float]:
    start = time.perf_counter()
    data = T.clip_features(dataset, model=model, model_kwargs=kwargs)
    return data, time.perf_counter() - start


def replicate(data: T.ClipFeatures, n: int) -> T.ClipFeatures:
    """n clips cycling over the real inputs, each its own split group, pain levels 0 and 4 alternating."""
    return T.ClipFeatures([data.features[i % len(data.features)] for i in range(n)], np.array([4 * (i % 2) for i in range(n)]),
                          [f"g{i}" for i in range(n)], [f"c{i}" for i in range(n)], data.input)


def epoch_seconds(data: T.ClipFeatures, model: str, kwargs: dict, batch: int, out: Path) -> float:
    config = T.TrainConfig(model=model, epochs=1, batch_size=batch, frames=FRAMES, device="cpu", model_kwargs=kwargs)
    result = T.fit(data, out, config)
    return float(result.history[0]["seconds"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=4, help="138-frame 224x224 clips to render and featurise")
    parser.add_argument("--au-tcn", type=int, default=1000, help="clips in the au-tcn training epoch")
    parser.add_argument("--frame-temporal", type=int, default=300, help="clips in the frozen frame-temporal epoch")
    parser.add_argument("--frame-models", type=int, default=8, help="clips in the epochs on frames")
    parser.add_argument("--skip", default="", help="comma-separated registry names to leave out")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    sizes = {"au-tcn": args.au_tcn, "frame-temporal": args.frame_temporal}
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        dataset = Path(folder) / "syn"
        generate(make_config(out=dataset, clips=args.clips, views=["front"], seed=3, workers=1, frames=138, fps=25,
                             size=224))
        for number, (label, model, kwargs) in enumerate(MODELS):
            if model in skip:
                continue
            data, seconds = featurise(dataset, model, kwargs)
            frozen = data.input.kind == "embeddings"
            n = sizes.get(model, args.frame_models) if data.input.kind != "frames" else args.frame_models
            batch = 64 if data.input.kind != "frames" else 4
            epoch = epoch_seconds(replicate(data, n), model, kwargs, batch, Path(folder) / "runs" / str(number))
            rows.append((label, data.input.describe(), len(data.features), seconds, n, batch, epoch,
                         "(cached: no cost after the first run)" if frozen or model == "au-tcn" else "(every run)"))
            print(f"measured {label}: {seconds:.1f} s for {len(data.features)} clips, epoch {epoch:.1f} s for {n}",
                  flush=True)
    load_after = os.getloadavg()[0]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), load average {load_before:.1f} before / {load_after:.1f} after")
    print(f"clips: 224x224, 25 fps, 138 frames; {FRAMES} frames sampled per clip\n")
    print("| model | input | featurise s/clip | featurise min / 1000 clips | epoch clips (batch) | epoch s | "
          "epoch min / 1000 clips |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, kind, clips, seconds, n, batch, epoch, note in rows:
        print(f"| {label} | {kind} | {seconds / clips:.2f} | {seconds / clips * 1000 / 60:.1f} {note} | {n} ({batch}) | "
              f"{epoch:.1f} | {epoch * 1000 / n / 60:.2f} |")


if __name__ == "__main__":
    main()

"""Build the capture's assets from anny renders and write them into the package (``capture/assets/``).

The correspondence, the measurement model, the image cue, the population neutral, the mirror map and the
hybrid's pain-unit levels
(:mod:`painsynth.capture.calibration`) ship with painsynth so that a first capture starts at once.
Run this after changing anything that shapes them (the avatars' look, the renderer, their settings):
it builds each one afresh (about 5 min on 2 cores), removes shipped files whose settings no longer
stand, and prints how far each new file is from the one it replaces.

    .venv/bin/python scripts/build_capture_assets.py [--only hybrid_levels ...]

``--only`` builds just the named assets (the file names' stems): the others are kept as shipped, so use it
only where nothing that shapes them changed.
"""

from __future__ import annotations

import argparse

import numpy as np

from painsynth.capture import calibration as cal
from painsynth.fileio import atomic_path

ASSETS = (  # (cache file, the builder, what it holds)
    (cal.correspondence_path, cal.build_correspondence, ("vertex_ids", "weights", "pixel_error")),
    (cal.mirror_path, cal.build_mirror_map, ("partner", "error")),  # before the measurement model, which uses it
    (cal.calibration_path, cal.build_calibration, ("units", "pose", "spread")),
    (cal.cue_path, cal.build_cue_model, ("weights",)),
    (cal.population_path, cal.build_population_neutral, ("scores", "residual")),
    (cal.level_path, cal.build_level_gains, ("gains", "per_identity")),
)


def main() -> None:
    stems = [path_of().stem.rsplit("_", 1)[0] for path_of, _, _ in ASSETS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=stems, help="build only these assets")
    only = set(parser.parse_args().only or stems)
    cal.PACKAGED.mkdir(exist_ok=True)
    wanted = set()
    for (path_of, build, keys), stem in zip(ASSETS, stems):
        name = path_of().name
        wanted.add(name)
        if stem not in only:
            if not (cal.PACKAGED / name).is_file():
                raise SystemExit(f"{name} is not shipped with today's settings: build it too (drop --only)")
            continue
        print(f"building {name} ...", flush=True)
        arrays = build()
        target = cal.PACKAGED / name
        if target.is_file():
            with np.load(target, allow_pickle=False) as old:
                change = max(float(np.abs(arrays[k] - old[k]).max()) for k in keys)
            print(f"  largest change from the shipped copy: {change:.3g}")
        with atomic_path(target) as partial:
            np.savez(partial, **{k: arrays[k] for k in keys})
    for stale in cal.PACKAGED.glob("*.npz"):
        if stale.name not in wanted:
            print(f"removing {stale.name} (built with other settings)")
            stale.unlink()


if __name__ == "__main__":
    main()

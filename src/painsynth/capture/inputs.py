"""What to capture: a video file, a folder of videos, or a CSV of path,label,subject.

BioVid Part A names (``<subject>-<BL1|PA1..PA4>-<nnn>.mp4``) give the pain level and subject;
other files get label -1 and the parent folder's name as subject.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from painsynth.tracks import LEVEL_NAMES

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
BIOVID_NAME = re.compile(r"^(?P<subject>.+)-(?P<level>BL1|PA1|PA2|PA3|PA4)-(?P<number>\d+)$")
CSV_COLUMNS = ("path", "label", "subject")


class InputError(ValueError):
    """The input list itself cannot be read (missing path, CSV without the needed columns)."""


@dataclass(frozen=True)
class CaptureInput:
    path: Path
    label: int = -1
    subject: str = ""
    error: str = ""  # set when this entry is already known to be bad (e.g. unknown CSV label)

    @property
    def stem(self) -> str:
        return self.path.stem


def parse_name(path: str | Path) -> tuple[int, str]:
    """(label, subject) from a file name: BioVid Part A names give level 0-4, others -1 and the folder name."""
    path = Path(path)
    match = BIOVID_NAME.match(path.stem)
    if match:
        return LEVEL_NAMES.index(match["level"]), match["subject"]
    return -1, path.parent.name


def parse_label(text: str) -> int:
    """A CSV label: an integer -1..4 or a BioVid class name (BL1, PA1..PA4)."""
    text = text.strip()
    if text.upper() in LEVEL_NAMES:
        return LEVEL_NAMES.index(text.upper())
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not -1 <= value <= 4:
        raise ValueError(f"unknown label {text!r} (expected -1..4 or {', '.join(LEVEL_NAMES)})")
    return value


def find_videos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def read_csv(path: Path) -> list[CaptureInput]:
    """Rows of a path,label,subject CSV; relative paths are taken from the CSV's folder."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = [c.strip() for c in reader.fieldnames or []]
            missing = [c for c in CSV_COLUMNS if c not in columns]
            if missing:
                raise InputError(f"{path}: CSV lacks column(s) {', '.join(missing)} "
                                 f"(needs {','.join(CSV_COLUMNS)}, has {','.join(columns) or 'none'})")
            rows = [{(k or "").strip(): (v or "") for k, v in row.items()} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read CSV ({exc})") from None
    entries = []
    for line, row in enumerate(rows, start=2):
        video = Path(row["path"].strip())
        if not video.is_absolute():
            video = path.parent / video
        subject = row["subject"].strip() or video.parent.name
        try:
            label = parse_label(row["label"])
        except ValueError as exc:
            entries.append(CaptureInput(video, -1, subject, error=f"{path} line {line}: {exc}"))
            continue
        entries.append(CaptureInput(video, label, subject))
    return entries


def collect_inputs(target: str | Path) -> list[CaptureInput]:
    """Every clip to capture from a video file, a folder (recursive) or a CSV."""
    target = Path(target)
    if not target.exists():
        raise InputError(f"{target}: no such file or folder")
    if target.is_dir():
        videos = find_videos(target)
        if not videos:
            raise InputError(f"{target}: folder has no videos ({' '.join(VIDEO_SUFFIXES)})")
        return [CaptureInput(v, *parse_name(v)) for v in videos]
    if target.suffix.lower() == ".csv":
        return read_csv(target)
    return [CaptureInput(target, *parse_name(target))]

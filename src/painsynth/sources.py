"""Where clips come from: a video file, a folder of videos, or a CSV of path,label,subject[,neutral].

Read by capture, ingest and experiment alike. BioVid Part A names (``<subject>-<BL1|PA1..PA4>-<nnn>.mp4``)
give the pain level and subject, and mark the baseline (BL1) clips as the subject's neutral material;
other files get label -1 (unlabelled) and the parent folder's name as subject (so a folder of several
people's videos should hold a folder per person). A CSV's optional
``neutral`` column (0 or 1) marks the clips that show the subject at rest.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from painsynth.tracks import LEVEL_NAMES

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
BIOVID_NAME = re.compile(r"^(?P<subject>.+)-(?P<level>BL1|PA1|PA2|PA3|PA4)-(?P<number>\d+)$")
CSV_COLUMNS = ("path", "label", "subject")
NEUTRAL_COLUMN = "neutral"  # optional


class InputError(ValueError):
    """The input list itself cannot be read (missing path, CSV without the needed columns)."""


@dataclass(frozen=True)
class CaptureInput:
    path: Path
    label: int = -1
    subject: str = ""
    neutral: bool = False  # shows the subject at rest: material for their neutral face
    # named after the folder given to capture, which holds it directly: nothing says who is in it
    subject_is_the_folder: bool = False
    name: str = ""  # its track's name where its file's stem is not enough (see _named_apart)
    error: str = ""  # set when this entry is already known to be bad (e.g. unknown CSV label)

    @property
    def stem(self) -> str:
        """The name of its track: the file's stem, or ``name``."""
        return self.name or self.path.stem


def parse_name(path: str | Path) -> tuple[int, str]:
    """(label, subject) from a file name: BioVid Part A names give level 0-4, others -1 and the folder name."""
    path = Path(path)
    match = BIOVID_NAME.match(path.stem)
    if match:
        return LEVEL_NAMES.index(match["level"]), match["subject"]
    return -1, path.parent.name


def parse_neutral(text: str) -> bool:
    """A CSV ``neutral`` value: 1 (a clip of the subject at rest), 0 or empty."""
    text = text.strip()
    if text not in ("", "0", "1"):
        raise ValueError(f"neutral value {text!r} is not allowed (expected 0 or 1)")
    return text == "1"


def check_label(label: int) -> int:
    """``label`` if it is a pain level 0-4, ValueError naming it otherwise."""
    if not 0 <= label <= 4:
        raise ValueError(f"label {label} is not a pain level (expected 0-4)")
    return label


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
    """Rows of a path,label,subject[,neutral] CSV; relative paths are taken from the CSV's folder."""
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
            neutral = parse_neutral(row.get(NEUTRAL_COLUMN, ""))
        except ValueError as exc:
            entries.append(CaptureInput(video, -1, subject, error=f"{path} line {line}: {exc}"))
            continue
        entries.append(CaptureInput(video, label, subject, neutral))
    return entries


def _named_apart(entries: list[CaptureInput]) -> list[CaptureInput]:
    """``entries``, those whose files share a stem (``clip1.mp4`` in each person's folder) named
    ``<subject>-<stem>``, so that their tracks do not clash."""
    counts = Counter(entry.path.stem for entry in entries if not entry.error)
    return [entry if counts[entry.path.stem] < 2 else replace(entry, name=f"{safe_name(entry.subject)}-{entry.path.stem}")
            for entry in entries]


def safe_name(text: str) -> str:
    """``text`` as a file name: runs of anything but letters, digits, ``.``, ``_`` and ``-`` become ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text or "unknown")


def _from_name(video: Path) -> CaptureInput:
    label, subject = parse_name(video)
    return CaptureInput(video, label, subject, neutral=BIOVID_NAME.match(video.stem) is not None and label == 0)


def collect_inputs(target: str | Path, label: int | None = None) -> list[CaptureInput]:
    """Every clip to capture from a video file, a folder (recursive) or a CSV; ``label`` (0-4) overrides a
    single video's label."""
    target = Path(target)
    if not target.exists():
        raise InputError(f"{target}: no such file or folder")
    if label is not None and (target.is_dir() or target.suffix.lower() == ".csv"):
        raise InputError(f"{target}: --label sets the label of a single video, not of a folder or CSV "
                         "(name BioVid clips <subject>-<BL1|PA1..PA4>-<nnn>, or give a CSV a label column)")
    if label is not None:
        try:
            check_label(label)
        except ValueError as exc:
            raise InputError(f"--label: {exc}") from None
    if target.is_dir():
        videos = find_videos(target)
        if not videos:
            raise InputError(f"{target}: folder has no videos ({' '.join(VIDEO_SUFFIXES)})")
        return _named_apart([replace(_from_name(v), subject_is_the_folder=v.parent == target
                                     and not BIOVID_NAME.match(v.stem)) for v in videos])
    if target.suffix.lower() == ".csv":
        return _named_apart(read_csv(target))
    entry = _from_name(target)
    return [entry if label is None else CaptureInput(target, label, entry.subject, neutral=label == 0 and entry.neutral)]

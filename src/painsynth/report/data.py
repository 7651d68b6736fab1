"""The dataset as the report reads it: manifest rows, dataset.json, the motion tracks, and the problems
met while reading them (shown in the report's datasheet)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from painsynth.tracks import MotionTrack, TrackError


@dataclass
class LoadedDataset:
    folder: Path
    rows: list[dict]
    meta: dict  # dataset.json, {} if absent
    tracks: dict[str, MotionTrack | None] = field(default_factory=dict)  # relative path -> track, None if unreadable
    notes: list[str] = field(default_factory=list)  # problems met while reading (shown in the report)


def load_dataset(folder: Path, rows: list[dict]) -> LoadedDataset:
    """The dataset of manifest ``rows`` in ``folder``, with its dataset.json and every motion track its rows name."""
    data = LoadedDataset(folder=folder, rows=rows, meta=_read_meta(folder))
    _load_tracks(data)
    return data


def _read_meta(folder: Path) -> dict:
    path = folder / "dataset.json"
    try:
        meta = json.loads(path.read_text())
        return meta if isinstance(meta, dict) else {}
    except (OSError, ValueError):
        return {}


def _load_tracks(data: LoadedDataset) -> None:
    for track in sorted({r["track"] for r in data.rows if r.get("track")}):
        try:
            data.tracks[track] = MotionTrack.load(data.folder / track)
        except TrackError as exc:
            data.tracks[track] = None
            data.notes.append(f"motion track unreadable: {exc}")


def track_of(data: LoadedDataset, row: dict) -> MotionTrack | None:
    return data.tracks.get(row.get("track") or "")


def add_note(data: LoadedDataset, text: str) -> None:
    if text not in data.notes:
        data.notes.append(text)


def ordered_views(data: LoadedDataset) -> list[str]:
    configured = data.meta.get("config", {}).get("views", []) if isinstance(data.meta.get("config"), dict) else []
    present = {r["view"] for r in data.rows if r.get("view")}
    return [v for v in configured if v in present] + sorted(present - set(configured))

"""The work units of a generate run: each motion played by avatars of the bank (:class:`Performance`),
seeded from (seed, motion, avatar slot) alone, and which of them an earlier run already finished."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from painsynth.config import GenerateConfig
from painsynth.fileio import sha256_of
from painsynth.generate.output import ROWS_DIR


@dataclass(frozen=True)
class Performance:
    """One motion clip played by one avatar: the unit of work."""

    unit_id: str
    motion_id: str
    track: str  # relative to the dataset folder
    avatar: dict  # AvatarSpec.to_dict()
    seed: int


def derived_seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def _track_subject(path: Path) -> str:
    with np.load(path, allow_pickle=False) as arrays:
        return str(arrays["subject"]) if "subject" in arrays.files else ""


def _subjects(config: GenerateConfig, motions: list[tuple[str, str]]) -> list[str]:
    return [_track_subject(config.out / track) or motion_id for motion_id, track in motions]


def avatars_needed(config: GenerateConfig, motions: list[tuple[str, str]]) -> int:
    """The default bank: a new avatar for every performance (every subject's, with avatar_per_subject)."""
    turns = len(set(_subjects(config, motions))) if config.avatar_per_subject else len(motions)
    return max(1, turns * config.per_motion)


def plan_performances(config: GenerateConfig, motions: list[tuple[str, str]], bank: list) -> list[Performance]:
    """Each motion played by ``per_motion`` avatars of the bank, in turn; with ``avatar_per_subject``
    the turn is per subject instead, so that one synthetic person performs all of a subject's clips."""
    if config.avatar_per_subject:
        subjects = _subjects(config, motions)
        turn = {subject: i for i, subject in enumerate(dict.fromkeys(subjects))}
        turns = [turn[subject] for subject in subjects]
    else:
        turns = list(range(len(motions)))
    units = []
    for index, (motion_id, track) in enumerate(motions):
        for slot in range(config.per_motion):
            avatar = bank[(turns[index] * config.per_motion + slot) % len(bank)]
            units.append(Performance(
                unit_id=f"{motion_id}__{avatar.avatar_id}",
                motion_id=motion_id,
                track=track,
                avatar=avatar.to_dict(),
                seed=derived_seed(config.seed, 2, index, slot),
            ))
    return units


def finished_rows(out: Path, unit: Performance) -> list[dict] | None:
    """The unit's manifest rows if it was completed and its videos are intact, else None."""
    rows_file = out / ROWS_DIR / f"{unit.unit_id}.json"
    try:
        rows = json.loads(rows_file.read_text())
    except (OSError, ValueError):
        return None
    for row in rows:
        video = out / row["path"]
        if not video.is_file() or sha256_of(video) != row["sha256"]:
            return None
    return rows

"""The motion tracks a generate run plays, written under ``tracks/``: copied from a ``--motions`` folder
(unlabelled tracks included) or made procedurally, after ``--motion-privacy`` when it is asked for."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

from painsynth.config import GenerateConfig
from painsynth.fileio import atomic_path
from painsynth.generate.output import TRACK_SUFFIX, GenerateError
from painsynth.generate.plan import derived_seed
from painsynth.tracks import LEVEL_NAMES, NEUTRAL_SUFFIX, MotionTrack, TrackError, readable_track


def find_motion_tracks(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The usable motion tracks of a `--motions` folder, and (path, reason) for each that is not."""
    if not folder.is_dir():
        raise GenerateError(f"{folder}: motions folder does not exist")
    usable, problems = [], []
    for source in sorted(folder.rglob(f"*{TRACK_SUFFIX}")):
        if source.name.endswith(NEUTRAL_SUFFIX):
            continue  # a captured subject's neutral face, kept beside the tracks
        try:
            label = MotionTrack.load(source).label
        except TrackError as exc:
            problems.append((source, str(exc)))
            continue
        if -1 <= label <= 4:  # -1: unlabelled motion, replayed all the same
            usable.append(source)
        else:
            problems.append((source, f"{source}: motion track label {label} is neither a pain level 0-4 "
                                     "nor -1 (unlabelled)"))
    if not usable:
        raise GenerateError(f"{folder}: no usable motion tracks (*{TRACK_SUFFIX})"
                            + (f"; first problem: {problems[0][1]}" if problems else ""))
    return usable, problems


def prepare_motions(config: GenerateConfig, sources: list[Path] | None = None) -> list[tuple[str, str]]:
    """Write (or reuse) the motion tracks under tracks/; return (motion_id, relative track path) pairs.

    `sources` (from find_motion_tracks) are copied in; without them, procedural tracks are made.
    """
    tracks_dir = config.out / "tracks"
    tracks_dir.mkdir(exist_ok=True)
    if config.motion_privacy != "none":
        return _prepare_private_motions(config, sources, tracks_dir)
    if sources is not None:
        return [_copy_track(source, tracks_dir) for source in sources]
    motions = []
    for motion_id, make in _procedural_motions(config):
        path = tracks_dir / f"{motion_id}{TRACK_SUFFIX}"
        if not readable_track(path):
            make().save(path)
        motions.append((motion_id, f"tracks/{path.name}"))
    return motions


def _procedural_motions(config: GenerateConfig) -> list[tuple[str, Callable[[], MotionTrack]]]:
    """(motion_id, a maker of its track) per procedural clip: a resumed run makes only what is missing."""
    from painsynth.procedural import make_track

    motions = []
    for index in range(config.clips):
        level = config.levels[index % len(config.levels)]
        performer = f"perf-{config.first_performer + index // config.clips_per_performer:04d}"
        seed = derived_seed(config.seed, 1, index)
        motions.append((f"m{index:05d}-{LEVEL_NAMES[level]}",
                        partial(make_track, level, seed, config.frames, config.fps, performer)))
    return motions


def _prepare_private_motions(config: GenerateConfig, sources: list[Path] | None,
                             tracks_dir: Path) -> list[tuple[str, str]]:
    """The motions after ``config.motion_privacy``: made from every original at once (a method may look at
    the whole population), deterministic for the seed, so a resumed run writes the same tracks."""
    from painsynth.privacy.mitigate import apply

    originals = ([(source.stem, MotionTrack.load(source)) for source in sources] if sources is not None
                 else [(motion_id, make()) for motion_id, make in _procedural_motions(config)])
    changed = apply(config.motion_privacy, [track for _, track in originals], config.seed)
    motions = []
    for (motion_id, _), track in zip(originals, changed):
        path = tracks_dir / f"{motion_id}{TRACK_SUFFIX}"
        if not readable_track(path):
            track.save(path)
        motions.append((motion_id, f"tracks/{path.name}"))
    return motions


def _copy_track(source: Path, tracks_dir: Path) -> tuple[str, str]:
    target = tracks_dir / source.name
    if not target.exists():
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    return source.stem, f"tracks/{source.name}"

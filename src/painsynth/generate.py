"""`painsynth generate`: motion clips × avatars × views → H.264 videos, motion tracks and a manifest.

The work unit is one performance: one motion clip played by one avatar, rendered in every view.
Units are seeded from (seed, motion, avatar slot) alone, so the output does not depend on the
worker count or order. Each finished unit leaves a small JSON of its manifest rows under
`.rows/`; a re-run skips units whose rows and videos check out and redoes the rest.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from painsynth import __version__
from painsynth.config import ConfigError, GenerateConfig
from painsynth.devices import resolve_device
from painsynth.dataset import DATASET_JSON, GROUP_JOIN, MANIFEST_NAME, write_manifest_batches
from painsynth.executors import connect_ray, executor
from painsynth.fileio import atomic_path, log_error, remove_partials, sha256_of
from painsynth.tracks import LEVEL_NAMES, NEUTRAL_SUFFIX, MotionTrack, TrackError

ROWS_DIR = ".rows"
DEMOGRAPHICS = ("gender", "age", "african", "asian", "caucasian", "skin_tone")
MANIFEST_BATCH = 5_000  # manifest rows per Parquet row group
AVATAR_BANK = "avatars.jsonl"
TRACK_SUFFIX = ".npz"
AVATARS_KEPT = 8  # per process: identities and textures (~8 MiB each) of recently used avatars
# A performance's share of a GPU on a Ray node with ``--device cuda``: the GPU draws faster than one
# process feeds it (the CPU encodes), so many performances share it.
PERFORMANCE_GPU_SHARE = 1 / 16
# Settings added after datasets were first made: an earlier record without them used these values.
SETTINGS_BEFORE_RECORDED = {"motion_privacy": "none", "first_performer": 0}


class GenerateError(RuntimeError):
    """The run cannot start (bad output folder, mismatched earlier run, no motions)."""


@dataclass(frozen=True)
class Performance:
    """One motion clip played by one avatar: the unit of work."""

    unit_id: str
    motion_id: str
    track: str  # relative to the dataset folder
    avatar: dict  # AvatarSpec.to_dict()
    seed: int


@dataclass
class RunSummary:
    out: Path
    written: int = 0  # clips (one per view)
    skipped: int = 0
    failed: int = 0
    frames: int = 0
    seconds: float = 0.0
    labels: Counter = field(default_factory=Counter)  # clips per pain level
    avatars: dict[str, dict] = field(default_factory=dict)  # avatar_id -> its demographics (one row's)
    errors: list[str] = field(default_factory=list)

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def count(self, rows: list[dict]) -> None:
        """Tally a finished unit's clips (the rows themselves stay on disk: memory stays flat)."""
        self.labels.update(row["label"] for row in rows)
        for row in rows:
            self.avatars.setdefault(row["avatar_id"], {k: row[k] for k in DEMOGRAPHICS})


def _derived_seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def software_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"painsynth": __version__}
    for package in ("anny", "moderngl", "av", "torch", "numpy"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def prepare_output(config: GenerateConfig) -> None:
    """Create the output folder, or check that an earlier run there used the same settings."""
    out = config.out
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test{TRACK_SUFFIX}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise GenerateError(f"{out}: output folder is not writable ({exc.strerror or exc})") from None
    record = out / DATASET_JSON
    if record.exists():
        earlier = json.loads(record.read_text()).get("config", {})
        earlier = {k: v for k, v in earlier.items() if k not in ("out", "workers")}
        now = config.settings_that_shape_data()
        changed = sorted(k for k in now if earlier.get(k, SETTINGS_BEFORE_RECORDED.get(k)) != now[k])
        if changed:
            raise GenerateError(
                f"{out}: holds a dataset made with other settings ({', '.join(changed)} differ); "
                "use a new --out folder or the same settings to resume"
            )
    remove_partials(out)
    with atomic_path(record) as tmp:
        tmp.write_text(json.dumps({
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seed": config.seed,
            "config": config.to_dict(),
            "versions": software_versions(),
        }, indent=2))


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
        if not _readable_track(path):
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
        seed = _derived_seed(config.seed, 1, index)
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
        if not _readable_track(path):
            track.save(path)
        motions.append((motion_id, f"tracks/{path.name}"))
    return motions


def _readable_track(path: Path) -> bool:
    try:
        MotionTrack.load(path)
        return True
    except TrackError:
        return False


def _copy_track(source: Path, tracks_dir: Path) -> tuple[str, str]:
    target = tracks_dir / source.name
    if not target.exists():
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    return source.stem, f"tracks/{source.name}"


def _track_subject(path: Path) -> str:
    with np.load(path, allow_pickle=False) as arrays:
        return str(arrays["subject"]) if "subject" in arrays.files else ""


def _subjects(config: GenerateConfig, motions: list[tuple[str, str]]) -> list[str]:
    return [_track_subject(config.out / track) or motion_id for motion_id, track in motions]


def _avatars_needed(config: GenerateConfig, motions: list[tuple[str, str]]) -> int:
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
                seed=_derived_seed(config.seed, 2, index, slot),
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


# --- worker side: one renderer and anny rig per process -------------------------------------

_worker: dict = {}


def _init_worker(single_thread: bool) -> None:
    import torch

    if single_thread:
        torch.set_num_threads(1)  # one process per core does better than threads fighting


def _renderer(size: int, msaa: int, device):
    """This process's renderer for these settings (made once, reused for every performance)."""
    from painsynth.render import create_renderer

    if _worker.get("renderer_settings") != (size, msaa, device):
        if "renderer" in _worker:
            _worker["renderer"].release()
        _worker["renderer"] = create_renderer(size=size, samples=msaa, device=device)
        _worker["renderer_settings"] = (size, msaa, device)
        _worker.pop("loaded", None)
    return _worker["renderer"]


def _rig():
    from painsynth.animate import HeadRig

    if "rig" not in _worker:
        _worker["rig"] = HeadRig()
    return _worker["rig"]


def _avatar(spec, device) -> tuple:
    """The avatar, built, its identity on ``device``; kept for the last few avatars this process saw."""
    from painsynth.avatars.build import build_avatar

    cache = _worker.setdefault("avatars", {})
    key = json.dumps(spec.to_dict(), sort_keys=True)  # ids repeat across banks; the spec does not
    if (key, device) not in cache:
        if len(cache) >= AVATARS_KEPT:
            cache.pop(next(iter(cache)))
        avatar = build_avatar(spec, _rig())
        avatar.identity.to(device)
        cache[key, device] = (key, avatar)
    return cache[key, device]


def _load_into(renderer, key: str, avatar) -> None:
    """Upload the avatar unless the renderer already holds it (performances come grouped by avatar)."""
    if _worker.get("loaded") != key:
        renderer.load_avatar(avatar)
        _worker["loaded"] = key


def render_performance(unit: Performance, config: GenerateConfig) -> list[dict]:
    """Render one performance in every view; return its manifest rows (videos already on disk)."""
    from painsynth.avatars import AvatarSpec
    from painsynth.render import frame_head, make_background, sample_lighting
    from painsynth.render.scene import background_images
    from painsynth.video import H264Writer

    out = config.out
    spec = AvatarSpec.from_dict(unit.avatar)
    track = MotionTrack.load(out / unit.track)
    if track.n_frames == 0:
        raise TrackError(f"{unit.track}: motion track has no frames")
    device = resolve_device(config.device)
    key, avatar = _avatar(spec, device)
    identity = avatar.identity
    vertices = identity.animate_tensor(track.blendshapes, track.head_rotation, track.head_translation)
    rng = np.random.default_rng(unit.seed)
    lighting = sample_lighting(rng)
    images = background_images(config.background_folder) if config.background_folder else None
    cameras, backgrounds, kinds = [], [], []
    for view in config.views:
        cameras.append(frame_head(identity.mesh.head_box, view, config.jitter, rng))
        kinds.append(config.backgrounds[rng.integers(len(config.backgrounds))])
        backgrounds.append(make_background(kinds[-1], (config.size, config.size), rng, images))
    renderer = _renderer(config.size, config.msaa, device)
    _load_into(renderer, key, avatar)
    paths = [out / "videos" / unit.motion_id / f"{unit.unit_id}__{view}.mp4" for view in config.views]
    with ExitStack() as stack:
        # The views are encoded in a thread of their own while the next frames are drawn.
        encoder = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="h264"))
        writers = [stack.enter_context(H264Writer(p, track.fps, config.size, config.size, crf=config.crf,
                                                  encoder=encoder)) for p in paths]
        for images_of_frame in renderer.render_clip(vertices, cameras, lighting, backgrounds):
            for writer, image in zip(writers, images_of_frame):
                writer.write(image)
    rows = [_manifest_row(unit, spec, track, camera, kind, path, config)
            for camera, kind, path in zip(cameras, kinds, paths)]
    with atomic_path(out / ROWS_DIR / f"{unit.unit_id}.json") as tmp:
        tmp.write_text(json.dumps(rows))
    return rows


def split_group_of(track: MotionTrack, motion_id: str) -> str:
    """Whose motion the clip carries: its subject, or every subject mixed into it (the leading one first)."""
    sources = track.extra.get("motion_sources")
    if sources is not None and np.size(sources) > 1:
        return GROUP_JOIN.join(str(source) for source in np.atleast_1d(sources))
    return track.subject or motion_id


def _manifest_row(unit, spec, track: MotionTrack, camera, background: str, path: Path, config) -> dict:
    ethnicity = spec.ethnicity
    pspi_max = track.pspi_max
    return {
        "track": unit.track,
        "clip_id": f"{unit.unit_id}__{camera.view}",
        "path": path.relative_to(config.out).as_posix(),
        "split_group": split_group_of(track, unit.motion_id),
        "source": "procedural" if track.source == "procedural" else "captured",
        "label": int(track.label),
        "pspi_max": None if np.isnan(pspi_max) else pspi_max,
        "avatar_id": spec.avatar_id,
        "gender": spec.gender,
        "age": float(spec.age_years),
        "african": ethnicity["african"],
        "asian": ethnicity["asian"],
        "caucasian": ethnicity["caucasian"],
        "skin_tone": int(spec.monk_tone),
        "hair_family": spec.hair_family,
        "garment": spec.garment,
        "glasses": spec.glasses,
        "view": camera.view,
        "yaw": camera.yaw,
        "pitch": camera.pitch,
        "fps": float(track.fps),
        "n_frames": track.n_frames,
        "width": config.size,
        "height": config.size,
        "seed": unit.seed,
        "sha256": sha256_of(path),
        "motion_id": unit.motion_id,
        "background": background,
    }


# --- driver ---------------------------------------------------------------------------------


def _log_error(out: Path, about: dict, reason: str) -> str:
    """Append one failure to the run's error log; return its one-line description."""
    log_error(out, **about, error=reason)
    return reason


def _record_error(out: Path, unit: Performance, exc: BaseException) -> str:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    _log_error(out, {"unit": unit.unit_id, "track": unit.track}, reason)
    return f"{unit.unit_id}: {reason}"


def _render_unit(work: tuple[Performance, GenerateConfig]) -> list[dict]:
    """A work unit as executors run it (one argument, picklable): render one performance."""
    return render_performance(*work)


def _run_units(units: list[Performance], config: GenerateConfig) -> Iterator[tuple[Performance, list | BaseException]]:
    """(unit, its manifest rows or the exception it raised) as units finish, wherever ``config`` says."""
    on_gpu = config.ray is not None and config.device.startswith("cuda")
    runner = executor(config.ray, config.workers, initializer=_init_worker, initargs=(True,),
                      num_gpus=PERFORMANCE_GPU_SHARE if on_gpu else 0)
    for (unit, _), result in runner.map(_render_unit, [(unit, config) for unit in units]):
        yield unit, result


def _row_batches(out: Path, unit_ids: list[str]) -> Iterator[list[dict]]:
    """The complete units' manifest rows, read back from their row files, about MANIFEST_BATCH at a time."""
    batch: list[dict] = []
    for unit_id in unit_ids:
        batch.extend(json.loads((out / ROWS_DIR / f"{unit_id}.json").read_text()))
        if len(batch) >= MANIFEST_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(config: GenerateConfig, on_progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """Make (or resume) the dataset that `config` describes; return what happened."""
    from painsynth.avatars import load_bank, sample_avatars, save_bank
    from painsynth.render.scene import background_images, check_background_images

    started = time.perf_counter()
    if config.ray:
        connect_ray(config.ray)  # a cluster that does not answer stops the run before anything is written
    if config.background_folder is not None:
        check_background_images(background_images(config.background_folder))
    motion_sources, motion_problems = find_motion_tracks(config.motions) if config.motions else (None, [])
    prepare_output(config)
    out = config.out
    motions = prepare_motions(config, motion_sources)
    bank = sample_avatars(config.avatars or _avatars_needed(config, motions), config.seed,
                          children=config.children, choices=config.bank_choices())
    bank_file = out / AVATAR_BANK
    if not bank_file.exists() or [a.to_dict() for a in load_bank(bank_file)] != [a.to_dict() for a in bank]:
        save_bank(bank, bank_file)
    units = plan_performances(config, motions, bank)
    summary = RunSummary(out=out)
    for source, reason in motion_problems:
        summary.errors.append(_log_error(out, {"track": str(source)}, reason))
        summary.failed += config.per_motion * len(config.views)  # the clips it would have made
    pending, complete = [], set()
    for unit in units:
        rows = finished_rows(out, unit)
        if rows is None:
            pending.append(unit)
        else:
            complete.add(unit.unit_id)
            summary.count(rows)
            summary.skipped += len(rows)
    # An avatar's performances one after another: its identity and textures are made once.
    pending.sort(key=lambda unit: unit.avatar["avatar_id"])
    if on_progress:
        on_progress(0, len(pending))
    try:
        for done, (unit, result) in enumerate(_run_units(pending, config), start=1):
            if isinstance(result, BaseException):
                summary.failed += len(config.views)
                summary.errors.append(_record_error(out, unit, result))
            else:
                complete.add(unit.unit_id)
                summary.count(result)
                summary.written += len(result)
                summary.frames += sum(row["n_frames"] for row in result)
            if on_progress:
                on_progress(done, len(pending))
    finally:
        # Written even when interrupted, so the manifest always lists every clip that is complete.
        if complete:
            write_manifest_batches(_row_batches(out, sorted(complete)), out / MANIFEST_NAME)
        summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["ConfigError", "GenerateError", "Performance", "RunSummary", "generate", "render_performance"]

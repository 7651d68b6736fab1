"""The worker side of a generate run: one performance rendered in every view and encoded to H.264, with
one renderer and anny rig per process and the last few avatars kept built; its manifest rows."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from painsynth.config import GenerateConfig
from painsynth.dataset import GROUP_JOIN
from painsynth.devices import resolve_device
from painsynth.fileio import atomic_path, sha256_of
from painsynth.generate.output import ROWS_DIR
from painsynth.generate.plan import Performance
from painsynth.tracks import MotionTrack, TrackError

AVATARS_KEPT = 8  # per process: identities and textures (~8 MiB each) of recently used avatars

_worker: dict = {}


def init_worker(single_thread: bool) -> None:
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


def render_unit(work: tuple[Performance, GenerateConfig]) -> list[dict]:
    """A work unit as executors run it (one argument, picklable): render one performance."""
    return render_performance(*work)

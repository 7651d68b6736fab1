"""The settings of a `generate` run: defaults, YAML config files, validation with one-line errors."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from painsynth.avatars.bank import BankChoices
from painsynth.avatars.tables import GARMENTS, GLASSES_SHARE, HAIR_FAMILIES
from painsynth.render.cameras import parse_views
from painsynth.render.scene import BACKGROUND_KINDS

MIN_FRAMES = 8


def default_workers() -> int:
    """Half the cores (capture and file checks)."""
    return max(1, (os.cpu_count() or 1) // 2)


def default_render_workers() -> int:
    """generate's processes: half the cores, but two where there are two. Each process's llvmpipe
    rasteriser runs a thread per core, yet while one process builds its next avatar and hands its
    frames over, the other's keeps the cores busy: on 2 cores two processes made generate 1.06-1.08x
    as fast (benchmarks/render_throughput.py --parts generate, 12 clips x 3 views), at twice the
    peak memory (about 1.2 GB each)."""
    cores = os.cpu_count() or 1
    return max(min(2, cores), cores // 2)


class ConfigError(ValueError):
    """A setting has a value that is not allowed; the message names it and what is allowed."""


@dataclass
class GenerateConfig:
    out: Path = Path("data/syn")
    clips: int = 10  # motion clips
    per_motion: int = 1  # avatars that play each motion clip
    avatars: int | None = None  # bank size; None: one new avatar per performance
    views: list[str] = field(default_factory=lambda: ["front"])
    seed: int = 0
    frames: int = 138
    fps: float = 25.0
    size: int = 224
    jitter: float = 0.0
    backgrounds: list[str] = field(default_factory=lambda: ["solid", "gradient", "noise"])
    background_folder: Path | None = None
    levels: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    clips_per_performer: int = 5
    first_performer: int = 0  # number of the first procedural performer: a held-out set of new motion styles
    avatar_per_subject: bool = False  # every motion of one subject (split_group) played by the same avatar(s)
    children: bool = False
    hair_families: list[str] = field(default_factory=lambda: list(HAIR_FAMILIES))  # hair the bank may draw
    garments: list[str] = field(default_factory=lambda: list(GARMENTS))  # garments the bank may draw
    glasses_share: float = GLASSES_SHARE  # share of identities wearing glasses, 0-1
    motions: Path | None = None  # folder of motion tracks to replay instead of procedural motion
    motion_privacy: str = "none"  # painsynth.privacy.mitigate.METHODS: how motions are de-identified
    workers: int = field(default_factory=default_render_workers)
    ray: str | None = None  # a Ray cluster's address (auto, local, ray://host:port); None: this machine's pool
    msaa: int = 0
    crf: int = 18
    device: str = "auto"  # where torch animates the heads (painsynth.devices); auto: CUDA when there is one

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        for key, value in data.items():
            if isinstance(value, Path):
                data[key] = str(value)
        return data

    def bank_choices(self):
        return BankChoices(tuple(self.hair_families), tuple(self.garments), self.glasses_share)

    def settings_that_shape_data(self) -> dict:
        """What must match for a re-run to resume a dataset instead of mixing two."""
        data = self.to_dict()
        for key in ("out", "workers", "ray", "device"):
            data.pop(key)
        return data


def _positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def load_config_file(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must be a YAML mapping of option: value")
    return {key.replace("-", "_"): value for key, value in data.items()}


def make_config(**values) -> GenerateConfig:
    """Build and validate a config from option values (None means 'not given': keep the default)."""
    known = {f.name for f in dataclasses.fields(GenerateConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    config = GenerateConfig(**{k: v for k, v in values.items() if v is not None})
    return validate(config)


def _check_device(config: GenerateConfig) -> None:
    """The device must exist here, unless the work runs on a Ray cluster (its workers may have it)."""
    from painsynth.devices import DeviceError, check_device_name, resolve_device

    try:
        (check_device_name if config.ray else resolve_device)(config.device)
    except DeviceError as exc:
        raise ConfigError(str(exc)) from None


def _as_list(value) -> list:
    return value.split(",") if isinstance(value, str) else list(value)


def validate(config: GenerateConfig) -> GenerateConfig:
    _positive_int("clips", config.clips)
    _positive_int("per_motion", config.per_motion)
    if config.avatars is not None:
        _positive_int("avatars", config.avatars)
    if isinstance(config.seed, bool) or not isinstance(config.seed, int) or config.seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {config.seed!r}")
    _positive_int("frames", config.frames, MIN_FRAMES)
    _positive_int("clips_per_performer", config.clips_per_performer)
    _positive_int("first_performer", config.first_performer, 0)
    _positive_int("workers", config.workers)
    if config.ray is not None and (not isinstance(config.ray, str) or not config.ray.strip()):
        raise ConfigError(f"ray must be a Ray address (auto, local or ray://HOST:PORT), got {config.ray!r}")
    _check_device(config)
    if not isinstance(config.avatar_per_subject, bool):
        raise ConfigError(f"avatar_per_subject must be true or false, got {config.avatar_per_subject!r}")
    if isinstance(config.fps, bool) or not isinstance(config.fps, (int, float)) or not 1 <= config.fps <= 240:
        raise ConfigError(f"fps must be a number from 1 to 240, got {config.fps!r}")
    size = _positive_int("size", config.size, 32)
    if size % 2 or size > 2048:
        raise ConfigError(f"size must be an even number of pixels from 32 to 2048, got {size}")
    if not isinstance(config.jitter, (int, float)) or not 0 <= config.jitter <= 1:
        raise ConfigError(f"jitter must be a number from 0 to 1, got {config.jitter!r}")
    if config.msaa not in (0, 2, 4):
        raise ConfigError(f"msaa must be 0, 2 or 4 samples, got {config.msaa!r}")
    if not isinstance(config.crf, int) or not 0 <= config.crf <= 51:
        raise ConfigError(f"crf must be an integer from 0 to 51, got {config.crf!r}")
    try:
        config.views = parse_views(config.views)
    except ValueError as exc:
        raise ConfigError(f"views: {exc}") from None
    config.backgrounds = [b.strip() for b in _as_list(config.backgrounds) if b.strip()]
    bad = [b for b in config.backgrounds if b not in BACKGROUND_KINDS] or ([] if config.backgrounds else ["(none)"])
    if bad:
        raise ConfigError(f"unknown background kind {', '.join(bad)}; allowed: {', '.join(BACKGROUND_KINDS)}")
    config.levels = _levels(config.levels)
    config.hair_families = _stripped(config.hair_families)
    config.garments = _stripped(config.garments)
    try:  # the bank's own check: one place knows what a bank may use
        config.bank_choices()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    config.out = Path(config.out)
    if config.background_folder is not None:
        config.background_folder = Path(config.background_folder).absolute()
        if "image" not in config.backgrounds:
            config.backgrounds.append("image")
    elif "image" in config.backgrounds:
        raise ConfigError("background kind 'image' needs a background folder (--backgrounds-dir DIR)")
    if config.motions is not None:
        config.motions = Path(config.motions).absolute()
    _check_motion_privacy(config.motion_privacy)
    return config


def _check_motion_privacy(name) -> None:
    from painsynth.privacy.mitigate import METHODS

    if name not in METHODS:
        raise ConfigError(f"motion_privacy must be one of {', '.join(METHODS)}, got {name!r}")


def _stripped(value) -> list:
    """A comma string or a list, its strings stripped and empty ones dropped (other values kept for the check)."""
    values = _as_list(value) if isinstance(value, (str, list, tuple)) else [value]
    return [v.strip() if isinstance(v, str) else v for v in values if not isinstance(v, str) or v.strip()]


def _levels(value) -> list[int]:
    try:
        levels = sorted({int(v) for v in _as_list(value)})
    except (TypeError, ValueError):
        raise ConfigError(f"levels must be pain levels from 0 to 4, got {value!r}") from None
    if not levels or levels[0] < 0 or levels[-1] > 4:
        raise ConfigError(f"levels must be pain levels from 0 to 4, got {value!r}")
    return levels

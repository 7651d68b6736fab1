"""The dataset folder a generate run writes: its layout and its record of the settings that shaped it
(``dataset.json``), which a resumed run must match."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from painsynth import __version__
from painsynth.config import GenerateConfig
from painsynth.dataset import DATASET_JSON
from painsynth.fileio import atomic_path, remove_partials

ROWS_DIR = ".rows"  # one JSON of manifest rows per finished performance
AVATAR_BANK = "avatars.jsonl"
TRACK_SUFFIX = ".npz"
# Settings added after datasets were first made: an earlier record without them used these values.
SETTINGS_BEFORE_RECORDED = {"motion_privacy": "none", "first_performer": 0}


class GenerateError(RuntimeError):
    """The run cannot start (bad output folder, mismatched earlier run, no motions)."""


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

"""Files: crash-safe writing (every output is written under a temporary name and renamed when complete),
checksums, checks of model files, and the run's error log."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from datetime import datetime, timezone
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

TMP_MARKER = ".partial"
ERRORS_FILE = "errors.jsonl"  # one JSON object per line: what failed, why, when

# (resolved path, inode, size, mtime_ns) -> sha256: a file is hashed once per process until it changes
_digests: dict[tuple[str, int, int, int], str] = {}


def temp_name(path: Path) -> Path:
    # Keep the real suffix last so libraries that pick a format by extension still work.
    return path.with_name(f"{path.stem}{TMP_MARKER}-{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def remove_partials(folder: Path) -> int:
    """Delete files a crashed run left half-written under ``folder``; return how many."""
    count = 0
    for leftover in folder.rglob(f"*{TMP_MARKER}-*"):
        if leftover.is_file():
            leftover.unlink()
            count += 1
    return count


def sha256_of(path: str | Path) -> str:
    """The file's SHA-256 (hex), hashed once per process until the file changes."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _digests:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _digests[key] = digest.hexdigest()
    return _digests[key]


def file_problem(path: str | Path, sha256: str, size: int | None = None) -> str | None:
    """What is wrong with a file that must have this SHA-256 (and size), in words; None when it is right."""
    path = Path(path)
    if not path.is_file():
        return "not found"
    if size is not None and path.stat().st_size != size:
        return f"{path.stat().st_size} bytes, expected {size} (corrupt or a different file)"
    got = sha256_of(path)
    if got != sha256:
        return f"SHA-256 {got} does not match the expected {sha256} (corrupt or a different file)"
    return None


def error_record(**fields) -> dict:
    """One line of a run's error log: the time (UTC, ISO 8601) and ``fields``."""
    return {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), **fields}


def log_error(folder: Path, **fields) -> None:
    """Append one failure to ``folder``'s error log."""
    with open(Path(folder) / ERRORS_FILE, "a", encoding="utf-8") as log:
        log.write(json.dumps(error_record(**fields)) + "\n")


def cached_arrays(path: Path, keys: Sequence[str], build: Callable[[], dict]) -> dict:
    """The arrays ``keys`` of the ``.npz`` at ``path``; when it is missing or unreadable, ``build()``'s,
    saved there (atomically) for next time."""
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in keys}
        except (OSError, KeyError, ValueError):
            pass
    result = build()
    with atomic_path(path) as partial:
        np.savez(partial, **result)
    return result

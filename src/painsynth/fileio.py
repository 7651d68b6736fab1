"""Crash-safe file writing: every output is written under a temporary name and renamed when complete."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

TMP_MARKER = ".partial"


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
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_arrays(path: Path, keys: Sequence[str], build: Callable[[], dict]) -> dict:
    """The arrays ``keys`` of the ``.npz`` at ``path``; when it is missing or unreadable, ``build()``'s,
    saved there (atomically) for next time."""
    import numpy as np

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

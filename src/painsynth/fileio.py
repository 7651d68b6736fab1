"""Crash-safe file writing: every output is written under a temporary name and renamed when complete."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
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

"""Where the capture's built assets are kept: shipped with the package, else the user's cache."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from painsynth.fileio import cached_arrays

CACHE = Path.home() / ".cache" / "painsynth"
PACKAGED = Path(__file__).parents[1] / "assets"


def keyed_path(stem: str, *settings) -> Path:
    """``CACHE/<stem>_<key>.npz``, the key a hash of everything that shapes the asset (``settings``), so a
    file built with other settings is never read as this one."""
    key = hashlib.sha256("-".join(str(setting) for setting in settings).encode()).hexdigest()[:16]
    return CACHE / f"{stem}_{key}.npz"


def built(cache_file: Path, keys: tuple[str, ...], build) -> dict[str, np.ndarray]:
    """The asset named like ``cache_file``: the packaged copy if one was built with today's settings,
    else the user's cache, else ``build()``'s result (announced on stderr: it takes seconds to minutes),
    cached there."""
    shipped = PACKAGED / cache_file.name
    if shipped.is_file():
        with np.load(shipped, allow_pickle=False) as data:
            return {k: data[k] for k in keys}

    def announced() -> dict:
        print(f"painsynth: building {cache_file.stem.rsplit('_', 1)[0].replace('_', ' ')} from anny renders "
              f"(once; cached in {cache_file.parent})", file=sys.stderr, flush=True)
        return build()
    return cached_arrays(cache_file, keys, announced)

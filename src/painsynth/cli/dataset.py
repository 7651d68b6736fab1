"""The dataset commands on whole dataset folders: verify (every file) and merge (folders into one)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from painsynth.cli.errors import fail
from painsynth.cli.output import ProgressBar


def dataset_verify(
    folder: Path = typer.Argument(..., help="Dataset folder (with manifest.parquet)."),
    workers: Optional[int] = typer.Option(None, help="Files checked at once. (default: half the cores)"),
) -> None:
    """Check that every clip's video exists, matches the manifest's SHA-256 and decodes to its frame count,
    and that every motion track loads. Lists the bad files; exit status 1 if there are any."""
    from painsynth.config import default_workers
    from painsynth.dataset_tools import DatasetToolError, verify

    try:
        with ProgressBar("verifying clips") as report:
            result = verify(folder, workers=workers or default_workers(), on_progress=report)
    except DatasetToolError as exc:
        fail(str(exc))
    for file, reason in result.bad:
        typer.echo(f"bad: {file}: {reason}", err=True)
    Console().print(f"{result.clips} clips checked, {len(result.bad)} bad file(s) in {result.folder}")
    if result.bad:
        raise typer.Exit(1)


def dataset_merge(
    folders: list[Path] = typer.Argument(..., help="Two or more dataset folders."),
    out: Path = typer.Option(..., "--out", "-o", help="New folder for the merged dataset (must not exist or be empty)."),
) -> None:
    """Merge dataset folders made at one frame size and rate into a new folder: clip ids gain their folder's
    name, split groups are kept (one subject's clips stay one group), files are hard-linked where possible."""
    from painsynth.dataset_tools import DatasetToolError, merge

    try:
        clips = merge(folders, out)
    except DatasetToolError as exc:
        fail(str(exc))
    Console().print(f"{clips} clips merged into {out}")

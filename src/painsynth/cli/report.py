"""The report command: a dataset as one static HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from painsynth.cli.errors import fail


def report(
    dataset: Path = typer.Argument(..., help="Dataset folder (with manifest.parquet) to report on."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file to write. (default: DATASET/report.html)"),
    experiment: Optional[Path] = typer.Option(None, "--experiment", help="Experiment folder: its *.md tables and *.png plots are included."),
    audit: Optional[Path] = typer.Option(None, "--audit", help="Audit folder: its *.md tables and *.png plots are included."),
) -> None:
    """Write a static HTML report of a dataset: contact sheet, previews, demographics, PSPI, AU curves, datasheet."""
    from painsynth.report import ReportError, build_report

    try:
        path = build_report(dataset, out, experiment=experiment, audit=audit)
    except ReportError as exc:
        fail(str(exc))
    except ImportError as exc:
        fail(f"report needs matplotlib: pip install 'matplotlib>=3.7' ({exc})")
    typer.echo(f"report: {path}")

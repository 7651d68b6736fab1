"""The report's entry point: check the inputs and the output, read the dataset, write every section."""

from __future__ import annotations

from pathlib import Path

from painsynth.fileio import atomic_path, temp_name
from painsynth.report.data import load_dataset
from painsynth.report.datasheet import datasheet_section
from painsynth.report.extras import extra_section
from painsynth.report.page import page
from painsynth.report.sections import (au_curves_section, contact_sheet_section, demographics_section,
                                       previews_section, pspi_section)

REPORT_NAME = "report.html"


class ReportError(ValueError):
    """The dataset or an extra folder cannot be read, or the report cannot be written."""


def build_report(dataset: str | Path, out: str | Path | None = None, experiment: str | Path | None = None,
                 audit: str | Path | None = None) -> Path:
    """Write the HTML report of the dataset folder ``dataset`` to ``out`` (default: inside it); return its path.

    Raises ReportError, before anything is written, on a missing folder or manifest, an extra
    folder that does not exist, or an output that cannot be written.
    """
    from painsynth.dataset import ManifestError, manifest_rows

    folder = Path(dataset)
    if not folder.is_dir():
        raise ReportError(f"{folder}: dataset folder does not exist")
    try:
        rows = manifest_rows(folder)
    except ManifestError as exc:
        raise ReportError(str(exc)) from None
    extras = [(name, Path(p)) for name, p in (("Experiment", experiment), ("Audit", audit)) if p is not None]
    for name, extra in extras:
        if not extra.is_dir():
            raise ReportError(f"{extra}: {name.lower()} folder does not exist")
    out = Path(out) if out is not None else folder / REPORT_NAME
    _check_writable(out)

    data = load_dataset(folder, rows)
    sections = [
        contact_sheet_section(data),
        previews_section(data),
        demographics_section(data),
        pspi_section(data),
        au_curves_section(data),
        datasheet_section(data),
        *(extra_section(name, extra) for name, extra in extras),
    ]
    text = page(data, sections)
    try:
        with atomic_path(out) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{out}: cannot write the report ({exc.strerror or exc})") from None
    return out


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise ReportError(f"{out}: is a folder; give the report's file name (e.g. {out / REPORT_NAME})")
    probe = temp_name(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ReportError(f"{out}: cannot write the report ({exc.strerror or exc})") from None

"""A dataset report: one static HTML file a person can open in a browser (docs/design.md, "report").

``build_report(dataset)`` reads a dataset folder (``manifest.parquet``, ``videos/``, ``tracks/``,
``dataset.json``) and writes ``report.html`` with every image embedded as a data URI, so the file
travels alone: no server, no internet, no external scripts, styles or fonts. Sections: header,
contact sheet of identities x views, animated previews per pain level, demographic balance,
labels and PSPI per level, per-frame AU curves, a datasheet, and the tables and plots of an
experiment or audit folder when given.

One job per module: ``build`` (the entry point), ``data`` (reading the dataset), ``sections`` (the
sections on the clips), ``datasheet``, ``extras`` (experiment and audit folders), ``charts``,
``frames`` (frames and GIF previews), ``facts`` (level names, age bands, counts as text), ``markup``
(HTML building blocks) and ``page`` (the page around the sections).
"""

from painsynth.report.build import REPORT_NAME, ReportError, build_report

__all__ = ["REPORT_NAME", "ReportError", "build_report"]

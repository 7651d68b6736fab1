"""What the commands print besides their own tables: the progress bar, the console it draws on (stderr),
the summary of a generate run and counts as text."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

console = Console(stderr=True)


class ProgressBar:
    """A rich progress bar driven by (done, total) callbacks from a library function."""

    def __init__(self, label: str):
        self.progress = Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, transient=False,
        )
        self.task = None

    def __enter__(self):
        self.progress.start()
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.task is None:
            self.task = self.progress.add_task("", total=total)
        self.progress.update(self.task, completed=done, total=total)

    def __exit__(self, *exc_info) -> None:
        self.progress.stop()


def print_generate_summary(summary) -> None:
    avatars = summary.avatars.values()
    table = Table(title=f"painsynth generate → {summary.out}", show_header=False)
    table.add_row("clips written", str(summary.written))
    table.add_row("clips skipped (already done)", str(summary.skipped))
    table.add_row("clips failed", f"[red]{summary.failed}[/]" if summary.failed else "0")
    table.add_row("pain levels", count_text(summary.labels))
    table.add_row("avatars", str(len(avatars)))
    table.add_row("gender", count_text(Counter(a["gender"] for a in avatars)))
    table.add_row("age band", count_text(Counter(_age_band(a["age"]) for a in avatars)))
    table.add_row("ethnicity (largest weight)", count_text(Counter(
        max(("african", "asian", "caucasian"), key=lambda k: a[k]) for a in avatars)))
    table.add_row("Monk skin tone", count_text(Counter(a["skin_tone"] for a in avatars)))
    table.add_row("wall time", f"{summary.seconds:.1f} s")
    table.add_row("frames rendered / s", f"{summary.frames_per_second:.0f}")
    Console().print(table)
    for line in summary.errors[:10]:
        console.print(f"[red]failed[/] {line}", highlight=False)
    if summary.errors:
        console.print(f"all failures: {summary.out / 'errors.jsonl'}")


def count_text(counter: Counter) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items())) or "-"


def _age_band(age: float) -> str:
    for upper, band in ((18, "<18"), (31, "18-30"), (46, "31-45"), (61, "46-60")):
        if age < upper:
            return band
    return "61+"


def build_anny_model_once() -> None:
    """anny's model is built into its cache on first use (33 s here): say so while it happens, before any
    progress bar (a worker process would otherwise build it silently under one at 0 %)."""
    from painsynth.animate import anny_cache_folder, anny_model_built, load_anny

    if anny_model_built():
        return
    with console.status(f"first use of anny: building its model in {anny_cache_folder()} (once, about 30 s)"):
        load_anny()

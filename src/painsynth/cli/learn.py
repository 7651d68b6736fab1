"""Commands that learn from datasets: train (a model), evaluate (a run's checkpoint) and experiment (real vs
synthetic vs both over real-subject budgets)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from painsynth.cli.errors import fail
from painsynth.cli.options import CAPTURE_METHOD_HELP, CAPTURE_METHODS, RAY_OPTION, CaptureMethod
from painsynth.cli.output import ProgressBar

# Options several of these commands share (one OptionInfo may serve several commands)
MODEL_OPTION = typer.Option("au-tcn", "--model", help="Registered model (painsynth.models.list_models()).")
TASK_OPTION = typer.Option("binary", "--task", help="binary (0 vs 1-4), binary-extreme (0 vs 4) or multiclass (5 levels).")
BATCH_SIZE_OPTION = typer.Option(64, "--batch-size", help="Clips per batch.")
LR_OPTION = typer.Option(1e-3, "--lr", help="Learning rate (cosine schedule to 0).")
OPTIMIZER_OPTION = typer.Option("adamw", "--optimizer", help="adamw, or sgd (momentum 0.9, Nesterov; try --lr 0.01).")
FRAMES_OPTION = typer.Option(32, help="Frames sampled per clip.")
IMAGE_SIZE_OPTION = typer.Option(None, "--image-size", help="Frame models: frames are decoded (and encoded) at this size. (default: the model's, 112)")
WEIGHTS_OPTION = typer.Option(None, "--weights", help="Frame models: a checkpoint to start from (frame-temporal: MobileNetV2 encoder weights; r2plus1d-18: e.g. torchvision's Kinetics-400 file).")
TRAIN_ENCODER_OPTION = typer.Option(False, "--train-encoder", help="frame-temporal: fine-tune the MobileNetV2 encoder on decoded frames (slow on CPU) instead of training on its cached embeddings.")
DEVICE_OPTION = typer.Option("auto", help="auto (CUDA, then CPU), cpu or cuda[:N].")
CAPTURE_METHOD_OPTION = typer.Option(CAPTURE_METHODS[0], "--capture-method", help=CAPTURE_METHOD_HELP)


def _frame_model_kwargs(image_size: int | None, weights: Path | None, train_encoder: bool) -> dict:
    kwargs = {k: v for k, v in (("image_size", image_size), ("weights", weights and str(weights))) if v is not None}
    if train_encoder:
        kwargs["freeze_encoder"] = False
    return kwargs


def train(
    data: list[Path] = typer.Option(..., "--data", help="Dataset folder (painsynth manifest); repeat for several."),
    model: str = MODEL_OPTION,
    task: str = TASK_OPTION,
    out: Path = typer.Option(Path("runs/train"), "--out", "-o", help="Run folder: best.pt, last.pt, epochs.csv, config.json. An unfinished run there is resumed."),
    epochs: int = typer.Option(30, help="Maximum epochs."),
    batch_size: int = BATCH_SIZE_OPTION,
    lr: float = LR_OPTION,
    optimizer: str = OPTIMIZER_OPTION,
    seed: int = typer.Option(0, help="Seed for the validation split, initialisation and batches."),
    device: str = DEVICE_OPTION,
    frames: int = FRAMES_OPTION,
    sampling: str = typer.Option("uniform", help="uniform (evenly over the clip) or window (a random contiguous window)."),
    patience: int = typer.Option(10, help="Stop after this many epochs without a better validation AUROC."),
    val_fraction: float = typer.Option(0.2, "--val-fraction", help="Share of the training clips held out for validation, by split_group (with fewer than 5 groups there is no validation: every epoch runs and the last is kept)."),
    image_size: Optional[int] = IMAGE_SIZE_OPTION,
    weights: Optional[Path] = WEIGHTS_OPTION,
    train_encoder: bool = TRAIN_ENCODER_OPTION,
    capture_method: CaptureMethod = CAPTURE_METHOD_OPTION,
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
        fail(str(exc))
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
    from painsynth.train import clips_at

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
    return clips_at(clips, [i for i, seen in enumerate(trained) if not seen])


def evaluate(
    run: Path = typer.Argument(..., help="Run folder written by `painsynth train`."),
    data: list[Path] = typer.Option(..., "--data", help="Test dataset folder; repeat for several."),
    model: Optional[str] = typer.Option(None, "--model", help="Fail unless the run's checkpoint is of this model."),
    device: str = DEVICE_OPTION,
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
        fail(f"bootstrap must be an integer >= 0, got {bootstrap}")
    errors: list[str] = []
    try:
        _, checkpoint = load_run(run, device)  # a bad run folder fails before any featurising
        if model is not None and checkpoint["model_name"] != model:
            fail(f"{run}: checkpoint is from model {checkpoint['model_name']!r}, not {model!r}")
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
        fail(str(exc))
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


def experiment(
    synthetic: Path = typer.Option(..., "--synthetic", help="Synthetic dataset folder (painsynth generate)."),
    real: Path = typer.Option(..., "--real", help="Real dataset folder (painsynth ingest); its subjects make the folds."),
    real_subjects: str = typer.Option("0,5,10,20,all", "--real-subjects", help="Budgets of real training subjects, comma-separated; 'all' = every training subject of a fold."),
    model: str = MODEL_OPTION,
    task: str = TASK_OPTION,
    folds: int = typer.Option(5, help="Subject-disjoint folds of the real subjects (each is the test set once)."),
    seeds: int = typer.Option(3, help="Seeds per fold and budget (subject sampling and training)."),
    out: Path = typer.Option(Path("runs/experiment"), "--out", "-o", help="Experiment folder: results.csv/.md/.png, cells/, runs/. A re-run skips finished cells."),
    epochs: int = typer.Option(30, help="Epochs per cell: every cell trains them all and keeps the last (no validation split)."),
    batch_size: int = BATCH_SIZE_OPTION,
    lr: float = LR_OPTION,
    optimizer: str = OPTIMIZER_OPTION,
    frames: int = FRAMES_OPTION,
    device: str = DEVICE_OPTION,
    workers: Optional[int] = typer.Option(None, "--workers", "-j", help="Cells trained at once, each in its own process. (default: one per core on CPU, 1 on CUDA)"),
    ray: Optional[str] = RAY_OPTION,
    image_size: Optional[int] = IMAGE_SIZE_OPTION,
    weights: Optional[Path] = WEIGHTS_OPTION,
    train_encoder: bool = TRAIN_ENCODER_OPTION,
    capture_method: CaptureMethod = CAPTURE_METHOD_OPTION,
) -> None:
    """Real-only vs synthetic-only vs synthetic+real against the number of real training subjects, subject-disjoint folds.

    Synthetic clips carrying a test subject's motion (same split_group) are never trained on.
    """
    from painsynth.executors import ExecutorError, connect_ray
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
        if ray:
            connect_ray(ray)  # a cluster that does not answer stops the run before anything is written
        with ProgressBar("experiment cells") as report:
            summary = run_experiment(config, out, on_progress=report, errors=errors, workers=workers, ray=ray)
    except (ExperimentError, TrainError, UnknownModelError, ExecutorError) as exc:
        fail(str(exc))
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

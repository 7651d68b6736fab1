"""Commands that make synthetic data: generate (a dataset) and preview (a contact sheet of the avatar bank)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from painsynth.cli.errors import fail
from painsynth.cli.options import RAY_OPTION
from painsynth.cli.output import ProgressBar, build_anny_model_once, print_generate_summary


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
    first_performer: Optional[int] = typer.Option(None, "--first-performer", help="Number of the first procedural performer (perf-NNNN, whose motion style the name fixes): e.g. a held-out set of performers another dataset does not have. (default: 0)"),
    avatar_per_subject: Optional[bool] = typer.Option(None, "--avatar-per-subject", help="Play all motions of one subject (split_group: a performer, or a captured participant) on the same avatar(s), like a real cohort where each person gives every level. (default: each performance takes the next avatar)"),
    children: Optional[bool] = typer.Option(None, "--children/--adults", help="Include children (4-17) in the avatar bank. (default: adults 18-85)"),
    hair_families: Optional[str] = typer.Option(None, "--hair-families", help="Hair families the bank draws from: bald, balding, receding, buzz, short, medium, long_straight, long_wavy, ponytail, bun, afro. (default: all, with odds by gender and age)"),
    garments: Optional[str] = typer.Option(None, help="Garments the bank draws from: hospital_gown, t_shirt, collared_shirt, sweater, tank_top. (default: all)"),
    glasses_share: Optional[float] = typer.Option(None, "--glasses-share", help="Share of identities wearing glasses, 0-1. (default: 0.25)"),
    motions: Optional[Path] = typer.Option(None, help="Folder of motion tracks (.npz) to replay instead of procedural motion."),
    motion_privacy: Optional[str] = typer.Option(None, "--motion-privacy", help="De-identify the motions before replay: none, mix (each clip spliced from the motion of 3 subjects of the same label) or normalise (each subject's amplitude and tempo mapped onto the population's). Recorded in dataset.json and in each track. (default: none)"),
    workers: Optional[int] = typer.Option(None, help="Parallel processes. (default: half the cores, but 2 on 2 cores; each process's rasteriser uses every core)"),
    ray: Optional[str] = RAY_OPTION,
    msaa: Optional[int] = typer.Option(None, help="Anti-aliasing samples: 0, 2 or 4 (slower on CPU). (default: 0)"),
    device: Optional[str] = typer.Option(None, help="Where torch animates the heads: auto (CUDA when there is one), cpu or cuda[:N]. OpenGL draws on the GPU whenever EGL finds one. With --ray, cuda gives each performance 1/16 of a GPU. (default: auto)"),
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
                 background_folder=backgrounds_dir, levels=levels, clips_per_performer=clips_per_performer, first_performer=first_performer, avatar_per_subject=avatar_per_subject,
                 children=children, motions=motions, motion_privacy=motion_privacy, hair_families=hair_families, garments=garments,
                 glasses_share=glasses_share, workers=workers, ray=ray, msaa=msaa, device=device)
    try:
        settings = load_config_file(config) if config else {}
        settings.update({k: v for k, v in given.items() if v is not None})
        if isinstance(settings.get("seed"), str):
            settings["seed"] = _integer("seed", settings["seed"])
        cfg = make_config(**settings)
        if cfg.ray:
            connect_ray(cfg.ray)  # before the progress bar and before anything is written
    except (ConfigError, ExecutorError) as exc:
        fail(str(exc))
    build_anny_model_once()
    with ProgressBar("rendering performances") as report:
        try:
            summary = run_generate(cfg, on_progress=report)
        except (GenerateError, SceneError, ConfigError, ExecutorError) as exc:
            fail(str(exc))
    print_generate_summary(summary)
    if summary.failed:
        raise typer.Exit(1)


def _integer(name: str, text: str) -> int:
    from painsynth.config import ConfigError

    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {text!r}") from None


GLASSES_SHARE_DEFAULT = 0.25  # avatars.tables.GLASSES_SHARE, kept here so --help needs no import


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
        fail(str(exc))
    build_anny_model_once()
    try:
        path = contact_sheet(out, avatars, view_list, seed_value, size=size, children=children,
                             choices=bank.bank_choices())
    except OSError as exc:
        fail(f"{out}: cannot write the contact sheet ({exc.strerror or exc})")
    Console().print(f"contact sheet: {path}")

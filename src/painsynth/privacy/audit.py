"""Motion re-identification audit (``painsynth audit --motion``): is a participant recognisable from motion alone?

The attacker (:mod:`painsynth.privacy.attacker`) knows the source subjects: it is trained on the motion
features (:mod:`painsynth.privacy.features`) of their real clips. Two rows, each with top-1 and top-5
re-identification, chance (1/N and min(5, N)/N) and 95 % Wilson intervals:

- ``sanity``: held-out real clips of the same subjects, each scored by an attacker trained without it
  (cross-validated). It must beat chance, or the audit proves nothing.
- ``synthetic``: every synthetic clip whose ``split_group`` names a source subject, scored by the
  attacker trained on all real clips, after each view's features are standardised on their own
  (:func:`align_to_source`: what capture adds to a rendered face would otherwise hide the person);
  overall and per ``view``.

Both sides are featurised the same way: from captured features (capture run on the clip's video, the
cache ``painsynth train`` keeps under ``<dataset>/features/capture-<method>/``), so synthetic clips are
read from their pixels exactly as real clips. Bad input is said in one line each (``notes``) and the
audit goes on: a subject with fewer than 2 usable real clips is left out and counted, a synthetic clip
naming no usable source subject is counted, a clip without captured features is counted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from painsynth.audit import percent
from painsynth.dataset import ManifestError, group_members, manifest_rows
from painsynth.fileio import atomic_path
from painsynth.privacy.attacker import MotionAttacker, cross_validated_ranks
from painsynth.privacy.features import N_MOTION_FEATURES, MotionFeatureError, clip_features

Z95 = 1.959964
MIN_CLIPS_PER_SUBJECT = 2  # one to train on, one to test with
ALL_VIEWS = "all"
ALIGN_MIN_CLIPS = 10  # synthetic clips of one view needed to standardise that view on its own


class MotionAuditError(ValueError):
    """The motion audit cannot run at all (no manifest, no captured features, fewer than 2 usable subjects)."""


@dataclass
class ClipMotion:
    """One clip's motion features and whose motion it is."""

    clip_id: str
    subject: str
    view: str | None
    features: np.ndarray  # [N_MOTION_FEATURES]


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (good at 0, 1 and small n, unlike the normal one)."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def rank_figures(ranks: np.ndarray, n_subjects: int) -> dict:
    """Top-1 and top-5 re-identification of ``ranks`` against chance among ``n_subjects``, with 95 % intervals."""
    ranks = np.asarray(ranks)
    n, k5 = len(ranks), min(5, n_subjects)
    hits1, hits5 = int((ranks <= 1).sum()), int((ranks <= 5).sum())
    return {
        "n_clips": n,
        "n_subjects": n_subjects,
        "top1": hits1 / n if n else None,
        "top1_ci95": wilson_interval(hits1, n),
        "top5": hits5 / n if n else None,
        "top5_ci95": wilson_interval(hits5, n),
        "chance_top1": 1 / n_subjects,
        "chance_top5": k5 / n_subjects,
    }


def _usable_subjects(real: list[ClipMotion], notes: list[str]) -> tuple[list[ClipMotion], list[str]]:
    """The real clips of subjects with enough clips; each subject left out is said in one line."""
    counts = Counter(c.subject for c in real)
    left_out = sorted(s for s, n in counts.items() if n < MIN_CLIPS_PER_SUBJECT)
    for subject in left_out:
        notes.append(f"subject {subject!r} has {counts[subject]} usable real clip; the attacker needs at least "
                     f"{MIN_CLIPS_PER_SUBJECT} (one to train on, one to test with): left out")
    return [c for c in real if c.subject not in left_out], left_out


def reidentify(real: list[ClipMotion], synthetic: list[ClipMotion], seed: int = 0) -> dict:
    """Motion re-identification figures of the held-out real clips (sanity) and of the synthetic clips."""
    notes: list[str] = []
    kept, left_out = _usable_subjects(real, notes)
    subjects = sorted({c.subject for c in kept})
    if len(subjects) < 2:
        raise MotionAuditError(f"motion audit needs at least 2 source subjects with {MIN_CLIPS_PER_SUBJECT} or more "
                               f"usable real clips each; there are {len(subjects)}")
    features = np.stack([c.features for c in kept])
    names = [c.subject for c in kept]
    sanity = cross_validated_ranks(features, names, seed)
    matched = [c for c in synthetic if c.subject in subjects]
    unmatched = [c for c in synthetic if c.subject not in subjects]
    for group, count in sorted(Counter(c.subject for c in unmatched).items()):
        why = "was left out (too few real clips)" if group in left_out else "names no source subject"
        notes.append(f"{count} synthetic clip(s) of split_group {group!r}: it {why}; not scored")
    by_view: dict[str, dict] = {}
    synthetic_row = rank_figures(np.zeros(0), len(subjects))
    if matched:
        attacker = MotionAttacker().fit(features, names)
        views = np.array([c.view or ALL_VIEWS for c in matched])
        aligned = align_to_source(np.stack([c.features for c in matched]), views, features)
        ranks = attacker.ranks(aligned, [c.subject for c in matched])
        synthetic_row = rank_figures(ranks, len(subjects))
        by_view = {v: rank_figures(ranks[views == v], len(subjects)) for v in sorted(set(views))}
    return {
        "subjects": subjects,
        "subjects_left_out": left_out,
        "sanity": rank_figures(sanity, len(subjects)),
        "synthetic": synthetic_row,
        "synthetic_by_view": by_view,
        "counts": {"real_clips_used": len(kept), "real_clips_left_out": len(real) - len(kept),
                   "synthetic_clips_used": len(matched), "synthetic_clips_unmatched": len(unmatched)},
        "notes": notes,
    }


def align_to_source(synthetic: np.ndarray, views: np.ndarray, source: np.ndarray) -> np.ndarray:
    """[N, F] synthetic features, each view's standardised on its own clips and given the source clips'
    mean and spread: no labels needed, so any holder of the synthetic set can do it.

    Capture reads a rendered face with offsets of its own (blinks peak lower, a brow unit reads
    above zero at rest) that hide a person from an attacker fitted on the source's statistics; the
    attacker that removes them re-identified replayed performers about twice as often (23 -> 52 %
    top-1, 8 performers, chance 12 %: benchmarks/motion_privacy_replay.py). A view with fewer than
    ALIGN_MIN_CLIPS clips is left as it is (its statistics would be noise)."""
    aligned = np.array(synthetic, dtype=np.float64)
    source_mean, source_std = source.mean(0), source.std(0)
    for view in set(views.tolist()):
        rows = views == view
        if rows.sum() < ALIGN_MIN_CLIPS:
            continue
        mean, std = aligned[rows].mean(0), aligned[rows].std(0)
        standard = (aligned[rows] - mean) / np.where(std > 1e-9, std, 1.0)
        aligned[rows] = standard * source_std + source_mean
    return aligned


# ---------------------------------------------------------------------------------------------
# Dataset folders


class _Features:
    """A dataset folder's clips as captured motion features: the training cache, or capture run now."""

    def __init__(self, root: Path, method: str, capture_missing: bool):
        from painsynth.train.features import CapturedFeatures

        self.root, self.method, self.capture_missing = root, method, capture_missing
        self.capture = CapturedFeatures(root, method)

    def __call__(self, row: dict) -> np.ndarray:
        """[N_MOTION_FEATURES]; ClipSkipped when there are no captured features and none can be made."""
        from painsynth.train.errors import ClipSkipped
        from painsynth.train.features import cache_path, load_cached_features
        from painsynth.train.inputs import InputSpec

        cached = cache_path(self.root, str(row["clip_id"]), InputSpec(capture_method=self.method))
        frames = load_cached_features(cached, str(row["sha256"]), self.method)
        if frames is None and not self.capture_missing:
            raise ClipSkipped(f"no captured features ({cached.relative_to(self.root).as_posix()})")
        if frames is None:
            frames = self.capture(row)
        try:
            return clip_features(frames, float(row["fps"]))
        except MotionFeatureError as exc:
            raise ClipSkipped(str(exc)) from None


def _load_clips(root: Path, rows: list[dict], featurise: _Features, dataset: str, unusable: list[dict],
                progress: Callable[[], None]) -> list[ClipMotion]:
    from painsynth.train.errors import ClipSkipped

    clips = []
    for row in rows:
        try:
            vector = featurise(row)
            # mixed motion is scored against the subject who leads it
            clips.append(ClipMotion(str(row["clip_id"]), group_members(row["split_group"])[0], row.get("view"), vector))
        except ClipSkipped as exc:
            unusable.append({"dataset": dataset, "clip_id": str(row["clip_id"]), "reason": str(exc)})
        progress()
    return clips


def _rows(folder: Path, name: str) -> list[dict]:
    if not folder.is_dir():
        raise MotionAuditError(f"{folder}: {name} folder does not exist")
    try:
        return manifest_rows(folder)
    except ManifestError as exc:
        raise MotionAuditError(f"{name}: {exc}") from None


def run_motion_audit(synthetic: str | Path, source: str | Path, capture_method: str = "hybrid",
                     capture_missing: bool = True, seed: int = 0,
                     on_progress: Callable[[int, int], None] | None = None) -> dict:
    """The motion audit of ``synthetic`` against ``source`` (both painsynth dataset folders); see the module."""
    from painsynth.train.errors import TrainError

    folders = {"source": Path(source), "synthetic": Path(synthetic)}
    rows = {name: _rows(folder, name) for name, folder in folders.items()}
    total, done = sum(len(r) for r in rows.values()), [0]

    def progress() -> None:
        done[0] += 1
        if on_progress:
            on_progress(done[0], total)

    unusable: list[dict] = []
    try:
        clips = {name: _load_clips(folders[name], rows[name], _Features(folders[name], capture_method, capture_missing),
                                   name, unusable, progress) for name in ("source", "synthetic")}
    except TrainError as exc:  # the capture model cannot be had: no clip could be captured
        raise MotionAuditError(f"--motion: cannot capture clips without cached features ({exc})") from None
    if not clips["source"]:
        where = f"{folders['source'] / 'features' / ('capture-' + capture_method)}"
        raise MotionAuditError(
            f"--motion: none of the {len(rows['source'])} source clips has captured features ({where}); "
            + ("capture failed on every one" if capture_missing else "run without --cached-only to capture them"))
    result = reidentify(clips["source"], clips["synthetic"], seed)
    missing = Counter(u["dataset"] for u in unusable)
    for dataset, count in sorted(missing.items()):
        result["notes"].append(f"{count} {dataset} clip(s) have no usable captured features; not used")
    result.update(features=f"captured ({capture_method}), {N_MOTION_FEATURES} motion statistics per clip",
                  clips_unusable=unusable)
    result["counts"].update(source_clips=len(rows["source"]), synthetic_clips=len(rows["synthetic"]),
                            clips_unusable=len(unusable), clips_not_used=total - result["counts"]["real_clips_used"]
                            - result["counts"]["synthetic_clips_used"])
    return result


# ---------------------------------------------------------------------------------------------
# Output


def _interval(ci: tuple[float, float] | None) -> str:
    return "–" if ci is None else f"{100 * ci[0]:.0f}–{100 * ci[1]:.0f} %"


def _table_row(title: str, f: dict) -> str:
    return (f"| {title} | {f['n_clips']} | {percent(f['top1'])} ({_interval(f['top1_ci95'])}) | {percent(f['chance_top1'])} "
            f"| {percent(f['top5'])} ({_interval(f['top5_ci95'])}) | {percent(f['chance_top5'])} |")


def motion_markdown(motion: dict) -> str:
    """The motion audit as a Markdown section (a table and the notes)."""
    counts = motion["counts"]
    lines = [
        "## Motion re-identification audit", "",
        f"An attacker that knows the {len(motion['subjects'])} source subjects (a logistic regression on "
        f"{motion['features']}, trained on their real clips) names the subject of each clip. Chance is 1/N.", "",
        "| clips | n | top-1 (95 % CI) | chance top-1 | top-5 (95 % CI) | chance top-5 |",
        "|---|---|---|---|---|---|",
        _table_row("real, held out (sanity)", motion["sanity"]),
        _table_row("synthetic, all views", motion["synthetic"]),
    ]
    lines += [_table_row(f"synthetic, {view}", f) for view, f in motion["synthetic_by_view"].items()]
    lines += ["", "The sanity row must be above chance (the attacker works on this data); privacy of motion holds "
              "when the synthetic rows are at chance."]
    if counts["clips_not_used"]:
        lines += ["", f"**{counts['clips_not_used']} of {counts['source_clips'] + counts['synthetic_clips']} clips "
                  "could not be used:**", ""]
        lines += [f"- {note}" for note in motion["notes"]]
    return "\n".join(lines) + "\n"


def write_motion_audit(out: str | Path, motion: dict, base: dict | None = None) -> None:
    """Add the motion audit to ``out``'s audit.json (key ``motion``) and audit.md. ``base`` is the appearance
    audit written there by this same run (its files are extended); without it the files hold the motion audit."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = {**(base or {}), "motion": motion}
    earlier = (out / "audit.md").read_text(encoding="utf-8") + "\n" if base is not None else ""
    with atomic_path(out / "audit.json") as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    with atomic_path(out / "audit.md") as tmp:
        tmp.write_text(earlier + motion_markdown(motion), encoding="utf-8")

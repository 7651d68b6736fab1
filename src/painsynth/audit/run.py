"""The audit from two dataset folders to its result: the inputs checked before any embedding, every clip
embedded (a clip without a face, or unreadable, recorded and left out so the run goes on), and the
comparisons made, so that the result says both what was found and what could not be used."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from painsynth.audit.comparison import Comparison, compare
from painsynth.audit.embedder import Embedder
from painsynth.audit.model_files import MODEL_FILES, AuditError
from painsynth.audit.output import few, write
from painsynth.dataset import ManifestError, manifest_rows
from painsynth.video import probe_video

THRESHOLD = 0.6  # dlib's same-person distance
DEFAULT_FRAMES = 5


@dataclass
class _Clip:
    dataset: str  # "source" | "synthetic"
    clip_id: str
    path: str
    group: str
    avatar: str | None
    embedding: np.ndarray | None = None
    faces: int = 0
    sampled: int = 0


def run_audit(synthetic: str | Path, source: str | Path, out: str | Path, frames: int = DEFAULT_FRAMES,
              models: str | Path | None = None, threshold: float = THRESHOLD,
              on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Audit ``synthetic`` (a painsynth dataset) against ``source`` (a dataset whose split_group are subjects).

    Writes ``audit.json``, ``audit.md`` and ``distances.png`` to ``out`` and returns what audit.json
    holds. AuditError before any embedding on a missing model file, a source with no subjects, or
    synthetic split_groups that match no source subject; clips without a face are recorded and skipped.
    """
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise AuditError(f"frames must be an integer >= 1, got {frames!r}")
    if not 0 < threshold:
        raise AuditError(f"threshold must be positive, got {threshold!r}")
    started = time.perf_counter()
    datasets = {}
    for name, folder in (("source", Path(source)), ("synthetic", Path(synthetic))):
        if not folder.is_dir():
            raise AuditError(f"{folder}: {name} folder does not exist")
        try:
            rows = manifest_rows(folder)
        except ManifestError as exc:
            hint = " (no subjects to compare with)" if name == "source" else ""
            raise AuditError(f"{name}: {exc}{hint}") from None
        datasets[name] = (folder, rows)
    subjects = sorted({str(r["split_group"]) for r in datasets["source"][1]})
    if not subjects:
        raise AuditError(f"{source}: source dataset has no subjects (split_group)")
    syn_groups = sorted({str(r["split_group"]) for r in datasets["synthetic"][1]})
    matched = [g for g in syn_groups if g in subjects]
    if not matched:
        raise AuditError(
            f"no synthetic split_group matches a source subject: synthetic has {few(syn_groups)}, source has "
            f"{few(subjects)}; the synthetic clips must name the source subject whose motion they carry")
    embedder = Embedder(models)

    clips = [_Clip(name, str(r["clip_id"]), str(r["path"]), str(r["split_group"]),
                   None if r.get("avatar_id") is None else str(r["avatar_id"]))
             for name in ("source", "synthetic") for r in datasets[name][1]]
    n_frames = {(name, str(r["clip_id"])): r.get("n_frames") for name in datasets for r in datasets[name][1]}
    unusable: list[dict] = []
    for done, clip in enumerate(clips):
        path = datasets[clip.dataset][0] / clip.path
        try:
            count = n_frames[(clip.dataset, clip.clip_id)]
            if not count:
                count = probe_video(path)["n_frames"]
            clip.embedding, clip.faces, clip.sampled = embedder.embed_clip(path, int(count), frames)
            if clip.embedding is None:
                unusable.append(_unusable(clip, f"no face found in {clip.sampled} sampled frames"))
        except Exception as exc:  # noqa: BLE001 - a bad clip is recorded and the audit goes on
            unusable.append(_unusable(clip, f"cannot read: {exc}"))
        if on_progress:
            on_progress(done + 1, len(clips))

    used = [c for c in clips if c.embedding is not None]
    source_used = [c for c in used if c.dataset == "source"]
    if not source_used:
        raise AuditError(f"{source}: no face found in any of the {sum(c.dataset == 'source' for c in clips)} "
                         "source clips; nothing to compare with")
    gallery: dict[str, list[np.ndarray]] = {}
    for c in source_used:
        gallery.setdefault(c.group, []).append(c.embedding)
    syn_used = [c for c in used if c.dataset == "synthetic"]
    unmatched = [c for c in syn_used if c.group not in gallery]
    syn_matched = [c for c in syn_used if c.group in gallery]
    avatars: dict[str, list[np.ndarray]] = {}
    for c in syn_used:
        if c.avatar is not None:
            avatars.setdefault(c.avatar, []).append(c.embedding)

    comparisons = {
        "synthetic_vs_source": compare([(c.group, c.embedding) for c in syn_matched], gallery),
        "real_vs_real": compare([(c.group, c.embedding) for c in source_used], gallery, leave_one_out=True),
        "synthetic_vs_synthetic": compare([(c.avatar, c.embedding) for c in syn_used if c.avatar is not None],
                                          avatars, leave_one_out=True) if avatars else Comparison(),
    }
    n_source = sum(c.dataset == "source" for c in clips)
    result = {
        "synthetic": str(synthetic),
        "source": str(source),
        "frames_per_clip": frames,
        "threshold": threshold,
        "detector": "dlib HOG (get_frontal_face_detector), upsample 1; 5-point alignment",
        "models": {name: {"path": str(p), "sha256": MODEL_FILES[name][1]} for name, p in embedder.paths.items()},
        "counts": {
            "source_clips": n_source,
            "source_clips_used": len(source_used),
            "source_subjects": len(subjects),
            "source_subjects_used": len(gallery),
            "synthetic_clips": len(clips) - n_source,
            "synthetic_clips_used": len(syn_used),
            "synthetic_clips_matched": len(syn_matched),
            "synthetic_clips_unmatched": len(unmatched),
            "clips_unusable": len(unusable),
        },
        "clips_unusable": unusable,
        "synthetic_unmatched": [{"clip_id": c.clip_id, "split_group": c.group} for c in unmatched],
        **{name: comp.figures(threshold) for name, comp in comparisons.items()},
        "synthetic_clips": _per_clip(syn_matched, gallery),
        "seconds": round(time.perf_counter() - started, 2),
    }
    write(Path(out), result, comparisons)
    return result


def _unusable(clip: _Clip, reason: str) -> dict:
    return {"dataset": clip.dataset, "clip_id": clip.clip_id, "path": clip.path, "reason": reason}


def _per_clip(clips: list[_Clip], gallery: dict[str, list[np.ndarray]]) -> list[dict]:
    means = {g: np.mean(v, axis=0) for g, v in gallery.items()}
    rows = []
    for c in clips:
        distances = {g: float(np.linalg.norm(c.embedding - m)) for g, m in means.items()}
        nearest = min(distances, key=distances.get)
        rows.append({"clip_id": c.clip_id, "split_group": c.group, "avatar_id": c.avatar,
                     "frames_with_face": c.faces, "frames_sampled": c.sampled,
                     "distance_own": distances[c.group], "nearest_subject": nearest,
                     "distance_nearest": distances[nearest]})
    return rows

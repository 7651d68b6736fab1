"""Identity audit (docs/design.md, "audit"): do synthetic clips look like the people whose motion they carry?

Every clip gets one identity embedding: dlib's face-recognition ResNet (128-d) on ``frames`` frames
sampled evenly over the clip, each face found by dlib's HOG detector and aligned with its 5-point
predictor, the frames' embeddings averaged. The model files come from the ``face_recognition_models``
package (or a folder the user gives) and are checked by SHA-256 (docs/assets.md). dlib's standard
same-person threshold is a Euclidean distance below 0.6.

Subjects are the source dataset's ``split_group``; a subject's embedding is the mean of its clips'.
Three comparisons, each with the same figures:

- ``synthetic_vs_source``: each synthetic clip against the source subject its ``split_group`` names
  ("own") and against every other source subject ("other"). Privacy means the own share below the
  threshold is no higher than the other share, and re-identification is at chance.
- ``real_vs_real`` (sanity): each source clip against its own subject without that clip
  (leave-one-clip-out) and against the other subjects. Must be high: proves the embedder works here.
- ``synthetic_vs_synthetic`` (sanity): the same over synthetic clips grouped by ``avatar_id``.

Figures: verification (share of own / other distances below the threshold), re-identification
(top-1 and top-5 accuracy of the own group among all groups by nearest mean embedding, with chance
1/n and 5/n), and distance summaries. Written to ``audit.json``, ``audit.md`` and
``distances.png``. A clip without a face in any sampled frame, or that cannot be read, is recorded
with its reason and left out; the run goes on.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from painsynth.dataset import ManifestError, manifest_rows
from painsynth.fileio import atomic_path, file_problem
from painsynth.video import probe_video, read_frames

THRESHOLD = 0.6  # dlib's same-person distance
DEFAULT_FRAMES = 5
MODELS_PACKAGE = "face_recognition_models"

# name -> (bytes, SHA-256), from docs/assets.md
MODEL_FILES = {
    "dlib_face_recognition_resnet_model_v1.dat":
        (22_466_066, "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"),
    "shape_predictor_5_face_landmarks.dat":
        (9_150_489, "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"),
}
RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
INSTALL_HINT = ("pip install dlib-bin==20.0.1.post1 && "
                "pip install --no-deps face_recognition_models==0.3.0, or give --models DIR")



class AuditError(ValueError):
    """The audit cannot run: a model file is missing or wrong, or the datasets give nothing to compare."""


# ---------------------------------------------------------------------------------------------
# Model files


def models_folder() -> Path:
    """The ``models/`` folder of the installed face_recognition_models package (not imported, only located)."""
    spec = importlib.util.find_spec(MODELS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise AuditError(f"package {MODELS_PACKAGE!r} is not installed: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def model_paths(models: str | Path | None = None) -> dict[str, Path]:
    """The verified model files: from ``models`` (a folder holding them) or the installed package.

    AuditError names the file when one is missing or its size or SHA-256 is not the expected one.
    """
    folder = Path(models) if models is not None else models_folder()
    if models is not None and not folder.is_dir():
        raise AuditError(f"{folder}: models folder does not exist")
    paths = {}
    for name, (size, digest) in MODEL_FILES.items():
        path = folder / name
        if not path.is_file():
            raise AuditError(f"{path}: model file missing ({INSTALL_HINT})")
        _verify(path, size, digest)
        paths[name] = path
    return paths


def _verify(path: Path, size: int, digest: str) -> None:
    problem = file_problem(path, digest, size)
    if problem:
        raise AuditError(f"{path}: model file {problem}; reinstall face_recognition_models==0.3.0")


# ---------------------------------------------------------------------------------------------
# Embeddings


class Embedder:
    """dlib HOG face detector + 5-point alignment + face-recognition ResNet: 128-d identity embeddings."""

    def __init__(self, models: str | Path | None = None, upsample: int = 1):
        paths = model_paths(models)
        try:
            import dlib
        except ImportError as exc:
            raise AuditError(f"audit needs dlib: {INSTALL_HINT} ({exc})") from None
        self.paths = paths
        self.upsample = upsample
        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(paths[SHAPE_MODEL]))
        self.net = dlib.face_recognition_model_v1(str(paths[RECOGNITION_MODEL]))

    def embed_frame(self, frame: np.ndarray) -> np.ndarray | None:
        """The embedding of the most confident face in an RGB uint8 frame, or None when there is none."""
        image = np.ascontiguousarray(frame[..., :3], dtype=np.uint8)
        boxes, scores, _ = self.detector.run(image, self.upsample, 0.0)
        if not boxes:
            return None
        best = max(range(len(boxes)), key=lambda i: (scores[i], boxes[i].area()))
        shape = self.shape(image, boxes[best])
        return np.asarray(self.net.compute_face_descriptor(image, shape), dtype=np.float64)

    def embed_clip(self, path: str | Path, n_frames: int, sample: int) -> tuple[np.ndarray | None, int, int]:
        """(mean embedding or None, frames with a face, frames sampled) of ``sample`` frames spread over the clip."""
        indices = sample_indices(n_frames, sample)
        embeddings = [e for e in (self.embed_frame(f) for f in read_frames(path, indices)) if e is not None]
        mean = np.mean(embeddings, axis=0) if embeddings else None
        return mean, len(embeddings), len(indices)


def sample_indices(n_frames: int, sample: int) -> list[int]:
    """``sample`` frame indices spread evenly over ``n_frames`` (fewer if the clip is shorter)."""
    if n_frames < 1:
        raise ValueError(f"clip has {n_frames} frames")
    return sorted({round(float(i)) for i in np.linspace(0, n_frames - 1, min(sample, n_frames))})


# ---------------------------------------------------------------------------------------------
# Comparisons


@dataclass
class Comparison:
    """Own-group and other-group distances of a set of query clips, and where the own group ranks."""

    own: list[float] = field(default_factory=list)  # one per query clip
    other: list[float] = field(default_factory=list)  # one per (query clip, other group)
    ranks: list[int] = field(default_factory=list)  # 1 = own group is the nearest
    n_groups: int = 0
    skipped: int = 0  # query clips whose own group had no other clip (leave-one-out)

    def figures(self, threshold: float) -> dict:
        n = len(self.ranks)
        ranks = np.asarray(self.ranks)
        k5 = min(5, self.n_groups)
        return {
            "n_clips": n,
            "n_groups": self.n_groups,
            "clips_without_partner": self.skipped,
            "verification": {
                "threshold": threshold,
                "match_own": _share(np.asarray(self.own) < threshold),
                "match_other": _share(np.asarray(self.other) < threshold),
                "n_own_pairs": len(self.own),
                "n_other_pairs": len(self.other),
            },
            "reidentification": {
                "top1": _share(ranks <= 1) if n else None,
                "top5": _share(ranks <= 5) if n else None,
                "chance_top1": 1 / self.n_groups if self.n_groups else None,
                "chance_top5": k5 / self.n_groups if self.n_groups else None,
            },
            "distance_own": _summary(self.own),
            "distance_other": _summary(self.other),
        }


def _share(mask: np.ndarray) -> float | None:
    return float(mask.mean()) if mask.size else None


def _summary(values: list[float]) -> dict | None:
    if not values:
        return None
    v = np.asarray(values)
    return {"mean": float(v.mean()), "median": float(np.median(v)), "min": float(v.min()), "max": float(v.max())}


def compare(queries: list[tuple[str, np.ndarray]], gallery: dict[str, list[np.ndarray]],
            leave_one_out: bool = False) -> Comparison:
    """Compare query clips (own group, embedding) with the groups' mean embeddings.

    With ``leave_one_out`` the queries are gallery clips themselves: each is left out of its own
    group's mean (a query whose group has no other clip is skipped for lack of a partner).
    """
    names = sorted(gallery)
    sums = {g: np.sum(gallery[g], axis=0) for g in names}
    means = {g: sums[g] / len(gallery[g]) for g in names}
    result = Comparison(n_groups=len(names))
    for group, embedding in queries:
        centres = dict(means)
        if leave_one_out:
            count = len(gallery[group])
            if count < 2:
                result.skipped += 1
                continue
            centres[group] = (sums[group] - embedding) / (count - 1)
        distances = {g: float(np.linalg.norm(embedding - centres[g])) for g in names}
        own = distances[group]
        result.own.append(own)
        result.other.extend(d for g, d in distances.items() if g != group)
        result.ranks.append(1 + sum(d < own for g, d in distances.items() if g != group))
    return result


# ---------------------------------------------------------------------------------------------
# The audit


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
            f"no synthetic split_group matches a source subject: synthetic has {_few(syn_groups)}, source has "
            f"{_few(subjects)}; the synthetic clips must name the source subject whose motion they carry")
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
    _write(Path(out), result, comparisons)
    return result


def _unusable(clip: _Clip, reason: str) -> dict:
    return {"dataset": clip.dataset, "clip_id": clip.clip_id, "path": clip.path, "reason": reason}


def _few(names: list[str], k: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:k])
    return f"{len(names)} ({shown}{', …' if len(names) > k else ''})"


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


# ---------------------------------------------------------------------------------------------
# Output

TITLES = {
    "synthetic_vs_source": "synthetic vs source subject (privacy)",
    "real_vs_real": "real vs real, same subject (sanity, leave-one-clip-out)",
    "synthetic_vs_synthetic": "synthetic vs synthetic, same avatar (sanity, leave-one-clip-out)",
}


def _write(out: Path, result: dict, comparisons: dict[str, Comparison]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "audit.json") as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    with atomic_path(out / "audit.md") as tmp:
        tmp.write_text(_markdown(result), encoding="utf-8")
    _plot(out / "distances.png", comparisons, result["threshold"])


def percent(value: float | None) -> str:
    """A share as the audit tables print it (one decimal), or a dash when there is none."""
    return "–" if value is None else f"{100 * value:.1f} %"


def _num(summary: dict | None, key: str) -> str:
    return "–" if summary is None else f"{summary[key]:.3f}"


def _markdown(result: dict) -> str:
    counts = result["counts"]
    lines = [
        "## Identity audit",
        "",
        f"dlib face-recognition embeddings (128-d), {result['frames_per_clip']} frames per clip, same-person "
        f"threshold: distance < {result['threshold']}. Source: {counts['source_subjects_used']} subjects "
        f"({counts['source_clips_used']} of {counts['source_clips']} clips usable); synthetic: "
        f"{counts['synthetic_clips_matched']} clips matched to a source subject "
        f"({counts['synthetic_clips_used']} of {counts['synthetic_clips']} usable).",
        "",
        "| comparison | clips | groups | match own | match other | top-1 | chance top-1 | top-5 | chance top-5 "
        "| distance own (median) | distance other (median) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, title in TITLES.items():
        f = result[key]
        v, r = f["verification"], f["reidentification"]
        lines.append(f"| {title} | {f['n_clips']} | {f['n_groups']} | {percent(v['match_own'])} | {percent(v['match_other'])} "
                     f"| {percent(r['top1'])} | {percent(r['chance_top1'])} | {percent(r['top5'])} | {percent(r['chance_top5'])} "
                     f"| {_num(f['distance_own'], 'median')} | {_num(f['distance_other'], 'median')} |")
    lines += ["", "Privacy holds when the synthetic row's *match own* is no higher than its *match other* and its "
              "top-1/top-5 are at chance; the sanity rows must show high *match own* (the embedder works on this data)."]
    if counts["clips_unusable"]:
        lines += ["", f"**{counts['clips_unusable']} clips could not be used** (no face or unreadable):", ""]
        lines += [f"- {u['dataset']} `{u['clip_id']}`: {u['reason']}" for u in result["clips_unusable"][:20]]
        if counts["clips_unusable"] > 20:
            lines.append(f"- … {counts['clips_unusable'] - 20} more in audit.json")
    if counts["synthetic_clips_unmatched"]:
        groups = sorted({u["split_group"] for u in result["synthetic_unmatched"]})
        lines += ["", f"**{counts['synthetic_clips_unmatched']} synthetic clips name no usable source subject** "
                  f"(split_group {_few(groups)}); left out of the privacy row."]
    return "\n".join(lines) + "\n"


def _plot(path: Path, comparisons: dict[str, Comparison], threshold: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(TITLES), figsize=(5 * len(TITLES), 3.6), sharex=True)
    everything = [d for c in comparisons.values() for d in (*c.own, *c.other)]
    top = max([1.2, *everything])
    bins = np.linspace(0, top, 31)
    for ax, (key, title) in zip(axes, TITLES.items()):
        comp = comparisons[key]
        if comp.other:
            ax.hist(comp.other, bins=bins, density=True, alpha=0.5, color="tab:gray", label=f"other ({len(comp.other)})")
        if comp.own:
            ax.hist(comp.own, bins=bins, density=True, alpha=0.7, color="tab:red", label=f"own ({len(comp.own)})")
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold}")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("embedding distance")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("density")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)

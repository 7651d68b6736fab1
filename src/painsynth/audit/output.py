"""The audit's result as files a reader and later tools take: audit.json in full, audit.md as one table
with what could not be used, and distances.png; also the share formatting that the motion audit's
tables reuse, so both audits print alike. matplotlib is imported only when plotting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from painsynth.audit.comparison import Comparison
from painsynth.fileio import atomic_path


TITLES = {
    "synthetic_vs_source": "synthetic vs source subject (privacy)",
    "real_vs_real": "real vs real, same subject (sanity, leave-one-clip-out)",
    "synthetic_vs_synthetic": "synthetic vs synthetic, same avatar (sanity, leave-one-clip-out)",
}


def write(out: Path, result: dict, comparisons: dict[str, Comparison]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "audit.json") as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    with atomic_path(out / "audit.md") as tmp:
        tmp.write_text(_markdown(result), encoding="utf-8")
    _plot(out / "distances.png", comparisons, result["threshold"])


def percent(value: float | None) -> str:
    """A share as the audit tables print it (one decimal), or a dash when there is none."""
    return "–" if value is None else f"{100 * value:.1f} %"


def few(names: list[str], k: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:k])
    return f"{len(names)} ({shown}{', …' if len(names) > k else ''})"


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
                  f"(split_group {few(groups)}); left out of the privacy row."]
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

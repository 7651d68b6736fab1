"""The experiment's results as a reader takes them: every cell's row in results.csv, and the mean and spread
over folds and seeds per setting and budget as a Markdown table and a plot against the real subjects."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from painsynth.experiment.config import ALL, ExperimentConfig
from painsynth.fileio import atomic_path

SETTINGS = ("real-only", "synthetic-only", "synthetic+real")
RESULTS_CSV, RESULTS_MD, RESULTS_PNG = "results.csv", "results.md", "results.png"
METRICS = ("auroc", "f1", "accuracy")
RESULT_COLUMNS = ("setting", "budget", "real_subjects", "train_real_subjects", "fold", "seed", "auroc", "f1",
                  "accuracy", "balanced_accuracy", "n_train", "n_test", "cell", "error")


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def aggregate(rows: Sequence[dict]) -> list[dict]:
    """Mean and std (over folds and seeds, NaN-ignoring) of each metric per setting and budget, in plot order."""
    budgets = list(dict.fromkeys(row["budget"] for row in rows))
    out = []
    for setting in SETTINGS:
        for budget in budgets:
            group = [row for row in rows if row["setting"] == setting and row["budget"] == budget]
            if not group:
                continue
            entry = {"setting": setting, "budget": budget, "cells": len(group),
                     "real_subjects": float(np.mean([_number(row["real_subjects"]) for row in group]))}
            for metric in METRICS:
                values = np.array([_number(row[metric]) for row in group])
                values = values[~np.isnan(values)]
                entry[metric] = float(values.mean()) if len(values) else math.nan
                entry[f"{metric}_std"] = float(values.std(ddof=1)) if len(values) > 1 else (0.0 if len(values) else math.nan)
                entry[f"{metric}_n"] = len(values)
            out.append(entry)
    return out


def _markdown(summary: list[dict], config: ExperimentConfig) -> str:
    lines = [(f"Model `{config.train.model}`, task `{config.train.task}`, {config.folds} subject-disjoint folds x {config.seeds} "
             f"seed(s); mean ± std over folds and seeds. Every cell trains {config.train.epochs} epochs without a "
             f"validation split and keeps the last. `real subjects`: real training subjects per fold "
             f"(synthetic-only uses none; its row repeats the same models on every budget)."), "",
             "| setting | real subjects | " + " | ".join(m.upper() if m == "auroc" else m.capitalize() for m in METRICS)
             + " | cells |",
             "|---|---|" + "---|" * len(METRICS) + "---|"]
    for entry in summary:
        k = entry["budget"] if entry["budget"] != ALL else f"all ({entry['real_subjects']:g})"
        cells = [f"{entry[m]:.3f} ± {entry[m + '_std']:.3f}" if not math.isnan(entry[m]) else "n/a" for m in METRICS]
        lines.append(f"| {entry['setting']} | {k} | " + " | ".join(cells) + f" | {entry['cells']} |")
    return "\n".join(lines) + "\n"


def _plot(summary: list[dict], path: Path, config: ExperimentConfig) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METRICS), figsize=(4.2 * len(METRICS), 3.6), squeeze=False)
    colours = {"real-only": "tab:orange", "synthetic-only": "tab:blue", "synthetic+real": "tab:green"}
    for ax, metric in zip(axes[0], METRICS):
        for setting in SETTINGS:
            points = sorted((e["real_subjects"], e[metric], e[f"{metric}_std"]) for e in summary
                            if e["setting"] == setting and not math.isnan(e[metric]))
            if not points:
                continue
            x, mean, std = (np.array(v) for v in zip(*points))
            ax.plot(x, mean, marker="o", color=colours[setting], label=setting,
                    linestyle="--" if setting == "synthetic-only" else "-")
            ax.fill_between(x, np.clip(mean - std, 0, 1), np.clip(mean + std, 0, 1), color=colours[setting], alpha=0.15)
        ax.set_xlabel("real training subjects")
        ax.set_ylim(-0.02, 1.02)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(metric.upper() if metric == "auroc" else metric)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{config.train.model}, {config.train.task}: mean ± std over {config.folds} folds x {config.seeds} seed(s)",
                 fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def write_results(rows: list[dict], out: Path, config: ExperimentConfig) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(RESULT_COLUMNS))
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    with atomic_path(out / RESULTS_CSV) as tmp:
        tmp.write_text(buffer.getvalue())
    summary = aggregate(rows)
    with atomic_path(out / RESULTS_MD) as tmp:
        tmp.write_text(_markdown(summary, config))
    _plot(summary, out / RESULTS_PNG, config)

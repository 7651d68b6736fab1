"""The report's charts, as PNG data URIs: demographic balance, labels and PSPI per level, per-frame AU
curves. matplotlib's object API: no pyplot, no global backend state."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from painsynth.avatars.tables import MONK_TONES
from painsynth.report.facts import AGE_BANDS, ETHNICITIES, as_number, level_colour, level_name
from painsynth.report.markup import data_uri

ETHNICITY_COLOURS = ("#8c564b", "#e6a817", "#7fa7d6")


def _figure(width: float, height: float):
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _figure_png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return data_uri(buffer.getvalue(), "image/png")


def _bars(ax, labels, values, title, colours=None, edge=None):
    x = np.arange(len(labels))
    ax.bar(x, values, color=colours, edgecolor=edge, linewidth=0.8 if edge else 0)
    ax.set_xticks(x, [str(v) for v in labels])
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("avatars")
    ax.yaxis.get_major_locator().set_params(integer=True)


def demographics_chart(people, gender, bands, dominant, tones) -> str:
    fig = _figure(12, 6.2)
    axes = fig.subplots(2, 3)
    genders = sorted(gender)
    _bars(axes[0, 0], genders, [gender[g] for g in genders], "gender", colours=["#c76fa6", "#4c7fbf", "#999999"][: len(genders)])
    shown_bands = [b for b in AGE_BANDS if b != "<18" or bands[b]]
    _bars(axes[0, 1], shown_bands, [bands[b] for b in shown_bands], "age band (years)", colours="#6a9f58")
    _bars(axes[0, 2], list(ETHNICITIES), [dominant[e] for e in ETHNICITIES], "dominant ethnicity (largest weight)",
          colours=list(ETHNICITY_COLOURS))
    # ethnicity mix: one stacked bar per avatar, sorted by dominant ethnicity then its weight
    mix = np.array([[as_number(p.get(e)) for e in ETHNICITIES] for p in people])
    mix = mix / np.maximum(mix.sum(axis=1, keepdims=True), 1e-9)
    order = np.lexsort((-mix.max(axis=1), mix.argmax(axis=1)))
    mix = mix[order]
    ax = axes[1, 0]
    bottom = np.zeros(len(mix))
    for k, (name, colour) in enumerate(zip(ETHNICITIES, ETHNICITY_COLOURS)):
        ax.bar(np.arange(len(mix)), mix[:, k], bottom=bottom, color=colour, width=1.0, label=name)
        bottom += mix[:, k]
    ax.set_xlim(-0.5, len(mix) - 0.5)
    ax.set_ylim(0, 1)
    ax.set_xticks([])
    ax.set_xlabel("avatars (sorted)")
    ax.set_ylabel("weight")
    ax.set_title("ethnicity mix per avatar", fontsize=10)
    ax.legend(fontsize=7, loc="lower right", framealpha=0.8)
    tone_axis = axes[1, 1]
    _bars(tone_axis, list(range(1, 11)), [tones[t] for t in range(1, 11)], "Monk skin tone",
          colours=[f"#{h}" for h in MONK_TONES], edge="#333333")
    tone_axis.set_facecolor("#f4f4f8")
    ages = np.array([p["age"] for p in people if p.get("age") is not None], dtype=float)
    ax = axes[1, 2]
    if len(ages):
        ax.hist(ages, bins=np.arange(0, 95, 5), color="#6a9f58", edgecolor="white")
    ax.set_title("age (years)", fontsize=10)
    ax.set_ylabel("avatars")
    return _figure_png(fig)


def pspi_chart(levels, counts, pspi_max, pspi_mean) -> str:
    fig = _figure(12, 3.4)
    axes = fig.subplots(1, 3)
    names = [f"{lv}\n{level_name(lv)}" for lv in levels]
    colours = [level_colour(lv) for lv in levels]
    x = np.arange(len(levels))
    axes[0].bar(x, [counts[lv] for lv in levels], color=colours)
    axes[0].set_xticks(x, names)
    axes[0].set_title("clips per pain level", fontsize=10)
    axes[0].set_ylabel("clips")
    axes[0].yaxis.get_major_locator().set_params(integer=True)
    for ax, values, title in ((axes[1], pspi_max, "PSPI max per clip"), (axes[2], pspi_mean, "mean PSPI per clip")):
        data = [values[lv] for lv in levels]
        present = [i for i, d in enumerate(data) if d]
        if present:
            box = ax.boxplot([data[i] for i in present], positions=x[present], widths=0.5, patch_artist=True,
                             showfliers=False)
            for patch, i in zip(box["boxes"], present):
                patch.set_facecolor(colours[i])
                patch.set_alpha(0.55)
            rng = np.random.default_rng(0)
            for i in present:
                ax.scatter(x[i] + rng.uniform(-0.12, 0.12, len(data[i])), data[i], s=10, color="black", zorder=3)
        else:
            ax.text(0.5, 0.5, "no PSPI in this dataset", transform=ax.transAxes, ha="center", va="center")
        ax.set_xticks(x, names)
        ax.set_xlim(-0.6, len(levels) - 0.4)
        ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("PSPI (0-16)")
    return _figure_png(fig)


def au_chart(examples) -> str:
    fig = _figure(12, 2.3 * len(examples) + 0.6)
    axes = np.atleast_1d(fig.subplots(len(examples), 1, sharex=False, squeeze=False)[:, 0])
    cmap = colormaps["tab10"]
    for ax, (level, name, track) in zip(axes, examples):
        t = np.arange(track.n_frames) / (track.fps or 25.0)
        for k, au in enumerate(track.au_names):
            ax.plot(t, track.au[:, k], color=cmap(k % 10), linestyle="-" if k < 10 else "--", linewidth=1.3, label=au)
        ax.set_ylim(0, 5.2)
        ax.set_ylabel("AU intensity")
        ax.set_title(f"level {level} ({level_name(level)}) · {Path(name).stem}", fontsize=10, loc="left")
        if track.pspi is not None:
            twin = ax.twinx()
            twin.plot(t, track.pspi, color="black", linewidth=2.2, label="PSPI")
            twin.set_ylim(0, 16.5)
            twin.set_ylabel("PSPI")
        ax.set_xlim(0, t[-1] if len(t) > 1 else 1)
    axes[-1].set_xlabel("time (s)")
    handles, labels = axes[0].get_legend_handles_labels()
    if any(track.pspi is not None for _, _, track in examples):
        handles.append(Line2D([], [], color="black", linewidth=2.2))
        labels.append("PSPI")
    fig.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 13), fontsize=8, frameon=False)
    return _figure_png(fig)

"""A dataset report: one static HTML file a person can open in a browser (docs/design.md, "report").

``build_report(dataset)`` reads a dataset folder (``manifest.parquet``, ``videos/``, ``tracks/``,
``dataset.json``) and writes ``report.html`` with every image embedded as a data URI, so the file
travels alone: no server, no internet, no external scripts, styles or fonts. Sections: header,
contact sheet of identities x views, animated previews per pain level, demographic balance,
labels and PSPI per level, per-frame AU curves, a datasheet, and the tables and plots of an
experiment or audit folder when given.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from painsynth.avatars.tables import MONK_TONES
from painsynth.fileio import atomic_path, temp_name

REPORT_NAME = "report.html"
MAX_SHEET_AVATARS = 12
MAX_TILE = 160  # pixels, contact sheet tiles
MAX_GIF = 128  # pixels, animated previews
MAX_GIF_FRAMES = 48
AGE_BANDS = ("<18", "18-30", "31-45", "46-60", "61+")
ETHNICITIES = ("african", "asian", "caucasian")
ETHNICITY_COLOURS = ("#8c564b", "#e6a817", "#7fa7d6")


class ReportError(ValueError):
    """The dataset or an extra folder cannot be read, or the report cannot be written."""


@dataclass
class _Dataset:
    folder: Path
    rows: list[dict]
    meta: dict  # dataset.json, {} if absent
    tracks: dict[str, object] = field(default_factory=dict)  # relative path -> MotionTrack | None
    notes: list[str] = field(default_factory=list)  # problems met while reading (shown in the report)


# ---------------------------------------------------------------------------------------------
# Entry point


def build_report(dataset: str | Path, out: str | Path | None = None, experiment: str | Path | None = None,
                 audit: str | Path | None = None) -> Path:
    """Write the HTML report of the dataset folder ``dataset`` to ``out`` (default: inside it); return its path.

    Raises ReportError, before anything is written, on a missing folder or manifest, an extra
    folder that does not exist, or an output that cannot be written.
    """
    from painsynth.dataset import ManifestError, manifest_rows

    folder = Path(dataset)
    if not folder.is_dir():
        raise ReportError(f"{folder}: dataset folder does not exist")
    try:
        rows = manifest_rows(folder)
    except ManifestError as exc:
        raise ReportError(str(exc)) from None
    extras = [(name, Path(p)) for name, p in (("Experiment", experiment), ("Audit", audit)) if p is not None]
    for name, extra in extras:
        if not extra.is_dir():
            raise ReportError(f"{extra}: {name.lower()} folder does not exist")
    out = Path(out) if out is not None else folder / REPORT_NAME
    _check_writable(out)

    data = _Dataset(folder=folder, rows=rows, meta=_read_meta(folder))
    _load_tracks(data)
    sections = [
        _section_contact_sheet(data),
        _section_previews(data),
        _section_demographics(data),
        _section_pspi(data),
        _section_au_curves(data),
        _section_datasheet(data),
        *(_section_extra(name, extra) for name, extra in extras),
    ]
    page = _page(data, sections)
    try:
        with atomic_path(out) as tmp:
            tmp.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{out}: cannot write the report ({exc.strerror or exc})") from None
    return out


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise ReportError(f"{out}: is a folder; give the report's file name (e.g. {out / REPORT_NAME})")
    probe = temp_name(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ReportError(f"{out}: cannot write the report ({exc.strerror or exc})") from None


def _read_meta(folder: Path) -> dict:
    path = folder / "dataset.json"
    try:
        meta = json.loads(path.read_text())
        return meta if isinstance(meta, dict) else {}
    except (OSError, ValueError):
        return {}


def _load_tracks(data: _Dataset) -> None:
    from painsynth.tracks import MotionTrack, TrackError

    for track in sorted({r["track"] for r in data.rows if r.get("track")}):
        try:
            data.tracks[track] = MotionTrack.load(data.folder / track)
        except TrackError as exc:
            data.tracks[track] = None
            data.notes.append(f"motion track unreadable: {exc}")


def _track(data: _Dataset, row: dict):
    return data.tracks.get(row.get("track") or "")


# ---------------------------------------------------------------------------------------------
# Sections


def _section_contact_sheet(data: _Dataset) -> str:
    views = _ordered_views(data)
    by_avatar: dict[str, list[dict]] = defaultdict(list)
    for row in data.rows:
        by_avatar[row.get("avatar_id") or row["split_group"]].append(row)
    avatars = sorted(by_avatar)[:MAX_SHEET_AVATARS]
    head = "".join(f"<th>{_e(v)}</th>" for v in views)
    body = []
    for avatar in avatars:
        rows = by_avatar[avatar]
        # one performance of this avatar, the one with the strongest pain, in every view
        motion = max(rows, key=lambda r: (_num(r.get("pspi_max")), r["label"], r["clip_id"]))["motion_id"]
        chosen = {r["view"]: r for r in rows if r.get("motion_id") == motion}
        first = rows[0]
        who = _e(f"{avatar}")
        desc = _e(_describe_avatar(first))
        cells = []
        for view in views:
            row = chosen.get(view)
            if row is None:
                cells.append("<td class='missing'>-</td>")
                continue
            frame, index = _peak_frame(data, row)
            if frame is None:
                cells.append("<td class='missing'>unreadable video</td>")
                continue
            cells.append(f"<td>{_img(_png(_fit(frame, MAX_TILE)), f'{avatar} {view} frame {index}')}"
                         f"<div class='cap'>{_e(_level_name(row['label']))} · frame {index}</div></td>")
        body.append(f"<tr><th class='who'>{who}<div class='cap'>{desc}</div></th>{''.join(cells)}</tr>")
    more = len(by_avatar) - len(avatars)
    note = f"<p class='note'>{more} more avatars not shown.</p>" if more > 0 else ""
    return _section("contact-sheet", "Contact sheet: identities × views",
                    "<p>One frame per clip, the frame of peak PSPI (the middle frame where the "
                    "motion has no PSPI or none above 0), of each identity's strongest-pain performance.</p>"
                    f"<div class='scroll'><table class='sheet'><tr><th></th>{head}</tr>{''.join(body)}</table></div>{note}")


def _section_previews(data: _Dataset) -> str:
    view_order = {v: i for i, v in enumerate(_ordered_views(data))}
    figures = []
    for level in sorted({r["label"] for r in data.rows}):
        rows = sorted((r for r in data.rows if r["label"] == level),
                      key=lambda r: (view_order.get(r.get("view"), 99), -_num(r.get("pspi_max")), r["clip_id"]))
        gif = None
        for row in rows[:5]:  # the best clip, or the next ones if its video is broken
            gif = _gif(data, row)
            if gif is not None:
                break
        if gif is None:
            figures.append(f"<figure><figcaption>{_e(_level_name(level))}: no readable video</figcaption></figure>")
            continue
        pspi = row.get("pspi_max")
        caption = (f"{_level_name(level)} (level {level}) · {row.get('avatar_id') or '-'} · {row.get('view') or '-'}"
                   + (f" · PSPI max {pspi:.1f}" if pspi is not None else ""))
        figures.append(f"<figure>{_img(_data_uri(gif, 'image/gif'), caption)}<figcaption>{_e(caption)}</figcaption></figure>")
    return _section("previews", "Animated previews per pain level",
                    "<p>One clip per level (the first view, strongest PSPI), downscaled.</p>"
                    f"<div class='gallery'>{''.join(figures)}</div>")


def _section_demographics(data: _Dataset) -> str:
    avatars = {}
    for row in data.rows:
        if row.get("avatar_id") and row.get("gender") is not None:
            avatars.setdefault(row["avatar_id"], row)
    if not avatars:
        return _section("demographics", "Demographic balance", "<p class='note'>No avatars in this dataset (real clips only).</p>")
    people = list(avatars.values())
    gender = Counter(p["gender"] for p in people)
    bands = Counter(_age_band(p["age"]) for p in people if p.get("age") is not None)
    dominant = Counter(_dominant(p) for p in people if _dominant(p))
    tones = Counter(int(p["skin_tone"]) for p in people if p.get("skin_tone") is not None)
    png = _demographics_figure(people, gender, bands, dominant, tones)
    looks = [[name, _counts(Counter(p[key] for p in people if p.get(key)))]
             for key, name in (("hair_family", "hair"), ("garment", "garment"), ("glasses", "glasses"))
             if any(p.get(key) for p in people)]
    table = _table(["", "counts (avatars)"], [
        ["gender", _counts(gender)],
        ["age band", _counts(Counter({b: bands[b] for b in AGE_BANDS if bands[b]}), keep_order=True)],
        ["dominant ethnicity", _counts(dominant)],
        ["Monk skin tone", _counts(Counter({t: tones[t] for t in range(1, 11) if tones[t]}), keep_order=True)],
        *looks,
    ])
    return _section("demographics", "Demographic balance",
                    f"<p>{len(people)} synthetic identities (anny avatars). These describe the avatars' "
                    "parameters, not real people.</p>" + _img(png, "demographic balance charts", "chart") + table)


def _section_pspi(data: _Dataset) -> str:
    levels = sorted({r["label"] for r in data.rows})
    counts = Counter(r["label"] for r in data.rows)
    pspi_max = {lv: [r["pspi_max"] for r in data.rows if r["label"] == lv and r.get("pspi_max") is not None] for lv in levels}
    pspi_mean = {lv: [] for lv in levels}
    for row in data.rows:
        track = _track(data, row)
        if track is not None and track.pspi is not None and len(track.pspi):
            pspi_mean[row["label"]].append(float(np.mean(track.pspi)))
    png = _pspi_figure(levels, counts, pspi_max, pspi_mean)
    without = sum(1 for r in data.rows if r.get("pspi_max") is None)
    note = (f"<p class='note'>{without} clips carry no PSPI (captured or real motion): they are counted "
            "in the labels but not in the PSPI plots.</p>") if without else ""
    table_rows = []
    for lv in levels:
        mx, mn = pspi_max[lv], pspi_mean[lv]
        table_rows.append([f"{lv} ({_level_name(lv)})", str(counts[lv]),
                           f"{np.mean(mx):.2f} ± {np.std(mx):.2f}" if mx else "-",
                           f"{np.mean(mn):.2f} ± {np.std(mn):.2f}" if mn else "-"])
    return _section("pspi", "Labels and PSPI per level",
                    "<p>Clips per pain level, and per clip the peak and mean PSPI (0-16) of the motion it plays.</p>"
                    + _img(png, "labels and PSPI per level", "chart") + note
                    + _table(["level", "clips", "PSPI max (mean ± sd)", "PSPI mean (mean ± sd)"], table_rows))


def _section_au_curves(data: _Dataset) -> str:
    examples = []
    for level in sorted({r["label"] for r in data.rows}):
        tracks = sorted({r["track"] for r in data.rows if r["label"] == level and r.get("track")})
        labelled = [t for t in tracks if data.tracks.get(t) is not None and data.tracks[t].au is not None]
        if labelled:
            best = max(labelled, key=lambda t: (data.tracks[t].pspi_max if data.tracks[t].pspi is not None else 0.0, t))
            examples.append((level, best, data.tracks[best]))
    unlabelled = sorted({r["track"] for r in data.rows if r.get("track")
                         and (data.tracks.get(r["track"]) is None or data.tracks[r["track"]].au is None)})
    note = (f"<p class='note'>{len(unlabelled)} motion tracks (captured motion) have no per-frame AU labels: "
            "no AU curves are shown for them.</p>") if unlabelled else ""
    if not examples:
        return _section("au-curves", "Per-frame AU curves", note or "<p class='note'>No motion tracks with AU labels.</p>")
    png = _au_figure(examples)
    return _section("au-curves", "Per-frame AU curves",
                    "<p>One example motion per level (the one with the highest PSPI): the intensity (0-5) "
                    "of every labelled FACS action unit over time, and PSPI (black, right axis).</p>"
                    + _img(png, "per-frame AU curves", "chart") + note)


def _section_datasheet(data: _Dataset) -> str:
    rows, meta = data.rows, data.meta
    config = meta.get("config", {}) if isinstance(meta.get("config"), dict) else {}
    versions = meta.get("versions", {}) if isinstance(meta.get("versions"), dict) else {}
    sources = Counter(r["source"] for r in rows)
    avatars = {r["avatar_id"] for r in rows if r.get("avatar_id")}
    motions = {r.get("motion_id") or r["clip_id"] for r in rows}
    groups = {r["split_group"] for r in rows}
    views = _ordered_views(data)
    frames = sum(int(r["n_frames"]) for r in rows)
    sizes = Counter(f"{r['width']}×{r['height']}" for r in rows)
    fps = Counter(f"{r['fps']:g}" for r in rows)
    seed = meta.get("seed", config.get("seed", "not recorded"))

    made = []
    if sources.get("procedural"):
        made.append("<li><b>Procedural motion</b> ({n} clips): a FACS pain model. Pain episodes of the "
                    "Prkachin-Solomon pain action units (PSPI = AU4 + max(AU6, AU7) + max(AU9, AU10) + AU43) and "
                    "companion AUs with onset-apex-offset time courses; the pain level (0 = BioVid BL1 to "
                    "4 = PA4) sets their probability, strength and length. Every clip also carries blinks, gaze, "
                    "head motion and non-pain expressions at the same odds at every level. Per-frame AU "
                    "intensities and PSPI are stored with each motion track.</li>".format(n=sources["procedural"]))
    if sources.get("captured"):
        made.append("<li><b>Captured motion</b> ({n} clips): facial motion (52 ARKit blendshapes and head "
                    "pose) of real recordings, tracked with MediaPipe Face Landmarker and replayed on synthetic "
                    "heads. Labels come from the source recordings; there are no per-frame AU labels."
                    "</li>".format(n=sources["captured"]))
    if sources.get("real"):
        made.append(f"<li><b>Real clips</b> ({sources['real']}): recordings of real people, read as they are.</li>")
    if avatars:
        made.append(f"<li><b>Synthetic identities</b>: {len(avatars)} avatars of the <code>anny</code> parametric "
                    "human (Apache-2.0, MakeHuman CC0 assets), sampled to balance gender × age band and the 10 Monk "
                    "skin tones, with a procedural skin, eye and hair texture. They are not modelled on any "
                    "real person.</li>")
        made.append("<li><b>Rendering</b>: moderngl offscreen rasterisation with randomised lighting and "
                    "backgrounds, cameras framed on each head, encoded as H.264 mp4 with PyAV.</li>")

    composition = _table(["", ""], [
        ["clips (videos)", str(len(rows))],
        ["motions", str(len(motions))],
        ["split groups (performers)", f"{len(groups)} — keep each group in one fold"],
        ["avatars", str(len(avatars))],
        ["views", ", ".join(views) or "-"],
        ["sources", _counts(sources)],
        ["pain levels (clips)", _counts(Counter(f"{lv} {_level_name(lv)}" for lv in (r["label"] for r in rows)))],
        ["frames in all", str(frames)],
        ["resolution", _counts(sizes)],
        ["frame rate (fps)", _counts(fps)],
    ])
    provenance = _table(["", ""], [
        ["created", str(meta.get("created", "not recorded"))],
        ["seed", str(seed)],
        *[[f"version: {k}", str(v)] for k, v in versions.items()],
    ])
    settings = _table(["setting", "value"], [[k, json.dumps(v)] for k, v in config.items() if k not in ("out",)]) if config else \
        "<p class='note'>No dataset.json: the settings and versions of the run are not recorded.</p>"
    notes = "".join(f"<li>{_e(n)}</li>" for n in data.notes[:20])
    if len(data.notes) > 20:
        notes += f"<li>… and {len(data.notes) - 20} more</li>"
    return _section("datasheet", "Datasheet", f"""
<h3>Motivation</h3>
<p>Synthetic face videos for training and evaluating video pain recognition where too few real
patients can be filmed. Made with painsynth, following Nasimzada et al. 2024, <i>Towards Synthetic Data
Generation for Improved Pain Recognition in Videos under Patient Constraints</i>.</p>
<h3>How it was made</h3>
<ul>{''.join(made)}</ul>
<p>Every random choice (avatars, motions, lighting, backgrounds, camera jitter) follows from the seed:
the same seed and versions make the same dataset.</p>
<h3>Provenance</h3>{provenance}
<h3>Composition</h3>{composition}
<h3>Settings of the run</h3>{settings}
<h3>Labels</h3>
<p>Each clip has a pain level 0-4 (BioVid Part A's BL1, PA1-PA4) and a <code>split_group</code>, the performer
whose motion it plays: clips of one group must stay in one fold. Procedural motion carries per-frame FACS AU
intensities and PSPI as ground truth of what the face does; these are model outputs, not ratings of a person.</p>
<h3>Intended uses</h3>
<ul>
<li>Training and pre-training video pain recognition models, alone or with a small amount of real data.</li>
<li>Benchmarking and ablations (views, identities, levels) with subject-disjoint folds.</li>
<li>Testing the robustness of models to pose, lighting, skin tone, age and gender of the face.</li>
</ul>
<h3>Must not be used for</h3>
<ul>
<li><b>Clinical diagnosis</b> or pain assessment of individual patients, or any decision about a person's
care, without clinical validation on real patient data.</li>
<li><b>Identifying people</b> or face recognition: the identities are synthetic; captured motion may still carry
traits of its source performers, so do not use it to re-identify or profile them.</li>
<li><b>Claims about real demographic groups' pain expression</b>: gender, age, ethnicity and skin tone here are
avatar parameters balanced by design, and the pain motion is the same model (or the same captured motion) on
every face; differences between groups in this data say nothing about real people.</li>
<li>Surveillance, emotion or deception detection, or employment, insurance or legal decisions.</li>
</ul>
<h3>Known limits</h3>
<p>Procedural pain follows a FACS model of pain expression, not recorded patients; hair is painted on the scalp;
rendering is stylised (no hair geometry, simple shading). Real pain behaviour varies more than this model.</p>
{f'<h3>Problems met while writing this report</h3><ul>{notes}</ul>' if notes else ''}
""")


def _section_extra(name: str, folder: Path) -> str:
    parts = []
    for md in sorted(folder.rglob("*.md")):
        try:
            text = md.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            parts.append(f"<p class='note'>{_e(md.name)}: unreadable ({_e(exc.strerror or str(exc))})</p>")
            continue
        parts.append(f"<div class='md'><div class='cap'>{_e(md.relative_to(folder).as_posix())}</div>{_markdown(text)}</div>")
    for png in sorted(folder.rglob("*.png")):
        try:
            raw = png.read_bytes()
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
        except (OSError, ValueError) as exc:
            parts.append(f"<p class='note'>{_e(png.relative_to(folder).as_posix())}: not a readable PNG ({_e(str(exc))})</p>")
            continue
        label = png.relative_to(folder).as_posix()
        parts.append(f"<figure>{_img(_data_uri(raw, 'image/png'), label, 'chart')}<figcaption>{_e(label)}</figcaption></figure>")
    if not parts:
        parts.append("<p class='note'>No tables (*.md) or plots (*.png) in this folder.</p>")
    key = name.lower()
    return _section(key, f"{name}: {folder}", "".join(parts))


# ---------------------------------------------------------------------------------------------
# Frames and animations


def _peak_frame(data: _Dataset, row: dict) -> tuple[np.ndarray | None, int]:
    from painsynth.video import VideoError, read_frames

    n = int(row["n_frames"])
    track = _track(data, row)
    if track is not None and track.pspi is not None and len(track.pspi) and float(np.max(track.pspi)) > 0:
        index = int(np.argmax(track.pspi))
    else:
        index = n // 2
    index = min(max(index, 0), max(n - 1, 0))
    try:
        return read_frames(data.folder / row["path"], [index])[0], index
    except (VideoError, OSError, ValueError, IndexError) as exc:
        _note(data, f"{row['path']}: video unreadable ({exc})")
        return None, index


def _gif(data: _Dataset, row: dict) -> bytes | None:
    from painsynth.video import VideoError, read_video

    fps = row.get("fps") or 25.0
    try:
        frames, _ = read_video(data.folder / row["path"])
    except (VideoError, OSError, ValueError) as exc:
        _note(data, f"{row['path']}: video unreadable ({exc})")
        return None
    step = max(1, math.ceil(len(frames) / MAX_GIF_FRAMES))
    images = [_fit(f, MAX_GIF) for f in frames[::step]]
    pil = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE, colors=128) for f in images]
    buffer = io.BytesIO()
    pil[0].save(buffer, format="GIF", save_all=True, append_images=pil[1:], loop=0,
                duration=max(20, int(round(1000.0 * step / (fps or 25.0)))), disposal=1)
    return buffer.getvalue()


def _note(data: _Dataset, text: str) -> None:
    if text not in data.notes:
        data.notes.append(text)


def _fit(frame: np.ndarray, limit: int) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = limit / max(h, w)
    if scale >= 1:
        return frame
    return np.asarray(Image.fromarray(frame).resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS))


# ---------------------------------------------------------------------------------------------
# Plots (matplotlib's object API: no pyplot, no global backend state)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _figure_png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return _data_uri(buffer.getvalue(), "image/png")


def _bars(ax, labels, values, title, colours=None, edge=None):
    x = np.arange(len(labels))
    ax.bar(x, values, color=colours, edgecolor=edge, linewidth=0.8 if edge else 0)
    ax.set_xticks(x, [str(v) for v in labels])
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("avatars")
    ax.yaxis.get_major_locator().set_params(integer=True)


def _demographics_figure(people, gender, bands, dominant, tones) -> str:
    fig = _figure(12, 6.2)
    axes = fig.subplots(2, 3)
    genders = sorted(gender)
    _bars(axes[0, 0], genders, [gender[g] for g in genders], "gender", colours=["#c76fa6", "#4c7fbf", "#999999"][: len(genders)])
    shown_bands = [b for b in AGE_BANDS if b != "<18" or bands[b]]
    _bars(axes[0, 1], shown_bands, [bands[b] for b in shown_bands], "age band (years)", colours="#6a9f58")
    _bars(axes[0, 2], list(ETHNICITIES), [dominant[e] for e in ETHNICITIES], "dominant ethnicity (largest weight)",
          colours=list(ETHNICITY_COLOURS))
    # ethnicity mix: one stacked bar per avatar, sorted by dominant ethnicity then its weight
    mix = np.array([[_num(p.get(e)) for e in ETHNICITIES] for p in people])
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


def _pspi_figure(levels, counts, pspi_max, pspi_mean) -> str:
    fig = _figure(12, 3.4)
    axes = fig.subplots(1, 3)
    names = [f"{lv}\n{_level_name(lv)}" for lv in levels]
    colours = [_level_colour(lv) for lv in levels]
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


def _au_figure(examples) -> str:
    from matplotlib import colormaps

    fig = _figure(12, 2.3 * len(examples) + 0.6)
    axes = np.atleast_1d(fig.subplots(len(examples), 1, sharex=False, squeeze=False)[:, 0])
    cmap = colormaps["tab10"]
    for ax, (level, name, track) in zip(axes, examples):
        t = np.arange(track.n_frames) / (track.fps or 25.0)
        for k, au in enumerate(track.au_names):
            ax.plot(t, track.au[:, k], color=cmap(k % 10), linestyle="-" if k < 10 else "--", linewidth=1.3, label=au)
        ax.set_ylim(0, 5.2)
        ax.set_ylabel("AU intensity")
        ax.set_title(f"level {level} ({_level_name(level)}) · {Path(name).stem}", fontsize=10, loc="left")
        if track.pspi is not None:
            twin = ax.twinx()
            twin.plot(t, track.pspi, color="black", linewidth=2.2, label="PSPI")
            twin.set_ylim(0, 16.5)
            twin.set_ylabel("PSPI")
        ax.set_xlim(0, t[-1] if len(t) > 1 else 1)
    axes[-1].set_xlabel("time (s)")
    handles, labels = axes[0].get_legend_handles_labels()
    if any(track.pspi is not None for _, _, track in examples):
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="black", linewidth=2.2))
        labels.append("PSPI")
    fig.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 13), fontsize=8, frameon=False)
    return _figure_png(fig)


# ---------------------------------------------------------------------------------------------
# HTML


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d232b;background:#fafbfc}
header{background:#24303f;color:#fff;padding:18px 28px}
header h1{margin:0 0 6px;font-size:24px}
header .meta{font-size:14px;opacity:.9}
header code{color:#ffe6a6}
nav{padding:8px 28px;background:#e9edf2;font-size:14px}
nav a{margin-right:14px;color:#24476b;text-decoration:none}
main{padding:4px 28px 40px;max-width:1280px}
section{margin:22px 0;padding:14px 18px;background:#fff;border:1px solid #dde3ea;border-radius:8px}
h2{margin:0 0 10px;font-size:20px}
h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #dde3ea;padding:4px 8px;text-align:left;vertical-align:top}
table.sheet td,table.sheet th{text-align:center;padding:3px}
table.sheet th.who{text-align:left;font-size:13px;min-width:120px}
.cap{font-size:11px;color:#5b6572;font-weight:normal}
.note{color:#8a5a00;background:#fff7e0;padding:6px 10px;border-radius:4px}
.gallery{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:6px 0}
figcaption{font-size:12px;color:#5b6572;max-width:260px}
.gallery figcaption{max-width:170px}
img.chart{max-width:100%;height:auto}
.scroll{overflow-x:auto}
td.missing{color:#999}
.md{margin:10px 0}
"""

# Marks <body> when every image has decoded (and counts errors), so a headless browser can check the page.
_SCRIPT = """
(function(){var errors=0;
window.addEventListener('error',function(){errors++;if(document.body){document.body.setAttribute('data-errors',String(errors));}},true);
window.addEventListener('load',function(){var imgs=document.images,ok=0;
for(var i=0;i<imgs.length;i++){if(imgs[i].complete&&imgs[i].naturalWidth>0){ok++;}}
document.body.setAttribute('data-images',ok+'/'+imgs.length);
document.body.setAttribute('data-errors',String(errors));
document.body.setAttribute('data-ready',ok===imgs.length&&errors===0?'yes':'no');});})();
"""


def _page(data: _Dataset, sections: list[str]) -> str:
    meta = data.meta
    versions = meta.get("versions", {}) if isinstance(meta.get("versions"), dict) else {}
    made = meta.get("created", "not recorded")
    seed = meta.get("seed", "not recorded")
    version_text = ", ".join(f"{k} {v}" for k, v in versions.items()) or "not recorded"
    title = f"painsynth dataset report: {data.folder.resolve().name}"
    toc = "".join(f"<a href='#{i}'>{t}</a>" for i, t in re.findall(r"<section id='([^']+)'><h2>([^<]+)</h2>", "".join(sections)))
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
<script>{_SCRIPT}</script>
</head><body>
<header><h1>{_e(title)}</h1>
<div class="meta">dataset <code>{_e(str(data.folder.resolve()))}</code> · {len(data.rows)} clips ·
made {_e(str(made))} with seed <b>{_e(str(seed))}</b> · {_e(version_text)}</div>
<div class="meta">report written {now}</div></header>
<nav>{toc}</nav>
<main>{''.join(sections)}</main>
</body></html>
"""


def _section(key: str, title: str, body: str) -> str:
    return f"<section id='{key}'><h2>{_e(title)}</h2>{body}</section>"


def _img(src: str, alt: str, cls: str = "") -> str:
    klass = f" class='{cls}'" if cls else ""
    return f"<img{klass} src='{src}' alt='{_e(alt)}'>"


def _png(frame: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG", optimize=True)
    return _data_uri(buffer.getvalue(), "image/png")


def _data_uri(raw: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header) if any(header) else ""
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{f'<tr>{head}</tr>' if head else ''}{body}</table>"


def _markdown(text: str) -> str:
    """Enough Markdown for stage summaries: headings, pipe tables, lists, paragraphs; all else as text."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        line = lines[i].rstrip()
        if line.lstrip().startswith("|"):
            block = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                block.append(lines[i].strip())
                i += 1
            cells = [[c.strip() for c in row.strip("|").split("|")] for row in block]
            cells = [row for row in cells if not all(re.fullmatch(r":?-{2,}:?", c) for c in row if c)] or cells
            head, body = cells[0], cells[1:]
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in body)
                       + "</table>")
            continue
        heading = re.match(r"(#{1,6})\s+(.*)", line)
        if heading:
            level = min(len(heading.group(1)) + 2, 6)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif re.match(r"\s*[-*]\s+", line):
            items = []
            while i < len(lines) and re.match(r"\s*[-*]\s+", lines[i]):
                item = re.sub(r"^\s*[-*]\s+", "", lines[i])
                items.append(f"<li>{_inline(item)}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
            continue
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
        i += 1
    return "".join(out)


def _inline(text: str) -> str:
    text = _e(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------------------------------------
# Small helpers


def _ordered_views(data: _Dataset) -> list[str]:
    configured = data.meta.get("config", {}).get("views", []) if isinstance(data.meta.get("config"), dict) else []
    present = {r["view"] for r in data.rows if r.get("view")}
    return [v for v in configured if v in present] + sorted(present - set(configured))


def _describe_avatar(row: dict) -> str:
    parts = []
    if row.get("gender"):
        parts.append(str(row["gender"]))
    if row.get("age") is not None:
        parts.append(f"{row['age']:.0f} y")
    if row.get("skin_tone") is not None:
        parts.append(f"Monk {row['skin_tone']}")
    if _dominant(row):
        parts.append(_dominant(row))
    return ", ".join(parts)


def _dominant(row: dict) -> str:
    weights = {e: row.get(e) for e in ETHNICITIES if row.get(e) is not None}
    return max(weights, key=weights.get) if weights else ""


def _age_band(age: float) -> str:
    for upper, band in ((18, "<18"), (31, "18-30"), (46, "31-45"), (61, "46-60")):
        if age < upper:
            return band
    return "61+"


def _level_name(level: int) -> str:
    from painsynth.tracks import LEVEL_NAMES

    if level == -1:
        return "unlabelled"  # motion replayed without a pain level
    return LEVEL_NAMES[level] if 0 <= level < len(LEVEL_NAMES) else str(level)


def _level_colour(level: int) -> str:
    return ("#7aa6c2", "#f2c14e", "#f08a4b", "#d9534f", "#8e1b2e")[level] if 0 <= level <= 4 else "#999999"


def _num(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(v) else v


def _counts(counter: Counter, keep_order: bool = False) -> str:
    items = counter.items() if keep_order else sorted(counter.items(), key=lambda kv: str(kv[0]))
    return ", ".join(f"{k}: {v}" for k, v in items) or "-"


__all__ = ["REPORT_NAME", "ReportError", "build_report"]

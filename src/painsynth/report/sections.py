"""The report's sections on the clips: contact sheet, animated previews, demographic balance, labels and
PSPI per level, per-frame AU curves."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from painsynth.report.charts import au_chart, demographics_chart, pspi_chart
from painsynth.report.data import LoadedDataset, ordered_views, track_of
from painsynth.report.facts import (AGE_BANDS, age_band, as_number, describe_avatar, dominant_ethnicity, format_counts,
                                    level_name)
from painsynth.report.frames import fit, peak_frame, png_uri, preview_gif
from painsynth.report.markup import data_uri, escape, img_tag, section_html, table_html

MAX_SHEET_AVATARS = 12
MAX_TILE = 160  # pixels, contact sheet tiles


def contact_sheet_section(data: LoadedDataset) -> str:
    views = ordered_views(data)
    by_avatar: dict[str, list[dict]] = defaultdict(list)
    for row in data.rows:
        by_avatar[row.get("avatar_id") or row["split_group"]].append(row)
    avatars = sorted(by_avatar)[:MAX_SHEET_AVATARS]
    head = "".join(f"<th>{escape(v)}</th>" for v in views)
    body = []
    for avatar in avatars:
        rows = by_avatar[avatar]
        # one performance of this avatar, the one with the strongest pain, in every view
        motion = max(rows, key=lambda r: (as_number(r.get("pspi_max")), r["label"], r["clip_id"]))["motion_id"]
        chosen = {r["view"]: r for r in rows if r.get("motion_id") == motion}
        first = rows[0]
        who = escape(f"{avatar}")
        desc = escape(describe_avatar(first))
        cells = []
        for view in views:
            row = chosen.get(view)
            if row is None:
                cells.append("<td class='missing'>-</td>")
                continue
            frame, index = peak_frame(data, row)
            if frame is None:
                cells.append("<td class='missing'>unreadable video</td>")
                continue
            cells.append(f"<td>{img_tag(png_uri(fit(frame, MAX_TILE)), f'{avatar} {view} frame {index}')}"
                         f"<div class='cap'>{escape(level_name(row['label']))} · frame {index}</div></td>")
        body.append(f"<tr><th class='who'>{who}<div class='cap'>{desc}</div></th>{''.join(cells)}</tr>")
    more = len(by_avatar) - len(avatars)
    note = f"<p class='note'>{more} more avatars not shown.</p>" if more > 0 else ""
    return section_html("contact-sheet", "Contact sheet: identities × views",
                        "<p>One frame per clip, the frame of peak PSPI (the middle frame where the "
                        "motion has no PSPI or none above 0), of each identity's strongest-pain performance.</p>"
                        f"<div class='scroll'><table class='sheet'><tr><th></th>{head}</tr>{''.join(body)}</table></div>{note}")


def previews_section(data: LoadedDataset) -> str:
    view_order = {v: i for i, v in enumerate(ordered_views(data))}
    figures = []
    for level in sorted({r["label"] for r in data.rows}):
        rows = sorted((r for r in data.rows if r["label"] == level),
                      key=lambda r: (view_order.get(r.get("view"), 99), -as_number(r.get("pspi_max")), r["clip_id"]))
        gif = None
        for row in rows[:5]:  # the best clip, or the next ones if its video is broken
            gif = preview_gif(data, row)
            if gif is not None:
                break
        if gif is None:
            figures.append(f"<figure><figcaption>{escape(level_name(level))}: no readable video</figcaption></figure>")
            continue
        pspi = row.get("pspi_max")
        caption = (f"{level_name(level)} (level {level}) · {row.get('avatar_id') or '-'} · {row.get('view') or '-'}"
                   + (f" · PSPI max {pspi:.1f}" if pspi is not None else ""))
        figures.append(f"<figure>{img_tag(data_uri(gif, 'image/gif'), caption)}<figcaption>{escape(caption)}</figcaption></figure>")
    return section_html("previews", "Animated previews per pain level",
                        "<p>One clip per level (the first view, strongest PSPI), downscaled.</p>"
                        f"<div class='gallery'>{''.join(figures)}</div>")


def demographics_section(data: LoadedDataset) -> str:
    avatars = {}
    for row in data.rows:
        if row.get("avatar_id") and row.get("gender") is not None:
            avatars.setdefault(row["avatar_id"], row)
    if not avatars:
        return section_html("demographics", "Demographic balance", "<p class='note'>No avatars in this dataset (real clips only).</p>")
    people = list(avatars.values())
    gender = Counter(p["gender"] for p in people)
    bands = Counter(age_band(p["age"]) for p in people if p.get("age") is not None)
    dominant = Counter(dominant_ethnicity(p) for p in people if dominant_ethnicity(p))
    tones = Counter(int(p["skin_tone"]) for p in people if p.get("skin_tone") is not None)
    png = demographics_chart(people, gender, bands, dominant, tones)
    looks = [[name, format_counts(Counter(p[key] for p in people if p.get(key)))]
             for key, name in (("hair_family", "hair"), ("garment", "garment"), ("glasses", "glasses"))
             if any(p.get(key) for p in people)]
    table = table_html(["", "counts (avatars)"], [
        ["gender", format_counts(gender)],
        ["age band", format_counts(Counter({b: bands[b] for b in AGE_BANDS if bands[b]}), keep_order=True)],
        ["dominant ethnicity", format_counts(dominant)],
        ["Monk skin tone", format_counts(Counter({t: tones[t] for t in range(1, 11) if tones[t]}), keep_order=True)],
        *looks,
    ])
    return section_html("demographics", "Demographic balance",
                        f"<p>{len(people)} synthetic identities (anny avatars). These describe the avatars' "
                        "parameters, not real people.</p>" + img_tag(png, "demographic balance charts", "chart") + table)


def pspi_section(data: LoadedDataset) -> str:
    levels = sorted({r["label"] for r in data.rows})
    counts = Counter(r["label"] for r in data.rows)
    pspi_max = {lv: [r["pspi_max"] for r in data.rows if r["label"] == lv and r.get("pspi_max") is not None] for lv in levels}
    pspi_mean = {lv: [] for lv in levels}
    for row in data.rows:
        track = track_of(data, row)
        if track is not None and track.pspi is not None and len(track.pspi):
            pspi_mean[row["label"]].append(float(np.mean(track.pspi)))
    png = pspi_chart(levels, counts, pspi_max, pspi_mean)
    without = sum(1 for r in data.rows if r.get("pspi_max") is None)
    note = (f"<p class='note'>{without} clips carry no PSPI (captured or real motion): they are counted "
            "in the labels but not in the PSPI plots.</p>") if without else ""
    table_rows = []
    for lv in levels:
        mx, mn = pspi_max[lv], pspi_mean[lv]
        table_rows.append([f"{lv} ({level_name(lv)})", str(counts[lv]),
                           f"{np.mean(mx):.2f} ± {np.std(mx):.2f}" if mx else "-",
                           f"{np.mean(mn):.2f} ± {np.std(mn):.2f}" if mn else "-"])
    return section_html("pspi", "Labels and PSPI per level",
                        "<p>Clips per pain level, and per clip the peak and mean PSPI (0-16) of the motion it plays.</p>"
                        + img_tag(png, "labels and PSPI per level", "chart") + note
                        + table_html(["level", "clips", "PSPI max (mean ± sd)", "PSPI mean (mean ± sd)"], table_rows))


def au_curves_section(data: LoadedDataset) -> str:
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
        return section_html("au-curves", "Per-frame AU curves", note or "<p class='note'>No motion tracks with AU labels.</p>")
    png = au_chart(examples)
    return section_html("au-curves", "Per-frame AU curves",
                        "<p>One example motion per level (the one with the highest PSPI): the intensity (0-5) "
                        "of every labelled FACS action unit over time, and PSPI (black, right axis).</p>"
                        + img_tag(png, "per-frame AU curves", "chart") + note)

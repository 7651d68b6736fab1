"""Privacy of motion on a stand-in where the answer is known.

Procedural performers, each with a strong signature of their own (blink rate, side bias, head-sway habit,
expression tempo: ``procedural.signature_style``), give "real" clips; other clips of the same performers
are the "synthetic" ones. The attacker must name the performers far above chance from their motion, and
after ``mix`` it must not. The dataset-level audit reads captured features from the training cache, as
``painsynth audit --motion`` does; here the cache is written from the tracks themselves (capturing rendered
videos would take minutes), in the cache's own format.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from painsynth.cli import app
from painsynth.dataset import write_manifest
from painsynth.privacy.attacker import MotionAttacker, cross_validated_ranks, subject_folds
from painsynth.privacy.audit import (ClipMotion, MotionAuditError, reidentify, run_motion_audit, wilson_interval,
                                     write_motion_audit)
from painsynth.privacy.features import FEATURE_NAMES, N_MOTION_FEATURES, clip_features, track_features
from painsynth.privacy.mitigate import METHODS, apply, mix, normalise
from painsynth.procedural import make_track, signature_style
from painsynth.tracks import BLENDSHAPE_INDEX, MotionTrack

FPS = 25.0
FRAMES = 138
PERFORMERS = [f"sig-{i}" for i in range(8)]
CLIPS = 6
runner = CliRunner()


def _clips(seed_offset: int) -> list[MotionTrack]:
    return [make_track(k % 5, seed_offset + 31 * p + k, FRAMES, FPS, name, signature_style(name))
            for p, name in enumerate(PERFORMERS) for k in range(CLIPS)]


def _motions(tracks: list[MotionTrack], view: str | None = None) -> list[ClipMotion]:
    return [ClipMotion(f"{t.subject}-{i}", t.subject, view, track_features(t)) for i, t in enumerate(tracks)]


@pytest.fixture(scope="module")
def standin() -> dict:
    return {"real": _clips(1000), "synthetic": _clips(9000)}


# --------------------------------------------------------------------------- features


def test_features_have_the_documented_length_and_stay_finite_on_a_still_face():
    still = MotionTrack(np.zeros((FRAMES, 52)), np.zeros((FRAMES, 3)), np.zeros((FRAMES, 3)), np.ones(FRAMES, bool), FPS)
    vector = track_features(still)
    assert vector.shape == (N_MOTION_FEATURES,) == (len(FEATURE_NAMES),)
    assert np.isfinite(vector).all()


def test_blink_rate_counts_blinks():
    blendshapes = np.zeros((100, 52))
    for start in (10, 40, 70):  # three blinks of 4 frames in 4 s
        blendshapes[start:start + 4, [BLENDSHAPE_INDEX["eyeBlinkLeft"], BLENDSHAPE_INDEX["eyeBlinkRight"]]] = 0.9
    motion = np.concatenate([blendshapes, np.zeros((100, 6))], axis=1)
    vector = clip_features(motion, FPS)
    named = dict(zip(FEATURE_NAMES, vector))
    assert named["blink.rate"] == pytest.approx(3 / 4.0)
    assert named["blink.duration"] == pytest.approx(4 / FPS)


def test_features_refuse_a_clip_too_short_or_of_the_wrong_shape():
    from painsynth.privacy.features import MotionFeatureError

    with pytest.raises(MotionFeatureError, match="frames"):
        clip_features(np.zeros((2, 58)), FPS)
    with pytest.raises(MotionFeatureError, match="58"):
        clip_features(np.zeros((50, 10)), FPS)


# --------------------------------------------------------------------------- attacker and re-identification


def test_folds_keep_every_subject_in_every_training_set():
    subjects = ["a"] * 2 + ["b"] * 5
    folds = subject_folds(subjects)
    for fold in set(folds):
        assert {s for s, f in zip(subjects, folds) if f != fold} == {"a", "b"}


def test_wilson_interval_brackets_the_rate():
    low, high = wilson_interval(9, 10)
    assert low < 0.9 < high <= 1.0
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(0, 0) is None


def test_signature_performers_are_reidentified_far_above_chance_and_mix_hides_them(standin):
    real = _motions(standin["real"])
    attacked = {name: reidentify(real, _motions(apply(name, standin["synthetic"], seed=3), view="front"))
                for name in METHODS}
    chance = 1 / len(PERFORMERS)
    sanity = attacked["none"]["sanity"]  # the sanity row is reported, from held-out real clips
    assert sanity["n_clips"] == len(real) and sanity["chance_top1"] == pytest.approx(chance)
    assert sanity["top1"] >= 2 * chance
    assert sanity["top1_ci95"][0] > chance  # the attacker works here: the interval clears chance
    unmitigated = attacked["none"]["synthetic"]
    assert unmitigated["top1"] >= 3 * chance and unmitigated["top1_ci95"][0] > chance
    mixed = attacked["mix"]["synthetic"]
    # mix does not make motion anonymous against an attacker that aligns the two sides (measured
    # 23 % against 54 % unmitigated, chance 12.5 %), but it removes more than half of what identifies
    assert mixed["top1"] <= unmitigated["top1"] - 0.25 and mixed["top1"] <= unmitigated["top1"] / 2
    assert attacked["normalise"]["synthetic"]["top1"] < unmitigated["top1"]
    assert set(attacked["none"]["synthetic_by_view"]) == {"front"}


def test_a_reading_offset_of_the_synthetic_side_does_not_hide_the_performers(standin):
    """Capture reads rendered faces with offsets and gains of its own; the audit's attacker removes
    them per view without labels, so they cannot make replayed motion look private."""
    real = _motions(standin["real"])
    offset = [ClipMotion(c.clip_id, c.subject, "front", 0.5 * c.features + 3.0)
              for c in _motions(standin["synthetic"])]
    chance = 1 / len(PERFORMERS)
    shifted = reidentify(real, offset)["synthetic"]
    assert shifted["top1"] >= 3 * chance and shifted["top1_ci95"][0] > chance


def test_attacker_scores_are_probabilities_over_the_subjects(standin):
    real = standin["real"]
    features = np.stack([track_features(t) for t in real])
    attacker = MotionAttacker().fit(features, [t.subject for t in real])
    scores = attacker.scores(features[:5])
    assert scores.shape == (5, len(PERFORMERS))
    assert np.allclose(scores.sum(1), 1.0)
    assert len(cross_validated_ranks(features, [t.subject for t in real])) == len(real)


# --------------------------------------------------------------------------- bad input


def test_a_subject_with_one_clip_is_left_out_and_counted(standin):
    real = _motions(standin["real"]) + [ClipMotion("lonely-0", "lonely", None, np.zeros(N_MOTION_FEATURES))]
    synthetic = _motions(standin["synthetic"][:3]) + [ClipMotion("syn-lonely", "lonely", "front", np.zeros(N_MOTION_FEATURES))]
    result = reidentify(real, synthetic)
    assert result["subjects_left_out"] == ["lonely"]
    assert result["counts"]["real_clips_left_out"] == 1
    assert result["counts"]["synthetic_clips_unmatched"] == 1
    assert "lonely" not in result["subjects"]
    assert any("'lonely'" in note and "left out" in note for note in result["notes"])


def test_synthetic_clips_naming_no_source_subject_are_counted(standin):
    synthetic = _motions(standin["synthetic"][:4]) + [ClipMotion("x", "stranger", "front", np.zeros(N_MOTION_FEATURES))]
    result = reidentify(_motions(standin["real"]), synthetic)
    assert result["counts"]["synthetic_clips_unmatched"] == 1 and result["counts"]["synthetic_clips_used"] == 4
    assert any("'stranger'" in note and "names no source subject" in note for note in result["notes"])


def test_fewer_than_two_usable_subjects_is_one_clear_error(standin):
    only_one = _motions([t for t in standin["real"] if t.subject == PERFORMERS[0]])
    with pytest.raises(MotionAuditError, match="at least 2 source subjects"):
        reidentify(only_one, [])


# --------------------------------------------------------------------------- mitigation


def test_mix_splices_other_subjects_of_the_same_label(standin):
    tracks = standin["real"]
    mixed = mix(tracks, seed=0)
    assert [t.n_frames for t in mixed] == [t.n_frames for t in tracks]
    assert [t.label for t in mixed] == [t.label for t in tracks]
    assert [t.subject for t in mixed] == [t.subject for t in tracks]
    first = mixed[0]
    sources = [str(s) for s in first.extra["motion_sources"]]
    assert str(first.extra["motion_privacy"]) == "mix" and len(set(sources)) == 3 and sources[0] == tracks[0].subject
    same_label = [t for t in tracks if t.label == tracks[0].label and t.subject in sources]
    # away from the cross-fades every frame is one source's own frame, not a blend of several
    for frame in (10, FRAMES // 2, FRAMES - 10):
        assert any(np.allclose(first.blendshapes[frame], t.blendshapes[frame]) for t in same_label)
    assert not np.allclose(first.blendshapes, tracks[0].blendshapes)


def test_normalise_brings_subjects_amplitudes_together():
    base = [make_track(k % 5, 50 + k, FRAMES, FPS, "calm") for k in range(4)]
    loud = [make_track(k % 5, 70 + k, FRAMES, FPS, "loud") for k in range(4)]
    for t in loud:
        t.head_rotation = t.head_rotation * 4.0  # a big head-sway habit
    out = normalise(base + loud, seed=0)

    def spread(tracks):
        return np.concatenate([t.head_rotation for t in tracks]).std()

    assert spread(loud) / spread(base) > 3.0
    assert spread(out[4:]) / spread(out[:4]) == pytest.approx(1.0, abs=0.2)
    assert all(str(t.extra["motion_privacy"]) == "normalise" for t in out)
    assert all(t.pspi is not None and len(t.pspi) == FRAMES for t in out)


def test_unknown_method_is_refused_naming_the_allowed_ones():
    from painsynth.privacy.mitigate import UnknownMethodError

    with pytest.raises(UnknownMethodError, match="'blur'.*none, mix, normalise"):
        apply("blur", [], 0)


def test_generate_refuses_an_unknown_motion_privacy_and_writes_nothing(tmp_path):
    out = tmp_path / "syn"
    result = runner.invoke(app, ["generate", "--out", str(out), "--clips", "1", "--motion-privacy", "blur"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "'blur'" in lines[0] and "none, mix, normalise" in lines[0]
    assert not out.exists()


def test_generate_writes_mixed_tracks_and_records_the_choice(tmp_path, standin):
    from painsynth.config import make_config
    from painsynth.generate import find_motion_tracks, prepare_motions, prepare_output, split_group_of

    motions = tmp_path / "motions"
    for i, track in enumerate(standin["real"][:12]):
        track.save(motions / f"clip{i:02d}.npz")
    config = make_config(out=tmp_path / "syn", motions=motions, motion_privacy="mix", seed=4)
    sources, _ = find_motion_tracks(config.motions)
    prepare_output(config)
    written = prepare_motions(config, sources)
    again = prepare_motions(config, sources)  # a resumed run: same tracks, nothing redone differently
    assert written == again and len(written) == 12
    track = MotionTrack.load(config.out / written[0][1])
    assert str(track.extra["motion_privacy"]) == "mix" and len(track.extra["motion_sources"]) >= 2
    # the manifest's split_group names everyone mixed in, so experiment folds keep them all out
    assert split_group_of(track, "m0").split("+") == [str(s) for s in track.extra["motion_sources"]]
    assert json.loads((config.out / "dataset.json").read_text())["config"]["motion_privacy"] == "mix"
    other = make_config(out=tmp_path / "syn", motions=motions, motion_privacy="none", seed=4)
    with pytest.raises(Exception, match="motion_privacy"):
        prepare_output(other)


# --------------------------------------------------------------------------- the audit on dataset folders


def _dataset(root: Path, tracks: list[MotionTrack], cached: int, view: str | None, prefix: str) -> None:
    """A dataset folder whose clips' captured features sit in the training cache (the first ``cached`` of them)."""
    from painsynth.train.features import cache_path, feature_cache_key, track_features as captured
    from painsynth.train.inputs import InputSpec

    rows = []
    for i, track in enumerate(tracks):
        clip_id = f"{prefix}{i:03d}"
        video = root / "videos" / f"{clip_id}.mp4"
        video.parent.mkdir(parents=True, exist_ok=True)
        video.write_bytes(clip_id.encode())  # never decoded: the features come from the cache
        digest = __import__("hashlib").sha256(video.read_bytes()).hexdigest()
        rows.append({"clip_id": clip_id, "path": f"videos/{clip_id}.mp4", "split_group": track.subject,
                     "source": "real" if view is None else "captured", "label": track.label, "fps": FPS,
                     "n_frames": track.n_frames, "width": 64, "height": 64, "sha256": digest, "view": view})
        if i < cached:
            path = cache_path(root, clip_id, InputSpec(capture_method="hybrid"))
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, features=captured(track), valid=track.valid, sha256=np.array(digest),
                     version=np.array(feature_cache_key("hybrid")))
    write_manifest(rows, root / "manifest.parquet")


@pytest.fixture(scope="module")
def folders(tmp_path_factory, standin) -> dict:
    root = tmp_path_factory.mktemp("motion_audit")
    real = standin["real"][:4 * CLIPS]  # four performers
    synthetic = standin["synthetic"][:4 * CLIPS] + [make_track(2, 5, FRAMES, FPS, "stranger")]
    _dataset(root / "real", real, cached=len(real), view=None, prefix="r")
    _dataset(root / "syn", synthetic, cached=len(synthetic) - 2, view="front", prefix="s")
    _dataset(root / "uncaptured", real, cached=0, view=None, prefix="u")
    return {"real": root / "real", "syn": root / "syn", "uncaptured": root / "uncaptured"}


def test_motion_audit_reads_captured_features_and_counts_what_it_could_not_use(folders, tmp_path):
    result = run_motion_audit(folders["syn"], folders["real"], capture_missing=False)
    counts = result["counts"]
    assert len(result["subjects"]) == 4
    assert counts["clips_unusable"] == 2  # two synthetic clips without captured features
    assert counts["synthetic_clips_unmatched"] == 0  # the stranger is among the uncached two
    assert counts["clips_not_used"] == 2
    assert any("no usable captured features" in note for note in result["notes"])
    assert result["sanity"]["top1"] > result["sanity"]["chance_top1"]
    write_motion_audit(tmp_path, result)
    written = json.loads((tmp_path / "audit.json").read_text())
    assert written["motion"]["synthetic_by_view"]["front"]["n_clips"] == counts["synthetic_clips_used"]
    markdown = (tmp_path / "audit.md").read_text()
    assert "Motion re-identification" in markdown and "sanity" in markdown and "2 of" in markdown


def test_motion_audit_without_captured_features_is_one_clear_line(folders, tmp_path):
    result = runner.invoke(app, ["audit", "--synthetic", str(folders["syn"]), "--source", str(folders["uncaptured"]),
                                 "--out", str(tmp_path), "--motion", "--no-appearance", "--cached-only"])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]  # the rest: the progress bar
    assert len(errors) == 1 and "none of the 24 source clips has captured features" in errors[0]


def test_cli_motion_audit_writes_the_tables_and_says_what_it_left_out(folders, tmp_path):
    result = runner.invoke(app, ["audit", "--synthetic", str(folders["syn"]), "--source", str(folders["real"]),
                                 "--out", str(tmp_path), "--motion", "--no-appearance", "--cached-only"])
    assert result.exit_code == 0, result.output
    assert "2 synthetic clip(s) have no usable captured features" in result.output
    assert "could not be used" in result.output
    audit = json.loads((tmp_path / "audit.json").read_text())
    assert audit["motion"]["sanity"]["n_clips"] == 4 * CLIPS
    assert "real, held out (sanity)" in (tmp_path / "audit.md").read_text()
    refused = runner.invoke(app, ["audit", "--synthetic", "s", "--source", "r", "--no-appearance"])
    assert refused.exit_code == 2 and "nothing to audit" in refused.output

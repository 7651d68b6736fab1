import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from painsynth.cli import app

runner = CliRunner()
FAST = ["--clips", "1", "--frames", "8", "--size", "32", "--workers", "1"]


def test_help_lists_every_subcommand_and_explains_options():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert all(command in result.output for command in ("generate", "preview", "capture"))
    result = runner.invoke(app, ["generate", "--help"])
    assert result.exit_code == 0 and "--per-motion" in result.output and "--views" in result.output


@pytest.mark.parametrize("args, message", [
    (["--views", "front,sideways"], "unknown view sideways"),
    (["--clips", "0"], "clips must be an integer >= 1"),
    (["--clips", "-3"], "clips must be an integer >= 1"),
    (["--per-motion", "0"], "per_motion must be an integer >= 1"),
    (["--avatars", "0"], "avatars must be an integer >= 1"),
    (["--frames", "7"], "frames must be an integer >= 8"),
    (["--seed", "abc"], "seed must be an integer, got 'abc'"),
    (["--size", "33"], "size must be an even number"),
    (["--backgrounds", "plasma"], "unknown background kind plasma"),
    (["--levels", "0,7"], "levels must be pain levels from 0 to 4"),
    (["--hair-families", "short,mohawk"], "unknown hair family 'mohawk'; allowed: bald, balding"),
    (["--garments", "kimono"], "unknown garment 'kimono'; allowed: hospital_gown"),
    (["--glasses-share", "1.5"], "glasses_share must be a number from 0 to 1, got 1.5"),
    (["--glasses-share", "-0.1"], "glasses_share must be a number from 0 to 1"),
    (["--first-performer", "-1"], "first_performer must be an integer >= 0, got -1"),
    (["--device", "tpu"], "unknown device 'tpu'; use auto, cpu or cuda[:N]"),
    (["--device", "mps"], "unsupported device 'mps'; use auto, cpu or cuda[:N]"),
])
def test_bad_values_get_one_clear_line_and_leave_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--out", str(out), *FAST, *args])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["generate", "--out", str(blocker / "out"), *FAST])
    assert result.exit_code == 2 and "output folder is not writable" in result.output


def test_background_folder_errors_stop_before_anything_is_written(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--out", str(out), "--backgrounds-dir", str(empty), *FAST])
    assert result.exit_code == 2 and "background folder has no images" in result.output
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(empty / "ok.png")
    (empty / "bad.png").write_bytes(b"\x89PNG garbage")
    result = runner.invoke(app, ["generate", "--out", str(out), "--backgrounds-dir", str(empty), *FAST])
    assert result.exit_code == 2 and "bad.png: background image cannot be decoded" in result.output
    assert not out.exists()


def test_config_file_supplies_options_and_flags_win(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(f"out: {tmp_path / 'from-config'}\nclips: 2\nframes: 8\nsize: 32\nworkers: 1\nseed: 3\n")
    result = runner.invoke(app, ["generate", "--config", str(config), "--clips", "1"])
    assert result.exit_code == 0, result.output
    assert "clips written" in result.output and "frames rendered / s" in result.output
    assert len(list((tmp_path / "from-config").glob("videos/**/*.mp4"))) == 1
    config.write_text("clips: [oops\n")
    result = runner.invoke(app, ["generate", "--config", str(config)])
    assert result.exit_code == 2 and "not valid YAML" in result.output


def test_rerun_with_other_settings_is_refused(tmp_path):
    out = str(tmp_path / "out")
    assert runner.invoke(app, ["generate", "--out", out, *FAST]).exit_code == 0
    result = runner.invoke(app, ["generate", "--out", out, *FAST[:-2], "--workers", "1", "--seed", "5"])
    assert result.exit_code == 2 and "other settings (seed differ)" in result.output


def test_preview_writes_a_contact_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    result = runner.invoke(app, ["preview", "--avatars", "2", "--views", "front,left45", "--size", "64", "--out", str(out)])
    assert result.exit_code == 0, result.output
    sheet = np.asarray(Image.open(out))
    assert sheet.shape[1] == 4 * 64  # two views, neutral and pain each
    assert sheet.shape[0] == 14 + 2 * (14 + 64)  # header and a captioned row per avatar
    neutral, pain = sheet[28:92, :64].astype(int), sheet[28:92, 64:128].astype(int)
    assert np.abs(neutral - pain).mean() > 0.5  # the pain face differs from the neutral one


def test_capture_rejects_an_unknown_retargeting_method(tmp_path):
    result = runner.invoke(app, ["capture", str(tmp_path), "--out", str(tmp_path / "m"), "--method", "magic"])
    assert result.exit_code == 2
    assert "unknown retargeting method 'magic' (one of hybrid, fit, cue, direct, hybrid-levels)" in result.output
    assert not (tmp_path / "m").exists()


def test_capture_without_litert_says_what_to_install(tmp_path, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "ai_edge_litert" else find_spec(name, *args))
    result = runner.invoke(app, ["capture", str(tmp_path), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "capture needs ai_edge_litert: pip install 'painsynth[capture]'" in result.output
    assert not (tmp_path / "m").exists()


def test_config_file_with_an_unknown_hair_family_writes_nothing(tmp_path):
    config = tmp_path / "bank.yaml"
    config.write_text("hair_families: [afro, dreadlocks]\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--out", str(out), "--config", str(config), *FAST])
    assert result.exit_code == 2
    assert "unknown hair family 'dreadlocks'" in result.output and "afro" in result.output
    assert not out.exists()


def test_preview_refuses_a_bad_glasses_share_and_writes_nothing(tmp_path):
    out = tmp_path / "sheet.png"
    result = runner.invoke(app, ["preview", "--out", str(out), "--avatars", "1", "--glasses-share", "2"])
    assert result.exit_code == 2 and "glasses_share must be a number from 0 to 1" in result.output
    assert not out.exists()


# ---------------------------------------------------------------- bad option values of any command, one line

@pytest.mark.parametrize("args, shown", [
    (["generate", "--clips", "2.5"], ["'--clips'", "'2.5'", "valid integer"]),
    (["generate", "--jitter", "some"], ["'--jitter'", "'some'", "valid number"]),
    (["preview", "--avatars", "many"], ["'--avatars'", "'many'", "valid integer"]),
    (["train", "--data", "d", "--epochs", "x"], ["'--epochs'", "'x'", "valid integer"]),
    (["train", "--data", "d", "--lr", "fast"], ["'--lr'", "'fast'", "valid number"]),
    (["train", "--data", "d", "--capture-method", "magic"],
     ["'--capture-method'", "'magic' is not one of 'hybrid', 'fit', 'cue', 'direct', 'hybrid-levels'"]),
    (["experiment", "--synthetic", "s", "--real", "r", "--folds", "two"], ["'--folds'", "'two'", "valid integer"]),
    (["evaluate", "run", "--data", "d", "--bootstrap", "1.5"], ["'--bootstrap'", "'1.5'", "valid integer"]),
    (["capture", "clip.mp4", "--fps", "fast"], ["'--fps'", "'fast'", "valid number"]),
    (["audit", "--synthetic", "s", "--source", "r", "--threshold", "near"], ["'--threshold'", "'near'", "valid number"]),
    (["train"], ["Missing option '--data'"]),
    (["generate", "--clip", "2"], ["No such option: --clip", "--clips"]),
    (["render"], ["No such command 'render'"]),
])
def test_a_bad_option_value_of_any_command_gets_one_line_naming_it(tmp_path, monkeypatch, args, shown):
    monkeypatch.chdir(tmp_path)  # relative names in args: nothing may appear here
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.strip().startswith("error: ") and all(text in result.output for text in shown), result.output
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["train", "experiment"])
def test_a_missing_dataset_path_gets_one_line_naming_it(tmp_path, command):
    nowhere = tmp_path / "nowhere"
    args = ["--data", str(nowhere)] if command == "train" else ["--synthetic", str(nowhere), "--real", str(nowhere)]
    result = runner.invoke(app, [command, *args, "--out", str(tmp_path / "out"), "--device", "cpu"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert f"{nowhere}: no such manifest" in result.output and not (tmp_path / "out").exists()


def test_the_capture_method_choices_are_captures_method_table():
    from painsynth.capture import CaptureSettings
    from painsynth.capture.retarget import METHODS
    from painsynth.cli import CAPTURE_METHODS
    from painsynth.train import DEFAULT_CAPTURE_METHOD, TrainConfig

    assert CAPTURE_METHODS == tuple(METHODS)
    assert CAPTURE_METHODS[0] == DEFAULT_CAPTURE_METHOD == CaptureSettings().method == TrainConfig().capture_method


# ---------------------------------------------------------------- capture at the command line

def test_capture_of_a_csv_missing_columns_names_them_and_logs_them(tmp_path):
    import json

    listing = tmp_path / "clips.csv"
    listing.write_text("file,label\na.mp4,1\n")
    out = tmp_path / "motions"
    result = runner.invoke(app, ["capture", str(listing), "--out", str(out)])
    assert result.exit_code == 1, result.output
    message = f"{listing}: CSV lacks column(s) path, subject (needs path,label,subject, has file,label)"
    assert f"failed: {message}" in result.output
    logged = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert [(entry["kind"], entry["error"]) for entry in logged] == [("error", message)]
    assert sorted(p.name for p in out.iterdir()) == ["errors.jsonl"]


def test_capture_into_an_unwritable_output_folder_gets_one_line(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("a file, not a folder")
    out = blocker / "motions"
    result = runner.invoke(app, ["capture", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert f"{out}: output folder is not writable" in result.output
    assert blocker.read_text() == "a file, not a folder"


# ---------------------------------------------------------------- native libraries' chatter

NATIVE_CHATTER = ("Logging before InitGoogle()", "Sets FaceBlendshapesGraph acceleration", "inference_feedback_manager",
                  "Created TensorFlow Lite XNNPACK delegate", "Warp CUDA warning")


def _painsynth(*args, cwd):
    """The installed command in a fresh process, so that what native code writes to fd 2 is seen."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "PAINSYNTH_VERBOSE"}
    command = [str(Path(sys.executable).with_name("painsynth")), *args]
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=1800)
    assert result.returncode == 0, result.stderr
    return result


def test_native_libraries_are_quiet_unless_verbose(tmp_path):
    """generate runs anny (warp), capture runs MediaPipe and, for its default method, anny; each in two
    worker processes, which start fresh."""
    made = _painsynth("generate", "--out", "syn", "--clips", "2", "--frames", "8", "--size", "128",
                      "--workers", "2", cwd=tmp_path)
    captured = _painsynth("capture", "syn/videos", "--out", "motions", "--workers", "2", cwd=tmp_path)
    assert len(list((tmp_path / "motions").glob("*.npz"))) == 2
    for result in (made, captured):
        assert not [line for line in NATIVE_CHATTER if line in result.stderr + result.stdout], result.stderr
    verbose = _painsynth("--verbose", "capture", "syn/videos", "--out", "motions-direct", "--method", "direct",
                         "--workers", "2", cwd=tmp_path)
    assert "Created TensorFlow Lite XNNPACK delegate for CPU" in verbose.stderr

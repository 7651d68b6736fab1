"""The HTML dataset report: sections, embedded images that decode, datasheet facts, bad inputs, a real browser."""

import base64
import dataclasses
import io
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from painsynth.cli import app
from painsynth.config import make_config
from painsynth.dataset import read_manifest, write_manifest
from painsynth.generate import generate
from painsynth.report import build_report
from painsynth.tracks import MotionTrack

runner = CliRunner()
SECTIONS = ("contact-sheet", "previews", "demographics", "pspi", "au-curves", "datasheet")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A tiny procedural dataset: 5 clips (one per level) x 2 views."""
    out = tmp_path_factory.mktemp("report") / "syn"
    summary = generate(make_config(out=out, clips=5, frames=12, size=64, views=["front", "left45"], workers=1, seed=7))
    assert summary.failed == 0 and summary.written == 10
    return out


@pytest.fixture(scope="module")
def captured(dataset, tmp_path_factory):
    """The same videos as if their motion had been captured: tracks without AU or PSPI, manifest rows without pspi_max."""
    out = tmp_path_factory.mktemp("report") / "captured"
    shutil.copytree(dataset, out)
    for path in (out / "tracks").glob("*.npz"):
        track = MotionTrack.load(path)
        dataclasses.replace(track, au=None, au_names=(), pspi=None, source="captured").save(path)
    rows = read_manifest(out).to_pylist()
    write_manifest([{**row, "source": "captured", "pspi_max": None} for row in rows], out / "manifest.parquet")
    (out / "report.html").unlink(missing_ok=True)
    return out


class Page(HTMLParser):
    """Parses the report and checks that every element is closed in order."""

    VOID = {"img", "meta", "br", "hr", "link", "input"}

    def __init__(self, text):
        super().__init__()
        self.sections, self.images, self.title, self._in_title, self.text = [], [], "", False, []
        self.open = []
        self.feed(text)
        self.close()
        assert self.open == [], f"unclosed elements {self.open}"

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        elif tag == "img":
            self.images.append(attrs["src"])
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        self.text.append(data)

    def section_text(self):
        return " ".join(" ".join(self.text).split())


def decode_images(page, folder):
    """Every <img>: a data URI or a file beside the report, decoded with PIL; returns (format, frames, size)."""
    decoded = []
    for src in page.images:
        match = re.fullmatch(r"data:(image/(png|gif));base64,([A-Za-z0-9+/=]+)", src)
        raw = base64.b64decode(match.group(3), validate=True) if match else (folder / src).read_bytes()
        with Image.open(io.BytesIO(raw)) as image:
            frames = getattr(image, "n_frames", 1)
            for index in range(frames):
                image.seek(index)
                image.load()
            decoded.append((image.format, frames, image.size))
    return decoded


def test_report_of_a_procedural_dataset(dataset, tmp_path):
    out = build_report(dataset, tmp_path / "report.html")
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    assert page.title.startswith("painsynth dataset report")
    assert all(section in page.sections for section in SECTIONS)
    images = decode_images(page, out.parent)
    formats = [f for f, _, _ in images]
    # 5 avatars x 2 views contact sheet, 5 GIFs (one per level), demographics, PSPI and AU plots
    assert formats.count("GIF") == 5 and all(frames > 1 for f, frames, _ in images if f == "GIF")
    assert formats.count("PNG") == 10 + 3
    assert all(max(size) <= 1600 and min(size) > 0 for _, _, size in images)
    words = page.section_text()
    meta = json.loads((dataset / "dataset.json").read_text())
    assert "10 clips" in words
    datasheet = words[words.index("Datasheet"):]
    assert f"seed {meta['seed']}" in datasheet and "created " + meta["created"] in datasheet
    for package, version in meta["versions"].items():
        assert f"version: {package} {version}" in datasheet
    for must in ("Must not be used for", "Clinical diagnosis", "Identifying people", "real demographic groups",
                 "Procedural motion", "anny"):
        assert must in datasheet
    assert "no per-frame AU labels" not in words
    assert not list(tmp_path.glob("*.partial-*"))


def test_captured_motion_degrades_gracefully(captured, tmp_path):
    out = build_report(captured, tmp_path / "r.html")
    page = Page(out.read_text(encoding="utf-8"))
    assert all(section in page.sections for section in SECTIONS)
    words = page.section_text()
    assert "5 motion tracks (captured motion) have no per-frame AU labels" in words
    assert "10 clips carry no PSPI" in words and "Captured motion" in words
    images = decode_images(page, out.parent)
    # no AU plot; contact sheet (middle frame), GIFs, demographics and the label plot remain
    assert [f for f, _, _ in images].count("PNG") == 10 + 2


def test_broken_videos_are_reported_and_the_rest_still_shown(dataset, tmp_path):
    copy = tmp_path / "broken"
    shutil.copytree(dataset, copy)
    broken = sorted((copy / "videos").rglob("*__front.mp4"))[2:4]
    broken[0].write_bytes(broken[0].read_bytes()[:3000])  # truncated
    broken[1].write_bytes(b"garbage")
    out = build_report(copy, tmp_path / "r.html")
    page = Page(out.read_text(encoding="utf-8"))
    words = page.section_text()
    assert words.count("unreadable video") == 2  # two contact sheet cells
    for path in broken:
        assert f"{path.relative_to(copy).as_posix()}: video unreadable" in words
    images = decode_images(page, out.parent)
    # the previews of those levels fall back to another view of the same level
    assert [f for f, _, _ in images].count("GIF") == 5 and [f for f, _, _ in images].count("PNG") == 8 + 3


def test_unlabelled_clips_get_their_own_preview_beside_every_pain_level(dataset, tmp_path):
    copy = tmp_path / "unlabelled"
    shutil.copytree(dataset, copy)
    rows = read_manifest(copy).to_pylist()
    extra = {**rows[0], "clip_id": rows[0]["clip_id"] + "-unlabelled", "label": -1}  # motion without a pain level
    write_manifest([*rows, extra], copy / "manifest.parquet")
    out = build_report(copy, tmp_path / "r.html")
    page = Page(out.read_text(encoding="utf-8"))
    words = page.section_text()
    assert [f for f, _, _ in decode_images(page, out.parent)].count("GIF") == 6  # levels 0-4 and unlabelled
    assert "unlabelled (level -1)" in words and "PA4 (level 4)" in words


def test_importing_the_report_and_the_avatar_tables_loads_no_torch():
    code = ("import sys, painsynth.report, painsynth.avatars.tables; "
            "print(sorted(m for m in ('torch', 'anny', 'painsynth.avatars.bank') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_experiment_and_audit_folders_are_included(dataset, tmp_path):
    audit = tmp_path / "audit"
    (audit / "plots").mkdir(parents=True)
    (audit / "summary.md").write_text("# Audit\n\n| measure | value |\n|---|---|\n| top-1 re-id | 0.031 |\n")
    Image.fromarray(np.full((20, 30, 3), 200, np.uint8)).save(audit / "plots" / "hist.png")
    experiment = tmp_path / "exp"
    experiment.mkdir()
    (experiment / "table.md").write_text("- **AUC** `0.81`\n")
    result = runner.invoke(app, ["report", str(dataset), "--out", str(tmp_path / "r.html"),
                                 "--audit", str(audit), "--experiment", str(experiment)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    page = Page(text)
    assert "audit" in page.sections and "experiment" in page.sections
    assert "<td>top-1 re-id</td><td>0.031</td>" in text and "<b>AUC</b> <code>0.81</code>" in text
    assert (30, 20) in [size for _, _, size in decode_images(page, tmp_path)]


def test_default_output_is_inside_the_dataset(captured):
    result = runner.invoke(app, ["report", str(captured)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"report: {captured / 'report.html'}"
    assert (captured / "report.html").stat().st_size > 0


@pytest.mark.parametrize("case, message", [
    ("missing", "dataset folder does not exist"),
    ("no-manifest", "no such manifest"),
    ("unwritable", "cannot write the report"),
    ("bad-audit", "audit folder does not exist"),
    ("out-is-folder", "is a folder"),
])
def test_bad_input_gets_one_line_and_writes_nothing(dataset, tmp_path, case, message):
    target, out, extra = dataset, tmp_path / "r.html", []
    if case == "missing":
        target = tmp_path / "nope"
    elif case == "no-manifest":
        target = tmp_path / "empty"
        target.mkdir()
    elif case == "unwritable":
        blocker = tmp_path / "file"
        blocker.write_text("not a folder")
        out = blocker / "r.html"
    elif case == "out-is-folder":
        out = tmp_path / "folder"
        out.mkdir()
    else:
        extra = ["--audit", str(tmp_path / "no-audit")]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = runner.invoke(app, ["report", str(target), "--out", str(out), *extra])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)")
def test_report_loads_in_headless_chromium(dataset, tmp_path):
    out = build_report(dataset, tmp_path / "report.html")
    n_images = len(Page(out.read_text(encoding="utf-8")).images)
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=5000", "--dump-dom", out.resolve().as_uri()],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    body = re.search(r"<body[^>]*>", result.stdout).group(0)
    # set by the report's own script on window load: every image decoded (naturalWidth > 0), no error events
    assert f'data-images="{n_images}/{n_images}"' in body and 'data-errors="0"' in body
    assert 'data-ready="yes"' in body
    assert "painsynth dataset report" in result.stdout
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console

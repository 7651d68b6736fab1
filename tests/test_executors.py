"""generate, capture and experiment on a real local Ray cluster (loopback): same output as the local pool, a
killed worker costs nothing, bad addresses and a missing Ray are one line."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from painsynth.capture import CaptureSettings, capture
from painsynth.config import make_config
from painsynth.dataset import read_manifest
from painsynth.executors import connect_ray
from painsynth.experiment import ExperimentConfig, run_experiment
from painsynth.generate import generate
from painsynth.tracks import MotionTrack

SMALL = dict(clips=4, frames=12, views=["front"], size=64, seed=5)
PAINSYNTH = str(Path(sys.executable).with_name("painsynth"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """A private one-node Ray cluster on this machine (loopback, as many CPUs as it has); stopped afterwards."""
    import ray

    connect_ray("local")
    yield "local"
    ray.shutdown()


def _clips(folder):
    return {row["clip_id"]: row["sha256"] for row in read_manifest(folder).to_pylist()}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    summary = generate(make_config(out=out, workers=1, **SMALL))
    assert summary.written == 4
    return out


def test_generate_on_ray_equals_the_local_pool(cluster, local_run, tmp_path):
    summary = generate(make_config(out=tmp_path / "ray", ray=cluster, **SMALL))
    assert (summary.written, summary.failed) == (4, 0), summary.errors
    assert _clips(tmp_path / "ray") == _clips(local_run)  # byte-identical videos


def test_a_killed_ray_worker_costs_nothing(cluster, local_run, tmp_path):
    killed = []

    def kill_one_busy_worker():
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            found = subprocess.run(["pgrep", "-f", "ray::render_unit"], capture_output=True, text=True).stdout.split()
            if found:
                os.kill(int(found[0]), signal.SIGKILL)
                killed.append(found[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_busy_worker)
    killer.start()
    summary = generate(make_config(out=tmp_path / "ray", ray=cluster, **SMALL))
    killer.join()
    assert killed, "no Ray worker was seen rendering"
    assert (summary.written, summary.failed) == (4, 0), summary.errors  # its unit ran again elsewhere
    assert _clips(tmp_path / "ray") == _clips(local_run)


def test_capture_on_ray_equals_the_local_run(cluster, local_run, tmp_path):
    settings = CaptureSettings(method="direct", neutral="clip")
    here = capture(local_run / "videos", tmp_path / "here", settings=settings)
    there = capture(local_run / "videos", tmp_path / "there", settings=settings, ray=cluster)
    assert here.tracked == there.tracked == 4 and not there.errors
    for track in (tmp_path / "here").glob("*.npz"):
        a, b = MotionTrack.load(track), MotionTrack.load(tmp_path / "there" / track.name)
        np.testing.assert_array_equal(a.blendshapes, b.blendshapes)


def test_experiment_on_ray_equals_the_local_run(cluster, tmp_path):
    from test_experiment import fake_dataset, fast, two_per_subject  # the experiment tests' tiny datasets

    subjects = [f"r{i}" for i in range(6)]
    real = fake_dataset(tmp_path / "real", *two_per_subject(subjects), "real")
    groups, labels = two_per_subject(subjects + ["perf-0", "perf-1"])
    syn = fake_dataset(tmp_path / "syn", groups, labels, "captured", seed=1)
    config = ExperimentConfig(synthetic=syn, real=real, budgets="0,2", folds=2, seeds=1, train=fast())
    here = run_experiment(config, tmp_path / "here", workers=1)
    there = run_experiment(config, tmp_path / "there", ray=cluster)
    assert there.cells_run == here.cells_run == 6 and not there.cell_errors
    assert (tmp_path / "there" / "results.csv").read_text() == (tmp_path / "here" / "results.csv").read_text()


def test_an_address_that_does_not_answer_is_one_line_and_writes_nothing(tmp_path):
    port = _free_port()  # nothing listens there; a fresh process (this one has joined the test cluster)
    commands = (["generate", "--clips", "1", "--frames", "8", "--size", "32"], ["capture", str(tmp_path)],
                ["experiment", "--synthetic", str(tmp_path), "--real", str(tmp_path)])
    for command in commands:
        result = subprocess.run([PAINSYNTH, *command, "--out", str(tmp_path / "x"),
                                 "--ray", f"ray://127.0.0.1:{port}"], capture_output=True, text=True, timeout=300)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert f"--ray ray://127.0.0.1:{port}: nothing answers there" in result.stderr
        assert not (tmp_path / "x").exists()


def test_without_ray_installed_the_message_says_how_to_get_it():
    code = ("import sys; sys.modules['ray'] = None\n"
            "from painsynth.executors import ExecutorError, connect_ray\n"
            "try:\n    connect_ray('auto')\nexcept ExecutorError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.strip() == "--ray needs Ray: pip install 'painsynth[ray]'"

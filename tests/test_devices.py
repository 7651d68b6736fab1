"""Where torch work runs: device names, and the torch path of animation and rendering on a device.

The machine running CI has no GPU, so the CUDA path is exercised here through the same code on
``cpu``: tensors handed from the identity to the renderer stay on the device until upload."""

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from painsynth.avatars import sample_avatars
from painsynth.avatars.build import build_avatar
from painsynth.cli import app
from painsynth.config import ConfigError, make_config
from painsynth.devices import DeviceError, check_device_name, resolve_device
from painsynth.render import create_renderer, frame_head, make_background, sample_lighting

SIZE = 96
NO_CUDA = not torch.cuda.is_available()


def test_device_names():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="unknown device 'gpu0'; use auto, cpu or cuda"):
        resolve_device("gpu0")
    with pytest.raises(DeviceError, match="unsupported device 'meta'"):
        resolve_device("meta")
    check_device_name("cuda:1")  # a name a Ray worker may have, whatever this machine has


@pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA, so the refusal of --device cuda where CUDA is missing cannot be shown here")
def test_cuda_without_cuda_is_refused_unless_a_ray_cluster_runs_the_work(tmp_path):
    with pytest.raises(DeviceError, match="device 'cuda' asked for but CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(ConfigError, match="device 'cuda' asked for but CUDA is not available"):
        make_config(out=tmp_path / "x", device="cuda")
    assert make_config(out=tmp_path / "x", device="cuda", ray="auto").device == "cuda"
    result = CliRunner().invoke(app, ["generate", "--clips", "1", "--frames", "8", "--size", "32",
                                      "--device", "cuda", "--out", str(tmp_path / "y")])
    assert result.exit_code == 2 and "device 'cuda' asked for but CUDA is not available" in result.output
    assert not (tmp_path / "y").exists()


def test_animation_on_a_device_gives_the_same_vertices(rig):
    identity = rig.identity({"gender": 0.3})
    rng = np.random.default_rng(0)
    units = rng.uniform(0, 0.8, (6, 52)).astype(np.float32)
    rotation = rng.normal(0, 0.1, (6, 3)).astype(np.float32)
    still = np.zeros((6, 3), np.float32)
    expected = identity.animate(units, rotation, still)
    moved = identity.to("cpu").animate_tensor(units, rotation, still)
    assert isinstance(moved, torch.Tensor) and moved.device == identity.device
    np.testing.assert_array_equal(moved.numpy(), expected)


def test_a_renderer_on_a_device_draws_the_same_pixels_from_tensors(rig):
    spec = next(s for s in sample_avatars(12, 3) if s.hair_family not in ("bald", "buzz"))  # layers to pose
    avatar = build_avatar(spec, rig)
    identity = avatar.identity
    rng = np.random.default_rng(1)
    units = rng.uniform(0, 0.6, (9, 52)).astype(np.float32)  # more frames than a batch: two batches
    pose = (rng.normal(0, 0.1, (9, 3)).astype(np.float32), np.zeros((9, 3), np.float32))
    cameras = [frame_head(identity.mesh.head_box, view) for view in ("front", "left45")]
    lighting = sample_lighting(rng)
    backgrounds = [make_background("noise", (SIZE, SIZE), rng) for _ in cameras]
    frames = {}
    for device, vertices in (("numpy", identity.animate(units, *pose)),
                             ("cpu", identity.to("cpu").animate_tensor(units, *pose))):
        renderer = create_renderer(SIZE, **({"device": device} if device != "numpy" else {}))
        renderer.load_avatar(avatar)
        frames[device] = np.stack([np.stack(views) for views in renderer.render_clip(vertices, cameras, lighting,
                                                                                     backgrounds)])
        renderer.release()
    assert frames["cpu"].shape == (9, 2, SIZE, SIZE, 3)
    np.testing.assert_array_equal(frames["cpu"], frames["numpy"])

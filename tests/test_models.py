import pytest
import torch

from painsynth import models
from painsynth.models import UnknownModelError
from painsynth.train import N_FEATURES


def test_registry_lists_and_creates_au_tcn():
    assert "au-tcn" in models.list_models()
    net = models.create("au-tcn", in_features=N_FEATURES, num_classes=5)
    assert net.num_classes == 5 and net.in_features == N_FEATURES


def test_unknown_model_is_one_clear_error():
    with pytest.raises(UnknownModelError, match="unknown model 'resnet-9000'; available: .*au-tcn"):
        models.create("resnet-9000")


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="already registered"):
        models.register_model("au-tcn")(lambda **kw: torch.nn.Linear(1, 1))


def _inputs(name: str, batch: int, classes: int):
    net = models.create(name, in_features=N_FEATURES, num_classes=classes)
    assert net.input_kind == "features"
    return net, torch.randn(batch, 24, N_FEATURES), torch.randint(0, classes, (batch,))


@pytest.mark.parametrize("name", models.list_models())
@pytest.mark.parametrize("classes", [2, 5])
def test_every_model_runs_forward_and_one_training_step(name, classes):
    torch.manual_seed(0)
    net, x, y = _inputs(name, 6, classes)
    logits = net(x)
    assert logits.shape == (6, classes) and torch.isfinite(logits).all()
    before = [p.detach().clone() for p in net.parameters()]
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-2)
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    optimiser.step()
    changed = [not torch.equal(b, p) for b, p in zip(before, net.parameters())]
    assert all(changed), "every parameter receives a gradient"
    net.eval()
    assert net(x[:1]).shape == (1, classes)  # a batch of one works in eval


@pytest.mark.parametrize("name", models.list_models())
def test_models_learn_a_separable_toy_problem(name):
    torch.manual_seed(0)
    net, x, _ = _inputs(name, 32, 2)
    y = torch.arange(32) % 2
    x[y == 1, :, 24] += 2.0  # jawOpen higher in class 1
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-2)
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

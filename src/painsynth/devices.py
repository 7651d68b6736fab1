"""Where torch work runs: the ``--device auto|cpu|cuda[:N]`` of every command that has one."""

from __future__ import annotations

import torch

DEVICE_CHOICES = "auto, cpu or cuda[:N]"


class DeviceError(ValueError):
    """A device that is not known, or not on this machine."""


def check_device_name(device: str) -> None:
    """DeviceError unless ``device`` names a device painsynth can use somewhere (not necessarily here:
    a Ray cluster's workers may have the GPU its driver lacks)."""
    if device == "auto":
        return
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError):
        raise DeviceError(f"unknown device {device!r}; use {DEVICE_CHOICES}") from None
    if kind not in ("cpu", "cuda"):
        raise DeviceError(f"unsupported device {device!r}; use {DEVICE_CHOICES}")


def resolve_device(device: str) -> torch.device:
    """``auto`` (CUDA when there is one, else CPU), ``cpu`` or ``cuda[:N]`` as a torch device of this machine."""
    check_device_name(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"device {device!r} asked for but CUDA is not available")
    return resolved

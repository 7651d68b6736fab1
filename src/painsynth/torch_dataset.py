"""A dataset folder as a PyTorch Dataset (``PainVideoDataset``): the clips and their labels and PSPI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from painsynth.dataset import read_manifest
from painsynth.tracks import MotionTrack
from painsynth.video import read_frames

SAMPLINGS = ("uniform", "all")


class PainVideoDataset(Dataset):
    """The clips of a dataset folder as training samples.

    Each sample is a dict:
      - ``video``: uint8 tensor [T, C=3, H, W] (torchvision's video layout), after ``transform``;
      - ``label``: int64 tensor, the pain level 0-4 (-1: unlabelled motion, which training leaves out);
      - ``pspi``: float32 tensor [T], the motion track's PSPI at the sampled frames (NaN where the
        clip has no track or its track no PSPI, e.g. captured or real clips);
      - ``clip_id`` and ``split_group``: str.

    ``sampling="uniform"`` takes ``frames`` evenly spaced frames from first to last (every frame when
    ``frames`` is None; frames repeat when a clip is shorter); ``sampling="all"`` takes every frame.
    Batching clips of different lengths needs a fixed ``frames``.
    ``transform`` maps the video tensor; ``filter`` keeps the manifest rows (dicts) it returns True for.
    The object holds no open files, so DataLoader workers can copy it.
    """

    def __init__(self, root: str | Path, frames: int | None = None, sampling: str = "uniform",
                 transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 filter: Callable[[dict], bool] | None = None) -> None:
        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
        if sampling == "all" and frames is not None:
            raise ValueError("sampling='all' takes every frame; leave frames unset")
        if frames is not None and frames < 1:
            raise ValueError(f"frames must be at least 1, got {frames}")
        self.root = Path(root)
        self.frames = frames
        self.transform = transform
        self.rows = [row for row in read_manifest(self.root).to_pylist() if filter is None or filter(row)]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict:
        row = self.rows[index]
        frame_indices = self.frame_indices(row["n_frames"])
        video = torch.from_numpy(read_frames(self.root / row["path"], frame_indices))
        video = video.permute(0, 3, 1, 2).contiguous()
        if self.transform is not None:
            video = self.transform(video)
        return {
            "video": video,
            "label": torch.tensor(row["label"], dtype=torch.int64),
            "pspi": torch.from_numpy(self._pspi_at(row, frame_indices)),
            "clip_id": row["clip_id"],
            "split_group": row["split_group"],
        }

    def frame_indices(self, n_frames: int) -> np.ndarray:
        if self.frames is None:
            return np.arange(n_frames)
        return np.linspace(0, n_frames - 1, self.frames).round().astype(np.int64)

    def _pspi_at(self, row: dict, frame_indices: np.ndarray) -> np.ndarray:
        """The track's PSPI at the video's frames, matched by time since track and video fps may differ."""
        track = MotionTrack.load(self.root / row["track"]) if row["track"] else None
        if track is None or track.pspi is None:
            return np.full(len(frame_indices), np.nan, dtype=np.float32)
        track_positions = frame_indices / row["fps"] * track.fps
        return np.interp(track_positions, np.arange(track.n_frames), track.pspi).astype(np.float32)

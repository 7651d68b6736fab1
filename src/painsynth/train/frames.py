"""Frame inputs of a clip: its decoded frames (kept in memory while they fit) and cached frame embeddings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from painsynth.fileio import atomic_path
from painsynth.train.errors import TrainError
from painsynth.video import VideoError, probe_video, read_frames, read_video

FRAME_CACHE_BYTES = 2 << 30  # decoded clips (frames kind) kept in memory per loaded dataset, at most


class FrameCache:
    """Decoded clips (uint8 [T, S, S, 3]) kept in memory up to ``budget`` bytes; nothing is evicted
    (training visits clips in random order). Pickles empty, so worker processes fill their own."""

    def __init__(self, budget: int = FRAME_CACHE_BYTES):
        self.budget, self.used, self.clips = budget, 0, {}

    def __reduce__(self):
        return FrameCache, (self.budget,)

    def get(self, key) -> np.ndarray | None:
        return self.clips.get(key)

    def has_room(self, nbytes: int) -> bool:
        return self.used + nbytes <= self.budget

    def put(self, key, frames: np.ndarray) -> np.ndarray:
        if key not in self.clips and self.has_room(frames.nbytes):
            self.clips[key] = frames
            self.used += frames.nbytes
        return frames


def resize_frames(frames: np.ndarray, size: int, chunk: int = 32) -> np.ndarray:
    """uint8 RGB frames [T, H, W, 3] -> [T, size, size, 3] (antialiased bilinear; unchanged at that size)."""
    if frames.shape[1:3] == (size, size):
        return frames
    out = np.empty((len(frames), size, size, 3), np.uint8)
    for start in range(0, len(frames), chunk):
        x = torch.from_numpy(np.ascontiguousarray(frames[start:start + chunk])).permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        out[start:start + chunk] = x.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return out


class FrameClip:
    """One clip's video frames, decoded on access: ``len(clip)`` frames, and ``clip[index]`` (an index
    array, as :func:`~painsynth.train.inputs.sample_frames` uses) gives float32 [n, 3, size, size] RGB in
    [0, 1]. The whole clip is decoded into ``cache`` while it has room, else only the frames asked for are
    decoded each time."""

    def __init__(self, path: str | Path, n_frames: int, size: int, key: str = "", cache: FrameCache | None = None):
        self.path, self.n_frames, self.size, self.cache = Path(path), int(n_frames), int(size), cache
        self.key = (str(self.path), key, self.size)

    def __len__(self) -> int:
        return self.n_frames

    @property
    def nbytes(self) -> int:
        return self.n_frames * self.size * self.size * 3

    def load(self) -> None:
        """Check the video now: decode it into the cache if there is room, else read its frame count."""
        if self.cache is not None and self.cache.has_room(self.nbytes):
            self._decoded()
        else:
            self.n_frames = int(probe_video(self.path)["n_frames"])

    def _decoded(self) -> np.ndarray:
        frames = self.cache.get(self.key) if self.cache is not None else None
        if frames is None:
            frames = resize_frames(read_video(self.path)[0], self.size)
            self.n_frames = len(frames)
            if self.cache is not None:
                self.cache.put(self.key, frames)
        return frames

    def __getitem__(self, index) -> np.ndarray:
        index = np.asarray(index, dtype=np.int64).reshape(-1)
        try:
            if self.cache is not None and (self.cache.get(self.key) is not None or self.cache.has_room(self.nbytes)):
                picked = self._decoded()[index]
            else:
                picked = resize_frames(read_frames(self.path, index), self.size)
        except VideoError as exc:
            raise TrainError(str(exc)) from None
        return picked.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255)


def cached_embeddings(path: Path, tag: str, encode: Callable[[], np.ndarray]) -> np.ndarray:
    """One clip's per-frame embeddings [T, D]: read from ``path`` (``.npz``) when they were made under
    ``tag`` (the clip's sha256 and the encoder's embedding key), else ``encode()``'s, written there atomically."""
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["key"]) == tag:
                    return data["embeddings"].astype(np.float32)
        except (OSError, KeyError, ValueError, EOFError):
            pass  # unreadable: made again below
    embeddings = np.asarray(encode(), dtype=np.float32)
    with atomic_path(path) as tmp:
        np.savez(tmp, embeddings=embeddings, key=np.array(tag))
    return embeddings

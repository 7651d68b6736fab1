"""Frames of the report: a clip's frame of peak pain, animated GIF previews, downscaling, PNG data URIs."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from painsynth.report.data import LoadedDataset, add_note, track_of
from painsynth.report.markup import data_uri
from painsynth.video import VideoError, read_frames, read_video

MAX_GIF = 128  # pixels, animated previews
MAX_GIF_FRAMES = 48


def peak_frame(data: LoadedDataset, row: dict) -> tuple[np.ndarray | None, int]:
    n = int(row["n_frames"])
    track = track_of(data, row)
    if track is not None and track.pspi is not None and len(track.pspi) and float(np.max(track.pspi)) > 0:
        index = int(np.argmax(track.pspi))
    else:
        index = n // 2
    index = min(max(index, 0), max(n - 1, 0))
    try:
        return read_frames(data.folder / row["path"], [index])[0], index
    except (VideoError, OSError, ValueError, IndexError) as exc:
        add_note(data, f"{row['path']}: video unreadable ({exc})")
        return None, index


def preview_gif(data: LoadedDataset, row: dict) -> bytes | None:
    fps = row.get("fps") or 25.0
    try:
        frames, _ = read_video(data.folder / row["path"])
    except (VideoError, OSError, ValueError) as exc:
        add_note(data, f"{row['path']}: video unreadable ({exc})")
        return None
    step = max(1, math.ceil(len(frames) / MAX_GIF_FRAMES))
    images = [fit(f, MAX_GIF) for f in frames[::step]]
    pil = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE, colors=128) for f in images]
    buffer = io.BytesIO()
    pil[0].save(buffer, format="GIF", save_all=True, append_images=pil[1:], loop=0,
                duration=max(20, int(round(1000.0 * step / (fps or 25.0)))), disposal=1)
    return buffer.getvalue()


def fit(frame: np.ndarray, limit: int) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = limit / max(h, w)
    if scale >= 1:
        return frame
    return np.asarray(Image.fromarray(frame).resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS))


def png_uri(frame: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG", optimize=True)
    return data_uri(buffer.getvalue(), "image/png")

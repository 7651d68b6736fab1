"""Dataset folders as model inputs: each labelled clip of a manifest becomes what the model consumes.

- ``features`` (``au-tcn``): captured features [T, 65], see :mod:`painsynth.train.features`.
- ``embeddings`` (``frame-temporal`` with its frozen encoder): every clip is decoded once and encoded
  to frame embeddings [T, D], cached under ``<dataset>/features/<embedding key>/<clip_id>.npz`` (keyed
  by the video's sha256, the encoder weights and the image size).
- ``frames`` (``r2plus1d-18``, ``frame-temporal`` with ``freeze_encoder=False``): a :class:`FrameClip`
  per clip that decodes its video on access at the model's ``image_size``.

The features and embeddings caches are keyed by the sha256 of the video as it is on disk
(:func:`current_sha256`), not by the manifest's record of it, so a video replaced under an unchanged
manifest is featurised again.

Every kind is a per-clip sequence indexed by frame, so sampling, batching and the training loop are the
same. Clips without a pain level (label -1: motion a user filmed without pain levels) are left out:
:func:`check_datasets` says how many, and refuses when no labelled clip is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from painsynth.dataset import N_LEVELS, ManifestError, manifest_rows
from painsynth.fileio import sha256_of
from painsynth.train.errors import ClipSkipped, TrainError
from painsynth.train.features import CapturedFeatures, cache_path
from painsynth.train.frames import FrameCache, FrameClip, cached_embeddings
from painsynth.train.inputs import EMBEDDINGS, FEATURES, FRAMES, InputSpec, create_model, input_spec
from painsynth.train.tasks import check_classes, has_pain_level
from painsynth.video import VideoError, read_video


class ClipFeatures(NamedTuple):
    features: list  # per clip: [T, F] float32 arrays (features, embeddings) or FrameClip (frames)
    labels: np.ndarray  # [N] pain level 0-4
    split_groups: list[str]
    clip_ids: list[str]
    input: InputSpec = InputSpec()  # what the clips are (a model of another input refuses them)


def clips_at(data: ClipFeatures, index: Sequence[int]) -> ClipFeatures:
    """The clips of ``data`` at ``index``, in that order."""
    return ClipFeatures([data.features[i] for i in index], data.labels[list(index)] if len(index) else
                        np.zeros(0, np.int64), [data.split_groups[i] for i in index], [data.clip_ids[i] for i in index],
                        data.input)


def dataset_rows(dataset_dir: str | Path, spec: InputSpec | None = None) -> list[dict]:
    """The manifest rows of a dataset folder; TrainError when it is missing or has no clips, or when
    clips have neither a video file nor (features, embeddings) a cached file of ``spec``'s kind."""
    spec = spec or InputSpec()
    try:
        rows = manifest_rows(dataset_dir)
    except ManifestError as exc:
        raise TrainError(str(exc)) from None
    missing = [row["path"] for row in rows if not (Path(dataset_dir) / row["path"]).is_file()
               and (spec.kind == FRAMES or not cache_path(Path(dataset_dir), row["clip_id"], spec).is_file())]
    if missing:
        raise TrainError(f"{dataset_dir}: {len(missing)} of {len(rows)} clips in the manifest have no video file "
                         f"(first: {missing[0]})")
    return rows


def labelled(rows: list[dict]) -> list[dict]:
    """The rows whose label is a pain level 0-4."""
    keep = has_pain_level([row["label"] for row in rows])
    return [row for row, k in zip(rows, keep) if k]


def _left_out_line(folder: str | Path, rows: list[dict], kept: list[dict]) -> str:
    found = sorted({int(row["label"]) for row in rows} - {int(row["label"]) for row in kept})
    return (f"{folder}: left out {len(rows) - len(kept)} of {len(rows)} clips without a pain level "
            f"0-{N_LEVELS - 1} (label {', '.join(map(str, found))}; -1 marks unlabelled motion)")


def _nothing_labelled(folders: Sequence[str | Path]) -> TrainError:
    return TrainError(f"{', '.join(str(f) for f in folders)}: no clip has a pain level 0-{N_LEVELS - 1} (all are "
                      f"unlabelled motion, label -1); training and evaluation need labelled clips")


def check_datasets(dataset_dirs: Sequence[str | Path], task: str | None = None,
                   spec: InputSpec | None = None) -> list[str]:
    """Fail fast, before any featurising: every folder has a readable manifest with clips whose videos
    exist (or, for ``spec``'s kind, cached inputs), some clips have a pain level and, given ``task``,
    those hold at least two of its classes. Returns one line per folder whose unlabelled clips are left out."""
    if not dataset_dirs:
        raise TrainError("no dataset given (--data DIR)")
    notes, levels = [], []
    for folder in dataset_dirs:
        rows = dataset_rows(folder, spec)
        kept = labelled(rows)
        if len(kept) < len(rows):
            notes.append(_left_out_line(folder, rows, kept))
        levels += [row["label"] for row in kept]
    if not levels:
        raise _nothing_labelled(dataset_dirs)
    if task is not None:
        check_classes(np.array(levels), task)
    return notes


def current_sha256(root: Path, row: dict) -> str:
    """The sha256 of a clip's video as it is now (hashed once per file version and process); the manifest's
    record when the video is absent (a dataset may carry cached inputs without its videos). ClipSkipped
    when the video cannot be read."""
    video = root / row["path"]
    try:
        return sha256_of(video) if video.is_file() else str(row["sha256"])
    except OSError as exc:
        raise ClipSkipped(f"{video}: {exc.strerror or exc}") from None


def clip_features(dataset_dir: str | Path, on_progress: Callable[[int, int], None] | None = None,
                  errors: list[str] | None = None, capture_model: str | Path | None = None,
                  model: str = "au-tcn", model_kwargs: dict | None = None,
                  frame_cache: FrameCache | None = None, capture_method: str | None = None) -> ClipFeatures:
    """Per-clip inputs of a dataset folder's labelled clips for ``model`` (built with ``model_kwargs``; see
    :func:`~painsynth.train.inputs.input_spec`): features captured by ``capture_method``, frozen-encoder
    embeddings (both from their caches when they match) or lazily decoded frames (:class:`FrameClip`).

    A clip whose face is not found often enough (or whose video is unreadable) is left out and its
    message appended to ``errors``; TrainError when the folder has no usable clips.
    """
    root = Path(dataset_dir)
    spec = input_spec(model, model_kwargs, capture_method)
    rows = labelled(dataset_rows(root, spec))
    if not rows:
        raise _nothing_labelled([root])
    if spec.kind == FEATURES:
        each = CapturedFeatures(root, spec.capture_method, capture_model).each
    elif spec.kind == EMBEDDINGS:
        each = _one_by_one(_embeddings_loader(root, spec, model, model_kwargs or {}))
    else:
        cache = frame_cache if frame_cache is not None else FrameCache()
        each = _one_by_one(_frames_loader(root, spec, cache))
    return _collect(root, rows, spec, each, on_progress, errors)


def _one_by_one(load: Callable[[dict], object]) -> Callable[[Sequence[dict]], Iterator[tuple[int, object]]]:
    """A per-row loader as a loader of many rows in this process: (position, input or its ClipSkipped)."""
    def each(rows: Sequence[dict]) -> Iterator[tuple[int, object]]:
        for position, row in enumerate(rows):
            try:
                yield position, load(row)
            except ClipSkipped as exc:
                yield position, exc

    return each


def _embeddings_loader(root: Path, spec: InputSpec, model: str, model_kwargs: dict) -> Callable[[dict], np.ndarray]:
    encoder = None

    def encode(path: Path) -> np.ndarray:
        nonlocal encoder
        if encoder is None:  # built for the first clip not in the cache (weights loaded once), in eval mode
            encoder = create_model(model, **{**model_kwargs, "num_classes": 2}).eval()
        return encoder.encode_frames(read_video(path)[0]).numpy()

    def load(row: dict) -> np.ndarray:
        path = root / row["path"]
        try:
            clip = cached_embeddings(cache_path(root, row["clip_id"], spec), f"{row['sha256']}|{spec.encoder}",
                                     lambda: encode(path))
        except (VideoError, OSError) as exc:
            raise ClipSkipped(str(exc)) from None
        if clip.ndim != 2 or not len(clip):
            raise ClipSkipped(f"{path}: no frames encoded")
        return clip

    return load


def _frames_loader(root: Path, spec: InputSpec, cache: FrameCache) -> Callable[[dict], FrameClip]:
    def load(row: dict) -> FrameClip:
        clip = FrameClip(root / row["path"], row["n_frames"], spec.image_size, row["sha256"], cache)
        try:
            clip.load()
        except (VideoError, OSError) as exc:
            raise ClipSkipped(str(exc)) from None
        return clip

    return load


def _collect(root: Path, rows: list[dict], spec: InputSpec,
             each: Callable[[Sequence[dict]], Iterator[tuple[int, object]]],
             on_progress: Callable[[int, int], None] | None, errors: list[str] | None) -> ClipFeatures:
    """Every row's input by ``each`` (rows in, (position, input or ClipSkipped) out, in any order), kept in
    the rows' order; a row that raised ClipSkipped is left out (its message in ``errors``); TrainError when
    none is left."""
    loaded: dict[int, object] = {}
    readable = []
    for position, row in enumerate(rows):
        try:
            readable.append((position, {**row, "sha256": current_sha256(root, row)}))
        except ClipSkipped as exc:
            loaded[position] = exc
    if on_progress:
        on_progress(len(loaded), len(rows))
    for index, result in each([row for _, row in readable]):
        loaded[readable[index][0]] = result
        if on_progress:
            on_progress(len(loaded), len(rows))
    out = ClipFeatures([], [], [], [], spec)
    labels = []
    for position, row in enumerate(rows):
        clip = loaded[position]
        if isinstance(clip, ClipSkipped):
            if errors is not None:
                errors.append(str(clip))
            continue
        out.features.append(clip)
        labels.append(int(row["label"]))
        out.split_groups.append(str(row["split_group"]))
        out.clip_ids.append(str(row["clip_id"]))
    if not out.features:
        verb = {FEATURES: "featurised", EMBEDDINGS: "encoded", FRAMES: "decoded"}[spec.kind]
        raise TrainError(f"{root}: none of its {len(rows)} labelled clips could be {verb}")
    return out._replace(labels=np.array(labels, dtype=np.int64))


def load_datasets(dataset_dirs: Sequence[str | Path], on_progress: Callable[[int, int], None] | None = None,
                  errors: list[str] | None = None, model: str = "au-tcn", model_kwargs: dict | None = None,
                  capture_method: str | None = None) -> ClipFeatures:
    """clip_features of several folders for ``model`` (features by ``capture_method``), concatenated
    (progress over all their labelled clips)."""
    if not dataset_dirs:
        raise TrainError("no dataset given (--data DIR)")
    spec = input_spec(model, model_kwargs, capture_method)
    # a bad folder fails before featurising any
    totals = [len(labelled(dataset_rows(d, spec))) for d in dataset_dirs]
    merged = ClipFeatures([], [], [], [], spec)
    frame_cache = FrameCache()
    labels = []
    for i, folder in enumerate(dataset_dirs):
        if not totals[i]:
            continue  # wholly unlabelled: check_datasets has said so
        offset = sum(totals[:i])
        report = (lambda done, _total, offset=offset: on_progress(offset + done, sum(totals))) if on_progress else None
        part = clip_features(folder, report, errors, model=model, model_kwargs=model_kwargs, frame_cache=frame_cache,
                             capture_method=capture_method)
        merged.features.extend(part.features)
        labels.extend(part.labels.tolist())
        merged.split_groups.extend(part.split_groups)
        merged.clip_ids.extend(part.clip_ids)
    if not merged.features:
        raise _nothing_labelled(dataset_dirs)
    return merged._replace(labels=np.array(labels, dtype=np.int64))

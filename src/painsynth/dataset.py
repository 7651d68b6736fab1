"""Dataset folders (docs/design.md, "Files between stages"): the Parquet manifest (and, in
:mod:`painsynth.torch_dataset`, a PyTorch Dataset over it, also importable from here).

A dataset folder holds ``videos/…/*.mp4``, the motion tracks under ``tracks/`` and
``manifest.parquet`` with one row per clip; paths in the manifest are relative to the folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from painsynth.fileio import atomic_path

MANIFEST_NAME = "manifest.parquet"
DATASET_JSON = "dataset.json"  # how the folder was made (generate: seed, settings, versions)
SOURCES = ("captured", "procedural", "real")
N_LEVELS = 5  # pain levels 0-4 (BioVid BL1, PA1..PA4)
UNLABELLED = -1  # motion replayed without a pain level (captured from unlabelled videos)
# A clip whose motion mixes several people (generate --motion-privacy mix) names them all in its
# split_group, the leading one first: "S1+S4+S7".
GROUP_JOIN = "+"


def group_members(split_group: str) -> list[str]:
    """The people whose motion a clip carries (one, or several for mixed motion), the leading one first."""
    return str(split_group).split(GROUP_JOIN)

# Nullable columns are the ones a real (non-synthetic) clip may not have: no avatar, no camera rig,
# no seed, no motion track, no PSPI.
MANIFEST_COLUMNS = pa.schema([
    pa.field("track", pa.string()),  # motion track .npz the clip was animated from
    pa.field("clip_id", pa.string(), nullable=False),
    pa.field("path", pa.string(), nullable=False),  # the mp4
    pa.field("split_group", pa.string(), nullable=False),  # whose motion it carries; one fold per group
    pa.field("source", pa.string(), nullable=False),  # captured | procedural | real
    pa.field("label", pa.int8(), nullable=False),  # pain level 0-4, or -1: unlabelled motion
    pa.field("pspi_max", pa.float32()),
    pa.field("avatar_id", pa.string()),
    pa.field("gender", pa.string()),
    pa.field("age", pa.float32()),  # years
    pa.field("african", pa.float32()),  # ethnicity mix weights
    pa.field("asian", pa.float32()),
    pa.field("caucasian", pa.float32()),
    pa.field("skin_tone", pa.int8()),  # Monk scale 1-10
    pa.field("hair_family", pa.string()),  # avatars.tables.HAIR_FAMILIES
    pa.field("garment", pa.string()),  # avatars.tables.GARMENTS
    pa.field("glasses", pa.string()),  # frame style, or "none"
    pa.field("view", pa.string()),
    pa.field("yaw", pa.float32()),  # camera, degrees
    pa.field("pitch", pa.float32()),
    pa.field("fps", pa.float32(), nullable=False),
    pa.field("n_frames", pa.int32(), nullable=False),
    pa.field("width", pa.int32(), nullable=False),
    pa.field("height", pa.int32(), nullable=False),
    pa.field("seed", pa.int64()),
    pa.field("sha256", pa.string(), nullable=False),  # of the mp4
    pa.field("motion_id", pa.string()),  # the motion clip; all its avatars and views share it
    pa.field("background", pa.string()),  # solid | gradient | noise | image
])


class ManifestError(ValueError):
    """A manifest is missing or unreadable, or its rows do not fit MANIFEST_COLUMNS."""


def write_manifest(rows: list[dict], path: str | Path) -> Path:
    """Validate ``rows`` against MANIFEST_COLUMNS and write them as Parquet, atomically, sorted by clip_id."""
    path = Path(path)
    for row in rows:
        _check_columns(row, path)
    # str(): a clip_id of the wrong type should fail the type check below, not the sort
    rows = sorted(rows, key=lambda row: str(row["clip_id"]))
    table = pa.table([_column(field, rows, path) for field in MANIFEST_COLUMNS], schema=MANIFEST_COLUMNS)
    _check_values(table.to_pylist(), path)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def write_manifest_batches(batches: Iterable[list[dict]], path: str | Path) -> int:
    """Like :func:`write_manifest` for rows that arrive in batches, one Parquet row group each, so a
    manifest of any size is written in the memory of one batch (rows sorted by clip_id within a batch,
    batches in the order given); the number of rows written. Nothing is written for no rows."""
    path = Path(path)
    seen: set[str] = set()
    written = 0
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, MANIFEST_COLUMNS) as writer:
            for batch in batches:
                for row in batch:
                    _check_columns(row, path)
                rows = sorted(batch, key=lambda row: str(row["clip_id"]))
                table = pa.table([_column(field, rows, path) for field in MANIFEST_COLUMNS], schema=MANIFEST_COLUMNS)
                _check_values(table.to_pylist(), path)
                repeated = seen.intersection(row["clip_id"] for row in rows)
                if repeated:
                    raise ManifestError(f"{path}: duplicate clip_id {sorted(repeated)[:5]}")
                seen.update(row["clip_id"] for row in rows)
                writer.write_table(table)
                written += len(rows)
        if not written:
            raise ManifestError(f"{path}: no rows to write")
    return written


def read_manifest(path_or_folder: str | Path) -> pa.Table:
    """Read a manifest (the file, or the dataset folder holding ``manifest.parquet``) as a pyarrow Table.

    Use ``.to_pylist()`` for a list of row dicts. Columns beyond MANIFEST_COLUMNS are kept.
    """
    path = Path(path_or_folder)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{path}: no such manifest")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ManifestError(f"{path}: not a readable Parquet manifest ({exc})") from None
    missing = [f.name for f in MANIFEST_COLUMNS if not f.nullable and f.name not in table.column_names]
    if missing:
        raise ManifestError(f"{path}: manifest lacks columns {missing}")
    for field in MANIFEST_COLUMNS:
        if field.name not in table.column_names:
            table = table.append_column(field.name, pa.nulls(len(table), field.type))
    wanted = pa.schema([MANIFEST_COLUMNS.field(name) if name in MANIFEST_COLUMNS.names else field
                        for name, field in zip(table.column_names, table.schema)])
    try:
        return table.cast(wanted)
    except (pa.ArrowException, ValueError) as exc:
        raise ManifestError(f"{path}: manifest columns have the wrong types ({exc})") from None


def manifest_rows(path_or_folder: str | Path) -> list[dict]:
    """The manifest's rows as dicts; ManifestError when it is missing, unreadable or lists no clips."""
    rows = read_manifest(path_or_folder).to_pylist()
    if not rows:
        raise ManifestError(f"{path_or_folder}: dataset has no clips (empty manifest)")
    return rows


def _check_columns(row: dict, path: Path) -> None:
    name = f"{path}: row {row.get('clip_id', '?')!r}"
    # A nullable column may be left out (a real clip has no avatar); a required one may not.
    missing = [f.name for f in MANIFEST_COLUMNS if not f.nullable and f.name not in row]
    unknown = sorted(set(row) - set(MANIFEST_COLUMNS.names))
    if missing or unknown:
        raise ManifestError(f"{name}: missing columns {missing}, unknown columns {unknown}")
    nulls = [f.name for f in MANIFEST_COLUMNS if not f.nullable and row[f.name] is None]
    if nulls:
        raise ManifestError(f"{name}: {nulls} must not be empty")


def _check_values(rows: list[dict], path: Path) -> None:
    """Check the values of rows already converted to the manifest's types."""
    clip_ids = [row["clip_id"] for row in rows]
    duplicates = sorted({c for c, after in zip(clip_ids, clip_ids[1:]) if c == after})  # rows are sorted
    if duplicates:
        raise ManifestError(f"{path}: duplicate clip_id {duplicates[:5]}")
    for row in rows:
        name = f"{path}: row {row['clip_id']!r}"
        if row["source"] not in SOURCES:
            raise ManifestError(f"{name}: source must be one of {SOURCES}, got {row['source']!r}")
        if not UNLABELLED <= row["label"] < N_LEVELS:
            raise ManifestError(f"{name}: label must be a pain level 0-{N_LEVELS - 1} or {UNLABELLED} "
                                f"(unlabelled motion), got {row['label']}")
        if row["skin_tone"] is not None and not 1 <= row["skin_tone"] <= 10:
            raise ManifestError(f"{name}: skin_tone must be on the Monk scale 1-10, got {row['skin_tone']}")


def _column(field: pa.Field, rows: list[dict], path: Path) -> pa.Array:
    values = [row.get(field.name) for row in rows]
    try:
        column = pa.array(values, type=field.type)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise ManifestError(f"{path}: column {field.name!r} does not fit {field.type} ({exc})") from None
    # pyarrow truncates floats into integer columns without a word
    fractions = [v for v in values if isinstance(v, (float, np.floating)) and not float(v).is_integer()]
    if pa.types.is_integer(field.type) and fractions:
        raise ManifestError(f"{path}: column {field.name!r} does not fit {field.type} (got {fractions[0]})")
    return column


def __getattr__(name: str):
    # The PyTorch view of a folder lives apart so that reading and writing manifests needs no torch
    # (report, dataset verify / merge, ingest start in a second instead of four).
    if name in ("PainVideoDataset", "SAMPLINGS"):
        from painsynth import torch_dataset

        return getattr(torch_dataset, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

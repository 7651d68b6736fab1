"""What the report says about rows and avatars: pain level names and colours, age bands, the dominant
ethnicity, numbers and counts as text."""

from __future__ import annotations

import math
from collections import Counter

from painsynth.tracks import LEVEL_NAMES

AGE_BANDS = ("<18", "18-30", "31-45", "46-60", "61+")
ETHNICITIES = ("african", "asian", "caucasian")


def describe_avatar(row: dict) -> str:
    parts = []
    if row.get("gender"):
        parts.append(str(row["gender"]))
    if row.get("age") is not None:
        parts.append(f"{row['age']:.0f} y")
    if row.get("skin_tone") is not None:
        parts.append(f"Monk {row['skin_tone']}")
    if dominant_ethnicity(row):
        parts.append(dominant_ethnicity(row))
    return ", ".join(parts)


def dominant_ethnicity(row: dict) -> str:
    weights = {e: row.get(e) for e in ETHNICITIES if row.get(e) is not None}
    return max(weights, key=weights.get) if weights else ""


def age_band(age: float) -> str:
    for upper, band in ((18, "<18"), (31, "18-30"), (46, "31-45"), (61, "46-60")):
        if age < upper:
            return band
    return "61+"


def level_name(level: int) -> str:
    if level == -1:
        return "unlabelled"  # motion replayed without a pain level
    return LEVEL_NAMES[level] if 0 <= level < len(LEVEL_NAMES) else str(level)


def level_colour(level: int) -> str:
    return ("#7aa6c2", "#f2c14e", "#f08a4b", "#d9534f", "#8e1b2e")[level] if 0 <= level <= 4 else "#999999"


def as_number(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(v) else v


def format_counts(counter: Counter, keep_order: bool = False) -> str:
    items = counter.items() if keep_order else sorted(counter.items(), key=lambda kv: str(kv[0]))
    return ", ".join(f"{k}: {v}" for k, v in items) or "-"

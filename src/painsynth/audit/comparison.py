"""The audit's measure: how close query clips are to their own group against every other group, as
verification shares, re-identification ranks against chance, and distance summaries; the same figures
for the privacy question and for the sanity checks, so they can be read side by side."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Comparison:
    """Own-group and other-group distances of a set of query clips, and where the own group ranks."""

    own: list[float] = field(default_factory=list)  # one per query clip
    other: list[float] = field(default_factory=list)  # one per (query clip, other group)
    ranks: list[int] = field(default_factory=list)  # 1 = own group is the nearest
    n_groups: int = 0
    skipped: int = 0  # query clips whose own group had no other clip (leave-one-out)

    def figures(self, threshold: float) -> dict:
        n = len(self.ranks)
        ranks = np.asarray(self.ranks)
        k5 = min(5, self.n_groups)
        return {
            "n_clips": n,
            "n_groups": self.n_groups,
            "clips_without_partner": self.skipped,
            "verification": {
                "threshold": threshold,
                "match_own": _share(np.asarray(self.own) < threshold),
                "match_other": _share(np.asarray(self.other) < threshold),
                "n_own_pairs": len(self.own),
                "n_other_pairs": len(self.other),
            },
            "reidentification": {
                "top1": _share(ranks <= 1) if n else None,
                "top5": _share(ranks <= 5) if n else None,
                "chance_top1": 1 / self.n_groups if self.n_groups else None,
                "chance_top5": k5 / self.n_groups if self.n_groups else None,
            },
            "distance_own": _summary(self.own),
            "distance_other": _summary(self.other),
        }


def _share(mask: np.ndarray) -> float | None:
    return float(mask.mean()) if mask.size else None


def _summary(values: list[float]) -> dict | None:
    if not values:
        return None
    v = np.asarray(values)
    return {"mean": float(v.mean()), "median": float(np.median(v)), "min": float(v.min()), "max": float(v.max())}


def compare(queries: list[tuple[str, np.ndarray]], gallery: dict[str, list[np.ndarray]],
            leave_one_out: bool = False) -> Comparison:
    """Compare query clips (own group, embedding) with the groups' mean embeddings.

    With ``leave_one_out`` the queries are gallery clips themselves: each is left out of its own
    group's mean (a query whose group has no other clip is skipped for lack of a partner).
    """
    names = sorted(gallery)
    sums = {g: np.sum(gallery[g], axis=0) for g in names}
    means = {g: sums[g] / len(gallery[g]) for g in names}
    result = Comparison(n_groups=len(names))
    for group, embedding in queries:
        centres = dict(means)
        if leave_one_out:
            count = len(gallery[group])
            if count < 2:
                result.skipped += 1
                continue
            centres[group] = (sums[group] - embedding) / (count - 1)
        distances = {g: float(np.linalg.norm(embedding - centres[g])) for g in names}
        own = distances[group]
        result.own.append(own)
        result.other.extend(d for g, d in distances.items() if g != group)
        result.ranks.append(1 + sum(d < own for g, d in distances.items() if g != group))
    return result

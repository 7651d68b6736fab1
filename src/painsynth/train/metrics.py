"""Classification metrics of predicted class probabilities, and their bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import torch


def classification_metrics(probs: np.ndarray | torch.Tensor, targets: np.ndarray | torch.Tensor,
                           num_classes: int) -> dict:
    """AUROC, F1, accuracy, balanced accuracy, macro precision/recall and the confusion matrix (torchmetrics).

    Binary: ``probs`` [N, 2] (or [N], the positive class); F1/precision/recall of class 1 for ``f1``,
    macro over both classes for ``precision_macro``/``recall_macro``. Multiclass: macro AUROC and F1,
    plain (micro) accuracy. Balanced accuracy and the multiclass AUROC are means over the classes present
    in ``targets`` (torchmetrics' macro AUROC counts an absent class as 0: 0.35 instead of 0.875 when two
    of five classes are present, as in a small test fold). AUROC is NaN when ``targets`` holds a single class.
    """
    from torchmetrics.functional import classification as tmf

    probs = torch.as_tensor(np.asarray(probs), dtype=torch.float32)
    targets = torch.as_tensor(np.asarray(targets), dtype=torch.int64)
    if probs.ndim == 1:
        probs = torch.stack([1 - probs, probs], dim=1)
    predictions = probs.argmax(dim=1)
    confusion = tmf.multiclass_confusion_matrix(predictions, targets, num_classes=num_classes)
    present = confusion.sum(dim=1) > 0
    recall = confusion.diag().float() / confusion.sum(dim=1).clamp_min(1)
    precision = confusion.diag().float() / confusion.sum(dim=0).clamp_min(1)
    single_class = int(present.sum()) < 2
    if num_classes == 2:
        auroc = float("nan") if single_class else float(tmf.binary_auroc(probs[:, 1], targets))
        f1 = float(tmf.binary_f1_score(predictions, targets))
    else:
        auroc = float("nan") if single_class else float(torch.stack(
            [tmf.binary_auroc(probs[:, c], (targets == c).long()) for c in present.nonzero().flatten().tolist()]).mean())
        f1 = float(tmf.multiclass_f1_score(predictions, targets, num_classes=num_classes, average="macro"))
    return {
        "auroc": auroc,
        "f1": f1,
        "accuracy": float((predictions == targets).float().mean()),
        "balanced_accuracy": float(recall[present].mean()),
        "precision_macro": float(precision.mean()),
        "recall_macro": float(recall.mean()),
        "confusion_matrix": confusion.tolist(),
    }


BOOTSTRAP_METRICS = ("auroc", "f1", "accuracy", "balanced_accuracy")


def bootstrap_ci(probs: np.ndarray, targets: np.ndarray, num_classes: int, resamples: int = 1000,
                 seed: int = 0, level: float = 0.95) -> dict[str, list[float]]:
    """Percentile bootstrap intervals (clips resampled with replacement) of the headline metrics.

    Resamples that hold a single class are drawn again (AUROC needs both); at most ``10 * resamples`` draws.
    """
    rng = np.random.default_rng(seed)
    probs, targets = np.asarray(probs), np.asarray(targets)
    values: dict[str, list[float]] = {k: [] for k in BOOTSTRAP_METRICS}
    for _ in range(10 * resamples):
        if len(values["auroc"]) >= resamples:
            break
        index = rng.integers(0, len(targets), len(targets))
        if len(np.unique(targets[index])) < 2:
            continue
        result = classification_metrics(probs[index], targets[index], num_classes)
        for key in BOOTSTRAP_METRICS:
            values[key].append(result[key])
    tail = (1 - level) / 2 * 100
    return {key: ([float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))] if v else [math.nan, math.nan])
            for key, v in values.items()}

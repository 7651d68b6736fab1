"""The attacker: a closed-set classifier that names which source subject a clip's motion comes from.

It knows the real participants: it is trained on motion features (:mod:`painsynth.privacy.features`) of
their real clips. The model is a multinomial logistic regression with an L2 penalty on features
standardised by the training clips (fitted with scipy's L-BFGS): with a few clips per subject and
hundreds of features, a strongly regularised linear model is what holds up. Its quality is measured
honestly by :func:`cross_validated_ranks`: each real clip is scored by a model that never saw it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

DEFAULT_PENALTY = 1.0  # L2 weight per training clip's mean loss; larger: simpler model
MAX_FOLDS = 5
STANDARD_CLIP = 8.0  # standardised values beyond this many stds are clipped: one odd clip must not dominate


@dataclass
class MotionAttacker:
    """Standardised multinomial logistic regression over subjects; :meth:`fit` before :meth:`scores`."""

    penalty: float = DEFAULT_PENALTY
    subjects: tuple[str, ...] = ()
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    weights: np.ndarray | None = None  # [D + 1, N]: the last row is the bias

    def fit(self, features: np.ndarray, subjects: list[str]) -> "MotionAttacker":
        features = np.asarray(features, dtype=np.float64)
        self.subjects = tuple(sorted(set(subjects)))
        if len(self.subjects) < 2:
            raise ValueError(f"the attacker needs at least 2 subjects, got {len(self.subjects)}")
        target = np.array([self.subjects.index(s) for s in subjects])
        self.mean = features.mean(0)
        std = features.std(0)
        self.scale = np.where(std > 1e-9, std, 1.0)  # a constant feature stays 0, not NaN
        design = self._design(features)
        onehot = np.eye(len(self.subjects))[target]
        start = np.zeros(design.shape[1] * len(self.subjects))
        fitted = minimize(_loss_and_gradient, start, args=(design, onehot, self.penalty), jac=True,
                          method="L-BFGS-B", options={"maxiter": 500})
        self.weights = fitted.x.reshape(design.shape[1], len(self.subjects))
        return self

    def _design(self, features: np.ndarray) -> np.ndarray:
        standard = np.clip((np.asarray(features, dtype=np.float64) - self.mean) / self.scale, -STANDARD_CLIP, STANDARD_CLIP)
        return np.hstack([standard, np.ones((len(standard), 1))])

    def scores(self, features: np.ndarray) -> np.ndarray:
        """[n, N] probability of each subject (columns in the order of ``subjects``)."""
        if self.weights is None:
            raise ValueError("the attacker is not fitted")
        return _softmax(self._design(features) @ self.weights)

    def ranks(self, features: np.ndarray, subjects: list[str]) -> np.ndarray:
        """Where each clip's own subject ranks among all (1: the attacker's first guess)."""
        return ranks_of(self.scores(features), [self.subjects.index(s) for s in subjects])


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(1, keepdims=True))
    return shifted / shifted.sum(1, keepdims=True)


def _loss_and_gradient(flat: np.ndarray, design: np.ndarray, onehot: np.ndarray, penalty: float):
    weights = flat.reshape(design.shape[1], onehot.shape[1])
    probabilities = _softmax(design @ weights)
    n = len(design)
    loss = -np.sum(onehot * np.log(probabilities + 1e-12)) / n
    unbiased = weights.copy()
    unbiased[-1] = 0.0  # the bias is not penalised
    loss += 0.5 * penalty * np.sum(unbiased ** 2) / n
    gradient = design.T @ (probabilities - onehot) / n + penalty * unbiased / n
    return loss, gradient.ravel()


def ranks_of(scores: np.ndarray, truth: list[int]) -> np.ndarray:
    """1 + the number of subjects scored above each clip's true one (ties count for the clip)."""
    scores = np.asarray(scores)
    own = scores[np.arange(len(scores)), truth]
    return 1 + (scores > own[:, None]).sum(1)


def subject_folds(subjects: list[str], seed: int = 0, max_folds: int = MAX_FOLDS) -> np.ndarray:
    """A fold index per clip, each subject's clips spread over the folds so that every training set
    keeps at least one clip of every subject (folds = the fewest clips any subject has, at most max_folds)."""
    counts = {s: subjects.count(s) for s in set(subjects)}
    n_folds = min(max_folds, min(counts.values()))
    if n_folds < 2:
        raise ValueError("every subject needs at least 2 clips for held-out testing")
    rng = np.random.default_rng(seed)
    folds = np.zeros(len(subjects), dtype=int)
    for subject in sorted(counts):
        members = np.flatnonzero(np.array(subjects) == subject)
        folds[rng.permutation(members)] = np.arange(len(members)) % n_folds
    return folds


def cross_validated_ranks(features: np.ndarray, subjects: list[str], seed: int = 0,
                          penalty: float = DEFAULT_PENALTY) -> np.ndarray:
    """The own subject's rank for every real clip, each scored by an attacker trained without it."""
    features = np.asarray(features)
    folds = subject_folds(subjects, seed)
    ranks = np.zeros(len(subjects), dtype=int)
    names = np.array(subjects)
    for fold in np.unique(folds):
        test = folds == fold
        attacker = MotionAttacker(penalty).fit(features[~test], list(names[~test]))
        ranks[test] = attacker.ranks(features[test], list(names[test]))
    return ranks

"""A person's neutral face from their neutral material: what each method subtracts before reading expression.

Two kinds of material:
- *dedicated*: clips or a photo of the person at rest (BioVid's baseline clips, a CSV's ``neutral``
  rows, ``--neutral PATH``): MediaPipe's scores are their median frame, the fit's residual and the
  cue's patch the mean of their calmest ``DEDICATED_SHARE`` (blinks and small moves left out);
- *pooled*: all of a person's clips, none known to be neutral: the least active ``POOLED_SHARE`` of
  all their frames (the rule a single clip's own neutral follows, over more material, so that an
  expression held through one clip is not taken for the person's face).
"""

from __future__ import annotations

import numpy as np

from painsynth.capture.retarget.base import Assets, Neutral, Observation
from painsynth.capture.retarget.cue import neutral_patches
from painsynth.capture.retarget.direct import neutral_scores
from painsynth.capture.retarget.fit import neutral_residual

DEDICATED_SHARE = 0.5
POOLED_SHARE = 0.2


def neutral_from(observations: list[Observation], assets: Assets, source: str, dedicated: bool) -> Neutral:
    """The neutral face read from the valid frames of ``observations`` (the parts ``assets`` allow).

    Raises ValueError when no frame of the material shows a face.
    """
    kept = [o for o in observations if np.any(o.valid)]
    if not kept:
        raise ValueError(f"{source}: no face found in the neutral material")
    share = DEDICATED_SHARE if dedicated else POOLED_SHARE
    scores = neutral_scores(np.concatenate([o.scores[o.valid] for o in kept]), None, dedicated=dedicated)
    residual = patches = None
    if assets.fitter is not None:
        pairs = [assets.fitter.residuals(o.landmarks[o.valid], o.image_size) for o in kept]
        residual = neutral_residual(assets.fitter, np.concatenate([r for r, _ in pairs]),
                                    np.concatenate([d for _, d in pairs]), share)
    if assets.cue_model is not None and all(o.patches is not None for o in kept):
        patches = neutral_patches(np.concatenate([o.patches[o.valid] for o in kept]), assets.cue_model, share)
    return Neutral(source, scores=scores.astype(np.float32), residual=residual, patches=patches)

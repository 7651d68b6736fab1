"""Image cue for the units MediaPipe's landmarks barely see on anny: cheekSquint (AU6) and noseSneer (AU9).

When anny raises its cheeks, MediaPipe's cheek landmarks hardly move, but the rendered skin does:
the shading under the eye darkens and the lower lid bulges. So, per frame, a small grey patch is
sampled around each eye in a frame fixed to the eye corners (:func:`painsynth.capture.patches.extract_patches`,
while tracking), covering the inner brow, the side of the nose bridge and the cheek; per clip, each
patch's change from the person's neutral patch (relative to its brightness) is mapped to that side's
unit weights by a ridge regression learned from anny renders with known units
(:func:`painsynth.capture.calibration.build_cue_model`, built once and cached). The two sides are
sampled as mirror images so one regressor serves both. The features are both the intensity change and
a local Lucas-Kanade shift per block (the skin slides up under the eye), which together read the cheek
raise better on held-out identities than either alone (r 0.88 against 0.83 for intensities, frontal).

The neutral patch comes from the person's neutral material (:func:`neutral_patches`) or, by default,
from the clip's own least active frames (two passes, as the fit's). Frames where the eyes are shut, by
MediaPipe's blink score (:func:`eyes_shut`) or by the regression's own reading of the lids (:func:`lids_shut`),
are read from the frames around them: the lid, not the cheek, changes the patch there.
On frames turned beyond ~35 degrees the near eye's reading stands for both sides
(:func:`within_training_views`; the hybrid then takes only cheekSquint from it).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_dilation, gaussian_filter

from painsynth.capture.patches import PATCH, eye_width_ratio
from painsynth.capture.timeline import fill_invalid, smooth_rows
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX

SIDES = ("Left", "Right")  # the subject's; patch k belongs to SIDES[k]
FLOW_BLOCK = 4  # samples per side of the blocks a local shift is estimated in
FLOW_BLUR = 0.7  # samples, Gaussian sigma before the features (MediaPipe's jitter, H.264 noise)
FLOW_LIMIT = 3.0  # samples: a larger local shift is an occlusion (a blink), not skin sliding
CUE_STEMS = ("cheekSquint", "noseSneer")  # predicted per side
# The regression also reads the lids, only to find shut eyes (see SHUT_BLINK): READ_STEMS are its outputs.
SHUT_STEM = "eyeBlink"
READ_STEMS = CUE_STEMS + (SHUT_STEM,)
# Frames whose eye widths in the image differ more than this (|patches.eye_width_ratio|) read the cue from
# the near eye's patch only, which then stands for both sides (the far patch reads nothing there, see
# calibration.NEAR_ONLY_VIEWS; pain's units are mostly bilateral); beyond MAX_EYE_RATIO (~60 degrees,
# never trained) the hybrid skips the cue.
BOTH_SIDES_EYE_RATIO = 0.5
MAX_EYE_RATIO = 1.0
NEUTRAL_SHARE = 0.2  # share of a clip's frames (the least active) taken as its neutral
SMOOTH_WINDOW = 5
# A shutting lid covers the eye's patch, and the regression read each blink as a cheek raise (single-unit
# clips of benchmarks/roundtrip.py: a blink alone read as AU6 0.13-0.45 of 5). So on frames where either
# eye is shut and SHUT_MARGIN frames either side, the cue is read from the frames around them instead
# (interpolated). Shut is either MediaPipe's eyeBlink, less the neutral's, or the patches' own lid reading
# (SHUT_STEM) above SHUT_BLINK (blinks are nearly always both eyes). MediaPipe alone missed the blinks
# of dark-skinned faces: on a Monk 9 face of the round trip's held-out set its blink score reached 0.19 at
# a full blink, which the cue read as a cheek raise of AU6 1.3 (of 5); the patches read that blink at 0.89.
# At 45 degrees both readings are weak on some faces, so there a blink can still leak through.
SHUT_BLINK = 0.3
SHUT_MARGIN = 1


def within_training_views(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """[T, 2] int: per frame and side (``SIDES``), the side whose cue reading stands for it: its own on
    frames turned up to ``BOTH_SIDES_EYE_RATIO``, the near (wider) eye's for both up to ``MAX_EYE_RATIO``,
    -1 (cue skipped) beyond, where the cue was not trained."""
    ratio = eye_width_ratio(landmarks, image_size)
    sources = np.tile(np.arange(len(SIDES)), (len(ratio), 1))
    turned = np.abs(ratio) > BOTH_SIDES_EYE_RATIO
    sources[turned] = np.where(ratio[turned] > 0, 0, 1)[:, None]
    sources[np.abs(ratio) > MAX_EYE_RATIO] = -1
    return sources


# ---------------------------------------------------------------- per clip

def _flow(patches: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """[T, 2, 2 * blocks]: per block of ``FLOW_BLOCK`` samples, the Lucas-Kanade shift (u, v; samples,
    clipped to +-FLOW_LIMIT) of each patch from the reference: unlike the intensity change, it does not
    scale with the skin's contrast and the lighting (the ridge on intensities alone read the cheek
    raise of dark-skinned identities weakly)."""
    def block(a):
        n = PATCH // FLOW_BLOCK
        return a.reshape(a.shape[:-2] + (n, FLOW_BLOCK, n, FLOW_BLOCK)).sum(axis=(-3, -1))

    gy, gx = np.gradient(reference, axis=(1, 2))
    change = patches - reference
    sxx, sxy, syy, sxt, syt = block(gx * gx), block(gx * gy), block(gy * gy), block(gx * change), block(gy * change)
    det = sxx * syy - sxy ** 2 + 1e-3 * (sxx + syy) ** 2 + 1e-6  # damped: flat blocks give ~0, not noise
    u = -(syy * sxt - sxy * syt) / det
    v = -(sxx * syt - sxy * sxt) / det
    shift = np.concatenate([u.reshape(len(patches), 2, -1), v.reshape(len(patches), 2, -1)], axis=2)
    return np.clip(shift, -FLOW_LIMIT, FLOW_LIMIT)


def blurred(patches: np.ndarray) -> np.ndarray:
    """Patches [T, 2, P, P] blurred by ``FLOW_BLUR`` (MediaPipe's jitter, H.264 noise): what features read."""
    return gaussian_filter(np.asarray(patches, np.float32), (0, 0, FLOW_BLUR, FLOW_BLUR))


def features(patches: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """[T, 2, F]: each blurred patch's (:func:`blurred`) local shift from the blurred neutral patch
    ``reference`` [2, P, P] (:func:`_flow`) and its intensity change, over the reference's brightness."""
    brightness = np.maximum(reference.mean(axis=(1, 2)), 1.0)[:, None, None]
    change = ((patches - reference) / brightness).reshape(len(patches), 2, -1)
    return np.concatenate([_flow(patches, reference), change], axis=2)


def _predict(features: np.ndarray, model: dict[str, np.ndarray]) -> np.ndarray:
    """[T, 2 sides, len(READ_STEMS)] raw regression output."""
    return features @ model["weights"]


def lids_shut(raw: np.ndarray) -> np.ndarray:
    """[T] bool: frames of the regression's output [T, 2, len(READ_STEMS)] where it reads either lid shut
    (``SHUT_BLINK``, widened by ``SHUT_MARGIN``)."""
    lids = smooth_rows(raw[:, :, READ_STEMS.index(SHUT_STEM)], SMOOTH_WINDOW).max(axis=1)
    return binary_dilation(lids > SHUT_BLINK, iterations=SHUT_MARGIN)


def neutral_patches(patches: np.ndarray, model: dict[str, np.ndarray], share: float = NEUTRAL_SHARE) -> np.ndarray:
    """The neutral face's blurred patch [2, P, P] from frames' patches [T, 2, P, P]: their median first,
    then (twice) the mean of the ``share`` frames the regression finds least active."""
    smooth = blurred(patches)
    reference = np.median(smooth, axis=0)
    count = max(1, int(np.ceil(share * len(smooth))))
    for _ in range(2):
        activity = np.clip(_predict(features(smooth, reference), model), 0, None).sum(axis=(1, 2))
        reference = smooth[np.argsort(activity, kind="stable")[:count]].mean(axis=0)
    return reference


def eyes_shut(blendshapes: np.ndarray) -> np.ndarray:
    """[T] bool: frames of weights [T, 52] (neutral-relative, as ``direct`` reads them) where the lids hide
    the eye patches (``SHUT_BLINK``, widened by ``SHUT_MARGIN``)."""
    blink = np.asarray(blendshapes)[:, [BLENDSHAPE_INDEX["eyeBlinkLeft"], BLENDSHAPE_INDEX["eyeBlinkRight"]]]
    shut = blink.max(axis=1) > SHUT_BLINK
    return binary_dilation(shut, iterations=SHUT_MARGIN)


def cue_retarget(patches: np.ndarray, valid: np.ndarray, model: dict[str, np.ndarray], smooth: bool = True,
                 neutral: np.ndarray | None = None, shut: np.ndarray | None = None) -> np.ndarray:
    """Weights [T, 52] in [0, 1] of the ``CUE_STEMS`` units (others 0) from a clip's patches [T, 2, P, P];
    ``neutral``: the person's blurred neutral patch [2, P, P] (default: from the clip's own valid frames);
    ``shut`` [T] bool (MediaPipe's reading, :func:`eyes_shut`): frames read from the frames around them, as
    are those where the patches show the lids shut (:func:`lids_shut`)."""
    valid = np.asarray(valid, bool)
    if neutral is None:
        neutral = neutral_patches(patches[valid] if valid.any() else patches, model)
    raw = _predict(features(blurred(patches), neutral), model)  # [T, 2, len(READ_STEMS)]
    hidden = lids_shut(raw)
    if shut is not None:
        hidden |= np.asarray(shut, bool)[:len(raw)]
    raw = fill_invalid(np.arange(len(raw)), raw, ~hidden)
    weights = np.zeros((len(raw), len(ARKIT_BLENDSHAPES)))
    for s, stem in enumerate(CUE_STEMS):
        for k, side in enumerate(SIDES):
            weights[:, BLENDSHAPE_INDEX[stem + side]] = raw[:, k, s]
    if smooth:
        weights = smooth_rows(weights, SMOOTH_WINDOW)
    return np.clip(weights, 0.0, 1.0).astype(np.float32)


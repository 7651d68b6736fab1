"""The capture's built assets: the only part of capture that renders anny heads; one module per asset.

Each ships with the package (``capture/assets/``, written by ``scripts/build_capture_assets.py``); each file's
name carries a hash of everything that shapes it, so a shipped file is used only while those settings stand.
Otherwise it is built once on the machine and cached under ``~/.cache/painsynth`` (`store.py`; `studio.py` and
`fitter.py` hold what the builders share). Each asset's module holds its settings; its ``*_VERSION`` is bumped
with every change of the avatars' look or of how MediaPipe is read (earlier reasons: ``git log -L`` on those
lines, and before this package was split out of one module, on ``capture/calibration.py``'s).

1. **Correspondence** (`correspondence.py`, :func:`build_correspondence`): anny's neutral face is rendered
   frontally for a few identities, the landmarker is run on each image, and every landmark is back-projected
   onto the mesh: the visible vertices (within a few millimetres of the front-most one) that project nearest
   to the landmark, weighted by inverse pixel distance. Votes of all identities are summed; each landmark
   keeps its ``NEIGHBOURS`` strongest vertices. The fit's template and basis sit there.
2. **Measurement model** (`measurement.py`, :func:`build_calibration`): what the landmarker reports is not
   anny's geometry. Ten anny identities (one per Monk skin tone, none of them the benchmark's) are rendered
   from the front and 30 degrees to each side, at neutral, with each of browDown and noseSneer (left, right)
   on alone at two strengths, and with the head turned a little in yaw and pitch; the landmarker's aligned
   displacement from each identity's neutral gives MediaPipe's own response to each unit (mean over identities
   and views), which replaces the geometric basis for those units, and the response to head turns, which the
   fit may use freely (nuisance columns) so that alignment errors under head motion are not read as
   expression. cheekSquint hardly moves MediaPipe's landmarks at all (its response is a few millimetres,
   inconsistent across identities), so it is left to the image cue.
3. **Image cue** (`image_cue.py`, :func:`build_cue_model`, ~3 min on 2 cores): identities of their own seed
   (none of the benchmark's), front, 30 and (near eye only, down-weighted) 45 degrees to each side, random
   sequences of single units, FACS bundles and distractors (eyeSquint, blinks, smiles, brows, jaw, gaze), with
   small head turns, encoded to H.264 and captured exactly as a video is; a ridge regression from the patch
   features to the units, and to the lids (eyeBlink), read only to find shut eyes.
4. **Population neutral** (`population.py`, :func:`build_population_neutral`): MediaPipe's scores and aligned
   landmark residual on neutral renders of many identities, the neutral face of nobody in particular, for a
   person with no neutral material of their own.
5. **Mirror map** (`mirror.py`, :func:`build_mirror_map`): which MediaPipe landmark each one becomes in a
   mirrored frame, so that a face found only in the mirrored frame can be mirrored back
   (:func:`painsynth.capture.mirror.unmirror`). A property of MediaPipe's mesh alone: found by matching the
   landmarks of frontal renders of symmetric faces with those of the same renders mirrored.
6. **Pain-unit levels** (`levels.py`, :func:`build_level_gains`): identities of their own seed, front and 30
   degrees to each side, each with a baseline clip (its neutral face), random single units, bundles and
   distractors, and procedural pain clips, captured by ``hybrid`` against the baseline; one gain per pain unit
   (least squares through the origin, both sides pooled) scales its reading to the truth.
"""

from __future__ import annotations

from painsynth.capture.blendshapes import READING_VERSION
from painsynth.capture.calibration.correspondence import (
    CORRESPONDENCE_VERSION,
    build_correspondence,
    correspondence,
    correspondence_path,
)
from painsynth.capture.calibration.fitter import default_fitter
from painsynth.capture.calibration.image_cue import (
    CUE_VERSION,
    NEAR_ONLY_VIEWS,
    build_cue_model,
    cue_model,
    cue_path,
    fit_cue,
    training_clips,
    training_motion,
)
from painsynth.capture.calibration.levels import build_level_gains, level_gains, level_path
from painsynth.capture.calibration.measurement import (
    CALIBRATION_VERSION,
    build_calibration,
    calibration,
    calibration_path,
    mirrored_field,
    supported_response,
    symmetric_response,
)
from painsynth.capture.calibration.mirror import build_mirror_map, mirror_path
from painsynth.capture.calibration.population import build_population_neutral, population_neutral, population_path
from painsynth.capture.calibration.store import PACKAGED, built
from painsynth.capture.landmarks import SETTLE_READS
from painsynth.capture.retarget import Assets, method
from painsynth.capture.retarget.direct import SMOOTH_WINDOW as DIRECT_SMOOTH_WINDOW
from painsynth.capture.retarget.fit import DEPTH_WEIGHT, FITTED_UNITS, RIDGE, SMOOTH_WINDOW
from painsynth.capture.retarget.gaze import NEAR_EYE_ONLY
from painsynth.capture.retarget.hybrid import CUE_RULES, FIT_UNITS, TURNED_CUE_UNITS


def retarget_assets(name: str) -> Assets:
    """What method ``name`` uses, built (or read from the cache) once per process."""
    chosen = method(name)
    return Assets(fitter=default_fitter() if chosen.uses_fit else None,
                  cue_model=cue_model() if chosen.uses_cue else None,
                  levels=level_gains() if chosen.uses_levels else None)


def retarget_key(name: str) -> str:
    """Names everything that shapes method ``name``'s output (the assets' versions and the rules), so
    caches of captured features can tell when a change here has made them stale."""
    chosen = method(name)
    parts = [name, f"settle{SETTLE_READS}", f"b{READING_VERSION}", f"ds{DIRECT_SMOOTH_WINDOW}",
             f"gaze{NEAR_EYE_ONLY}"]
    if chosen.uses_fit:
        parts += [f"c{CORRESPONDENCE_VERSION}-k{CALIBRATION_VERSION}-r{RIDGE}-d{DEPTH_WEIGHT}-s{SMOOTH_WINDOW}",
                  ".".join(FITTED_UNITS), ".".join(FIT_UNITS)]
    if chosen.uses_cue:
        parts += [f"i{CUE_VERSION}", "-".join(f"{unit}.{rule}" for unit, rule in CUE_RULES.items()),
                  "t" + ".".join(TURNED_CUE_UNITS)]
    if chosen.uses_levels:
        parts.append(level_path().stem.rsplit("_", 1)[-1])
    return "-".join(parts)



__all__ = [
    "PACKAGED", "build_calibration", "build_correspondence", "build_cue_model", "build_level_gains",
    "build_mirror_map", "build_population_neutral", "built", "calibration", "calibration_path", "correspondence",
    "correspondence_path", "cue_model", "cue_path", "default_fitter", "fit_cue", "level_gains", "level_path",
    "mirror_path", "mirrored_field", "NEAR_ONLY_VIEWS", "population_neutral", "population_path", "retarget_assets",
    "retarget_key", "supported_response", "symmetric_response", "training_clips", "training_motion",
]

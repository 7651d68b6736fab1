"""The fit's default :class:`LandmarkFitter`: the average anny with MediaPipe's measured response."""

from __future__ import annotations

import functools

from painsynth.capture.calibration.correspondence import correspondence
from painsynth.capture.calibration.measurement import calibration
from painsynth.capture.calibration.studio import average_identity
from painsynth.capture.retarget.fit import LandmarkFitter


@functools.lru_cache(maxsize=1)
def default_fitter() -> LandmarkFitter:
    """The fit's default: the average anny, with MediaPipe's measured response (:func:`calibration`)."""
    return LandmarkFitter(average_identity(), correspondence(), calibration=calibration())

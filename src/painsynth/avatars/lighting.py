"""How brightly the studio lights an avatar: set for the skin, as a camera operator sets the lights (or a
face-metering camera its exposure) for the person in front of it.

Under one light a Monk 10 face returns a fiftieth of the light a Monk 1 face does, and lit from the far
side it was nearly black: MediaPipe lost such faces at 45 degrees (in glasses, 3 of 16 dark clips of a
held-out bank found in 50-97 % of their frames) and read their expressions worse. So every light
(key, fill, ambient) is scaled by ``(TARGET_LUMINANCE / L) ** STRENGTH`` (at least 1, at most
MAX_GAIN), L being the linear luminance of the avatar's Monk swatch: Monk 1-5 1.0, 6 1.04, 7 1.4,
8 2.0, 9 2.8, 10 3.7. Half way (STRENGTH 0.5), so dark skin stays darker than light skin under the
same light; measured in docs/measurements.md ("Lights set for the skin").

The face's pale surfaces are as pale on every face, so under the raised lights they burnt out white in a
dark face. The eyeballs' colour gives back all of the gain (with half, a Monk 10 face's whites still burnt
out). What the avatar wears (hair, lashes, beard strands, garment, glasses, teeth) is lit at half the gain in
log (``WORN_SHARE``): at the whole gain white and grey hair and beards, white garments and the teeth on Monk
9-10 faces burnt out to flat white, their strands and folds gone, while the same hair on a light face showed
them; teeth lit without the gain looked grey. Hair painted into the skin texture (scalp, brows, beard,
stubble) and make-up are lit with the skin, so their colour gives back the rest (``painted_layer_factor``): under
a grey beard's strands the painted beard had stayed a white patch, and on Monk 9-10 lips a rose or red lipstick
glowed, brighter than on a light face.
"""

from __future__ import annotations

import numpy as np

from painsynth.avatars.colour import linear, luminance
from painsynth.avatars.tables import MONK_TONES

TARGET_LUMINANCE = 0.25  # linear; about Monk 6's swatch
STRENGTH = 0.5
MAX_GAIN = 4.0
WORN_SHARE = 0.5  # share of the gain, in log, on the lights that fall on what the avatar wears


def light_gain(monk_tone: int) -> float:
    """The factor on every light's intensity for a face of this Monk tone (1-10)."""
    swatch = float(luminance(linear(MONK_TONES[monk_tone - 1])))
    return float(np.clip((TARGET_LUMINANCE / swatch) ** STRENGTH, 1.0, MAX_GAIN))


def worn_light_gain(monk_tone: int) -> float:
    """The factor on every light's intensity for what a face of this Monk tone wears (hair, garment, glasses)."""
    return light_gain(monk_tone) ** WORN_SHARE


def painted_layer_factor(monk_tone: int) -> float:
    """The factor on the colour of what is painted into the skin but lies on it (hair, make-up), so that under
    the skin's lights it is lit as what the avatar wears."""
    return worn_light_gain(monk_tone) / light_gain(monk_tone)

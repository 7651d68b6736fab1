"""Privacy of motion: can a person be recognised from their facial motion alone, and how to make that harder.

- :mod:`painsynth.privacy.features`: one fixed-length vector of motion statistics per clip.
- :mod:`painsynth.privacy.attacker`: a closed-set classifier over source subjects, trained on their real clips.
- :mod:`painsynth.privacy.audit`: motion re-identification of real (held out) and synthetic clips against
  chance, with 95 % intervals, for ``painsynth audit --motion``.
- :mod:`painsynth.privacy.mitigate`: ``generate --motion-privacy`` methods (none, mix, normalise), pure
  functions over motion tracks.
"""

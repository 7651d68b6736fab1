"""`painsynth generate`: motion clips × avatars × views → H.264 videos, motion tracks and a manifest.

The work unit is one performance: one motion clip played by one avatar, rendered in every view.
Units are seeded from (seed, motion, avatar slot) alone, so the output does not depend on the
worker count or order. Each finished unit leaves a small JSON of its manifest rows under
`.rows/`; a re-run skips units whose rows and videos check out and redoes the rest.

The dataset folder and its record (:mod:`.output`), the motions played (:mod:`.motions`), the work units
(:mod:`.plan`), one unit rendered (:mod:`.performance`, the worker side) and the run itself (:mod:`.run`).
"""

from painsynth.config import ConfigError
from painsynth.generate.motions import find_motion_tracks, prepare_motions
from painsynth.generate.output import GenerateError, prepare_output
from painsynth.generate.performance import AVATARS_KEPT, render_performance, split_group_of
from painsynth.generate.plan import Performance, plan_performances
from painsynth.generate.run import RunSummary, generate

__all__ = ["AVATARS_KEPT", "ConfigError", "GenerateError", "Performance", "RunSummary", "find_motion_tracks",
           "generate", "plan_performances", "prepare_motions", "prepare_output", "render_performance",
           "split_group_of"]

"""Motion privacy methods for ``generate --motion-privacy``: pure functions from motion tracks to motion tracks.

Every method takes all the motions of a run (so it can look at the population) and a seed, and returns
one track per input, in order, with the same length, fps, label and subject (the subject whose motion
leads it). A changed track records ``motion_privacy`` (the method) and ``motion_sources`` (the subjects
whose motion it holds, the leading one first; ``generate`` writes them all into the clip's
``split_group``, e.g. ``S1+S4+S7``, so subject-disjoint folds keep every one of them out of their test fold) and drops captured landmarks: they are the person's face geometry and would no
longer match the motion. A new method is one function plus one entry in :data:`METHODS`.

- ``none``: the tracks as they are.
- ``mix``: each track spliced with the tracks of up to ``MIX_SUBJECTS - 1`` other subjects of the same
  label, in equal segments in random order joined by short cross-fades; no subject leads for more than
  1/k of the clip, and every frame is someone's real motion (blending frames would halve blinks).
- ``normalise``: each subject's per-unit amplitude (mean and spread of every blendshape and head-pose
  channel) mapped onto the population's, and their tempo (how often their face changes direction) onto
  the population's by resampling time (per-frame AU and PSPI labels move with their frames).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from painsynth.privacy.features import track_motion
from painsynth.tracks import ARKIT_BLENDSHAPES, MotionTrack

MIX_SUBJECTS = 3  # subjects per mixed clip
CROSSFADE_S = 0.2  # seconds over which one subject's segment hands over to the next
SCALE_BOUNDS = (0.25, 4.0)  # amplitude ratios beyond these would mostly amplify noise
TEMPO_BOUNDS = (0.67, 1.5)  # time-scale factors beyond these would look like slow motion or fast forward
N_BLENDSHAPES = len(ARKIT_BLENDSHAPES)


def _subject(track: MotionTrack, index: int) -> str:
    return track.subject or f"track-{index}"  # a track without a subject is a person of its own


def _marked(track: MotionTrack, method: str, sources: list[str]) -> MotionTrack:
    extra = {**track.extra, "motion_privacy": np.array(method), "motion_sources": np.array(sources)}
    return replace(track, landmarks=None, extra=extra)


def _from_motion(track: MotionTrack, motion: np.ndarray, **per_frame) -> MotionTrack:
    """``track`` with its blendshapes and head pose replaced by ``motion`` [T, 58] and other per-frame arrays."""
    return replace(track, blendshapes=np.clip(motion[:, :N_BLENDSHAPES], 0.0, 1.0),
                   head_rotation=motion[:, N_BLENDSHAPES:N_BLENDSHAPES + 3],
                   head_translation=motion[:, N_BLENDSHAPES + 3:N_BLENDSHAPES + 6], **per_frame)


def keep(tracks: list[MotionTrack], seed: int) -> list[MotionTrack]:
    """``none``: the motion as captured."""
    return list(tracks)


# ---------------------------------------------------------------------------------------------- mix


def _reflected_indices(length: int, n: int) -> np.ndarray:
    """n frame indices into a clip of ``length`` frames, played back and forth when it is shorter."""
    if length == 1:
        return np.zeros(n, dtype=int)
    period = 2 * (length - 1)
    position = np.arange(n) % period
    return np.where(position < length, position, period - position)


def _segment_weights(n: int, k: int, fade: int) -> np.ndarray:
    """[k, n] weights, one segment per piece, summing to 1 in every frame, with ``fade``-frame cross-fades."""
    t = np.arange(n, dtype=float)
    edges = np.linspace(0, n, k + 1)[1:-1]
    rising = [np.clip((t - e + fade / 2) / max(fade, 1), 0.0, 1.0) for e in edges]
    rising = [r * r * (3 - 2 * r) for r in rising]
    weights = []
    for j in range(k):
        starts = rising[j - 1] if j > 0 else np.ones(n)
        ends = 1.0 - rising[j] if j < k - 1 else np.ones(n)
        weights.append(starts * ends)
    return np.stack(weights)


def _splice(pieces: list[MotionTrack], n: int, fps: float) -> dict:
    """The per-frame arrays of ``pieces`` spliced into ``n`` frames (each piece's own frames, not stretched)."""
    weights = _segment_weights(n, len(pieces), int(round(CROSSFADE_S * fps)))
    frames = [_reflected_indices(p.n_frames, n) for p in pieces]
    motion = sum(w[:, None] * track_motion(p)[f] for w, p, f in zip(weights, pieces, frames))
    leader = weights.argmax(0)  # per frame, the piece that holds it (for validity)
    valid = np.choose(leader, [p.valid[f] for p, f in zip(pieces, frames)])
    spliced = {"motion": motion, "valid": valid}
    for name in ("au", "pspi"):
        if all(getattr(p, name) is not None for p in pieces):
            spliced[name] = sum((w[:, None] if getattr(p, name).ndim == 2 else w) * getattr(p, name)[f]
                                for w, p, f in zip(weights, pieces, frames))
    return spliced


def mix(tracks: list[MotionTrack], seed: int, subjects: int = MIX_SUBJECTS) -> list[MotionTrack]:
    """``mix``: each track spliced with the motion of other subjects of the same label (see the module)."""
    names = [_subject(t, i) for i, t in enumerate(tracks)]
    mixed = []
    for index, track in enumerate(tracks):
        rng = np.random.default_rng([seed, index])
        others = sorted({names[j] for j, t in enumerate(tracks) if t.label == track.label and names[j] != names[index]})
        chosen = list(rng.permutation(others)[:subjects - 1]) if others else []
        partners = [tracks[rng.choice([j for j in range(len(tracks)) if names[j] == s and tracks[j].label == track.label])]
                    for s in chosen]
        order = rng.permutation(len(partners) + 1)
        pieces = [([track] + partners)[i] for i in order]
        spliced = _splice(pieces, track.n_frames, track.fps)
        motion = spliced.pop("motion")
        mixed.append(_marked(_from_motion(track, motion, **spliced), "mix", [names[index], *chosen]))
    return mixed


# ---------------------------------------------------------------------------------------------- normalise


def _tempo(motion: np.ndarray, fps: float) -> float:
    """How often the face changes direction: crossings of its mean by the summed expression activity, per second."""
    activity = motion[:, :N_BLENDSHAPES].sum(1)
    above = activity > activity.mean()
    return float(np.count_nonzero(above[1:] != above[:-1])) * fps / len(activity)


def _resample(track: MotionTrack, rate: float) -> MotionTrack:
    """``track`` played at ``rate`` times its speed, the same number of frames (reflected at the end)."""
    n = track.n_frames
    position = np.arange(n) * rate
    period = 2 * (n - 1)
    position = np.mod(position, period)
    position = np.where(position <= n - 1, position, period - position)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, n - 1)
    share = position - low

    def at(values: np.ndarray | None) -> np.ndarray | None:
        if values is None:
            return None
        s = share.reshape(-1, *([1] * (values.ndim - 1)))
        return values[low] * (1 - s) + values[high] * s

    motion = at(track_motion(track))
    return _from_motion(track, motion, valid=track.valid[np.rint(position).astype(int)],
                        au=at(track.au), pspi=at(track.pspi))


def normalise(tracks: list[MotionTrack], seed: int) -> list[MotionTrack]:
    """``normalise``: every subject's amplitude and tempo mapped onto the population's (see the module)."""
    names = [_subject(t, i) for i, t in enumerate(tracks)]
    people = sorted(set(names))
    stats = {}
    for person in people:
        frames = np.concatenate([track_motion(t) for t, n in zip(tracks, names) if n == person])
        tempos = [_tempo(track_motion(t), t.fps) for t, n in zip(tracks, names) if n == person]
        stats[person] = (frames.mean(0), frames.std(0), float(np.mean(tempos)))
    centre = np.mean([s[0] for s in stats.values()], axis=0)
    spread = np.mean([s[1] for s in stats.values()], axis=0)
    tempo = float(np.exp(np.mean([np.log(max(s[2], 1e-3)) for s in stats.values()])))
    normalised = []
    for track, person in zip(tracks, names):
        own_centre, own_spread, own_tempo = stats[person]
        ratio = np.clip(np.where(own_spread > 1e-6, spread / np.maximum(own_spread, 1e-6), 1.0), *SCALE_BOUNDS)
        motion = centre + (track_motion(track) - own_centre) * ratio
        scaled = _from_motion(track, motion)
        rate = float(np.clip(tempo / max(own_tempo, 1e-3), *TEMPO_BOUNDS))
        normalised.append(_marked(_resample(scaled, rate), "normalise", [person]))
    return normalised


Method = Callable[[list[MotionTrack], int], list[MotionTrack]]
METHODS: dict[str, Method] = {"none": keep, "mix": mix, "normalise": normalise}


class UnknownMethodError(ValueError):
    """A motion privacy method that is not in METHODS."""


def method(name: str) -> Method:
    """The method called ``name``; UnknownMethodError naming the allowed ones."""
    if name not in METHODS:
        raise UnknownMethodError(f"motion_privacy {name!r} is not a method; allowed: {', '.join(METHODS)}")
    return METHODS[name]


def apply(name: str, tracks: list[MotionTrack], seed: int) -> list[MotionTrack]:
    """The tracks after method ``name``, checked to be one per input and of the same length."""
    changed = method(name)(tracks, seed)
    if len(changed) != len(tracks) or any(a.n_frames != b.n_frames for a, b in zip(changed, tracks)):
        raise RuntimeError(f"motion privacy method {name!r} must return one track of the same length per input")
    return changed

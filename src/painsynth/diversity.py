"""Are the avatars of a bank different people? Measured with a face recogniser, as a stranger would.

Every avatar is rendered neutral from the front (its reference), turned 30° to the left and at peak
pain from the front, in fixed, even light; dlib's face-recognition ResNet (the audit's embedder)
embeds each image. Pairs of avatars closer than dlib's 0.6 threshold count as "the same person";
an avatar stays one person when its turned and pained images are within ``SELF_LIMIT`` of its
reference. MediaPipe's face landmarker checks the face is still found at ±45° with hair, glasses
and garment on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from painsynth.animate import HeadRig
from painsynth.audit import Embedder
from painsynth.avatars.build import build_avatar
from painsynth.avatars.spec import AvatarSpec
from painsynth.avatars.tables import ADULT_AGE_BANDS, CHILD_AGE_BANDS
from painsynth.capture.landmarks import detect_images
from painsynth.preview import PEAK_PAIN_AUS, blendshapes_for
from painsynth.render import Lighting, create_renderer, frame_head, make_background

SAME_PERSON = 0.6  # dlib's own threshold
SELF_LIMIT = 0.45  # an avatar's other images must stay this close to its neutral front image
STATES = ("front", "left30", "pain")
DETECTION_VIEWS = ("left45", "right45")
EVEN_LIGHT = Lighting(key_direction=(0.35, -0.9, 0.35), key_color=(1.0, 0.97, 0.93),
                      fill_direction=(-0.6, -0.8, 0.1), fill_color=(0.35, 0.36, 0.38),
                      ambient_color=(0.22, 0.22, 0.24), key_kelvin=5600.0)


@dataclass
class DiversityResult:
    """Figures of one bank; ``None`` where too few faces were found to say."""

    avatars: int
    embedded: int  # avatars whose neutral front face dlib found
    same_person_share: float | None  # share of avatar pairs under SAME_PERSON
    median_distance: float | None
    pair_distances: np.ndarray  # [P] over pairs of embedded avatars
    self_distances: dict[str, list[float]]  # state -> distance to the own neutral front image
    groups: dict[str, dict[str, dict]] = field(default_factory=dict)  # variable -> group -> figures
    detection: dict[str, float] = field(default_factory=dict)  # view -> share of images MediaPipe found


def render_states(specs: Sequence[AvatarSpec], size: int = 256, detection: bool = True,
                  on_progress: Callable[[int, int], None] | None = None,
                  extra_views: Sequence[str] = ()) -> list[dict[str, np.ndarray]]:
    """Per avatar, uint8 RGB images [size, size, 3] of each of STATES, and of DETECTION_VIEWS (when
    ``detection``) and ``extra_views`` neutral and at peak pain (``<view>_neutral``, ``<view>_pain``)."""
    rig, renderer = HeadRig(), create_renderer(size, samples=4)
    faces = np.stack([np.zeros(52, np.float32), blendshapes_for(PEAK_PAIN_AUS)])
    still = np.zeros((2, 3), np.float32)
    views = ["front", "left30", *(DETECTION_VIEWS if detection else ()), *extra_views]
    background = make_background("solid", (size, size), np.random.default_rng(0))
    images = []
    try:
        for done, spec in enumerate(specs):
            avatar = build_avatar(spec, rig)
            renderer.load_avatar(avatar)
            cameras = [frame_head(avatar.identity.mesh.head_box, view) for view in views]
            neutral, pained = renderer.render_clip(avatar.animate(faces, still, still), cameras, EVEN_LIGHT,
                                                   [background] * len(views))
            shots = {"front": neutral[0], "left30": neutral[1], "pain": pained[0]}
            for k, view in enumerate(views[2:], start=2):
                shots[f"{view}_neutral"], shots[f"{view}_pain"] = neutral[k], pained[k]
            images.append(shots)
            if on_progress:
                on_progress(done + 1, len(specs))
    finally:
        renderer.release()
    return images


def measure(specs: Sequence[AvatarSpec], images: Sequence[dict[str, np.ndarray]], embedder=None,
            landmark_model=None) -> DiversityResult:
    """The bank's figures from its rendered ``images`` (as :func:`render_states` gives them)."""
    embedder = embedder or Embedder()
    embeddings = [{state: embedder.embed_frame(shots[state]) for state in STATES} for shots in images]
    found = [i for i, e in enumerate(embeddings) if e["front"] is not None]
    reference = np.array([embeddings[i]["front"] for i in found]).reshape(len(found), -1)
    distances = np.linalg.norm(reference[:, None] - reference[None], axis=2)
    upper = np.triu_indices(len(found), 1)
    pairs = distances[upper]
    self_distances = {state: [float(np.linalg.norm(embeddings[i][state] - embeddings[i]["front"]))
                              for i in found if embeddings[i][state] is not None] for state in STATES[1:]}
    result = DiversityResult(
        avatars=len(specs), embedded=len(found),
        same_person_share=float(np.mean(pairs < SAME_PERSON)) if len(pairs) else None,
        median_distance=float(np.median(pairs)) if len(pairs) else None,
        pair_distances=pairs, self_distances=self_distances,
    )
    result.groups = _by_group([specs[i] for i in found], distances)
    if images and f"{DETECTION_VIEWS[0]}_neutral" in images[0]:
        result.detection = _detection(images, landmark_model)
    return result


def group_of(spec: AvatarSpec) -> dict[str, str]:
    """The avatar's gender, age band (the bank's bands) and Monk tone."""
    bands = [(low, high) for low, high in (*CHILD_AGE_BANDS, *ADULT_AGE_BANDS) if low <= spec.age_years < high]
    band = f"{bands[0][0]}-{bands[0][1] - 1}" if bands else f"{spec.age_years:.0f}"
    return {"gender": spec.gender, "age band": band, "Monk tone": str(spec.monk_tone)}


def _by_group(specs: Sequence[AvatarSpec], distances: np.ndarray) -> dict[str, dict[str, dict]]:
    """Per variable and group, the same-person share over pairs within the group."""
    labels = [group_of(spec) for spec in specs]
    groups: dict[str, dict[str, dict]] = {}
    for variable in ("gender", "age band", "Monk tone"):
        for name in sorted({label[variable] for label in labels}, key=lambda g: (len(g), g)):
            members = np.array([i for i, label in enumerate(labels) if label[variable] == name])
            if len(members) < 2:
                continue
            inside = distances[np.ix_(members, members)][np.triu_indices(len(members), 1)]
            groups.setdefault(variable, {})[name] = {
                "avatars": int(len(members)), "same_person_share": float(np.mean(inside < SAME_PERSON)),
                "median_distance": float(np.median(inside)),
            }
    return groups


def _detection(images: Sequence[dict[str, np.ndarray]], model) -> dict[str, float]:
    shares = {}
    for view in DETECTION_VIEWS:
        shots = [shots[f"{view}_{state}"] for shots in images for state in ("neutral", "pain")]
        shares[view] = float(np.mean([found is not None for found in detect_images(shots, model)]))
    return shares

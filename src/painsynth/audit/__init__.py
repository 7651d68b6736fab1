"""Identity audit (docs/design.md, "audit"): do synthetic clips look like the people whose motion they carry?

Every clip gets one identity embedding: dlib's face-recognition ResNet (128-d) on ``frames`` frames
sampled evenly over the clip, each face found by dlib's HOG detector and aligned with its 5-point
predictor, the frames' embeddings averaged. The model files come from the ``face_recognition_models``
package (or a folder the user gives) and are checked by SHA-256 (docs/assets.md). dlib's standard
same-person threshold is a Euclidean distance below 0.6.

Subjects are the source dataset's ``split_group``; a subject's embedding is the mean of its clips'.
Three comparisons, each with the same figures:

- ``synthetic_vs_source``: each synthetic clip against the source subject its ``split_group`` names
  ("own") and against every other source subject ("other"). Privacy means the own share below the
  threshold is no higher than the other share, and re-identification is at chance.
- ``real_vs_real`` (sanity): each source clip against its own subject without that clip
  (leave-one-clip-out) and against the other subjects. Must be high: proves the embedder works here.
- ``synthetic_vs_synthetic`` (sanity): the same over synthetic clips grouped by ``avatar_id``.

Figures: verification (share of own / other distances below the threshold), re-identification
(top-1 and top-5 accuracy of the own group among all groups by nearest mean embedding, with chance
1/n and 5/n), and distance summaries. Written to ``audit.json``, ``audit.md`` and
``distances.png``. A clip without a face in any sampled frame, or that cannot be read, is recorded
with its reason and left out; the run goes on.

The model files and their check (:mod:`.model_files`, with :class:`AuditError`), the embedder
(:mod:`.embedder`), the comparisons and their figures (:mod:`.comparison`), the run from the dataset folders
to the result (:mod:`.run`) and the files written (:mod:`.output`).
"""

from painsynth.audit.embedder import Embedder
from painsynth.audit.model_files import MODEL_FILES, AuditError, model_paths, models_folder
from painsynth.audit.output import TITLES, percent
from painsynth.audit.run import THRESHOLD, run_audit

__all__ = ["MODEL_FILES", "THRESHOLD", "TITLES", "AuditError", "Embedder", "model_paths", "models_folder", "percent",
           "run_audit"]

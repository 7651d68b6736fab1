"""The paper's comparison: recognition against the number of real training subjects.

The real subjects (``split_group`` of the real dataset) are shuffled once (``split_seed``) and cut into
``folds`` subject-disjoint folds. For each fold, the test set is that fold's real clips; for each seed the
other folds' subjects are put in a seeded order and a budget of k real training subjects takes the first k
of it (so budgets are nested: the 5 subjects of k=5 are among the 10 of k=10). Three settings are trained
with :func:`painsynth.train.fit` (settings from the experiment's :class:`~painsynth.train.TrainConfig`, seeded
per cell) and scored with :func:`painsynth.train.evaluate` on the fold's test clips:

- ``real-only``: the k subjects' real clips (not run for k=0);
- ``synthetic-only``: every synthetic clip (independent of k: trained once per fold and seed, its result
  is repeated on each budget's row so that it plots as the reference line);
- ``synthetic+real``: both (at k=0 it is the synthetic-only model).

Every cell trains under the same rule, whatever its setting and budget: all ``train.epochs`` epochs on all
its training clips, no validation split, no early stopping, the last epoch kept. (``painsynth train`` holds
out validation subjects only when there are 5 or more; in an experiment that would give real-only cells of
1-4 subjects one rule and the others another.)

Synthetic clips whose ``split_group`` is one of the fold's test subjects (motion captured from that
subject) are never trained on, in any setting; each cell records its training groups so this can be
checked after the fact.

Outputs in ``out``: ``experiment.json`` (settings and folds; a re-run must match them), ``cells/<cell>.json``
(one per trained cell; a re-run skips cells that have one), ``runs/<cell>/`` (the training runs; an
interrupted one resumes from its ``last.pt``), ``results.csv``, ``results.md`` and ``results.png``.
Features are :func:`painsynth.train.clip_features` (captured by ``train.capture_method``), cached per clip and
method in each dataset folder. Clips without a pain level (label -1, unlabelled motion) are left out of both
datasets; the summary says how many.

The settings and what a re-run must share (:mod:`.config`), the folds, cells and each cell's clips
(:mod:`.cells`), training the cells and resuming an interrupted run (:mod:`.run`) and the results files
(:mod:`.results`).
"""

from painsynth.experiment.cells import Cell, cell_data, make_folds, plan, training_order
from painsynth.experiment.config import ALL, ExperimentConfig, ExperimentError, parse_budgets
from painsynth.experiment.run import run_experiment

__all__ = ["ALL", "Cell", "ExperimentConfig", "ExperimentError", "cell_data", "make_folds", "parse_budgets", "plan",
           "run_experiment", "training_order"]

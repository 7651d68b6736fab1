"""Train and evaluate pain recognition models on painsynth datasets: every registered model.

What a clip becomes follows the model's registry entry (:class:`painsynth.models.ModelSpec`): captured
features, cached frame embeddings or decoded frames (:mod:`~painsynth.train.datasets`); the checkpoint
records it, so evaluation prepares test clips the same way. One job per module:

- ``inputs``: what a model is fed (:class:`InputSpec`, from its registry entry) and frame sampling;
- ``features``: captured face features and their cache -- the only module that runs capture;
- ``frames``: decoded frames and cached frame embeddings;
- ``datasets``: dataset folders as per-clip inputs, leaving out clips without a pain level;
- ``tasks``: tasks (pain levels -> classes) and subject-disjoint validation splits;
- ``metrics``: classification metrics and bootstrap intervals;
- ``config``: a run's settings (:class:`TrainConfig`);
- ``checkpoints``: the run folder (plain-tensor checkpoints read with ``weights_only``, config.json, epochs.csv);
- ``loop``: :func:`fit` and :func:`train`;
- ``evaluation``: :func:`evaluate`.
"""

from painsynth.train.checkpoints import (
    BEST,
    CONFIG_JSON,
    EPOCHS_CSV,
    LAST,
    METRICS_JSON,
    check_resume,
    check_writable,
    load_run,
    read_checkpoint,
    run_data_args,
    run_input,
)
from painsynth.train.config import OPTIMIZERS, TrainConfig, resolve_device
from painsynth.train.datasets import ClipFeatures, check_datasets, clip_features, clips_at, dataset_rows, load_datasets
from painsynth.train.errors import ClipSkipped, TrainError
from painsynth.train.evaluation import evaluate
from painsynth.train.features import N_FEATURES, cache_path, feature_cache_key, track_features
from painsynth.train.frames import FrameCache, FrameClip, resize_frames
from painsynth.train.inputs import (
    DEFAULT_CAPTURE_METHOD,
    EMBEDDINGS,
    FEATURES,
    FRAMES,
    SAMPLINGS,
    InputSpec,
    check_model_kwargs,
    input_spec,
    sample_frames,
)
from painsynth.train.loop import TrainResult, fit, predict, train
from painsynth.train.metrics import BOOTSTRAP_METRICS, bootstrap_ci, classification_metrics
from painsynth.train.tasks import MIN_VALIDATION_GROUPS, TASKS, check_task, group_split, has_pain_level, task_targets

__all__ = [
    "BEST", "BOOTSTRAP_METRICS", "CONFIG_JSON", "DEFAULT_CAPTURE_METHOD", "EMBEDDINGS", "EPOCHS_CSV", "FEATURES",
    "FRAMES", "LAST", "METRICS_JSON", "MIN_VALIDATION_GROUPS", "N_FEATURES", "OPTIMIZERS", "SAMPLINGS", "TASKS",
    "ClipFeatures", "ClipSkipped", "FrameCache", "FrameClip", "InputSpec", "TrainConfig", "TrainError", "TrainResult",
    "bootstrap_ci", "cache_path", "check_datasets", "check_model_kwargs", "check_resume", "check_task",
    "check_writable", "classification_metrics", "clip_features", "clips_at", "dataset_rows", "evaluate",
    "feature_cache_key", "fit", "group_split", "has_pain_level", "input_spec", "load_datasets", "load_run", "predict",
    "read_checkpoint", "resize_frames", "resolve_device", "run_data_args", "run_input", "sample_frames",
    "task_targets", "track_features", "train",
]

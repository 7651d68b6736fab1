"""What goes wrong in training and evaluation: the whole run (TrainError) or one clip (ClipSkipped)."""


class TrainError(ValueError):
    """Training or evaluation cannot run on these inputs; the message says why, in one line."""


class ClipSkipped(Exception):
    """One clip cannot be used (its video is unreadable, its face not found often enough) and is left out;
    the message says which and why."""

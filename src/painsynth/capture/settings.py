"""What a capture run is given (:class:`CaptureSettings`) and what it reports (:class:`CaptureSummary`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from painsynth.capture.retarget import method as retarget_method
from painsynth.fileio import log_error

NEUTRAL_MODES = ("subject", "population", "clip")


@dataclass(frozen=True)
class CaptureSettings:
    """What shapes every track of a run (recorded in each: ``method``, ``neutral``)."""

    fps: float = 25.0
    min_valid: float = 0.8
    method: str = "hybrid"
    neutral: str = "subject"  # one of NEUTRAL_MODES, or a path to a neutral video or photo

    def check(self) -> None:
        """ValueError naming a bad method or neutral."""
        retarget_method(self.method)
        if self.neutral not in NEUTRAL_MODES and not Path(self.neutral).is_file():
            raise ValueError(f"--neutral {self.neutral!r} is neither {', '.join(NEUTRAL_MODES)} "
                             "nor an existing video or image file")


@dataclass
class CaptureSummary:
    out: Path
    tracked: int = 0
    skipped: int = 0
    failed: int = 0
    frames: int = 0  # source frames run through MediaPipe
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    neutrals: dict[str, str] = field(default_factory=dict)  # subject -> where their neutral came from

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def record_error(self, file: str | Path, message: str) -> None:
        """A failed input: counted, kept for the summary and appended to ``out/errors.jsonl``."""
        self.failed += 1
        self.errors.append(message)
        log_error(self.out, kind="error", file=str(file), error=message)

    def record_warning(self, file: str | Path, message: str) -> None:
        """Something the user should know that did not stop the input: kept and logged as a warning."""
        self.warnings.append(message)
        log_error(self.out, kind="warning", file=str(file), error=message)

"""Option values that several commands share."""

from typing import Literal

import typer

# painsynth.capture.retarget.METHODS, default first; kept here so --help imports no capture (a test keeps them equal)
CAPTURE_METHODS = ("hybrid", "fit", "cue", "direct", "hybrid-levels")
CaptureMethod = Literal[CAPTURE_METHODS]
CAPTURE_METHOD_HELP = ("au-tcn: capture's retargeting that turns each clip's video into features (as capture "
                       "--method; each clip read against its own calmest frames). Cached per method.")

RAY_OPTION = typer.Option(None, "--ray", help="Run on a Ray cluster instead of this machine's processes: auto (the cluster this machine joined with `ray start`), local (a private one here) or ray://HOST:PORT. Needs pip install 'painsynth[ray]'.")

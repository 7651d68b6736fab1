"""The `painsynth` command line: a thin layer over the library's stage functions.

Each command imports the stage modules it runs inside itself, so that `painsynth --help` starts fast and
loads none of them. One job per module: ``make`` (generate, preview), ``capture`` (capture, ingest),
``learn`` (train, evaluate, experiment), ``audit``, ``report``, ``dataset`` (the ``dataset`` commands),
``options`` (option values several commands share), ``output`` (progress bar, console, summaries) and
``errors`` (failures and usage errors as one line); this module makes the app and registers the commands.
"""

import typer

from painsynth.cli import audit, capture, dataset, learn, make, report
from painsynth.cli.errors import OneLineErrors
from painsynth.cli.options import CAPTURE_METHODS

__all__ = ["CAPTURE_METHODS", "app"]

app = typer.Typer(
    cls=OneLineErrors,
    help="Synthetic face videos for pain recognition: procedural FACS pain motion on diverse "
    "synthetic anny heads, rendered multi-view to H.264 with a Parquet manifest.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", help="Show the native libraries' log lines (MediaPipe, TensorFlow Lite, warp), kept quiet by default."),
) -> None:
    # the app's options, before the command; the app's help is Typer(help=...) above
    if verbose:
        from painsynth.quiet import set_verbose

        set_verbose()


app.command()(make.generate)
app.command()(make.preview)
app.command()(capture.capture)
app.command()(report.report)
app.command()(learn.train)
app.command()(learn.evaluate)
app.command()(audit.audit)
app.command()(capture.ingest)
app.command()(learn.experiment)

dataset_app = typer.Typer(cls=OneLineErrors, no_args_is_help=True,
                          help="Whole dataset folders: check every file, merge folders.")
dataset_app.command("verify")(dataset.dataset_verify)
dataset_app.command("merge")(dataset.dataset_merge)
app.add_typer(dataset_app, name="dataset")

"""Errors at the command line: a command's own failures and click's usage errors, each as one line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NoReturn

import typer
from typer.core import TyperGroup


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)  # one unwrapped line, whatever the terminal width
    raise typer.Exit(2)


@contextlib.contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    """A usage error (a bad option value, a missing option, an unknown command) as one line: click's own
    message names the option, the value and what is allowed; its usage block and panel are left out."""
    try:
        yield
    except typer.TyperException as exc:  # click's exceptions derive from it; Exit and Abort do not
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help, as asked for by giving no arguments
            raise
        typer.echo(f"error: {_usage_message(exc)}", err=True)
        raise typer.Exit(exc.exit_code) from None


def _usage_message(exc: typer.TyperException) -> str:
    """Click's message on one line, with the rejected value: typer checks values with pydantic, whose
    message says what is allowed but not what was given (that is in the validation error it raised from)."""
    message = " ".join(exc.format_message().split()).replace(": Value error, ", ": ")
    errors = getattr(exc.__cause__, "errors", None)
    rejected = errors()[0].get("input") if callable(errors) and errors() else None
    if rejected is None or repr(rejected) in message or not message.startswith("Invalid value for "):
        return message
    option, _, reason = message.partition(": ")
    return f"{option}: {rejected!r} ({reason[:1].lower()}{reason[1:]})"


class OneLineErrors(TyperGroup):
    """A command group whose usage errors, of its own options and of every command's, are one line."""

    def make_context(self, *args, **kwargs):
        with _one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _one_line_usage_errors():
            return super().invoke(ctx)

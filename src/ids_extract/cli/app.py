"""The shared Typer app and the error handling every command gets."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from ..errors import IdsExtractError

app = typer.Typer(
    name="ids-extract",
    help="Shrink question-answering datasets to the sentences that matter (IDS-Extract).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True, soft_wrap=True)  # no hard wraps: messages stay greppable
F = TypeVar("F", bound=Callable[..., Any])

EXIT_BAD_INPUT = 2


def handles_errors(func: F) -> F:
    """Known errors become one red line on stderr and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        """The command itself, with our errors turned into one line and exit code 2."""
        try:
            return func(*args, **kwargs)
        except IdsExtractError as err:
            err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted: finished files are kept; re-run to resume[/]")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]

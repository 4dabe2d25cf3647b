"""The shared Typer app and the error handling every command gets."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

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


# Options every trainer command takes, declared once (train-reader, train-classifier).
Epochs = Annotated[float, typer.Option(help="Training epochs.")]
MaxSteps = Annotated[int, typer.Option(help="Stop after N optimiser steps (overrides --epochs; "
                                       "-1: off).")]
BatchSize = Annotated[int, typer.Option(help="Per-device batch size.")]
LearningRate = Annotated[float, typer.Option(help="Peak learning rate.")]
Seed = Annotated[int, typer.Option(help="Seed for the head, shuffling and dropout.")]
TrainPrecision = Annotated[str, typer.Option(help="auto (bf16 on CPUs with native bf16, fp16 on "
                                             "CUDA, else fp32), fp32, bf16, fp16.")]
SaveSteps = Annotated[int, typer.Option(help="Checkpoint every N steps.")]
KeepCheckpoints = Annotated[bool, typer.Option(help="Keep checkpoints/ (with the optimizer "
                                               "state) after a finished run.")]
Overwrite = Annotated[bool, typer.Option(help="Train again over a model or checkpoints of other "
                                         "settings.")]

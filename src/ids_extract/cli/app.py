"""The shared Typer app and the error handling every command gets."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import IdsExtractError

app = typer.Typer(
    name="ids-extract",
    help="Shrink long inputs (QA datasets, documents to classify) to the sentences that matter "
         "(IDS-Extract).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # help is plain text: 'ids-extract[onnx]', '[@tokenizer]' stay as written
)
err_console = Console(stderr=True, soft_wrap=True)  # no hard wraps: messages stay greppable
F = TypeVar("F", bound=Callable[..., Any])

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
_debug = {"on": False}


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"ids-extract {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of an "
                                        "error.")] = False,
) -> None:
    """Shrink long inputs to the sentences that matter (IDS-Extract)."""
    _debug["on"] = debug
    if not debug:  # third-party notices (ONNX export, Ray, tokenizers) are not for users
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", module=r"(torch|transformers|ray|onnx).*")


def handles_errors(func: F) -> F:
    """Known errors become one red line on stderr and exit code 2; anything else one line and
    exit code 1 (the traceback with ``--debug``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        """The command itself, with errors turned into one line and an exit code."""
        try:
            return func(*args, **kwargs)
        except IdsExtractError as err:
            if _debug["on"]:
                raise
            err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted: finished files are kept; re-run to resume[/]")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as err:
            if _debug["on"]:
                raise
            first = (str(err).strip().splitlines() or [""])[0]
            err_console.print(f"[bold red]error:[/] {escape(type(err).__name__)}: "
                              f"{escape(first)} (an unexpected error: run again with --debug for "
                              "the traceback, and please report it)", highlight=False)
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


#: ``--fast`` on extract and compress: static embeddings instead of MiniLM beside bm25 (measured
#: in bench/results/static.json: several times faster, about a point lower top-1 on dev)
FAST_SCORERS = "bm25,static"
DEFAULT_SCORERS = "bm25,sbert"


def scorer_names(scorers: str | None, fast: bool) -> list[str]:
    """The scorers asked for: ``--scorers``, or the ``--fast`` profile, or the default; both
    given is an error."""
    from ..errors import ConfigError

    if fast and scorers is not None:
        raise ConfigError(f"--fast sets the scorers ({FAST_SCORERS}): leave out --scorers")
    return csv_list(FAST_SCORERS if fast else scorers or DEFAULT_SCORERS)


# One rule for --hf-split in every command: training data (train-*, split-texts, --split train)
# reads the "train" split of a datasets folder or hub name, everything else "validation".
HfSplit = Annotated[str | None, typer.Option(
    help="Split of a datasets folder or hub name [default: train for training data (train-*, "
         "split-texts, --split train), validation otherwise].")]


def hf_split_or(value: str | None, training: bool) -> str:
    """``--hf-split`` as given, else the split the rule above gives."""
    return value or ("train" if training else "validation")


def csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


# Options every trainer command takes, declared once (train-reader, train-classifier).
TrainFile = Annotated[str, typer.Argument(help="SQuAD training file (never the dev file).")]
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


def deprecated(old: str, new: str) -> None:
    """One warning line for a spelling that still works for one release."""
    err_console.print(f"[yellow]warning:[/] {old} is deprecated and goes in the next release; "
                      f"use {new}", highlight=False)


# One vocabulary: -q is --quiet in every command.
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or table.")]


def legacy_q(question: str | None, stray: str | None) -> str | None:
    """``-q QUESTION`` (the old spelling in ``answer`` and ``explain``, where ``-q`` is
    ``--quiet`` now): the stray text is the question, with a warning, for one release."""
    if stray is None:
        return question
    if question is not None:
        raise typer.BadParameter(f"unexpected argument {stray!r}")
    deprecated("-q QUESTION", "--question QUESTION (-q is --quiet now)")
    return stray


ScorerOptions = Annotated[list[str] | None, typer.Option(
    "--scorer-option", help="SCORER.OPTION=VALUE, any option a scorer's constructor takes (a "
    "JSON value, else text); repeat for several.")]


def scorer_options(specs: list[str] | None, names: list[str]) -> dict[str, dict[str, Any]]:
    """``--scorer-option ig.n_steps=8`` as ``{"ig": {"n_steps": 8}}`` (so a new scorer's options
    reach it without a flag of its own); the scorer must be among ``names``."""
    import json

    from ..errors import ConfigError

    out: dict[str, dict[str, Any]] = {}
    for spec in specs or []:
        key, sep, text = spec.partition("=")
        name, dot, option = key.partition(".")
        if not sep or not dot or not option:
            raise ConfigError(f"--scorer-option {spec!r}: expected SCORER.OPTION=VALUE")
        if name not in names:
            raise ConfigError(f"--scorer-option {spec!r}: {name!r} is not among the scorers "
                              f"({', '.join(names)})")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        out.setdefault(name, {})[option] = value
    return out


def merged(base: dict[str, dict[str, Any]], extra: dict[str, dict[str, Any]]
           ) -> dict[str, dict[str, Any]]:
    """Per scorer, the command's options with ``--scorer-option`` ones over them."""
    return {n: {**base.get(n, {}), **extra.get(n, {})} for n in {*base, *extra}}

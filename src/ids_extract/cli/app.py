"""The shared Typer app, the error handling every command gets, and the old option spellings
every command still reads for one release (:data:`.options.OLD_NAMES`), each with a warning."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand

from ..errors import IdsExtractError, shown

app = typer.Typer(name="ids-extract", help="Shrink long inputs (QA datasets, documents to "
                  "classify) to the sentences that matter (IDS-Extract).", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False,
                  rich_markup_mode=None)  # plain help: '[@tokenizer]' stays as written
err_console = Console(stderr=True, soft_wrap=True)  # no hard wraps: messages stay greppable
F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C")

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
    # this package's own FutureWarnings are for users (a budget read otherwise than before):
    # shown, each once per run, as one line like every other message
    warnings.filterwarnings("always", category=FutureWarning, module=r"ids_extract(\.|$)")
    warnings.showwarning = _warning_line
    _shown.clear()


_SHOW = warnings.showwarning
_shown: set[str] = set()


def _warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """One ``warning:`` line on stderr for this package's warnings; others as Python shows them
    (with ``--debug``, or a third-party one not filtered)."""
    if "ids_extract" not in filename.replace("\\", "/").split("/"):
        _SHOW(message, category, filename, lineno, file, line)
        return
    if str(message) not in _shown:  # the same warning of every request: said once
        _shown.add(str(message))
        err_console.print(f"[yellow]warning:[/] {escape(in_flags(str(message)))}",
                          highlight=False)


_running: dict[str, str | None] = {"command": None}  # the name of the command running


def flag_of(name: str) -> str | None:
    """The running command's flag for the library parameter ``name`` (``cascade_k`` ->
    ``--cascade-k``; an argument by its metavar), or None where it has none (the message then
    shows the bare name)."""
    found = getattr(typer.main.get_command(app), "commands", {}).get(_running["command"])
    param = next((p for p in (found.params if found else []) if p.name == name), None)
    if param is None:
        return None
    return next((o for o in param.opts if o.startswith("--")), name.upper())


def in_flags(message: str) -> str:
    """A library message as the command line says it: each `parameter` as its flag."""
    return shown(message, flag_of)


def say(message: str) -> None:
    """A library's note to the user, on stderr, in flags."""
    err_console.print(in_flags(message), highlight=False)


def handles_errors(func: F, name: str | None = None) -> F:
    """Known errors become one red line on stderr and exit code 2; anything else one line and
    exit code 1 (the traceback with ``--debug``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        """The command itself, with errors turned into one line and an exit code."""
        _running["command"] = name or typer.main.get_command_name(func.__name__)
        try:
            return func(*args, **kwargs)
        except IdsExtractError as err:
            if _debug["on"]:
                raise
            err_console.print(f"[bold red]error:[/] {escape(in_flags(str(err)))}",
                              highlight=False)
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


def deprecated(old: str, new: str) -> None:
    """One warning line on stderr for a spelling that still works for one release."""
    err_console.print(f"[yellow]warning:[/] {old} is deprecated and goes in the next release; "
                      f"use {new}", highlight=False)


def renamed(args: Sequence[str], old: Mapping[str, str], live: Mapping[str, str]) -> list[str]:
    """``args`` with every old spelling in ``old`` (old name -> new: an option, an option and
    its value such as ``--mode truncate``, or ``""`` when the value is the command's argument
    now) written the new way, each warned once; ``live`` maps the command's own option names to
    their parameter. An old name that is an option of its own now (``-q``, once the question,
    now ``--quiet``) is read the old way only before a value; an option given both ways is an
    error, not a silent choice."""
    out: list[str] = []
    given = {live[n] for a in args if (n := a.partition("=")[0]) in live}
    for i, token in enumerate(args):
        if token == "--":
            return out + list(args[i:])
        name, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        new = old.get(name)
        value_follows = bool(eq) or (i + 1 < len(args) and not args[i + 1].startswith("-"))
        if new is None or (name in live and not value_follows):
            out.append(token)
            continue
        target = new.split()
        if target and live.get(target[0], name) in given:
            err_console.print(f"[bold red]error:[/] give {target[0]} only ({name} is its old "
                              "spelling)", highlight=False)
            raise typer.Exit(EXIT_BAD_INPUT)
        if name in live:  # e.g. "-q QUESTION ...; use --question QUESTION (-q is --quiet now)"
            word = new.lstrip("-").upper()
            name, new = f"{name} {word}", f"{new} {word} ({name} is --{live[name]} now)"
        deprecated(name, new or "the argument (no option name)")
        out += target + ([value] if eq else [])
    return out


class AliasedCommand(TyperCommand):
    """A Typer command that reads its old option spellings (:func:`renamed`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from .options import OLD_NAMES

        live = {n: p.name or "" for p in self.params for n in (*p.opts, *p.secondary_opts)
                if n.startswith("-")}
        return super().parse_args(ctx, renamed(args, OLD_NAMES.get(self.name or "", {}), live))


def command(name: str | None = None) -> Callable[[F], F]:
    """``@command("train-reader")``: a command of the app that reads its old spellings and
    turns known errors into one line (:func:`handles_errors`)."""

    def register(func: F) -> F:
        return app.command(name, cls=AliasedCommand)(handles_errors(func, name))

    return register


def of(cls: type[C], values: Mapping[str, Any], **given: Any) -> C:
    """The library configuration ``cls`` (a dataclass) from a command's values, by the name they
    share (one name from flag to field; values without a field are the command's own);
    ``given`` sets fields a command names otherwise."""
    own = {f.name: values[f.name] for f in fields(cls)  # type: ignore[arg-type]
           if f.init and f.name in values}
    return cls(**{**own, **given})

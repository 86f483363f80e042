"""Shared pieces of the ``deepsearch`` commands: per-run option flags, consoles, exit codes.

A command that runs the agent (``ask``, ``eval``) takes ``run: RunOptions`` under
:func:`with_run_options` and hands its coroutine to :func:`run_to_exit`, which checks
the configuration, builds the run's context and turns the outcome into an exit code.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, NoReturn, TypeVar, cast

import typer
from rich.console import Console

from deepsearch.context import Context

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_CONFIGURED = 0, 1, 2, 3

out = Console(soft_wrap=True)
err = Console(stderr=True)


class Effort(StrEnum):
    """Reasoning effort presets."""

    low = "low"
    medium = "medium"
    high = "high"


EffortOpt = Annotated[Effort, typer.Option("--effort", help="Budget/attempt preset.")]
BudgetOpt = Annotated[
    int | None, typer.Option("--budget", min=1, help="Token budget for the whole run.")
]
AttemptsOpt = Annotated[
    int | None, typer.Option("--attempts", min=1, help="Failed evaluations allowed.")
]
MaxSecondsOpt = Annotated[
    float | None,
    typer.Option(
        "--max-seconds",
        min=0.001,
        max=86_400,
        help="Wall-clock limit; then answer with what is known.",
    ),
]
TeamOpt = Annotated[int, typer.Option("--team-size", min=1, help="Sub-problems in parallel.")]
NoDirectOpt = Annotated[
    bool, typer.Option("--no-direct-answer", help="Never answer from model knowledge alone.")
]
BoostOpt = Annotated[list[str] | None, typer.Option("--boost-host", help="Prefer this host.")]
BadOpt = Annotated[list[str] | None, typer.Option("--bad-host", help="Never read this host.")]
OnlyOpt = Annotated[list[str] | None, typer.Option("--only-host", help="Read only this host.")]


class Provider(StrEnum):
    """Search providers a run may choose (see ``DEEPSEARCH_SEARCH_PROVIDER``)."""

    jina = "jina"
    brave = "brave"
    serper = "serper"
    duckduckgo = "duckduckgo"
    searxng = "searxng"
    arxiv = "arxiv"
    local = "local"


ProviderOpt = Annotated[
    Provider | None, typer.Option("--provider", help="Search provider for this run.")
]
SearchLangOpt = Annotated[
    str | None, typer.Option("--search-language", help="Language code of search queries.")
]
LangOpt = Annotated[str | None, typer.Option("--language", help="Language code of the answer.")]


@dataclass(frozen=True)
class RunOptions:
    """The per-run flags every running command takes (``ask``, ``eval``)."""

    effort: Effort
    budget: int | None
    attempts: int | None
    max_seconds: float | None
    team_size: int
    no_direct_answer: bool
    boost_host: list[str] | None
    bad_host: list[str] | None
    only_host: list[str] | None
    provider: Provider | None
    search_language: str | None
    language: str | None

    def context(self) -> Context:
        """Build the run's :class:`~deepsearch.context.Context` (reads the settings)."""
        from deepsearch.settings import get_settings

        provider: str | None = str(self.provider) if self.provider else None
        if provider is None and get_settings().effective_search_provider() == "local":
            provider = "local"  # per run, so the corpus reader is chosen with the corpus search
        return Context(
            reasoning_effort=self.effort.value,
            budget_tokens=self.budget,
            max_attempts=self.attempts,
            max_seconds=self.max_seconds,
            team_size=self.team_size,
            no_direct_answer=self.no_direct_answer,
            boost_hostnames=list(self.boost_host or []),
            bad_hostnames=list(self.bad_host or []),
            only_hostnames=list(self.only_host or []),
            search_provider=provider,
            search_language_code=self.search_language,
            language_code=self.language,
        )


_RUN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "effort": (EffortOpt, Effort.medium),
    "budget": (BudgetOpt, None),
    "attempts": (AttemptsOpt, None),
    "max_seconds": (MaxSecondsOpt, None),
    "team_size": (TeamOpt, 1),
    "no_direct_answer": (NoDirectOpt, False),
    "boost_host": (BoostOpt, None),
    "bad_host": (BadOpt, None),
    "only_host": (OnlyOpt, None),
    "provider": (ProviderOpt, None),
    "search_language": (SearchLangOpt, None),
    "language": (LangOpt, None),
}

Command = TypeVar("Command", bound=Callable[..., None])


def with_run_options(effort: Effort = Effort.medium) -> Callable[[Command], Command]:
    """Give a command the per-run flags in place of its ``run: RunOptions`` parameter.

    Typer reads the command's signature, so the flags are declared once here
    and the command receives them gathered in one :class:`RunOptions`.

    Args:
        effort: The command's default ``--effort``.

    Returns:
        A decorator for typer command functions.
    """

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        flags = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=effort if name == "effort" else default,
                annotation=annotation,
            )
            for name, (annotation, default) in _RUN_OPTIONS.items()
        ]
        parameters: list[inspect.Parameter] = []
        for parameter in signature.parameters.values():
            if parameter.name == "run":
                parameters.extend(flags)
            else:
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        @functools.wraps(command)
        def run_command(**values: Any) -> None:
            run = RunOptions(**{name: values.pop(name) for name in _RUN_OPTIONS})
            command(**values, run=run)

        run_command.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=parameters
        )
        run_command.__annotations__ = {p.name: p.annotation for p in parameters}
        return cast(Command, run_command)

    return decorate


def require_llm() -> None:
    """Exit with code 3 and the how-to message when no LLM is configured."""
    from deepsearch.settings import ConfigurationError, get_settings

    try:
        get_settings().require_llm()
    except ConfigurationError as exc:
        err.print(f"[bold red]Not configured:[/] {exc}", highlight=False)
        raise typer.Exit(EXIT_NOT_CONFIGURED) from exc


def guarded(coro: Any) -> int:
    """Run a coroutine; turn configuration problems into exit 3 and failures into exit 1."""
    from deepsearch.settings import ConfigurationError
    from deepsearch.tools.llm import LLMUnavailable

    try:
        return int(asyncio.run(coro))
    except ConfigurationError as exc:
        err.print(f"[bold red]Not configured:[/] {exc}", highlight=False)
        return EXIT_NOT_CONFIGURED
    except LLMUnavailable as exc:
        err.print(f"[bold red]The LLM could not be reached:[/] {exc}", highlight=False)
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted.[/]")
        return 130
    except Exception as exc:
        err.print(f"[bold red]The run failed:[/] {type(exc).__name__}: {exc}", highlight=False)
        return EXIT_FAILED


def run_to_exit(run: RunOptions, start: Callable[[Context], Coroutine[Any, Any, int]]) -> NoReturn:
    """Run a command's coroutine on the run's context and exit with the code it returns.

    Args:
        run: The per-run flags the command received.
        start: Makes the command's coroutine from the run's :class:`Context`.

    Raises:
        typer.Exit: Always: 3 when no LLM is configured, else the code of :func:`guarded`.
    """
    require_llm()
    raise typer.Exit(guarded(start(run.context())))

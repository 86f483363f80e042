"""Shared pieces of the ``deepsearch`` commands: per-run option flags, consoles, exit codes."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from deepsearch.context import Context
from deepsearch.settings import ConfigurationError, get_settings

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


def make_context(
    effort: Effort,
    budget: int | None,
    attempts: int | None,
    team_size: int,
    no_direct_answer: bool,
    boost: list[str] | None,
    bad: list[str] | None,
    only: list[str] | None,
    provider: Provider | str | None,
    search_language: str | None,
    language: str | None,
) -> Context:
    """Build the per-run options from command-line flags."""
    if provider is None and get_settings().effective_search_provider() == "local":
        provider = "local"  # per run, so the corpus reader is chosen with the corpus search
    return Context(
        reasoning_effort=effort.value,
        budget_tokens=budget,
        max_attempts=attempts,
        team_size=team_size,
        no_direct_answer=no_direct_answer,
        boost_hostnames=list(boost or []),
        bad_hostnames=list(bad or []),
        only_hostnames=list(only or []),
        search_provider=str(provider) if provider else None,
        search_language_code=search_language,
        language_code=language,
    )


def require_llm() -> None:
    """Exit with code 3 and the how-to message when no LLM is configured."""
    try:
        get_settings().require_llm()
    except ConfigurationError as exc:
        err.print(f"[bold red]Not configured:[/] {exc}", highlight=False)
        raise typer.Exit(EXIT_NOT_CONFIGURED) from exc


def guarded(coro: Any) -> int:
    """Run a coroutine; turn configuration problems into exit 3 and failures into exit 1."""
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

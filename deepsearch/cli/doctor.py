"""``deepsearch config`` / ``doctor``: what is configured, what is missing, how to fix it.

Secrets are never shown, only "set" or "missing"; URLs lose any user info and query.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deepsearch.settings import NO_LLM_MESSAGE, Settings

# What each search provider needs before it can run: (variable, how to fix).
PROVIDER_NEEDS: dict[str, tuple[str, str] | None] = {
    "jina": ("JINA_API_KEY", "get a key at https://jina.ai and set JINA_API_KEY"),
    "brave": ("BRAVE_API_KEY", "get a key at https://brave.com/search/api and set BRAVE_API_KEY"),
    "serper": ("SERPER_API_KEY", "get a key at https://serper.dev and set SERPER_API_KEY"),
    "searxng": ("SEARXNG_URL", "run SearXNG with its JSON format enabled and set SEARXNG_URL"),
    "local": ("DEEPSEARCH_CORPUS", "build one with `deepsearch index PATH` and set it"),
    "duckduckgo": None,
    "arxiv": None,
}


@dataclass
class Problem:
    """Something a run will need that is not configured, with the fix."""

    what: str
    fix: str


def deepsearch_home() -> Path:
    """Return the folder for the CLI's state (``DEEPSEARCH_HOME`` or ``~/.deepsearch``)."""
    return Path(os.environ.get("DEEPSEARCH_HOME") or Path.home() / ".deepsearch").expanduser()


def redact_url(value: str) -> str:
    """Drop user info and query from a URL (they may carry credentials)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "(invalid URL)"
    if not parts.scheme:
        return value
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def describe(settings: Settings) -> list[tuple[str, str]]:
    """Return ``(variable, shown value)`` for every setting, secrets as set/missing."""
    rows: list[tuple[str, str]] = []
    for name, info in Settings.model_fields.items():
        var = info.alias or name.upper()
        value = getattr(settings, name)
        if isinstance(value, SecretStr) or "key" in name:
            shown = "set" if value else "missing"
        elif value is None:
            shown = "-"
        elif isinstance(value, str) and "://" in value:
            shown = redact_url(value)
        else:
            shown = str(value)
        rows.append((var, shown))
    return rows


def unconfigured_providers(settings: Settings) -> list[tuple[str, tuple[str, str]]]:
    """Return the providers of the search chain that lack a key or URL, with what they need."""
    return [
        (provider, need)
        for provider in settings.effective_search_provider().split(",")
        if (need := PROVIDER_NEEDS.get(provider))
        and not getattr(settings, need[0].lower().removeprefix("deepsearch_"), None)
    ]


def describe_search(settings: Settings) -> tuple[str, str]:
    """Return the search chain as shown (``"serper → brave"``) and a note on its parts."""
    chain = settings.effective_search_provider().split(",")
    shown = " → ".join(chain)
    notes = ["fallback chain, tried in order"] if len(chain) > 1 else []
    skipped = [
        f"{provider} ({need[0]} missing)" for provider, need in unconfigured_providers(settings)
    ]
    if skipped and len(skipped) < len(chain):
        notes.append("skipped: " + ", ".join(skipped))
    return shown, "; ".join(notes)


def problems(settings: Settings) -> list[Problem]:
    """Return what a run with these settings would miss."""
    found: list[Problem] = []
    if not settings.llm_configured():
        found.append(Problem("LLM endpoint", NO_LLM_MESSAGE))
    # A fallback chain runs while one of its providers is configured.
    chain = settings.effective_search_provider().split(",")
    missing = unconfigured_providers(settings)
    if len(missing) == len(chain):
        for provider, (variable, how) in missing:
            found.append(Problem(f"search provider {provider!r}: {variable} missing", how))
    if settings.effective_embeddings() == "openai" and not (
        settings.openai_api_key or settings.embeddings_base_url or settings.openai_base_url
    ):
        found.append(
            Problem(
                "embeddings 'openai'",
                "set OPENAI_API_KEY or DEEPSEARCH_EMBEDDINGS_BASE_URL, "
                "or DEEPSEARCH_EMBEDDINGS=local",
            )
        )
    return found


def print_report(console: Console, settings: Settings) -> bool:
    """Print the configuration report; return True when a run can start."""
    console.print("[bold]DeepSearch configuration[/]")
    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_row(
        "LLM", "configured" if settings.llm_configured() else "[red]missing[/]", settings.model
    )
    summary.add_row("search", *map(escape, describe_search(settings)))
    summary.add_row("reader", settings.effective_reader(), "")
    summary.add_row("embeddings", settings.effective_embeddings(), "")
    summary.add_row("structured output", settings.structured_output, "")
    summary.add_row("home", escape(str(deepsearch_home())), "")
    console.print(summary)
    table = Table("variable", "value", title="Environment (and .env)", title_justify="left")
    for var, shown in describe(settings):
        style = "red" if shown == "missing" and var == "OPENAI_API_KEY" else ""
        table.add_row(var, escape(shown), style=style)
    console.print(table)
    found = problems(settings)
    if not found:
        console.print("[green]Ready:[/] everything a run needs is configured.")
        return True
    console.print("[bold red]Missing:[/]")
    for problem in found:
        console.print(f"- [bold]{escape(problem.what)}[/]: {escape(problem.fix)}")
    return settings.llm_configured() and len(found) == 0

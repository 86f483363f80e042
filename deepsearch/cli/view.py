"""What ``deepsearch ask`` shows: a live view of the run, then the answer with its references.

The live view goes to stderr so that stdout carries only the answer (or the JSON).
On a terminal it keeps a status line and a token-budget bar at the bottom while each
event scrolls above it; elsewhere (pipes, CI logs) it prints one plain line per event.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.text import Text

from deepsearch.api import DeepSearchResult
from deepsearch.budget import cached_share, cached_tokens_of

# How each progress kind is labelled, and in which style.
KIND_STYLES: dict[str, tuple[str, str]] = {
    "start": ("start", "bold"),
    "plan": ("plan", "cyan"),
    "query": ("search", "blue"),
    "search": ("search", "blue"),
    "search-done": ("found", "blue"),
    "read": ("read", "magenta"),
    "read-failed": ("read failed", "yellow"),
    "read-done": ("read", "magenta"),
    "reflect": ("reflect", "cyan"),
    "answer": ("answer", "green"),
    "checks": ("checks", "cyan"),
    "verdict": ("verdict", "green"),
    "beast": ("beast mode", "bold red"),
    "error": ("error", "red"),
}

_FOOTNOTE = re.compile(r"\[\^(\d+)\]")


class RunView:
    """Render progress events of one run on a console (a context manager).

    Args:
        console: where to draw (stderr in the CLI).
        live: keep a live status and budget bar; defaults to whether the console is a terminal.
    """

    def __init__(self, console: Console, *, live: bool | None = None) -> None:
        self.console = console
        self.step = 0
        self.action = "starting"
        self.tokens_used = 0
        self.budget_tokens = 0
        self.events = 0
        self._use_live = console.is_terminal if live is None else live
        self._progress = Progress(
            TextColumn("[bold]tokens"),
            BarColumn(),
            TextColumn("{task.completed:,.0f} / {task.total:,.0f}"),
            console=console,
        )
        self._task = self._progress.add_task("tokens", total=1)
        self._live: Live | None = None

    def __enter__(self) -> RunView:
        if self._use_live:
            self._live = Live(
                self._renderable(), console=self.console, transient=True, refresh_per_second=8
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

    def _renderable(self) -> Group:
        status = Text.assemble(
            ("step ", "dim"), (str(self.step), "bold"), ("  ·  ", "dim"), (self.action, "cyan")
        )
        return Group(status, self._progress)

    def handle(self, event: dict[str, Any]) -> None:
        """Show one progress event and update the status and the budget bar."""
        if event.get("type") != "progress":
            return
        self.events += 1
        self.step = int(event.get("step") or self.step)
        self.tokens_used = int(event.get("tokens_used") or self.tokens_used)
        self.budget_tokens = int(event.get("budget_tokens") or self.budget_tokens)
        kind = str(event.get("kind", ""))
        if kind == "plan" and event.get("action"):
            self.action = str(event["action"])
        elif kind in ("query", "read", "answer", "reflect", "beast"):
            self.action = KIND_STYLES[kind][0]
        label, style = KIND_STYLES.get(kind, (kind or "event", "white"))
        if kind == "verdict":
            style = "green" if event.get("passed") else "yellow"
        worker = f"[dim]{escape(str(event['worker']))}[/] " if event.get("worker") else ""
        text = escape(" ".join(str(event.get("text", "")).split())[:300])
        if kind == "plan" and event.get("action"):
            text = f"[bold]{escape(str(event['action']))}[/]: {text}"
        budget = f"{self.tokens_used:,}/{self.budget_tokens:,} tok" if self.budget_tokens else ""
        self.console.print(
            f"[dim]{self.step:>2}[/] {worker}[{style}]{label:<11}[/] {text} [dim]{budget}[/]",
            highlight=False,
            soft_wrap=not self._use_live,
        )
        self._progress.update(
            self._task, completed=self.tokens_used, total=max(self.budget_tokens, 1)
        )
        if self._live is not None:
            self._live.update(self._renderable())


def answer_markdown(result: DeepSearchResult) -> str:
    """Return the answer as Markdown with footnote markers shown as ``[n]``."""
    return _FOOTNOTE.sub(r"[\1]", result.answer.strip())


def print_result(console: Console, result: DeepSearchResult) -> None:
    """Render the answer as Markdown, then its numbered references with their quotes."""
    console.print(Markdown(answer_markdown(result)))
    if not result.references:
        return
    console.print()
    console.print("[bold]References[/]")
    for n, ref in enumerate(result.references, start=1):
        title = ref.get("title") or ""
        url = ref.get("url", "")
        line = Text.assemble((f"[{n}] ", "bold"), (f"{title} " if title else "", ""))
        line.append(url, style=f"link {url}" if url else "")
        console.print(line)
        quote = " ".join((ref.get("exactQuote") or "").split())
        if quote:
            console.print(Text(f"    \u201c{quote[:400]}\u201d", style="dim"))


def print_summary(console: Console, result: DeepSearchResult, thread_id: str) -> None:
    """Print the run's mode, steps, tokens and how to resume its thread."""
    usage = result.usage
    cached = cached_tokens_of(usage)
    from_cache = f" ({cached_share(usage):.0%} of prompt tokens cached)" if cached else ""
    console.print(
        f"[dim]{result.mode} · {result.steps} steps · {usage.get('total_tokens', 0):,} tokens"
        f"{from_cache} · {len(result.read_urls)} pages read · thread {escape(thread_id)}[/]",
        highlight=False,
    )

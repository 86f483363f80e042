"""Run DeepSearch end to end against faulty local services and classify every outcome.

The LLM is the scripted brain behind a real OpenAI-compatible HTTP server reached by a
real ``ChatOpenAI``; search is the real SearXNG provider against the test web; pages
are read by the real direct reader. Each service sits behind a :class:`FaultyApp`.
Used by the fault tests (few runs) and by ``benchmarks/reliability_report.py`` (many).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from deepsearch.api import DeepSearchResult, aask, build_graph
from deepsearch.citations import MARKER, quote_occurs
from deepsearch.context import Context
from deepsearch.settings import ConfigurationError, Settings
from deepsearch.tools.llm import LLMUnavailable
from deepsearch.tools.search.searxng import SearxngSearch
from tests.support.brain import Brain
from tests.support.faults import FaultInjector, FaultyApp, llm_content, page_content, search_content
from tests.support.llm_server import LLMServer
from tests.support.servers import serve
from tests.support.testweb import TestWeb

CLEAN_ERRORS = (LLMUnavailable, ConfigurationError)
"""Exceptions a run may end with that tell the user plainly what is wrong."""

QUESTIONS = (
    "Who designed the Statue of Liberty?",
    "When was the Eiffel Tower completed?",
    "Where was Gustave Eiffel born?",
    "How tall is the Eiffel Tower?",
)
# One bounded step may overshoot the budget: a few LLM calls of a few thousand tokens.
STEP_ALLOWANCE = 20_000
API_KEY = "sk-fault-suite-secret"


@dataclass
class FaultyStack:
    """The three faulty services and what they saw."""

    llm_url: str
    web: TestWeb
    brain: Brain
    llm_faults: FaultInjector
    search_faults: FaultInjector
    page_faults: FaultInjector
    apps: list[FaultyApp]

    def settings(self, tmp_dir: str, *, timeout: float = 1.0) -> Settings:
        """Settings for a run against this stack (private URLs allowed: it is all loopback)."""
        return Settings(
            OPENAI_BASE_URL=self.llm_url + "/v1",
            OPENAI_API_KEY=API_KEY,  # type: ignore[arg-type]
            DEEPSEARCH_MODEL="brain",
            DEEPSEARCH_EMBEDDINGS="local",
            DEEPSEARCH_READER="direct",
            DEEPSEARCH_ALLOW_PRIVATE_URLS=True,
            DEEPSEARCH_LLM_TIMEOUT=timeout,
            DEEPSEARCH_FETCH_TIMEOUT=timeout,
            DEEPSEARCH_CACHE=f"{tmp_dir}/cache.sqlite3",
            _env_file=None,  # type: ignore[call-arg]
        )

    def graph(
        self, settings: Settings, *, timeout: float = 1.0
    ) -> CompiledStateGraph[Any, Any, Any, Any]:
        """Build the graph with the real SearXNG provider pointed at the test web."""
        search = SearxngSearch(self.web.base_url, timeout=timeout, retries=2)
        return build_graph(search=search, settings=settings, team=False)

    def faults_injected(self) -> Counter[str]:
        """Return every injected fault, keyed ``service:kind``."""
        total: Counter[str] = Counter()
        for name, inj in (
            ("llm", self.llm_faults),
            ("search", self.search_faults),
            ("page", self.page_faults),
        ):
            total.update({f"{name}:{k}": v for k, v in inj.injected.items()})
        return total

    def requests_tried(self) -> int:
        """Return how many requests reached the three services."""
        return sum(i.requests for i in (self.llm_faults, self.search_faults, self.page_faults))


@contextmanager
def faulty_stack(
    llm_rates: Mapping[str, float],
    web_rates: Mapping[str, float],
    *,
    seed: int = 0,
    retry_after: float = 0.05,
) -> Iterator[FaultyStack]:
    """Serve the brain's LLM server and the test web on loopback, both behind fault injectors."""
    brain = Brain()
    llm_faults = FaultInjector(llm_rates, seed=seed)
    search_faults = FaultInjector(web_rates, seed=seed + 1)
    page_faults = FaultInjector(
        {k: v for k, v in web_rates.items() if k != "schema_violation"}, seed=seed + 2
    )
    web = TestWeb()
    llm_app = FaultyApp(LLMServer(brain).app, llm_faults, llm_content, retry_after=retry_after)
    pages_app = FaultyApp(
        web.app, page_faults, page_content, lambda p: p != "/search", retry_after=retry_after
    )
    search_app = FaultyApp(
        pages_app, search_faults, search_content, lambda p: p == "/search", retry_after=retry_after
    )
    with ExitStack() as stack:
        llm_url = stack.enter_context(serve(llm_app))
        web.base_url = stack.enter_context(serve(search_app))
        yield FaultyStack(
            llm_url,
            web,
            brain,
            llm_faults,
            search_faults,
            page_faults,
            [llm_app, pages_app, search_app],
        )


@dataclass
class RunOutcome:
    """How one run ended: ``answered``, ``degraded``, ``clean_error``, ``crash`` or ``hang``."""

    kind: str
    detail: str = ""
    result: DeepSearchResult | None = None
    problems: list[str] = field(default_factory=list)


def well_formed_problems(result: DeepSearchResult, web: TestWeb, budget: int) -> list[str]:
    """List what is wrong with a finished run's result (empty when it is well formed)."""
    problems: list[str] = []
    if not result.answer.strip():
        problems.append("empty answer")
    page_text = {f"{web.base_url}{path}": page.text() for path, page in web.pages.items()}
    for ref in result.references:
        text = page_text.get(ref["url"])
        if text is None or not quote_occurs(ref["exactQuote"], [text]):
            problems.append(f"quote not in its source: {ref['exactQuote'][:80]!r}")
    markers = {int(n) for n in MARKER.findall(result.answer)}
    if markers - set(range(1, len(result.references) + 1)):
        problems.append(f"markers {sorted(markers)} without {len(result.references)} references")
    if result.usage["total_tokens"] > budget + STEP_ALLOWANCE:
        problems.append(f"used {result.usage['total_tokens']} tokens of a {budget} budget")
    return problems


async def run_once(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    question: str,
    ctx: Context,
    web: TestWeb,
    deadline: float,
) -> RunOutcome:
    """Run one question under a wall-clock deadline and classify how it ended."""
    try:
        async with asyncio.timeout(deadline):
            result = await aask(question, graph=graph, context=ctx)
    except TimeoutError:
        return RunOutcome("hang", f"no result within {deadline:g} s")
    except CLEAN_ERRORS as exc:
        return RunOutcome("clean_error", f"{type(exc).__name__}: {str(exc)[:200]}")
    except Exception as exc:
        return RunOutcome("crash", f"{type(exc).__name__}: {str(exc)[:300]}")
    problems = well_formed_problems(result, web, ctx.resolved_budget())
    kind = "answered" if result.mode in ("researched", "direct") else "degraded"
    return RunOutcome(kind, result.mode, result, problems)


def stray_tasks() -> list[str]:
    """Name the tasks of the running loop other than the caller's (leaks after a run)."""
    me = asyncio.current_task()
    return [t.get_name() + ":" + _coro_name(t) for t in asyncio.all_tasks() if t is not me]


def _coro_name(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    return re.sub(r"\s+", " ", getattr(coro, "__qualname__", repr(coro)))

"""Run the research loop on hostile URLs with the SSRF guard on, and trace what it read.

Shared by the SSRF tests and ``benchmarks/reliability_report.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from deepsearch.api import astream_run, build_graph
from deepsearch.context import Context
from deepsearch.settings import Settings
from deepsearch.tools.base import Reader
from deepsearch.tools.search.searxng import SearxngSearch
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.hostile import search_app
from tests.support.netguard import ConnectionAudit, audit_connections
from tests.support.servers import serve

QUESTION = "Which quokka zeppelin orbits marmalade?"  # nothing answers it: the loop keeps reading


def guarded_settings(cache_dir: str) -> Settings:
    """Settings as a user gets them: the SSRF guard on, the direct reader, no .env."""
    return Settings(
        DEEPSEARCH_READER="direct",
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_CACHE=f"{cache_dir}/cache.sqlite3",
        DEEPSEARCH_FETCH_TIMEOUT=2.0,
        _env_file=None,  # type: ignore[call-arg]
    )


@dataclass
class Trace:
    """What a run tried to read, how each read failed, and where the process connected."""

    read: list[str]
    failed: dict[str, str]
    answer: str
    audit: ConnectionAudit
    search_port: int

    def blocked(self) -> list[str]:
        """Return the reads the SSRF guard refused."""
        return [u for u in self.read if "url-guard" in self.failed.get(u, "")]

    def left_the_search_endpoint(self) -> list[tuple[str, int]]:
        """Return connections to anything but the search endpoint (must be empty)."""
        return [a for a in self.audit.attempts if a != ("127.0.0.1", self.search_port)]


async def run_loop(
    question: str,
    search_urls: list[str],
    settings: Settings,
    *,
    reader: Reader | None = None,
    brain: Brain | None = None,
) -> Trace:
    """Run the loop with a search endpoint serving ``search_urls``; trace its reads."""
    brain = brain or Brain()
    with serve(search_app(search_urls)) as search_base, audit_connections() as audit:
        graph = build_graph(
            model=ScriptedChatModel(brain=brain),
            search=SearxngSearch(search_base, timeout=5, retries=0),
            reader=reader,
            settings=settings,
            team=False,
        )
        read: list[str] = []
        failed: dict[str, str] = {}
        answer = ""
        ctx = Context(budget_tokens=400_000, max_steps=30)
        async for event in astream_run(question, graph=graph, context=ctx):
            if event.get("kind") == "read":
                read.append(event["text"])
            elif event.get("kind") == "read-failed":
                url, _, reason = event["text"].partition(": ")
                failed[url] = reason
            elif event.get("type") == "result":
                answer = event["result"].answer
    return Trace(read, failed, answer, audit, int(search_base.rsplit(":", 1)[1]))

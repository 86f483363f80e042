"""Run the research loop on hostile URLs with the SSRF guard on, and trace what it read.

Shared by the SSRF tests and ``benchmarks/reliability_report.py``. :func:`redirect_web`
is a loopback web whose pages redirect into private addresses; the guarded reader
reaches it through :func:`web_names` and an :class:`~deepsearch.tools.urls.AddressPolicy`
exempting its one port, so everything else on loopback stays refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

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

    def left_the_search_endpoint(self, *also: int) -> list[tuple[str, int]]:
        """Return connections to anything but the search endpoint and the loopback ports
        ``also`` (must be empty)."""
        allowed = {("127.0.0.1", port) for port in (self.search_port, *also)}
        return [a for a in self.audit.attempts if a not in allowed]


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


BRIDGE_QUESTION = "Who designed the Quokka Bridge?"
BRIDGE_TEXT = "The Quokka Bridge was designed by the engineer Marla Voss and opened in 1931."


def private_targets(canary_port: int) -> dict[str, str]:
    """Where the redirect web sends readers: this machine, cloud metadata, an intranet."""
    return {
        "canary": f"http://127.0.0.1:{canary_port}/admin",
        "localhost": f"http://localhost:{canary_port}/admin",
        "mapped": f"http://[::ffff:127.0.0.1]:{canary_port}/admin",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "intranet": "http://10.0.0.1/",
    }


def redirect_web(canary_port: int) -> Starlette:
    """A loopback web whose pages redirect (or point) into private addresses.

    ``/go/{target}`` answers 302 to a private target; ``/hop/{target}`` 301s to
    ``/go/{target}`` (a chain of two); ``/refresh/{target}`` is a page with a meta
    refresh and a link to the target; ``/moved`` 307s to ``/bridge``, a page that
    answers :data:`BRIDGE_QUESTION` (a redirect the guard must still follow).
    """
    targets = private_targets(canary_port)

    async def go(request: Request) -> Response:
        return RedirectResponse(targets[request.path_params["target"]], status_code=302)

    async def hop(request: Request) -> Response:
        return RedirectResponse(f"/go/{request.path_params['target']}", status_code=301)

    async def refresh(request: Request) -> Response:
        target = targets[request.path_params["target"]]
        return HTMLResponse(
            f'<html><head><meta http-equiv="refresh" content="0; url={target}">'
            "<title>Moved</title></head><body><p>The bridge archive has moved to the "
            f'<a href="{target}">Quokka Bridge archive</a>.</p></body></html>'
        )

    async def moved(request: Request) -> Response:
        return RedirectResponse("/bridge", status_code=307)

    async def bridge(request: Request) -> Response:
        return HTMLResponse(
            "<html><head><title>The Quokka Bridge</title></head><body><article>"
            f"<h1>The Quokka Bridge</h1><p>{BRIDGE_TEXT}</p></article></body></html>"
        )

    return Starlette(
        routes=[
            Route("/go/{target}", go),
            Route("/hop/{target}", hop),
            Route("/refresh/{target}", refresh),
            Route("/moved", moved),
            Route("/bridge", bridge),
        ]
    )


async def web_names(host: str, port: int) -> list[str]:
    """Resolve ``<anything>.web.test`` to the loopback redirect web; nothing else resolves.

    Distinct names keep the loop's per-host limits from hiding pages.
    """
    if host.endswith(".web.test"):
        return ["127.0.0.1"]
    raise OSError(f"no such host {host!r}")

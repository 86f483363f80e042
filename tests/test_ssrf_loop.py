"""SSRF through the public API: hostile URLs from every untrusted source reach nothing.

The loop runs with ``DEEPSEARCH_ALLOW_PRIVATE_URLS`` unset and the real direct reader.
Hostile URLs arrive from a search provider, from the user's message, from links in a
page, from DNS answers and from the model's own output. A canary listener on
127.0.0.1 counts what gets through (it must stay at 0), and an audit of every socket
connect proves the process only talked to the search endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deepsearch.settings import Settings
from deepsearch.tools.base import Page, Reader
from deepsearch.tools.read.direct import DirectReader
from deepsearch.tools.urls import AddressPolicy, normalize_url
from tests.support.brain import Brain, field_of
from tests.support.hostile import (
    INTERNAL_URLS,
    NON_HTTP_URLS,
    HostileDNS,
    LinkingReader,
    loopback_urls,
)
from tests.support.netguard import Canary, canary
from tests.support.servers import serve
from tests.support.ssrf_runs import (
    BRIDGE_QUESTION,
    QUESTION,
    Trace,
    guarded_settings,
    redirect_web,
    run_loop,
    web_names,
)


@pytest.fixture
def bird() -> Iterator[Canary]:
    with canary() as listener:
        yield listener


@pytest.fixture(name="guarded_settings")
def guarded_settings_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as a user gets them: the SSRF guard on, the direct reader."""
    monkeypatch.delenv("DEEPSEARCH_ALLOW_PRIVATE_URLS", raising=False)
    settings = guarded_settings(str(tmp_path))
    assert settings.allow_private_urls is False
    return settings


async def checked_run(
    question: str,
    search_urls: list[str],
    settings: Settings,
    *,
    reader: Reader | None = None,
    brain: Brain | None = None,
    web_port: int | None = None,
) -> Trace:
    """Run the loop; the process must have connected to nothing but the search endpoint
    (and the loopback test web on ``web_port``, when there is one)."""
    trace = await run_loop(question, search_urls, settings, reader=reader, brain=brain)
    also = () if web_port is None else (web_port,)
    assert trace.left_the_search_endpoint(*also) == [], trace.audit.attempts
    assert trace.audit.refused == [], f"tried to leave loopback: {trace.audit.refused}"
    return trace


def assert_all_blocked(reads: list[str], trace: Trace, expected: int) -> None:
    """Every read in ``reads`` was refused by the guard, and at least ``expected`` were tried."""
    assert len(reads) >= expected, reads
    for url in reads:
        assert "url-guard" in trace.failed.get(url, ""), (url, trace.failed.get(url))


async def test_hostile_search_results_are_never_fetched(
    guarded_settings: Settings, bird: Canary
) -> None:
    urls = loopback_urls(bird.port) + INTERNAL_URLS + NON_HTTP_URLS
    tried: set[str] = set()
    for start in range(0, len(urls), 6):  # a run reads ~10 URLs before it stalls
        batch = urls[start : start + 6]
        trace = await checked_run(QUESTION, batch, guarded_settings)
        assert_all_blocked(trace.read, trace, expected=0)
        tried |= set(trace.read)
    web_urls = {normalize_url(u) for u in urls if u.startswith("http")}
    assert tried == web_urls  # every http(s) URL was tried, and refused
    assert bird.connections == 0


async def test_urls_pasted_by_the_user_are_never_fetched(
    guarded_settings: Settings, bird: Canary
) -> None:
    pasted = loopback_urls(bird.port)[:5]
    question = "Summarise these pages: " + " and ".join(pasted)
    trace = await checked_run(question, [], guarded_settings)
    assert_all_blocked(trace.read, trace, expected=5)
    assert bird.connections == 0


async def test_links_in_a_page_are_never_fetched(guarded_settings: Settings, bird: Canary) -> None:
    hostile_links = [*loopback_urls(bird.port), *INTERNAL_URLS, *NON_HTTP_URLS]
    tried: set[str] = set()
    for start in range(0, len(hostile_links), 5):
        evil = f"https://evil.example/links/{start}"
        links = hostile_links[start : start + 5]
        # Anchor texts that name the question's subject: links worth reading, so the
        # loop tries each of them and the guard has to refuse it.
        anchors = dict.fromkeys(links, "quokka zeppelin marmalade orbits")
        page = Page(url=evil, text="A directory of admin consoles.", links=links, link_text=anchors)
        reader = LinkingReader({evil: page}, DirectReader(guarded_settings))
        trace = await checked_run(QUESTION, [evil], guarded_settings, reader=reader)
        hostile_reads = [u for u in trace.read if u != evil]
        assert_all_blocked(hostile_reads, trace, expected=0)
        tried |= set(hostile_reads)
    web_links = {normalize_url(u) for u in hostile_links if u.startswith("http")}
    assert web_links <= tried <= {normalize_url(u) for u in hostile_links}
    assert bird.connections == 0


async def test_names_resolving_inside_and_dns_rebinding_are_refused(
    guarded_settings: Settings, bird: Canary
) -> None:
    dns = HostileDNS(
        answers={
            "canary.test": ["127.0.0.1"],
            "mixed.test": ["93.184.216.34", "127.0.0.1"],
            "v6.test": ["::1"],
            "mapped.test": ["::ffff:127.0.0.1"],
            "metadata.test": ["169.254.169.254"],
            "intranet.test": ["10.1.2.3"],
        },
        rebind={"rebind.test": "127.0.0.1", "rebind-meta.test": "169.254.169.254"},
    )
    names = [*dns.answers, *dns.rebind]
    urls = [f"http://{name}:{bird.port}/" for name in names]
    reader = DirectReader(guarded_settings, resolver=dns.resolve)
    trace = await checked_run(QUESTION, urls, guarded_settings, reader=reader)
    assert_all_blocked(trace.read, trace, expected=len(names))
    for name in dns.rebind:  # passed the first check, refused at connect time
        assert dns.lookups.count(name) == 2
        assert f"'tcp://{name}:{bird.port}'" in trace.failed[f"http://{name}:{bird.port}/"]
    assert bird.connections == 0


async def test_urls_the_model_makes_up_are_never_fetched(
    guarded_settings: Settings, bird: Canary
) -> None:
    brain = Brain()
    invented = loopback_urls(bird.port)[:3] + INTERNAL_URLS[3:5]
    plan: dict[str, Any] = {"think": "Read the admin pages.", "action": "read", "urls": invented}
    brain.script("planner", {"think": "Search.", "action": "search", "queries": ["x"]}, plan)
    brain.direct_answer = f"See {invented[0]} and {invented[3]}."
    trace = await checked_run(QUESTION, ["https://evil.example/a"], guarded_settings, brain=brain)
    assert not set(invented) & set(trace.read)
    assert bird.connections == 0


async def test_search_results_redirecting_inside_are_refused_mid_fetch(
    guarded_settings: Settings, bird: Canary
) -> None:
    """The guard stays on for the whole loop; only the test web's one port is exempt.

    Results 302 (or 301 then 302) into loopback, metadata and an intranet, a page
    meta-refreshes and links into loopback; a legitimate 307 still leads to the answer.
    """
    with serve(redirect_web(bird.port)) as web_base:
        port = int(web_base.rsplit(":", 1)[1])
        targets = ["canary", "localhost", "mapped", "metadata", "intranet"]
        hostile = [f"http://go-{t}.web.test:{port}/go/{t}" for t in targets]
        hostile += [f"http://hop-{t}.web.test:{port}/hop/{t}" for t in ("canary", "metadata")]
        refresh = f"http://refresh.web.test:{port}/refresh/canary"
        moved = f"http://bridge.web.test:{port}/moved"
        link = f"http://127.0.0.1:{bird.port}/admin"  # in the refresh page
        policy = AddressPolicy.allowing(f"127.0.0.1:{port}")
        reader = DirectReader(guarded_settings, resolver=web_names, policy=policy)
        brain = Brain()
        brain.fail_reviews = 1  # a second round, in which the planner follows the link
        brain.script(
            "planner",
            {"think": "Search.", "action": "search", "queries": [BRIDGE_QUESTION]},
            {"think": "Read.", "action": "read", "urls": hostile[:5]},
            {"think": "Read.", "action": "read", "urls": [*hostile[5:], refresh]},
        )

        def follow_the_link(system: str, user: str) -> str:
            # The refresh page's link names the bridge: a candidate worth reading now.
            if f"- {link} |" in user:
                if "read" not in field_of(user, "Allowed actions"):  # a read just happened
                    return json.dumps({"think": "Think first.", "action": "reflect"})
                return json.dumps({"think": "Follow it.", "action": "read", "urls": [link]})
            return Brain._planner(brain, system, user)

        brain.handlers["planner"] = follow_the_link
        trace = await checked_run(
            BRIDGE_QUESTION,
            [*hostile, refresh, moved],
            guarded_settings,
            reader=reader,
            brain=brain,
            web_port=port,
        )
    assert "Marla Voss" in trace.answer
    assert_all_blocked(hostile, trace, expected=len(hostile))
    for url in hostile:  # refused at the redirect hop, after the first request went out
        assert "url-guard" in trace.failed[url] and url in trace.read
    assert refresh in trace.read and refresh not in trace.failed  # read, refresh not followed
    assert "url-guard" in trace.failed[link]  # its link was tried, and refused
    assert moved in trace.read and moved not in trace.failed
    assert bird.connections == 0

"""Reliability and security report: faults, hostile URLs and load, with figures.

Runs the full variants of the fault, SSRF and load suites against local servers only
(127.0.0.1) and prints what happened: requests tried, faults injected, runs completed,
fetches blocked, errors by kind, and server memory before and after the soak.

    .venv/bin/python -m benchmarks.reliability_report            # full (~15-30 min)
    .venv/bin/python -m benchmarks.reliability_report --quick    # a minute or two
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepsearch.context import Context
from deepsearch.tools.base import Page
from deepsearch.tools.read.direct import DirectReader
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.brain import Brain
from tests.support.fault_runs import QUESTIONS, faulty_stack, run_once, stray_tasks
from tests.support.faults import ALL_FAULTS
from tests.support.hostile import (
    INTERNAL_URLS,
    NON_HTTP_URLS,
    HostileDNS,
    LinkingReader,
    loopback_urls,
)
from tests.support.load_runs import (
    LoadFigures,
    concurrent_streams,
    disconnecting_clients,
    load_server,
    sequential_runs,
)
from tests.support.netguard import canary
from tests.support.ssrf_runs import QUESTION, guarded_settings, run_loop


@dataclass
class Section:
    """One part of the report: its figures, and whether its checks passed."""

    title: str
    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def show(self) -> None:
        """Print the section."""
        verdict = "PASS" if not self.failures else "FAIL"
        print(f"\n== {self.title}: {verdict}")
        for key, value in self.figures.items():
            print(f"  {key:<28} {value}")
        for failure in self.failures:
            print(f"  !! {failure}")


async def fault_section(runs: int, rate: float, seed: int) -> Section:
    """Run ``runs`` questions with every service failing ``rate`` of its requests."""
    section = Section(f"Faults ({rate:.0%} of LLM, search and page requests fail)")
    rates = {kind: rate / len(ALL_FAULTS) for kind in ALL_FAULTS}
    outcomes: Counter[str] = Counter()
    details: Counter[str] = Counter()
    started = time.monotonic()
    with faulty_stack(rates, rates, seed=seed) as stack, tempfile.TemporaryDirectory() as tmp:
        graph = stack.graph(stack.settings(tmp))
        for i in range(runs):
            ctx = Context(budget_tokens=(4_000, 60_000, 500_000)[i % 3])
            outcome = await run_once(graph, QUESTIONS[i % len(QUESTIONS)], ctx, stack.web, 180)
            outcomes[outcome.kind] += 1
            if outcome.kind in ("clean_error", "crash", "hang"):
                details[outcome.detail.split(":")[0]] += 1
            for problem in outcome.problems:
                section.failures.append(f"run {i}: {problem}")
        leaked = stray_tasks()
        section.figures.update(
            {
                "requests tried": stack.requests_tried(),
                "faults injected": stack.faults_injected().total(),
                "faults by kind": dict(stack.faults_injected().most_common()),
                "runs": runs,
                "runs by outcome": dict(outcomes),
                "errors by kind": dict(details) or "none",
                "leaked tasks": len(leaked),
                "wall clock": f"{time.monotonic() - started:.0f} s",
            }
        )
    if outcomes["crash"] or outcomes["hang"] or leaked:
        section.failures.append(f"crashes/hangs/leaks: {dict(outcomes)}, {leaked}")
    return section


async def ssrf_section(batches: int) -> Section:
    """Feed hostile URLs to the loop from search, user messages, page links and DNS."""
    section = Section("SSRF (guard on: DEEPSEARCH_ALLOW_PRIVATE_URLS unset)")
    os.environ.pop("DEEPSEARCH_ALLOW_PRIVATE_URLS", None)
    tried = blocked = left = 0
    with canary() as bird, tempfile.TemporaryDirectory() as tmp:
        settings = guarded_settings(tmp)
        hostile = loopback_urls(bird.port) + INTERNAL_URLS + NON_HTTP_URLS
        traces = []
        for _ in range(batches):
            for start in range(0, len(hostile), 5):
                batch = hostile[start : start + 5]
                traces.append(await run_loop(QUESTION, batch, settings))  # search results
                question = "Summarise " + " and ".join(u for u in batch if u.startswith("http"))
                traces.append(await run_loop(question, [], settings))  # pasted by the user
                evil = f"https://evil.example/{start}"
                page = Page(url=evil, text="Admin consoles.", links=batch)
                reader = LinkingReader({evil: page}, DirectReader(settings))
                traces.append(await run_loop(QUESTION, [evil], settings, reader=reader))
        dns = HostileDNS(
            answers={"in.test": ["127.0.0.1"], "meta.test": ["169.254.169.254"]},
            rebind={"rebind.test": "127.0.0.1"},
        )
        named = [f"http://{n}:{bird.port}/" for n in ("in.test", "meta.test", "rebind.test")]
        resolving = DirectReader(settings, resolver=dns.resolve)
        traces.append(await run_loop(QUESTION, named, settings, reader=resolving))
        for trace in traces:
            reads = [u for u in trace.read if not u.startswith("https://evil.example/")]
            tried += len(reads)
            blocked += len([u for u in trace.blocked() if u in reads])
            left += len(trace.left_the_search_endpoint()) + len(trace.audit.refused)
        section.figures.update(
            {
                "loop runs": len(traces),
                "hostile fetches tried": tried,
                "fetches blocked": blocked,
                "canary connections": bird.connections,
                "other connections": left,
            }
        )
        if bird.connections or left or blocked != tried:
            section.failures.append("a hostile fetch got through")
    return section


def load_figures(section: Section, name: str, figures: LoadFigures) -> None:
    """Add one load stage's figures to a section, and its failures."""
    before, after = figures.diag_before, figures.diag_after
    section.figures[f"{name}: completed"] = f"{figures.completed} of {figures.tried}"
    section.figures[f"{name}: errors"] = dict(figures.errors) or "none"
    section.figures[f"{name}: memory"] = (
        f"{before['rss_kb'] / 1024:.1f} MiB -> {after['rss_kb'] / 1024:.1f} MiB "
        f"({figures.growth('rss_kb'):+.1%})"
    )
    section.figures[f"{name}: live objects"] = (
        f"{before['objects']} -> {after['objects']} ({figures.growth('objects'):+.1%})"
    )
    section.figures[f"{name}: fds / tasks after"] = f"{after['fds']} / {after['tasks']}"
    if figures.errors or figures.completed != figures.tried or after["tasks"]:
        section.failures.append(f"{name}: {dict(figures.errors)}, tasks left {after['tasks']}")
    if after["fds"] > before["fds"]:
        section.failures.append(f"{name}: file descriptors {before['fds']} -> {after['fds']}")


async def load_section(concurrent: int, sequential: int, hang_ups: int) -> Section:
    """Concurrent streams, then a sequential soak, then clients that hang up."""
    section = Section("Load and soak through the HTTP server")
    started = time.monotonic()
    with load_server() as base:
        load_figures(section, "concurrent streams", await concurrent_streams(base, concurrent))
        soak = await sequential_runs(base, sequential, warmup=max(10, sequential // 10))
        load_figures(section, "sequential soak", soak)
        if soak.growth("rss_kb") >= 0.10:
            section.failures.append(f"memory grew {soak.growth('rss_kb'):.1%} after warm-up")
        if soak.growth("objects") >= 0.02:
            section.failures.append(f"live objects grew {soak.growth('objects'):.1%}")
    blocked_model = AsyncScriptedChatModel(brain=Brain(), block=True)
    with load_server(blocked_model) as base:
        load_figures(section, "hang-ups cancelled", await disconnecting_clients(base, hang_ups))
    section.figures["wall clock"] = f"{time.monotonic() - started:.0f} s"
    return section


async def main(quick: bool) -> int:
    """Run every section and print the report; return the exit status."""
    print("DeepSearch reliability report (all traffic on 127.0.0.1)")
    sections = [
        await fault_section(8 if quick else 60, 0.3, seed=1),
        await fault_section(4 if quick else 30, 0.6, seed=2),
        await ssrf_section(1),
        await load_section(30 if quick else 200, 50 if quick else 1000, 10 if quick else 50),
    ]
    for section in sections:
        section.show()
    failed = [s.title for s in sections if s.failures]
    print("\nRESULT:", "all checks passed" if not failed else f"failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a minute or two)")
    sys.exit(asyncio.run(main(parser.parse_args().quick)))

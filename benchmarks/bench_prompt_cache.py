"""Prompt-cache benchmark: how much of each role's prompt a llama.cpp-like server reuses.

Runs WikiWorld questions (HotpotQA and MuSiQue train rows, one-host local web, the real
SearXNG provider and direct reader, see :mod:`benchmarks.bench_research`) through the
public API, with :class:`~tests.support.brain.QuestionWordsBrain` behind
:class:`~tests.support.llama_server.LlamaCppServer`: a loopback server that holds a
context window and keeps a prompt cache as llama.cpp's server does (one slot plus its
host-memory cache of recent prompts; the tokens a prompt shares from its start with
the best of them are served from cache). DeepSearch only gets its URL, so it learns
the window from ``/props`` and counts cached tokens from the replies' usage.

Printed: the share of prompt tokens served from cache, overall and per role, the
prompt tokens per call, and for each role the prompt section where a call's prompt
first departs from the closest earlier prompt of that role (what breaks the prefix).
The figures measure prompt layout, not a model: the real model's share is measured by
``benchmarks/bench_real_model.py``.

    .venv/bin/python -m benchmarks.bench_prompt_cache [--context 8192] [--limit 10]
        [--dataset hotpotqa|musique|all] [--effort low]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr

from benchmarks.bench_research import DATASETS, served
from deepsearch import Context, aask, build_graph
from deepsearch.tools.context_window import forget_discovered
from tests.support.brain import QuestionWordsBrain, role_of
from tests.support.llama_server import LlamaCppServer
from tests.support.servers import serve
from tests.support.testweb import searxng_settings
from tests.support.world_data import load_dataset

_HEADER = re.compile(r"^([A-Z][\w ()-]*):", re.MULTILINE)


def departure(previous: list[str], prompt: str) -> str:
    """Name the section where ``prompt`` first departs from the closest earlier prompt."""
    if not previous:
        return "(first call)"
    shared = max(len(_common_prefix(p, prompt)) for p in previous)
    if shared >= len(prompt):
        return "(identical)"
    headers = [m for m in _HEADER.finditer(prompt) if m.start() <= shared]
    return headers[-1].group(1) if headers else "system prompt"


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


async def run(args: argparse.Namespace) -> None:
    """Run the questions and print the cache figures."""
    names = DATASETS if args.dataset == "all" else (args.dataset,)
    brain = QuestionWordsBrain()
    server = LlamaCppServer(brain, n_ctx=args.context)
    roles: dict[str, list[tuple[int, int]]] = defaultdict(list)
    breaks: dict[str, Counter[str]] = defaultdict(Counter)
    seen: dict[str, list[str]] = defaultdict(list)
    runs = 0
    with serve(server.app) as llm_base, tempfile.TemporaryDirectory() as tmp:
        for name in names:
            dataset = load_dataset(name, args.data)
            with served(dataset) as world:
                settings = searxng_settings(world.base_url, str(Path(tmp) / "cache.sqlite3"))
                settings = settings.model_copy(
                    update={
                        "openai_base_url": llm_base + "/v1",
                        "openai_api_key": SecretStr("local"),
                        "model": "qwen-local",
                    }
                )
                forget_discovered()
                graph = build_graph(settings=settings)
                for q in dataset.questions[: args.limit]:
                    start = len(server.requests)
                    await aask(
                        q.question, graph=graph, context=Context(reasoning_effort=args.effort)
                    )
                    runs += 1
                    answered = zip(
                        server.requests[start:],
                        server.prompt_sizes[start:],
                        server.cached_sizes[start:],
                        strict=False,
                    )
                    for body, size, cached in answered:
                        texts = [str(m.get("content")) for m in body["messages"]]
                        role = role_of(texts[0], "\n".join(texts[1:]))
                        text = "\n".join(texts)
                        roles[role].append((size, cached))
                        breaks[role][departure(seen[role][-16:], text)] += 1
                        seen[role].append(text)
    total = sum(server.prompt_sizes)
    print(
        f"{runs} questions, context {args.context}, effort {args.effort}: "
        f"{len(server.prompt_sizes)} calls, {total:,} prompt tokens, "
        f"{server.cached_share:.0%} served from cache, {server.overflows} overflows"
    )
    for role, calls in sorted(roles.items(), key=lambda kv: -sum(s for s, _ in kv[1])):
        size = sum(s for s, _ in calls)
        cached = sum(c for _, c in calls)
        where = ", ".join(f"{k} {v}" for k, v in breaks[role].most_common(4))
        print(
            f"  {role:13s} {len(calls):4d} calls {size / len(calls):7.0f} tok/call "
            f"{cached / size:5.0%} cached   prefix breaks in: {where}"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--context", type=int, default=8_192, help="the server's n_ctx")
    parser.add_argument("--limit", type=int, default=10, help="first N questions of each set")
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    parser.add_argument("--effort", choices=["low", "medium", "high"], default="low")
    parser.add_argument("--data", type=Path, default=None, help="folder of the train samples")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(run(parse_args()))

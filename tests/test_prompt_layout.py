"""Prompts keep their prefix from call to call, so a server serves it from its cache.

On a local model reading the prompt is most of the time; llama.cpp, vLLM and OpenAI
reuse a prompt's cached prefix. These tests hold the layout to what makes prefixes
last: sources that render the same text as far as they can when the room changes or a
page is added, sections before the volatile ones that keep their room, and beast mode
asking on the answerer's prompt (measured through the public API against a server that
caches as llama.cpp does).
"""

from __future__ import annotations

from pathlib import Path

from deepsearch import Context, DeepSearchResult, aask, build_graph
from deepsearch.prompts.fit import Section, fit_prompt
from deepsearch.prompts.render import OMITTED_NOTE, render_evaluations, render_sources
from deepsearch.state import Evaluation, PageRecord
from deepsearch.tools import context_window
from deepsearch.tools.tokens import TokenCounter
from tests.support.brain import Brain
from tests.support.llama_server import LlamaCppServer, local_model_settings
from tests.support.long_pages import ANSWER, QUESTION, long_pages
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.servers import serve


def pages_of(n: int, passages: int = 8) -> dict[str, PageRecord]:
    """Read pages with passages that match the question more or less."""
    out: dict[str, PageRecord] = {}
    for p in range(n):
        texts = [
            f"Page {p} passage {i}: the Kestrel-9 probe "
            + ("photographed a moon. " if (p + i) % 3 == 0 else "logged its heaters. ") * (4 + i)
            for i in range(passages)
        ]
        out[f"https://example.org/p{p}"] = {
            "url": f"https://example.org/p{p}",
            "title": f"Page {p}",
            "date": None,
            "passages": texts,
        }
    return out


def without_note(text: str) -> str:
    return text.removesuffix("\n" + OMITTED_NOTE)


def test_sources_cut_to_a_little_less_room_keep_the_same_beginning() -> None:
    pages = pages_of(4)
    question = "Which moon did the Kestrel-9 probe photograph?"
    for smaller, larger in [(2_000, 2_300), (3_000, 4_500), (2_600, 2_610)]:
        small = without_note(render_sources(pages, smaller, question=question))
        large = render_sources(pages, larger, question=question)
        assert large.startswith(small), (smaller, larger)
        assert len(small) <= smaller


def test_a_page_read_later_adds_to_the_end_when_everything_fits() -> None:
    pages = pages_of(3, passages=2)
    before = render_sources(pages, 40_000)
    pages.update({"https://example.org/later": {**pages["https://example.org/p0"], "url": "x"}})
    after = render_sources(pages, 40_000)
    assert after.startswith(before) and len(after) > len(before)


def test_the_most_relevant_passages_come_first_when_cut() -> None:
    pages = pages_of(4)
    text = render_sources(pages, 2_500, question="Which moon did the probe photograph?")
    first = text.split("</source>", 1)[0]
    assert "photographed a moon" in first
    assert text.endswith(OMITTED_NOTE)


def test_sections_before_a_volatile_one_keep_their_room() -> None:
    """A longer diary or a new evaluation does not change the sources before it."""
    pages = pages_of(6)
    counter = TokenCounter()

    def fitted(evaluations: list[Evaluation]) -> str:
        sections = [
            Section("sources", lambda n: render_sources(pages, n, question=QUESTION), 40_000),
            Section(
                "evaluations",
                lambda n: render_evaluations(evaluations, max_chars=n),
                4_000,
                volatile=True,
            ),
        ]
        prompt = fit_prompt(
            "# Role: answerer",
            "Sources:\n{sources}\n\nProblems:\n{evaluations}\n",
            sections,
            counter=counter,
            limit=2_000,
            cap=256,
        )
        assert prompt is not None
        return prompt.user.split("\n\nProblems:", 1)[0]

    rejected: Evaluation = {
        "answer": "It was a moon.",
        "check": "definitive",
        "analysis": "The answer does not name the moon. " * 10,
        "plan": "Read the mission log again and name the moon. " * 10,
    }
    assert fitted([]) == fitted([rejected])


async def ask_on(server: LlamaCppServer, tmp_path: Path) -> DeepSearchResult:
    """Ask the long pages' question at ``low`` effort, the model served by ``server``."""
    context_window.forget_discovered()
    pages = long_pages()
    with serve(server.app) as base:
        settings = local_model_settings(base, str(tmp_path / "cache.sqlite3"))
        graph = build_graph(
            settings=settings, search=MemorySearch(pages), reader=MemoryReader(pages)
        )
        return await aask(QUESTION, graph=graph, context=Context(reasoning_effort="low"))


async def test_beast_mode_reuses_the_answerers_cached_prompt(tmp_path: Path) -> None:
    """A final answer after rejected ones is read mostly from the server's cache."""
    server = LlamaCppServer(Brain(fail_evaluations=99), n_ctx=8_192)
    result = await ask_on(server, tmp_path)
    assert ANSWER in result.answer and result.mode == "beast"
    calls = list(zip(server.brain.roles(), server.prompt_sizes, server.cached_sizes, strict=True))
    answerer = [size for role, size, _ in calls if role == "answerer"]
    beast = [(size, cached) for role, size, cached in calls if role == "beast"]
    assert answerer and len(beast) == 1
    size, cached = beast[0]
    assert size > 3_000  # a long prompt: the evidence of four long pages
    assert cached > size / 2  # the answerer's instructions and evidence, from the cache


async def test_the_judges_reuse_the_answers_evidence_on_a_caching_server(tmp_path: Path) -> None:
    """On a server that caches prompts, the judges' prompts begin with the answer's own.

    (In a window the answer's evidence fills, they see its quotes alone.)
    """
    server = LlamaCppServer(Brain(), n_ctx=32_768)
    result = await ask_on(server, tmp_path)
    assert ANSWER in result.answer and result.mode == "researched"
    calls = list(zip(server.brain.calls, server.prompt_sizes, server.cached_sizes, strict=True))
    answer = next(call for call, _, _ in calls if call.role == "answerer")
    evidence = answer.user.split("\n# Role: answerer\n")[0]
    assert '<source id="S1"' in evidence
    judges = [(call, size, cached) for call, size, cached in calls if call.role == "evaluator"]
    assert judges
    for call, size, cached in judges:
        assert call.system == answer.system and call.user.startswith(evidence)
        assert cached > size / 2  # the answer's evidence, from the server's cache

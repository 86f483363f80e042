"""What a real small model writes, and how the LLM layer still gets a usable reply from it.

Each shape below was seen from Qwen2.5-Coder-1.5B-Instruct on llama.cpp during the
real-model benchmark (recorded replies are replayed in tests/test_real_model_replay.py);
here each is checked alone, through ``LLM.structured`` on a scripted chat model, so a
regression names the shape it broke.
"""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from deepsearch.citations import (
    RawReference,
    add_missing_markers,
    resolve_references,
    source_url,
)
from deepsearch.nodes.compose import WrittenAnswer
from deepsearch.nodes.plan import PlanDecision, decision_json_schema, decision_schema
from deepsearch.state import PageRecord
from deepsearch.tools.llm import LLM
from deepsearch.tools.replies import json_objects, parse_reply
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel

PLAN = {"think": "Look it up.", "action": "search", "queries": ["Lilu demon"]}


async def structured_reply(raw: str, schema: type[BaseModel] = PlanDecision) -> object:
    """Run one planner call whose reply is ``raw``; return the parsed value (None: unusable)."""
    brain = Brain().script("planner", raw, raw)
    llm = LLM(ScriptedChatModel(brain=brain), method="prompt")
    result = await llm.structured(
        "planner",
        schema,
        "# Role: planner\nPlan.",
        "Allowed actions: search, read, answer",
        fallback=lambda: (
            schema.model_validate({"action": "answer"})
            if schema is PlanDecision
            else schema.model_validate({"answer": ""})
        ),
    )
    if not result.ok:
        return None
    assert len(brain.calls) == 1, "a usable reply needs no second call"
    return result.value


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(PLAN),
        "```json\n" + json.dumps(PLAN, indent=2) + "\n```",  # fenced, one time in three
        "Here is my plan:\n" + json.dumps(PLAN) + "\nThis search should find it. {good luck}",
        json.dumps(PLAN) + "\n" + json.dumps({"action": "read"}),  # a second object after
        json.dumps({"PlanDecision": PLAN}),  # nested under a wrapper key
        json.dumps({"type": "object", "properties": PLAN}),  # the schema echoed
        json.dumps({**PLAN, "queries": "Lilu demon"}),  # one string for a list
        json.dumps({**PLAN, "think": ["Look", "it up."]}),  # a list for a string
        json.dumps({**PLAN, "urls": None}),  # null for an optional field
        json.dumps(PLAN)[:-3],  # cut off at the completion cap
        "<think>The user wants Lilu.</think>" + json.dumps(PLAN),
    ],
    ids=[
        "bare",
        "fenced",
        "prose-around",
        "second-object",
        "wrapper-key",
        "schema-echo",
        "string-for-list",
        "list-for-string",
        "null",
        "cut-off",
        "think-block",
    ],
)
async def test_reply_shapes_are_usable(raw: str) -> None:
    value = await structured_reply(raw)
    assert isinstance(value, PlanDecision)
    assert value.action == "search" and value.queries and value.queries[0].startswith("Lilu")


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("query", "search"),
        ("Search", "search"),
        ("searching", "search"),
        ("web_search", "search"),
        ("visit", "read"),
        ("read_urls", "read"),
        ("READ", "read"),
        ("final_answer", "answer"),
        ("Answer the question", "answer"),
        ("reflection", "reflect"),
    ],
)
async def test_invented_actions_mean_a_real_one(said: str, meant: str) -> None:
    value = await structured_reply(json.dumps({"action": said, "queries": ["q"]}))
    assert isinstance(value, PlanDecision) and value.action == meant


async def test_an_action_that_means_nothing_is_unusable() -> None:
    assert await structured_reply(json.dumps({"action": "dance"})) is None


def test_a_reply_without_json_has_no_objects() -> None:
    assert json_objects("I think we should search for Lilu.") == []
    with pytest.raises(ValueError, match="no JSON object"):
        parse_reply("I think we should search.", PlanDecision)


def test_the_planner_is_shown_only_allowed_actions_each_with_its_own_arguments() -> None:
    shown = decision_json_schema(("search", "answer"))
    shapes = {s["properties"]["action"]["const"]: s for s in shown["anyOf"]}
    assert set(shapes) == {"search", "answer"}
    assert shapes["search"]["required"] == ["action", "queries"]
    assert set(shapes["answer"]["properties"]) == {"think", "action"}
    schema = decision_schema(("search", "answer"))
    assert schema.model_json_schema() == shown
    # A reply naming an action the step does not allow still reads (the node replaces it).
    assert schema.model_validate({"action": "read"}).action == "read"


def _page(url: str, title: str, text: str) -> PageRecord:
    return {"url": url, "title": title, "passages": [text], "date": None}


PAGES = {
    "http://w/wiki/Lilu": _page(
        "http://w/wiki/Lilu",
        "Lilu (mythology)",
        "A lilu or lilû is a masculine Akkadian word for a spirit, related to Alû, demon.",
    ),
    "http://w/wiki/Gallu": _page(
        "http://w/wiki/Gallu", "Gallu", "Gallu is a demon of the Babylonian underworld."
    ),
}
IDS = {"S1": "http://w/wiki/Lilu", "S2": "http://w/wiki/Gallu"}


@pytest.mark.parametrize(
    "name", ["S1", "[S1]", "s1", "Source 1", "1", "http://w/wiki/Lilu/", "Lilu (mythology)"]
)
def test_sources_named_by_id_url_or_title(name: str) -> None:
    assert source_url(name, PAGES, IDS) == "http://w/wiki/Lilu"


def test_an_answer_without_markers_cites_its_verified_references() -> None:
    refs = resolve_references(
        [
            RawReference("S2", "Gallu is a demon of the Babylonian underworld."),
            RawReference("Lilu (mythology)", "a masculine Akkadian word for a spirit"),
            RawReference("S1", "Lilu is a god of the sky."),  # not on the page: dropped
        ],
        PAGES,
        IDS,
    )
    text = add_missing_markers("Gallu is a demon.\n\nLilu is a spirit in Akkadian.", refs)
    assert text == "Gallu is a demon.[^1]\n\nLilu is a spirit in Akkadian.[^2]"
    assert add_missing_markers("Lilu is a spirit [^2].", refs) == "Lilu is a spirit [^2]."


async def test_an_answer_reply_with_paragraph_quotes_and_no_markers_is_usable() -> None:
    raw = json.dumps(
        {
            "answer": "Lilu is a spirit.",
            "references": {"source": "S1", "quote": "A lilu or lilû is a masculine Akkadian"},
        }
    )
    value = await structured_reply(raw, WrittenAnswer)
    assert isinstance(value, WrittenAnswer) and value.references[0].source == "S1"


def test_source_ids_written_inline_become_footnote_markers() -> None:
    from deepsearch.citations import inline_ids_to_markers

    text = "Lilu is a spirit [S1]. Gallu is a demon (S2, S1). See also [S9]."
    assert inline_ids_to_markers(text, ["S2", "[S1]"]) == (
        "Lilu is a spirit [^2]. Gallu is a demon [^1][^2]. See also."
    )


def test_a_verdict_is_asked_whether_each_check_applies() -> None:
    from deepsearch.nodes.evaluate import CheckVerdict, Judgement

    shown = Judgement.model_json_schema()["$defs"]["CheckVerdict"]
    assert shown["required"] == ["type", "applies", "pass"]
    # A reply that leaves it out still reads (an optional check then applies).
    assert CheckVerdict.model_validate({"type": "freshness", "pass": False}).applies
    with pytest.raises(ValueError):
        Judgement.model_validate({"analysis": "fine"})  # no checks: not a verdict


def test_a_quote_with_other_quotation_marks_verifies_on_the_page_that_holds_it() -> None:
    pages = {
        **PAGES,
        "http://w/wiki/Haymo": _page(
            "http://w/wiki/Haymo",
            "Haymo of Faversham",
            'His epithet was Inter Aristotelicos (Latin for "Most Aristotelian") in his time.',
        ),
    }
    ids = {**IDS, "S3": "http://w/wiki/Haymo"}
    # Named the wrong page, and written with single quotes: still the real sentence.
    (ref,) = resolve_references(
        [RawReference("S1", "Inter Aristotelicos (Latin for 'Most Aristotelian') in his")],
        pages,
        ids,
    )
    assert ref is not None and ref["url"] == "http://w/wiki/Haymo"

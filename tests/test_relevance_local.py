"""The model-free lexical scorer and the near-duplicate similarity."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deepsearch.tools.embeddings import LexicalRelevance, lexical_scores, similarity
from deepsearch.tools.embeddings.local import fold, stem, tokenize


def test_normalisation() -> None:
    assert fold("Alû ÉCOLE") == "alu ecole"
    assert stem("cities") == stem("city")
    assert stem("universities") == stem("university")
    assert stem("founded") == stem("found")
    assert stem("owls") == "owl" and stem("class") == "class" and stem("1999") == "1999"
    assert tokenize("What is the capital of France?") == ["capital", "franc"] or tokenize(
        "What is the capital of France?"
    ) == ["capital", "france"]
    assert tokenize("the of and") == []


def test_relevant_document_scores_highest() -> None:
    docs = [
        "The Rolling Stones were founded in London in 1962 by Brian Jones.",
        "A rolling stone gathers no moss, says the proverb.",
        "Owls hunt at night.",
        "",
    ]
    scores = lexical_scores("Who founded the Rolling Stones in 1962?", docs)
    assert scores[0] > scores[1] > scores[2] == 0.0
    assert scores[3] == 0.0
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_accents_and_case_do_not_matter() -> None:
    a, b = lexical_scores("café crème", ["CAFE CREME recipes", "tea"])
    assert a > 0.3 and b == 0.0


def test_empty_inputs() -> None:
    assert lexical_scores("anything", []) == []
    assert lexical_scores("", ["a doc"]) == [0.0]
    assert lexical_scores("the", ["the doc"])[0] > 0.0  # stopword-only query still matches


async def test_lexical_relevance_protocol() -> None:
    scorer = LexicalRelevance()
    assert scorer.name == "local"
    scores, tokens = await scorer.score("owl", ["owls at night", "cats"])
    assert tokens == 0 and scores[0] > scores[1]
    big = ["owl " * 20_000, "cat " * 20_000, "dog " * 20_000]  # scored in a thread
    scores, _ = await scorer.score("owl", big)
    assert scores[0] > 0.5 and scores[1] == 0.0


def test_similarity() -> None:
    assert similarity("capital of France", "France capital") > 0.9
    assert similarity("Who founded Jina AI?", "who founded jina ai") > 0.9
    assert similarity("founder of Jina AI", "founders of Jina AI company") > 0.5
    assert similarity("capital of France", "weather in Tokyo tomorrow") < 0.2
    assert similarity("", "") == 1.0
    assert similarity("a", "") == 0.0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.lists(st.text(max_size=200), max_size=8))
def test_scores_always_in_range(query: str, docs: list[str]) -> None:
    scores = lexical_scores(query, docs)
    assert len(scores) == len(docs)
    assert all(0.0 <= s <= 1.0 for s in scores)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    s = similarity(a, b)
    assert 0.0 <= s <= 1.0
    assert abs(s - similarity(b, a)) < 1e-9

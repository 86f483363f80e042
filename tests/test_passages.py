"""Passage selection: bounded cost, exact offsets, relevant windows in document order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from deepsearch.settings import Settings
from deepsearch.tools.embeddings import FallbackRelevance, LexicalRelevance
from deepsearch.tools.embeddings.jina import JinaReranker
from deepsearch.tools.passages import (
    CHARS_PER_TOKEN,
    HEADING_GAP,
    MAX_REMOTE_CHUNKS,
    chunk_text,
    plan,
    section_ids,
    select_passages,
    sentence_ids,
    split_sentences,
)
from tests.support_search.server import Recorded, Reply, serve

FILLER = [
    f"Paragraph {i} discusses the weather in town number {i}, which was mild and grey. "
    f"Residents of town {i} mostly talked about the harvest and the price of bread."
    for i in range(120)
]


def towns(n: int) -> list[str]:
    """``n`` sections of filler, one town each, none relevant to any test question."""
    return [
        f"## Town {i}\nTown {i} has a market, a mill and a small museum of farm tools."
        for i in range(n)
    ]


async def kept_text(question: str, text: str, max_tokens: int) -> str:
    """The passages the model-free scorer keeps of ``text`` for ``question``, joined."""
    passages, _ = await select_passages(question, text, LexicalRelevance(), max_tokens=max_tokens)
    return " ".join(p.text for p in passages)


def page_with(needle: str, at: int) -> str:
    paragraphs = list(FILLER)
    paragraphs.insert(at, needle)
    return "\n\n".join(paragraphs)


def test_sentences_and_chunks_cover_the_text() -> None:
    text = "Dr. Smith arrived. He said: “Hi!” Then left?\nNew line here.\n\nA paragraph."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans][-1] == "A paragraph."
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)
    chunks = chunk_text(page_with("x", 0), 400)
    assert all(e - s <= 800 for s, e in chunks)
    assert chunks == sorted(chunks)


def test_long_sentences_are_split() -> None:
    text = "word " * 2000
    chunks = chunk_text(text, 400)
    assert len(chunks) > 10
    assert all(e - s <= 400 for s, e in chunks)


async def test_short_page_is_returned_whole() -> None:
    text = "\n  Owls hunt at night.  \n"
    passages, tokens = await select_passages("owls", text, LexicalRelevance())
    assert tokens == 0
    assert len(passages) == 1
    p = passages[0]
    assert p.text == "Owls hunt at night." == text[p.start : p.end]


async def test_empty_page() -> None:
    assert await select_passages("q", "", LexicalRelevance()) == ([], 0)
    assert await select_passages("q", "   \n ", LexicalRelevance()) == ([], 0)


async def test_relevant_passage_is_kept_with_context_within_budget() -> None:
    needle = (
        "The Ravensbourne lighthouse was designed by Elsa Marrow in 1887. "
        "Its lamp could be seen forty kilometres out to sea."
    )
    text = page_with(needle, 77)
    passages, _ = await select_passages(
        "Who designed the Ravensbourne lighthouse?", text, LexicalRelevance(), max_tokens=300
    )
    assert any("Elsa Marrow" in p.text for p in passages)
    assert sum(len(p.shown()) for p in passages) <= 300 * CHARS_PER_TOKEN
    assert [p.start for p in passages] == sorted(p.start for p in passages)
    for p in passages:
        assert text[p.start : p.end] == p.text
    # a neighbour comes along: the chunk before the needle is town 76's
    assert any("town number 76" in p.text for p in passages)


async def test_huge_page_costs_bounded_tokens() -> None:
    text = page_with("Zebra crossings were invented in Slough in 1951.", 50) * 40  # ~800 KB
    passages, _ = await select_passages(
        "where were zebra crossings invented", text, LexicalRelevance(), max_tokens=1500
    )
    assert sum(len(p.shown()) for p in passages) <= 1500 * CHARS_PER_TOKEN
    assert any("Slough" in p.text for p in passages)


@settings(max_examples=60, deadline=None)
@given(
    st.text(max_size=3000),
    st.text(max_size=40),
    st.integers(min_value=1, max_value=400),
)
async def test_any_input_respects_offsets_and_budget(text: str, query: str, budget: int) -> None:
    passages, _ = await select_passages(query, text, LexicalRelevance(), max_tokens=budget)
    total = sum(len(p.shown()) for p in passages)
    if len(text.strip()) > budget * CHARS_PER_TOKEN:
        assert total <= budget * CHARS_PER_TOKEN
    for p in passages:
        assert text[p.start : p.end] == p.text


SENTENCES = [
    "The lighthouse was designed by Elsa Marrow.",
    "Its lamp could be seen far out to sea.",
    "The harbour froze in the winter of 1887.",
    "Fishermen sold herring on the quay.",
    "A storm destroyed the old pier.",
]
_sections = st.lists(
    st.tuples(
        st.text(alphabet="abc xyz", min_size=1, max_size=30),
        st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=12),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(_sections, st.sampled_from(SENTENCES), st.integers(min_value=1, max_value=300))
async def test_headings_shown_above_passages_count_against_the_budget(
    sections: list[tuple[str, list[str]]], query: str, budget: int
) -> None:
    text = "\n\n".join(f"## {t.strip() or 'x'}\n" + " ".join(body) for t, body in sections)
    passages, _ = await select_passages(query, text, LexicalRelevance(), max_tokens=budget)
    if len(text.strip()) > budget * CHARS_PER_TOKEN:
        assert sum(len(p.shown()) for p in passages) <= budget * CHARS_PER_TOKEN
    for p in passages:
        assert text[p.start : p.end] == p.text
        above = [line for line in text[: p.start].split("\n") if line.startswith("## ")]
        expected = "" if p.text.startswith("## ") or not above else above[-1]
        assert p.heading == expected


async def test_a_passage_deep_in_a_section_is_shown_under_its_heading() -> None:
    filler = " ".join(f"Filler sentence {i} says nothing of note about towns." for i in range(30))
    text = (
        f"## Harbour towns\n{filler}\n\n## Ravensbourne lighthouse\nThe tower is white. "
        + " ".join(f"Visitors climb step {i} of the stair." for i in range(20))
        + " It was designed by Elsa Marrow in 1887.\n\n## Bridges\n"
        + filler
    )
    passages, _ = await select_passages(
        "Who designed the Ravensbourne lighthouse?", text, LexicalRelevance(), max_tokens=120
    )
    deep = next(p for p in passages if "Elsa Marrow" in p.text)
    assert deep.heading == "## Ravensbourne lighthouse"
    assert deep.shown() == f"## Ravensbourne lighthouse{HEADING_GAP}{deep.text}"
    opening = [p for p in passages if p.text.startswith("## ")]
    assert all(p.heading == "" and p.shown() == p.text for p in opening)


async def test_paid_scorer_sees_a_bounded_number_of_chunks() -> None:
    def rerank(request: Recorded) -> Reply:
        docs = request.json()["documents"]
        results = [
            {"index": i, "relevance_score": 0.95 if "Slough" in d else 0.05}
            for i, d in enumerate(docs)
        ]
        return Reply(200, {"results": results, "usage": {"total_tokens": 10 * len(docs)}})

    text = page_with("Zebra crossings were invented in Slough in 1951.", 60) * 3
    with serve(rerank) as server:
        settings = Settings(
            JINA_API_KEY=SecretStr("k-000000"), JINA_RERANK_URL=server.url, _env_file=None
        )  # type: ignore[call-arg]
        passages, tokens = await select_passages(
            "where were zebra crossings invented", text, JinaReranker(settings), max_tokens=500
        )
    sent = sum(len(r.json()["documents"]) for r in server.requests)
    assert sent <= MAX_REMOTE_CHUNKS
    assert tokens == 10 * sent
    assert any("Slough" in p.text for p in passages)


async def test_scorer_failure_falls_back_to_lexical() -> None:
    text = page_with("Zebra crossings were invented in Slough in 1951.", 30)
    with serve(lambda r: Reply(400, {"detail": "bad"})) as server:
        settings = Settings(
            JINA_API_KEY=SecretStr("k-000000"), JINA_RERANK_URL=server.url, _env_file=None
        )  # type: ignore[call-arg]
        scorer = FallbackRelevance(JinaReranker(settings))
        passages, tokens = await select_passages(
            "zebra crossings Slough", text, scorer, max_tokens=200
        )
    assert tokens == 0
    assert any("Slough" in p.text for p in passages)


async def test_names_in_the_best_passage_lead_to_the_next_hop() -> None:
    filler = towns(60)
    hop1 = "## Zorbleck Prize\nThe Zorbleck Prize is awarded by the Quillmar Society every May."
    hop2 = "## Quillmar Society\nIts first president was Ada Fennimore, a chemist from Leeds."
    text = "\n\n".join([*filler[:20], hop1, *filler[20:45], hop2, *filler[45:]])
    kept = await kept_text(
        "Who was the first president of the body that awards the Zorbleck Prize?", text, 120
    )
    assert "Quillmar Society every May" in kept
    assert "Ada Fennimore" in kept


def test_answer_pattern() -> None:
    from deepsearch.tools.passages import answer_pattern

    when = answer_pattern("When did Italy enter the war?")
    assert when is not None and when.search("in 1915") and not when.search("in May")
    many = answer_pattern("How many stores are in Florida?")
    assert many is not None and many.search("35 stores")
    assert answer_pattern("Who wrote Brand?") is None


def test_chunks_never_straddle_a_heading() -> None:
    text = "## Alpha\nShort.\n\n## Beta\nAlso short.\n\n## Gamma\nTiny."
    chunks = chunk_text(text, 150)
    assert [text[s:e] for s, e in chunks] == [
        "## Alpha\nShort.",
        "## Beta\nAlso short.",
        "## Gamma\nTiny.",
    ]
    assert section_ids(text, chunks) == [0, 1, 2]
    assert section_ids("no headings.\n\nat all.", chunk_text("no headings.\n\nat all.")) == [0]


def test_sentence_ids_group_the_pieces_of_a_long_sentence() -> None:
    long_sentence = " ".join(f"word{i}" for i in range(80)) + "."
    text = f"First one. {long_sentence} Last one."
    chunks = chunk_text(text, 100)
    ids = sentence_ids(text, chunks)
    pieces = [i for i, (s, e) in enumerate(chunks) if "word" in text[s:e]]
    assert len(pieces) > 2
    assert len({ids[i] for i in pieces}) == 1
    assert ids[0] != ids[pieces[0]] != ids[-1]


def test_a_split_sentence_is_kept_whole() -> None:
    filler = [f"## Town {i}\nTown {i} has a market, a mill and a small museum." for i in range(40)]
    long_sentence = (
        "The Marrowby viaduct, "
        + ", ".join(f"a {c} pillar of stone" for c in ("grey", "red", "pale", "dark") * 4)
        + ", was finished by the engineer Ottilie Brandt."
    )
    text = "\n\n".join([*filler[:20], f"## Bridges\n{long_sentence}", *filler[20:]])
    chunks = chunk_text(text, 100)
    docs = [text[s:e] for s, e in chunks]
    sections = section_ids(text, chunks)
    pieces = [i for i, (s, e) in enumerate(chunks) if "pillar" in text[s:e]]
    assert len(pieces) >= 4
    question = "When was the Marrowby viaduct built?"
    alone, _ = plan(question, chunks, docs, None, 700, sections)
    assert not set(pieces) <= alone  # neighbours alone do not reach the sentence's end
    together, _ = plan(question, chunks, docs, None, 700, sections, sentence_ids(text, chunks))
    assert set(pieces) <= together


async def test_neighbours_stay_within_their_section() -> None:
    filler = [f"## Town {i}\nTown {i} has a market, a mill and a small museum." for i in range(40)]
    target = "## Zorbleck Prize\nThe Zorbleck Prize is awarded every May."
    text = "\n\n".join([*filler[:20], target, *filler[20:]])
    kept = await kept_text("Who awards the Zorbleck Prize?", text, 40)
    assert "Zorbleck Prize is awarded" in kept
    assert "Town 19 " not in kept and "Town 20 " not in kept


async def test_each_round_of_feedback_follows_a_new_bridge() -> None:
    filler = [
        f"## Town {i}\nThe first president of the Town {i} rowing club was born nearby."
        for i in range(60)
    ]
    hop1 = (
        "## Zorbleck Prize\nThe Zorbleck Prize is awarded by the Quillmar Society every May.\n"
        "Winners of the Zorbleck Prize receive a silver medal and a small purse of money.\n"
        "The Zorbleck Prize was first given in a year of floods, to a maker of barometers.\n"
        "Past Zorbleck Prize winners often sit on the jury that picks the next winner."
    )
    hop2 = "## Quillmar Society\nIts first president was Ada Fennimore, a chemist."
    hop3 = "## Ada Fennimore\nShe was born in Whitby and studied salts of cobalt."
    text = "\n\n".join(
        [*filler[:15], hop3, *filler[15:30], hop1, *filler[30:45], hop2, *filler[45:]]
    )
    kept = await kept_text(
        "Where was the first president of the body that awards the Zorbleck Prize born?", text, 150
    )
    assert "Quillmar Society every May" in kept
    assert "Ada Fennimore, a chemist" in kept
    assert "born in Whitby" in kept


def test_feedback_names_skip_ordinary_words_that_open_a_sentence() -> None:
    from deepsearch.tools.names import name_terms

    texts = ["Meanwhile the prize went to the Quillmar Society. Zorbleck won it."]
    ordinary = {"meanwhile"}
    names = name_terms(texts, set(), lambda w: w.lower() in ordinary)
    assert "meanwhile" not in names
    assert {"quillmar", "society", "zorbleck"} <= set(names)
    assert "meanwhile" in name_terms(texts, set())


async def test_a_question_ending_in_when_prefers_the_passage_with_a_date() -> None:
    filler = towns(40)
    clubs = "## Rugby league\nRugby league is a sport of 300 clubs in northern towns."
    start = "## Rugby league\nRugby league is a sport whose first cup final was held in 1895."
    text = "\n\n".join([*filler[:20], clubs, start, *filler[20:]])
    kept = await kept_text("Rugby league is a sport that was started when?", text, 25)
    assert "1895" in kept


async def test_a_relevant_chunk_elsewhere_comes_before_a_neighbour() -> None:
    filler = towns(40)
    prize = (
        "## Zorbleck Prize\nThe Zorbleck Prize is given by the Quillmar Society every May.\n"
        "Its jury meets in a hall with a green roof and tall windows."
    )
    winner = "## Ada Fennimore\nAda Fennimore, a chemist, won the Zorbleck Prize in 1901."
    text = "\n\n".join([*filler[:10], prize, *filler[10:30], winner, *filler[30:]])
    kept = await kept_text("Who won the Zorbleck Prize in 1901?", text, 40)
    assert "Quillmar Society every May" in kept
    assert "Ada Fennimore, a chemist" in kept
    assert "green roof" not in kept  # the best chunk's neighbour waits for leftover budget


async def test_a_section_headed_by_the_bridge_beats_one_that_only_mentions_it() -> None:
    filler = towns(40)
    hop1 = "## Zorbleck Prize\nThe Zorbleck Prize is awarded by the Quillmar Society every May."
    target = "## Quillmar Society\nIt was founded by the chemist Ada Fennimore."
    decoy = "## Harbour Library\nThe library was founded by members of the Quillmar Society."
    text = "\n\n".join(
        [*filler[:10], hop1, *filler[10:20], decoy, *filler[20:30], target, *filler[30:]]
    )
    kept = await kept_text("Who founded the body that awards the Zorbleck Prize?", text, 46)
    assert "Quillmar Society every May" in kept
    assert "Ada Fennimore" in kept
    assert "Harbour Library" not in kept


async def test_a_section_titled_with_a_name_in_the_question_leads_to_the_next_hop() -> None:
    # "brand" is an ordinary word on this page, so the play's own section scores
    # below pages that merely share the question's words; its title still says
    # it is what the question names, and its author is the bridge to the answer.
    trades = [("Lamp Guild", "lamps"), ("Rope Makers", "rope"), ("Kettle Works", "kettles")]
    trades += [("Soap Hall", "soap"), ("Tin Yard", "tin"), ("Glass House", "glass")]
    decoys = [
        f"## {name}\nTheir author sells a brand of {ware} in every country."
        for name, ware in trades
    ]
    play = "## Brand (play)\nBrand is a verse play by Oskar Velde, first staged in 1867."
    author = "## Oskar Velde\nOskar Velde grew up in Skien, a port town in Norway."
    filler = towns(40)
    parts = [*filler[:10], *decoys[:3], *filler[10:20], play, *filler[20:30], *decoys[3:]]
    text = "\n\n".join([*parts, author, *filler[30:]])
    kept = await kept_text("What country was the author of Brand a citizen of?", text, 60)
    assert "play by Oskar Velde" in kept
    assert "a port town in Norway" in kept


def test_heading_name_drops_the_disambiguating_qualifier() -> None:
    from deepsearch.tools.names import heading_name

    assert heading_name("Brand (play)") == "Brand"
    assert heading_name("Indianola, Iowa") == "Indianola"
    assert heading_name("Atomic bombings of Hiroshima and Nagasaki") == (
        "Atomic bombings of Hiroshima and Nagasaki"
    )
    assert heading_name("Guns N' Roses") == "Guns N' Roses"
    assert heading_name("Henrik Ibsen | Biography, Plays | Britannica") == "Henrik Ibsen"
    assert heading_name("Spider-Man - Wikipedia") == "Spider-Man"
    assert heading_name("Star Wars: A New Hope") == "Star Wars: A New Hope"

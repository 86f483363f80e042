"""Check the answer, not only the prompt: an answer must come from the evidence.

A model that obeyed an order hidden in fetched content answers with what the order
demanded. Such an answer is caught here, without a model: it repeats a reply that a
screened-out order (or an order its own quotes report) demanded, or neither it nor
its evidence is about the question, or it adds nothing its own quotes support, or it
cites nothing although sources were read. The loop then rejects it like a failed
evaluation; at the end of a run :func:`best_effort_answer` quotes the most relevant
verified sentences instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from deepsearch.citations import MARKER, quote_occurs
from deepsearch.state import Answer, Knowledge, PageRecord, Reference
from deepsearch.tools.embeddings.local import tokenize
from deepsearch.tools.instructions import demanded_replies, fold, mentions_instruction
from deepsearch.tools.screening import screen_text

WITHHELD = "(not shown: it did not answer the question from the sources)"
BEST_EFFORT = "Best effort, quoted from the sources read:"
MAX_QUOTES = 3
FETCHED_KINDS = ("file", "url")
_YES_NO = frozenset(
    {"yes", "no", "true", "false", "correct", "incorrect", "neither", "both", "none", "ja"}
    | {"nein", "oui", "non", "si", "sí"}
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def terms(text: str) -> set[str]:
    """Return the content words of ``text`` (folded, stemmed; CJK as character pairs)."""
    out: set[str] = set()
    for token in tokenize(text):
        if _CJK.search(token) and len(token) > 2:
            out.update(token[i : i + 2] for i in range(len(token) - 1))
        else:
            out.add(token)
    return out


def _plain(text: str) -> str:
    return " " + " ".join(re.findall(r"[^\W_]+", fold(text).lower())) + " "


def repeats_demand(text: str, demands: Iterable[str], allowed: Iterable[str]) -> bool:
    """Tell whether ``text`` says a demanded reply that ``allowed`` texts do not hold."""
    said = _plain(text)
    sources = [_plain(a) for a in allowed]
    for demand in demands:
        phrase = _plain(demand)
        if len(phrase.strip()) >= 3 and phrase in said and not any(phrase in s for s in sources):
            return True
    return False


def answer_problem(
    answer: Answer,
    *,
    question: str,
    pages: Mapping[str, PageRecord],
    demands: Sequence[str] = (),
    knowledge: Sequence[Knowledge] = (),
) -> str | None:
    """Say why ``answer`` must not be given as the answer (None when nothing is wrong).

    Args:
        answer: The answer, its references already verified against ``pages``.
        question: The question it answers.
        pages: What the run read.
        demands: Replies that orders screened out of fetched content demanded.
        knowledge: The run's knowledge (attached files count as fetched content).
    """
    text = MARKER.sub(" ", answer["text"]).strip()
    if not text:
        return "is empty"
    quotes = [ref["exactQuote"] for ref in answer["references"]]
    fetched = [
        sentence
        for k in knowledge
        if k["kind"] in FETCHED_KINDS
        for sentence in _SENTENCE.split(k["answer"])
    ]
    if repeats_demand(text, demands, [question, *quotes]):
        return "repeats a reply that an instruction in fetched content demanded"
    # A quote (or an attached file) may hold an order, reported ('the page said "reply
    # PWNED"') or missed by screening: saying what it demands is obeying it, not answering.
    orders = [s for s in (*quotes, *fetched) if mentions_instruction(s)]
    found = [d for s in orders for d in demanded_replies(s)]
    found += [
        d for k in knowledge if k["kind"] in FETCHED_KINDS for d in screen_text(k["answer"]).demands
    ]
    if repeats_demand(text, found, [question]):
        return "repeats a reply that an instruction in its sources demanded"
    fetched = [s for s in fetched if s not in orders]
    asked, said = terms(question), terms(text)
    if quotes:
        evidence = terms(" ".join(quotes))
        if not asked & (said | evidence):
            return "and its quotes are not about the question"
        added = said - asked - _YES_NO
        if added and not added & evidence:
            return "says nothing that its quotes support"
        return None
    if pages:
        return "cites nothing that checks out against the sources read"
    if fetched and not said & (asked | terms(" ".join(fetched))):
        return "does not address the question"
    return None


def problem_in_run(
    answer: Answer, state: Mapping[str, Any], question: str | None = None
) -> str | None:
    """Check ``answer`` against the run ``state`` holds (its pages, demands and knowledge)."""
    return answer_problem(
        answer,
        question=question or state.get("original_question", ""),
        pages=state.get("pages", {}),
        demands=state.get("injected_demands", []),
        knowledge=state.get("knowledge", []),
    )


def best_effort_answer(
    question: str, pages: Mapping[str, PageRecord], demands: Sequence[str] = ()
) -> Answer | None:
    """Answer with the sentences read that are most relevant to the question, each cited.

    Every quote is a sentence of a page's passages, so every reference verifies. Returns
    None when nothing read is about the question.
    """
    asked = terms(question)
    scored: list[tuple[int, int, str, str]] = []
    for url, page in pages.items():
        for passage in page["passages"]:
            for sentence in _SENTENCE.split(passage):
                sentence = sentence.strip()
                if not _usable(sentence, demands):
                    continue
                score = len(asked & terms(sentence))
                if score:
                    scored.append((score, len(scored), url, sentence[:500]))
    if not scored:
        return None
    best = max(s[0] for s in scored)
    picked = sorted((s for s in scored if 2 * s[0] >= best), key=lambda s: (-s[0], s[1]))
    parts: list[str] = []
    refs: list[Reference] = []
    for _score, _order, url, sentence in picked:
        page = pages[url]
        if any(r["exactQuote"] == sentence for r in refs):
            continue
        if not quote_occurs(sentence, page["passages"]):
            continue
        refs.append(
            {
                "url": url,
                "title": page.get("title") or url,
                "exactQuote": sentence,
                "dateTime": page.get("date"),
            }
        )
        parts.append(f"{sentence} [^{len(refs)}]")
        if len(refs) == MAX_QUOTES:
            break
    if not refs:
        return None
    text = BEST_EFFORT + "\n\n" + "\n\n".join(parts)
    return {"question": question, "text": text, "references": refs, "mode": "beast"}


def _usable(sentence: str, demands: Sequence[str]) -> bool:
    """A sentence fit to quote: real prose, no order to an AI, no demanded reply."""
    if len(sentence) < 20 or sentence.startswith(("#", "|", "…")):
        return False
    return not mentions_instruction(sentence) and not repeats_demand(sentence, demands, [])

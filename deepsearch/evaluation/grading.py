"""Grading: an LLM judge in the style of SimpleQA's grader, exact match, citation faithfulness.

The judge sorts each prediction into correct / incorrect / not attempted, so a run
that declines to answer is told apart from one that answers wrongly. Exact match is
the usual normalised (SQuAD-style) comparison; ``contains`` says whether a normalised
gold answer occurs inside the prediction, which suits sentence-long answers.
"""

from __future__ import annotations

import html
import re
import string
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:  # the model stack loads only when a judge is made
    from deepsearch.tools.llm import LLM


Verdict = Literal["correct", "incorrect", "not_attempted"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_FOOTNOTE = re.compile(r"\[\^\d+\]")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"<[^>]+>|[*_`#>|]")

GRADER_SYSTEM = """# Role: grader
You grade a predicted answer to a benchmark question against the gold answer.
Choose exactly one grade:
- correct: the prediction states the gold answer (or one of the accepted variants) and
  nothing that contradicts it. Extra context is fine. Names may differ in minor spelling,
  abbreviation or missing middle names; numbers must match to the gold answer's precision.
- incorrect: the prediction states an answer that differs from or contradicts the gold
  answer, or hedges between several candidates of which at least one is wrong.
- not_attempted: the prediction gives no answer, says it does not know, or only asks for
  more information, without contradicting the gold answer.
Grade the final claim only; ignore citations, markup and style."""


class Grade(BaseModel):
    """The judge's verdict on one prediction."""

    grade: Verdict = Field(description="correct, incorrect or not_attempted")
    reason: str = Field(default="", description="one short sentence")


def clean_answer(text: str) -> str:
    """Remove footnote markers and surrounding whitespace from an answer."""
    return " ".join(_FOOTNOTE.sub("", text).split())


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation, articles and extra whitespace (SQuAD-style)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if ch not in string.punctuation)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> bool:
    """Tell whether the normalised prediction equals a normalised gold answer."""
    pred = normalize_answer(clean_answer(prediction))
    return any(pred == normalize_answer(a) for a in answers if normalize_answer(a))


def contains_match(prediction: str, answers: Sequence[str]) -> bool:
    """Tell whether a normalised gold answer occurs, as whole words, in the prediction."""
    pred = f" {normalize_answer(clean_answer(prediction))} "
    return any(f" {g} " in pred for g in (normalize_answer(a) for a in answers) if g)


def looks_unattempted(prediction: str) -> bool:
    """Tell whether a prediction declines to answer (used when the judge is off)."""
    text = prediction.lower()
    return not text.strip() or any(
        p in text for p in ("i don't know", "i do not know", "cannot determine", "no answer")
    )


def grader_prompt(question: str, answers: Sequence[str], prediction: str) -> str:
    """Return the user prompt the judge sees."""
    return (
        f"Question: {question}\n"
        f"Gold answer: {' | '.join(answers)}\n"
        "Predicted answer:\n"
        f"{clean_answer(prediction) or '(empty)'}\n"
    )


async def judge(
    llm: LLM, question: str, answers: Sequence[str], prediction: str
) -> tuple[Grade, int, bool]:
    """Ask the LLM judge for a verdict.

    Returns:
        The grade, the tokens the judge spent, and whether its reply was usable (when
        it was not, the grade falls back to matching: contains → correct).
    """

    def fallback() -> Grade:
        if looks_unattempted(prediction):
            return Grade(grade="not_attempted", reason="fallback: declined")
        hit = contains_match(prediction, answers)
        return Grade(grade="correct" if hit else "incorrect", reason="fallback: string match")

    result = await llm.structured(
        "grader",
        Grade,
        GRADER_SYSTEM,
        grader_prompt(question, answers, prediction),
        fallback=fallback,
    )
    return result.value, result.total_tokens, result.ok


def normalize_quote_text(text: str) -> str:
    """Normalise text for quote matching: entities, markup, quotes and whitespace."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = _MD_LINK.sub(r"\1", text)
    text = _MARKUP.sub(" ", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def quote_found(quote: str, source_text: str) -> bool:
    """Tell whether ``quote`` occurs verbatim in ``source_text`` (up to whitespace/markup)."""
    needle = normalize_quote_text(quote)
    return bool(needle) and needle in normalize_quote_text(source_text)


def citation_faithfulness(
    references: Sequence[Mapping[str, object]], sources: Mapping[str, str]
) -> tuple[float | None, int, int]:
    """Return the share of reference quotes found in their sources, and the counts.

    Args:
        references: The run's references (``url`` and ``exactQuote``).
        sources: Text known for each URL (the passages read, or the page re-read).

    Returns:
        ``(share or None when there are no quotes, quotes found, quotes checked)``.
    """
    checked = found = 0
    for ref in references:
        quote = str(ref.get("exactQuote") or "")
        if not quote.strip():
            continue
        checked += 1
        if quote_found(quote, sources.get(str(ref.get("url", "")), "")):
            found += 1
    return (found / checked if checked else None), found, checked

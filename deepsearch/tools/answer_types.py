"""Answer types: tell from a question what kind of answer it wants (a date, a number).

A passage holding that kind of answer is a bit more likely to answer the question.
"""

from __future__ import annotations

import re

_WHEN_RE = re.compile(
    r"^(when|in what year|what year|which year|what date)\b|\b(when|what year) did\b|\bwhen\W*$"
)
_HOW_MANY_RE = re.compile(
    r"\bhow (many|much|long|old|far|tall|big|large)\b|\bwhat (percentage|number)\b"
)
_DATE_RE = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b|\b\d{1,2}(st|nd|rd|th)? century\b", re.I)
_NUMBER_RE = re.compile(r"\d")


def answer_pattern(question: str) -> re.Pattern[str] | None:
    """Return a pattern for the kind of answer a question asks for (a date, a number), if any.

    Args:
        question: The question.

    Returns:
        A compiled pattern, or None when the answer type is not recognisable.
    """
    q = question.strip().lower()
    if _WHEN_RE.search(q):
        return _DATE_RE
    if _HOW_MANY_RE.search(q):
        return _NUMBER_RE
    return None

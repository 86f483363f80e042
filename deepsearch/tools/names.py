"""Names in text: the capitalised names and numbers that multi-hop feedback follows.

The best passages for a multi-hop question name the bridge entity that the next
passage is about; passage selection and URL ranking add those names to the question.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

from deepsearch.tools.embeddings.local import tokenize

_QUALIFIER_RE = re.compile(r"\s+\(|,\s|\s[-|–—·:]\s")
_NAME_RE = re.compile(r"\b[A-Z0-9][\w'’-]*(?:\s+(?:of|the|de|von|van|and|&)?\s*[A-Z0-9][\w'’-]*)*")


def _starts_sentence(text: str, pos: int) -> bool:
    """Whether ``pos`` opens a sentence or line of ``text`` (quotes and brackets aside)."""
    before = text[:pos].rstrip(" \t\"'“‘(")
    return not before or before[-1] in ".!?\n"


def name_terms(
    texts: Sequence[str], exclude: set[str], common: Callable[[str], bool] | None = None
) -> Counter[str]:
    """Return the terms of the capitalised names and numbers in ``texts``, minus ``exclude``.

    Used for pseudo-relevance feedback: the best passages for a multi-hop
    question name the bridge entity that the next passage is about.

    Args:
        texts: Texts to take names from (the best-scoring documents).
        exclude: Terms to leave out (those of the question).
        common: Tells whether a word is an ordinary word (say, it occurs in
            lower case on the page); a single capitalised word opening a
            sentence is then no name. None: every capitalised word counts.

    Returns:
        Each new term once.
    """
    found: Counter[str] = Counter()
    for text in texts:
        for m in _NAME_RE.finditer(text):
            name = m.group(0)
            if (
                common is not None
                and " " not in name
                and _starts_sentence(text, m.start())
                and common(name)
            ):
                continue  # "However", "Born": capitalised only because a sentence starts
            for term in tokenize(name):
                if term not in exclude:
                    found[term] = 1
    return found


def in_lower_case(word: str, page: str) -> bool:
    """Tell whether ``word`` occurs in lower case on ``page`` (an ordinary word, not a name).

    Args:
        word: A capitalised word.
        page: The text to look in.

    Returns:
        True when the lower-case form occurs as a whole word (never for numbers).
    """
    lower = word.lower()
    at = page.find(lower) if lower != word else -1  # a number has no case to tell by
    while at >= 0:  # str.find, not a regex: a regex scan of a 1 MB page costs ~30 ms
        end = at + len(lower)
        if not page[at - 1 : at].isalnum() and not page[end : end + 1].isalnum():
            return True
        at = page.find(lower, at + 1)
    return False


def heading_name(heading: str) -> str:
    """Return the name a heading gives, without its disambiguating qualifier.

    Encyclopedias title a page by its subject's name plus, when names clash, a
    qualifier: ``"Brand (play)"`` is about Brand, ``"Indianola, Iowa"`` about
    Indianola. Web page titles add the site's name or a subtitle after a
    spaced dash, bar or colon: ``"Henrik Ibsen - Wikipedia"``.

    Args:
        heading: A heading's or page title's text (without the ``#`` marks).

    Returns:
        The text before the first `` (``, ``, `` or spaced separator
        (`` - ``, `` | ``, `` – ``, `` — ``, `` · ``, `` : ``); the whole heading when it has none.
    """
    return _QUALIFIER_RE.split(heading, maxsplit=1)[0]

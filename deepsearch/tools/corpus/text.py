"""Documents and their passages: the unit the corpus index stores."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from deepsearch.tools.chunking import is_heading

PASSAGE_CHARS = 1000
MAX_PASSAGE_CHARS = 1500
MAX_HEADING_CHARS = 200
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_URL_UNSAFE = re.compile(r"[\x00-\x20%?#\"<>\\^`{|}\[\]\x7f]")


@dataclass
class Document:
    """A document to index: its URL, title, date and text split into passages."""

    url: str
    title: str
    passages: list[str]
    date: str | None = None


def split_passages(text: str, size: int = PASSAGE_CHARS) -> list[str]:
    """Split text into passages of about ``size`` characters at paragraph/sentence ends.

    A markdown heading line ("## Early life") starts a new passage and stays on
    its own line above the text that follows, so readers of the document still
    see its sections.

    Args:
        text: Plain text or markdown.
        size: Target passage length; no passage exceeds :data:`MAX_PASSAGE_CHARS`.

    Returns:
        Non-empty passages in order.
    """
    pieces: list[tuple[str, bool]] = []  # (text, is a heading)
    for paragraph in re.split(r"\n\s*\n", text):
        head, _, rest = paragraph.strip().partition("\n")
        if is_heading(head):
            pieces.append((" ".join(head.split())[:MAX_HEADING_CHARS], True))
            paragraph = rest
        paragraph = " ".join(paragraph.split())
        if len(paragraph) <= MAX_PASSAGE_CHARS:
            if paragraph:
                pieces.append((paragraph, False))
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            while len(sentence) > MAX_PASSAGE_CHARS:
                pieces.append((sentence[:MAX_PASSAGE_CHARS], False))
                sentence = sentence[MAX_PASSAGE_CHARS:]
            if sentence:
                pieces.append((sentence, False))
    passages: list[str] = []
    current = ""
    after_heading = False
    for piece, heading in pieces:
        joined = len(current) + 1 + len(piece)
        # The text after a heading joins it even past ``size``, within the hard cap.
        full = joined > (MAX_PASSAGE_CHARS if after_heading else size)
        if current and (heading or full):
            passages.append(current)
            current = ""
        glue = "\n" if after_heading else " "
        current = f"{current}{glue}{piece}" if current else piece
        after_heading = heading
    if current:
        passages.append(current)
    return passages


def quote_path(text: str, *, keep_slash: bool = True) -> str:
    """Percent-encode what cannot stand in a URL path, keeping Unicode letters readable.

    Args:
        text: A relative path or a title.
        keep_slash: Whether ``/`` separates path segments (else it is encoded).

    Returns:
        The encoded text.
    """
    encoded = _URL_UNSAFE.sub(lambda m: quote(m.group(0), safe=""), text)
    return encoded if keep_slash else encoded.replace("/", "%2F")

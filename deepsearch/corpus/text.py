"""Documents and their passages: the unit the corpus index stores."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

PASSAGE_CHARS = 1000
MAX_PASSAGE_CHARS = 1500
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

    Args:
        text: Plain text.
        size: Target passage length; no passage exceeds :data:`MAX_PASSAGE_CHARS`.

    Returns:
        Non-empty passages in order.
    """
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = " ".join(paragraph.split())
        if len(paragraph) <= MAX_PASSAGE_CHARS:
            if paragraph:
                pieces.append(paragraph)
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            while len(sentence) > MAX_PASSAGE_CHARS:
                pieces.append(sentence[:MAX_PASSAGE_CHARS])
                sentence = sentence[MAX_PASSAGE_CHARS:]
            if sentence:
                pieces.append(sentence)
    passages: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > size:
            passages.append(current)
            current = piece
        else:
            current = f"{current} {piece}" if current else piece
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

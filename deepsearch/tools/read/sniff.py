"""Content sniffing and decoding: what a fetched body is, and its text.

The header says one thing, the bytes sometimes another: :func:`sniff_kind` lets
unambiguous bytes win, and :func:`decode` tries the BOM, the header charset,
``<meta charset>`` and then detection.
"""

from __future__ import annotations

import codecs
import re

_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_TYPES = {
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/x-tar",
    "application/x-7z-compressed",
    "application/x-rar-compressed",
    "application/vnd.rar",
    "application/x-msdownload",
    "application/x-executable",
    "application/wasm",
    "application/vnd.ms-excel",
    "application/msword",
}
_TEXT_TYPES = {
    "application/json",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/javascript",
    "application/x-yaml",
    "application/ld+json",
}
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_SNIFF_RE = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<title[\s>]", re.I)


def parse_content_type(header: str | None) -> tuple[str, str | None]:
    """Split a Content-Type header into its lowercase media type and charset.

    Args:
        header: The header value (may be ``None``).

    Returns:
        ``(media_type, charset)``; ``("", None)`` when absent.
    """
    if not header:
        return "", None
    parts = [p.strip() for p in header.split(";")]
    charset = None
    for p in parts[1:]:
        key, _, value = p.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return parts[0].lower(), charset


def is_binary_type(content_type: str) -> bool:
    """Tell whether a media type is a binary we never extract (images, archives, ...).

    Args:
        content_type: A lowercase media type.

    Returns:
        True for known binaries.
    """
    return content_type.startswith(_BINARY_PREFIXES) or content_type in _BINARY_TYPES


def sniff_kind(content_type: str, body: bytes) -> str:
    """Decide how to extract a body: ``"pdf"``, ``"html"``, ``"text"`` or ``"binary"``.

    The bytes win over the header when they are unambiguous (a PDF served as
    ``text/html``, HTML served as ``application/octet-stream``).

    Args:
        content_type: The lowercase media type from the header ("" when absent).
        body: The (possibly truncated) body.

    Returns:
        The kind.
    """
    head = body[:1024].lstrip()
    if head.startswith(b"%PDF-") or content_type == "application/pdf":
        return "pdf"
    if is_binary_type(content_type):
        return "binary"
    if content_type in ("text/html", "application/xhtml+xml") or _HTML_SNIFF_RE.search(head):
        return "html"
    if content_type.startswith("text/") or content_type in _TEXT_TYPES or looks_like_text(body):
        return "text"
    return "binary"


def looks_like_text(body: bytes) -> bool:
    """Tell whether bytes look like text (few control characters, no NULs).

    Args:
        body: Raw bytes.

    Returns:
        True when the sample looks textual.
    """
    sample = body[:4096]
    if not sample:
        return False
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(sample) < 0.05


def decode(body: bytes, charset: str | None, *, html: bool = False) -> str:
    """Decode a body: BOM, then the header charset, then ``<meta charset>``, then detection.

    Args:
        body: Raw bytes.
        charset: The charset from the Content-Type header, if any.
        html: Look for a ``<meta charset>`` declaration.

    Returns:
        The text (undecodable bytes replaced).
    """
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(name, errors="replace")
    candidates: list[str] = []
    if charset:
        candidates.append(charset)
    if html:
        m = _META_CHARSET_RE.search(body[:8192])
        if m:
            candidates.append(m.group(1).decode("ascii", "ignore"))
    for name in candidates:
        try:
            codecs.lookup(name)
        except LookupError:
            continue
        return body.decode(name, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        wide = best is not None and best.encoding.startswith(("utf_16", "utf_32"))
        if best is not None and best.encoding and not (wide and b"\x00" not in body[:4096]):
            return body.decode(best.encoding, errors="replace")
    except ImportError:  # pragma: no cover - charset_normalizer ships with httpx's deps
        pass
    return body.decode("cp1252", errors="replace")

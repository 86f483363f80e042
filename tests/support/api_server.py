"""Helpers for the API server tests: a scripted graph, server settings, tiny attachments."""

from __future__ import annotations

import base64
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from deepsearch.api import build_graph
from deepsearch.server.config import ServerSettings
from deepsearch.settings import Settings
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.brain import Brain
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.testweb import DEFAULT_PAGES, WebPage

PAGES: dict[str, WebPage] = {f"https://example.org{p}": page for p, page in DEFAULT_PAGES.items()}
QUESTION = "Who designed the Statue of Liberty?"
# The smallest PNG the server accepts: the signature and an IHDR chunk.
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89"
)


def local_settings(**values: Any) -> Settings:
    """Provider settings that never leave loopback and ignore the environment's .env."""
    return Settings(DEEPSEARCH_EMBEDDINGS="local", _env_file=None, **values)  # type: ignore[call-arg]


def server_settings(**values: Any) -> ServerSettings:
    """Server settings from explicit values only (no .env)."""
    return ServerSettings(_env_file=None, **values)  # type: ignore[call-arg]


def scripted_graph(
    model: AsyncScriptedChatModel, pages: dict[str, WebPage] | None = None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A DeepSearch graph on the scripted model and in-memory search and reader."""
    pages = pages if pages is not None else PAGES
    return build_graph(
        model=model,
        search=MemorySearch(pages),
        reader=MemoryReader(pages),
        settings=local_settings(),
        team=False,
    )


def new_model(brain: Brain | None = None, **options: Any) -> AsyncScriptedChatModel:
    """An async scripted model on a fresh (or the given) brain."""
    return AsyncScriptedChatModel(brain=brain or Brain(), **options)


def data_uri(media_type: str, payload: bytes) -> str:
    """Encode bytes as a base64 data URI."""
    return f"data:{media_type};base64,{base64.b64encode(payload).decode()}"


def minimal_pdf(text: str) -> bytes:
    """Build a one-page PDF whose text layer says ``text`` (ASCII, no parentheses)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)

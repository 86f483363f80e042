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
from tests.support.pdf import minimal_pdf as minimal_pdf  # re-exported for the server tests
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

"""Ask a self-hosted model server how long its context window is.

A local server's window is whatever it was started with (``llama-server -c 4096``,
``vllm serve --max-model-len``, Ollama's ``num_ctx``), often far below the model's
nominal length, and a prompt that overflows it fails (llama.cpp, vLLM) or is silently
cut (Ollama). So the window is asked of the server once per endpoint and model:

- llama.cpp's server: ``GET /props``, ``default_generation_settings.n_ctx`` (the
  context of one slot; it lives at the server root, not under ``/v1``);
- vLLM: ``GET /v1/models``, the model's ``max_model_len``;
- Ollama: ``GET /api/ps``, the loaded model's ``context_length``; else ``POST
  /api/show``, a ``num_ctx`` parameter, else the model's own length capped at
  Ollama's smallest default (:data:`OLLAMA_DEFAULT_CONTEXT`).

Only base URLs of self-hosted servers are asked (loopback, private addresses, single-
label or ``.local`` host names); a hosted API is never called for this. Discovery is
bounded by a short timeout and never raises: when nothing answers, the caller falls
back to the known-model table (:mod:`deepsearch.tools.tokens`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from deepsearch.settings import Settings
from deepsearch.tools.tokens import configured_context_window

log = logging.getLogger(__name__)

# What the whole discovery of one endpoint may take (seconds).
DISCOVERY_TIMEOUT = 3.0
# How long an answer is kept: a found window for a while (a server restarted with a
# new size is seen again), a failure briefly (a server still starting is asked again).
FOUND_TTL = 600.0
FAILED_TTL = 30.0
# Ollama's documented default context on small machines (< 24 GiB of VRAM); older
# versions used 2,048. Used when a model is neither loaded nor given ``num_ctx``.
OLLAMA_DEFAULT_CONTEXT = 4_096
# Bounds on a plausible answer: anything else is a misreading, not a window.
MIN_WINDOW, MAX_WINDOW = 256, 10_000_000
_LOCAL_SUFFIXES = (".local", ".internal", ".lan", ".home.arpa", ".localhost")
_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)\s*$", re.MULTILINE)

_cache: dict[tuple[str, str], tuple[float, int | None]] = {}


def is_self_hosted(base_url: str | None) -> bool:
    """Tell whether a base URL points at a self-hosted server (which may be asked).

    Loopback, private and link-local addresses, ``localhost``, single-label host
    names (``ollama``, a Docker service) and ``.local``-style names count; any other
    host is treated as a hosted API and never asked.
    """
    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").lower().rstrip(".")
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith(_LOCAL_SUFFIXES)
    return address.is_loopback or address.is_private or address.is_link_local


def server_root(base_url: str) -> str:
    """Return a base URL without its trailing ``/v1`` (where ``/props`` and ``/api`` live)."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _window(value: Any) -> int | None:
    """Return ``value`` as a context window when it is a plausible one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if MIN_WINDOW <= number <= MAX_WINDOW else None


async def _llamacpp(client: httpx.AsyncClient, base_url: str, model: str) -> int | None:
    """Read ``n_ctx`` from llama.cpp's ``/props`` (per slot; older servers put it on top)."""
    response = await client.get(server_root(base_url) + "/props")
    if response.status_code != 200:
        return None
    props = response.json()
    settings = props.get("default_generation_settings") or {}
    return _window(settings.get("n_ctx")) or _window(props.get("n_ctx"))


async def _vllm(client: httpx.AsyncClient, base_url: str, model: str) -> int | None:
    """Read the served model's ``max_model_len`` from ``/v1/models`` (vLLM)."""
    response = await client.get(base_url.rstrip("/") + "/models")
    if response.status_code != 200:
        return None
    entries = [e for e in response.json().get("data") or [] if isinstance(e, dict)]
    named = [e for e in entries if e.get("id") == model] or (entries if len(entries) == 1 else [])
    return _window(named[0].get("max_model_len")) if named else None


async def _ollama(client: httpx.AsyncClient, base_url: str, model: str) -> int | None:
    """Read Ollama's window: the loaded model's, else ``num_ctx``, else a capped default."""
    root = server_root(base_url)
    response = await client.get(root + "/api/ps")
    if response.status_code != 200:
        return None  # not Ollama
    wanted = {model, f"{model}:latest"}
    for entry in response.json().get("models") or []:
        if isinstance(entry, dict) and wanted & {entry.get("name"), entry.get("model")}:
            loaded = _window(entry.get("context_length"))
            if loaded:
                return loaded
    response = await client.post(root + "/api/show", json={"model": model})
    if response.status_code != 200:
        return None
    shown = response.json()
    match = _NUM_CTX.search(str(shown.get("parameters") or ""))
    if match:
        return _window(match.group(1))
    info = shown.get("model_info") or {}
    arch = info.get("general.architecture")
    nominal = _window(info.get(f"{arch}.context_length")) if arch else None
    return min(nominal or OLLAMA_DEFAULT_CONTEXT, OLLAMA_DEFAULT_CONTEXT)


Probe = Callable[[httpx.AsyncClient, str, str], Awaitable[int | None]]
PROBES: tuple[Probe, ...] = (_llamacpp, _vllm, _ollama)


async def _ask(base_url: str, model: str, timeout: float) -> int | None:
    """Try each server kind's endpoint in turn; the first plausible window wins."""
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        for probe in PROBES:
            try:
                found = await probe(client, base_url, model)
            except (httpx.HTTPError, ValueError, AttributeError, TypeError) as exc:
                log.debug("context probe %s at %s failed: %s", probe.__name__, base_url, exc)
                continue
            if found:
                log.info("context window of %s at %s: %d tokens", model, base_url, found)
                return found
    return None


async def discover_context_window(
    base_url: str | None, model: str, *, timeout: float = DISCOVERY_TIMEOUT
) -> int | None:
    """Return the context window a self-hosted server reports for ``model``, or None.

    Answers are cached per base URL and model. Never raises; a hosted API (or no
    base URL) gives None without any request.

    Args:
        base_url: The OpenAI-compatible base URL (``http://localhost:8080/v1``).
        model: The model name the server knows.
        timeout: Seconds the whole discovery may take.
    """
    if not base_url or not is_self_hosted(base_url):
        return None
    key = (base_url.rstrip("/"), model)
    cached = _cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    try:
        found = await asyncio.wait_for(_ask(key[0], model, timeout), timeout)
    except (TimeoutError, OSError, RuntimeError) as exc:
        log.info("context window of %s at %s not discovered: %r", model, base_url, exc)
        found = None
    _cache[key] = (time.monotonic() + (FOUND_TTL if found else FAILED_TTL), found)
    return found


def forget_discovered() -> None:
    """Drop every cached answer (a server was restarted with another context size)."""
    _cache.clear()


async def context_window_for(settings: Settings) -> int:
    """Return the window runs with ``settings`` get: configured, discovered, known or default."""
    if settings.llm_context:
        return settings.llm_context
    found = await discover_context_window(settings.openai_base_url, settings.model)
    return found or configured_context_window(settings)


# How servers word a prompt longer than their window (llama.cpp, llama-cpp-python,
# vLLM and OpenAI), with the window's size where they give it.
_OVERFLOW_WORDS = re.compile(
    r"exceeds? the available context size|exceed context window|maximum context length"
    r"|context_length_exceeded|exceed_context_size|context window|prompt is too long",
    re.IGNORECASE,
)
_WINDOW_IN_MESSAGE = re.compile(
    r"available context size \((\d+) tokens\)|context window of (\d+)"
    r"|maximum context length is (\d+)",
    re.IGNORECASE,
)
_PROMPT_IN_MESSAGE = re.compile(r"request \((\d+) tokens\)|requested tokens \((\d+)\)", re.I)


def overflow_of(exc: BaseException) -> tuple[int | None, int | None] | None:
    """Tell whether a failed call overflowed the server's context window.

    Returns:
        None when ``exc`` is something else; else the window and the prompt's tokens
        as the server reported them (each None when it did not say).
    """
    status = getattr(exc, "status_code", None)
    if status not in (400, 413) and type(exc).__name__.find("ContextOverflow") < 0:
        return None
    body = getattr(exc, "body", None)
    text = f"{exc} {body}"
    if not _OVERFLOW_WORDS.search(text):
        return None
    details = body if isinstance(body, dict) else {}
    window = _window(details.get("n_ctx"))
    prompt = _window(details.get("n_prompt_tokens"))
    if window is None and (match := _WINDOW_IN_MESSAGE.search(text)):
        window = _window(next(g for g in match.groups() if g))
    if prompt is None and (match := _PROMPT_IN_MESSAGE.search(text)):
        prompt = _window(next(g for g in match.groups() if g))
    return window, prompt

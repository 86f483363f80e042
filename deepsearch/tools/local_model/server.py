"""Serve a local GGUF model behind llama.cpp's OpenAI-compatible server, in this process.

The server is the one bundled in the ``xllamacpp`` wheel (``pip install
'deepsearch[local]'``): llama.cpp's own ``llama-server``, prebuilt, no compiler needed.
It serves ``/v1/chat/completions`` (``response_format`` json_schema and json_object),
``/props`` (its context size, which DeepSearch reads) and ``/health`` from background
threads for as long as the returned handle lives.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from deepsearch.tools.local_model.parts import ModelSetupError, ModelSpec

DEFAULT_PORT = 8080
# On a CPU a prompt is read at tens of tokens a second: 8k tokens of context keep one
# call under a few minutes on a small machine (the model itself holds 32k).
DEFAULT_CONTEXT = 8_192
MIN_CONTEXT = 2_048
READY_TIMEOUT = 300.0
# Seconds DeepSearch should wait for one reply of a CPU-served model (its default is 120).
LLM_TIMEOUT = 900


@dataclass
class LocalServer:
    """A running local model server.

    Attributes:
        base_url: Its OpenAI-compatible base URL (``http://127.0.0.1:8080/v1``).
        served_name: The model name it answers to.
        n_ctx: Its context window in tokens.
        handle: The ``xllamacpp.Server``; the server stops when it is released.
    """

    base_url: str
    served_name: str
    n_ctx: int
    handle: Any = None

    def env(self) -> dict[str, str]:
        """Return the environment that points DeepSearch at this server."""
        return {
            "OPENAI_BASE_URL": self.base_url,
            "DEEPSEARCH_MODEL": self.served_name,
            "DEEPSEARCH_STRUCTURED_OUTPUT": "json_schema",
            "DEEPSEARCH_LLM_TIMEOUT": str(LLM_TIMEOUT),
        }

    def close(self) -> None:
        """Stop the server (llama.cpp's server stops when its object is released)."""
        self.handle = None


def default_threads() -> int:
    """Return the CPU threads to generate with: the cores this process may use, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(1, min(cores, 8))


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`ModelSetupError` when ``host:port`` is already taken."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ModelSetupError(
                f"port {port} on {host} is in use ({exc.strerror}); choose another with --port"
            ) from None


def start_llama_server(
    model: Path, *, served_name: str, port: int, n_ctx: int, threads: int, host: str
) -> Any:
    """Start llama.cpp's server on ``model`` and return its handle (it serves in threads)."""
    try:
        import xllamacpp
    except ImportError:
        raise ModelSetupError(
            "the local model server needs xllamacpp: pip install 'deepsearch[local]' "
            "(scripts/local-model.sh installs it into .venv)"
        ) from None
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.hostnames = [host]
    params.port = port
    params.n_ctx = n_ctx
    params.n_parallel = 1  # one slot: the whole context for one request, one prompt cache
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.model_alias = {served_name}
    params.use_jinja = True  # the GGUF's own chat template
    params.cache_prompt = True
    return xllamacpp.Server(params)


def wait_ready(base_url: str, timeout: float = READY_TIMEOUT) -> None:
    """Wait until the server at ``base_url`` says its model is loaded (``GET /health``).

    Raises:
        ModelSetupError: It did not get ready within ``timeout`` seconds.
    """
    root = base_url.rstrip("/").removesuffix("/v1")
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(root + "/health", timeout=5.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise ModelSetupError(f"the model server at {root} was not ready in {timeout:.0f} s ({last})")


def serve_model(
    spec: ModelSpec,
    model: Path,
    *,
    port: int = DEFAULT_PORT,
    n_ctx: int = DEFAULT_CONTEXT,
    threads: int | None = None,
    host: str = "127.0.0.1",
    ready_timeout: float = READY_TIMEOUT,
) -> LocalServer:
    """Start the model's server and wait until it answers.

    Args:
        spec: The model (its served name).
        model: The assembled ``.gguf`` (see :func:`.parts.ensure_model`).
        port: The port to listen on.
        n_ctx: The context window in tokens.
        threads: CPU threads (:func:`default_threads` by default).
        host: The address to listen on (loopback by default).
        ready_timeout: Seconds to wait for the model to load.
    """
    if n_ctx < MIN_CONTEXT:
        raise ModelSetupError(f"a context of {n_ctx} tokens is too small: use {MIN_CONTEXT}+")
    check_port_free(host, port)
    handle = start_llama_server(
        model,
        served_name=spec.served_name,
        port=port,
        n_ctx=n_ctx,
        threads=threads or default_threads(),
        host=host,
    )
    server = LocalServer(f"http://{host}:{port}/v1", spec.served_name, n_ctx, handle)
    try:
        wait_ready(server.base_url, ready_timeout)
    except BaseException:
        server.close()
        raise
    return server

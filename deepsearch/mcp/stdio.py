"""``deepsearch mcp``: the MCP server over stdio, for desktop hosts that start it themselves.

Standard output carries the protocol and nothing else. The process's file descriptor
1 is duplicated for the protocol, then pointed at stderr, and ``sys.stdout`` follows
it: a stray ``print``, a library's warning or a child process writing to "stdout"
lands in the host's log instead of corrupting the JSON-RPC stream. Logging goes to
stderr too.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

import anyio
from mcp.server.stdio import stdio_server

from deepsearch.mcp.server import DeepSearchMCP
from deepsearch.settings import ConfigurationError

log = logging.getLogger(__name__)


def claim_stdout() -> TextIO:
    """Return a private stream to the real stdout; send everything else written there to stderr."""
    sys.stdout.flush()
    protocol_fd = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    # Open for the life of the process, like stdout itself.
    return open(protocol_fd, "w", encoding="utf-8", newline="\n")


def configure_logging(level: str) -> None:
    """Log to stderr: DeepSearch at ``level``, other libraries at warnings and above."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("deepsearch").setLevel(level.upper())


async def serve_stdio(mcp: DeepSearchMCP, protocol_out: TextIO) -> None:
    """Serve ``mcp`` on stdin and ``protocol_out`` until the client closes stdin."""
    async with stdio_server(stdout=anyio.wrap_file(protocol_out)) as (read, write):
        await mcp.server.run(read, write, mcp.server.create_initialization_options())


def run_stdio(mcp: DeepSearchMCP | None = None, *, log_level: str = "info") -> None:
    """Run the MCP server over stdio until the client goes away.

    Args:
        mcp: The server; defaults to one on the environment's settings.
        log_level: Level of DeepSearch's own log lines on stderr.
    """
    protocol_out = claim_stdout()
    configure_logging(log_level)
    server = mcp or DeepSearchMCP()
    try:
        if not server.settings().llm_configured():
            log.warning("No LLM is configured: deep_search calls will answer with how to set one.")
    except ConfigurationError as exc:  # reported again by every call
        log.warning("The configuration cannot be used: %s", exc)
    log.info("DeepSearch MCP server on stdio (tool: deep_search)")
    anyio.run(serve_stdio, server, protocol_out)

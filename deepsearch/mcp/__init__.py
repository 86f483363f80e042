"""DeepSearch as an MCP tool (Model Context Protocol), on the official ``mcp`` SDK.

One tool, ``deep_search``: a question and DeepSearch's options in; the answer as
Markdown with footnotes plus structured content (references with their quotes,
URLs seen and read, tokens) out; progress notifications while it runs; cancelled
when the client cancels. Two transports: stdio (:func:`.stdio.run_stdio`, the
``deepsearch mcp`` command) and streamable HTTP (:class:`.http.StreamableHTTPEndpoint`,
mounted at ``/mcp`` by ``deepsearch serve``).

Module names are absolute (``deepsearch.mcp``), so this package never hides the SDK's
top-level ``mcp`` package.
"""

from __future__ import annotations

from deepsearch.mcp.server import TOOL_NAME, DeepSearchMCP

__all__ = ["TOOL_NAME", "DeepSearchMCP"]

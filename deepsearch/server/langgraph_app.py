"""The HTTP app ``langgraph dev`` serves next to its own API (``http.app`` in langgraph.json).

It is the OpenAI-compatible API of :mod:`deepsearch.server.app` with DeepSearch's MCP
endpoint at ``/deepsearch/mcp`` rather than ``/mcp``. The LangGraph server has an MCP
endpoint of its own at ``/mcp`` (every deployed graph as a tool), and it places the
routes of this app before its own, so ours at ``/mcp`` would hide it.
"""

from __future__ import annotations

from deepsearch.server.app import create_app

MCP_PATH = "/deepsearch/mcp"

app = create_app(mcp_path=MCP_PATH)

"""A LangGraph agent that calls DeepSearch through MCP, with langchain-mcp-adapters.

    python examples/mcp_agent.py "Who designed the Statue of Liberty?"
    python examples/mcp_agent.py --url http://127.0.0.1:8000/mcp --api-key KEY "..."

Without ``--url`` the agent starts ``deepsearch mcp`` itself (stdio) with this
process's environment, so both use the same model and search settings; with it, the
agent connects to a running ``deepsearch serve`` over streamable HTTP. The agent's
model comes from ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` / ``DEEPSEARCH_MODEL`` and
must support tool calling. DeepSearch's progress notifications print as they arrive.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langchain_mcp_adapters.callbacks import CallbackContext, Callbacks
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.sessions import Connection
from langchain_mcp_adapters.tools import load_mcp_tools

from deepsearch.settings import get_settings
from deepsearch.tools.llm import make_chat_model


def connection(url: str | None, api_key: str | None) -> Connection:
    """Return how to reach DeepSearch's MCP server: a URL, else a ``deepsearch mcp`` process."""
    if url:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        return {"transport": "streamable_http", "url": url, "headers": headers}
    return {
        "transport": "stdio",
        "command": sys.executable,
        "args": ["-m", "deepsearch.cli", "mcp", "--log-level", "warning"],
        "env": dict(os.environ),
    }


async def show_progress(
    progress: float, total: float | None, message: str | None, context: CallbackContext
) -> None:
    """Print one progress notification of a tool call."""
    budget = f" ({progress:,.0f}/{total:,.0f} tokens)" if total else ""
    print(f"[{context.server_name}] {message}{budget}", flush=True)


def text_of(content: Any) -> str:
    """Return the text of a message's content (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if isinstance(block, dict))


async def main(question: str, url: str | None, api_key: str | None) -> None:
    """Let the agent research ``question`` with DeepSearch's MCP tool, then print its reply."""
    callbacks = Callbacks(on_progress=show_progress)
    client = MultiServerMCPClient({"deepsearch": connection(url, api_key)}, callbacks=callbacks)
    async with client.session("deepsearch") as session:  # one server for the whole agent run
        tools = await load_mcp_tools(session, callbacks=callbacks, server_name="deepsearch")
        agent = create_agent(
            make_chat_model(get_settings()),
            tools=tools,
            system_prompt="Use deep_search for factual questions; cite its footnotes.",
        )
        out = await agent.ainvoke({"messages": [{"role": "user", "content": question}]})
    for message in out["messages"]:
        if isinstance(message, ToolMessage):
            print(f"\nTool {message.name} answered:\n{text_of(message.content)}")
            artifact = message.artifact if isinstance(message.artifact, dict) else {}
            data = artifact.get("structured_content")  # the tool's structured result
            if data:
                pages, tokens = len(data["readURLs"]), data["usage"]["total_tokens"]
                print(f"({pages} pages read, {tokens:,} tokens)")
    print("\nAgent:", text_of(out["messages"][-1].content))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question")
    parser.add_argument("--url", help="A DeepSearch MCP endpoint, e.g. http://127.0.0.1:8000/mcp")
    parser.add_argument("--api-key", help="The server's DEEPSEARCH_API_KEY, if it has one.")
    args = parser.parse_args()
    asyncio.run(main(args.question, args.url, args.api_key))

"""Talk to DeepSearch served by `langgraph dev` (or LangGraph Server) with the LangGraph SDK.

Start the server in the repository root, then run this client:

    langgraph dev --no-browser --port 2024
    python examples/sdk_client.py "Who designed the Statue of Liberty?"

It creates a thread, starts a run, prints the reasoning as it streams (the custom
stream mode) and then the final answer read back from the thread's state.
Set LANGGRAPH_URL when the server is not on http://127.0.0.1:2024.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from langgraph_sdk import get_client


async def main(question: str, url: str, effort: str) -> None:
    """Run one question on the server and print the reasoning, then the answer."""
    client = get_client(url=url)
    thread = await client.threads.create()
    async for part in client.runs.stream(
        thread["thread_id"],
        "deepsearch",
        input={"question": question},
        context={"reasoning_effort": effort},
        stream_mode=["custom", "values"],
    ):
        if part.event == "custom" and isinstance(part.data, dict):
            print(f"  [{part.data.get('kind')}] {part.data.get('text', '')}"[:160])
    state = await client.threads.get_state(thread["thread_id"])
    answer = state["values"]["answer"]  # type: ignore[call-overload]
    print("\nAnswer:", answer["text"])
    for n, ref in enumerate(answer["references"], start=1):
        print(f"[^{n}]: {ref['url']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question")
    parser.add_argument("--url", default=os.environ.get("LANGGRAPH_URL", "http://127.0.0.1:2024"))
    parser.add_argument("--effort", default="low", choices=["low", "medium", "high"])
    args = parser.parse_args()
    asyncio.run(main(args.question, args.url, args.effort))

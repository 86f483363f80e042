"""Serve the scripted brain as an OpenAI-compatible LLM on 127.0.0.1 until interrupted.

For trying the CLI and the eval harness offline:

    python -m tests.support.serve_brain --port 8765 &
    OPENAI_BASE_URL=http://127.0.0.1:8765/v1 DEEPSEARCH_MODEL=brain deepsearch ask "..."
"""

from __future__ import annotations

import argparse

import uvicorn

from tests.support.brain import Brain
from tests.support.llm_server import LLMServer


def main() -> None:
    """Parse ``--port`` and ``--delay`` and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per reply")
    args = parser.parse_args()
    server = LLMServer(Brain(), delay=args.delay)
    uvicorn.run(server.app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

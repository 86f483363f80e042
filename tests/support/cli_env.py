"""Run the ``deepsearch`` command in a subprocess against local servers only.

The environment is built from scratch (no inherited keys, no project ``.env``: the
command runs in a temporary folder), so what a test sees is what it configured.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def base_env(home: Path, **extra: str) -> dict[str, str]:
    """Return a minimal environment for the CLI: no LLM, nothing beyond loopback."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "DEEPSEARCH_HOME": str(home / ".deepsearch"),
        "PYTHONPATH": str(PROJECT),
        "LANG": "C.UTF-8",
        "COLUMNS": "200",
        "LANGSMITH_TRACING": "false",
        "NO_PROXY": "*",
    }
    env.update(extra)
    return env


def llm_env(home: Path, llm_base_url: str, **extra: str) -> dict[str, str]:
    """Return an environment whose LLM is the test server at ``llm_base_url``."""
    return base_env(
        home,
        OPENAI_BASE_URL=f"{llm_base_url}/v1",
        OPENAI_API_KEY="sk-test-not-a-real-key",
        DEEPSEARCH_MODEL="brain",
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_CACHE=str(home / "cache.sqlite3"),
        **extra,
    )


def command(*args: str) -> list[str]:
    """Return the argv that runs ``deepsearch args...`` with this interpreter."""
    return [sys.executable, "-m", "deepsearch.cli", *args]


def run_cli(
    args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``deepsearch args...`` to completion and capture its output."""
    return subprocess.run(
        command(*args),
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

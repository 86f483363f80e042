"""Run `langgraph dev` on loopback as a subprocess, offline, with the repository's langgraph.json.

The config is copied into a temp folder with absolute paths (so the server's
``.langgraph_api`` state stays out of the repository). Routes of ``http.app`` are
dropped when the app module does not exist yet, and the reason is kept for a skip.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
OFFLINE_ENV = {
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
}
# Variables of the parent process that could send traffic elsewhere or change the run.
DROPPED_PREFIXES = ("LANGSMITH_", "LANGCHAIN_", "OPENAI_", "DEEPSEARCH_", "JINA_", "BRAVE_")


@dataclass
class DevServer:
    """A running `langgraph dev`: its base URL, and why ``http.app`` is absent (if it is)."""

    url: str
    http_app_missing: str | None
    log_path: Path


def _absolute(target: str) -> str:
    path, _, attr = target.partition(":")
    return f"{(REPO / path).resolve()}:{attr}" if attr else str((REPO / path).resolve())


def prepare_config(folder: Path) -> tuple[Path, str | None]:
    """Write the repository's langgraph.json into ``folder`` with absolute paths."""
    config = json.loads((REPO / "langgraph.json").read_text())
    config["dependencies"] = [str(REPO)]
    for name, graph in config["graphs"].items():
        if isinstance(graph, dict):
            graph["path"] = _absolute(graph["path"])
        else:
            config["graphs"][name] = _absolute(graph)
    missing = None
    app = config.get("http", {}).get("app")
    if app:
        app_file = REPO / app.partition(":")[0]
        if app_file.exists():
            config["http"]["app"] = _absolute(app)
        else:
            missing = f"{app_file.relative_to(REPO)} does not exist yet"
            del config["http"]
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path, missing


def offline_env(extra: Mapping[str, str]) -> dict[str, str]:
    """Return this process's environment without provider or tracing keys, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_PREFIXES)}
    return {**env, **OFFLINE_ENV, **extra}


@contextmanager
def langgraph_dev(
    folder: Path, env: Mapping[str, str], *, startup_timeout: float = 180
) -> Iterator[DevServer]:
    """Start `langgraph dev` in ``folder`` on a free loopback port; stop it on exit."""
    config, missing = prepare_config(folder)
    port = free_port()
    log_path = folder / "langgraph-dev.log"
    cli = Path(sys.executable).with_name("langgraph")
    command = [str(cli), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--config", str(config)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=folder,
            env=offline_env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"langgraph dev exited:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(url + "/ok", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"langgraph dev did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield DevServer(url=url, http_app_missing=missing, log_path=log_path)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

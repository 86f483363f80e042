"""Run the product's ``deepsearch local-model`` in a child process, for a benchmark.

The benchmark starts the same server a user gets (llama.cpp's, from the xllamacpp
wheel, the model assembled from its PyPI part packages into the user's cache) in its
own process, so prompt reading does not share this process with the graph, and stops
it by its process id when done.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deepsearch.tools.local_model.parts import MODELS
from deepsearch.tools.local_model.server import READY_TIMEOUT, wait_ready

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LocalModel:
    """A running server: its base URL (``.../v1``), model name and context window."""

    base_url: str
    model: str
    context: int
    pid: int


@contextmanager
def local_model(
    name: str = "1.5b", *, port: int, context: int = 16_384, threads: int = 2
) -> Iterator[LocalModel]:
    """Serve model ``name`` on 127.0.0.1:``port`` for the block, then stop that process."""
    cmd = [sys.executable, "-m", "deepsearch.cli", "local-model", "--model", name]
    cmd += ["--port", str(port), "--context", str(context), "--threads", str(threads)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        started = time.monotonic()
        while proc.poll() is None:
            try:
                wait_ready(base, timeout=5)
                break
            except RuntimeError:
                if time.monotonic() - started > READY_TIMEOUT:
                    raise
        if proc.poll() is not None:
            raise RuntimeError(f"deepsearch local-model exited with {proc.returncode}")
        yield LocalModel(base, MODELS[name].served_name, context, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()

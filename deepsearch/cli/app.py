"""The ``deepsearch`` command: ask, serve, mcp, index, eval and config.

Exit codes: 0 ok, 1 the run failed, 2 usage error, 3 not configured.
"""

from __future__ import annotations

import json
import shlex
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from deepsearch.cli.options import (
    EXIT_FAILED,
    EXIT_NOT_CONFIGURED,
    EXIT_OK,
    EXIT_USAGE,
    Effort,
    RunOptions,
    err,
    out,
    run_to_exit,
    with_run_options,
)
from deepsearch.context import Context

app = typer.Typer(
    name="deepsearch",
    help="Search, read and reason until the answer is proven with citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class LogLevel(StrEnum):
    """Log levels of ``deepsearch mcp``."""

    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


class NothingToResume(Exception):
    """``--thread`` without a question names a thread with no interrupted run."""


async def _stream_with_checkpoints(
    question: str | None, context: Context, thread_id: str
) -> AsyncIterator[dict[str, Any]]:
    """Run (or resume) ``question`` on a SQLite-checkpointed thread; yield its events."""
    from langchain_core.runnables import RunnableConfig
    from langgraph.types import StreamMode

    from deepsearch.api import astream_run, build_graph, result_from_state
    from deepsearch.cli.doctor import deepsearch_home
    from deepsearch.persistence import pending_nodes, sqlite_checkpointer, thread_config

    modes: list[StreamMode] = ["custom", "values"]
    async with sqlite_checkpointer(deepsearch_home() / "checkpoints.sqlite") as saver:
        graph = build_graph(checkpointer=saver)
        if await pending_nodes(graph, thread_id):  # an interrupted run: go on where it stopped
            final: dict[str, Any] = {}
            resume: RunnableConfig = thread_config(thread_id)
            resume["recursion_limit"] = 4 * context.max_steps + 50
            async for mode, chunk in graph.astream(
                None, resume, context=context, stream_mode=modes
            ):
                if mode == "custom":
                    yield chunk  # type: ignore[misc]
                else:
                    final = chunk  # type: ignore[assignment]
            yield {"type": "result", "result": result_from_state(final, context)}
            return
        if question is None:
            raise NothingToResume(f"thread {thread_id!r} has no interrupted run; ask a question")
        config = thread_config(thread_id)
        async for event in astream_run(question, graph=graph, context=context, config=config):
            yield event


async def _run_ask(
    question: str | None, context: Context, thread_id: str, *, as_json: bool, quiet: bool
) -> int:
    from deepsearch.cli.view import RunView, print_result, print_summary

    result = None
    view = RunView(err)
    try:
        with view if not quiet else nullcontext():
            async for event in _stream_with_checkpoints(question, context, thread_id):
                if event.get("type") == "result":
                    result = event["result"]
                elif not quiet:
                    view.handle(event)
    except NothingToResume as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        return EXIT_USAGE
    if result is None:
        return EXIT_FAILED
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_result(out, result)
    if not quiet:
        print_summary(err, result, thread_id)
    return EXIT_FAILED if result.mode == "failed" or not result.answer.strip() else EXIT_OK


@app.command()
@with_run_options(effort=Effort.medium)
def ask(
    question: Annotated[str | None, typer.Argument(help="The question to answer.")] = None,
    *,
    run: RunOptions,
    thread: Annotated[
        str | None, typer.Option("--thread", help="Thread id: resume or continue it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the answer.")] = False,
) -> None:
    """Answer a question with cited sources, showing the research as it happens."""
    if question is not None and not question.strip():
        err.print("[red]The question is empty.[/]")
        raise typer.Exit(EXIT_USAGE)
    if question is None and thread is None:
        err.print("[red]Give a question, or --thread ID to resume an interrupted run.[/]")
        raise typer.Exit(EXIT_USAGE)
    thread_id = thread or uuid.uuid4().hex[:12]
    run_to_exit(
        run, lambda context: _run_ask(question, context, thread_id, as_json=as_json, quiet=quiet)
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="DEEPSEARCH_API_KEY", show_default=False, help="Bearer key to require."
        ),
    ] = None,
) -> None:
    """Serve the OpenAI-compatible API (POST /v1/chat/completions) and MCP at /mcp."""
    import importlib

    app_module = importlib.import_module("deepsearch.server.app")
    # The launcher may live next to the app rather than in it.
    run_server = getattr(app_module, "run_server", None)
    if run_server is None:
        run_server = importlib.import_module("deepsearch.server.run").run_server
    run_server(host, port, workers, api_key)


@app.command(name="mcp")
def mcp_command(
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="Level of the log lines on stderr.")
    ] = LogLevel.info,
) -> None:
    """Serve DeepSearch as an MCP tool over stdio (for Claude Desktop, Cursor, VS Code...).

    Standard output carries only the protocol; logs go to stderr.
    """
    from deepsearch.mcp.stdio import run_stdio

    run_stdio(log_level=log_level.value)


@app.command()
def index(
    path: Annotated[Path, typer.Argument(exists=True, help="Folder, file or benchmark JSONL.")],
    db: Annotated[str | None, typer.Option("--db", help="Index file to write.")] = None,
) -> None:
    """Index local documents for the ``local`` search provider."""
    from deepsearch.cli.index import index_command

    report = index_command(path, db)
    out.print(
        f"Indexed {report['indexed']} of {report['files']} files "
        f"({report['skipped']} unchanged, {report['removed']} removed): "
        f"{report['documents']} documents, {report['passages']} passages "
        f"in {report['seconds']} s -> {escape(str(report['db']))}"
    )
    for error in report.get("errors") or []:
        err.print(f"[yellow]skipped: {escape(str(error))}[/]")
    out.print("To search it, export:")
    for name, value in report["env"].items():
        out.print(f"  export {name}={escape(shlex.quote(value))}")


@app.command(name="config")
def config_command() -> None:
    """Show what is configured, what is missing and how to fix it (keys are never printed)."""
    from deepsearch.cli.doctor import print_report
    from deepsearch.settings import ConfigurationError, get_settings

    try:
        settings = get_settings()
    except ConfigurationError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(EXIT_NOT_CONFIGURED) from None
    ready = print_report(out, settings)
    raise typer.Exit(EXIT_OK if ready else EXIT_NOT_CONFIGURED)


app.command(name="doctor", help="Alias of `config`.")(config_command)


def _register_eval() -> None:
    from deepsearch.cli.eval import eval_command

    app.command(name="eval")(eval_command)


_register_eval()


def _register_local_model() -> None:
    from deepsearch.cli.local_model import local_model_command

    app.command(name="local-model")(local_model_command)


_register_local_model()


def main() -> None:
    """Entry point of the ``deepsearch`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)

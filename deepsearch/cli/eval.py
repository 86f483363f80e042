"""``deepsearch eval DATASET``: the command-line face of the evaluation harness."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deepsearch.cli.options import (
    EXIT_FAILED,
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
from deepsearch.evaluation.datasets import DatasetError, EvalItem, load_dataset
from deepsearch.evaluation.report import summarize, write_reports

if TYPE_CHECKING:  # grading (pydantic) and the graph load only when an evaluation runs
    from deepsearch.evaluation.runner import Record
    from deepsearch.settings import Settings

GRADE_STYLE = {"correct": "green", "incorrect": "red", "not_attempted": "yellow"}


def _judge(settings: Settings, judge_model: str | None) -> Any:
    from deepsearch.tools.llm import LLM, make_chat_model

    chosen = settings.model_copy(update={"model": judge_model}) if judge_model else settings
    return LLM(make_chat_model(chosen), method=settings.structured_output)


def _reader(settings: Settings, context: Context) -> Any:
    """Return a reader to re-read cited pages missing from the run's state, if one can be made."""
    from deepsearch.tools.read import make_reader

    provider = context.search_provider or settings.effective_search_provider()
    try:
        return make_reader(
            "local" if provider == "local" else settings.effective_reader(), settings
        )
    except Exception:
        return None


async def _evaluate(
    name: str,
    items: list[EvalItem],
    context: Context,
    out_dir: Path,
    *,
    concurrency: int,
    use_judge: bool,
    judge_model: str | None,
) -> int:
    from deepsearch.evaluation.runner import EvalRunner, make_eval_graph, pending, run_eval
    from deepsearch.settings import get_settings

    settings = get_settings()
    runner = EvalRunner(
        graph=make_eval_graph(),
        context=context,
        judge_llm=_judge(settings, judge_model) if use_judge else None,
        reader=_reader(settings, context),
    )
    results_path = out_dir / "results.jsonl"
    todo = pending(items, results_path)
    if len(todo) < len(items):
        err.print(f"Resuming: {len(items) - len(todo)} of {len(items)} questions already done.")
    progress = Progress(
        TextColumn("[bold]eval[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    task = progress.add_task(escape(name), total=len(todo))

    def show(record: Record) -> None:
        grade = "error" if record.get("error") else str(record.get("grade"))
        style = GRADE_STYLE.get(grade, "magenta")
        detail = record.get("error") or f"{record.get('tokens', 0):,} tok"
        progress.console.print(
            f"[{style}]{grade:<13}[/] {escape(str(record['id']))} "
            f"[dim]{record.get('latency_s', 0):.1f}s · {escape(str(detail))[:160]}[/]",
            highlight=False,
        )
        progress.advance(task)

    with progress:
        records = await run_eval(
            items, runner, results_path, concurrency=concurrency, on_result=show
        )
    paths = write_reports(name, records, out_dir)
    _print_summary(summarize(records))
    for kind, path in paths.items():
        out.print(f"{kind}: {path}", highlight=False)
    return EXIT_OK if records and not all(r.get("error") for r in records) else EXIT_FAILED


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table("metric", "value", title="Evaluation", title_justify="left")
    for key, value in summary.items():
        table.add_row(key, "-" if value is None else str(value))
    out.print(table)


@with_run_options(effort=Effort.low)
def eval_command(
    dataset: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSONL of questions and answers.")
    ],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N questions.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Parallel runs.")] = 2,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Report folder [default: eval-results/NAME].")
    ] = None,
    no_judge: Annotated[
        bool, typer.Option("--no-judge", help="Grade by string match, without the LLM judge.")
    ] = False,
    judge_model: Annotated[
        str | None,
        typer.Option("--judge-model", help="Model of the judge [default: DEEPSEARCH_MODEL]."),
    ] = None,
    *,
    run: RunOptions,
) -> None:
    """Run the agent over a benchmark JSONL, grade it and write JSON, Markdown and PNG reports.

    Interrupted runs resume: finished questions in OUT/results.jsonl are skipped.
    """
    try:
        items = load_dataset(dataset, limit)
    except DatasetError as exc:
        err.print(f"[red]Cannot read {escape(str(dataset))}:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from exc
    if not items:
        err.print(f"[red]{escape(str(dataset))} holds no questions.[/]")
        raise typer.Exit(EXIT_USAGE)
    name = dataset.stem
    target = out_dir or Path("eval-results") / name
    run_to_exit(
        run,
        lambda context: _evaluate(
            name,
            items,
            context,
            target,
            concurrency=concurrency,
            use_judge=not no_judge,
            judge_model=judge_model,
        ),
    )

"""Summaries and reports of an evaluation: JSON, a Markdown table and a PNG chart."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Record = dict[str, Any]
GRADES = ("correct", "incorrect", "not_attempted", "error")


def _grade(record: Record) -> str:
    return "error" if record.get("error") else str(record.get("grade", "incorrect"))


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def _percentile(values: Sequence[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)


def summarize(records: Sequence[Record]) -> dict[str, Any]:
    """Return the overall figures of an evaluation.

    Accuracy counts every question (errors are not correct); ``accuracy_attempted``
    leaves out the questions the agent declined; ``f_score`` is their harmonic mean,
    as SimpleQA reports it.
    """
    n = len(records)
    grades = Counter(_grade(r) for r in records)
    ok = [r for r in records if not r.get("error")]
    correct = grades["correct"]
    attempted = grades["correct"] + grades["incorrect"]
    accuracy = correct / n if n else 0.0
    given_attempted = correct / attempted if attempted else 0.0
    f_score = (
        2 * accuracy * given_attempted / (accuracy + given_attempted)
        if accuracy + given_attempted
        else 0.0
    )
    faithful = [float(r["faithfulness"]) for r in ok if r.get("faithfulness") is not None]
    found = sum(int(r.get("quotes_found", 0)) for r in ok)
    checked = sum(int(r.get("quotes_checked", 0)) for r in ok)
    latencies = [float(r.get("latency_s", 0.0)) for r in records]
    tokens = [float(r.get("tokens", 0)) for r in ok]
    return {
        "questions": n,
        **{g: grades[g] for g in GRADES},
        "accuracy": round(accuracy, 4),
        "accuracy_attempted": round(given_attempted, 4),
        "f_score": round(f_score, 4),
        "exact_match": _mean([float(bool(r.get("exact_match"))) for r in ok]),
        "contains_match": _mean([float(bool(r.get("contains"))) for r in ok]),
        "faithfulness_mean": _mean(faithful),
        "quotes_found": found,
        "quotes_checked": checked,
        "faithfulness_overall": round(found / checked, 4) if checked else None,
        "tokens_mean": _mean(tokens),
        "tokens_total": int(sum(tokens)),
        "steps_mean": _mean([float(r.get("steps", 0)) for r in ok]),
        "latency_mean_s": _mean(latencies),
        "latency_median_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p90_s": _percentile(latencies, 0.9),
        "judge_tokens_total": sum(int(r.get("judge_tokens", 0)) for r in ok),
        "judge_fallbacks": sum(1 for r in ok if r.get("grade") and not r.get("judge_ok")),
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_report(name: str, summary: dict[str, Any], records: Sequence[Record]) -> str:
    """Return the report as Markdown: the overall figures, then one row per question."""
    lines = [f"# DeepSearch evaluation: {name}", "", "| metric | value |", "|---|---|"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in summary.items()]
    lines += [
        "",
        "| id | grade | EM | tokens | steps | latency (s) | faithfulness "
        "| question | gold | prediction |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        prediction = r.get("error") or r.get("prediction", "")
        cells = [
            r.get("id"),
            _grade(r),
            "yes" if r.get("exact_match") else "no",
            r.get("tokens", 0),
            r.get("steps", 0),
            r.get("latency_s"),
            r.get("faithfulness"),
            str(r.get("question", ""))[:120],
            " / ".join(r.get("gold", []))[:80],
            str(prediction)[:160],
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def chart(name: str, summary: dict[str, Any], records: Sequence[Record], path: Path) -> None:
    """Draw grades, tokens and latency per question into a PNG (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"correct": "#2e7d32", "incorrect": "#c62828", "not_attempted": "#9e9e9e"}
    colours["error"] = "#6a1b9a"
    fig, (ax_grades, ax_cost) = plt.subplots(1, 2, figsize=(11, 4.2))
    counts = [summary.get(g, 0) for g in GRADES]
    ax_grades.bar(GRADES, counts, color=[colours[g] for g in GRADES])
    ax_grades.set_title(f"{name}: accuracy {summary['accuracy']:.0%} of {summary['questions']}")
    ax_grades.set_ylabel("questions")
    for grade in GRADES:
        points = [r for r in records if _grade(r) == grade]
        ax_cost.scatter(
            [float(r.get("tokens", 0)) for r in points],
            [float(r.get("latency_s", 0.0)) for r in points],
            label=grade,
            color=colours[grade],
            alpha=0.8,
        )
    ax_cost.set_xlabel("tokens")
    ax_cost.set_ylabel("latency (s)")
    faith = summary.get("faithfulness_overall")
    ax_cost.set_title("cost per question" + (f" (quotes faithful {faith:.0%})" if faith else ""))
    if records:
        ax_cost.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(name: str, records: Sequence[Record], out_dir: Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and ``report.png`` into ``out_dir``; return paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(records)
    paths = {
        "json": out_dir / "report.json",
        "markdown": out_dir / "report.md",
        "png": out_dir / "report.png",
    }
    payload = {"dataset": name, "summary": summary, "questions": list(records)}
    paths["json"].write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["markdown"].write_text(markdown_report(name, summary, records), encoding="utf-8")
    chart(name, summary, records, paths["png"])
    return paths

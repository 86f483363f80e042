"""Benchmark questions from JSONL files, whatever each benchmark calls its fields.

Known layouts: FRAMES and SimpleQA (``problem``/``answer``), Bamboogle
(``question``/``answers``), HotpotQA (``question``/``answer``) and MuSiQue
(``question``/``answer``/``answer_aliases``). Evidence fields stay out of the item:
the agent must find them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUESTION_FIELDS = ("question", "problem", "prompt", "query")
ANSWER_FIELDS = ("answers", "answer", "gold", "target")
ALIAS_FIELDS = ("answer_aliases", "aliases")
METADATA_FIELDS = ("type", "level", "reasoning_type", "answerable")


class DatasetError(ValueError):
    """A dataset file cannot be read as benchmark questions."""


@dataclass
class EvalItem:
    """One benchmark question with its accepted gold answers."""

    id: str
    question: str
    answers: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)


def _first(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if record.get(name) not in (None, "", []):
            return record[name]
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value).strip()] if str(value).strip() else []


def item_from_record(record: dict[str, Any], line_number: int) -> EvalItem:
    """Turn one JSON record into an :class:`EvalItem`.

    Args:
        record: The decoded JSON line.
        line_number: Its 1-based line number (the id when the record has none).

    Raises:
        DatasetError: When the record has no question or no answer.
    """
    question = _first(record, QUESTION_FIELDS)
    answers = _as_list(_first(record, ANSWER_FIELDS)) + _as_list(_first(record, ALIAS_FIELDS))
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(f"line {line_number}: no question field ({', '.join(QUESTION_FIELDS)})")
    if not answers:
        raise DatasetError(f"line {line_number}: no answer field ({', '.join(ANSWER_FIELDS)})")
    raw_id = record.get("id", record.get("_id"))
    metadata = {k: record[k] for k in METADATA_FIELDS if k in record}
    return EvalItem(
        id=str(raw_id) if raw_id is not None else f"line-{line_number}",
        question=question.strip(),
        answers=list(dict.fromkeys(answers)),
        metadata=metadata,
    )


def iter_dataset(path: str | Path) -> Iterator[EvalItem]:
    """Yield the questions of a JSONL benchmark file, in file order.

    Raises:
        DatasetError: On a line that is not JSON or lacks a question or answer.
    """
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"line {number}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise DatasetError(f"line {number}: not a JSON object")
            yield item_from_record(record, number)


def load_dataset(path: str | Path, limit: int | None = None) -> list[EvalItem]:
    """Return the first ``limit`` questions (all when None) of a JSONL benchmark file.

    Raises:
        DatasetError: On malformed lines or duplicate ids.
    """
    items: list[EvalItem] = []
    seen: set[str] = set()
    for item in iter_dataset(path):
        if limit is not None and len(items) >= limit:
            break
        if item.id in seen:
            raise DatasetError(f"duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    return items

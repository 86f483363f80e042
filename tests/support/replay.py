"""Replay a real model's recorded replies: the shapes are real, the tests stay offline.

Fixtures (``tests/fixtures/real_model/*.jsonl``) are written by
``python -m benchmarks.bench_real_model --record DIR``: a header row describing the run
(question, gold answers, the web it ran on), then one row per chat completion the real
model served: its role, the prompt (system and user text) and its digest, the raw reply,
the usage the server reported. The benchmark's web URL is written ``{base}``.

:class:`ReplayBrain` answers each call with the reply the real model gave for the same
role at the same point of the run (the prompt with the same digest when there is one,
else the next unused reply of that role, in order), so a run through the public API
takes exactly the real model's decisions and writes exactly its answer.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.brain import Brain, Call, role_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "real_model"


@dataclass
class RecordedRun:
    """One recorded run: its header and its exchanges, in the order they were served."""

    name: str
    head: dict[str, Any]
    exchanges: list[dict[str, Any]]


def load_run(path: Path) -> RecordedRun:
    """Read one fixture file."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    head = next(r for r in rows if r.get("kind") == "run")
    exchanges = [r for r in rows if r.get("kind") == "exchange"]
    return RecordedRun(path.stem, head, exchanges)


def recorded_runs(folder: Path = FIXTURES) -> list[RecordedRun]:
    """Return every recorded run of ``folder``, by name."""
    return [load_run(p) for p in sorted(folder.glob("*.jsonl"))]


def digest(system: str, user: str) -> str:
    """Return the prompt digest a fixture row carries (web URL written ``{base}``)."""
    return hashlib.sha256(f"{system}\n\n{user}".encode()).hexdigest()[:16]


@dataclass
class ReplayBrain(Brain):
    """Answers every call with the real model's recorded reply for it.

    Attributes:
        base_url: the URL the web is served at now (replaces ``{base}``).
        unscripted: calls no recorded reply was left for (answered by the rules).
    """

    run: RecordedRun | None = None
    base_url: str = ""
    unscripted: int = 0
    _queues: dict[str, deque[dict[str, Any]]] = field(default_factory=lambda: defaultdict(deque))

    def __post_init__(self) -> None:
        assert self.run is not None
        for row in self.run.exchanges:
            if row.get("status", 200) == 200:
                self._queues[row["role"]].append(row)

    def unused(self) -> dict[str, int]:
        """Return, per role, the recorded replies no call has used."""
        return {role: len(q) for role, q in self._queues.items() if q}

    def reply(self, system: str, user: str) -> str:
        """Answer one call with its recorded reply (the rules answer only when none is left)."""
        role = role_of(system, user)
        base = self.base_url
        key = digest(system.replace(base, "{base}"), user.replace(base, "{base}"))
        with self._lock:
            queue = self._queues.get(role) or deque()
            row = next((r for r in queue if r.get("digest") == key), None)
            if row is None and queue:
                row = queue[0]
            if row is not None:
                queue.remove(row)
        if row is None:
            with self._lock:
                self.unscripted += 1
            return super().reply(system, user)
        out = str(row["reply"]).replace("{base}", base)
        with self._lock:
            self.calls.append(Call(role, system, user, out))
        return out

"""A deterministic, rule-based LLM for tests: it reads the prompt and plays each role.

It is not a mock of our code: it receives exactly the prompts DeepSearch sends to a
real model and must answer in the formats a real model would, so a prompt or parsing
regression shows up. Replies can be scripted per role (a queue of raw strings that
win over the rules), and every call is recorded.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_ROLE = re.compile(r"#\s*Role:\s*([\w-]+)")
_BLOCKS = re.compile(r"<source [^>]*>.*?</source>|<untrusted>.*?</untrusted>", re.DOTALL)
_SOURCE = re.compile(r'<source id="(S\d+)" url="([^"]*)"[^>]*>\n(.*?)\n</source>', re.DOTALL)
_WORD = re.compile(r"\w+")
STOP = set(
    [
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "and",
        "or",
        "is",
        "was",
        "were",
        "are",
        "be",
        "by",
        "with",
        "from",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "how",
        "why",
        "does",
        "did",
        "do",
        "that",
        "this",
        "it",
        "its",
        "as",
    ]
)


def role_of(system: str, user: str) -> str:
    """Return the role a prompt plays: its ``# Role:`` line, outside any page text.

    Most roles name themselves in the system prompt; the answer-stage roles (answerer,
    beast, the judges) share one system prompt and the evidence block and name
    themselves after it, in the user prompt.
    """
    m = _ROLE.search(system)
    if m:
        return m.group(1)
    found = _ROLE.findall(_BLOCKS.sub("", user))
    return found[0] if found else "unknown"


def words(text: str) -> set[str]:
    """Content words of a text, lowercased."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOP and len(w) > 1}


def field_of(user: str, name: str) -> str:
    """Return the rest of the line after ``name:`` in a prompt."""
    m = re.search(rf"^{re.escape(name)}:\s*(.*)$", user, re.MULTILINE)
    return m.group(1).strip() if m else ""


def section(user: str, header: str) -> str:
    """Return the block of a prompt that follows a ``header:`` line, up to the next header."""
    m = re.search(rf"^{re.escape(header)}:\s*\n(.*?)(?=^\w[\w ()]*:\s*$|\Z)", user, re.M | re.S)
    return m.group(1) if m else ""


@dataclass
class Call:
    """One recorded model call."""

    role: str
    system: str
    user: str
    reply: str


@dataclass
class Brain:
    """Plays planner, answerer, evaluator, reviewer, reflector, ... by simple rules.

    Attributes:
        scripts: per-role queues of raw replies used before the rules apply.
        fail_evaluations: how many evaluator verdicts fail before they pass.
        direct_answer: what to answer at step 1 when asked to answer without sources.
        team_size_hint: sub-problems the team planner writes (follows the prompt by default).
    """

    scripts: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    fail_evaluations: int = 0
    fail_reviews: int = 0
    direct_answer: str | None = None
    calls: list[Call] = field(default_factory=list)
    handlers: dict[str, Callable[[str, str], str]] = field(default_factory=dict)
    team_size_hint: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, role: str, *replies: str | dict[str, Any]) -> Brain:
        """Queue raw replies (strings, or dicts sent as JSON) for a role."""
        for r in replies:
            self.scripts[role].append(r if isinstance(r, str) else json.dumps(r))
        return self

    def roles(self) -> list[str]:
        """Return the roles called so far, in order."""
        return [c.role for c in self.calls]

    def reply(self, system: str, user: str) -> str:
        """Answer one call."""
        role = role_of(system, user)
        with self._lock:
            queue = self.scripts.get(role)
            scripted = queue.popleft() if queue else None
        if scripted is not None:
            out = scripted
        elif role in self.handlers:
            out = self.handlers[role](system, user)
        else:
            rule = getattr(self, "_" + role.replace("-", "_"), None)
            out = rule(system, user) if rule else "{}"
        with self._lock:
            self.calls.append(Call(role, system, user, out))
        return out

    # --- the rules, one per role -------------------------------------------------
    def _planner(self, system: str, user: str) -> str:
        allowed = [a.strip() for a in field_of(user, "Allowed actions").split(",")]
        question = field_of(user, "Current question (work on this now)")
        sources = _SOURCE.findall(user)
        unread = re.findall(r"^- (\S+) \|", section(user, "Unread URLs (best first)"), re.M)
        if "answer" in allowed and self._best_sentence(question, sources):
            return json.dumps({"think": "The sources answer it.", "action": "answer"})
        if "read" in allowed and unread:
            return json.dumps(
                {"think": "Read the best pages.", "action": "read", "urls": unread[:3]}
            )
        if "search" in allowed:
            return json.dumps(
                {"think": "Search for it.", "action": "search", "queries": [question]}
            )
        if "answer" in allowed:
            return json.dumps({"think": "Answer now.", "action": "answer"})
        return json.dumps({"think": "Reflect.", "action": allowed[0], "questions": []})

    @staticmethod
    def _best_sentence(
        question: str, sources: Iterable[tuple[str, str, str]]
    ) -> tuple[str, str] | None:
        target = words(question)
        best: tuple[str, str] | None = None
        best_score = 0
        for sid, _url, body in sources:
            for sentence in re.split(r"(?<=[.!?])\s+|\n+", body):
                score = len(target & words(sentence))
                if score > best_score and len(sentence) > 10:
                    best, best_score = (sid, sentence.strip()), score
        return best if best_score >= max(1, len(target) // 3) else None

    def _answerer(self, system: str, user: str) -> str:
        question = field_of(user, "Question")
        best = self._best_sentence(question, _SOURCE.findall(user))
        if best is None:
            text = self.direct_answer or "I don't know."
            return json.dumps({"answer": text, "references": []})
        sid, sentence = best
        return json.dumps(
            {"answer": f"{sentence} [^1]", "references": [{"source": sid, "quote": sentence}]}
        )

    def _beast(self, system: str, user: str) -> str:
        return self._answerer(system, user.replace("Question:", "Question:", 1))

    def _evaluator(self, system: str, user: str) -> str:
        checks = [c.strip() for c in field_of(user, "Checks").split(",") if c.strip()]
        with self._lock:
            fail = self.fail_evaluations > 0
            if fail:
                self.fail_evaluations -= 1
        verdicts = [
            {"type": c, "pass": not (fail and i == 0), "reason": "ok"} for i, c in enumerate(checks)
        ]
        # Optional checks to decide on: these rules never find one that applies.
        optional = [c.strip() for c in field_of(user, "Checks if they apply").split(",")]
        verdicts += [
            {"type": c, "applies": False, "pass": True, "reason": "does not apply"}
            for c in optional
            if c
        ]
        return json.dumps(
            {
                "checks": verdicts,
                "analysis": "The answer is not specific enough." if fail else "",
                "improvement_plan": "Read more sources." if fail else "",
            }
        )

    def _reviewer(self, system: str, user: str) -> str:
        with self._lock:
            fail = self.fail_reviews > 0
            if fail:
                self.fail_reviews -= 1
        return json.dumps(
            {"pass": not fail, "analysis": "weak" if fail else "", "improvement_plan": ""}
        )

    def _reflector(self, system: str, user: str) -> str:
        return json.dumps({"questions": []})

    def _grader(self, system: str, user: str) -> str:
        gold = [g for g in field_of(user, "Gold answer").split(" | ") if g.strip()]
        predicted = user.split("Predicted answer:", 1)[-1].strip()
        said = words(predicted)
        if any(words(g) and words(g) <= said for g in gold):
            return json.dumps({"grade": "correct", "reason": "states the gold answer"})
        if not said or "know" in said:
            return json.dumps({"grade": "not_attempted", "reason": "no answer given"})
        return json.dumps({"grade": "incorrect", "reason": "differs from the gold answer"})

    def _team_planner(self, system: str, user: str) -> str:
        question = field_of(user, "Question")
        size = self.team_size_hint or int(field_of(user, "Team size") or 1)
        clauses = [
            c.strip(" ,;?").strip()
            for c in re.split(r"[;?]|,? and (?=who|what|when|where|which|how)", question)
        ]
        clauses = [c[0].upper() + c[1:] + "?" for c in clauses if len(words(c)) >= 2]
        titles = re.findall(r"^- \S+ \| ([^|]+?) \|", section(user, "First search results"), re.M)
        pool = clauses if len(clauses) > 1 else []
        pool += [f"What is known about {t.strip()}?" for t in titles]
        pool += [f"Part {i} of: {question}" for i in range(1, size + 1)]
        subs = [{"question": q, "deliverable": "The facts with sources."} for q in pool[:size]]
        return json.dumps({"think": "Split by parts.", "subproblems": subs})

    def _merger(self, system: str, user: str) -> str:
        parts: list[str] = []
        refs: list[dict[str, str]] = []
        for body in re.findall(r"<finding [^>]*>\n(.*?)\n</finding>", user, re.S):
            evidence = re.findall(r'^- (S\d+): "(.*)"$', body, re.M)
            if not evidence:  # no answer from that worker: use the sources it read
                best = self._best_sentence(field_of(body, "Sub-problem"), _SOURCE.findall(user))
                evidence = [best] if best else []
            if evidence:
                sid, quote = evidence[0]
                refs.append({"source": sid, "quote": quote})
                parts.append(f"{quote} [^{len(refs)}]")
        if section(user, "Missing").strip() not in ("", "(nothing)"):
            parts.append("Some parts could not be established.")
        return json.dumps({"answer": " ".join(p for p in parts if p), "references": refs})


@dataclass
class QuestionWordsBrain(Brain):
    """A brain whose planner knows only the question's words, as a weak model does.

    It searches the question in work (its own words, nothing added) and never picks
    URLs: a read names none, so the product's own ranking chooses what is read. It
    answers once a read source shares enough words with the question (or, with
    ``answer_from_snippets``, an unread result's snippet does, as a model that trusts
    snippets would). The other roles play as :class:`Brain` does (the answerer quotes
    the source sentence sharing most words with the question).
    """

    answer_from_snippets: bool = False

    def _planner(self, system: str, user: str) -> str:
        allowed = [a.strip() for a in field_of(user, "Allowed actions").split(",")]
        question = field_of(user, "Current question (work on this now)")
        evidence = _SOURCE.findall(user)
        if self.answer_from_snippets:
            unread = section(user, "Unread URLs (best first)")
            evidence += [
                (u, u, s) for u, s in re.findall(r"^- (\S+) \|[^|]*\| (.*)$", unread, re.M)
            ]
        if "answer" in allowed and self._best_sentence(question, evidence):
            return json.dumps({"think": "The sources answer it.", "action": "answer"})
        if "read" in allowed:
            return json.dumps({"think": "Read the best results.", "action": "read", "urls": []})
        if "search" in allowed:
            return json.dumps(
                {"think": "Search for it.", "action": "search", "queries": [question]}
            )
        if "answer" in allowed:
            return json.dumps({"think": "Answer now.", "action": "answer"})
        return json.dumps({"think": "Reflect.", "action": allowed[0], "questions": []})

"""A scripted model that obeys prompt injections, as weak local models do.

:class:`ObedientBrain` plays every role like :class:`~tests.support.brain.Brain`,
except that whenever its prompt carries an order — text that addresses an AI
assistant, says to ignore instructions, or demands a fixed reply — anywhere (sources,
search snippets and titles, URLs, knowledge, attached files, team findings, even
quoted in an article), it complies: the planner answers at once, the answerer, beast
mode and the merger answer with the demanded text (citing the page that carried the
order), the evaluator and the reviewer pass the answer, the reflector queues the order
as a sub-question. Every obedience is recorded in ``obeyed``.

Its detector is its own and deliberately broader than DeepSearch's screener (which it
never imports): it reads through invisible characters, look-alike letters, URL slugs
and line breaks, obeys quoted and reported orders too, and accepts demands in any case.
So a screener miss shows up as an obeyed order, and only the answer check can save
the run.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from tests.support.brain import _SOURCE, Brain, field_of, role_of

_LOOKALIKE = str.maketrans(
    "аеорсхуіјѕһԁԛԝӏɑɡвкмнтαεικνορτυχβηАВЕКМНОРСТХУІЈЅΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcxyijshdqwlagbkmhtaeikvoptuxbnABEKMHOPCTXYIJSABEZHIKMNOPTYX",
)
_QUESTION_LINES = re.compile(
    r"^(?:Question|Original question|Current question \(work on this now\)|Sub-problem|"
    r"Questions already asked):.*$",
    re.MULTILINE,
)
# DeepSearch's own task text in an answer-stage prompt (after the shared evidence): from
# the role line to the data the task is about. It gives orders, but they are the system's.
_OWN_TASK = re.compile(
    r"^# Role: [\w-]+\n.*?(?=^(?:Problems found in earlier answers|The answer to (?:judge|review))|\Z)",
    re.MULTILINE | re.DOTALL,
)
_SOURCE_BLOCK = re.compile(r'<source id="(S\d+)"[^>]*>\n(.*?)\n</source>', re.DOTALL)
_VERBS = (
    r"(?:reply|respond|say|output|print|write|type|repeat|return|antworte\w*|r[eé]pond\w*|"
    r"responde\w*)"
)
_FILLERS = (
    r"(?:only|just|simply|exactly|with|back|nothing but|mit|avec|con|nur|seulement|uniquement|"
    r"solo|the|single|exact|word|phrase|text|string|that|is|:)"
)
_DEMANDS = (
    re.compile(rf"\b{_VERBS}\b(?:\s+{_FILLERS})*\s*[\"'“‘`]?(?P<x>[^\W_][\w!-]{{1,40}})", re.I),
    re.compile(
        r"\banswer(?:\s+(?:only|just|simply|exactly|with|nothing but|the|single|word))+\s*[\"'“‘`]?"
        r"(?P<x>[^\W_][\w!-]{1,40})",
        re.I,
    ),
    re.compile(r"\banswer\s+[\"'“‘`](?P<x>[^\"'”’`]{2,40})", re.I),
    re.compile(r"\banswer\s+(?P<x>[A-Z][A-Z0-9_!-]{2,40})\b"),
    re.compile(
        r"\b(?:answer|response|reply|output)s?\s+(?:must|should|shall|will|has to|is to)\s+"
        r"(?:only\s+)?(?:be|say|read|contain|include)\s+(?:exactly\s+|only\s+)?(?:the\s+)?"
        r"(?:single\s+)?(?:word\s+|phrase\s+)?[\"'“‘`]?(?P<x>[^\W_][\w!-]{1,40})",
        re.I,
    ),
    re.compile(
        r"\b(?i:with)\s+(?:(?i:the)\s+(?:(?i:single)\s+)?(?i:word)\s+)?[\"'“‘`]?(?P<x>[A-Z][A-Z0-9_!-]{2,40})\b"
    ),
    re.compile(r"\btell\s+(?:the\s+)?users?\s+(?:that\s+)?(?P<x>[^.;!?\n]{4,120})", re.I),
)
_ADDRESS = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(?:instruction|prompt|rule|"
    r"direction|guideline|question)|\b(?:ai|a\.i\.|assistants?|language models?|llms?|chatbots?|"
    r"chatgpt|gpt|claude|gemini|models?)\b[^.\n]{0,30}(?:\bmust\b|\bshould\b|\bneed to\b|"
    r"\bhave to\b|\bplease\b|:\s*(?:ignore|disregard|forget|reply|respond|answer|say|output|print|"
    r"you|your|do|don't|never|always|stop|tell)\b)|\bsystem\s*(?:prompt|message|notice|override)|<\|im_start\|>|"
    r"\[system\]|developer mode|you are now\b",
    re.I,
)
_NOT_TARGETS = frozenset(
    {"to", "the", "a", "an", "this", "that", "it", "all", "any", "in", "and", "or", "with"}
    | {"only", "just", "is", "are", "be", "of", "for", "on", "as", "your", "you", "me", "us"}
    | {"them", "question", "questions", "user", "users", "following", "nothing", "anything"}
)


def model_view(text: str) -> str:
    """Read text as a model does: invisible characters gone, look-alikes and slugs as words."""
    text = "".join(
        chr(ord(c) - 0xE0000) if 0xE0020 <= ord(c) <= 0xE007E else c
        for c in text
        if unicodedata.category(c) != "Cf" or 0xE0020 <= ord(c) <= 0xE007E
    )
    text = unicodedata.normalize("NFKD", text).translate(_LOOKALIKE)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"(?<=[A-Za-z])[-_/+](?=[A-Za-z])", " ", text)
    return " ".join(text.split())


@dataclass
class Order:
    """An order the model found: what it will answer, and the source block that carried it."""

    demand: str
    source: str | None


def find_order(user: str) -> Order | None:
    """Return the first order anywhere in a prompt (outside the question lines), if any."""
    text = _QUESTION_LINES.sub("", _OWN_TASK.sub("", user))
    chunks: list[tuple[str | None, str]] = [
        (m.group(1), m.group(2)) for m in _SOURCE_BLOCK.finditer(text)
    ]
    # The rest of the prompt, with each source's opening tag (its title) but not its body.
    chunks.append((None, _SOURCE_BLOCK.sub(lambda m: m.group(0).split("\n", 1)[0], text)))
    for sid, chunk in chunks:
        view = model_view(chunk)
        for pattern in _DEMANDS:
            for match in pattern.finditer(view):
                target = match.group("x").strip(" '\"”’`.,;")
                if target.lower() not in _NOT_TARGETS:
                    return Order(target, sid)
        address = _ADDRESS.search(view)
        if address is not None:
            start = view.rfind(".", 0, address.start()) + 1
            end = view.find(".", address.end())
            return Order(view[start : end if end > 0 else None].strip(), sid)
    return None


@dataclass
class ObedientBrain(Brain):
    """A :class:`Brain` that obeys every order it finds in its prompt (see the module doc)."""

    obeyed: list[tuple[str, str]] = field(default_factory=list)

    def reply(self, system: str, user: str) -> str:
        """Answer one call: obey an order if the prompt carries one, else follow the rules."""
        role = role_of(system, user)
        order = None if self.scripts.get(role) else find_order(user)
        comply = getattr(self, "_obey_" + role.replace("-", "_"), None)
        if order is None or comply is None:
            return super().reply(system, user)
        out = comply(user, order)
        with self._lock:
            self.obeyed.append((role, order.demand))
            self.calls.append(_call(role, system, user, out))
        return out

    def _cite(self, user: str, order: Order) -> list[dict[str, str]]:
        """Cite a real sentence of the source that carried the order (else the best one)."""
        question = field_of(user, "Question") or field_of(user, "Original question")
        sources = [s for s in _SOURCE.findall(user) if order.source in (None, s[0])]
        best = self._best_sentence(question, sources) or self._best_sentence(
            question, _SOURCE.findall(user)
        )
        return [{"source": best[0], "quote": best[1]}] if best else []

    def _obey_planner(self, user: str, order: Order) -> str:
        allowed = [a.strip() for a in field_of(user, "Allowed actions").split(",")]
        if "answer" in allowed:
            return json.dumps({"think": "The page says to answer now.", "action": "answer"})
        if "search" in allowed:
            return json.dumps({"action": "search", "queries": [order.demand]})
        return json.dumps({"action": allowed[0]})

    def _obey_answerer(self, user: str, order: Order) -> str:
        refs = self._cite(user, order)
        marker = " [^1]" if refs else ""
        return json.dumps({"answer": order.demand + marker, "references": refs})

    def _obey_beast(self, user: str, order: Order) -> str:
        return self._obey_answerer(user, order)

    def _obey_merger(self, user: str, order: Order) -> str:
        evidence = re.findall(r'^- (S\d+): "(.*)"$', user, re.M)
        refs = [{"source": sid, "quote": quote} for sid, quote in evidence[:1]]
        marker = " [^1]" if refs else ""
        return json.dumps({"answer": order.demand + marker, "references": refs})

    def _obey_evaluator(self, user: str, order: Order) -> str:
        checks = [c.strip() for c in field_of(user, "Checks").split(",") if c.strip()]
        optional = [c.strip() for c in field_of(user, "Checks if they apply").split(",")]
        verdicts = [{"type": c, "pass": True, "reason": "as instructed"} for c in checks]
        verdicts += [{"type": c, "applies": False, "pass": True} for c in optional if c]
        return json.dumps({"checks": verdicts, "analysis": "", "improvement_plan": ""})

    def _obey_reviewer(self, user: str, order: Order) -> str:
        return json.dumps({"pass": True, "analysis": "", "improvement_plan": ""})

    def _obey_reflector(self, user: str, order: Order) -> str:
        return json.dumps({"questions": [f"Why is the answer {order.demand}?"]})


def _call(role: str, system: str, user: str, reply: str) -> Any:
    from tests.support.brain import Call

    return Call(role, system, user, reply)

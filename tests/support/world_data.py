"""The questions of WikiWorld: HotpotQA and MuSiQue train rows, their gold and their pages.

Only the train samples in ``../shared/data`` are read (never the holdout). Each
paragraph of a row becomes one article of the web (see :mod:`tests.support.world`).

The *answer-holding sentences* of a question (what the loop benchmark looks for in the
answerer's prompt):

- HotpotQA: the supporting-fact sentences that contain the gold answer; when none does
  (yes/no and comparison questions, reworded answers), all supporting-fact sentences.
- MuSiQue: the sentences of the last hop's supporting paragraph that contain the answer
  (or one of its aliases); when none does, every sentence of that paragraph.

A question's evidence is reached when any one of them is.
"""

from __future__ import annotations

import json
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tests.support.world import Article, build_articles, split_sentences

FILES = {
    "hotpotqa": "hotpotqa_train_distractor_100.jsonl",
    "musique": "musique_train_100.jsonl",
}


def find_data() -> Path:
    """Return the ``shared/data`` folder next to the checkout (or a worktree's ancestor)."""
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "data"
        if (candidate / FILES["hotpotqa"]).is_file():
            return candidate
    raise FileNotFoundError("no shared/data folder with the train samples above this checkout")


@dataclass
class WorldQuestion:
    """One question, its accepted answers and where its answer is written."""

    qid: str
    question: str
    answers: list[str]  # the gold answer, then its aliases
    evidence: list[tuple[str, str]]  # (article path, answer-holding sentence)

    @property
    def evidence_paths(self) -> set[str]:
        """Return the paths of the articles holding an answer-holding sentence."""
        return {path for path, _ in self.evidence}


@dataclass
class Dataset:
    """A dataset's web (its articles) and its questions."""

    name: str
    articles: list[Article]
    questions: list[WorldQuestion]


def normalize(text: str) -> str:
    """Fold a text for matching: NFKC, lowercase, no punctuation, invisible marks or articles."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(
        " " if ch in string.punctuation or ch in "‘’“”–—" else ch
        for ch in text
        if unicodedata.category(ch) != "Cf"  # invisible marks (LRM, zero-width) pages drop
    )
    return " ".join(w for w in text.split() if w not in ("a", "an", "the"))


def contains(text: str, phrase: str) -> bool:
    """Tell whether ``phrase`` occurs in ``text`` as whole words, after :func:`normalize`."""
    p = normalize(phrase)
    return bool(p) and f" {p} " in f" {normalize(text)} "


def _holding(sentences: list[str], answers: list[str]) -> list[str]:
    return [s for s in sentences if any(contains(s, a) for a in answers)]


def load_hotpot(path: Path) -> tuple[list[list[tuple[str, list[str]]]], list[dict]]:
    """Read HotpotQA distractor rows: per row its paragraphs, and the rows."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    groups = [
        [(title, [s.strip() for s in sents if s.strip()]) for title, sents in row["context"]]
        for row in rows
    ]
    return groups, rows


def hotpot_questions(rows: list[dict], groups: list, paths: list[list[str]]) -> list[WorldQuestion]:
    """Build HotpotQA questions: answer-holding = supporting sentences with the answer."""
    out = []
    for row, group, row_paths in zip(rows, groups, paths, strict=True):
        titles = {title: i for i, (title, _) in enumerate(group)}
        supporting: list[tuple[str, str]] = []
        for title, s in row["supporting_facts"]:
            i = titles.get(title)
            if i is not None and s < len(group[i][1]):
                supporting.append((row_paths[i], group[i][1][s]))
        answers = [row["answer"]]
        holding = [(p, s) for p, s in supporting if _holding([s], answers)]
        out.append(WorldQuestion(row["id"], row["question"], answers, holding or supporting))
    return out


def load_musique(path: Path) -> tuple[list[list[tuple[str, list[str]]]], list[dict]]:
    """Read MuSiQue rows: per row its paragraphs (split into sentences), and the rows."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    groups = [
        [(p["title"], split_sentences(p["paragraph_text"])) for p in row["paragraphs"]]
        for row in rows
    ]
    return groups, rows


def musique_questions(
    rows: list[dict], groups: list, paths: list[list[str]]
) -> list[WorldQuestion]:
    """Build MuSiQue questions: answer-holding = the last hop's sentences with the answer."""
    out = []
    for row, group, row_paths in zip(rows, groups, paths, strict=True):
        answers = [row["answer"], *row.get("answer_aliases", [])]
        hops = [
            h for h in row["question_decomposition"] if h.get("paragraph_support_idx") is not None
        ]
        evidence: list[tuple[str, str]] = []
        if hops:
            i = hops[-1]["paragraph_support_idx"]
            sentences = group[i][1]
            holding = _holding(sentences, answers) or _holding(sentences, [hops[-1]["answer"]])
            evidence = [(row_paths[i], s) for s in holding or sentences]
        out.append(WorldQuestion(str(row["id"]), row["question"], answers, evidence))
    return out


def load_dataset(name: str, data: Path | None = None) -> Dataset:
    """Load a dataset (``hotpotqa`` or ``musique``) as a web's articles and its questions."""
    path = (data or find_data()) / FILES[name]
    if name == "hotpotqa":
        groups, rows = load_hotpot(path)
        articles, paths = build_articles(groups)
        return Dataset(name, articles, hotpot_questions(rows, groups, paths))
    groups, rows = load_musique(path)
    articles, paths = build_articles(groups)
    return Dataset(name, articles, musique_questions(rows, groups, paths))

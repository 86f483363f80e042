"""Corpus search latency over 100k passages (target: median under 20 ms).

Builds a synthetic index by repeating and perturbing the HotpotQA/MuSiQue
evidence paragraphs from ../shared/data, then times ``search_corpus`` with the
datasets' questions as queries, and prints median and p95 latency (wall clock,
and CPU time of the searching thread, which is stable on a loaded machine) and
the recall of the questions' gold paragraphs among the hits (the perturbed
copies compete with them, so this is a floor).

Run: .venv/bin/python benchmarks/bench_corpus_search.py [--passages 100000] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from deepsearch.tools.corpus import (
    CorpusIndex,
    benchmark_doc_url,
    benchmark_paragraphs,
    build_benchmark_corpus,
    finalize_index,
    search_corpus,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SOURCES = [DATA / "hotpotqa_train_distractor_100.jsonl", DATA / "musique_train_100.jsonl"]


def load() -> tuple[list[tuple[str, str]], list[tuple[str, set[str]]]]:
    """Return the unique (title, paragraph) pairs, and each question with its gold doc URLs."""
    paragraphs: dict[tuple[str, str], None] = {}
    questions: list[tuple[str, set[str]]] = []
    for source in SOURCES:
        for line in source.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "supporting_facts" in record:
                gold = {benchmark_doc_url("hotpotqa", t) for t, _ in record["supporting_facts"]}
            else:
                gold = {
                    benchmark_doc_url("musique", p["title"])
                    for p in record["paragraphs"]
                    if p.get("is_supporting")
                }
            questions.append((record["question"], gold))
            for _, title, text in benchmark_paragraphs(record):
                paragraphs[(title, text)] = None
    return list(paragraphs), questions


def synthesize(db: Path, target: int, seed: int = 7) -> None:
    """Write ``target`` passages: the originals plus perturbed copies."""
    rng = random.Random(seed)
    paragraphs, _ = load()
    vocabulary = sorted({w for _, text in paragraphs for w in text.split() if w.isalpha()})
    build_benchmark_corpus(SOURCES, db)  # the real passages, real URLs
    conn = sqlite3.connect(db)
    count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    rows: list[tuple[str, str, int, str, str, str, None]] = []
    copy = 0
    while count + len(rows) < target:
        copy += 1
        for title, text in paragraphs:
            if count + len(rows) >= target:
                break
            words = text.split()
            for _ in range(max(1, len(words) // 8)):  # replace ~12% of the words
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
            if rng.random() < 0.2:
                rng.shuffle(words)
            synthetic_title = f"{title} {copy}"
            url = f"{benchmark_doc_url('synthetic', synthetic_title)}/{len(rows)}"
            rows.append((url, url, 0, "synthetic", synthetic_title, " ".join(words), None))
    with conn:
        conn.executemany(
            "INSERT OR IGNORE INTO documents(url, doc_url, n, source, title, text, date) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    conn.close()
    finalize_index(db)


def main() -> None:
    """Build (or reuse) the index and print latency figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse/keep the index here")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "bench.sqlite3"
    if not db.exists():
        started = time.perf_counter()
        synthesize(db, args.passages)
        print(f"built {db} in {time.perf_counter() - started:.1f} s")
    index = CorpusIndex(db)
    _, questions = load()
    for question, _ in questions[:20]:  # warm the page cache
        search_corpus(index, question, args.k)
    wall: list[float] = []
    cpu: list[float] = []
    recall: list[float] = []
    for question, gold in questions:
        started, started_cpu = time.perf_counter(), time.thread_time()
        hits = search_corpus(index, question, args.k)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        recall.append(len(gold & {h.doc_url for h in hits}) / max(1, len(gold)))
    print(
        f"passages={index.count()} queries={len(wall)} k={args.k} "
        f"recall@{args.k}(gold docs)={statistics.mean(recall):.3f}"
    )
    for label, timings in (("wall", wall), ("cpu", cpu)):
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(
            f"{label}: median={statistics.median(timings):.2f} ms p95={p95:.2f} ms "
            f"max={timings[-1]:.2f} ms"
        )
    index.close()


if __name__ == "__main__":
    main()

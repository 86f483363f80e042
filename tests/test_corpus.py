"""The local corpus: indexing files and benchmark data, BM25 search, reading, provider."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from deepsearch.cli.index import index_command
from deepsearch.settings import ConfigurationError, Settings
from deepsearch.tools.base import ProviderError
from deepsearch.tools.chunking import chunk_text, section_ids
from deepsearch.tools.corpus import (
    INDEX_FILENAME,
    MAX_DOCUMENT_CHARS,
    benchmark_doc_url,
    build_benchmark_corpus,
    default_index_path,
    fts_query,
    index_corpus,
    read_document,
    resolve_corpus_db,
    search_corpus,
    split_passages,
)
from deepsearch.tools.read.local import LocalCorpusReader
from deepsearch.tools.search import make_search_provider
from deepsearch.tools.search.local import LocalSearch
from tests.support.pdf import minimal_pdf

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
HOTPOT = DATA / "hotpotqa_train_distractor_100.jsonl"
MUSIQUE = DATA / "musique_train_100.jsonl"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A small corpus folder with one file of every supported kind."""
    root = tmp_path / "docs"
    (root / "sub dir").mkdir(parents=True)
    (root / "lighthouse.md").write_text(
        "---\ntitle: The Pharos\ndate: 2020-01-01\n---\n# Ignored heading\n\n"
        "The Pharos of Alexandria was a lighthouse built by the Ptolemaic Kingdom.\n"
    )
    long_text = "\n\n".join(
        f"Paragraph {i} about volcanic geology and basalt columns number {i}." * 5
        for i in range(30)
    )
    (root / "sub dir" / "geology.txt").write_text(long_text)
    (root / "page.html").write_text(
        "<html><head><title>Bees page</title>"
        '<link rel="canonical" href="https://bees.example/honey"></head>'
        "<body><nav>menu</nav><article><h1>Honey bees</h1>"
        "<p>Honey bees communicate the location of flowers with a waggle dance. "
        "The dance encodes direction and distance to the food source.</p>"
        "<p>Colonies overwinter by clustering and shivering to keep warm.</p>"
        "</article></body></html>"
    )
    (root / "airships.pdf").write_bytes(minimal_pdf("Zeppelins were rigid airships.", "Airships"))
    (root / "records.jsonl").write_text(
        "\n".join(
            [
                json.dumps(
                    {"id": "r1", "title": "Quokka", "text": "The quokka lives on Rottnest."}
                ),
                json.dumps(
                    {
                        "url": "https://own.example/kiwi",
                        "title": "Kiwi",
                        "content": "The kiwi is a flightless bird of New Zealand.",
                        "date": "2021-05-05",
                    }
                ),
                json.dumps({"question": "not a document", "answer": "secret answer"}),
                "not json at all",
            ]
        )
    )
    (root / ".hidden.md").write_text("hidden secret platypus")
    (root / "image.png").write_bytes(b"\x89PNG")
    return root


def test_split_passages_bounds() -> None:
    text = "Short para.\n\n" + ("A sentence that goes on. " * 200) + "\n\n" + "x" * 4000
    passages = split_passages(text)
    assert passages[0].startswith("Short para.")
    assert all(0 < len(p) <= 1500 for p in passages)
    assert "".join(passages).replace(" ", "").count("x") == 4000


def test_split_passages_keeps_headings_on_their_own_line_above_their_text() -> None:
    text = (
        "# Ada Lovelace\nA mathematician.\n\n## Early life\nBorn in London in 1815.\n\n"
        "She studied with De Morgan.\n\n## Work\n" + "Notes on the engine. " * 90
    )
    passages = split_passages(text)
    assert passages[0] == "# Ada Lovelace\nA mathematician."
    assert passages[1] == "## Early life\nBorn in London in 1815. She studied with De Morgan."
    assert passages[2].startswith("## Work\nNotes on the engine.")
    assert all(len(p) <= 1500 for p in passages)
    assert "## " + "W" * 300 not in "".join(split_passages("## " + "W" * 300 + "\n" + "x " * 800))
    assert all(len(p) <= 1500 for p in split_passages("## " + "W" * 300 + "\n" + "x " * 800))


async def test_a_read_corpus_document_keeps_its_sections(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "ada.md").write_text(
        "# Ada Lovelace\nA mathematician.\n\n## Early life\nBorn in London in 1815.\n"
    )
    db = tmp_path / "index.sqlite3"
    index_corpus(root, db)
    page = await LocalCorpusReader(db_path=db).read("corpus://ada.md")
    assert "\n## Early life\nBorn in London in 1815." in page.text
    chunks = chunk_text(page.text)
    assert section_ids(page.text, chunks)[-1] == 1  # the chunker sees the second section
    assert [page.text[s:e] for s, e in chunks][-1] == "## Early life\nBorn in London in 1815."


def test_index_search_and_read(docs: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    stats = index_corpus(docs, db)
    assert stats.files == 5 and stats.indexed == 5 and stats.errors == []
    assert stats.passages > 5

    hits = search_corpus(db, "Who built the lighthouse of Alexandria?", 3)
    assert hits[0].url == "corpus://lighthouse.md"
    assert hits[0].title == "The Pharos" and hits[0].date == "2020-01-01"

    (geo,) = {h.doc_url for h in search_corpus(db, "basalt columns", 5)}
    assert geo == "corpus://sub%20dir/geology.txt"
    assert any(h.url.startswith(geo + "#") for h in search_corpus(db, "basalt paragraph 29", 10))

    bees = search_corpus(db, "waggle dance", 1)[0]
    assert bees.url == "https://bees.example/honey" and "direction" in bees.text
    assert search_corpus(db, "zeppelins rigid", 1)[0].title == "Airships"
    kiwi = search_corpus(db, "flightless bird", 1)[0]
    assert (kiwi.url, kiwi.date) == ("https://own.example/kiwi", "2021-05-05")
    assert search_corpus(db, "quokka", 1)[0].url == "corpus://records.jsonl/r1"
    assert search_corpus(db, "platypus", 5) == []  # hidden files are skipped
    assert search_corpus(db, "secret answer", 5) == []  # records without text are skipped

    doc = read_document(db, "corpus://sub%20dir/geology.txt#3")
    assert doc is not None and len(doc.passages) > 3
    assert "Paragraph 0" in doc.passages[0] and "Paragraph 29" in doc.passages[-1]
    assert read_document(db, "corpus://sub dir/geology.txt") is not None
    assert read_document(db, "corpus://nope.md") is None


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "AND OR NOT",
        "NEAR(lighthouse alexandria, 2)",
        "title:pharos",
        "pharos*",
        "-pharos ^lighthouse",
        "{title}: pharos",
        "'; DROP TABLE documents; --",
        "",
        "the of and",
    ],
)
def test_queries_are_sanitized(docs: Path, tmp_path: Path, query: str) -> None:
    db = tmp_path / "index.sqlite3"
    index_corpus(docs, db)
    hits = search_corpus(db, query, 5)
    assert isinstance(hits, list)
    if "pharos" in query:
        assert hits and hits[0].url == "corpus://lighthouse.md"


def test_fts_query() -> None:
    assert fts_query('Who "built" the NEAR(x)?') == '"built" OR "near" OR "x"'
    assert fts_query("the of") == '"the" OR "of"'
    assert fts_query("!!!") == ""


def test_incremental_reindex(docs: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    index_corpus(docs, db)
    assert search_corpus(db, "Pharos", 1)
    again = index_corpus(docs, db)
    assert (again.skipped, again.indexed, again.removed) == (5, 0, 0)

    (docs / "lighthouse.md").write_text("# Colossus\n\nThe Colossus of Rhodes was a statue.\n")
    os.utime(docs / "lighthouse.md", ns=(1, 1))
    (docs / "airships.pdf").unlink()
    changed = index_corpus(docs, db)
    assert (changed.indexed, changed.removed) == (1, 1)
    assert search_corpus(db, "Pharos", 5) == []
    assert search_corpus(db, "Colossus Rhodes", 1)[0].url == "corpus://lighthouse.md"
    assert search_corpus(db, "zeppelins", 5) == []
    count = sqlite3.connect(db).execute("SELECT count(*) FROM passages").fetchone()[0]
    assert count == sqlite3.connect(db).execute("SELECT count(*) FROM documents").fetchone()[0]


def test_unreadable_file_is_reported_not_fatal(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    root.mkdir()
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (root / "ok.txt").write_text("fine text about otters")
    stats = index_corpus(root, tmp_path / "i.sqlite3")
    assert stats.indexed >= 1 and search_corpus(tmp_path / "i.sqlite3", "otters", 1)


def test_long_documents_are_read_as_a_window(tmp_path: Path) -> None:
    root = tmp_path / "long"
    root.mkdir()
    paragraphs = [f"Section {i}: " + ("lorem ipsum dolor sit amet " * 35) for i in range(400)]
    (root / "book.txt").write_text("\n\n".join(paragraphs))
    db = tmp_path / "i.sqlite3"
    index_corpus(root, db)
    doc = read_document(db, "corpus://book.txt#390")
    assert doc is not None
    assert sum(len(p) for p in doc.passages) <= MAX_DOCUMENT_CHARS
    assert any(p.startswith("Section 399") for p in doc.passages)
    start = read_document(db, "corpus://book.txt")
    assert start is not None and start.passages[0].startswith("Section 0")


@pytest.mark.skipif(not HOTPOT.exists(), reason="shared benchmark data not present")
def test_benchmark_corpus(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite3"
    stats = build_benchmark_corpus([HOTPOT, MUSIQUE], db)
    assert stats.files == 2 and stats.documents > 2000
    record = json.loads(HOTPOT.read_text().splitlines()[0])
    url = benchmark_doc_url("hotpotqa", "Lilu (mythology)")
    assert url == "corpus://hotpotqa/Lilu_(mythology)"
    doc = read_document(db, url)
    assert doc is not None and doc.title == "Lilu (mythology)"
    assert "Akkadian" in doc.passages[0]
    assert read_document(db, "corpus://hotpotqa/Lilu (mythology)") is not None
    hits = search_corpus(db, record["question"], 10)
    gold = {benchmark_doc_url("hotpotqa", t) for t, _ in record["supporting_facts"]}
    assert gold & {h.doc_url for h in hits}
    conn = sqlite3.connect(db)
    urls = [u for (u,) in conn.execute("SELECT doc_url FROM documents WHERE n = 0")]
    assert len(urls) == len(set(urls))  # one document per title
    texts = {t for (t,) in conn.execute("SELECT text FROM documents")}
    questions = {json.loads(line)["question"] for line in HOTPOT.read_text().splitlines()}
    assert not texts & questions
    again = build_benchmark_corpus([HOTPOT, MUSIQUE], db)  # idempotent
    assert again.passages == stats.passages
    assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == stats.passages


def test_resolve_corpus_db(docs: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="DEEPSEARCH_CORPUS"):
        resolve_corpus_db(None)
    with pytest.raises(ConfigurationError, match="deepsearch index"):
        resolve_corpus_db(str(docs))
    with pytest.raises(ConfigurationError, match="does not exist"):
        resolve_corpus_db(str(tmp_path / "missing"))
    db = default_index_path(docs)
    assert db == docs.resolve() / INDEX_FILENAME
    index_corpus(docs, db)
    assert resolve_corpus_db(str(docs)) == db
    assert resolve_corpus_db(str(db)) == db


def test_index_command(docs: Path) -> None:
    report = index_command(str(docs), None)
    assert report["indexed"] == 5 and report["db"].endswith(INDEX_FILENAME)
    assert report["env"] == {
        "DEEPSEARCH_SEARCH_PROVIDER": "local",
        "DEEPSEARCH_CORPUS": str(docs),
    }
    assert index_command(docs, None)["skipped"] == 5  # the index file itself is not indexed


async def test_local_provider_and_reader(docs: Path) -> None:
    index_command(str(docs), None)
    settings = Settings(_env_file=None, corpus=str(docs))  # type: ignore[call-arg]
    provider = make_search_provider("local", settings)
    assert isinstance(provider, LocalSearch)
    response = await provider.search("basalt columns volcanic", num_results=3)
    assert response.tokens == 0
    assert len(response.results) == 1  # one result per document
    assert response.results[0].url.startswith("corpus://sub%20dir/geology.txt")
    reader = LocalCorpusReader(settings)
    page = await reader.read(response.results[0].url)
    assert page.final_url == "corpus://sub%20dir/geology.txt"
    assert "Paragraph 0" in page.text and page.content_type == "text/plain"
    kiwi = await reader.read("https://own.example/kiwi")
    assert kiwi.title == "Kiwi" and kiwi.date == "2021-05-05"
    with pytest.raises(ProviderError, match="not in the local corpus"):
        await reader.read("corpus://missing.md")
    assert (await provider.search("   ")).results == []


async def test_local_provider_broken_index(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not sqlite")
    with pytest.raises(ProviderError, match="unusable"):
        await LocalSearch(bad).search("anything")
    with pytest.raises(ConfigurationError, match="deepsearch index"):
        LocalCorpusReader(Settings(_env_file=None, corpus=str(tmp_path)))  # type: ignore[call-arg]


def test_any_text_is_a_safe_query(docs: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    db = tmp_path_factory.mktemp("fuzz") / "index.sqlite3"
    index_corpus(docs, db)

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=80))
    def check(query: str) -> None:
        assert isinstance(search_corpus(db, query, 3), list)
        read_document(db, "corpus://" + query)

    check()


def test_read_only_folder_indexes_into_the_cache(
    docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import deepsearch.tools.corpus.paths as corpus_paths

    monkeypatch.setattr(corpus_paths, "CACHE_DIR", tmp_path / "cache")
    docs.chmod(0o555)
    try:
        target = default_index_path(docs)
        assert target.parent == tmp_path / "cache" and target.name.startswith("docs-")
        report = index_command(docs, None)
        assert report["db"] == str(target) and not (docs / INDEX_FILENAME).exists()
        assert resolve_corpus_db(str(docs)) == target
    finally:
        docs.chmod(0o755)

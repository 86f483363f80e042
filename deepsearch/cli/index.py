"""``deepsearch index PATH``: build or update the local corpus index."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from deepsearch.tools.corpus import default_index_path, index_corpus


def index_command(path: str | Path, db: str | Path | None = None) -> dict[str, Any]:
    """Index a folder or file for the ``local`` search provider and report what happened.

    Markdown, text, HTML, PDF and JSONL files are indexed (JSONL lines with a
    ``text``/``content`` field, and HotpotQA/MuSiQue records' evidence paragraphs).
    Re-running updates the index incrementally.

    Args:
        path: The folder or file to index.
        db: The index file; defaults to ``.deepsearch-index.sqlite3`` in the folder
            (or a per-folder file under ``~/.cache/deepsearch/corpora`` if the
            folder is read-only).

    Returns:
        The statistics (``files``, ``indexed``, ``skipped``, ``removed``,
        ``documents``, ``passages``, ``errors``, ``db``), ``seconds``, and ``env``:
        the settings that make a run use this corpus.
    """
    target = Path(path).expanduser()
    db_path = Path(db).expanduser() if db else default_index_path(target)
    started = time.perf_counter()
    stats = index_corpus(target, db_path)
    report = asdict(stats)
    report["seconds"] = round(time.perf_counter() - started, 2)
    corpus = target if db is None and target.is_dir() else db_path
    report["env"] = {"DEEPSEARCH_SEARCH_PROVIDER": "local", "DEEPSEARCH_CORPUS": str(corpus)}
    return report

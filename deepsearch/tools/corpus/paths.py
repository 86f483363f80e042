"""Where a corpus's index lives: inside the folder, or in a per-user cache."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from deepsearch.settings import ConfigurationError
from deepsearch.tools.corpus.documents import SUFFIXES

INDEX_FILENAME = ".deepsearch-index.sqlite3"
CACHE_DIR = Path("~/.cache/deepsearch/corpora").expanduser()


def _writable(folder: Path) -> bool:
    # os.access alone says yes to root even for a read-only (r-x) folder: check the mode too.
    try:
        return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)
    except OSError:
        return False


def default_index_path(path: str | Path) -> Path:
    """Return where the index of a corpus folder (or file) lives by default.

    That is ``.deepsearch-index.sqlite3`` inside the folder, or, when the folder
    is not writable and has no index yet, a per-folder file under
    ``~/.cache/deepsearch/corpora``.
    """
    root = Path(path).expanduser().resolve()
    folder = root if root.is_dir() else root.parent
    inside = folder / INDEX_FILENAME
    if inside.exists() or _writable(folder):
        return inside
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    return CACHE_DIR / f"{folder.name or 'root'}-{digest}.sqlite3"


def resolve_corpus_db(corpus: str | None) -> Path:
    """Find the index for ``DEEPSEARCH_CORPUS`` (an index file, or a folder holding one).

    Args:
        corpus: The configured corpus path.

    Returns:
        The index database path.

    Raises:
        ConfigurationError: When nothing is configured or the folder is not indexed yet,
            with the command that fixes it.
    """
    if not corpus:
        raise ConfigurationError(
            "The local search provider needs a corpus: set DEEPSEARCH_CORPUS to a folder "
            "of documents and run `deepsearch index <folder>` (or point it at an index file)."
        )
    path = Path(corpus).expanduser()
    if path.is_file() and path.suffix.lower() not in SUFFIXES:
        return path
    if default_index_path(path).is_file():
        return default_index_path(path)
    if path.exists():
        raise ConfigurationError(
            f"The corpus {path} is not indexed yet: run `deepsearch index {path}` "
            f"(it writes {default_index_path(path)}) and set DEEPSEARCH_CORPUS to the folder "
            "or the index file."
        )
    raise ConfigurationError(f"DEEPSEARCH_CORPUS={corpus} does not exist.")

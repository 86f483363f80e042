"""Readers: turn a URL into text. One module per reader, chosen by name.

``jina`` (Jina Reader), ``direct`` (fetch and extract locally) and ``local``
(the local corpus, for the ``local`` search provider).
"""

from __future__ import annotations

from deepsearch.settings import ConfigurationError, Settings
from deepsearch.tools.base import Reader
from deepsearch.tools.cache import CachedReader, open_cache

__all__ = ["make_reader"]


def make_reader(name: str, settings: Settings, *, use_cache: bool = True) -> Reader:
    """Build the reader called ``name``.

    Web readers answer repeated reads from the cache ``DEEPSEARCH_CACHE`` configures
    (hits cost 0 tokens), and concurrent reads of one URL share one fetch.

    Args:
        name: ``"jina"``, ``"direct"`` or ``"local"``.
        settings: Process settings (endpoints, keys, fetch limits, cache).
        use_cache: ``False`` reads every page afresh (calls in flight are still shared).

    Returns:
        The reader.

    Raises:
        ConfigurationError: For an unknown reader name.
    """
    if name in ("jina", "direct"):
        reader: Reader
        if name == "jina":
            from deepsearch.tools.read.jina import JinaReader

            reader = JinaReader(settings)
            scope = settings.jina_reader_url
        else:
            from deepsearch.tools.read.direct import DirectReader

            reader = DirectReader(settings)
            scope = "private-ok" if settings.allow_private_urls else "public"
        store = open_cache(settings) if use_cache else None
        return CachedReader(reader, store, scope=scope)
    if name == "local":
        from deepsearch.tools.read.local import LocalCorpusReader

        return LocalCorpusReader(settings)
    raise ConfigurationError(f"unknown reader {name!r}: use 'jina', 'direct' or 'local'")

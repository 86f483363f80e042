"""Readers: turn a URL into text. One module per reader, chosen by name.

``jina`` (Jina Reader), ``direct`` (fetch and extract locally) and ``local``
(the local corpus, for the ``local`` search provider).
"""

from __future__ import annotations

from deepsearch.settings import ConfigurationError, Settings
from deepsearch.tools.base import Reader

__all__ = ["make_reader"]


def make_reader(name: str, settings: Settings) -> Reader:
    """Build the reader called ``name``.

    Args:
        name: ``"jina"``, ``"direct"`` or ``"local"``.
        settings: Process settings (endpoints, keys, fetch limits).

    Returns:
        The reader.

    Raises:
        ConfigurationError: For an unknown reader name.
    """
    if name == "jina":
        from deepsearch.tools.read.jina import JinaReader

        return JinaReader(settings)
    if name == "direct":
        from deepsearch.tools.read.direct import DirectReader

        return DirectReader(settings)
    if name == "local":
        from deepsearch.tools.read.local import LocalCorpusReader

        return LocalCorpusReader(settings)
    raise ConfigurationError(f"unknown reader {name!r}: use 'jina', 'direct' or 'local'")

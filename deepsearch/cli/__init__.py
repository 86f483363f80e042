"""The ``deepsearch`` command line, one module per command.

:mod:`.app` holds the typer app, ``ask``, ``serve``, ``config``/``doctor`` and
:func:`main` (the console script); :mod:`.options` the per-run flags, consoles and
exit codes every command shares; :mod:`.view` the live view of ``ask``;
:mod:`.doctor`, :mod:`.index` and :mod:`.eval` the ``config``, ``index`` and
``eval`` commands. Heavy parts (the graph, LangChain) load only when a command runs.
"""

from __future__ import annotations

from deepsearch.cli.app import app, main

__all__ = ["app", "main"]

"""``python -m deepsearch.cli``: the ``deepsearch`` command."""

from deepsearch.cli.app import main

main()

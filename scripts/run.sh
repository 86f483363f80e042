#!/usr/bin/env bash
# Set up and start DeepSearch. With no arguments: the OpenAI-compatible server (and chat UI)
# on http://127.0.0.1:8000. With arguments: any `deepsearch` command, e.g.
#   scripts/run.sh ask "Who designed the Statue of Liberty?"
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$#" -eq 0 ]; then
  exec .venv/bin/deepsearch serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
fi
exec .venv/bin/deepsearch "$@"

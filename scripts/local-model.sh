#!/usr/bin/env bash
# Fetch a small real model and serve it on 127.0.0.1 with llama.cpp's OpenAI-compatible
# server: the keyless, fully local way to try DeepSearch. Sets up .venv with the `local`
# extra (xllamacpp, a prebuilt llama.cpp), then runs `deepsearch local-model`, which
# prints the environment to export and serves until Ctrl-C. Options (all optional):
#   --model 1.5b|0.5b   --port 8080   --context 8192   --threads N   --setup-only
# Example, in two shells:
#   bash scripts/local-model.sh                      # shell 1: prints export lines, serves
#   export OPENAI_BASE_URL=... DEEPSEARCH_MODEL=...  # shell 2: paste them, then
#   bash scripts/run.sh ask "Who designed the Statue of Liberty?" --effort low
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PYTHONWARNINGS="${PYTHONWARNINGS:+$PYTHONWARNINGS,}ignore:Editable installation"
if ! .venv/bin/python -c "import xllamacpp" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet -e ".[local]"
fi
exec .venv/bin/deepsearch local-model "$@"

#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then lint, type-check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
# System services some tests use (a real PostgreSQL, headless Chromium); the tests that need
# them skip with a clear message where they cannot be installed.
for helper in scripts/install-test-services.sh scripts/install-browser.sh; do
  if [ -f "$helper" ]; then
    bash "$helper" || echo "note: $helper failed; the tests that need it will skip"
  fi
done
export LANGSMITH_TRACING=false LANGCHAIN_TRACING_V2=false
export LANGGRAPH_CLI_NO_ANALYTICS=1 LANGGRAPH_NO_VERSION_CHECK=true
.venv/bin/ruff check deepsearch tests benchmarks examples
.venv/bin/mypy
.venv/bin/pytest "$@"

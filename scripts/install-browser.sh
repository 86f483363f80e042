#!/bin/sh
# Install the headless browser the chat-page end-to-end tests drive (Debian's chromium).
# Idempotent: does nothing when /usr/bin/chromium is already there. Never downloads
# Playwright's own browser builds; the tests launch /usr/bin/chromium directly.
set -eu

if command -v chromium >/dev/null 2>&1; then
    echo "chromium already installed: $(command -v chromium)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium chromium-driver
echo "installed: $(command -v chromium)"

#!/usr/bin/env bash
# Installs Debian's chromium, the headless browser of tests/html_report.rs (the HTML report is
# loaded and its DOM checked in a real browser). Idempotent: does nothing when a chromium is on
# PATH. Needs root (apt-get); otherwise it says what to run.
set -Eeuo pipefail

for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then
    echo "$c already installed: $("$c" --version 2>/dev/null || true)"
    exit 0
  fi
done
if [ "$(id -u)" != 0 ]; then
  echo "error: chromium is not installed and this is not root: run \`sudo apt-get install -y chromium\`" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
chromium --version

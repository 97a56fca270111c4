#!/usr/bin/env bash
# System packages the test suite needs: Debian's chromium for the browser tests.
# Installed when missing and we may use apt; otherwise the browser tests skip and say why.
set -u
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing chromium from Debian's packages (browser tests)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null \
    || echo "chromium could not be installed: the browser tests will be skipped"
else
  echo "chromium is missing and apt-get is not usable here: the browser tests will be skipped"
fi
exit 0

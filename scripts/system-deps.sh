#!/usr/bin/env bash
# Debian packages Samverkan needs: `runtime` (WeasyPrint's pango and fonts, for PDF) or `test` (also chromium for
# the browser tests and poppler's pdftotext to read the PDFs). Installed when missing and apt may be used (root);
# otherwise it says what is missing and the features or tests that need it say why they are skipped.
set -u
mode="${1:-test}"
packages="libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"
if [ "$mode" = "test" ]; then
  packages="$packages chromium poppler-utils"
fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing from Debian's packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq $missing >/dev/null \
    || echo "could not install$missing: the features and tests that need them will say so"
else
  echo "missing Debian packages:$missing (install them as root with apt-get)"
fi
exit 0

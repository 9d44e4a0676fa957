#!/usr/bin/env bash
# Install the Debian packages Portico needs, only those that are missing.
# Idempotent: when everything is present it changes nothing and needs no network.
set -euo pipefail

packages=(
    # WeasyPrint (HTML -> PDF reports) loads these with dlopen; DejaVu gives
    # Polish glyphs in PDFs. harfbuzz-subset: WeasyPrint 70 warns
    # (DeprecationWarning) without it and subsets fonts slower.
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0
    fonts-dejavu-core fonts-dejavu-extra
    # browser tests (Playwright drives Debian's Chromium, no downloaded browser)
    chromium chromium-driver
    # pdftotext, to check the text of generated PDFs
    poppler-utils
    # pg_dump/pg_restore for Tryton's DB_CACHE on PostgreSQL test runs;
    # it brings libpq5, which psycopg 3 (trytond's PostgreSQL driver) loads
    postgresql-client
)

missing=()
for pkg in "${packages[@]}"; do
    # dpkg -s also succeeds for a removed package whose config files remain:
    # look at its status line.
    if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed$'; then
        missing+=("$pkg")
    fi
done

# Tools that may come from outside Debian (Node 20 from NodeSource, Python
# from pyenv): ask for Debian's only when the command itself is missing.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ "$(command -v python3)" = /usr/bin/python3 ] \
        && ! python3 -c 'import ensurepip' 2>/dev/null; then
    missing+=(python3-venv)      # Debian's python3 makes no venv without it
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

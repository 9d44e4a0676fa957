#!/usr/bin/env bash
# `make bench`: build the benchmark database if needed, then measure the
# portal's documents, home, document and PDF pages and print the figures
# and the goals (see bench/README.md).
#   bash bench/run.sh [--regenerate] [generate.py options] [-- load.py options]
# e.g. bash bench/run.sh -- --processes 1 --think 1 --experiment gc
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
generate=() load=()
target=generate
for arg in "$@"; do
    if [ "$arg" = -- ]; then target=load; continue; fi
    if [ $target = generate ]; then generate+=("$arg"); else load+=("$arg"); fi
done
mkdir -p bench/var
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(psql -h 127.0.0.1 -U postgres -Atc 'SHOW server_version' 2>/dev/null | sed 's/^/PostgreSQL /'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== generate (skipped when the database is complete; --regenerate)"
"$PY" bench/generate.py "${generate[@]}"
echo "== load"
"$PY" bench/load.py --json bench/var/last-run.json "${load[@]}"

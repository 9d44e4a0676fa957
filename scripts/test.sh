#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL. Each backend has the
# parts
#
#   build    one activated database: every module of addons/, Polish loaded
#            (scripts/testdb.py); every other part of the backend copies it
#   modules  each module's Tryton tests (ModuleTestCase and scenario
#            doctests, by unittest, which also runs load_tests)
#   http     tests/ without tests/browser: HTTP routes in-process, the
#            isolation sweep, e-mails through a real SMTP server (pytest)
#   browser  tests/browser: the demo served by trytond, headless Chromium
#
# run as independent jobs, as many at a time as there are cores, longest
# first. The end of the output is each part's time, the total and, as the
# last line (CI reads it), "portico: N passed, N failed". Budget and layout:
# README.md, "Tests and their time budget".
#
#   bash scripts/test.sh            both backends
#   BACKENDS=sqlite bash scripts/test.sh
#   PARTS="build modules" bash scripts/test.sh     some parts only
#
# Under CI=true an unreachable PostgreSQL fails the run instead of skipping.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
PG_URI=${PORTICO_PG_URI:-postgresql://postgres@127.0.0.1:5432/}
BACKENDS=${BACKENDS:-sqlite postgresql}
PARTS=${PARTS:-build modules http browser}
JOBS=${PORTICO_TEST_JOBS:-$(nproc)}
# Every module's tests: addons/<module>/tests/test_*.py
MODULE_TESTS=$(cd addons && ls -1 */tests/test_*.py | sed 's/\.py$//; s#/#.#g')
LOGS=var/test-logs
# This run's databases: PostgreSQL names and SQLite files start with it
RUN=portico_test_$$_$(date +%s)
WORK=$PWD/var/test-run/$RUN
rm -rf "$LOGS" && mkdir -p "$LOGS" "$WORK" test-artifacts

# The portal's Jinja2 environment uses StrictUndefined: a missing variable
# in a template is an error in every test
export PORTICO_STRICT_TEMPLATES=1
unset DB_CACHE PORTICO_TEST_CACHE TRYTOND_DATABASE__PATH
export PYTHONDONTWRITEBYTECODE=1

pg_ok() {
    "$PY" - "$PG_URI" <<'EOF'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1] + 'postgres', connect_timeout=5).close()
except Exception as e:
    print(e, file=sys.stderr)
    sys.exit(1)
EOF
}

if [[ " $BACKENDS " == *" postgresql "* ]] && ! pg_ok; then
    if [ "${CI:-}" = "true" ]; then
        echo "PostgreSQL is unreachable at $PG_URI: failing (CI=true)" >&2
        exit 1
    fi
    echo "PostgreSQL is unreachable at $PG_URI: running SQLite only" >&2
    BACKENDS=sqlite
fi

base_of() {
    if [ "$1" = postgresql ]; then echo "${RUN}_base"
    else echo "$WORK/sqlite-base.sqlite"; fi
}

# One part on one backend, in the foreground; output in var/test-logs/
run_part() {
    local backend=$1 part=$2
    local log=$LOGS/$backend-$part.log
    if [ "$backend" = postgresql ]; then
        export TRYTOND_DATABASE__URI=$PG_URI DB_NAME=${RUN}_$part
    else
        export TRYTOND_DATABASE__URI=sqlite:// DB_NAME=:memory:
    fi
    export PORTICO_TEST_BASE
    PORTICO_TEST_BASE=$(base_of "$backend")
    case $part in
        build)
            "$PY" scripts/testdb.py build > "$log" 2>&1 ;;
        modules)
            # shellcheck disable=SC2086
            "$PY" scripts/testdb.py unittest -v $MODULE_TESTS > "$log" 2>&1 ;;
        http)
            # The emulators' own tests use no database: SQLite's part runs
            # them, PostgreSQL's does not run them again
            local ignore=(--ignore=tests/browser)
            [ "$backend" = postgresql ] && ignore+=(
                --ignore=tests/ksef_emulator --ignore=tests/bitrix24_emulator)
            "$PY" -m pytest tests "${ignore[@]}" -q -p no:warnings \
                --junit-xml="$LOGS/$backend-$part.xml" > "$log" 2>&1 ;;
        browser)
            "$PY" -m pytest tests/browser -q -p no:warnings \
                --junit-xml="$LOGS/$backend-$part.xml" > "$log" 2>&1 ;;
    esac
}

# Drop what this run created, however it ends
cleanup() {
    local pid
    for pid in "${!running[@]}"; do
        pkill -TERM -P "$pid" 2>/dev/null
        kill -- "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    if [[ " $BACKENDS " == *" postgresql "* ]]; then
        "$PY" - "$PG_URI" "$RUN" <<'EOF'
import sys, psycopg
from psycopg import sql
with psycopg.connect(sys.argv[1] + 'postgres', autocommit=True) as conn:
    names = [r[0] for r in conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s",
        (sys.argv[2] + '\\_%',))]
    for name in names:
        conn.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)')
            .format(sql.Identifier(name)))
EOF
    fi
    rm -rf "$WORK"
    rmdir var/test-run 2>/dev/null || true
}
declare -A running=()
trap cleanup EXIT
trap 'exit 130' INT TERM

# The queue, longest first: the builds (the other parts wait for their
# backend's), then PostgreSQL's parts, slower than SQLite's
queue=()
for part in build modules browser http; do
    [[ " $PARTS " == *" $part "* ]] || continue
    for backend in postgresql sqlite; do
        [[ " $BACKENDS " == *" $backend "* ]] && queue+=("$backend:$part")
    done
done
declare -A state=() began=() took=()
for job in "${queue[@]}"; do state[$job]=waiting; done
started=$(date +%s)

ready() {   # whether a job may start: 0 yes, 1 not yet, 2 never
    local backend=${1%%:*} part=${1#*:}
    [ "$part" = build ] && return 0
    case ${state[$backend:build]:-none} in
        ok|none) return 0 ;;
        failed|skipped) return 2 ;;
        *) return 1 ;;
    esac
}

while :; do
    for job in "${queue[@]}"; do
        [ "${state[$job]}" = waiting ] || continue
        [ "${#running[@]}" -lt "$JOBS" ] || break
        ready "$job"; r=$?
        if [ $r = 2 ]; then state[$job]=skipped; continue; fi
        [ $r = 0 ] || continue
        run_part "${job%%:*}" "${job#*:}" &
        running[$!]=$job state[$job]=running began[$job]=$(date +%s)
        echo "[$(( $(date +%s) - started )) s] $job started" >&2
    done
    [ "${#running[@]}" -gt 0 ] || break
    wait -n -p pid; rc=$?
    job=${running[$pid]}
    unset "running[$pid]"
    took[$job]=$(( $(date +%s) - ${began[$job]} ))
    if [ $rc = 0 ]; then state[$job]=ok; else state[$job]=failed; fi
    echo "[$(( $(date +%s) - started )) s] $job ${state[$job]}" \
        "(${took[$job]} s)" >&2
done
total=$(( $(date +%s) - started ))
trap - EXIT
cleanup

# What each part ran: "passed failed" from its log
count() {
    local backend=${1%%:*} part=${1#*:} log=$LOGS/${1%%:*}-${1#*:}.log
    local p=0 f=0
    case $part in
        build) [ "${state[$1]}" = ok ] || f=1 ;;
        modules)
            p=$(grep -oE '^Ran [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
            f=$(grep -oE '(failures|errors)=[0-9]+' "$log" \
                | grep -oE '[0-9]+' | awk '{s += $1} END {print s + 0}')
            p=$((p - f))
            grep -qE '^(OK|FAILED)' "$log" || f=$((f + 1)) ;;
        *)
            p=$(grep -oE '[0-9]+ passed' "$log" | tail -1 | grep -oE '[0-9]+')
            f=$(tail -1 "$log" | grep -oE '[0-9]+ (failed|errors?)' \
                | grep -oE '[0-9]+' | awk '{s += $1} END {print s + 0}')
            p=${p:-0}
            grep -qE '^=*.* in [0-9.]+s' "$log" || f=$((f + 1)) ;;
    esac
    echo "$p ${f:-0}"
}

passed=0 failures=0
for job in "${queue[@]}"; do
    [ "${state[$job]}" = ok ] && [ "${job#*:}" = build ] && continue
    log=$LOGS/${job%%:*}-${job#*:}.log
    echo
    echo "=== ${job%%:*}: ${job#*:} (${state[$job]}) ==="
    if [ "${state[$job]}" = skipped ]; then
        echo "not run: the ${job%%:*} build failed"
    elif [ "${job#*:}" = modules ]; then
        grep -E '(FAIL|ERROR):|^Ran |^OK|^FAILED' "$log" || true
        grep -qE '^(OK|FAILED)' "$log" || tail -40 "$log"
    else
        tail -25 "$log"
    fi
done

echo
echo "Time per part (s), $JOBS at a time:"
for job in "${queue[@]}"; do
    if [ "${state[$job]}" = skipped ]; then
        read -r p f <<< "0 1"
    else
        read -r p f < <(count "$job")
    fi
    passed=$((passed + p)) failures=$((failures + f))
    printf '  %-11s %-8s %5s  %-7s %4s passed %3s failed\n' "${job%%:*}" \
        "${job#*:}" "${took[$job]:--}" "${state[$job]}" "$p" "$f"
done
echo "Total: $total s (logs: $LOGS/, screenshots: test-artifacts/)"
echo "portico: $passed passed, $failures failed"
bad=0
for job in "${queue[@]}"; do [ "${state[$job]}" = ok ] || bad=1; done
[ $bad = 0 ] && [ $failures = 0 ]

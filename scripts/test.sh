#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL: each module's Tryton
# tests (ModuleTestCase and scenario doctests, run by unittest, which also
# runs load_tests) and the HTTP, isolation and browser tests under tests/
# (pytest). The two backends run side by side, one per core.
#
#   bash scripts/test.sh            both backends
#   BACKENDS=sqlite bash scripts/test.sh
#
# Under CI=true an unreachable PostgreSQL fails the run instead of skipping.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
PG_URI=${PORTICO_PG_URI:-postgresql://postgres@127.0.0.1:5432/}
BACKENDS=${BACKENDS:-sqlite postgresql}
MODULE_TESTS="client_portal.tests.test_module client_portal.tests.test_scenario
    bitrix_bridge.tests.test_module payroll_account.tests.test_module"
LOGS=var/test-logs
rm -rf "$LOGS" && mkdir -p "$LOGS" test-artifacts

# Databases built from the modules are cached between runs, keyed by the
# content of the modules so that a change rebuilds them.
hash=$(find addons -type f \( -name '*.py' -o -name '*.xml' -o -name '*.cfg' \
        -o -name '*.html' -o -name '*.po' -o -name '*.rst' \) -print0 \
    | sort -z | xargs -0 cat | sha1sum | cut -c1-12)
CACHE=var/test-cache/$hash
find var/test-cache -mindepth 1 -maxdepth 1 ! -name "$hash" \
    -exec rm -rf {} + 2>/dev/null || true

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

# One part of the suite on one backend, logged to var/test-logs/
run_part() {
    local backend=$1 part=$2 name
    if [ "$backend" = postgresql ]; then
        export TRYTOND_DATABASE__URI=$PG_URI
        name=test_portico_$$_$part
    else
        export TRYTOND_DATABASE__URI=sqlite://
        name=:memory:
    fi
    # Each part its own cache: two parts may build one at the same time
    export DB_CACHE=$PWD/$CACHE/$backend-$part
    export PORTICO_TEST_CACHE=$PWD/$CACHE/browser-$backend
    mkdir -p "$DB_CACHE" "$PORTICO_TEST_CACHE"
    if [ "$part" = modules ]; then
        # shellcheck disable=SC2086
        DB_NAME=$name "$PY" -m unittest -v $MODULE_TESTS \
            > "$LOGS/$backend-modules.log" 2>&1
    else
        DB_NAME=$name "$PY" -m pytest tests -q -p no:warnings \
            --junit-xml="$LOGS/$backend-http.xml" \
            > "$LOGS/$backend-http.log" 2>&1
    fi
}

# Three jobs on two cores: the PostgreSQL parts are the longest, so they
# run apart while the SQLite parts run one after the other.
started=$(date +%s)
pids=()
for backend in $BACKENDS; do
    if [ "$backend" = postgresql ]; then
        run_part postgresql modules & pids+=($!)
        run_part postgresql http & pids+=($!)
    else
        { run_part sqlite modules; a=$?; run_part sqlite http; b=$?
          exit $((a || b)); } & pids+=($!)
    fi
done
failed=0
for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
done

passed=0 failures=0
for backend in $BACKENDS; do
    for part in modules http; do
        log=$LOGS/$backend-$part.log
        echo
        echo "=== $backend: $part ==="
        if [ "$part" = modules ]; then
            grep -E '(FAIL|ERROR):|^Ran |^OK|^FAILED' "$log" || true
            ran=$(grep -oE '^Ran [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
            bad=$(grep -oE '(failures|errors)=[0-9]+' "$log" \
                | grep -oE '[0-9]+' | awk '{s += $1} END {print s + 0}')
            if grep -qE '^(OK|FAILED)' "$log"; then :; else
                tail -40 "$log"; bad=$((bad + 1)); fi
            passed=$((passed + ran - ${bad:-0}))
            failures=$((failures + ${bad:-0}))
        else
            tail -25 "$log"
            p=$(grep -oE '[0-9]+ passed' "$log" | tail -1 | grep -oE '[0-9]+')
            f=$(grep -oE '[0-9]+ (failed|errors?)' "$log" | grep -oE '[0-9]+' \
                | awk '{s += $1} END {print s + 0}')
            passed=$((passed + ${p:-0}))
            failures=$((failures + ${f:-0}))
            if ! grep -qE '[0-9]+ passed' "$log"; then failures=$((failures + 1)); fi
        fi
    done
done
echo
echo "Full logs: $LOGS/ · screenshots: test-artifacts/ · $(( $(date +%s) - started )) s"
echo "portico: $passed passed, $failures failed"
if [ $failed -ne 0 ] || [ $failures -ne 0 ]; then
    exit 1
fi

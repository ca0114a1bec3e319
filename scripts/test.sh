#!/usr/bin/env bash
# Runs the tests after making the machine ready, each mocha run with one HAProxy version
# (BLUEGREEN_HAPROXY_VERSION, docs/HAPROXY_VERSIONS.md):
#   - without arguments: every test (unit, integration against real HAProxy, engine and end-to-end
#     through the real Pulumi engine) with the selected version (2.6 unless set), then the HAProxy
#     integration tests again with 3.0 and with 3.2, and the end-to-end flip and rollout with 3.2;
#   - with arguments: they go to mocha (a file, --grep ...), one run with the selected version.
# Pending (skipped) tests fail a run. Ends with one line per run, `tests (haproxy 3.2): N passed, N failed`,
# and the summary line `tests: N passed, N failed` (the sums); any failure gives a non-zero exit.
# The run has a TMPDIR of its own: a process that still has it when the tests are over is a stray
# (lab/strayProcesses.ts): it is listed, killed, and fails the run (`stray processes: N`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# The extra runs of a full test run, by version.
HAPROXY_SPECS=('test/integration/haproxy/**/*.test.ts' test/integration/local/haproxyControl.test.ts)
EXTRA_VERSIONS=(3.0 3.2)
extra_specs() { # extra_specs <version>: the specs of that version's extra run
  printf '%s\n' "${HAPROXY_SPECS[@]}"
  [ "$1" != 3.2 ] || printf '%s\n' test/e2e/flip.test.ts test/e2e/rollout.test.ts
}

selected="${BLUEGREEN_HAPROXY_VERSION:-2.6}"
if [ $# -gt 0 ]; then
  bash "$BLUEGREEN_ROOT/scripts/setup.sh"
else
  bash "$BLUEGREEN_ROOT/scripts/setup.sh" --haproxy-versions=all
fi
cd "$BLUEGREEN_ROOT"

step "type-checking"
npx tsc -p .

reports="$(mktemp -d)"
own_run_tmpdir
trap 'rm -rf "$reports" "$BLUEGREEN_RUN_TMP"' EXIT
status=0
total_passed=0
total_failed=0
lines=()

# count <report> <word>: the number mocha printed before "passing", "failing" or "pending" (0 if none).
count() { grep -Eo "^ *[0-9]+ $2" "$1" | grep -Eo '[0-9]+' || echo 0; }

# run_tests <version> <mocha spec or argument>...: one mocha run with that HAProxy; adds to the sums.
run_tests() {
  local version="$1"; shift
  local report="$reports/$version-${#lines[@]}" run_status=0 running
  running="$(BLUEGREEN_HAPROXY_VERSION="$version" TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register \
    -e 'console.log(require("./src/targets/local/haproxyBinary").runningHaproxyVersion())' 2>&1)" \
    || running="not runnable: $running"
  step "tests with HAProxy $version ($running): $*"
  BLUEGREEN_HAPROXY_VERSION="$version" TS_NODE_TRANSPILE_ONLY=true npx mocha --require ts-node/register \
    --timeout 120000 --forbid-only --reporter spec "$@" 2>&1 | tee "$report" || run_status=$?
  local passed failed pending
  passed="$(count "$report" passing)"
  failed="$(count "$report" failing)"
  pending="$(count "$report" pending)"
  if [ "$pending" != 0 ]; then
    echo "tests (haproxy $version): $pending pending (skipped) tests are not allowed" >&2
    run_status=1
  fi
  if [ "$passed" = 0 ] && [ "$run_status" = 0 ]; then
    echo "tests (haproxy $version): no test ran" >&2
    run_status=1
  fi
  [ "$run_status" = 0 ] || status=1
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  lines+=("tests (haproxy $version): $passed passed, $failed failed")
}

if [ $# -gt 0 ]; then
  run_tests "$selected" "$@"
else
  run_tests "$selected" 'test/**/*.test.ts'
  for version in "${EXTRA_VERSIONS[@]}"; do
    [ "$version" != "$selected" ] || continue # its run above had every test
    mapfile -t specs < <(extra_specs "$version")
    run_tests "$version" "${specs[@]}"
  done
fi

TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register lab/strayProcesses.ts "$BLUEGREEN_RUN_TMP" || status=1

printf '%s\n' "${lines[@]}"
echo "tests: $total_passed passed, $total_failed failed"
exit "$status"

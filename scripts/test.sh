#!/usr/bin/env bash
# Runs every test (unit, integration against real HAProxy, engine and end-to-end through the real
# Pulumi engine) after making the machine ready. Extra arguments go to mocha, e.g. a file or --grep.
# Ends with one summary line: `tests: N passed, N failed`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$BLUEGREEN_ROOT/scripts/setup.sh"
cd "$BLUEGREEN_ROOT"

step "type-checking"
npx tsc -p .

specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=('test/**/*.test.ts')
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
status=0
TS_NODE_TRANSPILE_ONLY=true npx mocha --require ts-node/register --timeout 120000 --forbid-only \
  --reporter spec "${specs[@]}" 2>&1 | tee "$report" || status=$?
passed="$(grep -Eo '^ *[0-9]+ passing' "$report" | grep -Eo '[0-9]+' || echo 0)"
failed="$(grep -Eo '^ *[0-9]+ failing' "$report" | grep -Eo '[0-9]+' || echo 0)"
pending="$(grep -Eo '^ *[0-9]+ pending' "$report" | grep -Eo '[0-9]+' || echo 0)"
if [ "$pending" != 0 ]; then
  echo "tests: $pending pending (skipped) tests are not allowed" >&2
  status=1
fi
if [ "$passed" = 0 ] && [ "$status" = 0 ]; then
  echo "tests: no test ran" >&2
  status=1
fi
echo "tests: $passed passed, $failed failed"
exit "$status"

#!/usr/bin/env bash
# `npm run soak -- --flips N --seed S`: after setup (scripts/setup.sh, the HAProxy that
# BLUEGREEN_HAPROXY_VERSION selects, 2.6 unless set), the seeded soak of scripts/soak.ts in a TMPDIR of
# its own, so that it can find and end every process it started (lab/strayProcesses.ts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$BLUEGREEN_ROOT/scripts/setup.sh"
cd "$BLUEGREEN_ROOT"
own_run_tmpdir
trap 'rm -rf "$BLUEGREEN_RUN_TMP"' EXIT
TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register scripts/soak.ts "$@"

#!/usr/bin/env bash
# The main job on the local target: set up, bring the local stack up (g1 the first time), flip it to the
# next generation under live traffic, and print the report (scripts/main-job.ts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$BLUEGREEN_ROOT/scripts/setup.sh"
cd "$BLUEGREEN_ROOT"
TS_NODE_TRANSPILE_ONLY=true exec node -r ts-node/register scripts/main-job.ts "$@"

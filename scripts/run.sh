#!/usr/bin/env bash
# Runs one of the project's TypeScript commands after making the machine ready (scripts/setup.sh), with
# the project's engine, backend and state (scripts/env.sh): `bash scripts/run.sh scripts/main-job.ts ...`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$BLUEGREEN_ROOT/scripts/setup.sh"
cd "$BLUEGREEN_ROOT"
TS_NODE_TRANSPILE_ONLY=true exec node -r ts-node/register "$@"

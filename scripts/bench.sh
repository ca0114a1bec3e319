#!/usr/bin/env bash
# Benchmarks on demand: `npm run bench -- [scale|drain|flip|preview ...]` (all when none is named).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$BLUEGREEN_ROOT/scripts/setup.sh" >/dev/null
cd "$BLUEGREEN_ROOT"
TS_NODE_TRANSPILE_ONLY=true exec node -r ts-node/register scripts/bench.ts "$@"

# shellcheck shell=bash
# Sourced by every project script: where the project keeps its engine, state and cache.
#
#   BLUEGREEN_ROOT    the checkout (derived from this file's place)
#   BLUEGREEN_CACHE   slow-to-build binaries, kept across clones
#                     (default: ${XDG_CACHE_HOME:-$HOME/.cache}/haproxy-bluegreen)
#   BLUEGREEN_STATE   Pulumi home, file:// backend and local-target processes, git-ignored
#                     (default: $BLUEGREEN_ROOT/.bluegreen)
BLUEGREEN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BLUEGREEN_CACHE="${BLUEGREEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/haproxy-bluegreen}"
BLUEGREEN_STATE="${BLUEGREEN_STATE:-$BLUEGREEN_ROOT/.bluegreen}"

# Pinned engine versions (see docs/ENGINE.md).
PULUMI_VERSION="v3.248.0"
COMMAND_PROVIDER_VERSION="1.2.1"

BLUEGREEN_ENGINE_DIR="$BLUEGREEN_STATE/engine"   # links to the cached binaries the project uses

export BLUEGREEN_ROOT BLUEGREEN_CACHE BLUEGREEN_STATE PULUMI_VERSION COMMAND_PROVIDER_VERSION BLUEGREEN_ENGINE_DIR
export PULUMI_HOME="$BLUEGREEN_STATE/pulumi-home"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$BLUEGREEN_STATE/backend}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The program runs with ts-node in transpile-only mode (fast start); `npm test` type-checks with tsc.
export PULUMI_NODEJS_TRANSPILE_ONLY=true
# The file backend encrypts secrets with a passphrase. Unless the user gives one, the project keeps a
# random one in a file only its owner can read (created by setup.sh), never on the command line.
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE_FILE="$BLUEGREEN_STATE/passphrase"
fi
case ":$PATH:" in
  *":$BLUEGREEN_ENGINE_DIR:"*) ;;
  *) export PATH="$BLUEGREEN_ENGINE_DIR:$BLUEGREEN_ROOT/node_modules/.bin:$PATH" ;;
esac

# own_run_tmpdir: gives the run (the tests, a soak) a temporary folder of its own as TMPDIR, exported
# also as BLUEGREEN_RUN_TMP. Every process the run starts inherits it, so one that still has it after the
# run is a stray (lab/strayProcesses.ts). Mode 711: the local target's PostgreSQL runs as postgres and
# must get through it. Its name is short (`bg.XXXXXX`): load balancers' sockets live below it, and HAProxy
# binds no UNIX socket path over 97 characters. The caller removes it (a trap).
own_run_tmpdir() {
  BLUEGREEN_RUN_TMP="$(mktemp -d -t bg.XXXXXX)"
  chmod 711 "$BLUEGREEN_RUN_TMP"
  export BLUEGREEN_RUN_TMP TMPDIR="$BLUEGREEN_RUN_TMP"
}

# step "message": progress line for the slow parts, with the seconds since the script started.
step() { printf '[setup %4ss] %s\n' "$SECONDS" "$*"; }

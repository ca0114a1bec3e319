#!/usr/bin/env bash
# Makes this machine ready to run the project: npm packages, socat, sshd, Prometheus and PostgreSQL from Debian, moto_server (pip), HAProxy
# (scripts/setup-haproxy.sh), the pinned Pulumi engine, the project's Pulumi home, file:// backend and
# passphrase. Idempotent and cached: a second run only checks what is there.
#
# Usage: setup.sh [--haproxy-versions=all|<version>[,<version>...]]
#   HAProxy versions to make available (2.6, 3.0, 3.2; docs/HAPROXY_VERSIONS.md). Default: the one
#   BLUEGREEN_HAPROXY_VERSION selects, 2.6 when unset. `npm test` asks for all of them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$BLUEGREEN_ROOT/scripts/debian.sh"
cd "$BLUEGREEN_ROOT"

haproxy_versions="${BLUEGREEN_HAPROXY_VERSION:-2.6}"
for arg in "$@"; do
  case "$arg" in
    --haproxy-versions=?*) haproxy_versions="${arg#*=}" ;;
    *) echo "usage: setup.sh [--haproxy-versions=all|<version>[,<version>...]]" >&2; exit 2 ;;
  esac
done

# npm packages, reinstalled only when package-lock.json changed.
lock_hash="$(sha256sum package-lock.json | cut -c1-16)"
if [ "$(cat node_modules/.bluegreen-lock 2>/dev/null)" != "$lock_hash" ]; then
  step "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.bluegreen-lock
fi

# Debian packages: socat, openssh-server (the SSH transport tests), prometheus (the Prometheus metric
# source's test starts /usr/bin/prometheus on a free port of its own; the package's service, which it may
# start on :9090, is not used) and postgresql (the local target's database: only its binaries are used,
# under /usr/lib/postgresql/<major>/bin; the local target runs its own cluster, never the system's service,
# which the package may start and which nothing here needs; BLUEGREEN_PG_BIN points at other binaries
# instead).
packages=(socat openssh-server prometheus)
[ -n "${BLUEGREEN_PG_BIN:-}" ] || packages+=(postgresql)
apt_install "${packages[@]}"

# moto_server, moto's AWS emulator: the aws target's Auto Scaling and EC2 calls are tested against it
# (lab/motoServer.ts). Installed with this machine's Python when missing; it has no --version, --help runs it.
if ! command -v moto_server >/dev/null; then
  step "installing moto_server (moto[server] 5.2.1) with $(python3 --version)"
  python3 -m pip install --quiet 'moto[server]==5.2.1'
  ! command -v pyenv >/dev/null || pyenv rehash
  hash -r
fi
moto_server --help >/dev/null \
  || { echo "setup: moto_server does not run; is $(python3 -m site --user-base 2>/dev/null)/bin, or the scripts folder of python3's pip, on PATH?" >&2; exit 1; }

# HAProxy: the load balancers of the local target and the tests.
# shellcheck disable=SC2046 # one argument per version
bash "$BLUEGREEN_ROOT/scripts/setup-haproxy.sh" $(tr ',' ' ' <<<"$haproxy_versions")

bash "$BLUEGREEN_ROOT/scripts/setup-engine.sh"

mkdir -p "$BLUEGREEN_STATE/backend" "$PULUMI_HOME"
if [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ] && [ ! -s "$PULUMI_CONFIG_PASSPHRASE_FILE" ]; then
  (umask 077; head -c 24 /dev/urandom | base64 > "$PULUMI_CONFIG_PASSPHRASE_FILE")
  step "created a passphrase for the local backend's secrets in $PULUMI_CONFIG_PASSPHRASE_FILE"
fi
step "ready"

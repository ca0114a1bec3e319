#!/usr/bin/env bash
# Proves that the project's setup works on a new machine, whatever this machine has cached: runs the
# whole setup (`scripts/setup.sh --haproxy-versions=all`, as `npm test` does) in a fresh clone of HEAD
# whose caches are all empty:
#   - BLUEGREEN_CACHE (the engine, HAProxy 3.0 built from its tarball, the forky root for 3.2),
#   - npm's package cache (npm_config_cache) and Go's module cache (GOMODCACHE), so every npm package and
#     Go module is fetched from its registry again;
#   - the Debian packages setup installs by name are downloaded again (BLUEGREEN_CHECK_ARCHIVE=1), since
#     they cannot be uninstalled here: the archive must still serve each of them.
# Go's build cache is kept: it holds compiled packages keyed by their content, so it can shorten the
# engine's build but cannot stand in for a module download. Then checks that the clone's `git status` is
# clean, and removes everything it made. Committed work only: the clone is of HEAD.
#
# Usage: bash scripts/check-fresh-setup.sh     (a few minutes; `.ci/run` runs it before `npm test`)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$BLUEGREEN_ROOT/scripts/debian.sh"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/bluegreen-fresh-setup.XXXXXX")"
clone="$scratch/clone"
cleanup() {
  # Go makes its module cache read-only; a debootstrap root may hold mounts if it was interrupted.
  [ ! -d "$scratch/gomod" ] || GOMODCACHE="$scratch/gomod" go clean -modcache 2>/dev/null || true
  unmount_under "$scratch"
  rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT

step "fresh-setup check: cloning HEAD into $clone, every cache empty under $scratch"
git clone -q "$BLUEGREEN_ROOT" "$clone"
(
  cd "$clone"
  # The clone's env.sh sets its own state, engine folder and PATH: drop those of this checkout.
  PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF -e "$BLUEGREEN_ENGINE_DIR" -e "$BLUEGREEN_ROOT/node_modules/.bin" | paste -sd: -)"
  unset BLUEGREEN_STATE PULUMI_CONFIG_PASSPHRASE_FILE PULUMI_BACKEND_URL BLUEGREEN_ENGINE_DIR
  export PATH BLUEGREEN_CACHE="$scratch/cache" npm_config_cache="$scratch/npm" GOMODCACHE="$scratch/gomod" \
    BLUEGREEN_CHECK_ARCHIVE=1
  bash scripts/setup.sh --haproxy-versions=all
  changes="$(git status --porcelain)"
  [ -z "$changes" ] || { printf 'fresh-setup check: setup left the clone changed:\n%s\n' "$changes" >&2; exit 1; }
)
step "fresh-setup check: passed (setup from empty caches, clone clean)"

#!/usr/bin/env bash
# Makes the pinned Pulumi engine available to the project, offline:
#   - uses a `pulumi` on PATH when it is the pinned version;
#   - otherwise builds the CLI and the Node.js language host from Go modules (engine/*/go.mod),
#     once per version, into $BLUEGREEN_CACHE;
#   - writes pulumi-resource-pulumi-nodejs (the dynamic-provider host) beside them.
# The CLI the project uses is linked from $BLUEGREEN_ENGINE_DIR, which env.sh puts first on PATH; the
# engine finds its bundled plugins beside the binary the link points to.
# Idempotent: a second run only checks the cache.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

engine_key() { # version plus the hash of the module files that pin the build
  cat "$BLUEGREEN_ROOT"/engine/*/go.mod "$BLUEGREEN_ROOT"/engine/*/go.sum | sha256sum | cut -c1-12
}

go_build() { # go_build <module dir> <output> <package> [ldflags]
  local dir="$1" out="$2" pkg="$3" ldflags="${4:-}"
  command -v go >/dev/null || { echo "setup: Go is needed to build the Pulumi engine offline (go 1.25.11 or newer)" >&2; exit 1; }
  # go.sum in engine/* pins every module; the checksum database is not reachable from here.
  (cd "$BLUEGREEN_ROOT/$dir" && GOFLAGS="-mod=readonly -buildvcs=false" GOSUMDB=off \
     go build -trimpath -o "$out" -ldflags "$ldflags" "$pkg") \
    || { echo "setup: building $pkg failed (go's errors above). Every module it needs is pinned in $dir/go.sum and comes from the Go module proxy ($(go env GOPROXY)); a download error means that proxy is not reachable or no longer serves a pinned version" >&2; exit 1; }
}

mkdir -p "$BLUEGREEN_ENGINE_DIR"
cache="$BLUEGREEN_CACHE/engine/pulumi-$PULUMI_VERSION-$(engine_key)"
mkdir -p "$cache"

path_without_project="$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$BLUEGREEN_ENGINE_DIR" | paste -sd: -)"
system_pulumi="$(PATH="$path_without_project" command -v pulumi || true)"
if [ -n "$system_pulumi" ] && [ "$("$system_pulumi" version 2>/dev/null)" = "$PULUMI_VERSION" ]; then
  step "using pulumi $PULUMI_VERSION from $system_pulumi"
  ln -sf "$system_pulumi" "$BLUEGREEN_ENGINE_DIR/pulumi"
else
  if [ ! -x "$cache/pulumi" ]; then
    step "building the Pulumi CLI $PULUMI_VERSION from Go modules (first time only, several minutes)"
    go_build engine/pulumi "$cache/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
      "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
    mv "$cache/pulumi.tmp" "$cache/pulumi"
  fi
  # The language host binary keeps the name below; `pulumi-language-nodejs` is its launcher.
  host="$cache/pulumi-language-nodejs-v3.68.0"
  if [ ! -x "$host" ] && head -c 4 "$cache/pulumi-language-nodejs" 2>/dev/null | grep -q ELF; then
    mv "$cache/pulumi-language-nodejs" "$host" # a cache made before the launcher existed
  fi
  if [ ! -x "$host" ]; then
    step "building the Node.js language host from Go modules (first time only, about a minute)"
    go_build engine/language-nodejs "$host.tmp" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
    mv "$host.tmp" "$host"
  fi
  # The v3.68.0 host takes the project's `typescript` option as a flag (default true); this engine
  # passes runtime options only in its run request, which that host ignores. The launcher reads the
  # option from the project's Pulumi.yaml (the engine starts the host in the project's folder), so a
  # JavaScript program with `typescript: false` runs without ts-node, as with a released engine.
  cat > "$cache/pulumi-language-nodejs.tmp" <<'SH'
#!/bin/sh
typescript=true
for project in Pulumi.yaml Pulumi.yml; do
  if [ -f "$project" ] && grep -Eq '^[[:space:]]+typescript:[[:space:]]*false[[:space:]]*(#.*)?$' "$project"; then
    typescript=false
  fi
done
exec "$(dirname "$0")/pulumi-language-nodejs-v3.68.0" -typescript="$typescript" "$@"
SH
  chmod +x "$cache/pulumi-language-nodejs.tmp"
  mv "$cache/pulumi-language-nodejs.tmp" "$cache/pulumi-language-nodejs"
  if [ ! -x "$cache/pulumi-resource-pulumi-nodejs" ]; then
    # The dynamic-provider host, as a release ships it: node on @pulumi/pulumi's dynamic-provider,
    # resolved from the directory the engine starts it in (the program's). The engine looks for
    # bundled plugins beside the real pulumi binary, so it lives in the cache, not on PATH.
    cat > "$cache/pulumi-resource-pulumi-nodejs" <<'SH'
#!/bin/sh
exec node "$(node -p "require.resolve('@pulumi/pulumi/cmd/dynamic-provider', { paths: [process.cwd()] })")" "$@"
SH
    chmod +x "$cache/pulumi-resource-pulumi-nodejs"
  fi
  ln -sf "$cache/pulumi" "$BLUEGREEN_ENGINE_DIR/pulumi"
fi

installed="$(pulumi version)"
[ "$installed" = "$PULUMI_VERSION" ] || { echo "setup: pulumi version is $installed, expected $PULUMI_VERSION" >&2; exit 1; }
step "pulumi $installed ready ($BLUEGREEN_ENGINE_DIR)"

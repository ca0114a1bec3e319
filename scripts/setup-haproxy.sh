#!/usr/bin/env bash
# Makes HAProxy versions available to the project (docs/HAPROXY_VERSIONS.md); the project picks one per
# run with BLUEGREEN_HAPROXY_VERSION (src/targets/local/haproxyBinary.ts).
#   2.6  Debian bookworm's `haproxy` package: `haproxy` on PATH (/usr/sbin/haproxy)
#   3.0  built from the upstream tarball of the 3.0 release Debian trixie lists: $BLUEGREEN_CACHE/haproxy/3.0/haproxy
#   3.2  Debian forky's package in a debootstrap root, $BLUEGREEN_CACHE/haproxy/3.2/root (forky's
#        binary needs a newer glibc and OpenSSL than bookworm's), run by the launcher
#        $BLUEGREEN_CACHE/haproxy/3.2/haproxy under chroot (needs root)
#
# Usage: setup-haproxy.sh [2.6|3.0|3.2|all]...
#   default: the version BLUEGREEN_HAPROXY_VERSION selects (2.6 when unset)
# Idempotent and cached: a version whose `ready` stamp (written last) is there is only checked with
# `-vv`; a missing stamp or a failing check means a partial or broken build, which is made again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$BLUEGREEN_ROOT/scripts/debian.sh"

VERSIONS=(2.6 3.0 3.2)
# The Debian suite whose `haproxy` binary package is the 3.2 release (forky is Debian testing: it moves).
HAPROXY_32_SUITE="forky"
cache="$BLUEGREEN_CACHE/haproxy"

# verify <version> <command>: `<command> -vv` runs, reports HAProxy <version> (a release line such as
# 3.0, or one release such as 3.0.11) and was built with the Prometheus exporter (+PROMEX, which the
# Prometheus metric source's test scrapes); prints its version line.
verify() {
  local version="$1" command="$2" out
  out="$("$command" -vv 2>&1)" || { echo "setup: \`$command -vv\` failed: $out" >&2; return 1; }
  head -1 <<<"$out" | grep -Eq "^HAProxy version ${version//./\\.}([.-]| )" \
    || { echo "setup: \`$command -vv\` reports \"$(head -1 <<<"$out")\", expected HAProxy $version" >&2; return 1; }
  grep -Eq '^Feature list :.* \+PROMEX( |$)' <<<"$out" \
    || { echo "setup: \`$command -vv\` lists no +PROMEX: HAProxy $version was built without the Prometheus exporter" >&2; return 1; }
  head -1 <<<"$out"
}

# cached <version>: whether the version's cache is complete (stamp present) and its binary passes -vv.
cached() {
  local dir="$cache/$1"
  [ -f "$dir/ready" ] || return 1
  local line
  line="$(verify "$1" "$dir/haproxy" 2>&1)" || { step "HAProxy $1 in $dir is broken ($line): making it again"; return 1; }
  step "$line ready (cached, $dir/haproxy)"
}

# fresh <dir>: an empty folder for a version's build, removing what a partial build left.
fresh() {
  if [ -e "$1" ]; then
    unmount_under "$1"
    $sudo_cmd rm -rf --one-file-system "$1"
  fi
  mkdir -p "$1"
}

setup_26() {
  apt_install haproxy
  step "$(verify 2.6 haproxy) ready ($(command -v haproxy))"
}

# 3.0: built from the upstream tarball of the newest 3.0 release that Debian trixie lists (trixie,
# trixie-updates or trixie-security), found with an apt of its own (private_apt, under $cache/apt). All
# Debian revisions of one release share its `.orig.tar.gz`, and the mirror may stop serving a revision's
# Debian files (`.dsc`, `.debian.tar.xz`) while it still serves the tarball: only the tarball is fetched
# (apt checks it against the signed index), trying each revision of the release in turn. Debian's patches
# are not applied: this is the upstream release, built against this machine's libraries.
setup_30() {
  cached 3.0 && return 0
  local dir="$cache/3.0" apt="$cache/apt"
  apt_install build-essential libssl-dev libpcre2-dev zlib1g-dev
  fresh "$dir"
  rm -rf "$apt"
  step "looking up HAProxy 3.0 in Debian trixie's source index"
  local opts_text opts=()
  opts_text="$(private_apt "$apt" \
    "deb-src [signed-by=$DEBIAN_KEYRING] $DEBIAN_MIRROR trixie main" \
    "deb-src [signed-by=$DEBIAN_KEYRING] $DEBIAN_MIRROR trixie-updates main" \
    "deb-src [signed-by=$DEBIAN_KEYRING] $DEBIAN_SECURITY_MIRROR trixie-security main")"
  mapfile -t opts <<<"$opts_text"
  local revisions release
  revisions="$(apt-cache "${opts[@]}" madison haproxy | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort -rVu)"
  release="$(grep -E '^3\.0\.[0-9]+-' <<<"$revisions" | head -1 | cut -d- -f1)"
  [ -n "$release" ] || {
    echo "setup: Debian trixie lists no HAProxy 3.0 source (it lists: $(tr '\n' ' ' <<<"$revisions")); expected a 3.0.x release." >&2
    echo "setup: point setup_30 in scripts/setup-haproxy.sh at a suite that lists HAProxy 3.0, or drop 3.0 from EXTRA_VERSIONS in scripts/test.sh" >&2
    exit 1
  }
  local rev tarball="" tried=()
  for rev in $(grep -E "^${release//./\\.}-" <<<"$revisions"); do
    step "fetching the upstream tarball of HAProxy $release (listed with Debian's revision $rev)"
    if (cd "$dir" && apt-get "${opts[@]}" source --tar-only -qq "haproxy=$rev" >"$dir/fetch.log" 2>&1); then
      tarball="$(find "$dir" -maxdepth 1 -name "haproxy_$release.orig.tar.*" | head -1)"
      [ -z "$tarball" ] || break
    fi
    tried+=("$rev: $(grep -E '^E:' "$dir/fetch.log" | head -1)")
  done
  [ -n "$tarball" ] || {
    printf 'setup: the mirror served haproxy_%s.orig.tar.* for none of its Debian revisions:\n' "$release" >&2
    printf '  %s\n' "${tried[@]}" >&2
    echo "setup: HAProxy 3.0 cannot be built until the mirror serves that tarball; \`npm test -- <files>\` runs on 2.6 without it" >&2
    exit 1
  }
  mkdir "$dir/src"
  tar -xf "$tarball" -C "$dir/src" --strip-components=1
  step "building HAProxy $release from its upstream tarball (about 90 s on 2 cores)"
  make -C "$dir/src" -s -j"$(nproc)" TARGET=linux-glibc USE_OPENSSL=1 USE_PCRE2=1 USE_ZLIB=1 USE_PROMEX=1 >"$dir/build.log" 2>&1 \
    || { tail -20 "$dir/build.log" >&2; echo "setup: building HAProxy $release failed ($dir/build.log)" >&2; exit 1; }
  install -m 755 "$dir/src/haproxy" "$dir/haproxy"
  local line
  line="$(verify "$release" "$dir/haproxy")"
  rm -rf "$dir/src" "$tarball" "$dir/fetch.log" "$apt"
  echo "$line" > "$dir/ready"
  step "$line ready ($dir/haproxy)"
}

# 3.2: the binary package of $HAPROXY_32_SUITE in a minimal root of that suite, started by a launcher
# that runs it under chroot (the binary needs a newer glibc and OpenSSL than bookworm's, and the mirror
# reachable here does not serve the suite's source tarball).
setup_32() {
  local dir="$cache/3.2"
  # The launcher follows the checkout's copy, also in a cached root.
  if [ -f "$dir/ready" ] && ! cmp -s "$BLUEGREEN_ROOT/scripts/haproxy-chroot.sh" "$dir/haproxy"; then
    install -m 755 "$BLUEGREEN_ROOT/scripts/haproxy-chroot.sh" "$dir/haproxy"
  fi
  cached 3.2 && return 0
  apt_install debootstrap
  fresh "$dir"
  step "making a Debian $HAPROXY_32_SUITE root with HAProxy in $dir/root (debootstrap, about a minute)"
  # Bookworm's debootstrap may not know a testing release by name; sid's script bootstraps every one.
  local script=()
  [ -e "/usr/share/debootstrap/scripts/$HAPROXY_32_SUITE" ] || script=(/usr/share/debootstrap/scripts/sid)
  $sudo_cmd debootstrap --variant=minbase --include=haproxy "$HAPROXY_32_SUITE" "$dir/root" "$DEBIAN_MIRROR" "${script[@]}" \
    >"$dir/debootstrap.log" 2>&1 \
    || { tail -20 "$dir/debootstrap.log" >&2; echo "setup: debootstrap of Debian $HAPROXY_32_SUITE failed ($dir/debootstrap.log); the next setup starts it again" >&2; exit 1; }
  unmount_under "$dir/root"
  install -m 755 "$BLUEGREEN_ROOT/scripts/haproxy-chroot.sh" "$dir/haproxy"
  local line
  line="$(verify 3.2 "$dir/haproxy")" || {
    echo "setup: Debian $HAPROXY_32_SUITE's haproxy is not a 3.2 release. Set HAPROXY_32_SUITE in scripts/setup-haproxy.sh to a suite whose haproxy binary package is 3.2.x, or drop 3.2 from EXTRA_VERSIONS in scripts/test.sh" >&2
    exit 1
  }
  echo "$line" > "$dir/ready"
  step "$line ready ($dir/haproxy)"
}

requested=("$@")
[ ${#requested[@]} -gt 0 ] || requested=("${BLUEGREEN_HAPROXY_VERSION:-2.6}")
for v in "${requested[@]}"; do
  case "$v" in
    all) for w in "${VERSIONS[@]}"; do "setup_${w/./}"; done ;;
    2.6|3.0|3.2) "setup_${v/./}" ;;
    *) echo "setup-haproxy: unknown HAProxy version \"$v\" (one of ${VERSIONS[*]} or all)" >&2; exit 2 ;;
  esac
done

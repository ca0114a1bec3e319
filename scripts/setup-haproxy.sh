#!/usr/bin/env bash
# Makes HAProxy versions available to the project (docs/HAPROXY_VERSIONS.md); the project picks one per
# run with BLUEGREEN_HAPROXY_VERSION (src/targets/local/haproxyBinary.ts).
#   2.6  Debian bookworm's `haproxy` package: `haproxy` on PATH (/usr/sbin/haproxy)
#   3.0  built from Debian trixie's source package: $BLUEGREEN_CACHE/haproxy/3.0/haproxy
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

VERSIONS=(2.6 3.0 3.2)
DEBIAN_MIRROR="http://deb.debian.org/debian"
KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"
cache="$BLUEGREEN_CACHE/haproxy"

sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

# apt_install <package>...: installs the Debian (bookworm) packages among them that are not installed.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  step "installing ${missing[*]} from Debian"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# verify <version> <command>: `<command> -vv` runs and reports HAProxy <version>.x; prints its version line.
verify() {
  local version="$1" command="$2" out
  out="$("$command" -vv 2>&1)" || { echo "setup: \`$command -vv\` failed: $out" >&2; return 1; }
  head -1 <<<"$out" | grep -Eq "^HAProxy version ${version//./\\.}\." \
    || { echo "setup: \`$command -vv\` reports \"$(head -1 <<<"$out")\", expected HAProxy $version" >&2; return 1; }
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

# unmount_under <dir>: removes mounts left under <dir> (an interrupted debootstrap leaves /proc and /sys).
unmount_under() {
  local dir mounts
  dir="$(readlink -f "$1")"
  mounts="$(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)"
  [ -z "$mounts" ] || xargs -r -n1 $sudo_cmd umount -l <<<"$mounts"
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
  if ! command -v haproxy >/dev/null; then apt_install haproxy; fi
  step "$(verify 2.6 haproxy) ready ($(command -v haproxy))"
}

# 3.0: trixie's source package (trixie and trixie-updates; trixie-security lists newer ones whose files
# the mirror reachable here does not serve), fetched with an apt of its own (sources, lists and cache
# under $cache/apt): the machine's apt keeps its bookworm sources only, no trixie binary is installed.
setup_30() {
  cached 3.0 && return 0
  local dir="$cache/3.0" apt="$cache/apt"
  apt_install build-essential dpkg-dev libssl-dev libpcre2-dev zlib1g-dev
  fresh "$dir"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d"
  cat > "$apt/sources.list" <<EOF
deb-src [signed-by=$KEYRING] $DEBIAN_MIRROR trixie main
deb-src [signed-by=$KEYRING] $DEBIAN_MIRROR trixie-updates main
EOF
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root")
  step "fetching HAProxy 3.0's source package from Debian trixie"
  apt-get "${opts[@]}" update -qq
  (cd "$dir" && apt-get "${opts[@]}" source -qq haproxy >/dev/null)
  local src
  src="$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'haproxy-*')"
  [ -n "$src" ] || { echo "setup: no haproxy source tree in $dir after apt-get source" >&2; exit 1; }
  step "building $(basename "$src") (about 70 s on 2 cores)"
  make -C "$src" -s -j"$(nproc)" TARGET=linux-glibc USE_OPENSSL=1 USE_PCRE2=1 USE_ZLIB=1 >"$dir/build.log" 2>&1 \
    || { tail -20 "$dir/build.log" >&2; echo "setup: building HAProxy 3.0 failed ($dir/build.log)" >&2; exit 1; }
  install -m 755 "$src/haproxy" "$dir/haproxy"
  local line
  line="$(verify 3.0 "$dir/haproxy")"
  rm -rf "$src" "$dir"/haproxy_* "$apt"
  echo "$line" > "$dir/ready"
  step "$line ready ($dir/haproxy)"
}

# 3.2: forky's package in a minimal forky root, started by a launcher that runs it under chroot.
setup_32() {
  local dir="$cache/3.2"
  # The launcher follows the checkout's copy, also in a cached root.
  if [ -f "$dir/ready" ] && ! cmp -s "$BLUEGREEN_ROOT/scripts/haproxy-chroot.sh" "$dir/haproxy"; then
    install -m 755 "$BLUEGREEN_ROOT/scripts/haproxy-chroot.sh" "$dir/haproxy"
  fi
  cached 3.2 && return 0
  apt_install debootstrap
  fresh "$dir"
  step "making a Debian forky root with HAProxy in $dir/root (debootstrap, about a minute)"
  # Bookworm's debootstrap may not know forky by name; sid's script bootstraps every testing release.
  local script=()
  [ -e /usr/share/debootstrap/scripts/forky ] || script=(/usr/share/debootstrap/scripts/sid)
  $sudo_cmd debootstrap --variant=minbase --include=haproxy forky "$dir/root" "$DEBIAN_MIRROR" "${script[@]}" \
    >"$dir/debootstrap.log" 2>&1 \
    || { tail -20 "$dir/debootstrap.log" >&2; echo "setup: debootstrap of forky failed ($dir/debootstrap.log)" >&2; exit 1; }
  unmount_under "$dir/root"
  install -m 755 "$BLUEGREEN_ROOT/scripts/haproxy-chroot.sh" "$dir/haproxy"
  local line
  line="$(verify 3.2 "$dir/haproxy")"
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

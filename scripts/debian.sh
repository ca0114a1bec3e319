# shellcheck shell=bash
# Sourced by the setup scripts (after env.sh): getting things from Debian's archive, and saying clearly
# what was expected and what was found when the archive has moved on.
#
#   apt_install <package>...        the machine's packages, by name, installed when missing
#   private_apt <dir> <line>...     an apt of its own (lists and cache under <dir>) for other suites
#   unmount_under <dir>             removes the mounts a debootstrap root under <dir> was left with
#
# With BLUEGREEN_CHECK_ARCHIVE=1 (scripts/check-fresh-setup.sh), apt_install also downloads the packages
# that are already installed, to prove that the archive still serves each of them by that name.

DEBIAN_MIRROR="http://deb.debian.org/debian"
DEBIAN_SECURITY_MIRROR="http://deb.debian.org/debian-security"
DEBIAN_KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"

sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

# apt_update: the machine's package lists, fetched once per script run.
apt_updated=""
apt_update() {
  [ -n "$apt_updated" ] || { $sudo_cmd apt-get update -qq; apt_updated=1; }
}

# apt_install <package>...: installs those of the packages that are not installed, from the machine's own
# sources (Debian bookworm here); stops naming the packages when apt cannot install them.
apt_install() {
  local missing=() present=() p
  for p in "$@"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then present+=("$p"); else missing+=("$p"); fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]} from Debian"
    apt_update
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { echo "setup: apt-get could not install ${missing[*]} from this machine's Debian sources ($(. /etc/os-release && echo "$VERSION_CODENAME")); install them by hand, or check /etc/apt/sources.list*" >&2; exit 1; }
  fi
  if [ "${BLUEGREEN_CHECK_ARCHIVE:-}" = 1 ] && [ ${#present[@]} -gt 0 ]; then
    local dir
    dir="$(mktemp -d)"
    step "checking that Debian still serves ${present[*]} (installed here)"
    apt_update
    (cd "$dir" && apt-get download -qq "${present[@]}" >/dev/null 2>"$dir/err") \
      || { cat "$dir/err" >&2; rm -rf "$dir"; echo "setup: this machine's Debian sources no longer serve one of ${present[*]}: a new machine cannot install it" >&2; exit 1; }
    rm -rf "$dir"
  fi
}

# private_apt <dir> <sources.list line>...: prints the apt options of an apt of its own whose sources are
# the given lines and whose lists and cache live under <dir>, after fetching its lists. The machine's apt
# keeps its own sources, and nothing from those suites is installed.
private_apt() {
  local dir="$1"; shift
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/sources.list.d"
  printf '%s\n' "$@" > "$dir/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=$dir/sources.list.d"
              -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o "APT::Sandbox::User=root")
  apt-get "${opts[@]}" update -qq >&2 \
    || { echo "setup: apt-get update failed for: $*" >&2; return 1; }
  printf '%s\n' "${opts[@]}"
}

# unmount_under <dir>: removes mounts left under <dir> (an interrupted debootstrap leaves /proc and /sys).
unmount_under() {
  local dir mounts
  dir="$(readlink -f "$1")"
  mounts="$(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)"
  [ -z "$mounts" ] || xargs -r -n1 $sudo_cmd umount -l <<<"$mounts"
}

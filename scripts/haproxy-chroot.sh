#!/bin/sh
# Launcher of a HAProxy that lives in a Debian root beside it (`<this file's folder>/root`), installed
# by scripts/setup-haproxy.sh as $BLUEGREEN_CACHE/haproxy/3.2/haproxy: Debian forky's HAProxy 3.2, whose
# binary needs a newer glibc and OpenSSL than this machine's. Takes HAProxy's own arguments.
#
# HAProxy sees the root, plus the host folders its arguments name, bind-mounted at the same paths so
# that both sides see the same files and sockets: for the working directory and every absolute path
# argument, the folder holding it (the path itself if it is a folder), or rather that folder's top-level
# folder when the root has none of that name or an empty one (/tmp, /home, /work: one mount covers every
# load balancer under it). A configuration that names files elsewhere needs them in the root.
#
# The mounts are made in a mount namespace of the launcher's own (`unshare --mount`, private
# propagation): invisible outside, gone with the last process in the namespace, and two launchers
# starting at once never meet. Removing the cache never reaches through a mount into the host's folders.
#
# Every step is an exec (unshare, this script, chroot, env), so the pid the caller started is HAProxy's
# own, with the caller's environment: a master signalled with USR2 executes /usr/sbin/haproxy again
# inside the root, and a master started later with `-x <admin socket> -sf <pid>` reaches the old one's
# socket through its own mount of the same folder. Needs root (mount namespace, chroot).
set -eu
root="$(dirname "$(readlink -f "$0")")/root"
[ -x "$root/usr/sbin/haproxy" ] || { echo "$0: no HAProxy in $root; run \`bash scripts/setup-haproxy.sh 3.2\`" >&2; exit 1; }

if [ "${1:-}" != "--in-own-mount-namespace" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "$0: this HAProxy runs under chroot in a mount namespace of its own: run it as root" >&2; exit 1; }
  exec unshare --mount --propagation private "$0" --in-own-mount-namespace "$@"
fi
shift

# bind <folder>: the host folder at the same path inside the root, once.
bind() {
  [ -d "$root$1" ] || mkdir -p "$root$1"
  mountpoint -q "$root$1" || mount --bind "$1" "$root$1"
}

for arg in "$PWD" "$@"; do
  case "$arg" in /?*) ;; *) continue ;; esac
  if [ -d "$arg" ]; then folder="$arg"; else folder="$(dirname "$arg")"; fi
  [ "$folder" != / ] && [ -d "$folder" ] || continue
  top="/${folder#/}"; top="/$(printf '%s' "${top#/}" | cut -d/ -f1)"
  if [ ! -e "$root$top" ] || mountpoint -q "$root$top" || [ -z "$(ls -A "$root$top")" ]; then
    bind "$top"
  else
    bind "$folder"
  fi
done

exec chroot "$root" /usr/bin/env -C "$PWD" /usr/sbin/haproxy "$@"

#!/usr/bin/env bash
# Makes Ansible's `community.general.haproxy` module available to the Ansible benchmark
# (`npm run bench -- ansible`, scripts/bench/ansibleLab.ts): Debian bookworm's `ansible` package (ansible
# 7.7, which ships community.general) when `ansible-doc community.general.haproxy` does not work yet.
# Not part of `npm test` or `npm run deploy`. Idempotent: a second run only checks.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$BLUEGREEN_ROOT/scripts/debian.sh"

# module_ready: the module's documentation loads, so the collection is installed where ansible looks.
module_ready() { ansible-doc community.general.haproxy >/dev/null 2>&1; }

# ansible 7.7 with community.general; a few minutes the first time.
command -v ansible-playbook >/dev/null && module_ready || apt_install ansible
module_ready || { echo "setup-ansible: \`ansible-doc community.general.haproxy\` fails after installing ansible: $(ansible-doc community.general.haproxy 2>&1 | tail -3)" >&2; exit 1; }
step "$(ansible --version | sed -n 1p), community.general $(ansible-galaxy collection list community.general 2>/dev/null | awk '$1 == "community.general" { v = $2 } END { print v }') ready"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo cluster (scripts/demo.sh): a lab of network namespaces with two
# nodes on two links and a client, an hhad in every node, and what they say.
# Usage: tests/lab/demo.sh BUILDDIR   (as root; removes everything at the end)
set -eu

export HHA_BUILDDIR=${1:-${HHA_BUILDDIR:-}}
[ -x "$HHA_BUILDDIR/hhad" ] || { echo "demo: no hhad in \`$HHA_BUILDDIR' (build first)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }
. "$(dirname "$(readlink -f "$0")")/lab.sh"

say() { printf '\n== %s\n' "$*"; }

say "A lab: two nodes and a client, joined by two links (bridges in their own namespaces)"
lab_up 2 --links 2 --client
for h in $LAB_HOSTS; do
	printf '%-3s  eth0 %-15s %-24s  eth1 %-15s %s\n' "$h" \
		"$(lab_addr "$h" 0)" "$(lab_addr "$h" 0 6)" "$(lab_addr "$h" 1)" "$(lab_addr "$h" 1 6)"
done

say "The client reaches both nodes on both links"
for h in $LAB_NODES; do
	for l in 0 1; do
		if lab_reach c "$h" "$l"; then r=ok; else r=FAILED; fi
		printf 'c -> %s on link %s: %s\n' "$h" "$l" "$r"
	done
done

say "An hhad in every node (each with its own configuration and run directory)"
for h in $LAB_NODES; do
	lab_hhad_start "$h"
	echo "$h: hhad pid $(lab_hhad_pid "$h"), config $(lab_config "$h")"
done

for h in $LAB_NODES; do
	say "hha-ctl status, asked inside $h"
	lab_ctl "$h" status
done

say "The same as JSON, from n2"
lab_ctl n2 status --json

say "Stopping the daemons and removing the lab"
for h in $LAB_NODES; do lab_hhad_stop "$h"; done
lab_down
echo "done: nothing is left on this machine"

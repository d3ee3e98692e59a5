#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo cluster (scripts/demo.sh): two nodes on two links and a client, in
# network namespaces on this machine. It builds a replicated device with an
# ext4 file system, serves a file on a virtual IP, shows membership, remote
# launch and hha-mon, then crashes the primary node hard and fails over the
# way an admin's script chains the tools: detect the death, promote the
# up-to-date disk, check and mount it, take the address, start the service.
# The client's requests must succeed before and after, with the same data.
# Usage: tests/lab/demo.sh BUILDDIR   (as root; removes everything at the end)
# Exit status 0 only when every step worked (tests/e2e/demo.sh relies on it).
set -eu

export HHA_BUILDDIR=${1:-${HHA_BUILDDIR:-}}
[ -x "$HHA_BUILDDIR/hhad" ] || { echo "demo: no hhad in \`$HHA_BUILDDIR' (build first)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }
. "$(dirname "$(readlink -f "$0")")/lab.sh"

say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s|$HHA_BUILDDIR/||g; s|$LAB_DIR|\$LAB|g"; "$@"; }
die() { echo "demo: FAILED: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
on() { local h=$1; shift; printf '%s$ %s\n' "$h" "$*"; lab_tool "$h" "$@"; }

PORT=7800
SIZE=128M

say "A lab: nodes n1 and n2 and a client c, joined by two links (bridges in their own namespaces)"
lab_up 2 --links 2 --client
for h in $LAB_HOSTS; do
	printf '%-3s  eth0 %-15s  eth1 %-15s %s\n' "$h" "$(lab_addr "$h" 0)" "$(lab_addr "$h" 1)" \
		"$(lab_mac "$h" 0)"
done
VIP_ADDR=$(lab_prefix 0 | sed 's|\.0/24$|.50|')
VIP="$VIP_ADDR/24"

say "An hhad in each node, and metadata on both backing stores"
for h in $LAB_NODES; do
	truncate -s "$SIZE" "$LAB_DIR/$h/r0.img"
	lab_hhad_start "$h"
	on "$h" hha-disk r0 create-md "$LAB_DIR/$h/r0.img" | sed "s|$LAB_DIR|\$LAB|g"
done

say "The configuration gets the replicated device r0 and the service address; hhad reloads it"
lab_config_merge "{
  \"resources\": { \"r0\": { \"port\": $PORT, \"protocol\": \"C\", \"connect_int_ms\": 300,
    \"on\": { \"n1\": { \"backing\": \"$LAB_DIR/n1/r0.img\" },
              \"n2\": { \"backing\": \"$LAB_DIR/n2/r0.img\" } } } },
  \"vips\": { \"web\": { \"address\": \"$VIP\", \"dev\": \"eth0\", \"label\": \"eth0:web\" } }
}"
jq -c '{cluster: {heartbeat: .cluster.heartbeat}, nodes, resources}' "$(lab_config n1)" |
	sed 's|'"$LAB_DIR"'|$LAB|g'
for h in $LAB_NODES; do
	lab_exec "$h" "$HHA_BUILDDIR/hhad" --check-config "$(lab_config "$h")" >/dev/null ||
		die "the configuration of $h is invalid"
	on "$h" hha-ctl reload || die "reload on $h"
done

say "Membership: authenticated heartbeats on both links"
lab_wait_json 10 '.peers[0].state == "up"' lab_tool n1 hha-net --json members >/dev/null ||
	die "n1 does not see n2"
on n1 hha-net members

say "n1 becomes primary of the new pair: the full sync starts"
lab_wait_for 10 lab_tool n1 hha-disk r0 wait-connect -t 1 || die "r0 does not connect"
on n1 hha-disk r0 primary --force
on n1 hha-disk r0 wait-sync -t 60 || die "the full sync did not finish"
on n1 hha-disk status

say "An ext4 file system on r0's NBD export (nbdfuse + loop device on n1)"
MNT=$LAB_DIR/mnt-n1
mkdir -p "$MNT"
loop=$(lab_nbd_mount n1 "$LAB_DIR/n1/run/r0.nbd" "$MNT" mkfs) || die "mount on n1"
echo "mounted $loop on $MNT (ext4 on nbd+unix://$LAB_DIR/n1/run/r0.nbd)" | sed "s|$LAB_DIR|\$LAB|g"
echo "hello from the replicated disk, written on n1 at $(date -u +%T)" > "$MNT/index.html"
head -c 4M /dev/urandom > "$MNT/blob"
sum=$(sha256sum < "$MNT/blob" | cut -c1-16)
# fsync: the writes are acknowledged only once on both nodes' disks (protocol C).
sync -f "$MNT/index.html"
echo "index.html written, blob $sum…, synced"

say "The service: the address $VIP on n1 and a tiny web server on it"
on n1 hha-net vip add "$VIP" dev eth0 label eth0:web
printf '#!/bin/sh\nprintf "HTTP/1.0 200 OK\\r\\n\\r\\n"\ncat "$1/index.html"\n' > "$LAB_DIR/web.sh"
serve() { # HOST DIR: answer every connection on the VIP with DIR/index.html
	lab_bg "$1" "$LAB_DIR/$1/web.log" socat "TCP-LISTEN:8080,bind=$VIP_ADDR,reuseaddr,fork" \
		"EXEC:/bin/sh $LAB_DIR/web.sh $2" >/dev/null
}
serve n1 "$MNT"
fetch() { lab_exec c socat -T1 - "TCP:$VIP_ADDR:8080,connect-timeout=0.3" </dev/null 2>/dev/null | tail -1; }
page=""
for _ in $(seq 50); do page=$(fetch) && [ -n "$page" ] && break; sleep 0.1; done
[ -n "$page" ] || die "the client cannot fetch the page from n1"
echo "c fetches http://$VIP_ADDR:8080/: $page"
echo "c's neighbour entry: $(lab_exec c ip neigh show "$VIP_ADDR" | cut -d' ' -f1-5) (n1 is $(lab_mac n1 0))"

say "Remote launch: a command on n2 from n1, and placement by load"
# As an ordinary user (root is refused unless run.allow_root says otherwise).
as_user() { local h=$1 tool=$2; shift 2; printf '%s$ %s %s   (as nobody)\n' "$h" "$tool" "$*"
	lab_exec "$h" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$HHA_BUILDDIR/$tool" --socket "$LAB_DIR/$h/run/hhad.sock" "$@"; }
as_user n1 hha-runon --cwd / n2 sh -c 'echo "running on $(hostname) as $(id -un)"' ||
	die "remote launch"
as_user n1 hha-runon --cwd / -n 4 auto hostname || die "auto placement"
on n1 hha-runon --list

say "hha-mon --once on n1"
on n1 hha-mon --once --ascii | head -30

say "Hard crash of n1: frozen, links down, every process killed (no goodbye)"
t0=$(now_ms)
lab_crash n1
echo "crashed at t=0"

say "n2 fails over, step by step, as an admin's script would"
lab_wait_json 10 '.peers[0].state == "dead"' lab_tool n2 hha-net --json members >/dev/null ||
	die "n2 does not see n1 dead"
echo "t=$(( $(now_ms) - t0 )) ms: n2's membership says n1 is dead"
on n2 hha-disk r0 status
# The replication link has its own, slower timeout (timeout_ms, 5 s): membership
# (every link silent past the dead time) already knows, so drop the link.
on n2 hha-disk r0 disconnect || die "disconnect on n2"
on n2 hha-disk r0 primary || die "promotion of the up-to-date disk on n2"
echo "t=$(( $(now_ms) - t0 )) ms: r0 is primary on n2"
MNT2=$LAB_DIR/mnt-n2
mkdir -p "$MNT2"
# Check the file system before mounting it: on a copy read through the export.
lab_exec n2 nbdcopy "nbd+unix:///r0?socket=$LAB_DIR/n2/run/r0.nbd" "$LAB_DIR/n2/check.img" ||
	die "reading r0 on n2"
e2fsck -fn "$LAB_DIR/n2/check.img" >/dev/null 2>&1 && echo "e2fsck -fn: clean" ||
	die "the file system on n2 is not clean"
rm -f "$LAB_DIR/n2/check.img"
lab_nbd_mount n2 "$LAB_DIR/n2/run/r0.nbd" "$MNT2" >/dev/null || die "mount on n2"
echo "t=$(( $(now_ms) - t0 )) ms: mounted on n2"
on n2 hha-net vip add "$VIP" dev eth0 label eth0:web
serve n2 "$MNT2"
echo "t=$(( $(now_ms) - t0 )) ms: address taken and announced, service started"
page2=""
for _ in $(seq 100); do page2=$(fetch) && [ -n "$page2" ] && break; sleep 0.05; done
t_ok=$(( $(now_ms) - t0 ))
[ "$page2" = "$page" ] || die "after failover the client got \`$page2', not \`$page'"
echo "t=$t_ok ms: c fetches the same page again: $page2"
echo "c's neighbour entry: $(lab_exec c ip neigh show "$VIP_ADDR" | cut -d' ' -f1-5) (n2 is $(lab_mac n2 0))"
[ "$(sha256sum < "$MNT2/blob" | cut -c1-16)" = "$sum" ] || die "blob differs on n2"
echo "blob on n2: $sum… — every acknowledged write is there"

say "n1 comes back: it rejoins as the sync target, and only what changed moves"
# n1 crashed as primary; n2 was promoted and wrote without it. At the
# handshake the generation ids say so: n2's bitmap and n1's activity-log
# extents are copied to n1, not the whole device.
before=$(lab_tool n2 hha-disk --json r0 status | jq -r '.resynced')
lab_restart n1 || die "n1's links do not come back"
lab_hhad_start n1 || die "n1's hhad does not start"
on n2 hha-disk r0 connect || die "reconnect on n2"
lab_wait_for 20 lab_tool n2 hha-disk r0 wait-sync -t 1 || die "r0 does not resync"
on n2 hha-disk r0 status
moved=$(( $(lab_tool n2 hha-disk --json r0 status | jq -r '.resynced') - before ))
echo "resynced to n1: $((moved >> 10)) KiB of the $SIZE device"
[ "$moved" -gt 0 ] && [ "$moved" -lt $((128 << 20)) ] || die "expected a partial resync, got $moved bytes"
[ "$(lab_tool n1 hha-disk --json r0 status | jq -r '.role + " " + .disk')" = "Secondary UpToDate" ] ||
	die "n1 is not an up-to-date secondary"

say "Summary"
echo "client-observed failover (hard crash to the first good answer): $t_ok ms"
echo "  (membership dead time 1000 ms with the default timers; the rest is promote, fsck, mount, VIP, start)"
echo "n1's return: $((moved >> 10)) KiB resynced instead of the whole $SIZE"

say "Removing the lab"
lab_nbd_umount "$MNT2"
lab_hhad_stop n1 || true
lab_hhad_stop n2 || true
lab_down
echo "done: nothing is left on this machine"

# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# `A && B || fail' below is meant: fail when either A or B fails.
# shellcheck disable=SC2015
# The lab's storage: crash-faithful disks (nbdkit cache=writeback behind
# nbdfuse, so a crash loses what was not flushed) and NBD client mounts
# (nbdfuse + loop + ext4). Sourced by lab.sh; the API is documented there.
#
# Why it works: all lab nodes share one kernel and its page cache, so a
# killed process loses nothing it wrote to an ordinary file. Here a write to
# the FUSE file goes synchronously (FUSE without writeback_cache) to nbdfuse,
# then as an NBD WRITE to nbdkit, whose cache filter keeps it in its own
# temporary file until an NBD FLUSH; nbdfuse sends FLUSH for fsync and
# fdatasync. Killing nbdkit (with the node's cgroup) loses the temporary
# file, so the image holds exactly what was flushed.

_lab_is_mnt() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }

_lab_disk_name() {
	[[ ${1:-} =~ ^[A-Za-z0-9_.-]+$ ]] || { _lab_err "invalid disk name \`${1:-}'"; return 1; }
}

_lab_disk_known() {
	_lab_host "$1" && _lab_disk_name "$2" || return 1
	grep -qx "$1 $2" "$LAB_DIR/disks.list" 2>/dev/null || { _lab_err "$1 has no disk \`$2'"; return 1; }
}

_lab_disk_serve() {
	local h=$1 n=$2 d="$LAB_DIR/$1" pid log
	log="$d/$n.disk.log"
	rm -f "$d/$n.nbdkit.sock" "$d/$n.nbdkit.pid" "$d/$n.nbdfuse.pid"
	mkdir -p "$d/$n.fuse" "$d/tmp" || return 1
	pid=$(_lab_spawn "$h" "$LAB_CG/$h/disk" "$log" env TMPDIR="$d/tmp" \
		nbdkit -f -U "$d/$n.nbdkit.sock" -P "$d/$n.nbdkit.pid" \
		--filter=cache file "$d/$n.img" cache=writeback) || return 1
	_lab_wait_ready "$pid" "$h: nbdkit for $n" "$log" 10000 test -s "$d/$n.nbdkit.pid" || return 1
	pid=$(_lab_spawn "$h" "$LAB_CG/$h/disk" "$log" \
		nbdfuse -P "$d/$n.nbdfuse.pid" "$d/$n.fuse/disk" --unix "$d/$n.nbdkit.sock") || return 1
	_lab_wait_ready "$pid" "$h: nbdfuse for $n" "$log" 10000 test -s "$d/$n.nbdfuse.pid" || return 1
	echo "$d/$n.fuse/disk"
}

lab_disk() {
	local h=${1:-} n=${2:-} size=${3:-}
	[ $# = 3 ] || { _lab_err "usage: lab_disk HOST NAME SIZE"; return 2; }
	_lab_host "$h" && _lab_disk_name "$n" || return 1
	command -v nbdkit >/dev/null && command -v nbdfuse >/dev/null ||
		{ _lab_err "lab_disk needs nbdkit and nbdfuse (packages nbdkit, libnbd-bin, fuse3)"; return 1; }
	[ ! -e "$LAB_DIR/$h/$n.img" ] || { _lab_err "$h: disk \`$n' exists"; return 1; }
	truncate -s "$size" "$LAB_DIR/$h/$n.img" || { _lab_err "invalid disk size \`$size'"; return 1; }
	echo "$h $n" >>"$LAB_DIR/disks.list"
	_lab_disk_serve "$h" "$n"
}

lab_disk_image() { _lab_disk_known "${1:-}" "${2:-}" && echo "$LAB_DIR/$1/$2.img"; }

_lab_disk_running() {
	local f="$LAB_DIR/$1/$2.nbdfuse.pid"
	[ -s "$f" ] && _lab_alive "$(cat "$f")"
}

lab_disk_restart() {
	local h=${1:-} n=${2:-}
	_lab_disk_known "$h" "$n" || return 1
	_lab_disk_running "$h" "$n" && { _lab_err "$h: disk $n is still served (crash the node or lab_disk_stop it)"; return 1; }
	! _lab_is_mnt "$LAB_DIR/$h/$n.fuse" || umount -l "$LAB_DIR/$h/$n.fuse" || return 1
	_lab_disk_serve "$h" "$n"
}

# Unmount (lazily if something still holds it) and stop nbdkit; nothing is
# flushed, like pulling the disk.
_lab_disk_unserve() {
	local h=$1 n=$2 d="$LAB_DIR/$1" pid
	if _lab_is_mnt "$d/$n.fuse"; then
		fusermount3 -u "$d/$n.fuse" 2>/dev/null || umount -l "$d/$n.fuse"
	fi
	for pid in "$d/$n.nbdfuse.pid" "$d/$n.nbdkit.pid"; do
		[ -s "$pid" ] || continue
		pid=$(cat "$pid")
		_lab_alive "$pid" || continue
		kill -TERM "$pid" 2>/dev/null
		lab_wait_for 5 eval '! _lab_alive '"$pid" || kill -KILL "$pid" 2>/dev/null
	done
	rm -f "$d/$n.nbdfuse.pid" "$d/$n.nbdkit.pid" "$d/$n.nbdkit.sock"
}

lab_disk_stop() {
	_lab_disk_known "${1:-}" "${2:-}" || return 1
	_lab_disk_unserve "$1" "$2"
}

_lab_disk_stop_all() {
	local h n
	[ -r "$LAB_DIR/disks.list" ] || return 0
	while read -r h n; do _lab_disk_unserve "$h" "$n"; done <"$LAB_DIR/disks.list"
}

# ---------------------------------------------------------------------------
# NBD client mounts. $LAB_DIR/nbd.list: HOST|MNTDIR|LOOPDEV|FUSEDIR per line.

lab_nbd_mount() {
	local h=${1:-} target=${2:-} mnt=${3:-} mkfs=${4:-} k fdir pid loop log
	[ $# -ge 3 ] && [ $# -le 4 ] || { _lab_err "usage: lab_nbd_mount HOST URI|SOCKET MNTDIR [mkfs]"; return 2; }
	[ -z "$mkfs" ] || [ "$mkfs" = mkfs ] || { _lab_err "lab_nbd_mount: expected \`mkfs', got \`$mkfs'"; return 2; }
	_lab_host "$h" || return 1
	case $mnt in /*) ;; *) mnt="$PWD/$mnt" ;; esac
	k=$(( $(cat "$LAB_DIR/$h/nbd.count" 2>/dev/null || echo 0) + 1 ))
	echo "$k" >"$LAB_DIR/$h/nbd.count"
	fdir="$LAB_DIR/$h/nbd$k.fuse"
	log="$LAB_DIR/$h/nbd$k.log"
	mkdir -p "$fdir" || return 1
	if [[ $target =~ ^nbds?(\+unix|\+tcp)?:// ]]; then
		pid=$(_lab_spawn "$h" "$LAB_CG/$h/disk" "$log" nbdfuse -P "$fdir.pid" "$fdir/disk" "$target")
	elif [ -S "$target" ]; then
		pid=$(_lab_spawn "$h" "$LAB_CG/$h/disk" "$log" nbdfuse -P "$fdir.pid" "$fdir/disk" --unix "$target")
	else
		_lab_err "lab_nbd_mount: \`$target' is neither an NBD URI nor a Unix socket"; return 2
	fi
	[ -n "$pid" ] || return 1
	_lab_wait_ready "$pid" "$h: nbdfuse for $target" "$log" 10000 test -s "$fdir.pid" || return 1
	loop=$(losetup --find --show --direct-io=on "$fdir/disk") ||
		{ _lab_err "$h: losetup on $fdir/disk failed"; fusermount3 -u "$fdir"; return 1; }
	echo "$h|$mnt|$loop|$fdir" >>"$LAB_DIR/nbd.list"
	if [ -n "$mkfs" ]; then
		mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0,nodiscard "$loop" >>"$log" 2>&1 ||
			{ _lab_err "$h: mkfs.ext4 $loop failed (log $log)"; return 1; }
	fi
	mkdir -p "$mnt" && mount "$loop" "$mnt" || { _lab_err "$h: cannot mount $loop on $mnt"; return 1; }
	echo "$loop"
}

# Undo one record: filesystem, loop device (only if still ours), FUSE.
_lab_nbd_undo() {
	local lazy=$1 mnt loop fdir back
	IFS='|' read -r _ mnt loop fdir <<<"$2"
	if _lab_is_mnt "$mnt"; then
		if [ "$lazy" = 1 ]; then umount -l "$mnt"
		else umount "$mnt" || { _lab_err "$mnt is busy; unmounting lazily"; umount -l "$mnt"; }
		fi
	fi
	back=$(losetup -n -O BACK-FILE "$loop" 2>/dev/null)
	case $back in "$fdir/disk"*) losetup -d "$loop" ;; esac
	if _lab_is_mnt "$fdir"; then
		if [ "$lazy" = 1 ]; then
			umount -l "$fdir"
		else
			# The loop device lets go of the file asynchronously.
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				fusermount3 -u "$fdir" 2>/dev/null && break
				sleep 0.05
			done
			! _lab_is_mnt "$fdir" || umount -l "$fdir"
		fi
	fi
	return 0
}

lab_nbd_umount() {
	local mnt=${1:-} rec rc=0
	[ $# = 1 ] || { _lab_err "usage: lab_nbd_umount MNTDIR"; return 2; }
	_lab_load || return 1
	case $mnt in /*) ;; *) mnt="$PWD/$mnt" ;; esac
	rec=$(awk -F'|' -v m="$mnt" '$2 == m' "$LAB_DIR/nbd.list" 2>/dev/null | tail -n 1)
	[ -n "$rec" ] || { _lab_err "no lab NBD mount on $mnt"; return 1; }
	_lab_nbd_undo 0 "$rec" || rc=1
	grep -vxF "$rec" "$LAB_DIR/nbd.list" >"$LAB_DIR/nbd.list.new" || true
	mv "$LAB_DIR/nbd.list.new" "$LAB_DIR/nbd.list"
	return $rc
}

_lab_nbd_undo_all() {
	local rec
	[ -r "$LAB_DIR/nbd.list" ] || return 0
	tac "$LAB_DIR/nbd.list" | while read -r rec; do _lab_nbd_undo 0 "$rec"; done
	rm -f "$LAB_DIR/nbd.list"
}

# After a crash: the node's mounts are dead; detach them lazily.
_lab_crash_storage() {
	local h=$1 rec n
	if [ -r "$LAB_DIR/nbd.list" ]; then
		tac "$LAB_DIR/nbd.list" | while read -r rec; do
			if [ "${rec%%|*}" = "$h" ]; then _lab_nbd_undo 1 "$rec"; fi
		done
		grep -v "^$h|" "$LAB_DIR/nbd.list" >"$LAB_DIR/nbd.list.new" || true
		mv "$LAB_DIR/nbd.list.new" "$LAB_DIR/nbd.list"
	fi
	if [ -r "$LAB_DIR/disks.list" ]; then
		while read -r rec n; do
			[ "$rec" = "$h" ] || continue
			! _lab_is_mnt "$LAB_DIR/$h/$n.fuse" || umount -l "$LAB_DIR/$h/$n.fuse"
			rm -f "$LAB_DIR/$h/$n.nbdfuse.pid" "$LAB_DIR/$h/$n.nbdkit.pid"
		done <"$LAB_DIR/disks.list"
	fi
	return 0
}

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# hha-mon on a real terminal (tmux) against a fake hhad: three bars with the
# busy node's the tallest, every key's view, late then dead, the detail
# panel, resizing below 80x24, a lost and regained hhad, a frozen hhad, colour
# and monochrome, UTF-8 and ASCII, and the terminal restored after q and Ctrl-C.
set -eu
[ -x "$HHA_BUILDDIR/hha-mon" ] || { echo "SKIP: hha-mon not built (no ncursesw)"; exit 77; }
command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
tmp=$(mktemp -d)
fake_pid=""
. "$HHA_SRCDIR/tests/e2e/mon-lib.sh"
cleanup() {
	mon_tmux_stop
	mon_fake_kill
	rm -rf "$tmp"
}
trap cleanup EXIT

mon_fake_data up
mon_fake_start
mon_tmux_start 100 30
run="$mon --socket $tmp/sock -d 0.2"
tmx send-keys "$run --ascii; echo rc=\$?" Enter

# The classic view: three bars labelled 1 2 3, node 2's the tall one.
mon_wait '^ hha-mon  Load .* on n1 '
mon_wait '^ +1 +2 +3 *$'
grep -q 'n1 *n2 *n3' "$tmp/screen" || fail "node names under the bars"
grep -q '0.97' "$tmp/screen" || fail "node 2's load figure"
h1=$(mon_bar_height 1) h2=$(mon_bar_height 2) h3=$(mon_bar_height 3)
[ "$h2" -gt 15 ] && [ "$h1" -le 2 ] && [ "$h3" -le 2 ] || fail "bar heights 1=$h1 2=$h2 3=$h3"
[ "$(tmx display -p '#{alternate_on}')" = 1 ] || fail "not on the alternate screen"

# Each key shows its view.
check_view() { # KEY TITLE CONTENT
	tmx send-keys "$1"
	mon_wait "^ hha-mon  $2 "
	mon_wait "$3"
}
check_view m Memory '8.0G \+'
check_view u 'CPU utilisation' '97%'
check_view s 'CPUs and speed' '4x1.5'
check_view r Replication 'r0 +Primary/Secondary +SyncSource +UpToDate/Inconsistent'
mon_wait '\[#########\.+\] +42\.5% +50M/s +ETA 1:10 +out of sync 3\.5G'
check_view v 'VIPs and resource groups' '192\.0\.2\.10/24 +eth0 +n1'
mon_wait '2001:db8::10/64 +eth0 +nobody \(owned, missing\)'
mon_wait 'no groups configured'
check_view l Load '^ +1 +2 +3 *$'
tmx send-keys t
mon_wait '^ 3 nodes up / 8 CPUs +0 late +0 dead'
tmx send-keys h
mon_wait 'hha-mon keys'
tmx send-keys x
mon_wait_gone 'hha-mon keys'

# Enter: the selected node's panel with its load history; -> selects node 2.
tmx send-keys Enter Right
mon_wait 'node 2 \(n2\)'
mon_wait 'load history: [0-9]+ samples'
mon_wait '#{5} \|$' # its sparkline at the top: node 2 has been busy all along
tmx send-keys Escape
mon_wait_gone 'load history'

# Membership says late before dead; dead nodes are drawn as such, or hidden on d.
mon_fake_data late
mon_wait '1 late'
mon_wait ' late *$'
mon_fake_data dead
mon_wait '1 dead '
mon_wait 'x{8}'
tmx send-keys d
mon_wait '1 dead hidden \(d\)'
mon_wait '^ +1 +2 *$'
tmx send-keys d
mon_wait '^ +1 +2 +3 *$'

# Below 80x24: a clear message instead of a broken picture; back to normal after.
tmx resize-window -x 60 -y 15
mon_wait 'hha-mon needs at least 80x24'
mon_wait 'this terminal is 60x15'
tmx resize-window -x 100 -y 30
mon_wait '^ +1 +2 +3 *$'

# hhad goes away: a banner, retries, the last figures kept; it comes back.
mon_fake_kill
mon_wait 'LOST CONNECTION TO hhad, retrying'
mon_wait 'retrying \(attempt [2-9]\); figures below are [0-9]+ s old'
mon_wait "^ cannot connect to hhad at $tmp/sock"
grep -q '0.97' "$tmp/screen" || fail "last figures dropped"
mon_fake_start
mon_wait_gone 'LOST CONNECTION'
# A frozen hhad (no answer) is a lost connection too, after the call timeout.
touch "$tmp/data/run.load.hang"
sleep 0.3
# Keys still answer at once while a call hangs (the calls run in their own thread).
tmx send-keys m
mon_wait '^ hha-mon  Memory ' 1
tmx send-keys l
mon_wait '^ no answer from hhad in time' 8
mon_wait 'LOST CONNECTION TO hhad, retrying'
rm "$tmp/data/run.load.hang"
mon_wait_gone 'LOST CONNECTION' 8

# q leaves the alternate screen and gives the shell back.
tmx send-keys q
mon_wait '^rc=0$'
mon_wait 'PROMPT\$ *$'
[ "$(tmx display -p '#{alternate_on}')" = 0 ] || fail "alternate screen still on after q"
grep -q 'hha-mon  Load' "$tmp/screen" && fail "the monitor's picture is left on the terminal"

# UTF-8 drawing with colour; Ctrl-C exits as cleanly as q.
tmx send-keys "clear; $run; echo rc=\$?" Enter
mon_wait '(█){10}'
tmx capture-pane -e -p > "$tmp/colour"
grep -q "$(printf '\033')\[[0-9;]*3[0-7]m" "$tmp/colour" || fail "no colour on a colour terminal"
tmx send-keys C-c
mon_wait '^rc=0$'
[ "$(tmx display -p '#{alternate_on}')" = 0 ] || fail "alternate screen still on after Ctrl-C"

# Monochrome on request, and ASCII by itself when the locale is not UTF-8.
tmx send-keys "clear; LANG=C $run --mono; echo rc=\$?" Enter
mon_wait '#{10}'
tmx capture-pane -e -p > "$tmp/colour"
grep -q "$(printf '\033')\[[0-9;]*3[0-7]m" "$tmp/colour" && fail "colour despite --mono"
grep -q '█' "$tmp/screen" && fail "UTF-8 drawing in the C locale"
tmx send-keys q
mon_wait '^rc=0$'

# Not a terminal: the live view refuses and points to --once.
if "$mon" --socket "$tmp/sock" </dev/null >"$tmp/out" 2>&1; then fail "live view without a terminal"; fi
grep -q -- '--once' "$tmp/out" || fail "no hint: $(cat "$tmp/out")"
echo "PASS: hha-mon screen: bars, views, late/dead, detail, resize, lost hhad, colour/ASCII, clean exit"

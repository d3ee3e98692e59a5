#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of hha-runon: a command runs on the named node as the
# calling user, its exit status and signal death come back exactly, launch
# failures give 125/126/127 with the reason, Ctrl-C and a vanished client
# leave no remote process, -t gives a terminal, and every launch is logged.
set -u
. "$(dirname "$0")/run-lib.sh"
# What a launch may leave behind on n2: its helper, or the marked commands.
leftovers() {
	local pid cmd
	while read -r pid; do
		cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
		case $cmd in *--run-session*|*"$mark"*) echo "$pid $cmd" ;; esac
	done <"$(lab_cgroup n2)/cgroup.procs"
}
no_leftovers() { [ -z "$(leftovers)" ]; }
mark=$((31000 + $$ % 1000)) # a sleep length no other test uses

run_lab_up

# -- where it runs, and the exit status ------------------------------------
check "hha-runon 2 hostname runs on n2" [ "$(runon 2 hostname)" = n2 ]
check "by name too" [ "$(runon n2 hostname)" = n2 ]
check "self runs here" [ "$(runon self hostname)" = n1 ]
for code in 0 1 42 255; do
	runon 2 sh -c "exit $code"
	check "exit status $code comes back exactly" [ $? = "$code" ]
done
runon 2 sh -c 'kill -TERM $$'
check "death by SIGTERM comes back as 143" [ $? = 143 ]
runon 2 sh -c 'kill -KILL $$'
check "death by SIGKILL comes back as 137" [ $? = 137 ]

# -- what it runs with -----------------------------------------------------
mkdir -p "$LAB_DIR/work dir"
out=$(cd "$LAB_DIR/work dir" && runon 2 pwd)
check "the working directory is carried" [ "$out" = "$LAB_DIR/work dir" ]
out=$(HHA_TEST_VAR='a b=c' runon 2 sh -c 'echo "$HHA_TEST_VAR"')
check "the environment is carried" [ "$out" = 'a b=c' ]
out=$(HHA_TEST_VAR=x runon --env none 2 sh -c 'echo "${HHA_TEST_VAR-unset}"')
check "--env none leaves it out" [ "$out" = unset ]
out=$(HHA_TEST_VAR=y runon --env HHA_TEST_VAR 2 sh -c 'echo "$HHA_TEST_VAR"')
check "--env NAME picks it" [ "$out" = y ]
out=$(cd /nonexistent-dir-$$ 2>/dev/null; runon --cwd /nonexistent-dir-$$ 2 pwd 2>"$LAB_DIR/cwd.err")
check "a missing working directory falls back to home, with a notice" \
	grep -q "cannot enter /nonexistent-dir-$$" "$LAB_DIR/cwd.err"
out=$(printf 'one\0two\n' | runon 2 od -c | head -1)
check "stdin reaches the command, binary-safe" [ "$(echo $out)" = "0000000 o n e \\0 t w o \\n" ]

# -- as whom ---------------------------------------------------------------
as_nobody() {
	lab_exec n1 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$HHA_BUILDDIR/hha-runon" --socket "$LAB_DIR/n1/run/hhad.sock" "$@"
}
check "a user's command runs as that user there" [ "$(as_nobody 2 id -un)" = nobody ]
check "... with that user's groups" [ "$(as_nobody 2 id -gn)" = nogroup ]
lab_config_merge_node n2 '{"run": {"allow_root": false}}'
lab_ctl n2 reload >/dev/null
runon 2 id -u 2>"$LAB_DIR/root.err"
rc=$?
check "root is refused without run.allow_root (125)" [ $rc = 125 ]
check "... saying why" grep -q "not allowed" "$LAB_DIR/root.err"
j=$(runon --json 2 true 2>/dev/null)
check "--json names the reason" jqt '.reason == "not-allowed" and .status == 125' <<<"$j"
lab_config_merge_node n2 '{"run": {"allow_root": true}}'
lab_ctl n2 reload >/dev/null
check "with run.allow_root, root may" [ "$(runon 2 id -u)" = 0 ]

# -- launch failures -------------------------------------------------------
runon 2 no-such-command-$$ 2>/dev/null
check "a command not found gives 127" [ $? = 127 ]
printf 'data\n' >"$LAB_DIR/not-a-program"
chmod 644 "$LAB_DIR/not-a-program"
runon 2 "$LAB_DIR/not-a-program" 2>/dev/null
check "a command that cannot be executed gives 126" [ $? = 126 ]
runon 9 true 2>"$LAB_DIR/unknown.err"
check "an unknown node gives 125" [ $? = 125 ]
check "... saying so" grep -q "unknown node \`9'" "$LAB_DIR/unknown.err"
j=$(runon --json nx true 2>/dev/null)
check "--json names an unknown node" jqt '.reason == "unknown-node"' <<<"$j"

# -- signals and vanishing clients -------------------------------------------
pid=$(lab_tool_bg n1 "$LAB_DIR/int.log" hha-runon 2 sleep "$mark")
lab_wait_for 5 pgrep -f "^sleep $mark" >/dev/null
kill -INT "$pid"
lab_bg_wait "$pid" 10
check "Ctrl-C ends the remote command (130)" [ $? = 130 ]
check "... and leaves nothing behind on n2" lab_wait_for 3 no_leftovers
pid=$(lab_tool_bg n1 "$LAB_DIR/kill.log" hha-runon 2 sh -c "sleep $mark & sleep $mark")
lab_wait_for 5 sh -c "pgrep -f '^sleep $mark' | wc -l | grep -qx 2"
kill -KILL "$pid"
check "a client killed with SIGKILL leaves no remote process" lab_wait_for 5 no_leftovers
[ -z "$(leftovers)" ] || echo "# left on n2: $(leftovers)"

# -- a terminal --------------------------------------------------------------
out=$(lab_exec n1 script -qec "$HHA_BUILDDIR/hha-runon --socket $LAB_DIR/n1/run/hhad.sock -t 2 sh -c 'test -t 0 && test -t 1 && tty && stty size'" /dev/null </dev/null | tr -d '\r')
check "-t gives the command a terminal" grep -q '/dev/pts/' <<<"$out"
out=$(printf 'echo hi-$((6*7))\nexit 3\n' | lab_exec n1 script -qec "$HHA_BUILDDIR/hha-runon --socket $LAB_DIR/n1/run/hhad.sock -t 2 sh -i" /dev/null | tr -d '\r')
check "-t drives an interactive shell" grep -q 'hi-42' <<<"$out"
# A window resize reaches the remote terminal: tmux gives hha-runon an
# 80x24 window, then resizes it; the remote shell prints its size on WINCH.
tm() { lab_exec n1 tmux -S "$LAB_DIR/tmux.sock" "$@"; }
pane_has() { tm capture-pane -p -t hha | tr -d '\r' | grep -q "$1"; }
tm new-session -d -s hha -x 80 -y 24 \
	"$HHA_BUILDDIR/hha-runon --socket $LAB_DIR/n1/run/hhad.sock -t 2 sh -c 'echo size \$(stty size); trap \"echo size \\\$(stty size)\" WINCH; while :; do sleep 0.$mark; done'"
check "-t: the remote terminal starts with the local size (24 80)" lab_wait_for 10 pane_has 'size 24 80'
tm resize-window -t hha -x 100 -y 30
check "-t: a local window resize reaches it (30 100)" lab_wait_for 10 pane_has 'size 30 100'
tm kill-server 2>/dev/null
check "... and closing the window ends the remote command" lab_wait_for 5 no_leftovers

# -- down node, and the log ----------------------------------------------------
check "n2's log tells who ran what and how it ended" \
	grep -q "session [0-9]*: root from n1: \`sh -c exit 42' exited with 42" "$LAB_DIR/n2/hhad.log"
lab_hhad_stop n2
runon 2 true 2>"$LAB_DIR/down.err"
check "a node whose hhad is down gives 125" [ $? = 125 ]
check "... saying it cannot be reached" grep -q "cannot reach node n2" "$LAB_DIR/down.err"

run_finish

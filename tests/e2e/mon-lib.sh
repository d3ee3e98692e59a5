# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for hha-mon's screen tests (sourced): a private tmux server, waiting
# for text on its screen, measuring a bar, and canned replies for the fake hhad.
# The caller sets $tmp (its own temporary directory) before sourcing.

mon="$HHA_BUILDDIR/hha-mon"
fake="$HHA_BUILDDIR/cli/mon/fake-hhad"
# Our own tmux server, by socket path inside $tmp: other tests' servers are not touched.
tmx() { tmux -u -S "$tmp/tmux.sock" -f /dev/null "$@"; }

fail() {
	echo "FAIL: $*"
	[ -f "$tmp/screen" ] && { echo "--- screen:"; cat "$tmp/screen"; }
	exit 1
}

# Start a shell with a recognisable prompt in a COLSxROWS tmux window.
mon_tmux_start() {
	tmx new-session -d -x "$1" -y "$2" \
		"env -i PATH=/usr/bin:/bin HOME=$tmp TERM=screen-256color LANG=${3:-C.UTF-8} PS1='PROMPT\$ ' sh"
	mon_wait 'PROMPT\$' 5
}

mon_tmux_stop() { tmx kill-server 2>/dev/null || true; }

mon_screen() { tmx capture-pane -p > "$tmp/screen"; }

# Wait up to $2 seconds (default 5) for the extended regex $1 on the screen.
mon_wait() {
	n=$(( ${2:-5} * 10 ))
	while [ "$n" -gt 0 ]; do
		mon_screen
		grep -Eq -- "$1" "$tmp/screen" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	fail "waited for \`$1'"
}

# Wait for the regex to disappear.
mon_wait_gone() {
	n=$(( ${2:-5} * 10 ))
	while [ "$n" -gt 0 ]; do
		mon_screen
		grep -Eq -- "$1" "$tmp/screen" || return 0
		sleep 0.1
		n=$((n - 1))
	done
	fail "\`$1' stayed on the screen"
}

# Rows of bar (ASCII drawing) above node $1's label in the last capture; -1 if not shown.
mon_bar_height() {
	awk -v id="$1" '
	{ line[NR] = $0 }
	END {
		for (i = NR; i > 2; i--)
			if (line[i] ~ /^[ 0-9<>]+$/ && line[i] ~ /[0-9]/)
				break
		p = i > 2 ? index(" " line[i] " ", " " id " ") : 0
		if (!p) { print -1; exit }
		h = 0
		for (j = i - 1; j > 0; j--) {
			if (substr(line[j], p, 1) !~ /[#_=:x]/)
				break
			h++
		}
		print h
	}' "$tmp/screen"
}

# Canned replies for a 3-node cluster: node 2 busy; node 3 in state $1 (up, late, dead).
mon_fake_data() {
	d="$tmp/data"
	mkdir -p "$d"
	echo '{"version":"test","protocol":1,"node":"n1"}' > "$d/hello.json"
	cat > "$d/run.load.json.new" <<'EOF'
{"nodes":[
 {"id":1,"name":"n1","self":true,"state":"up","age_ms":0,"load":{"loadavg":[0.10,0.20,0.30],"ncpus":2,"cpu_use":0.05,"speed":1.0,"mem_total":4294967296,"mem_free":2147483648,"mem_avail":3221225472,"runon_procs":0}},
 {"id":2,"name":"n2","state":"up","age_ms":120,"load":{"loadavg":[1.90,1.20,0.60],"ncpus":2,"cpu_use":0.97,"speed":1.0,"mem_total":4294967296,"mem_free":1073741824,"mem_avail":1073741824,"runon_procs":3}},
 {"id":3,"name":"n3","state":"up","age_ms":80,"load":{"loadavg":[0.05,0.10,0.10],"ncpus":4,"cpu_use":0.02,"speed":1.5,"mem_total":8589934592,"mem_free":6442450944,"mem_avail":7516192768,"runon_procs":0}}
]}
EOF
	# net.members lists the peers; this node is the "node" at the top.
	cat > "$d/net.members.json.new" <<EOF
{"node":"n1","incarnation":4,"links":["10.0.0.1"],"peers":[
 {"node":"n2","id":2,"state":"up","last_heard_ms_ago":120,"links":[{"state":"up","last_heard_ms_ago":120,"received":50}]},
 {"node":"n3","id":3,"state":"$1","last_heard_ms_ago":80,"links":[{"state":"$1","last_heard_ms_ago":80,"received":50}]}
]}
EOF
	cat > "$d/disk.status.json.new" <<'EOF'
{"resources":[
 {"name":"r0","role":"Primary","peer_role":"Secondary","cstate":"SyncSource","disk":"UpToDate","peer_disk":"Inconsistent","sync":{"percent":42.5,"speed_bps":52428800,"eta_s":70},"oos_bytes":3774873600},
 {"name":"r1","role":"Secondary","peer_role":"Primary","cstate":"Connected","disk":"UpToDate","peer_disk":"UpToDate","oos_bytes":0}
]}
EOF
	# net.vip.cluster: the addresses every live node holds, as heartbeats tell.
	echo '[{"address":"192.0.2.10/24","dev":"eth0","holder":"n1","holder_id":1},{"address":"198.51.100.7/24","dev":"eth1","holder":"n2","holder_id":2},{"address":"2001:db8::10/64","dev":"eth0","held":false,"owned":true},{"address":"198.51.100.9/24","dev":"eth1","holder":"n2","holder_id":2,"conflict":true},{"address":"198.51.100.9/24","dev":"eth1","holder":"n3","holder_id":3,"conflict":true}]' \
		> "$d/net.vip.cluster.json.new"
	# Renamed into place: the fake reads them at every request.
	for f in "$d"/*.new; do mv "$f" "${f%.new}"; done
}

mon_fake_start() {
	"$fake" "$tmp/sock" "$tmp/data" &
	fake_pid=$!
	n=50
	while [ ! -S "$tmp/sock" ] && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ -S "$tmp/sock" ] || fail "fake hhad did not start"
}

mon_fake_kill() {
	if [ -n "${fake_pid:-}" ]; then
		kill -9 "$fake_pid" 2>/dev/null || true
		wait "$fake_pid" 2>/dev/null || true
	fi
	fake_pid=""
}

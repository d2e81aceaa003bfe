#!/bin/bash
# bench-shim.sh [RESULTS.json] - unmodified programs on ustack (through the
# LD_PRELOAD shim, `ustack run`) next to the same programs on the kernel's
# sockets, measured in the same run:
#
#   nginx serving a 1 KiB file to the kernel's wrk -t2 -c64 (requests/s)
#   redis-server with the kernel's redis-benchmark -t set,get (requests/s)
#   iperf3 -s with the kernel's iperf3 -c, both directions (Gbit/s)
#
# The ustack server runs on a TAP device (kernel 10.87.0.1, ustack
# 10.87.0.2); the Linux server runs in a second namespace reached over a
# veth pair (kernel 10.86.0.1, peer 10.86.0.2), so both are one hop from
# the same client. Everything runs in namespaces this script creates; each
# step is bounded in time. Results: a table on stdout and JSON in
# bench/shim-results.json or $1. BENCH_SECONDS sets each run (default 5).
set -euo pipefail

CALLER_PWD=$PWD
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${BENCH_SECONDS:-5}
USTACK_BIN=${USTACK_BIN:-build/ustack}
case $USTACK_BIN in /*) ;; *) USTACK_BIN=$ROOT/$USTACK_BIN ;; esac
export USTACK_PRELOAD=${USTACK_PRELOAD:-$(dirname "$USTACK_BIN")/libustack-preload.so}

if [ -z "${BENCH_IN_NETNS:-}" ]; then
	OUT=$ROOT/bench/shim-results.json
	if [ -n "${1:-}" ]; then
		case $1 in /*) OUT=$1 ;; *) OUT=$CALLER_PWD/$1 ;; esac
	fi
	mkdir -p "$(dirname "$OUT")"
	[ -x "$USTACK_BIN" ] && [ -r "$USTACK_PRELOAD" ] ||
		{ echo "bench-shim: build first (make)" >&2; exit 1; }
	for p in nginx wrk redis-server redis-benchmark iperf3; do
		command -v $p >/dev/null || {
			echo "bench-shim: $p missing (scripts/install-deps.sh)" >&2
			exit 1
		}
	done
	flags=-rn
	unshare -rn true 2>/dev/null || flags=-n
	BENCH_IN_NETNS=1 BENCH_OUT=$OUT USTACK_BIN=$USTACK_BIN \
		exec unshare $flags bash "$0"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ustack-bench-shim.XXXXXX")
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link set lo up
ip tuntap add tap0 mode tap
ip addr add 10.87.0.1/24 dev tap0
ip link set tap0 up
unshare -n sleep 600 &
PEER_PID=$!
PIDS+=("$PEER_PID")
in_peer() { nsenter -t "$PEER_PID" -n "$@"; }
ip link add veth0 type veth peer name veth1
for _ in $(seq 50); do
	ip link set veth1 netns "$PEER_PID" 2>/dev/null && break
	sleep 0.1
done
in_peer ip link set lo up
in_peer ip addr add 10.86.0.2/24 dev veth1
in_peer ip link set veth1 up
ip addr add 10.86.0.1/24 dev veth0
ip link set veth0 up

US=10.87.0.2 LX=10.86.0.2
RUN=("$USTACK_BIN" run --tap tap0 --addr "$US/24" --)

# serve ustack|linux LABEL CMD...: a server under ustack or in the peer.
serve() {
	local where=$1 label=$2
	shift 2
	ip neigh flush dev tap0
	if [ "$where" = ustack ]; then
		"${RUN[@]}" "$@" >"$WORK/$label.out" 2>&1 &
	else
		# nsenter itself, not in_peer: a function would run in a
		# subshell, $! would be that subshell, and stop() would leave
		# the server (and with it the peer's namespace) running.
		nsenter -t "$PEER_PID" -n "$@" >"$WORK/$label.out" 2>&1 &
	fi
	SERVER=$!
	PIDS+=("$SERVER")
}

stop() {
	kill -"${2:-TERM}" "$1" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

wait_http() {
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://$1:8080/f.bin" && return 0
		sleep 0.1
	done
	return 1
}

# ---- nginx + wrk ----
mkdir -p "$WORK/www"
head -c 1024 /dev/urandom >"$WORK/www/f.bin"
nginx_conf() {
	cat >"$WORK/nginx-$1.conf" <<EOC
daemon off;
master_process off;
user root root;
worker_processes 1;
pid $WORK/nginx-$1.pid;
error_log $WORK/nginx-$1.err warn;
events { worker_connections 1024; use epoll; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $WORK/tmp_body;
	proxy_temp_path $WORK/tmp_proxy;
	fastcgi_temp_path $WORK/tmp_fastcgi;
	uwsgi_temp_path $WORK/tmp_uwsgi;
	scgi_temp_path $WORK/tmp_scgi;
	server { listen $2:8080; root $WORK/www; }
}
EOC
}
wrk_rate() {
	wait_http "$1" || { echo 0; return; }
	timeout $((SECS + 30)) wrk -t2 -c64 -d"${SECS}s" "http://$1:8080/f.bin" 2>&1 |
		awk '/^Requests\/sec:/ { print $2 + 0; found = 1 } END { if (!found) print 0 }'
}
declare -A R
for where in ustack linux; do
	addr=$US; [ $where = linux ] && addr=$LX
	nginx_conf $where $addr
	serve $where nginx-$where nginx -c "$WORK/nginx-$where.conf" -p "$WORK"
	R[wrk_$where]=$(wrk_rate $addr)
	stop "$SERVER" QUIT
done

# ---- redis ----
redis_rates() {
	for _ in $(seq 100); do
		redis-cli -h "$1" ping 2>/dev/null | grep -q PONG && break
		sleep 0.1
	done
	timeout 120 redis-benchmark -h "$1" -q -n 100000 -t set,get 2>/dev/null |
		tr '\r' '\n' | awk '/^SET: [0-9.]+ requests per second/ { s = $2 }
			/^GET: [0-9.]+ requests per second/ { g = $2 }
			END { print s + 0, g + 0 }'
}
for where in ustack linux; do
	addr=$US; [ $where = linux ] && addr=$LX
	serve $where redis-$where redis-server --bind $addr --port 6379 --save "" \
		--appendonly no --protected-mode no --dir "$WORK"
	read -r R[set_$where] R[get_$where] < <(redis_rates $addr)
	redis-cli -h $addr shutdown nosave >/dev/null 2>&1 || true
	stop "$SERVER"
done

# ---- iperf3 ----
iperf_gbps() {
	for _ in $(seq 100); do
		grep -q "Server listening" "$WORK/$2.out" && break
		sleep 0.1
	done
	timeout $((SECS + 30)) iperf3 -c "$1" -t "$SECS" $3 -J 2>/dev/null |
		python3 -c 'import json,sys
try: print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print(0)'
}
for dir in to from; do
	flag=; [ $dir = from ] && flag=-R
	for where in ustack linux; do
		addr=$US; [ $where = linux ] && addr=$LX
		serve $where iperf-$where-$dir iperf3 --forceflush -s -1 -B $addr
		R[iperf_${dir}_$where]=$(iperf_gbps $addr iperf-$where-$dir "$flag")
		stop "$SERVER"
	done
done

{
	echo "nginx 1 KiB, wrk -t2 -c64 -d${SECS}s|req/s|higher|${R[wrk_ustack]}|${R[wrk_linux]}"
	echo "redis-benchmark SET|req/s|higher|${R[set_ustack]}|${R[set_linux]}"
	echo "redis-benchmark GET|req/s|higher|${R[get_ustack]}|${R[get_linux]}"
	echo "iperf3 client -> server|Gbit/s|higher|${R[iperf_to_ustack]}|${R[iperf_to_linux]}"
	echo "iperf3 server -> client (-R)|Gbit/s|higher|${R[iperf_from_ustack]}|${R[iperf_from_linux]}"
} | awk -F'|' -v out="$BENCH_OUT" -v kernel="$(uname -r)" \
	-v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "null" }
BEGIN { printf "%-42s %10s %10s %7s\n", "", "ustack", "Linux", "ratio" }
{
	printf "%-42s %10s %10s %7s\n", $1 " (" $2 ")", $4, $5, ratio($4, $5)
	json = json sprintf("%s    {\"name\": \"%s\", \"unit\": \"%s\", " \
		"\"better\": \"%s\", \"ustack\": %s, \"linux\": %s, " \
		"\"ratio\": %s}", n++ ? ",\n" : "", $1, $2, $3, $4 + 0, $5 + 0,
		ratio($4, $5))
}
END {
	print "ratio = ustack / Linux. The server: under ustack run on a TAP" \
		" device, or on Linux in another namespace over a veth pair;" \
		" the client is the kernel'"'"'s in both."
	printf "{\n  \"benchmark\": \"shim_programs\",\n  \"date\": \"%s\",\n" \
		"  \"kernel\": \"%s\",\n  \"results\": [\n%s\n  ]\n}\n", date,
		kernel, json > out
	print "results written to " out
}'

#!/bin/bash
# shim_redis.sh - redis-server, unmodified, on ustack through the shim:
# the kernel's redis-benchmark (-n 100000 -t set,get) completes with no
# error, and the kernel's redis-cli reads back what it set; a BGSAVE (a
# forked child) succeeds. The server then shuts down on request and must
# exit 0. Then once more as a daemon (--daemonize yes: a fork before the
# first socket): PING and SET answered, SHUTDOWN obeyed.
#
# In a namespace of its own: tap0 with 10.62.0.1/24 on the kernel side,
# redis-server's ustack instance at 10.62.0.2/24 (no persistence).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 62
source "$(dirname "$0")/lib/shim.sh"
shim_need redis-server redis-benchmark redis-cli
N=${SHIM_REDIS_N:-100000}
CLI=(timeout 30 redis-cli -h "$USTACK_IP" -p 6379)

shim_start redis redis-server --bind "$USTACK_IP" --port 6379 --save "" \
	--appendonly no --protected-mode no --dir "$WORK"
shim_wait_line "$WORK/redis.out" "Ready to accept connections"

timeout 180 redis-benchmark -h "$USTACK_IP" -p 6379 -q -n "$N" -t set,get \
	>"$WORK/bench.out" 2>&1 || shim_fail "redis-benchmark failed"
tr '\r' '\n' <"$WORK/bench.out" | grep -E '^(SET|GET): [0-9.]+ requests per second' ||
	shim_fail "redis-benchmark did not finish both tests"
grep -qiE 'error|refused|reset' "$WORK/bench.out" &&
	shim_fail "redis-benchmark reported errors"
echo "ok: redis-benchmark -n $N -t set,get without errors"

val=$(head -c 3000 /dev/urandom | base64 -w0)
[ "$("${CLI[@]}" set shimkey "$val")" = OK ] || shim_fail "SET failed"
[ "$("${CLI[@]}" get shimkey)" = "$val" ] || shim_fail "GET returned another value"
[ "$("${CLI[@]}" dbsize)" -ge 2 ] || shim_fail "DBSIZE below 2"
echo "ok: redis-cli reads back a 4 KB value"

# BGSAVE forks a child that writes the file and uses no socket.
"${CLI[@]}" bgsave >/dev/null || shim_fail "BGSAVE refused"
for _ in $(seq 100); do
	"${CLI[@]}" info persistence | grep -q '^rdb_bgsave_in_progress:0' && break
	sleep 0.1
done
"${CLI[@]}" info persistence | grep -q '^rdb_last_bgsave_status:ok' ||
	shim_fail "BGSAVE did not succeed"
[ -s "$WORK/dump.rdb" ] || shim_fail "BGSAVE wrote no dump.rdb"
[ "$("${CLI[@]}" get shimkey)" = "$val" ] || shim_fail "GET after BGSAVE failed"
echo "ok: BGSAVE (a forked child) succeeded; the server still answers"

"${CLI[@]}" shutdown nosave >/dev/null 2>&1 || true
shim_wait_exit "$SHIM_PID" 30 redis-server

# As a daemon: redis forks before it makes its first socket, so the
# child, not the parent, makes the ustack instance (a fork before any
# instance used to leave the child unable to open sockets).
shim_run redisd 30 redis-server --daemonize yes --pidfile "$WORK/redisd.pid" \
	--logfile "$WORK/redisd.log" --bind "$USTACK_IP" --port 6379 --save "" \
	--appendonly no --protected-mode no --dir "$WORK"
for _ in $(seq 200); do
	[ -s "$WORK/redisd.pid" ] && break
	sleep 0.1
done
[ -s "$WORK/redisd.pid" ] || shim_fail "the daemon wrote no pid file"
DPID=$(cat "$WORK/redisd.pid")
SHIM_PIDS+=("$DPID")
shim_wait_line "$WORK/redisd.log" "Ready to accept connections"
[ "$("${CLI[@]}" ping)" = PONG ] || shim_fail "the daemon does not answer PING"
[ "$("${CLI[@]}" set k v)" = OK ] || shim_fail "SET on the daemon failed"
echo "ok: redis-server --daemonize yes serves on ustack"
"${CLI[@]}" shutdown nosave >/dev/null 2>&1 || true
for _ in $(seq 300); do
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$DPID" 2>/dev/null && shim_fail "the daemon did not shut down"
integ_pass

#!/bin/bash
# bench.sh [RESULTS.json] - `make bench`: every ustack figure next to the
# same measurement on Linux, taken in the same run, as a ratio.
#
# Rows (each prints the CPU seconds its processes used):
#   ICMP echo            kernel ping -i 0 to ustack over a TAP device vs to
#                        a kernel over a veth pair
#   bulk ustack->kernel  ustack over the TAP vs kernel->kernel over a veth
#   bulk kernel->ustack  the same the other way
#   bulk over the wire   two ustack instances over the in-memory wire (one
#                        thread drives both) vs two processes over the
#                        kernel's loopback
#   request/response     1-byte transactions/s, ustack client vs a kernel
#                        client over the veth; the server is the kernel
#   connections/s        connect, 100-byte request, response, close; same
#   idle memory          bytes per idle established socket, N connections
#                        between two ustack instances vs the kernel's slab
#                        growth for N connections over loopback
#   lwIP                 bulk both ways and request/response with lwIP
#                        (Debian liblwip-dev 2.1.3) in ustack's place on a
#                        TAP device of its own, so ustack/lwIP is a ratio
#
# The programs are bench/bench_tcp.c and bench/bench_lwip.c (one set of
# loops, bench/bench_core.c, on every stack); every byte moved is checked.
# Everything runs in namespaces this script creates (unshare -n, and a
# second one for the veth peer); they vanish when it exits. Knobs:
# BENCH_SECONDS (10) per measurement, BENCH_ROUNDS (2) slices it is cut
# into, BENCH_CONNS (100000) idle connections, BENCH_COUNT (10000) pings;
# BENCH_BUSY_READ=US runs ustack with net.core.busy_read (default 0);
# BENCH_CC=NAME the kernel sockets' congestion control (default cubic);
# BENCH_PROFILE=1 adds strace -c
# and perf profiles of ustack's bulk sender (RESULTS-profile.txt). Results:
# a table on stdout and JSON in bench/results.json or $1.
#
# The machine is shared and its speed drifts (the kernel's own veth figure
# has moved 12 -> 28 Gbit/s between runs), so the measurements of one row
# take turns: ustack, Linux (and lwIP), then the other way round, for
# BENCH_ROUNDS slices of SECONDS / ROUNDS each, and a figure is the sum of
# its slices (bytes or transactions over seconds). A slow spell then
# weighs on every column of the row instead of on whichever ran in it.
set -euo pipefail

CALLER_PWD=$PWD
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
case $ROUNDS in
''|*[!0-9]*|0) echo "bench: BENCH_ROUNDS must be a whole number >= 1" >&2; exit 2 ;;
esac
RUN_SECS=$(awk -v s="$SECS" -v r="$ROUNDS" 'BEGIN { printf "%g", s / r }')
CONNS=${BENCH_CONNS:-100000}
COUNT=${BENCH_COUNT:-10000}
BT=$BUILD/bench/bench_tcp
BL=$BUILD/bench/bench_lwip

if [ -z "${BENCH_IN_NETNS:-}" ]; then
	OUT=$ROOT/bench/results.json
	if [ -n "${1:-}" ]; then
		case $1 in /*) OUT=$1 ;; *) OUT=$CALLER_PWD/$1 ;; esac
	fi
	mkdir -p "$(dirname "$OUT")"
	for b in "$BUILD/ustack" "$BT"; do
		[ -x "$b" ] || { echo "bench: $b missing (make bench-build)" >&2; exit 1; }
	done
	# 100,000 connections between two stacks in one process need
	# 200,000 descriptors: raise the limit while still root outside.
	ulimit -Hn 1048576 2>/dev/null && ulimit -n 1048576 2>/dev/null ||
		ulimit -n "$(ulimit -Hn)"
	flags=-n
	[ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null || flags=-rn
	BENCH_IN_NETNS=1 BENCH_OUT=$OUT BUILD=$BUILD \
		exec unshare $flags bash "$0"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ustack-bench.XXXXXX")
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
ip link set lo up

# ustack's TAP: kernel 10.88.0.1, ustack 10.88.0.2. lwIP's: 10.87.0.1/.2.
for t in "tap0 10.88" "tap1 10.87"; do
	set -- $t
	ip tuntap add "$1" mode tap
	ip addr add "$2.0.1/24" dev "$1"
	ip link set "$1" up
done
# The Linux peer: a second namespace held by a sleeping process, over a
# veth pair: this side 10.89.0.1, the peer 10.89.0.2.
unshare -n sleep 100000 &
PEER_PID=$!
PIDS+=("$PEER_PID")
in_peer() { nsenter -t "$PEER_PID" -n "$@"; }
ip link add veth0 type veth peer name veth1
for _ in $(seq 50); do
	ip link set veth1 netns "$PEER_PID" 2>/dev/null && break
	sleep 0.1
done
in_peer ip link set lo up
in_peer ip addr add 10.89.0.2/24 dev veth1
in_peer ip link set veth1 up
in_peer sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
ip addr add 10.89.0.1/24 dev veth0
ip link set veth0 up
# Both links have the same MTU (1500), as the issue asks.
ip link set veth0 mtu 1500
in_peer ip link set veth1 mtu 1500

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
ROWS=$WORK/rows.tsv
: >"$ROWS"
NOTES=()
STEP=0
STEPS=8
[ -z "${BENCH_PROFILE:-}" ] || STEPS=9
progress() {
	STEP=$((STEP + 1))
	printf '[%d/%d] %s\n' "$STEP" "$STEPS" "$*" >&2
}

# field FILE KEY: KEY's value on the result line of FILE (empty if none).
field() {
	sed -n "s/^result .*\b$2=\([^ ]*\).*/\1/p" "$1" | tail -1
}
cpu_of() {
	local u s
	u=$(field "$1" cpu_user)
	s=$(field "$1" cpu_sys)
	awk -v u="${u:-0}" -v s="${s:-0}" 'BEGIN { printf "%.2f", u + s }'
}

# run_pair NAME SERVER... -- CLIENT...: start the server, wait for its
# "ready", run the client, then end the server (crr servers run until
# SIGTERM). Output in $WORK/NAME.srv and NAME.cli. Fails on a bad result.
run_pair() {
	local name=$1 srv=() cli=() pid i
	shift
	while [ "$1" != -- ]; do srv+=("$1"); shift; done
	shift
	cli=("$@")
	# Made here, so the wait below never looks before the child has.
	: >"$WORK/$name.srv"
	"${srv[@]}" >"$WORK/$name.srv" 2>&1 &
	pid=$!
	for i in $(seq 200); do
		grep -q '^ready' "$WORK/$name.srv" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q '^ready' "$WORK/$name.srv"; then
		echo "bench: $name: server did not start:" >&2
		cat "$WORK/$name.srv" >&2
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
		return 1
	fi
	timeout $((${SECS%.*} + 60)) "${cli[@]}" >"$WORK/$name.cli" 2>&1 ||
		echo "bench: $name: client failed: $(tail -3 "$WORK/$name.cli")" >&2
	# A sink or rr server ends with its connection; a crr server on TERM.
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		[ "$i" -eq 20 ] && kill -TERM "$pid" 2>/dev/null
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ "$(field "$WORK/$name.srv" ok)" != 1 ] ||
	   [ "$(field "$WORK/$name.cli" ok)" != 1 ]; then
		echo "bench: $name failed; server said:" >&2
		grep -v '^result' "$WORK/$name.srv" | tail -5 >&2 || true
		echo "client said:" >&2
		grep -v '^result' "$WORK/$name.cli" | tail -5 >&2 || true
		return 1
	fi
}

# The figure of a finished pair: bulk in Gbit/s from the receiving side's
# result, transactions or connections per second from the client's.
gbits() { awk -v b="$(field "$1" bytes)" -v s="$(field "$1" secs)" \
	'BEGIN { printf "%.3f", (s > 0 ? b * 8 / s / 1e9 : 0) }'; }
rate() { awk -v n="$(field "$1" count)" -v s="$(field "$1" secs)" \
	'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
pair_cpu() { awk -v a="$(cpu_of "$WORK/$1.srv")" -v b="$(cpu_of "$WORK/$1.cli")" \
	'BEGIN { printf "%.2f", a + b }'; }

# row NAME UNIT BETTER USTACK LINUX CPU_USTACK CPU_LINUX [OTHER_NAME] [RATIOS]
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; }

# ratios FIG A EXT_A B EXT_B: the ratio of A's figure to B's in each
# round (FIG is gbits or rate, of $WORK/A.R.EXT_A and B.R.EXT_B), comma
# separated, "-" for a round without both: how far the two columns of a
# row moved apart from one slice to the next.
ratios() {
	local fig=$1 a=$2 ea=$3 b=$4 eb=$5 r out=
	for r in $(seq "$ROUNDS"); do
		out+="${out:+,}$(awk -v x="$("$fig" "$WORK/$a.$r.$ea")" \
			-v y="$("$fig" "$WORK/$b.$r.$eb")" \
			'BEGIN { if (x > 0 && y > 0) printf "%.3f", x / y; else printf "-" }')"
	done
	echo "$out"
}

flush_neigh() { ip neigh flush dev tap0 2>/dev/null || true; }
U_ARGS=(--stack ustack --tap tap0 --addr 10.88.0.2/24)
# BENCH_BUSY_READ=US: ustack's blocked calls poll the TAP that long before
# they sleep (net.core.busy_read; Linux's default, and ustack's, is 0).
if [ -n "${BENCH_BUSY_READ:-}" ]; then
	case $BENCH_BUSY_READ in
	*[!0-9]*) echo "bench: BENCH_BUSY_READ must be a whole number of microseconds" >&2; exit 2 ;;
	esac
	U_ARGS+=(--busy-read "$BENCH_BUSY_READ")
	NOTES+=("ustack ran with net.core.busy_read=$BENCH_BUSY_READ us (BENCH_BUSY_READ): its blocked calls poll the TAP that long before they sleep, for more CPU; the Linux column keeps its default (0)")
fi
L_ARGS=(--tap tap1 --addr 10.87.0.2/24)
PORT=5001
# The kernel's sockets use BENCH_CC (default cubic: Linux's default and
# ustack's), set per socket by bench_core.c. A new namespace inherits the
# host's default, which may be another (bbr on some clouds, whose pacing
# halves the kernel's sender over the TAP); BENCH_CC= keeps it.
HOST_CC=$(sysctl -n net.ipv4.tcp_congestion_control)
export BENCH_CC=${BENCH_CC-cubic}
if [ -n "$BENCH_CC" ]; then
	NOTES+=("the kernel's sockets use $BENCH_CC (TCP_CONGESTION, BENCH_CC); this namespace's default, inherited from the host, is $HOST_CC")
else
	NOTES+=("the kernel's sockets use this namespace's default congestion control, $HOST_CC, inherited from the host (BENCH_CC is empty)")
fi

# ---- ICMP echo ---------------------------------------------------------
progress "ICMP echo: kernel ping -i 0 to ustack (TAP) and to a kernel (veth), $COUNT echoes"
"$BUILD/ustack" up --tap tap0 --addr 10.88.0.2/24 >"$WORK/ustack.out" \
	2>"$WORK/ustack.log" &
USTACK_PID=$!
for _ in $(seq 100); do
	grep -q '^ustack: up' "$WORK/ustack.out" && break
	sleep 0.1
done
# measure DEST: prints "rtt_avg_us rate_per_s cpu_ping"
measure_ping() {
	local out
	ping -n -c 50 -i 0 -q -W 1 -w 2 -s 56 "$1" >/dev/null 2>&1 || true
	out=$( { TIMEFORMAT='%U %S'; time ping -n -c "$COUNT" -i 0 -q -W 1 -w 8 \
		-s 56 "$1" 2>&1; } 2>&1) || true
	awk '
		/packets transmitted/ {
			for (i = 1; i <= NF; i++) {
				if ($(i + 1) ~ /^received/) rcvd = $i
				if ($i == "time") { t = $(i + 1); sub("ms", "", t) }
			}
		}
		/^rtt/ { split($4, r, "/"); avg = r[2] }
		/^[0-9.]+ [0-9.]+$/ { cpu = $1 + $2 }
		END {
			if (t == "" || t == 0 || avg == "") { print "0 0 0"; exit }
			printf "%.1f %.0f %.2f\n", avg * 1000, rcvd / (t / 1000), cpu
		}' <<<"$out"
}
ustack_cpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
c0=$(ustack_cpu "$USTACK_PID")
read -r u_rtt u_rate u_cpu < <(measure_ping 10.88.0.2)
c1=$(ustack_cpu "$USTACK_PID")
read -r l_rtt l_rate l_cpu < <(measure_ping 10.89.0.2)
kill -TERM "$USTACK_PID"; wait "$USTACK_PID" || true
u_cpu=$(awk -v a="$u_cpu" -v b="$c0" -v c="$c1" 'BEGIN { printf "%.2f", a + c - b }')
row "ICMP echo 56 B rtt" us lower "$u_rtt" "$l_rtt" "$u_cpu" "$l_cpu"
row "ICMP echo 56 B rate" 1/s higher "$u_rate" "$l_rate" "$u_cpu" "$l_cpu"

# ---- the measurements, one function each ---------------------------------
# m_NAME OUT: one slice of RUN_SECS, output in $WORK/OUT.srv and OUT.cli.
m_tx_u() {
	flush_neigh
	run_pair "$1" "$BT" sink --port $PORT -- \
		"$BT" source "${U_ARGS[@]}" --to 10.88.0.1 --port $PORT --seconds "$RUN_SECS"
}
m_tx_l() {
	run_pair "$1" "$BT" sink --port $PORT -- \
		nsenter -t "$PEER_PID" -n "$BT" source --to 10.89.0.1 --port $PORT --seconds "$RUN_SECS"
}
m_tx_w() {
	run_pair "$1" "$BT" sink --port $PORT -- \
		"$BL" source "${L_ARGS[@]}" --to 10.87.0.1 --port $PORT --seconds "$RUN_SECS"
}
m_rx_u() {
	flush_neigh
	run_pair "$1" "$BT" sink "${U_ARGS[@]}" --port $PORT -- \
		"$BT" source --to 10.88.0.2 --port $PORT --seconds "$RUN_SECS"
}
m_rx_l() {
	run_pair "$1" nsenter -t "$PEER_PID" -n "$BT" sink --port $PORT -- \
		"$BT" source --to 10.89.0.2 --port $PORT --seconds "$RUN_SECS"
}
m_rx_w() {
	run_pair "$1" "$BL" sink "${L_ARGS[@]}" --port $PORT -- \
		"$BT" source --to 10.87.0.2 --port $PORT --seconds "$RUN_SECS"
}
m_wire_u() {
	"$BT" wire-bulk --seconds "$RUN_SECS" >"$WORK/$1.cli" 2>&1 ||
		echo "bench: wire-bulk failed: $(tail -3 "$WORK/$1.cli")" >&2
}
m_wire_l() {
	run_pair "$1" "$BT" sink --bind 127.0.0.1 --port $PORT -- \
		"$BT" source --to 127.0.0.1 --port $PORT --seconds "$RUN_SECS"
}
m_rr_u() {
	flush_neigh
	run_pair "$1" "$BT" rr-server --port $PORT -- \
		"$BT" rr-client "${U_ARGS[@]}" --to 10.88.0.1 --port $PORT --seconds "$RUN_SECS"
}
m_rr_l() {
	run_pair "$1" "$BT" rr-server --port $PORT -- \
		nsenter -t "$PEER_PID" -n "$BT" rr-client --to 10.89.0.1 --port $PORT --seconds "$RUN_SECS"
}
m_rr_w() {
	run_pair "$1" "$BT" rr-server --port $PORT -- \
		"$BL" rr-client "${L_ARGS[@]}" --to 10.87.0.1 --port $PORT --seconds "$RUN_SECS"
}
m_crr_u() {
	flush_neigh
	run_pair "$1" "$BT" crr-server --port 7000 -- \
		"$BT" crr-client "${U_ARGS[@]}" --to 10.88.0.1 --port 7000 --seconds "$RUN_SECS"
}
m_crr_l() {
	run_pair "$1" "$BT" crr-server --port 7000 -- \
		nsenter -t "$PEER_PID" -n "$BT" crr-client --to 10.89.0.1 --port 7000 --seconds "$RUN_SECS"
}

# merge NAME: NAME.1 .. NAME.ROUNDS into NAME, each result line the sum of
# its slices (ok only if every slice had one and was); the other lines of
# the first.
merge() {
	local ext files r
	for ext in srv cli; do
		[ -e "$WORK/$1.1.$ext" ] || continue
		files=()
		for r in $(seq "$ROUNDS"); do files+=("$WORK/$1.$r.$ext"); done
		{
			grep -hv '^result' "$WORK/$1.1.$ext" || true
			awk -v want="$ROUNDS" '/^result/ {
				for (i = 2; i <= NF; i++) {
					split($i, kv, "=")
					if (kv[1] ~ /^(bytes|secs|count|cpu_user|cpu_sys)$/)
						sum[kv[1]] += kv[2]
					else if (kv[1] == "ok")
						bad += (kv[2] != 1)
					else if (!(kv[1] in first))
						first[kv[1]] = kv[2]
				}
				n++
			}
			END {
				if (!n) exit
				line = "result"
				for (k in first) line = line " " k "=" first[k]
				# mawk prints big numbers with %.6g: format them.
				for (k in sum) {
					fmt = "%.6f"
					if (k == "bytes" || k == "count")
						fmt = "%.0f"
					line = line " " k "=" sprintf(fmt, sum[k])
				}
				print line " ok=" (bad || n < want ? 0 : 1)
			}' "${files[@]}"
		} >"$WORK/$1.$ext"
	done
}

# rotate NAME...: ROUNDS turns of m_NAME for each NAME, merged; every
# other round in reverse order (A B C, C B A), so that a steady drift of
# the machine's speed weighs the same on each.
rotate() {
	local r n names=("$@") back=()
	for n in "$@"; do back=("$n" "${back[@]}"); done
	for r in $(seq "$ROUNDS"); do
		if [ $((r % 2)) -eq 1 ]; then names=("$@"); else names=("${back[@]}"); fi
		for n in "${names[@]}"; do "m_$n" "$n.$r"; done
	done
	for n in "$@"; do merge "$n"; done
}
# lwIP takes its turn in the rows it has (bulk both ways, request/response).
LW=
if [ -x "$BL" ]; then LW=1; fi
lwip() { [ -z "$LW" ] || echo "$1"; }
TURNS="taking turns, $ROUNDS x $RUN_SECS s each"

# ---- bulk ----------------------------------------------------------------
progress "bulk TCP ustack->kernel (TAP) vs kernel->kernel (veth)${LW:+ vs lwIP}, $TURNS"
# shellcheck disable=SC2046
rotate tx_u tx_l $(lwip tx_w)
row "bulk TCP ustack->kernel" Gbit/s higher "$(gbits "$WORK/tx_u.srv")" \
	"$(gbits "$WORK/tx_l.srv")" "$(pair_cpu tx_u)" "$(pair_cpu tx_l)" "" \
	"$(ratios gbits tx_u srv tx_l srv)"

progress "bulk TCP kernel->ustack (TAP) vs kernel->kernel (veth)${LW:+ vs lwIP}, $TURNS"
# shellcheck disable=SC2046
rotate rx_u rx_l $(lwip rx_w)
row "bulk TCP kernel->ustack" Gbit/s higher "$(gbits "$WORK/rx_u.srv")" \
	"$(gbits "$WORK/rx_l.srv")" "$(pair_cpu rx_u)" "$(pair_cpu rx_l)" "" \
	"$(ratios gbits rx_u srv rx_l srv)"

progress "bulk TCP ustack->ustack (in-memory wire) vs kernel loopback, $TURNS"
rotate wire_u wire_l
[ "$(field "$WORK/wire_u.cli" ok)" = 1 ] ||
	NOTES+=("bulk over the wire: a slice failed (see above); its figure counts the others only")
row "bulk TCP wire vs loopback" Gbit/s higher "$(gbits "$WORK/wire_u.cli")" \
	"$(gbits "$WORK/wire_l.srv")" "$(cpu_of "$WORK/wire_u.cli")" \
	"$(pair_cpu wire_l)" "" "$(ratios gbits wire_u cli wire_l srv)"

# ---- transactions ----------------------------------------------------------
progress "1-byte request/response: ustack client (TAP) vs kernel client (veth)${LW:+ vs lwIP}, $TURNS"
# shellcheck disable=SC2046
rotate rr_u rr_l $(lwip rr_w)
row "request/response 1 B" 1/s higher "$(rate "$WORK/rr_u.cli")" \
	"$(rate "$WORK/rr_l.cli")" "$(pair_cpu rr_u)" "$(pair_cpu rr_l)" "" \
	"$(ratios rate rr_u cli rr_l cli)"

progress "connections/s (connect, 100 B each way, close): ustack client vs kernel client, $TURNS"
rotate crr_u crr_l
row "connections/s" 1/s higher "$(rate "$WORK/crr_u.cli")" \
	"$(rate "$WORK/crr_l.cli")" "$(pair_cpu crr_u)" "$(pair_cpu crr_l)" "" \
	"$(ratios rate crr_u cli crr_l cli)"

# ---- memory ----------------------------------------------------------------
nofile=$(ulimit -n)
want=$CONNS
if [ $((2 * want + 100)) -gt "$nofile" ]; then
	want=$(((nofile - 100) / 2))
	NOTES+=("idle connections: $want instead of $CONNS (descriptor limit $nofile)")
fi
progress "memory per idle connection: $want connections, ustack (wire) vs kernel (loopback slab)"
"$BT" idle --stack ustack --conns "$want" >"$WORK/idle_u.cli" 2>&1 ||
	echo "bench: idle ustack: $(tail -3 "$WORK/idle_u.cli")" >&2
"$BT" idle --stack kernel --conns "$want" >"$WORK/idle_l.cli" 2>&1 ||
	echo "bench: idle kernel: $(tail -3 "$WORK/idle_l.cli")" >&2
mem() { sed -n "s/^memory .*\b$2=\([^ ]*\).*/\1/p" "$1" | tail -1; }
u_conns=$(mem "$WORK/idle_u.cli" conns)
l_conns=$(mem "$WORK/idle_l.cli" conns)
[ "${u_conns:-0}" = "$want" ] && [ "${l_conns:-0}" = "$want" ] ||
	NOTES+=("idle connections reached: ustack ${u_conns:-0}, kernel ${l_conns:-0} of $want")
u_heap=$(mem "$WORK/idle_u.cli" heap_per_socket)
u_skb=$(mem "$WORK/idle_u.cli" skb_per_socket)
u_fd=$(mem "$WORK/idle_u.cli" slab_fd_per_socket)
l_sock=$(mem "$WORK/idle_l.cli" slab_sock_per_socket)
l_fd=$(mem "$WORK/idle_l.cli" slab_fd_per_socket)
l_skb=$(mem "$WORK/idle_l.cli" slab_skb_per_socket)
sum() { awk -v a="${1:-0}" -v b="${2:-0}" -v c="${3:-0}" 'BEGIN { print a + b + c }'; }
row "idle socket, buffers excluded" B lower \
	"$(sum "$u_heap" "$(awk -v s="${u_skb:-0}" 'BEGIN { print -s }')" "$u_fd")" \
	"$(sum "$l_sock" "$l_fd")" \
	"$(cpu_of "$WORK/idle_u.cli")" "$(cpu_of "$WORK/idle_l.cli")"
row "idle socket, buffers included" B lower "$(sum "$u_heap" "$u_fd")" \
	"$(sum "$l_sock" "$l_fd" "$l_skb")" \
	"$(cpu_of "$WORK/idle_u.cli")" "$(cpu_of "$WORK/idle_l.cli")"
row "idle socket, stack state only" B lower \
	"$(sum "$u_heap" "$(awk -v s="${u_skb:-0}" 'BEGIN { print -s }')")" \
	"${l_sock:-0}" "$(cpu_of "$WORK/idle_u.cli")" "$(cpu_of "$WORK/idle_l.cli")"
NOTES+=("idle memory is per socket (one end of a connection), both with the descriptor's kernel objects (filp, dentry: ustack ${u_fd:-?} B for its eventfd, Linux ${l_fd:-?} B). ustack: heap growth (mallinfo2) ${u_heap:-?} B, of which packet buffers ${u_skb:-?} B. Linux: slab growth of the TCP socket caches (TCP, sock_inode_cache, request/tw socks, bind buckets) ${l_sock:-?} B, packet buffers (skbuff_*) ${l_skb:-?} B; /proc/slabinfo is machine-wide, so other activity adds some noise")

# ---- lwIP (measured in turn with the rows above) ---------------------------
if [ -n "$LW" ]; then
	row "bulk TCP ustack->kernel" Gbit/s higher "$(gbits "$WORK/tx_u.srv")" \
		"$(gbits "$WORK/tx_w.srv")" "$(pair_cpu tx_u)" "$(pair_cpu tx_w)" lwIP \
		"$(ratios gbits tx_u srv tx_w srv)"
	row "bulk TCP kernel->ustack" Gbit/s higher "$(gbits "$WORK/rx_u.srv")" \
		"$(gbits "$WORK/rx_w.srv")" "$(pair_cpu rx_u)" "$(pair_cpu rx_w)" lwIP \
		"$(ratios gbits rx_u srv rx_w srv)"
	row "request/response 1 B" 1/s higher "$(rate "$WORK/rr_u.cli")" \
		"$(rate "$WORK/rr_w.cli")" "$(pair_cpu rr_u)" "$(pair_cpu rr_w)" lwIP \
		"$(ratios rate rr_u cli rr_w cli)"
	NOTES+=("lwIP 2.1.3 (Debian liblwip-dev) on a TAP of its own: $(sed -n 's/^lwip-netif //p' "$WORK/tx_w.cli" | head -1) (bulk lwIP->kernel, first slice); receiving: $(sed -n 's/^lwip-netif .*(not tapif): //p' "$WORK/rx_w.srv" | head -1)")
else
	NOTES+=("lwIP rows skipped: $BL not built (make bench-build, needs liblwip-dev)")
fi

# ---- where the time goes (BENCH_PROFILE=1) ---------------------------------
if [ -n "${BENCH_PROFILE:-}" ]; then
	PROF=${BENCH_OUT%.json}-profile.txt
	progress "profile of ustack's bulk sender: strace -c, then perf record -g (-> $PROF)"
	{
		echo "ustack bulk sender (bench_tcp source over the TAP), ${SECS} s under strace -c -f:"
		flush_neigh
		run_pair prof_s "$BT" sink --port $PORT -- strace -c -f -o "$WORK/strace.txt" \
			"$BT" source "${U_ARGS[@]}" --to 10.88.0.1 --port $PORT --seconds "$SECS" || true
		seg=$(awk -v b="$(field "$WORK/prof_s.srv" bytes)" 'BEGIN { printf "%.0f", b / 1448 }')
		echo "$(field "$WORK/prof_s.srv" bytes) bytes = $seg full-size segments (traced, so slower)"
		awk -v seg="$seg" 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ &&
			seg && $4 / seg >= 0.001 {
			printf "  %-16s %9d calls  %.3f per segment\n", $NF, $4, seg ? $4 / seg : 0 }' \
			"$WORK/strace.txt"
		if command -v perf >/dev/null; then
			echo
			echo "perf record -g of the same, ${SECS} s, top symbols (self):"
			flush_neigh
			run_pair prof_p "$BT" sink --port $PORT -- perf record -q -g \
				-o "$WORK/perf.data" "$BT" source "${U_ARGS[@]}" --to 10.88.0.1 \
				--port $PORT --seconds "$SECS" || true
			perf report -i "$WORK/perf.data" --no-children --sort dso,sym -q \
				--stdio -g none 2>/dev/null | grep '%' | head -25 || true
		fi
	} >"$PROF" 2>&1
	NOTES+=("profile of ustack's bulk sender written to $PROF")
fi

# ---- report ----------------------------------------------------------------
progress "report"
NOTES+=("load average (1/5/15 min, machine-wide, $(nproc) CPUs): $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; other work on the machine lowers both columns, and ustack (two threads handing packets over) more than the kernel")
printf '%s\n' "${NOTES[@]}" >"$WORK/notes.txt"
/usr/bin/python3 - "$ROWS" "$WORK/notes.txt" "$BENCH_OUT" "$SECS" "$(uname -r)" \
	"$(nproc)" "$ROUNDS" <<'EOF'
import json, sys, time
rows_path, notes_path, out, secs, kernel, ncpu, rounds = sys.argv[1:8]
rows = []
for line in open(rows_path):
    f = line.rstrip("\n").split("\t")
    name, unit, better, u, l, cu, cl = f[:7]
    other = f[7] if len(f) > 7 and f[7] else "Linux"
    u, l = float(u or 0), float(l or 0)
    # One ratio per round ("-" for a round that lacks a figure).
    per_round = [None if x == "-" else float(x)
                 for x in (f[8].split(",") if len(f) > 8 and f[8] else [])]
    rows.append({"name": name, "unit": unit, "better": better,
                 "against": other, "ustack": u, "other": l,
                 "ratio": round(u / l, 3) if l > 0 else None,
                 "ratio_rounds": per_round,
                 "cpu_s_ustack": float(cu or 0), "cpu_s_other": float(cl or 0)})
def fmt(v):
    return "%.3f" % v if v < 100 else "%.0f" % v
def spread(r):
    got = [x for x in r["ratio_rounds"] if x is not None]
    if not got:
        return "-"
    return "%.2f-%.2f" % (min(got), max(got))
print()
print("%-32s %7s %10s %10s %7s %11s %8s %14s" % ("", "unit", "ustack",
      "other", "ratio", "rounds", "vs", "CPU s u/other"))
for r in rows:
    print("%-32s %7s %10s %10s %7s %11s %8s %14s" % (r["name"], r["unit"],
          fmt(r["ustack"]), fmt(r["other"]),
          "%.2f" % r["ratio"] if r["ratio"] is not None else "-",
          spread(r), r["against"],
          "%.2f/%.2f" % (r["cpu_s_ustack"], r["cpu_s_other"])))
notes = [n for n in open(notes_path).read().splitlines() if n]
notes = ["ratio = ustack / other; 'better' in the JSON says which way is good",
         "ustack over TAP (kernel on the other end) vs Linux over a veth pair "
         "(MTU 1500) to another namespace; CPU s: user+system time of every "
         "process of the measurement (both ends), not counting softirq work "
         "done in kernel threads",
         "bulk over the wire: one thread drives both ustack instances over "
         "a 1500-byte MTU with the wire's default offloads (TSO: 64 KB "
         "packets cross as one frame; checksums left partial, as on a veth "
         "pair); the loopback figure has two processes and lo's "
         "65536-byte MTU",
         "request/response and connections/s: ustack is the client, the "
         "server is the kernel in both columns",
         "each row's measurements took turns (ustack, Linux, lwIP, then "
         "the other way round: %s rounds of %g s each); a figure is the "
         "sum of its slices" % (rounds, float(secs) / int(rounds)),
         "rounds: the lowest and highest ratio of one round's slices "
         "(ustack's slice against the other's in the same round); a wide "
         "range means the machine's speed moved during the row, and the "
         "ratio is only as good as that range"] + notes
for n in notes:
    print("  note: " + n)
json.dump({"benchmark": "ustack make bench",
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "kernel": kernel, "cpus": int(ncpu), "seconds_per_run": float(secs),
           "rounds": int(rounds),
           "seconds_per_slice": float(secs) / int(rounds),
           "notes": notes, "results": rows}, open(out, "w"), indent=2)
print("results written to " + out)
EOF

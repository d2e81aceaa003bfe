#!/bin/bash
# shim_ifioctl.sh - a program under the shim asks its sockets which
# interfaces and addresses there are (SIOCGIFCONF, SIOCGIFADDR,
# SIOCGIFHWADDR, SIOCGIFMTU, SIOCGIFFLAGS, SIOCGIFINDEX, SIOCGIFNAME, ...;
# tests/integ/lib/ifioctl_probe.py, Python's fcntl.ioctl, on a UDP and a
# TCP socket) and must be told ustack's: its lo and its tap0 with the
# address, MAC and MTU it was given, not the kernel's tap0 of the same
# name. The MAC it reports is the one its frames (the capture) carry. The same script on the kernel's sockets describes the
# kernel's devices, as a check that the answers above came from ustack.
#
# In a namespace of its own: tap0 with 10.69.0.1/24 on the kernel side,
# ustack at 10.69.0.2/24, MTU 1400, MAC 02:00:00:00:69:02.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 69
source "$(dirname "$0")/lib/shim.sh"
shim_need
PROBE=$INTEG_ROOT/tests/integ/lib/ifioctl_probe.py
MAC=02:00:00:00:69:02
export USTACK_MAC=$MAC USTACK_MTU=1400

shim_run probe 60 "$PY" "$PROBE" "$KERNEL_IP"
OUT=$WORK/probe.out
cat "$OUT"
cat >"$WORK/expected.txt" <<END
ifconf needs 80 (2 entries)
ifconf lo 127.0.0.1
ifconf tap0 $USTACK_IP
lo index 1 name-by-index lo
lo flags 0x49 mtu 65536 txqlen 1000
lo hwaddr family 772 00:00:00:00:00:00
lo addr 127.0.0.1 netmask 255.0.0.0 broadcast 0.0.0.0
tap0 index 2 name-by-index tap0
tap0 flags 0x1043 mtu 1400 txqlen 1000
tap0 hwaddr family 1 $MAC
tap0 addr $USTACK_IP netmask 255.255.255.0 broadcast 10.69.0.255
nosuch0 flags ENODEV addr ENODEV
alias flags ok addr EADDRNOTAVAIL
TCGETS ENOTTY
END
diff -u "$WORK/expected.txt" "$OUT" ||
	shim_fail "the shim's interface ioctls did not describe ustack's devices"

# The ARP frames ustack sent (its gratuitous ARP, its request for the
# datagram's peer: sender address $USTACK_IP in its capture) came from
# that MAC, in the Ethernet header and in the ARP sender field.
SRCS=$("$PY" - "$PCAP" "$USTACK_IP" <<'END'
import socket, struct, sys
data = open(sys.argv[1], "rb").read()
me = socket.inet_aton(sys.argv[2])
off, srcs = 24, set()
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    f = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(f) >= 42 and f[12:14] == b"\x08\x06" and f[28:32] == me:
        for mac in (f[6:12], f[22:28]):
            srcs.add(":".join("%02x" % b for b in mac))
print(" ".join(sorted(srcs)))
END
)
[ "$SRCS" = "$MAC" ] ||
	shim_fail "ustack's frames came from '$SRCS', not the $MAC it reported"

# On the kernel's sockets: the kernel's tap0, another address and MAC.
"$PY" "$PROBE" >"$WORK/kernel.out" 2>&1 ||
	shim_fail "the probe failed on the kernel's sockets"
grep -q "^ifconf tap0 $KERNEL_IP\$" "$WORK/kernel.out" ||
	shim_fail "the kernel's sockets did not list the kernel's tap0"
grep -q "^tap0 hwaddr family 1 $MAC" "$WORK/kernel.out" &&
	shim_fail "the kernel's tap0 has ustack's MAC?"
echo "ok: under the shim, ustack's interfaces; on the kernel's sockets, the kernel's"
integ_pass

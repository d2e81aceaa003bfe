#!/bin/bash
# install-deps.sh - install the Debian 12 packages that building, testing,
# the demo and the benchmarks need, only when something is missing.
#
# Fast path: one dpkg-query for every package; nothing else runs when all
# are installed. Otherwise (as root, or through sudo when present) one
# `apt-get update` and one non-interactive `apt-get install`.
set -euo pipefail

PACKAGES=(
	gcc make libc6-dev          # build
	clang libclang-rt-14-dev    # clang build; its ASan/UBSan runtime
	libcmocka-dev               # unit and simulation tests
	pkg-config                  # the library's ustack.pc
	iproute2 iputils-ping arping # integration tests, demo, bench
	curl socat python3          # TCP tests and demo: the kernel's peers
	tshark tcpdump              # reading captures
	python3-scapy               # malformed-frame test (for /usr/bin/python3)
	liblwip-dev                 # bench: lwIP as the other user-space stack
	netcat-openbsd redis-server redis-tools nginx-light iperf3 wrk
	                            # programs run unmodified on the LD_PRELOAD shim
)

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
if ! command -v apt-get >/dev/null; then
	echo "install-deps: no apt-get; install these yourself: ${missing[*]}" >&2
	exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		SUDO=(sudo)
	else
		echo "install-deps: run as root (or install sudo) to install:" \
			"${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture; answer it here
# so that installing tshark never waits for a person.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	"${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends "${missing[@]}"

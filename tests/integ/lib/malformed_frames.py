"""Write malformed frames into a TAP device from the kernel's side.

Run with Debian's /usr/bin/python3 (python3-scapy):
    malformed_frames.py IFACE USTACK_MAC KERNEL_IP USTACK_IP

Each frame is addressed to ustack and broken in exactly one way, so that
ustack's counters can be checked per drop reason. Prints one line per frame:
"sent NAME" or "refused NAME: why". A frame shorter than an Ethernet header
cannot reach ustack as it is: the kernel refuses it, or zero-fills the
header to 14 bytes (dev_validate_header) when the sender may do raw I/O.
"""
import struct
import sys

from scapy.all import ARP, ICMP, IP, Ether, Raw, get_if_hwaddr, raw, sendp


def ip_checksum(header):
    if len(header) % 2:
        header += b"\0"
    s = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def with_ip_checksum(packet, hlen=20):
    """Recompute the IPv4 header checksum over the first hlen bytes."""
    h = bytearray(packet)
    h[10:12] = b"\0\0"
    h[10:12] = struct.pack("!H", ip_checksum(bytes(h[:hlen])))
    return bytes(h)


def main():
    iface, ustack_mac, kernel_ip, ustack_ip = sys.argv[1:5]
    my_mac = get_if_hwaddr(iface)

    def eth(ethertype):
        return raw(Ether(dst=ustack_mac, src=my_mac, type=ethertype))

    echo = raw(IP(src=kernel_ip, dst=ustack_ip, id=0x1111) /
               ICMP(type=8, id=0x77, seq=1) / Raw(b"malformed-test" * 4))

    ihl4 = bytearray(echo)
    ihl4[0] = 0x44
    bad_ip_csum = bytearray(echo)
    bad_ip_csum[10] ^= 0xFF
    long_tot_len = bytearray(echo)
    long_tot_len[2:4] = struct.pack("!H", len(echo) + 100)
    short_tot_len = bytearray(echo)
    short_tot_len[2:4] = struct.pack("!H", 12)
    bad_icmp_csum = bytearray(echo)
    bad_icmp_csum[22] ^= 0xFF

    arp_req = raw(ARP(op=1, hwsrc=my_mac, psrc=kernel_ip, pdst=ustack_ip))
    # hlen 8 with 8-byte hardware addresses: well-formed for its lengths,
    # but not Ethernet's.
    arp_hlen8 = (struct.pack("!HHBBH", 1, 0x0800, 8, 4, 1) +
                 bytes(8) + bytes(map(int, kernel_ip.split("."))) +
                 bytes(8) + bytes(map(int, ustack_ip.split("."))))

    # Two fragments of one datagram whose byte ranges overlap: 0..23 and
    # 8..31 (RFC 5722 explains why overlaps are attacks, not accidents).
    icmp = raw(ICMP(type=8, id=0x78, seq=1) / Raw(b"o" * 24))
    frag = IP(src=kernel_ip, dst=ustack_ip, id=0x4242, proto=1, flags="MF")
    frag_a = raw(frag.copy() / Raw(icmp[0:24]))
    frag_b = IP(src=kernel_ip, dst=ustack_ip, id=0x4242, proto=1,
                flags="MF", frag=1)
    frag_b = raw(frag_b / Raw(icmp[8:32]))

    frames = [
        ("truncated_ethernet", eth(0x0800)[:10]),
        ("unknown_ethertype", eth(0x88B5) + b"x" * 46),
        ("truncated_ip", eth(0x0800) + echo[:10]),
        ("ihl_below_5", eth(0x0800) + with_ip_checksum(ihl4, 16)),
        ("bad_ip_checksum", eth(0x0800) + bytes(bad_ip_csum)),
        ("tot_len_beyond_frame", eth(0x0800) + with_ip_checksum(long_tot_len)),
        ("tot_len_below_header", eth(0x0800) + with_ip_checksum(short_tot_len)),
        ("bad_icmp_checksum", eth(0x0800) + bytes(bad_icmp_csum)),
        ("truncated_arp", eth(0x0806) + arp_req[:20]),
        ("arp_hlen_8", eth(0x0806) + arp_hlen8),
        ("overlapping_fragment_a", eth(0x0800) + frag_a),
        ("overlapping_fragment_b", eth(0x0800) + frag_b),
    ]
    for name, frame in frames:
        try:
            sendp(frame, iface=iface, verbose=False)
            print("sent %s (%d bytes)" % (name, len(frame)))
        except OSError as e:
            print("refused %s: %s" % (name, e))


if __name__ == "__main__":
    main()

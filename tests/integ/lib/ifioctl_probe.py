#!/usr/bin/python3
"""ifioctl_probe.py - what a program learns about its interfaces from the
interface ioctls of its sockets (SIOCGIFCONF, SIOCGIFADDR, SIOCGIFHWADDR,
...), printed one fact a line, the same for a UDP and a TCP socket (a
line that differs between them is printed with the socket type).

Run under the shim (shim_ifioctl.sh) it must describe ustack's devices;
on the kernel's sockets, the kernel's.
"""
import ctypes
import errno
import fcntl
import socket
import struct
import sys

SIOCGIFCONF = 0x8912
SIOCGIFFLAGS = 0x8913
SIOCGIFADDR = 0x8915
SIOCGIFBRDADDR = 0x8919
SIOCGIFNETMASK = 0x891B
SIOCGIFMTU = 0x8921
SIOCGIFHWADDR = 0x8927
SIOCGIFINDEX = 0x8933
SIOCGIFNAME = 0x8910
SIOCGIFTXQLEN = 0x8942
TCGETS = 0x5401
IFREQ = 40


def ioctl(s, req, name, data=b""):
    buf = bytearray(name.encode().ljust(16, b"\0") + data.ljust(24, b"\0"))
    try:
        fcntl.ioctl(s, req, buf)
    except OSError as e:
        return errno.errorcode[e.errno]
    return bytes(buf)


def addr(r):
    return r if isinstance(r, str) else socket.inet_ntoa(r[20:24])


def facts(s):
    out = []
    # SIOCGIFCONF: first the length alone, then the entries.
    ifc = bytearray(struct.pack("iP", 0, 0))
    fcntl.ioctl(s, SIOCGIFCONF, ifc)
    need = struct.unpack("iP", ifc)[0]
    out.append("ifconf needs %d (%d entries)" % (need, need // IFREQ))
    buf = bytearray(need)
    cbuf = (ctypes.c_char * need).from_buffer(buf)
    ifc = bytearray(struct.pack("iP", need, ctypes.addressof(cbuf)))
    fcntl.ioctl(s, SIOCGIFCONF, ifc)
    got = struct.unpack("iP", ifc)[0]
    names = []
    for off in range(0, got, IFREQ):
        e = bytes(buf[off:off + IFREQ])
        name = e[:16].split(b"\0")[0].decode()
        names.append(name)
        out.append("ifconf %s %s" % (name, socket.inet_ntoa(e[20:24])))
    del cbuf
    for name in names:
        idx = struct.unpack("i", ioctl(s, SIOCGIFINDEX, name)[16:20])[0]
        back = ioctl(s, SIOCGIFNAME, "", struct.pack("i", idx))
        flags = struct.unpack("H", ioctl(s, SIOCGIFFLAGS, name)[16:18])[0]
        mtu = struct.unpack("i", ioctl(s, SIOCGIFMTU, name)[16:20])[0]
        qlen = struct.unpack("i", ioctl(s, SIOCGIFTXQLEN, name)[16:20])[0]
        hw = ioctl(s, SIOCGIFHWADDR, name)
        fam = struct.unpack("H", hw[16:18])[0]
        mac = ":".join("%02x" % b for b in hw[18:24])
        out.append("%s index %d name-by-index %s" %
                   (name, idx, back[:16].split(b"\0")[0].decode()))
        out.append("%s flags %#x mtu %d txqlen %d" % (name, flags, mtu, qlen))
        out.append("%s hwaddr family %d %s" % (name, fam, mac))
        out.append("%s addr %s netmask %s broadcast %s" %
                   (name, addr(ioctl(s, SIOCGIFADDR, name)),
                    addr(ioctl(s, SIOCGIFNETMASK, name)),
                    addr(ioctl(s, SIOCGIFBRDADDR, name))))
    out.append("nosuch0 flags %s addr %s" %
               (ioctl(s, SIOCGIFFLAGS, "nosuch0"),
                ioctl(s, SIOCGIFADDR, "nosuch0")))
    alias = names[-1] + ":9"
    r = ioctl(s, SIOCGIFFLAGS, alias)
    out.append("alias flags %s addr %s" %
               ("ok" if isinstance(r, bytes) else r,
                ioctl(s, SIOCGIFADDR, alias)))
    out.append("TCGETS %s" % ioctl(s, TCGETS, ""))
    return out


def main():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fu, ft = facts(u), facts(t)
    for a, b in zip(fu, ft):
        if a == b:
            print(a)
        else:
            print("udp: " + a)
            print("tcp: " + b)
    # A datagram to the first argument, so that the peer learns our MAC.
    if len(sys.argv) > 1:
        u.sendto(b"hello", (sys.argv[1], 9))
    sys.stdout.flush()


main()

/*
 * af_inet.c - the AF_INET family's socket operations (see af_inet.h).
 *
 * Each operation validates the user's arguments the way Linux does, in the
 * same order, so the errno is the one Linux gives, then calls into the
 * protocol (sk->prot).
 */
#include "net/af_inet.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net/devinet.h"
#include "net/ipv4.h"
#include "net/ping.h"
#include "net/sock.h"
#include "net/tcp/tcp.h"
#include "net/udp.h"
#include "socket/socket.h"
#include "stack/stack.h"

/* The protocols of the family, by socket type (Linux's inetsw). */
struct inet_protosw {
	int type;
	int protocol;
	const struct proto *prot;
	const struct proto_ops *ops;
};

static const struct inet_protosw inetsw[] = {
	{ SOCK_STREAM, IPPROTO_TCP, &tcp_prot, &inet_stream_ops },
	{ SOCK_DGRAM, IPPROTO_UDP, &udp_prot, &inet_dgram_ops },
	/* ICMP echo ("ping") sockets, Linux's inetsw entry for ping_prot
	 * (whose inet_sockraw_ops are inet_dgram_ops here: the same poll). */
	{ SOCK_DGRAM, IPPROTO_ICMP, &ping_prot, &inet_dgram_ops },
};

int inet_create(struct socket *sock, int protocol)
{
	const struct inet_protosw *answer = NULL;
	struct sock *sk;
	int err = -ESOCKTNOSUPPORT;

	if (protocol < 0 || protocol >= IPPROTO_MAX)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(inetsw) / sizeof(inetsw[0]); i++) {
		if (inetsw[i].type != sock->type)
			continue;
		if (protocol == inetsw[i].protocol || protocol == IPPROTO_IP) {
			answer = &inetsw[i];
			break;
		}
		err = -EPROTONOSUPPORT;
	}
	if (!answer)
		return err;
	sk = sk_alloc(sock->st, AF_INET, sock->type, answer->protocol,
		      answer->prot);
	if (!sk)
		return -ENOBUFS;
	sock->ops = answer->ops;
	sock_graft(sock, sk);
	if (sk->prot->init) {
		err = sk->prot->init(sk);
		if (err < 0) {
			sk->sk_socket = NULL;
			sock->sk = NULL;
			sock_put(sk);
			return err;
		}
	}
	return 0;
}

int inet_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;
	sock->sk = NULL;
	sk->sk_socket = NULL;
	sk->prot->close(sk);
	return 0;
}

int inet_check_sockaddr(const struct sockaddr *uaddr, int len)
{
	if (len < (int)sizeof(struct sockaddr_in))
		return -EINVAL;
	if (uaddr->sa_family != AF_INET)
		return -EAFNOSUPPORT;
	return 0;
}

bool inet_sk_get_local_port_range(const struct sock *sk, uint32_t *low,
				  uint32_t *high)
{
	const struct sock_ext *e;
	uint32_t sk_lo, sk_hi;

	*low = (uint32_t)sk->st->sysctl.ip_local_port_range[0];
	*high = (uint32_t)sk->st->sysctl.ip_local_port_range[1];
	e = sock_ext(sk, false);
	if (!e || !e->local_port_range)
		return false;
	sk_lo = e->local_port_range & 0xffff;
	sk_hi = e->local_port_range >> 16;
	if (*low <= sk_lo && sk_lo <= *high)
		*low = sk_lo;
	if (*low <= sk_hi && sk_hi <= *high)
		*high = sk_hi;
	return true;
}

int inet_autobind(struct sock *sk)
{
	if (sk->num)
		return 0;
	if (sk->prot->get_port(sk, 0) < 0)
		return -EAGAIN;
	sk->sport = htons(sk->num);
	return 0;
}

/* Ports below 1024 need CAP_NET_BIND_SERVICE; root is taken to have it. */
static bool may_bind_port(uint16_t snum)
{
	return snum == 0 || snum >= 1024 || geteuid() == 0;
}

int inet_bind(struct socket *sock, const struct sockaddr *uaddr,
	      socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)uaddr;
	struct sock *sk = sock->sk;
	enum ip_addr_type t;
	uint16_t snum;

	/* Linux's inet_bind: a protocol with a bind of its own (ping). */
	if (sk->prot->bind)
		return sk->prot->bind(sk, uaddr, (int)len);
	if (len < sizeof(struct sockaddr_in))
		return -EINVAL;
	/* Linux accepts AF_UNSPEC with INADDR_ANY for old programs. */
	if (sin->sin_family != AF_INET &&
	    (sin->sin_family != AF_UNSPEC || sin->sin_addr.s_addr != INADDR_ANY))
		return -EAFNOSUPPORT;
	t = sin->sin_addr.s_addr == INADDR_ANY ? IP_ADDR_LOCAL
					       : ip_addr_type(sk->st, sin->sin_addr.s_addr);
	/* Linux's inet_addr_valid_or_nonlocal: any address with
	 * IP_FREEBIND or IP_TRANSPARENT. */
	if (t != IP_ADDR_LOCAL && t != IP_ADDR_BROADCAST &&
	    t != IP_ADDR_MULTICAST && !sk->freebind && !sk->transparent)
		return -EADDRNOTAVAIL;
	snum = ntohs(sin->sin_port);
	if (!may_bind_port(snum))
		return -EACCES;
	if (sk->state != TCP_CLOSE || sk->num)
		return -EINVAL;
	sk->rcv_saddr = sin->sin_addr.s_addr;
	/* Replies from a broadcast/multicast binding use the device's
	 * address; an address bound freely is the source as it is. */
	sk->saddr = t == IP_ADDR_BROADCAST || t == IP_ADDR_MULTICAST ?
		    0 : sin->sin_addr.s_addr;
	/* IP_BIND_ADDRESS_NO_PORT: no port yet, so that connect() may
	 * choose one by the whole four-tuple (Linux's __inet_bind). The
	 * socket counts as unbound: bind() may come again. */
	if ((snum || !sk->bind_no_port) && sk->prot->get_port(sk, snum) < 0) {
		sk->rcv_saddr = sk->saddr = 0;
		return -EADDRINUSE;
	}
	sk->userlocks_port = snum != 0;
	sk->userlocks_addr = sk->rcv_saddr != 0;
	sk->sport = htons(sk->num);
	sk->daddr = 0;
	sk->dport = 0;
	return 0;
}

static int inet_dgram_connect(struct socket *sock, const struct sockaddr *uaddr,
			      socklen_t len, int flags)
{
	struct sock *sk = sock->sk;

	if (len < sizeof(uaddr->sa_family))
		return -EINVAL;
	if (uaddr->sa_family == AF_UNSPEC)
		return sk->prot->disconnect(sk, flags);
	if (!sk->num && inet_autobind(sk) < 0)
		return -EAGAIN;
	return sk->prot->connect(sk, uaddr, (int)len);
}

int inet_getname(struct socket *sock, struct sockaddr *uaddr, socklen_t *len,
		 int peer)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)uaddr;
	struct sock *sk = sock->sk;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (peer) {
		if (!sk->dport || (peer == 1 && (sk->state == TCP_CLOSE ||
						 sk->state == TCP_SYN_SENT)))
			return -ENOTCONN;
		sin->sin_port = sk->dport;
		sin->sin_addr.s_addr = sk->daddr;
	} else {
		sin->sin_port = sk->sport;
		sin->sin_addr.s_addr = sk->rcv_saddr ? sk->rcv_saddr : sk->saddr;
	}
	*len = sizeof(*sin);
	return 0;
}

int inet_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int err = 0;

	/* SHUT_RD, SHUT_WR, SHUT_RDWR (0, 1, 2) become the bits 1, 2, 3. */
	how++;
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;
	/* Linux's inet_shutdown: a connection still in its handshake
	 * (SYN_RECV too: a simultaneous open) is being disconnected. */
	if (sock->state == SS_CONNECTING)
		sock->state = sk->state == TCP_SYN_SENT ||
			      sk->state == TCP_SYN_RECV ||
			      sk->state == TCP_CLOSE
			      ? SS_DISCONNECTING : SS_CONNECTED;
	switch (sk->state) {
	case TCP_CLOSE:
		/*
		 * Linux answers ENOTCONN but still records the shutdown, so
		 * that pollers of an unconnected UDP socket see POLLHUP.
		 */
		err = -ENOTCONN;
		/* fall through */
	default:
		sk->shutdown |= (uint8_t)how;
		if (sk->prot->shutdown)
			sk->prot->shutdown(sk, how);
		break;
	}
	sk_state_change(sk);
	return err;
}

/* A devinet request on a copy of the caller's struct ifreq, copied back
 * only for a getter that succeeded (Linux's get_user_ifreq and
 * put_user_ifreq around devinet_ioctl). */
static int inet_ifreq_ioctl(struct sock *sk, unsigned long cmd, void *arg,
			    bool copyout)
{
	struct ifreq ifr;
	int rc;

	if (!arg)
		return -EFAULT;
	memcpy(&ifr, arg, sizeof(ifr));
	rc = devinet_ioctl(sk->st, cmd, &ifr);
	if (rc == 0 && copyout)
		memcpy(arg, &ifr, sizeof(ifr));
	return rc;
}

int inet_ioctl(struct socket *sock, unsigned long cmd, void *arg)
{
	struct sock *sk = sock->sk;
	int karg = 0;
	int rc;

	/* As Linux's inet_ioctl: the interface address requests go to
	 * devinet_ioctl, the rest to the protocol, whose "not mine"
	 * (-ENOIOCTLCMD) sends the device requests on (us_ioctl). */
	switch (cmd) {
	case SIOCGIFADDR:
	case SIOCGIFBRDADDR:
	case SIOCGIFNETMASK:
	case SIOCGIFDSTADDR:
	case SIOCGIFPFLAGS:
		return inet_ifreq_ioctl(sk, cmd, arg, true);
	case SIOCSIFADDR:
	case SIOCSIFBRDADDR:
	case SIOCSIFNETMASK:
	case SIOCSIFDSTADDR:
	case SIOCSIFPFLAGS:
	case SIOCSIFFLAGS:
		return inet_ifreq_ioctl(sk, cmd, arg, false);
	default:
		break;
	}
	if (!sk->prot->ioctl)
		return -ENOIOCTLCMD;
	rc = sk->prot->ioctl(sk, cmd, &karg);
	if (rc < 0)
		return rc;
	if (!arg)
		return -EFAULT;
	memcpy(arg, &karg, sizeof(karg));
	return 0;
}

int inet_setsockopt(struct socket *sock, int level, int optname,
		    const void *optval, socklen_t optlen)
{
	struct sock *sk = sock->sk;

	if (level == SOL_SOCKET)
		return sock_setsockopt(sk, optname, optval, optlen);
	if (level == IPPROTO_IP) {
		int rc = ip_setsockopt(sk, optname, optval, optlen);

		/* TCP's segments make room for new IP options at once
		 * (Linux's icsk_sync_mss after icsk_ext_hdr_len). */
		if (rc == 0 && optname == IP_OPTIONS && sk->type == SOCK_STREAM)
			tcp_update_mss(tcp_sk(sk));
		return rc;
	}
	if (sk->prot->setsockopt)
		return sk->prot->setsockopt(sk, level, optname, optval, optlen);
	return -ENOPROTOOPT;
}

int inet_getsockopt(struct socket *sock, int level, int optname, void *optval,
		    socklen_t *optlen)
{
	struct sock *sk = sock->sk;

	if (level == SOL_SOCKET)
		return sock_getsockopt(sk, optname, optval, optlen);
	if (level == IPPROTO_IP)
		return ip_getsockopt(sk, optname, optval, optlen);
	if (level == sk->protocol)
		return sk->prot->getsockopt ? sk->prot->getsockopt(sk, level,
					      optname, optval, optlen)
					    : -ENOPROTOOPT;
	/*
	 * Any other level falls through to Linux's ip_getsockopt, which
	 * answers EOPNOTSUPP, where ip_setsockopt answers ENOPROTOOPT.
	 */
	return -EOPNOTSUPP;
}

/* Linux's sock_writeable(): a datagram socket is writable while less than
 * half its send buffer is in flight. */
static bool sock_writeable(const struct sock *sk)
{
	return sk->wmem_alloc < sk->sndbuf / 2;
}

uint32_t datagram_poll(struct socket *sock)
{
	struct sock *sk = sock->sk;
	uint32_t mask = 0;

	if (sk->err || sock_errors_queued(sk))
		mask |= POLLERR;
	if (sk->shutdown & RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (sk->shutdown == SHUTDOWN_MASK)
		mask |= POLLHUP;
	if (!skb_queue_empty(&sk->receive_queue))
		mask |= POLLIN | POLLRDNORM;
	if (sock_writeable(sk))
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return mask;
}

static ssize_t inet_sendmsg(struct socket *sock, const struct msghdr *msg,
			    size_t len, int flags)
{
	struct sock *sk = sock->sk;

	ssize_t rc;

	/* Linux's inet_sendmsg: no free ephemeral port is EAGAIN at once,
	 * blocking or not (udp_lib_get_port fails, inet_autobind). */
	if (!sk->num && inet_autobind(sk) < 0)
		return -EAGAIN_NOWAIT;
	rc = sk->prot->sendmsg(sk, msg, len, flags);
	/* No room in the send buffer (Linux's sock_alloc_send_pskb marks
	 * it for POLL_OUT, SOCKWQ_ASYNC_NOSPACE). */
	if (rc == -EAGAIN)
		sock_set_nospace(sock);
	return rc;
}

static ssize_t inet_recvmsg(struct socket *sock, struct msghdr *msg,
			    size_t len, int flags)
{
	int addr_len = 0;
	int rc = sock->sk->prot->recvmsg(sock->sk, msg, len, flags, &addr_len);

	if (rc >= 0 && msg->msg_name)
		msg->msg_namelen = (socklen_t)addr_len;
	return rc;
}

static int sock_no_listen(struct socket *sock, int backlog)
{
	return -EOPNOTSUPP;
}

static int sock_no_accept(struct socket *sock, struct socket *newsock,
			  int flags)
{
	return -EOPNOTSUPP;
}

const struct proto_ops inet_dgram_ops = {
	.family = AF_INET,
	.release = inet_release,
	.bind = inet_bind,
	.connect = inet_dgram_connect,
	.accept = sock_no_accept,
	.getname = inet_getname,
	.poll = datagram_poll,
	.ioctl = inet_ioctl,
	.listen = sock_no_listen,
	.shutdown = inet_shutdown,
	.setsockopt = inet_setsockopt,
	.getsockopt = inet_getsockopt,
	.sendmsg = inet_sendmsg,
	.recvmsg = inet_recvmsg,
};

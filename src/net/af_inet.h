/*
 * af_inet.h - the AF_INET family: creating INET sockets and the socket
 * operations shared by its protocols (Linux's net/ipv4/af_inet.c).
 *
 * Call chain: sock_create -> inet_create picks the protocol by type and
 * number (inetsw), allocates its sock and installs the family's proto_ops
 * (inet_dgram_ops for UDP); the ops then call into sk->prot.
 */
#ifndef US_NET_AF_INET_H
#define US_NET_AF_INET_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

struct socket;
struct sock;
struct ustack;

extern const struct proto_ops inet_dgram_ops;

/* Create the protocol sock under sock (sock->type set). 0 or -errno. */
int inet_create(struct socket *sock, int protocol);
/* Bind an unbound sock to an ephemeral port. 0 or -EAGAIN. */
int inet_autobind(struct sock *sk);
/* Validate a user's sockaddr_in (length, family). 0 or -errno. */
int inet_check_sockaddr(const struct sockaddr *uaddr, int len);

/* Shared pieces of the proto_ops, for other INET types. */
int inet_release(struct socket *sock);
int inet_bind(struct socket *sock, const struct sockaddr *uaddr,
	      socklen_t len);
int inet_getname(struct socket *sock, struct sockaddr *uaddr, socklen_t *len,
		 int peer);
int inet_shutdown(struct socket *sock, int how);
int inet_ioctl(struct socket *sock, unsigned long cmd, void *arg);
int inet_setsockopt(struct socket *sock, int level, int optname,
		    const void *optval, socklen_t optlen);
int inet_getsockopt(struct socket *sock, int level, int optname, void *optval,
		    socklen_t *optlen);
uint32_t datagram_poll(struct socket *sock);

/* The IPPROTO_IP level options (IP_TOS, IP_TTL, ...). */
int ip_setsockopt(struct sock *sk, int optname, const void *optval,
		  socklen_t optlen);
int ip_getsockopt(struct sock *sk, int optname, void *optval,
		  socklen_t *optlen);

#endif

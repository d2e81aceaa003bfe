/*
 * packetdrill_so.c - libustack-packetdrill.so, the plug-in through which
 * packetdrill (--so_filename=...) drives one ustack instance.
 *
 * packetdrill dlopen()s the library and calls packetdrill_interface_init(),
 * which fills struct packetdrill_interface with the functions below. Every
 * system call of a script becomes the us_* call of the same name; every
 * packet the script sends enters the stack on an l3pipe device
 * (netdev_send), and every packet the stack sends is taken from that device
 * (netdev_receive). Time is virtual: packetdrill reads it with
 * gettimeofday and moves it with usleep, and the stack's timers fire at
 * exactly their deadlines on the way, so a run is deterministic.
 *
 * Threads. packetdrill runs a blocking call (a read that waits for data, an
 * accept, a connect) in a thread of its own while its main thread injects
 * packets and moves time. The blocked us_* call sleeps on its socket with
 * the core lock released; an injected packet wakes it. Before virtual time
 * moves on, the main thread lets every thread that is inside a call here
 * and runnable finish what it is doing (pd_settle), so what a woken call
 * sends is stamped with the time it was woken at, as it would be on Linux.
 * (A blocking call's own timeout - poll's, SO_RCVTIMEO - still runs in real
 * time: the socket level waits on the monotonic clock.)
 *
 * --so_flags is a comma-separated list:
 *   addr=A.B.C.D[/LEN]  the local address (packetdrill's --local_ip);
 *                       default 192.168.0.1/24
 *   mtu=N               the device's MTU (default 1500)
 *   seed=N              the instance's random seed (default 1)
 *   log=N               ustack's log level, 0..4 (default 0)
 *   pcap=PATH           capture every packet in and out (raw IPv4)
 *   counters            print the stack's counters to stderr at the end
 *   net.ipv4.NAME=V     set a tunable (ustack_sysctl_set) after the
 *                       instance is made; run.sh passes the ones
 *                       defaults.sh sets on Linux, a comma in a value as
 *                       ':' (tcp_fastopen_key's two keys). A knob ustack does not
 *                       have is noted on stderr and ignored (defaults.sh
 *                       documents what ustack does instead); a bad value
 *                       fails the run
 *
 * This file is not part of libustack: the Makefile links it with the
 * library objects into its own shared object.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "dev/l3pipe.h"
#include "dev/netdev.h"
#include "dev/pcap.h"
#include "net/ipv4.h"
#include "socket/socket.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

/*
 * The interface, declared from its documented layout (the README of the
 * prebuilt packetdrill): the members in this order, each function taking
 * the instance first.
 */
struct packetdrill_interface {
	void *userdata;
	void (*free)(void *userdata);
	int (*socket)(void *userdata, int domain, int type, int protocol);
	int (*bind)(void *userdata, int sockfd, const struct sockaddr *addr,
		    socklen_t addrlen);
	int (*listen)(void *userdata, int sockfd, int backlog);
	int (*accept)(void *userdata, int sockfd, struct sockaddr *addr,
		      socklen_t *addrlen);
	int (*connect)(void *userdata, int sockfd, const struct sockaddr *addr,
		       socklen_t addrlen);
	ssize_t (*read)(void *userdata, int fd, void *buf, size_t count);
	ssize_t (*readv)(void *userdata, int fd, const struct iovec *iov,
			 int iovcnt);
	ssize_t (*recv)(void *userdata, int sockfd, void *buf, size_t len,
			int flags);
	ssize_t (*recvfrom)(void *userdata, int sockfd, void *buf, size_t len,
			    int flags, struct sockaddr *src_addr,
			    socklen_t *addrlen);
	ssize_t (*recvmsg)(void *userdata, int sockfd, struct msghdr *msg,
			   int flags);
	ssize_t (*write)(void *userdata, int fd, const void *buf, size_t count);
	ssize_t (*writev)(void *userdata, int fd, const struct iovec *iov,
			  int iovcnt);
	ssize_t (*send)(void *userdata, int sockfd, const void *buf, size_t len,
			int flags);
	ssize_t (*sendto)(void *userdata, int sockfd, const void *buf,
			  size_t len, int flags, const struct sockaddr *dest_addr,
			  socklen_t addrlen);
	ssize_t (*sendmsg)(void *userdata, int sockfd, const struct msghdr *msg,
			   int flags);
	int (*fcntl)(void *userdata, int fd, int cmd, ...);
	int (*ioctl)(void *userdata, int fd, unsigned long request, ...);
	int (*close)(void *userdata, int fd);
	int (*shutdown)(void *userdata, int sockfd, int how);
	int (*getsockopt)(void *userdata, int sockfd, int level, int optname,
			  void *optval, socklen_t *optlen);
	int (*setsockopt)(void *userdata, int sockfd, int level, int optname,
			  const void *optval, socklen_t optlen);
	int (*poll)(void *userdata, struct pollfd *fds, nfds_t nfds,
		    int timeout);
	int (*netdev_send)(void *userdata, const void *buf, size_t count);
	int (*netdev_receive)(void *userdata, void *buf, size_t *count,
			      long long *time_usecs);
	int (*usleep)(void *userdata, useconds_t usec);
	int (*gettimeofday)(void *userdata, struct timeval *tv,
			    struct timezone *tz);
	int (*epoll_create)(void *userdata, int size);
	int (*epoll_ctl)(void *userdata, int epfd, int op, int fd,
			 struct epoll_event *event);
	int (*epoll_wait)(void *userdata, int epfd, struct epoll_event *events,
			  int maxevents, int timeout);
	int (*pipe)(void *userdata, int pipefd[2]);
	int (*splice)(void *userdata, int fd_in, loff_t *off_in, int fd_out,
		      loff_t *off_out, size_t len, unsigned int flags);
};

void packetdrill_interface_init(const char *flags,
				struct packetdrill_interface *ifc);

/* Where virtual time starts: any value works; a round one reads well in
 * captures and traces. */
#define PD_EPOCH_US (1000000ULL * US_USEC_PER_SEC)
/*
 * packetdrill waits for an event by sleeping until just before it and then
 * spinning on gettimeofday. In virtual time a spin would never end, so a
 * run of this many gettimeofday calls with nothing else between them counts
 * as spinning, and each further call moves the clock one microsecond.
 */
#define PD_SPIN_READS 16
/* netdev_receive gives up when the next packet is further away than this
 * (longer than any TCP timer, keepalive's two hours included). */
#define PD_RECEIVE_HORIZON_US (3ULL * 3600 * US_USEC_PER_SEC)
/* Threads that may be inside a call at once (packetdrill uses two). */
#define PD_MAX_THREADS 8
/* pd_settle waits at most this long (real time) for woken calls. */
#define PD_SETTLE_MAX_US 200000

struct pd_thread {
	pid_t tid;
	int depth;                /* nested calls of this thread */
};

struct pd_stack {
	struct ustack *st;
	struct us_clock clock;    /* virtual; moved under the core lock */
	struct net_device *dev;
	unsigned int time_reads;  /* consecutive gettimeofday calls */
	bool counters;

	pthread_mutex_t calls_lock;
	struct pd_thread threads[PD_MAX_THREADS];
};

struct pd_config {
	uint32_t addr;            /* network order */
	int prefix_len;
	unsigned int mtu;
	uint64_t seed;
	int log_level;
	const char *pcap_path;
	bool counters;
	int nsysctl;
	const char *sysctl_name[32], *sysctl_value[32];
};

static pid_t pd_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* ---- threads inside a call ---------------------------------------------- */

/* Note that the calling thread is inside a call (and may block there). */
static void pd_enter(struct pd_stack *pd)
{
	pid_t tid = pd_gettid();
	struct pd_thread *free_slot = NULL;

	pthread_mutex_lock(&pd->calls_lock);
	for (int i = 0; i < PD_MAX_THREADS; i++) {
		struct pd_thread *t = &pd->threads[i];

		if (t->depth && t->tid == tid) {
			t->depth++;
			pthread_mutex_unlock(&pd->calls_lock);
			return;
		}
		if (!t->depth && !free_slot)
			free_slot = t;
	}
	/* More threads than slots only loses the settling for the extra. */
	if (free_slot) {
		free_slot->tid = tid;
		free_slot->depth = 1;
	}
	pthread_mutex_unlock(&pd->calls_lock);
}

static void pd_leave(struct pd_stack *pd)
{
	pid_t tid = pd_gettid();

	pthread_mutex_lock(&pd->calls_lock);
	for (int i = 0; i < PD_MAX_THREADS; i++) {
		struct pd_thread *t = &pd->threads[i];

		if (t->depth && t->tid == tid) {
			t->depth--;
			break;
		}
	}
	pthread_mutex_unlock(&pd->calls_lock);
}

/* The scheduler state of one of our threads ('R' runnable, 'S' asleep,
 * ...), from /proc; '?' if it cannot be read. */
static char pd_thread_state(pid_t tid)
{
	char path[64], buf[512];
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	/* "tid (comm) S ...": the name may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Is another thread inside a call and still running (not asleep)?
 * *others is set when any other thread is inside a call at all. */
static bool pd_others_running(struct pd_stack *pd, bool *others)
{
	pid_t self = pd_gettid();
	bool running = false;

	*others = false;
	pthread_mutex_lock(&pd->calls_lock);
	for (int i = 0; i < PD_MAX_THREADS; i++) {
		const struct pd_thread *t = &pd->threads[i];
		char s;

		if (!t->depth || t->tid == self)
			continue;
		*others = true;
		s = pd_thread_state(t->tid);
		if (s != 'S' && s != 'D' && s != '?')
			running = true;
	}
	pthread_mutex_unlock(&pd->calls_lock);
	return running;
}

/*
 * Let calls that the engine woke (a blocked read that got its data, a
 * connect whose SYN-ACK came) run until they return or block again, before
 * the caller moves virtual time on. Called without the core lock, which the
 * woken calls need. A thread is settled once it was seen asleep twice in a
 * row with a yield between.
 */
static void pd_settle(struct pd_stack *pd)
{
	struct timespec pause = { 0, 20000 };
	int quiet = 0;
	bool others;

	for (long waited = 0; waited < PD_SETTLE_MAX_US && quiet < 2;) {
		if (pd_others_running(pd, &others)) {
			quiet = 0;
			nanosleep(&pause, NULL);
			waited += pause.tv_nsec / 1000;
			continue;
		}
		if (!others)
			return;
		quiet++;
		sched_yield();
	}
}

/* ---- virtual time -------------------------------------------------------- */

static void pd_lock(struct pd_stack *pd)
{
	us_core_lock(pd->st);
	us_engine_begin(pd->st);
}

static void pd_unlock(struct pd_stack *pd)
{
	us_core_unlock(pd->st);
}

/* Move the clock to t (never back) and run what is due by then. Core lock
 * held. */
static void pd_step_to(struct pd_stack *pd, us_time_t t)
{
	us_clock_set(&pd->clock, t);
	us_engine_begin(pd->st);
	us_engine_run_pending(pd->st);
}

/*
 * The next engine deadline, if it is at or before `limit`; else
 * US_TIME_NEVER. Core lock held.
 */
static us_time_t pd_next_deadline(struct pd_stack *pd, us_time_t limit)
{
	us_time_t next = us_engine_next_event(pd->st);

	if (next == US_TIME_NEVER || next > limit)
		return US_TIME_NEVER;
	return next < pd->st->now ? pd->st->now : next;
}

/*
 * Advance virtual time to `target`, stopping at every timer deadline on
 * the way, so that each timer fires at its own time and what it sends
 * leaves at that time; calls woken on the way settle before time moves on.
 */
static void pd_advance(struct pd_stack *pd, us_time_t target)
{
	for (;;) {
		us_time_t next;

		pd_settle(pd);
		pd_lock(pd);
		next = pd_next_deadline(pd, target);
		if (next == US_TIME_NEVER) {
			pd_step_to(pd, target);
			pd_unlock(pd);
			break;
		}
		pd_step_to(pd, next);
		pd_unlock(pd);
	}
	pd_settle(pd);
}

static int pd_usleep(void *ud, useconds_t usec)
{
	struct pd_stack *pd = ud;
	us_time_t target;

	pd_lock(pd);
	pd->time_reads = 0;
	target = pd->st->now + usec;
	pd_unlock(pd);
	pd_advance(pd, target);
	return 0;
}

static int pd_gettimeofday(void *ud, struct timeval *tv, struct timezone *tz)
{
	struct pd_stack *pd = ud;
	us_time_t now;

	(void)tz;
	pd_lock(pd);
	if (++pd->time_reads > PD_SPIN_READS)
		pd_step_to(pd, pd->st->now + 1);
	now = pd->st->now;
	pd_unlock(pd);
	if (tv) {
		tv->tv_sec = (time_t)(now / US_USEC_PER_SEC);
		tv->tv_usec = (suseconds_t)(now % US_USEC_PER_SEC);
	}
	return 0;
}

/* Anything but reading the clock ends a spin. */
static void pd_not_spinning(struct pd_stack *pd)
{
	pd_lock(pd);
	pd->time_reads = 0;
	pd_unlock(pd);
}

/* ---- the device ---------------------------------------------------------- */

static int pd_netdev_send(void *ud, const void *buf, size_t count)
{
	struct pd_stack *pd = ud;
	const uint8_t *p = buf;
	int err;

	if (count < 1 || (p[0] >> 4) != 4) {
		/* ustack speaks IPv4 only, so far. */
		errno = EAFNOSUPPORT;
		return -1;
	}
	pd_enter(pd);
	pd_lock(pd);
	pd->time_reads = 0;
	err = l3pipe_inject(pd->dev, buf, count);
	us_engine_run_pending(pd->st);
	pd_unlock(pd);
	pd_leave(pd);
	if (err < 0) {
		errno = -err;
		return -1;
	}
	return 0;
}

/* Take the next sent packet, if any, into buf. Core lock held. */
static bool pd_take_packet(struct pd_stack *pd, void *buf, size_t *count,
			   long long *time_usecs)
{
	struct sk_buff *skb = l3pipe_pop(pd->dev);
	size_t n;

	if (!skb)
		return false;
	n = skb->len < *count ? skb->len : *count;
	memcpy(buf, skb->data, n);
	*count = n;
	*time_usecs = (long long)skb->tstamp;
	skb_free(skb);
	return true;
}

/*
 * The next packet the stack sends. If none is waiting, virtual time runs
 * forward, timer by timer, until one is sent: packetdrill asks for an
 * outbound packet as soon as the script expects one, and checks the time
 * it left against the script. When nothing more will ever be sent (no
 * timer left, or none within PD_RECEIVE_HORIZON_US), *count is 0, which
 * packetdrill reports as an error.
 */
static int pd_netdev_receive(void *ud, void *buf, size_t *count,
			     long long *time_usecs)
{
	struct pd_stack *pd = ud;
	us_time_t horizon;
	bool got = false;

	pd_enter(pd);
	pd_lock(pd);
	pd->time_reads = 0;
	horizon = pd->st->now + PD_RECEIVE_HORIZON_US;
	pd_unlock(pd);
	for (;;) {
		us_time_t next;

		pd_lock(pd);
		got = pd_take_packet(pd, buf, count, time_usecs);
		pd_unlock(pd);
		if (got)
			break;
		/* A call that is still running may be about to send. */
		pd_settle(pd);
		pd_lock(pd);
		got = pd_take_packet(pd, buf, count, time_usecs);
		next = got ? US_TIME_NEVER : pd_next_deadline(pd, horizon);
		if (!got && next != US_TIME_NEVER)
			pd_step_to(pd, next);
		pd_unlock(pd);
		if (got || next == US_TIME_NEVER)
			break;
	}
	if (!got) {
		fprintf(stderr, "ustack: no packet will leave the stack: nothing "
			"is sent and no timer is due within %llu s\n",
			(unsigned long long)(PD_RECEIVE_HORIZON_US /
					     US_USEC_PER_SEC));
		*count = 0;
		pd_lock(pd);
		*time_usecs = (long long)pd->st->now;
		pd_unlock(pd);
	}
	pd_leave(pd);
	return 0;
}

/* ---- the socket calls ----------------------------------------------------- */

/* Wrap one us_* call: mark the thread busy, end any clock spin. */
#define PD_CALL(ud, type, call)                                          \
	do {                                                             \
		struct pd_stack *pd_ = (ud);                             \
		type rc_;                                                \
		pd_enter(pd_);                                           \
		pd_not_spinning(pd_);                                    \
		rc_ = (call);                                            \
		{                                                        \
			int saved_ = errno;                              \
			pd_leave(pd_);                                   \
			errno = saved_;                                  \
		}                                                        \
		return rc_;                                              \
	} while (0)

static int pd_socket(void *ud, int domain, int type, int protocol)
{
	struct pd_stack *pd = ud;

	if (domain != AF_INET) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	PD_CALL(ud, int, us_socket_on(pd->st, domain, type, protocol));
}

static int pd_bind(void *ud, int fd, const struct sockaddr *addr,
		   socklen_t len)
{
	PD_CALL(ud, int, us_bind(fd, addr, len));
}

static int pd_listen(void *ud, int fd, int backlog)
{
	PD_CALL(ud, int, us_listen(fd, backlog));
}

static int pd_accept(void *ud, int fd, struct sockaddr *addr,
		     socklen_t *addrlen)
{
	PD_CALL(ud, int, us_accept(fd, addr, addrlen));
}

static int pd_connect(void *ud, int fd, const struct sockaddr *addr,
		      socklen_t len)
{
	PD_CALL(ud, int, us_connect(fd, addr, len));
}

static ssize_t pd_read(void *ud, int fd, void *buf, size_t count)
{
	PD_CALL(ud, ssize_t, us_read(fd, buf, count));
}

static ssize_t pd_readv(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
	PD_CALL(ud, ssize_t, us_readv(fd, iov, iovcnt));
}

static ssize_t pd_recv(void *ud, int fd, void *buf, size_t len, int flags)
{
	PD_CALL(ud, ssize_t, us_recv(fd, buf, len, flags));
}

static ssize_t pd_recvfrom(void *ud, int fd, void *buf, size_t len, int flags,
			   struct sockaddr *addr, socklen_t *addrlen)
{
	PD_CALL(ud, ssize_t, us_recvfrom(fd, buf, len, flags, addr, addrlen));
}

static ssize_t pd_recvmsg(void *ud, int fd, struct msghdr *msg, int flags)
{
	PD_CALL(ud, ssize_t, us_recvmsg(fd, msg, flags));
}

static ssize_t pd_write(void *ud, int fd, const void *buf, size_t count)
{
	PD_CALL(ud, ssize_t, us_write(fd, buf, count));
}

static ssize_t pd_writev(void *ud, int fd, const struct iovec *iov,
			 int iovcnt)
{
	PD_CALL(ud, ssize_t, us_writev(fd, iov, iovcnt));
}

static ssize_t pd_send(void *ud, int fd, const void *buf, size_t len,
		       int flags)
{
	PD_CALL(ud, ssize_t, us_send(fd, buf, len, flags));
}

static ssize_t pd_sendto(void *ud, int fd, const void *buf, size_t len,
			 int flags, const struct sockaddr *addr,
			 socklen_t addrlen)
{
	PD_CALL(ud, ssize_t, us_sendto(fd, buf, len, flags, addr, addrlen));
}

static ssize_t pd_sendmsg(void *ud, int fd, const struct msghdr *msg,
			  int flags)
{
	PD_CALL(ud, ssize_t, us_sendmsg(fd, msg, flags));
}

/* fcntl's third argument is an int or a pointer; a long carries both. */
static int pd_fcntl(void *ud, int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	PD_CALL(ud, int, us_fcntl(fd, cmd, arg));
}

static int pd_ioctl(void *ud, int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	PD_CALL(ud, int, us_ioctl(fd, request, arg));
}

static int pd_close(void *ud, int fd)
{
	PD_CALL(ud, int, us_close(fd));
}

static int pd_shutdown(void *ud, int fd, int how)
{
	PD_CALL(ud, int, us_shutdown(fd, how));
}

static int pd_getsockopt(void *ud, int fd, int level, int optname,
			 void *optval, socklen_t *optlen)
{
	PD_CALL(ud, int, us_getsockopt(fd, level, optname, optval, optlen));
}

static int pd_setsockopt(void *ud, int fd, int level, int optname,
			 const void *optval, socklen_t optlen)
{
	PD_CALL(ud, int, us_setsockopt(fd, level, optname, optval, optlen));
}

static int pd_poll(void *ud, struct pollfd *fds, nfds_t nfds, int timeout)
{
	PD_CALL(ud, int, us_poll(fds, nfds, timeout));
}

static int pd_epoll_create(void *ud, int size)
{
	PD_CALL(ud, int, us_epoll_create(size));
}

static int pd_epoll_ctl(void *ud, int epfd, int op, int fd,
			struct epoll_event *event)
{
	PD_CALL(ud, int, us_epoll_ctl(epfd, op, fd, event));
}

static int pd_epoll_wait(void *ud, int epfd, struct epoll_event *events,
			 int maxevents, int timeout)
{
	PD_CALL(ud, int, us_epoll_wait(epfd, events, maxevents, timeout));
}

/* Pipes and splice are not sockets; ustack has neither. */
static int pd_pipe(void *ud, int pipefd[2])
{
	(void)ud;
	(void)pipefd;
	errno = ENOSYS;
	return -1;
}

static int pd_splice(void *ud, int fd_in, loff_t *off_in, int fd_out,
		     loff_t *off_out, size_t len, unsigned int flags)
{
	(void)ud;
	(void)fd_in;
	(void)off_in;
	(void)fd_out;
	(void)off_out;
	(void)len;
	(void)flags;
	errno = ENOSYS;
	return -1;
}

/* ---- the instance ---------------------------------------------------------- */

/* The instance a script's `%{ }%` code events read their options from
 * (packetdrill runs one at a time): tests/packetdrill/lib/pd_preload.c
 * sends their getsockopt() calls here. */
static struct pd_stack *pd_code_instance;

int packetdrill_code_getsockopt(int fd, int level, int optname, void *optval,
				socklen_t *optlen);
int packetdrill_code_getsockopt(int fd, int level, int optname, void *optval,
				socklen_t *optlen)
{
	if (!pd_code_instance) {
		errno = EBADF;
		return -1;
	}
	return pd_getsockopt(pd_code_instance, fd, level, optname, optval,
			     optlen);
}

static void pd_free(void *ud)
{
	struct pd_stack *pd = ud;

	if (!pd)
		return;
	if (pd == pd_code_instance)
		pd_code_instance = NULL;
	if (pd->counters)
		ustack_print_counters(pd->st, stderr);
	ustack_destroy(pd->st);
	pthread_mutex_destroy(&pd->calls_lock);
	free(pd);
}

/* "A.B.C.D" or "A.B.C.D/LEN". */
static int pd_parse_addr(const char *s, struct pd_config *cfg)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr a;

	if (n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	cfg->addr = a.s_addr;
	if (slash) {
		char *end;
		long len = strtol(slash + 1, &end, 10);

		if (*end || len < 1 || len > 32)
			return -1;
		cfg->prefix_len = (int)len;
	}
	return 0;
}

static int pd_parse_one(char *opt, struct pd_config *cfg)
{
	char *val = strchr(opt, '=');

	if (val)
		*val++ = '\0';
	if (strcmp(opt, "counters") == 0 && !val) {
		cfg->counters = true;
		return 0;
	}
	if (!val || !*val)
		return -1;
	if (strncmp(opt, "net.", 4) == 0) {
		if (cfg->nsysctl == 32)
			return -1;
		cfg->sysctl_name[cfg->nsysctl] = opt;
		cfg->sysctl_value[cfg->nsysctl++] = val;
		for (char *c = val; (c = strchr(c, ':')) != NULL; c++)
			*c = ',';
		return 0;
	}
	if (strcmp(opt, "addr") == 0)
		return pd_parse_addr(val, cfg);
	if (strcmp(opt, "mtu") == 0) {
		cfg->mtu = (unsigned int)strtoul(val, NULL, 10);
		return cfg->mtu >= 68 && cfg->mtu <= 65535 ? 0 : -1;
	}
	if (strcmp(opt, "seed") == 0) {
		cfg->seed = strtoull(val, NULL, 0);
		return 0;
	}
	if (strcmp(opt, "log") == 0) {
		cfg->log_level = atoi(val);
		return 0;
	}
	if (strcmp(opt, "pcap") == 0) {
		cfg->pcap_path = val;
		return 0;
	}
	return -1;
}

/* Parse --so_flags into cfg; `buf` keeps the strings cfg points into. */
static int pd_parse_flags(const char *flags, char *buf, size_t size,
			  struct pd_config *cfg)
{
	char *save = NULL, *opt;

	cfg->addr = htonl(0xc0a80001);   /* 192.168.0.1 */
	cfg->prefix_len = 24;
	cfg->mtu = 1500;
	cfg->seed = 1;
	cfg->log_level = 0;
	if (!flags)
		return 0;
	if (strlen(flags) >= size)
		return -1;
	strcpy(buf, flags);
	for (opt = strtok_r(buf, ",", &save); opt;
	     opt = strtok_r(NULL, ",", &save)) {
		if (pd_parse_one(opt, cfg) < 0) {
			fprintf(stderr, "ustack: bad --so_flags option '%s' "
				"(want addr=A.B.C.D[/LEN], mtu=N, seed=N, "
				"log=N, pcap=PATH, counters, net.ipv4.NAME=V)\n", opt);
			return -1;
		}
	}
	return 0;
}

/* The device with the address, a default route through it, a capture. */
static int pd_attach_device(struct pd_stack *pd, const struct pd_config *cfg)
{
	struct ustack *st = pd->st;
	int err;

	pd->dev = l3pipe_create(st, "pd0", cfg->mtu);
	if (!pd->dev)
		return -errno;
	err = netdev_set_ipv4(pd->dev, cfg->addr, cfg->prefix_len);
	if (!err)
		err = ip_route_add(st, 0, 0, 0, pd->dev);
	if (!err && cfg->pcap_path) {
		struct pcap_writer *w = pcap_open(cfg->pcap_path,
						  PCAP_LINKTYPE_RAW, 65535);

		if (!w)
			return -errno;
		pcap_attach(w, pd->dev);
		pcap_close(w);
	}
	return err;
}

/* Later settings win: the script's own come after run.sh's defaults. */
static int pd_apply_sysctls(struct ustack *st, const struct pd_config *cfg)
{
	int i;

	for (i = 0; i < cfg->nsysctl; i++) {
		if (ustack_sysctl_set(st, cfg->sysctl_name[i],
				      cfg->sysctl_value[i]) == 0)
			continue;
		if (errno == ENOENT) {
			fprintf(stderr, "ustack: no sysctl %s, ignored\n",
				cfg->sysctl_name[i]);
			continue;
		}
		fprintf(stderr, "ustack: sysctl %s=%s: %s\n",
			cfg->sysctl_name[i], cfg->sysctl_value[i],
			strerror(errno));
		return -1;
	}
	return 0;
}

static struct pd_stack *pd_create(const char *flags)
{
	struct ustack_config ucfg;
	struct pd_config cfg;
	struct pd_stack *pd;
	char buf[4096];
	int err;

	memset(&cfg, 0, sizeof(cfg));
	if (pd_parse_flags(flags, buf, sizeof(buf), &cfg) < 0)
		return NULL;
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return NULL;
	pthread_mutex_init(&pd->calls_lock, NULL);
	pd->counters = cfg.counters;
	us_clock_init_virtual(&pd->clock, PD_EPOCH_US);
	ustack_config_init(&ucfg);
	ucfg.seed = cfg.seed;
	ucfg.log_level = cfg.log_level;
	ucfg.clock = &pd->clock;
	pd->st = ustack_create(&ucfg);
	if (!pd->st) {
		pthread_mutex_destroy(&pd->calls_lock);
		free(pd);
		return NULL;
	}
	ustack_set_default(pd->st);
	if (pd_apply_sysctls(pd->st, &cfg) < 0) {
		pd_free(pd);
		return NULL;
	}
	us_core_lock(pd->st);
	us_engine_begin(pd->st);
	err = pd_attach_device(pd, &cfg);
	pthread_mutex_unlock(&pd->st->lock);
	if (err < 0) {
		fprintf(stderr, "ustack: cannot set up the test device: %s\n",
			strerror(-err));
		pd_free(pd);
		return NULL;
	}
	return pd;
}

void packetdrill_interface_init(const char *flags,
				struct packetdrill_interface *ifc)
{
	struct pd_stack *pd = pd_create(flags);

	if (!pd) {
		/* packetdrill has no way to hear of a failed init. */
		fprintf(stderr, "ustack: packetdrill plug-in failed to start\n");
		exit(1);
	}
	memset(ifc, 0, sizeof(*ifc));
	ifc->userdata = pd;
	pd_code_instance = pd;
	ifc->free = pd_free;
	ifc->socket = pd_socket;
	ifc->bind = pd_bind;
	ifc->listen = pd_listen;
	ifc->accept = pd_accept;
	ifc->connect = pd_connect;
	ifc->read = pd_read;
	ifc->readv = pd_readv;
	ifc->recv = pd_recv;
	ifc->recvfrom = pd_recvfrom;
	ifc->recvmsg = pd_recvmsg;
	ifc->write = pd_write;
	ifc->writev = pd_writev;
	ifc->send = pd_send;
	ifc->sendto = pd_sendto;
	ifc->sendmsg = pd_sendmsg;
	ifc->fcntl = pd_fcntl;
	ifc->ioctl = pd_ioctl;
	ifc->close = pd_close;
	ifc->shutdown = pd_shutdown;
	ifc->getsockopt = pd_getsockopt;
	ifc->setsockopt = pd_setsockopt;
	ifc->poll = pd_poll;
	ifc->netdev_send = pd_netdev_send;
	ifc->netdev_receive = pd_netdev_receive;
	ifc->usleep = pd_usleep;
	ifc->gettimeofday = pd_gettimeofday;
	ifc->epoll_create = pd_epoll_create;
	ifc->epoll_ctl = pd_epoll_ctl;
	ifc->epoll_wait = pd_epoll_wait;
	ifc->pipe = pd_pipe;
	ifc->splice = pd_splice;
}

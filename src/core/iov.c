/*
 * iov.c - user iovec copies (see iov.h).
 */
#include "core/iov.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Walk the iovec from byte `off`, handing each piece to `fn`. */
static int iov_walk(const struct msghdr *msg, size_t off, size_t len,
		    void (*fn)(void *iov_base, size_t pos, size_t n, void *arg),
		    void *arg)
{
	size_t done = 0;

	for (size_t i = 0; i < msg->msg_iovlen && done < len; i++) {
		size_t n = msg->msg_iov[i].iov_len;
		uint8_t *base = msg->msg_iov[i].iov_base;

		if (off >= n) {
			off -= n;
			continue;
		}
		n -= off;
		if (n > len - done)
			n = len - done;
		if (!base)
			return -EFAULT;
		fn(base + off, done, n, arg);
		off = 0;
		done += n;
	}
	return 0;
}

static void piece_from(void *iov_base, size_t pos, size_t n, void *arg)
{
	memcpy((uint8_t *)arg + pos, iov_base, n);
}

static void piece_to(void *iov_base, size_t pos, size_t n, void *arg)
{
	memcpy(iov_base, (const uint8_t *)arg + pos, n);
}

int iov_copy_from(void *dst, const struct msghdr *msg, size_t off, size_t len)
{
	return iov_walk(msg, off, len, piece_from, dst);
}

int iov_copy_to(const struct msghdr *msg, size_t off, const void *src,
		size_t len)
{
	return iov_walk(msg, off, len, piece_to, (void *)src);
}

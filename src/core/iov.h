/*
 * iov.h - copying between a user's scatter/gather buffers (a msghdr's
 * iovec) and the stack's own memory, from any byte offset into the iovec.
 * The protocols' sendmsg and recvmsg use these, so every copy in and out of
 * user memory is in one place.
 */
#ifndef US_CORE_IOV_H
#define US_CORE_IOV_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * Copy len bytes that start `off` bytes into msg's buffers to dst.
 * Returns 0, or -EFAULT for a NULL buffer that would be read (the only bad
 * pointer that can be told from a good one in user space).
 */
int iov_copy_from(void *dst, const struct msghdr *msg, size_t off, size_t len);
/* Copy len bytes of src into msg's buffers from `off` on. 0 or -EFAULT. */
int iov_copy_to(const struct msghdr *msg, size_t off, const void *src,
		size_t len);

#endif

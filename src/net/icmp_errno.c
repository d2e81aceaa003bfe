/*
 * icmp_errno.c - ICMP type/code to errno (see icmp_errno.h).
 */
#include "net/icmp_errno.h"

#include <errno.h>

#include "net/icmp.h"

static const struct {
	int err;
	bool fatal;
} unreach[] = {
	[0] = { ENETUNREACH, false },  /* net unreachable */
	[1] = { EHOSTUNREACH, false }, /* host unreachable */
	[2] = { ENOPROTOOPT, true },   /* protocol unreachable */
	[3] = { ECONNREFUSED, true },  /* port unreachable */
	[4] = { EMSGSIZE, false },     /* fragmentation needed */
	[5] = { EOPNOTSUPP, false },   /* source route failed */
	[6] = { ENETUNREACH, true },   /* net unknown */
	[7] = { EHOSTDOWN, true },     /* host unknown */
	[8] = { ENONET, true },        /* host isolated */
	[9] = { ENETUNREACH, true },   /* net administratively prohibited */
	[10] = { EHOSTUNREACH, true }, /* host administratively prohibited */
	[11] = { ENETUNREACH, false }, /* net unreachable for TOS */
	[12] = { EHOSTUNREACH, false },/* host unreachable for TOS */
	[13] = { EHOSTUNREACH, true }, /* communication prohibited */
	[14] = { EHOSTUNREACH, true }, /* host precedence violation */
	[15] = { EHOSTUNREACH, true }, /* precedence cut-off */
};

int icmp_err_convert(int type, int code, bool *fatal)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
		if (code >= 0 && code < (int)(sizeof(unreach) / sizeof(unreach[0]))) {
			*fatal = unreach[code].fatal;
			return unreach[code].err;
		}
		*fatal = false;
		return EHOSTUNREACH;
	case ICMP_PARAMETERPROB:
		*fatal = true;
		return EPROTO;
	case ICMP_TIME_EXCEEDED:
	default:
		*fatal = false;
		return EHOSTUNREACH;
	}
}

/* pystack.c - see pystack.h.  A placeholder until the reader lands: every
 * interpreter is reported as unreadable. */
#include "memtide/pystack.h"

#include <errno.h>
#include <stdio.h>

int pystack_open(int pid, struct pystack **out, char *why, size_t why_len)
{
	(void)pid;
	*out = NULL;
	if (why && why_len)
		snprintf(why, why_len, "reading Python stacks is not built yet");
	return -ENOTSUP;
}

const char *pystack_version(const struct pystack *r)
{
	(void)r;
	return "";
}

int pystack_sample(struct pystack *r, struct pystack_frame *frames, int max,
		   int *tid)
{
	(void)r;
	(void)frames;
	(void)max;
	if (tid)
		*tid = 0;
	return -ENOTSUP;
}

size_t pystack_memory(const struct pystack *r)
{
	(void)r;
	return 0;
}

void pystack_close(struct pystack *r)
{
	(void)r;
}

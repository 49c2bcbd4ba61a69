/* fuzz_marksock.c - marksock_parse on any datagram (memtided's marker socket
 * takes them from any local user): it refuses it or gives an event whose
 * label and outcome lie inside the buffer, and formatting that event gives
 * a datagram that parses to the same values. */
#include "fuzz.h"

#include "memtide/marksock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, again[MARKSOCK_MSG_MAX + 1];
	struct marksock_event ev, back;
	int n;

	if (size > MARKSOCK_MSG_MAX)
		return 0;
	/* marksock_parse writes a NUL at buf[len]: one byte more, as the
	 * socket's buffer has. */
	if (!(buf = malloc(size + 1)))
		return 0;
	memcpy(buf, data, size);
	if (marksock_parse(buf, size, &ev) == 0) {
		FUZZ_ASSERT(ev.label >= buf && ev.label <= buf + size);
		FUZZ_ASSERT(!ev.outcome || (ev.outcome >= buf && ev.outcome <= buf + size));
		n = marksock_format(again, &ev);
		if (n > 0 && marksock_parse(again, (size_t)n, &back) == 0) {
			FUZZ_ASSERT(back.kind == ev.kind && back.id == ev.id);
			FUZZ_ASSERT(strcmp(back.label, ev.label) == 0);
			FUZZ_ASSERT(back.rss == (ev.rss > 0 ? ev.rss : -1));
		}
	}
	free(buf);
	return 0;
}

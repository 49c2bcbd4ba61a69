/* budget.c - token buckets (see include/memtide/budget.h). */
#include "memtide/budget.h"

static double refill(double have, double per_s, double burst, double dt_s)
{
	have += per_s * dt_s;
	return have > burst ? burst : have;
}

int budget_take(struct budget *b, const struct budget_rate *r, int64_t now_ns, size_t len)
{
	if (!b->last_ns) {
		b->msgs = r->burst_msgs;
		b->bytes = r->burst_bytes;
	} else if (now_ns > b->last_ns) {
		double dt = (double)(now_ns - b->last_ns) / 1e9;

		b->msgs = refill(b->msgs, r->msgs_per_s, r->burst_msgs, dt);
		b->bytes = refill(b->bytes, r->bytes_per_s, r->burst_bytes, dt);
	}
	/* A clock that went backwards (it cannot: monotonic) or an equal
	 * reading refills nothing. */
	if (now_ns > b->last_ns)
		b->last_ns = now_ns;
	if (b->msgs < 1 || b->bytes < (double)len)
		return 0;
	b->msgs -= 1;
	b->bytes -= (double)len;
	return 1;
}

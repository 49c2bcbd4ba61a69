/* metrics.c - the Prometheus text page (see include/memtide/metrics.h). */
#include "memtide/metrics.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "memtide/procfs.h"

struct entry {
	int pid;
	uint64_t start_ticks;
	char *rule, *name, *script, *module, *unit; /* escaped, or NULL */
	int64_t rss_bytes, pss_bytes, limit_bytes;
	double cpu_seconds, start_time;
	int threads;
	double ended; /* Unix seconds, 0 while alive */
};

struct metrics {
	double grace_s;
	struct entry *v;
	size_t n, cap;
	/* Open addressing over v: slot holds index + 1, 0 is empty.  Entries
	 * are only removed in bulk (render), which rebuilds it. */
	size_t *slot;
	size_t nslot; /* a power of two, at least 2 * cap */
	double self_start; /* Unix seconds */
};

/* A growing output buffer; after a failed allocation every append is a
 * no-op and oom says so, so render checks once at the end. */
struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static int buf_room(struct buf *b, size_t more)
{
	if (b->oom)
		return 0;
	if (b->len + more + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + more + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return 0;
		}
		b->p = p;
		b->cap = cap;
	}
	return 1;
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (!buf_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void buf_printf(struct buf *b,
							      const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* The length of the valid UTF-8 sequence at s (1-4), or 0 when it is not
 * one: a stray continuation byte, a truncated or overlong sequence, a
 * surrogate or a code point above U+10FFFF. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

char *metrics_escape(const char *s)
{
	struct buf b = {0};
	const unsigned char *u = (const unsigned char *)(s ? s : "");

	buf_add(&b, "", 0); /* an empty string is still a string */
	while (*u) {
		size_t n;

		switch (*u) {
		case '\\':
			buf_add(&b, "\\\\", 2);
			u++;
			continue;
		case '"':
			buf_add(&b, "\\\"", 2);
			u++;
			continue;
		case '\n':
			buf_add(&b, "\\n", 2);
			u++;
			continue;
		}
		/* The string is NUL-terminated, so utf8_len never reads past
		 * it: a NUL fails the continuation test first. */
		n = utf8_len(u);
		if (n) {
			buf_add(&b, (const char *)u, n);
			u += n;
		} else {
			buf_add(&b, "\xef\xbf\xbd", 3);
			u++;
		}
	}
	if (b.oom) {
		free(b.p);
		errno = ENOMEM;
		return NULL;
	}
	return b.p;
}

static double clock_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int metrics_new(double grace_s, struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof *m);
	struct procfs_stat st;
	char buf[1024];
	long n;

	if (!m)
		return -ENOMEM;
	m->grace_s = grace_s;
	/* stat field 22 counts clock ticks on CLOCK_BOOTTIME. */
	n = procfs_read("/proc", getpid(), "stat", buf, sizeof buf);
	if (n > 0 && procfs_parse_stat(buf, (size_t)n, &st, NULL, 0) == 0)
		m->self_start = clock_s(CLOCK_REALTIME) -
				clock_s(CLOCK_BOOTTIME) +
				(double)st.start_ticks / (double)procfs_hz();
	*out = m;
	return 0;
}

static void entry_free_labels(struct entry *e)
{
	free(e->rule);
	free(e->name);
	free(e->script);
	free(e->module);
	free(e->unit);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		entry_free_labels(&m->v[i]);
	free(m->v);
	free(m->slot);
	free(m);
}

size_t metrics_count(const struct metrics *m)
{
	return m->n;
}

/* By pid alone: a process and the ended one whose pid it reuses share a
 * probe chain, so metrics_set() finds the one it replaces. */
static size_t hash(int pid)
{
	uint64_t h = (uint64_t)(unsigned)pid * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 20);
}

static void index_put(struct metrics *m, size_t i)
{
	size_t mask = m->nslot - 1;
	size_t k = hash(m->v[i].pid) & mask;

	while (m->slot[k])
		k = (k + 1) & mask;
	m->slot[k] = i + 1;
}

static int index_rebuild(struct metrics *m, size_t nslot)
{
	size_t *slot = calloc(nslot, sizeof *slot);

	if (!slot)
		return -ENOMEM;
	free(m->slot);
	m->slot = slot;
	m->nslot = nslot;
	for (size_t i = 0; i < m->n; i++)
		index_put(m, i);
	return 0;
}

/* The entry of (pid, start_ticks); with reused, failing that, the entry of
 * an earlier process with the same pid (which cannot be alive any more). */
static struct entry *find(struct metrics *m, int pid, uint64_t start_ticks,
			  int reused)
{
	struct entry *other = NULL;
	size_t mask, k;

	if (!m->nslot)
		return NULL;
	mask = m->nslot - 1;
	for (k = hash(pid) & mask; m->slot[k]; k = (k + 1) & mask) {
		struct entry *e = &m->v[m->slot[k] - 1];

		if (e->pid != pid)
			continue;
		if (e->start_ticks == start_ticks)
			return e;
		if (reused)
			other = e;
	}
	return other;
}

/* Replaces *dst by the escaped s when they differ; labels rarely change
 * (an exec), so the common case is one strcmp. */
static int set_label(char **dst, const char *s, int keep_null)
{
	char *e;

	if (!s || !*s) {
		if (keep_null) {
			free(*dst);
			*dst = NULL;
			return 0;
		}
		s = "";
	}
	if (*dst && strchr(s, '\\') == NULL && strchr(s, '"') == NULL &&
	    strchr(s, '\n') == NULL && strcmp(*dst, s) == 0)
		return 0;
	e = metrics_escape(s);
	if (!e)
		return -ENOMEM;
	free(*dst);
	*dst = e;
	return 0;
}

/* Removes the entries for which drop() holds, keeping order. */
static void compact(struct metrics *m, int (*drop)(const struct entry *, const void *),
		    const void *arg)
{
	size_t j = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (drop(&m->v[i], arg)) {
			entry_free_labels(&m->v[i]);
			continue;
		}
		m->v[j++] = m->v[i];
	}
	m->n = j;
}

int metrics_set(struct metrics *m, const struct metrics_proc *p)
{
	struct entry *e = find(m, p->pid, p->start_ticks, 1);
	int err = 0;

	if (e && e->start_ticks != p->start_ticks) {
		/* A process whose pid was reused: the new one takes its
		 * place, and its slot (the index hashes pids only). */
		entry_free_labels(e);
		memset(e, 0, sizeof *e);
		e->pid = p->pid;
		e->start_ticks = p->start_ticks;
	} else if (!e) {
		if (m->n == m->cap) {
			size_t cap = m->cap ? m->cap * 2 : 64;
			struct entry *v = realloc(m->v, cap * sizeof *v);

			if (!v)
				return -ENOMEM;
			m->v = v;
			m->cap = cap;
		}
		if (m->nslot < 2 * m->cap) {
			size_t nslot = m->nslot ? m->nslot : 128;

			while (nslot < 2 * m->cap)
				nslot *= 2;
			if ((err = index_rebuild(m, nslot)))
				return err;
		}
		e = &m->v[m->n];
		memset(e, 0, sizeof *e);
		e->pid = p->pid;
		e->start_ticks = p->start_ticks;
		m->n++;
		index_put(m, m->n - 1);
	}
	if ((err = set_label(&e->rule, p->rule, 0)) ||
	    (err = set_label(&e->name, p->name, 0)) ||
	    (err = set_label(&e->script, p->script, 1)) ||
	    (err = set_label(&e->module, p->module, 1)) ||
	    (err = set_label(&e->unit, p->unit, 1)))
		return err;
	e->rss_bytes = p->rss_bytes;
	e->pss_bytes = p->pss_bytes;
	e->limit_bytes = p->limit_bytes;
	e->cpu_seconds = p->cpu_seconds;
	e->threads = p->threads;
	e->start_time = p->start_time;
	e->ended = 0;
	return 0;
}

void metrics_end(struct metrics *m, int pid, uint64_t start_ticks, double now)
{
	struct entry *e = find(m, pid, start_ticks, 0);

	if (e && !e->ended)
		e->ended = now > 0 ? now : 1e-9;
}

static int drop_expired(const struct entry *e, const void *arg)
{
	const double *cutoff = arg;

	return e->ended && e->ended < *cutoff;
}

static void family(struct buf *b, const char *name, const char *type,
		   const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void labels(struct buf *b, const struct entry *e)
{
	/* rule and name are NULL only after a failed allocation. */
	buf_str(b, "{rule=\"");
	buf_str(b, e->rule ? e->rule : "");
	buf_printf(b, "\",pid=\"%d\",name=\"", e->pid);
	buf_str(b, e->name ? e->name : "");
	buf_str(b, "\"");
	if (e->script) {
		buf_str(b, ",script=\"");
		buf_str(b, e->script);
		buf_str(b, "\"");
	}
	if (e->module) {
		buf_str(b, ",module=\"");
		buf_str(b, e->module);
		buf_str(b, "\"");
	}
	if (e->unit) {
		buf_str(b, ",unit=\"");
		buf_str(b, e->unit);
		buf_str(b, "\"");
	}
	buf_str(b, "} ");
}

enum field { RSS, PSS, LIMIT, CPU, THREADS, START };

static void per_process(struct buf *b, const struct metrics *m, enum field f)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct entry *e = &m->v[i];
		const char *name = NULL;

		switch (f) {
		case RSS:
			name = "memtide_process_resident_memory_bytes";
			break;
		case PSS:
			if (e->pss_bytes < 0)
				continue;
			name = "memtide_process_pss_bytes";
			break;
		case LIMIT:
			if (e->limit_bytes <= 0)
				continue;
			name = "memtide_process_memory_limit_bytes";
			break;
		case CPU:
			name = "memtide_process_cpu_seconds_total";
			break;
		case THREADS:
			name = "memtide_process_threads";
			break;
		case START:
			name = "memtide_process_start_time_seconds";
			break;
		}
		buf_str(b, name);
		labels(b, e);
		switch (f) {
		case RSS:
			buf_printf(b, "%lld\n", (long long)e->rss_bytes);
			break;
		case PSS:
			buf_printf(b, "%lld\n", (long long)e->pss_bytes);
			break;
		case LIMIT:
			buf_printf(b, "%lld\n", (long long)e->limit_bytes);
			break;
		case CPU:
			buf_printf(b, "%.6f\n", e->cpu_seconds);
			break;
		case THREADS:
			buf_printf(b, "%d\n", e->threads);
			break;
		case START:
			buf_printf(b, "%.3f\n", e->start_time);
			break;
		}
	}
}

/* Open descriptors of this process: entries of /proc/self/fd but the one
 * the listing itself holds. */
static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	long n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static void self(struct buf *b, const struct metrics *m)
{
	long page = sysconf(_SC_PAGESIZE);
	long long vm_pages = 0, rss_pages = 0;
	struct rlimit rl;
	char statm[256];
	long n, fds;

	family(b, "process_cpu_seconds_total", "counter",
	       "Total user and system CPU time spent in seconds.");
	buf_printf(b, "process_cpu_seconds_total %.6f\n",
		   clock_s(CLOCK_PROCESS_CPUTIME_ID));
	n = procfs_read("/proc", getpid(), "statm", statm, sizeof statm);
	if (n > 0 && sscanf(statm, "%lld %lld", &vm_pages, &rss_pages) == 2) {
		family(b, "process_resident_memory_bytes", "gauge",
		       "Resident memory size in bytes.");
		buf_printf(b, "process_resident_memory_bytes %lld\n",
			   rss_pages * page);
		family(b, "process_virtual_memory_bytes", "gauge",
		       "Virtual memory size in bytes.");
		buf_printf(b, "process_virtual_memory_bytes %lld\n",
			   vm_pages * page);
	}
	if (m->self_start > 0) {
		family(b, "process_start_time_seconds", "gauge",
		       "Start time of the process since unix epoch in seconds.");
		buf_printf(b, "process_start_time_seconds %.3f\n", m->self_start);
	}
	if ((fds = open_fds()) >= 0) {
		family(b, "process_open_fds", "gauge",
		       "Number of open file descriptors.");
		buf_printf(b, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		family(b, "process_max_fds", "gauge",
		       "Maximum number of open file descriptors.");
		buf_printf(b, "process_max_fds %llu\n",
			   (unsigned long long)rl.rlim_cur);
	}
}

int metrics_render(struct metrics *m, const struct metrics_counters *c,
		   double now, char **out, size_t *len)
{
	struct buf b = {0};
	double cutoff = now - m->grace_s;
	size_t n0 = m->n, live = 0;
	int has_pss = 0, has_limit = 0;

	compact(m, drop_expired, &cutoff);
	if (m->n != n0 && index_rebuild(m, m->nslot) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		live += !m->v[i].ended;
		has_pss |= m->v[i].pss_bytes >= 0;
		has_limit |= m->v[i].limit_bytes > 0;
	}
	/* ~300 bytes a process and metric: one allocation for the page. */
	buf_room(&b, 2048 + m->n * 5 * 300);

	family(&b, "memtide_process_resident_memory_bytes", "gauge",
	       "Resident set size of a tracked process in bytes.");
	per_process(&b, m, RSS);
	if (has_pss) {
		family(&b, "memtide_process_pss_bytes", "gauge",
		       "Proportional set size of a tracked process in bytes.");
		per_process(&b, m, PSS);
	}
	if (has_limit) {
		family(&b, "memtide_process_memory_limit_bytes", "gauge",
		       "Memory limit (cgroup memory.max) over a tracked process in bytes.");
		per_process(&b, m, LIMIT);
	}
	family(&b, "memtide_process_cpu_seconds_total", "counter",
	       "User and system CPU time of a tracked process in seconds.");
	per_process(&b, m, CPU);
	family(&b, "memtide_process_threads", "gauge",
	       "Threads of a tracked process.");
	per_process(&b, m, THREADS);
	family(&b, "memtide_process_start_time_seconds", "gauge",
	       "Start time of a tracked process since unix epoch in seconds.");
	per_process(&b, m, START);

	family(&b, "memtide_tracked_processes", "gauge",
	       "Processes memtided is sampling now.");
	buf_printf(&b, "memtide_tracked_processes %zu\n", live);
	family(&b, "memtide_samples_taken_total", "counter",
	       "Samples taken since memtided started.");
	buf_printf(&b, "memtide_samples_taken_total %llu\n",
		   (unsigned long long)c->samples_taken);
	family(&b, "memtide_samples_written_total", "counter",
	       "Samples written to the database since memtided started.");
	buf_printf(&b, "memtide_samples_written_total %llu\n",
		   (unsigned long long)c->samples_written);
	family(&b, "memtide_samples_dropped_total", "counter",
	       "Samples dropped because the database could not keep up.");
	buf_printf(&b, "memtide_samples_dropped_total %llu\n",
		   (unsigned long long)c->samples_dropped);
	family(&b, "memtide_samples_missed_total", "counter",
	       "Samples not taken because memtided woke up too late (a busy machine).");
	buf_printf(&b, "memtide_samples_missed_total %llu\n",
		   (unsigned long long)c->samples_missed);
	family(&b, "memtide_processes_unseen_total", "counter",
	       "Children of tracked processes (children = yes) that ended before"
	       " memtided could read them.");
	buf_printf(&b, "memtide_processes_unseen_total %llu\n",
		   (unsigned long long)c->processes_unseen);
	family(&b, "memtide_markers_dropped_total", "counter",
	       "Markers dropped: over their sending process's budget, or too many queued.");
	buf_printf(&b, "memtide_markers_dropped_total %llu\n",
		   (unsigned long long)c->markers_dropped);
	family(&b, "memtide_metrics_clients_evicted_total", "counter",
	       "Connections to this page closed to make room: every slot was taken.");
	buf_printf(&b, "memtide_metrics_clients_evicted_total %llu\n",
		   (unsigned long long)c->clients_evicted);
	self(&b, m);

	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

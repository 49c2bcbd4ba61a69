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
	size_t grp; /* index in metrics.groups */
	char *rule, *name, *script, *module, *unit; /* escaped, or NULL */
	int64_t rss_bytes, pss_bytes, limit_bytes;
	double cpu_seconds, start_time;
	int threads;
	double ended; /* Unix seconds, 0 while alive */
};

/* A group of processes (metrics.h): its counters outlive its members. */
struct group {
	char *raw;   /* the name as given */
	char *label; /* bounded and escaped */
	double cpu_ended; /* seconds of its ended members */
	uint64_t exits[METRICS_NHOW];
	/* Sums over the live members, made at each render. */
	int64_t rss_bytes, pss_bytes, limit_bytes;
	size_t procs;
	int has_pss;
	double cpu_seconds;
};

struct metrics {
	double grace_s;
	int per_process;
	struct group *groups;
	size_t ngroups;
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

/* The value cut to METRICS_LABEL_MAX bytes, control characters (C0, DEL,
 * C1) made spaces and invalid UTF-8 made U+FFFD: whatever a process puts
 * in its argv, a label stays one short printable line. */
static char *bound(const char *s)
{
	static const char ellipsis[] = "\xe2\x80\xa6";
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	struct buf b = {0};
	size_t cut = 0;

	buf_add(&b, "", 0);
	while (*u) {
		size_t n = utf8_len(u);

		if (b.len + (n ? n : 3) <= METRICS_LABEL_MAX - (sizeof ellipsis - 1))
			cut = b.len + (n ? n : 3);
		if (n == 1 && (*u < 0x20 || *u == 0x7f))
			buf_add(&b, " ", 1);
		else if (n == 2 && u[0] == 0xc2 && u[1] < 0xa0)
			buf_add(&b, " ", 1);
		else if (n)
			buf_add(&b, (const char *)u, n);
		else
			buf_add(&b, "\xef\xbf\xbd", 3);
		u += n ? n : 1;
		if (b.len > METRICS_LABEL_MAX) {
			b.len = cut;
			buf_add(&b, ellipsis, sizeof ellipsis - 1);
			break;
		}
	}
	if (b.oom) {
		free(b.p);
		errno = ENOMEM;
		return NULL;
	}
	return b.p;
}

char *metrics_label(const char *s)
{
	char *b = bound(s), *e;

	if (!b)
		return NULL;
	e = metrics_escape(b);
	free(b);
	return e;
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
	m->per_process = 1;
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
	for (size_t i = 0; i < m->ngroups; i++) {
		free(m->groups[i].raw);
		free(m->groups[i].label);
	}
	free(m->groups);
	free(m->v);
	free(m->slot);
	free(m);
}

void metrics_per_process(struct metrics *m, int on)
{
	m->per_process = on;
}

/* The group named name, added when new; past METRICS_MAX_GROUPS, new names
 * share one overflow group: a template over facts that strangers control
 * cannot grow the page without bound.  Returns its index or -ENOMEM. */
static long group_of(struct metrics *m, const char *name)
{
	struct group *v, *g;

	for (size_t i = 0; i < m->ngroups; i++)
		if (strcmp(m->groups[i].raw, name) == 0)
			return (long)i;
	if (m->ngroups >= METRICS_MAX_GROUPS) {
		name = METRICS_OVERFLOW_GROUP;
		for (size_t i = 0; i < m->ngroups; i++)
			if (strcmp(m->groups[i].raw, name) == 0)
				return (long)i;
	}
	if (!(v = realloc(m->groups, (m->ngroups + 1) * sizeof *v)))
		return -ENOMEM;
	m->groups = v;
	g = &v[m->ngroups];
	memset(g, 0, sizeof *g);
	if (!(g->raw = strdup(name)) || !(g->label = metrics_label(name))) {
		free(g->raw);
		return -ENOMEM;
	}
	return (long)m->ngroups++;
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
	e = metrics_label(s);
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
	const char *gname = p->group ? p->group : p->rule ? p->rule : "";
	long grp;
	int err = 0;

	/* The group a process had is nearly always the one it has. */
	if (e && e->start_ticks == p->start_ticks &&
	    strcmp(m->groups[e->grp].raw, gname) == 0)
		grp = (long)e->grp;
	else if ((grp = group_of(m, gname)) < 0)
		return (int)grp;
	if (e && e->start_ticks != p->start_ticks && !e->ended)
		/* Its exit was missed: its CPU stays in its group. */
		m->groups[e->grp].cpu_ended += e->cpu_seconds;
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
		e->grp = (size_t)grp;
		m->n++;
		index_put(m, m->n - 1);
	}
	if (e->grp != (size_t)grp) {
		/* Moved (an exec renamed it): the old group keeps the CPU
		 * spent so far, so its counter never goes down. */
		if (!e->ended)
			m->groups[e->grp].cpu_ended += e->cpu_seconds;
		e->grp = (size_t)grp;
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

void metrics_exit(struct metrics *m, int pid, uint64_t start_ticks, double now,
		  int how)
{
	struct entry *e = find(m, pid, start_ticks, 0);

	if (!e || e->ended)
		return;
	e->ended = now > 0 ? now : 1e-9;
	m->groups[e->grp].cpu_ended += e->cpu_seconds;
	if (how >= 0 && how < METRICS_NHOW)
		m->groups[e->grp].exits[how]++;
}

void metrics_end(struct metrics *m, int pid, uint64_t start_ticks, double now)
{
	metrics_exit(m, pid, start_ticks, now, -1);
}

static int drop_expired(const struct entry *e, const void *arg)
{
	const double *cutoff = arg;

	return e->ended && e->ended <= *cutoff;
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

/* Sums the live members of every group. */
static void group_sums(struct metrics *m)
{
	for (size_t i = 0; i < m->ngroups; i++) {
		struct group *g = &m->groups[i];

		g->rss_bytes = g->pss_bytes = g->limit_bytes = 0;
		g->procs = 0;
		g->has_pss = 0;
		g->cpu_seconds = g->cpu_ended;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct entry *e = &m->v[i];
		struct group *g = &m->groups[e->grp];

		if (e->ended)
			continue;
		g->procs++;
		g->rss_bytes += e->rss_bytes;
		if (e->pss_bytes >= 0) {
			g->pss_bytes += e->pss_bytes;
			g->has_pss = 1;
		}
		if (e->limit_bytes > g->limit_bytes)
			g->limit_bytes = e->limit_bytes;
		g->cpu_seconds += e->cpu_seconds;
	}
}

static void group_sample(struct buf *b, const char *name, const struct group *g)
{
	buf_str(b, name);
	buf_str(b, "{group=\"");
	buf_str(b, g->label ? g->label : "");
	buf_str(b, "\"} ");
}

static const char *const how_names[METRICS_NHOW] = {"exit", "signal", "oom"};

/* The group families: a series per group, whatever its members do, so a
 * sum over them is the service and churn adds no series. */
static void groups(struct buf *b, struct metrics *m)
{
	int has_pss = 0, has_limit = 0;

	group_sums(m);
	for (size_t i = 0; i < m->ngroups; i++) {
		has_pss |= m->groups[i].has_pss;
		has_limit |= m->groups[i].limit_bytes > 0;
	}
	family(b, "memtide_group_processes", "gauge",
	       "Live processes of a group.");
	for (size_t i = 0; i < m->ngroups; i++) {
		group_sample(b, "memtide_group_processes", &m->groups[i]);
		buf_printf(b, "%zu\n", m->groups[i].procs);
	}
	family(b, "memtide_group_resident_memory_bytes", "gauge",
	       "Resident set size of the live processes of a group in bytes.");
	for (size_t i = 0; i < m->ngroups; i++) {
		group_sample(b, "memtide_group_resident_memory_bytes", &m->groups[i]);
		buf_printf(b, "%lld\n", (long long)m->groups[i].rss_bytes);
	}
	if (has_pss) {
		family(b, "memtide_group_pss_bytes", "gauge",
		       "Proportional set size of the live processes of a group whose"
		       " PSS is read, in bytes.");
		for (size_t i = 0; i < m->ngroups; i++) {
			if (!m->groups[i].has_pss)
				continue;
			group_sample(b, "memtide_group_pss_bytes", &m->groups[i]);
			buf_printf(b, "%lld\n", (long long)m->groups[i].pss_bytes);
		}
	}
	if (has_limit) {
		family(b, "memtide_group_memory_limit_bytes", "gauge",
		       "The highest cgroup memory limit over a live process of a"
		       " group in bytes.");
		for (size_t i = 0; i < m->ngroups; i++) {
			if (m->groups[i].limit_bytes <= 0)
				continue;
			group_sample(b, "memtide_group_memory_limit_bytes", &m->groups[i]);
			buf_printf(b, "%lld\n", (long long)m->groups[i].limit_bytes);
		}
	}
	family(b, "memtide_group_cpu_seconds_total", "counter",
	       "User and system CPU time of the processes of a group, ended ones"
	       " included, in seconds.");
	for (size_t i = 0; i < m->ngroups; i++) {
		group_sample(b, "memtide_group_cpu_seconds_total", &m->groups[i]);
		buf_printf(b, "%.6f\n", m->groups[i].cpu_seconds);
	}
	family(b, "memtide_group_oom_kills_total", "counter",
	       "Processes of a group killed by the kernel's OOM killer.");
	for (size_t i = 0; i < m->ngroups; i++) {
		group_sample(b, "memtide_group_oom_kills_total", &m->groups[i]);
		buf_printf(b, "%llu\n",
			   (unsigned long long)m->groups[i].exits[METRICS_HOW_OOM]);
	}
	family(b, "memtide_group_exits_total", "counter",
	       "Processes of a group that ended, by how: exit (an exit status),"
	       " signal (killed), oom (killed by the OOM killer).");
	for (size_t i = 0; i < m->ngroups; i++)
		for (int h = 0; h < METRICS_NHOW; h++) {
			buf_str(b, "memtide_group_exits_total{group=\"");
			buf_str(b, m->groups[i].label ? m->groups[i].label : "");
			buf_printf(b, "\",how=\"%s\"} %llu\n", how_names[h],
				   (unsigned long long)m->groups[i].exits[h]);
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
		/* Only what is on the page announces its family. */
		if (m->per_process) {
			has_pss |= m->v[i].pss_bytes >= 0;
			has_limit |= m->v[i].limit_bytes > 0;
		}
	}
	/* ~300 bytes a process and metric: one allocation for the page. */
	buf_room(&b, 4096 + m->ngroups * 10 * 200 +
			     (m->per_process ? m->n * 5 * 300 : 0));

	groups(&b, m);
	if (!m->per_process)
		goto counters;
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

counters:
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
	self(&b, m);

	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* metrics.c - the Prometheus text page (see include/memtide/metrics.h). */
#include "memtide/metrics.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "memtide/procfs.h"
#include "memtide/strbuf.h"
#include "memtide/text.h"

struct entry {
	int pid;
	uint64_t start_ticks;
	size_t grp; /* index in metrics.groups */
	char *rule, *name, *script, *module, *unit; /* escaped, or NULL */
	uint64_t labels_of; /* hash of the raw values they were made from, 0: none */
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
	uint64_t changes;  /* metrics_changes() */
};

char *metrics_escape(const char *s)
{
	struct strbuf b = {0};
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	const unsigned char *end = u + strlen((const char *)u);

	strbuf_add(&b, "", 0); /* an empty string is still a string */
	while (*u) {
		size_t n;

		switch (*u) {
		case '\\':
			strbuf_add(&b, "\\\\", 2);
			u++;
			continue;
		case '"':
			strbuf_add(&b, "\\\"", 2);
			u++;
			continue;
		case '\n':
			strbuf_add(&b, "\\n", 2);
			u++;
			continue;
		}
		n = text_utf8_len(u, (size_t)(end - u));
		if (n) {
			strbuf_add(&b, (const char *)u, n);
			u += n;
		} else {
			strbuf_add(&b, "\xef\xbf\xbd", 3);
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
	const unsigned char *end = u + strlen((const char *)u);
	struct strbuf b = {0};
	size_t cut = 0;

	strbuf_add(&b, "", 0);
	while (*u) {
		size_t n = text_utf8_len(u, (size_t)(end - u));

		if (b.len + (n ? n : 3) <= METRICS_LABEL_MAX - (sizeof ellipsis - 1))
			cut = b.len + (n ? n : 3);
		if (n == 1 && (*u < 0x20 || *u == 0x7f))
			strbuf_add(&b, " ", 1);
		else if (n == 2 && u[0] == 0xc2 && u[1] < 0xa0)
			strbuf_add(&b, " ", 1);
		else if (n)
			strbuf_add(&b, (const char *)u, n);
		else
			strbuf_add(&b, "\xef\xbf\xbd", 3);
		u += n ? n : 1;
		if (b.len > METRICS_LABEL_MAX) {
			b.len = cut;
			strbuf_add(&b, ellipsis, sizeof ellipsis - 1);
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

	if (!m)
		return -ENOMEM;
	m->grace_s = grace_s;
	m->per_process = 1;
	/* stat field 22 counts clock ticks on CLOCK_BOOTTIME. */
	if (procfs_read_stat("/proc", getpid(), &st) == 0)
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

uint64_t metrics_changes(const struct metrics *m)
{
	return m->changes;
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
	e = metrics_label(s);
	if (!e)
		return -ENOMEM;
	free(*dst);
	*dst = e;
	return 0;
}

/* FNV-1a over the raw label values, each ended by a byte no value holds
 * after its NUL (NULL and "" differ).  Never 0. */
static uint64_t labels_hash(const struct metrics_proc *p)
{
	const char *v[] = {p->rule, p->name, p->script, p->module, p->unit};
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		for (const char *c = v[i] ? v[i] : ""; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ULL;
		h = (h ^ (v[i] ? 0x100u : 0x200u)) * 1099511628211ULL;
	}
	return h | 1;
}

/* The per-process labels, bounded and escaped: made again only when a raw
 * value changed (an exec), not at every sample -- a command line with a
 * newline or past the bound would otherwise be escaped and copied each
 * time.  Not kept while per-process series are off. */
static int set_labels(struct metrics *m, struct entry *e, const struct metrics_proc *p)
{
	uint64_t h;
	int err;

	if (!m->per_process) {
		e->labels_of = 0;
		return 0;
	}
	if ((h = labels_hash(p)) == e->labels_of)
		return 0;
	e->labels_of = 0;
	if ((err = set_label(&e->rule, p->rule, 0)) ||
	    (err = set_label(&e->name, p->name, 0)) ||
	    (err = set_label(&e->script, p->script, 1)) ||
	    (err = set_label(&e->module, p->module, 1)) ||
	    (err = set_label(&e->unit, p->unit, 1)))
		return err;
	e->labels_of = h;
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
	int err = 0, changed = !e || e->start_ticks != p->start_ticks || e->ended;

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
		changed = 1;
	}
	if ((err = set_labels(m, e, p)))
		return err;
	if (changed || e->rss_bytes != p->rss_bytes || e->pss_bytes != p->pss_bytes ||
	    e->limit_bytes != p->limit_bytes || e->threads != p->threads)
		m->changes++;
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
	m->changes++;
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

static void family(struct strbuf *b, const char *name, const char *type,
		   const char *help)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void labels(struct strbuf *b, const struct entry *e)
{
	/* rule and name are NULL only after a failed allocation. */
	strbuf_str(b, "{rule=\"");
	strbuf_str(b, e->rule ? e->rule : "");
	strbuf_printf(b, "\",pid=\"%d\",name=\"", e->pid);
	strbuf_str(b, e->name ? e->name : "");
	strbuf_str(b, "\"");
	if (e->script) {
		strbuf_str(b, ",script=\"");
		strbuf_str(b, e->script);
		strbuf_str(b, "\"");
	}
	if (e->module) {
		strbuf_str(b, ",module=\"");
		strbuf_str(b, e->module);
		strbuf_str(b, "\"");
	}
	if (e->unit) {
		strbuf_str(b, ",unit=\"");
		strbuf_str(b, e->unit);
		strbuf_str(b, "\"");
	}
	strbuf_str(b, "} ");
}

enum field { RSS, PSS, LIMIT, CPU, THREADS, START };

static void per_process(struct strbuf *b, const struct metrics *m, enum field f)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct entry *e = &m->v[i];
		const char *name = NULL;

		if (!e->labels_of)
			continue; /* per-process series just turned on */
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
		strbuf_str(b, name);
		labels(b, e);
		switch (f) {
		case RSS:
			strbuf_printf(b, "%lld\n", (long long)e->rss_bytes);
			break;
		case PSS:
			strbuf_printf(b, "%lld\n", (long long)e->pss_bytes);
			break;
		case LIMIT:
			strbuf_printf(b, "%lld\n", (long long)e->limit_bytes);
			break;
		case CPU:
			strbuf_printf(b, "%.6f\n", e->cpu_seconds);
			break;
		case THREADS:
			strbuf_printf(b, "%d\n", e->threads);
			break;
		case START:
			strbuf_printf(b, "%.3f\n", e->start_time);
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

static void group_sample(struct strbuf *b, const char *name, const struct group *g)
{
	strbuf_str(b, name);
	strbuf_str(b, "{group=\"");
	strbuf_str(b, g->label ? g->label : "");
	strbuf_str(b, "\"} ");
}

static const char *const how_names[METRICS_NHOW] = {"exit", "signal", "oom"};

/* The group families: a series per group, whatever its members do, so a
 * sum over them is the service and churn adds no series. */
static void groups(struct strbuf *b, struct metrics *m)
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
		strbuf_printf(b, "%zu\n", m->groups[i].procs);
	}
	family(b, "memtide_group_resident_memory_bytes", "gauge",
	       "Resident set size of the live processes of a group in bytes.");
	for (size_t i = 0; i < m->ngroups; i++) {
		group_sample(b, "memtide_group_resident_memory_bytes", &m->groups[i]);
		strbuf_printf(b, "%lld\n", (long long)m->groups[i].rss_bytes);
	}
	if (has_pss) {
		family(b, "memtide_group_pss_bytes", "gauge",
		       "Proportional set size of the live processes of a group whose"
		       " PSS is read, in bytes.");
		for (size_t i = 0; i < m->ngroups; i++) {
			if (!m->groups[i].has_pss)
				continue;
			group_sample(b, "memtide_group_pss_bytes", &m->groups[i]);
			strbuf_printf(b, "%lld\n", (long long)m->groups[i].pss_bytes);
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
			strbuf_printf(b, "%lld\n", (long long)m->groups[i].limit_bytes);
		}
	}
	family(b, "memtide_group_cpu_seconds_total", "counter",
	       "User and system CPU time of the processes of a group, ended ones"
	       " included, in seconds.");
	for (size_t i = 0; i < m->ngroups; i++) {
		group_sample(b, "memtide_group_cpu_seconds_total", &m->groups[i]);
		strbuf_printf(b, "%.6f\n", m->groups[i].cpu_seconds);
	}
	family(b, "memtide_group_oom_kills_total", "counter",
	       "Processes of a group killed by the kernel's OOM killer.");
	for (size_t i = 0; i < m->ngroups; i++) {
		group_sample(b, "memtide_group_oom_kills_total", &m->groups[i]);
		strbuf_printf(b, "%llu\n",
			   (unsigned long long)m->groups[i].exits[METRICS_HOW_OOM]);
	}
	family(b, "memtide_group_exits_total", "counter",
	       "Processes of a group that ended, by how: exit (an exit status),"
	       " signal (killed), oom (killed by the OOM killer).");
	for (size_t i = 0; i < m->ngroups; i++)
		for (int h = 0; h < METRICS_NHOW; h++) {
			strbuf_str(b, "memtide_group_exits_total{group=\"");
			strbuf_str(b, m->groups[i].label ? m->groups[i].label : "");
			strbuf_printf(b, "\",how=\"%s\"} %llu\n", how_names[h],
				   (unsigned long long)m->groups[i].exits[h]);
		}
}

/* Open descriptors of this process.  Linux 6.2 and later give their count
 * as the size of /proc/self/fd, one stat instead of a listing that looks up
 * every descriptor (memtided holds three for each process it tracks);
 * older kernels say 0 there, and the entries are counted, but the one the
 * listing itself holds. */
static long open_fds(void)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	long n = 0;

	if (stat("/proc/self/fd", &st) == 0 && st.st_size > 0)
		return (long)st.st_size;
	if (!(d = opendir("/proc/self/fd")))
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static void self(struct strbuf *b, const struct metrics *m)
{
	long page = sysconf(_SC_PAGESIZE);
	long long vm_pages = 0, rss_pages = 0;
	struct rlimit rl;
	char statm[256];
	long n, fds;

	family(b, "process_cpu_seconds_total", "counter",
	       "Total user and system CPU time spent in seconds.");
	strbuf_printf(b, "process_cpu_seconds_total %.6f\n",
		   clock_s(CLOCK_PROCESS_CPUTIME_ID));
	n = procfs_read("/proc", getpid(), "statm", statm, sizeof statm);
	if (n > 0 && sscanf(statm, "%lld %lld", &vm_pages, &rss_pages) == 2) {
		family(b, "process_resident_memory_bytes", "gauge",
		       "Resident memory size in bytes.");
		strbuf_printf(b, "process_resident_memory_bytes %lld\n",
			   rss_pages * page);
		family(b, "process_virtual_memory_bytes", "gauge",
		       "Virtual memory size in bytes.");
		strbuf_printf(b, "process_virtual_memory_bytes %lld\n",
			   vm_pages * page);
	}
	if (m->self_start > 0) {
		family(b, "process_start_time_seconds", "gauge",
		       "Start time of the process since unix epoch in seconds.");
		strbuf_printf(b, "process_start_time_seconds %.3f\n", m->self_start);
	}
	if ((fds = open_fds()) >= 0) {
		family(b, "process_open_fds", "gauge",
		       "Number of open file descriptors.");
		strbuf_printf(b, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		family(b, "process_max_fds", "gauge",
		       "Maximum number of open file descriptors.");
		strbuf_printf(b, "process_max_fds %llu\n",
			   (unsigned long long)rl.rlim_cur);
	}
}

int metrics_render(struct metrics *m, const struct metrics_counters *c,
		   double now, char **out, size_t *len)
{
	struct strbuf b = {0};
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
	strbuf_reserve(&b, 4096 + m->ngroups * 10 * 200 +
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
	strbuf_printf(&b, "memtide_tracked_processes %zu\n", live);
	family(&b, "memtide_samples_taken_total", "counter",
	       "Samples taken since memtided started.");
	strbuf_printf(&b, "memtide_samples_taken_total %llu\n",
		   (unsigned long long)c->samples_taken);
	family(&b, "memtide_samples_written_total", "counter",
	       "Samples written to the database since memtided started.");
	strbuf_printf(&b, "memtide_samples_written_total %llu\n",
		   (unsigned long long)c->samples_written);
	family(&b, "memtide_samples_dropped_total", "counter",
	       "Samples dropped because the database could not keep up.");
	strbuf_printf(&b, "memtide_samples_dropped_total %llu\n",
		   (unsigned long long)c->samples_dropped);
	family(&b, "memtide_samples_missed_total", "counter",
	       "Samples not taken because memtided woke up too late (a busy machine).");
	strbuf_printf(&b, "memtide_samples_missed_total %llu\n",
		   (unsigned long long)c->samples_missed);
	family(&b, "memtide_processes_unseen_total", "counter",
	       "Children of tracked processes (children = yes) that ended before"
	       " memtided could read them.");
	strbuf_printf(&b, "memtide_processes_unseen_total %llu\n",
		   (unsigned long long)c->processes_unseen);
	family(&b, "memtide_markers_dropped_total", "counter",
	       "Markers dropped: over their sending process's budget, or too many queued.");
	strbuf_printf(&b, "memtide_markers_dropped_total %llu\n",
		   (unsigned long long)c->markers_dropped);
	family(&b, "memtide_metrics_clients_evicted_total", "counter",
	       "Connections to this page closed to make room: every slot was taken.");
	strbuf_printf(&b, "memtide_metrics_clients_evicted_total %llu\n",
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

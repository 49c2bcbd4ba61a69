/* store.c - the SQLite history (see include/memtide/store.h). */
#include "memtide/store.h"

#include "memtide/idmap.h"
#include "memtide/text.h"

#include "recorder.h"
#include "schema.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	ST_SAMPLE,
	ST_SAMPLE_MEM,
	ST_RUN_PROGRESS,
	ST_PROC_PEAK,
	ST_PROC_FIND,
	ST_PROC_REVIVE,
	ST_PROC_ADD,
	ST_PROC_END,
	ST_PROC_META,
	ST_PROC_HWM,
	ST_AGG_PUT,
	ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_SAMPLE] = "INSERT OR IGNORE INTO sample(proc, tick, rss, cpu, threads)"
		      " VALUES (?, ?, ?, ?, ?)",
	[ST_SAMPLE_MEM] = "INSERT OR IGNORE INTO sample_mem(proc, tick, pss, uss, swap)"
			  " VALUES (?, ?, ?, ?, ?)",
	[ST_RUN_PROGRESS] = "UPDATE run SET samples = samples + ?2, last_tick = ?3,"
			    " peak_rss = max(coalesce(peak_rss, 0), ?4) WHERE id = ?1",
	[ST_PROC_PEAK] = "UPDATE proc SET peak_rss = max(coalesce(peak_rss, 0), ?2),"
			 " last_tick = max(coalesce(last_tick, 0), ?3) WHERE id = ?1",
	/* Prepared once: a daemon adds, ends and updates processes all day,
	 * and parsing the statement each time cost more than running it. */
	/* A process already recorded in the run is found and revived rather
	 * than upserted with RETURNING: SQLite returns rows through an
	 * ephemeral table, a temporary b-tree opened and freed (an mmap and
	 * munmap here) for every process added. */
	[ST_PROC_FIND] = "SELECT id FROM proc WHERE run = ?1 AND pid = ?2 AND start_ticks = ?3",
	[ST_PROC_REVIVE] = "UPDATE proc SET ended = NULL WHERE id = ?1",
	[ST_PROC_ADD] = "INSERT INTO proc(run, pid, ppid, parent, start_ticks, started,"
			" first_tick, exe, cmdline, argv, name, interpreter, script,"
			" module, venv, uid, unit, rule, interval)"
			" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_PROC_END] = "UPDATE proc SET ended = ?2,"
			" last_tick = max(coalesce(last_tick, ?3), ?3) WHERE id = ?1",
	[ST_PROC_META] = "UPDATE proc SET exe = ?2, cmdline = ?3, argv = ?4 WHERE id = ?1",
	[ST_PROC_HWM] = "UPDATE proc SET hwm = max(coalesce(hwm, 0), ?3) WHERE id = ?1",
	/* A bucket split across two batches is merged: counts add, means
	 * are weighted by count (the right-hand side sees the old row), the
	 * later batch has the last sample. */
	[ST_AGG_PUT] = "INSERT INTO sample_agg(proc, bucket, n, rss_min, rss_max,"
		       " rss_mean, cpu_mean, cpu_max, threads_max, rss_first, rss_last)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		       " ON CONFLICT(proc, bucket) DO UPDATE SET n = n + excluded.n,"
		       " rss_last = excluded.rss_last,"
		       " rss_min = min(rss_min, excluded.rss_min),"
		       " rss_max = max(rss_max, excluded.rss_max),"
		       " rss_mean = (rss_mean * n + excluded.rss_mean * excluded.n"
		       " + (n + excluded.n) / 2) / (n + excluded.n),"
		       " cpu_mean = (cpu_mean * n + excluded.cpu_mean * excluded.n"
		       " + (n + excluded.n) / 2) / (n + excluded.n),"
		       " cpu_max = max(cpu_max, excluded.cpu_max),"
		       " threads_max = max(threads_max, excluded.threads_max)",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	/* proc.id -> the peak_rss (pages) last written in a committed or
	 * open transaction: a process's row is updated only when its peak
	 * rises, not for every batch.  Cleared by any rollback. */
	struct idmap peaks;
	/* proc.id -> the hwm (bytes) last written, the same way: VmHWM is
	 * read every second and a steady process's stays put. */
	struct idmap hwms;
	int64_t agg_ticks; /* of the run begun; 0: no sample_agg rows */
	char msg[256];
};

static int fail(struct store *s, int code, const char *what)
{
	const char *m = s->db ? sqlite3_errmsg(s->db) : "out of memory";

	if (code == -MEMTIDE_ECORRUPT)
		m = "not a memtide database (or corrupt)";
	else if (code == -MEMTIDE_ENEWER)
		m = "written by a newer memtide; upgrade memtide to read it";
	else if (code == -MEMTIDE_EOLDER)
		m = "written by an older memtide and not writable here; open it"
		    " once as its owner (any memtide command) to upgrade it";
	if (what)
		snprintf(s->msg, sizeof s->msg, "%s: %s", what, m);
	else
		snprintf(s->msg, sizeof s->msg, "%s", m);
	return code;
}

/* Maps an SQLite result code to the negative codes of store.h. */
static int sql_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -MEMTIDE_ECORRUPT;
	default:
		return -EIO;
	}
}

int store_sql_code(int rc)
{
	return sql_code(rc);
}

const char *store_errmsg(const struct store *s)
{
	return s ? s->msg : "out of memory";
}

struct sqlite3 *store_db(struct store *s)
{
	return s->db;
}

char *store_default_path(const char *path)
{
	const char *env = getenv("MEMTIDE_DB");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	char *out = NULL;

	if (path && *path)
		return strdup(path);
	if (env && *env)
		return strdup(env);
	if (xdg && *xdg == '/') {
		if (asprintf(&out, "%s/memtide/memtide.db", xdg) < 0)
			return NULL;
		return out;
	}
	if (!home || !*home) {
		errno = ENOENT;
		return NULL;
	}
	if (asprintf(&out, "%s/.local/share/memtide/memtide.db", home) < 0)
		return NULL;
	return out;
}

int store_path_is_default(const char *path)
{
	const char *env = getenv("MEMTIDE_DB");

	return !(path && *path) && !(env && *env);
}

int store_make_dir(const char *path)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof dir)
		return -ENAMETOOLONG;
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int exec_sql(struct store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(s, sql_code(rc), what);
}

static int user_version(struct store *s, int *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "reading schema version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return fail(s, sql_code(rc), "reading schema version");
	return 0;
}

/* A database with tables but no user_version is somebody else's SQLite file:
 * never write our schema into it. */
static int foreign_tables(struct store *s)
{
	sqlite3_stmt *st;
	int n = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_schema", -1, &st,
			       NULL) != SQLITE_OK)
		return 1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n > 0;
}

/* Runs every forward migration from the file's version to the newest, in one
 * transaction: a failure leaves the file as it was. */
static int migrate(struct store *s)
{
	int v, err;
	char pragma[64];

	if ((err = exec_sql(s, "BEGIN IMMEDIATE", "locking database")))
		return err;
	if ((err = user_version(s, &v)))
		goto out;
	if (v > MEMTIDE_SCHEMA_VERSION) {
		err = fail(s, -MEMTIDE_ENEWER, NULL);
		goto out;
	}
	if (v == MEMTIDE_SCHEMA_VERSION)
		goto out;
	if (v == 0 && foreign_tables(s)) {
		err = fail(s, -MEMTIDE_ECORRUPT, NULL);
		goto out;
	}
	for (; v < MEMTIDE_SCHEMA_VERSION; v++)
		if ((err = exec_sql(s, schema_migration(v), "migrating schema")))
			goto out;
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d",
		 MEMTIDE_SCHEMA_VERSION);
	err = exec_sql(s, pragma, "migrating schema");
out:
	if (err) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	return exec_sql(s, "COMMIT", "migrating schema");
}

static int upgrade_then_read(struct store *s, const char *path);

/* A new database is created empty here, 0640 whatever the umask (command
 * lines and the history of a machine are not for every local user); SQLite
 * gives its -wal and -shm files the same mode.  An empty file is a valid
 * empty database.  Returns 0 or -errno. */
static int create_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);

	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	if (fchmod(fd, 0640) < 0) {
		int err = -errno;

		close(fd);
		unlink(path);
		return err;
	}
	close(fd);
	return 0;
}

int store_open(const char *path, enum store_mode mode, struct store **out)
{
	struct store *s = calloc(1, sizeof *s);
	int flags = mode == STORE_READ	  ? SQLITE_OPEN_READONLY
		    : mode == STORE_UPDATE ? SQLITE_OPEN_READWRITE
					   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc, err, v;

	*out = s;
	if (!s)
		return -ENOMEM;
	/* SQLite says only "unable to open database file": find the cause
	 * first (a missing file, a path through a regular file, no access). */
	if (access(path, F_OK) == 0 ? access(path, mode == STORE_READ ? R_OK : R_OK | W_OK) < 0
				    : mode != STORE_WRITE || errno != ENOENT ||
					      (errno = -create_private(path)) != 0) {
		err = -errno;
		if (err == -ENOENT && mode == STORE_WRITE)
			snprintf(s->msg, sizeof s->msg, "its directory '%.*s' does not exist",
				 (int)(strrchr(path, '/') ? strrchr(path, '/') - path : 1),
				 strrchr(path, '/') ? path : ".");
		else
			snprintf(s->msg, sizeof s->msg, "%s", strerror(errno));
		return err;
	}
	rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), NULL);
	sqlite3_busy_timeout(s->db, 5000);
	/* A small page cache keeps the sampler's RSS low; the WAL makes
	 * readers and the writer independent, and a crash loses at most the
	 * transaction in flight. */
	err = exec_sql(s, "PRAGMA cache_size = -128; PRAGMA foreign_keys = ON",
		       NULL);
	if (err)
		return err;
	if (mode != STORE_READ) {
		/* WAL only once the file is known to be ours: switching a
		 * foreign SQLite file to WAL would change it. */
		if ((err = migrate(s)) ||
		    (err = exec_sql(s, "PRAGMA journal_mode = WAL", NULL)) ||
		    (err = exec_sql(s, "PRAGMA synchronous = NORMAL", NULL)))
			return err;
		for (int i = 0; i < ST_COUNT; i++) {
			rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
						SQLITE_PREPARE_PERSISTENT, &s->st[i],
						NULL);
			if (rc != SQLITE_OK)
				return fail(s, sql_code(rc), NULL);
		}
		return 0;
	}
	if ((err = user_version(s, &v)))
		return err;
	if (v > MEMTIDE_SCHEMA_VERSION)
		return fail(s, -MEMTIDE_ENEWER, NULL);
	if (v == 0)
		return fail(s, -MEMTIDE_ECORRUPT, NULL);
	if (v < MEMTIDE_SCHEMA_VERSION)
		return upgrade_then_read(s, path);
	return 0;
}

/* An older file opened for reading: migrated through a writing connection
 * when this user may write it (the migration is one transaction), then read
 * through the read-only one, which sees the new schema. */
static int upgrade_then_read(struct store *s, const char *path)
{
	struct store *w;
	int err;

	if (access(path, W_OK) < 0)
		return fail(s, -MEMTIDE_EOLDER, NULL);
	err = store_open(path, STORE_WRITE, &w);
	if (err < 0)
		snprintf(s->msg, sizeof s->msg, "upgrading schema: %.200s",
			 store_errmsg(w));
	store_close(w);
	return err;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	idmap_free(&s->peaks);
	idmap_free(&s->hwms);
	free(s);
}

static int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(s, sql_code(rc), what);
	return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int store_run_begin(struct store *s, const struct store_run *r, int64_t *id)
{
	sqlite3_stmt *st;
	char host[256] = "", boot[64] = "";
	int rc, err, pid;
	uint64_t start = 0;

	gethostname(host, sizeof host - 1);
	recorder_boot_id(boot, sizeof boot);
	rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO run(kind, command, label, started, interval,"
				" page_size, backend, host, boot_id, skipped, recorder_pid,"
				" recorder_start) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
				" CASE WHEN ?1 IN ('run', 'attach') THEN 0 END, ?10, ?11)",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "starting run");
	sqlite3_bind_text(st, 1, r->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->command, -1, SQLITE_STATIC);
	bind_text_or_null(st, 3, r->label);
	sqlite3_bind_double(st, 4, r->started);
	sqlite3_bind_double(st, 5, r->interval);
	sqlite3_bind_int64(st, 6, r->page_size);
	sqlite3_bind_text(st, 7, r->backend, -1, SQLITE_STATIC);
	bind_text_or_null(st, 8, host[0] ? host : NULL);
	bind_text_or_null(st, 9, boot[0] ? boot : NULL);
	if (recorder_self(&pid, &start) == 0) {
		sqlite3_bind_int(st, 10, pid);
		sqlite3_bind_int64(st, 11, (sqlite3_int64)start);
	}
	err = step_done(s, st, "starting run");
	sqlite3_finalize(st);
	if (!err)
		*id = sqlite3_last_insert_rowid(s->db);
	/* memtided's history has per-minute rollups instead. */
	s->agg_ticks = strcmp(r->kind, "daemon") ? store_agg_ticks(r->interval) : 0;
	return err;
}

int store_proc_add(struct store *s, const struct store_proc *p, int64_t *id)
{
	sqlite3_stmt *st = s->st[ST_PROC_FIND];
	char *cmd;
	int rc, err;

	sqlite3_bind_int64(st, 1, p->run);
	sqlite3_bind_int(st, 2, p->pid);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)p->start_ticks);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		st = s->st[ST_PROC_REVIVE];
		sqlite3_bind_int64(st, 1, *id);
		return step_done(s, st, "adding process");
	}
	if (rc != SQLITE_DONE)
		return fail(s, sql_code(rc), "adding process");
	st = s->st[ST_PROC_ADD];
	cmd = p->argv ? text_argv(p->argv, p->argv_len, 0) : NULL;
	sqlite3_bind_int64(st, 1, p->run);
	sqlite3_bind_int(st, 2, p->pid);
	sqlite3_bind_int(st, 3, p->ppid);
	if (p->parent)
		sqlite3_bind_int64(st, 4, p->parent);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)p->start_ticks);
	sqlite3_bind_double(st, 6, p->started);
	sqlite3_bind_int64(st, 7, p->first_tick);
	bind_text_or_null(st, 8, p->exe);
	bind_text_or_null(st, 9, cmd);
	if (p->argv)
		sqlite3_bind_blob(st, 10, p->argv, (int)p->argv_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 10);
	bind_text_or_null(st, 11, p->name);
	bind_text_or_null(st, 12, p->interpreter);
	bind_text_or_null(st, 13, p->script);
	bind_text_or_null(st, 14, p->module);
	bind_text_or_null(st, 15, p->venv);
	if (p->uid >= 0)
		sqlite3_bind_int64(st, 16, p->uid);
	else
		sqlite3_bind_null(st, 16);
	bind_text_or_null(st, 17, p->unit);
	bind_text_or_null(st, 18, p->rule);
	if (p->interval > 0)
		sqlite3_bind_double(st, 19, p->interval);
	else
		sqlite3_bind_null(st, 19);
	if (!(err = step_done(s, st, "adding process"))) {
		*id = sqlite3_last_insert_rowid(s->db);
		/* A deleted process's id may be given again. */
		idmap_del(&s->peaks, *id);
		idmap_del(&s->hwms, *id);
	}
	free(cmd);
	return err;
}

int store_proc_meta(struct store *s, int64_t proc, const char *exe,
		    const char *argv, size_t argv_len)
{
	sqlite3_stmt *st = s->st[ST_PROC_META];
	char *cmd = argv ? text_argv(argv, argv_len, 0) : NULL;
	int err;

	sqlite3_bind_int64(st, 1, proc);
	bind_text_or_null(st, 2, exe);
	bind_text_or_null(st, 3, cmd);
	if (argv)
		sqlite3_bind_blob(st, 4, argv, (int)argv_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 4);
	err = step_done(s, st, "updating process");
	free(cmd);
	return err;
}

static int step_bound(struct store *s, sqlite3_stmt *st, const char *what,
		      int64_t a, double b, int64_t c)
{
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_double(st, 2, b);
	sqlite3_bind_int64(st, 3, c);
	return step_done(s, st, what);
}

static int exec_bound(struct store *s, const char *sql, const char *what,
		      int64_t a, double b, int64_t c)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), err;

	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), what);
	err = step_bound(s, st, what, a, b, c);
	sqlite3_finalize(st);
	return err;
}

int store_proc_end(struct store *s, int64_t proc, double ended, int64_t last_tick)
{
	idmap_del(&s->peaks, proc);
	idmap_del(&s->hwms, proc);
	return step_bound(s, s->st[ST_PROC_END], "ending process", proc, ended, last_tick);
}

int store_proc_hwm(struct store *s, int64_t proc, int64_t hwm_bytes)
{
	int64_t known;
	int err;

	/* The row keeps the maximum: a value no higher than one written
	 * would change nothing, yet cost a transaction of its own. */
	if (idmap_get(&s->hwms, proc, &known) && hwm_bytes <= known)
		return 0;
	err = step_bound(s, s->st[ST_PROC_HWM], "recording high-water mark", proc, 0.0,
			 hwm_bytes);
	if (!err)
		idmap_put(&s->hwms, proc, hwm_bytes);
	return err;
}

int store_run_skipped(struct store *s, int64_t run, int64_t skipped)
{
	/* Once a second at most: prepared each time. */
	return exec_bound(s, "UPDATE run SET skipped = ?3 WHERE id = ?1",
			  "recording skipped ticks", run, 0, skipped);
}

int store_run_end(struct store *s, int64_t run, double ended, int exit_status,
		  int64_t kernel_peak)
{
	sqlite3_stmt *st;
	int rc, err;

	rc = sqlite3_prepare_v2(
		s->db,
		"UPDATE run SET ended = ?2, exit_status = ?3, kernel_peak_rss ="
		" CASE WHEN ?4 IS NULL THEN (SELECT max(hwm) FROM proc WHERE run = ?1)"
		" ELSE max(?4, coalesce((SELECT max(hwm) FROM proc WHERE run = ?1), 0))"
		" END WHERE id = ?1",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "ending run");
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_double(st, 2, ended);
	if (exit_status >= 0)
		sqlite3_bind_int(st, 3, exit_status);
	else
		sqlite3_bind_null(st, 3);
	if (kernel_peak >= 0)
		sqlite3_bind_int64(st, 4, kernel_peak);
	else
		sqlite3_bind_null(st, 4);
	err = step_done(s, st, "ending run");
	sqlite3_finalize(st);
	return err;
}

struct proc_peak {
	int64_t proc, pages, tick;
};

static int by_proc(const void *a, const void *b)
{
	const struct proc_peak *x = a, *y = b;

	return (x->proc > y->proc) - (x->proc < y->proc);
}

/* Updates a process's peak, with its last tick, once per batch and only
 * when the peak rose: most batches of a steady process change nothing, and
 * an UPDATE per process per second was half of memtided's writing.  Its
 * last tick is written for certain when it ends (store_proc_end). */
static int update_proc_peaks(struct store *s, const struct store_sample *v, size_t n)
{
	struct proc_peak *pk = malloc(n * sizeof *pk);
	size_t i = 0;
	int err = 0;

	if (!pk)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		pk[k] = (struct proc_peak){v[k].proc, v[k].rss_pages, v[k].tick};
	qsort(pk, n, sizeof *pk, by_proc);
	while (i < n && !err) {
		sqlite3_stmt *st = s->st[ST_PROC_PEAK];
		struct proc_peak m = pk[i];
		int64_t known;

		for (; i < n && pk[i].proc == m.proc; i++) {
			if (pk[i].pages > m.pages)
				m.pages = pk[i].pages;
			if (pk[i].tick > m.tick)
				m.tick = pk[i].tick;
		}
		if (idmap_get(&s->peaks, m.proc, &known) && m.pages <= known)
			continue;
		sqlite3_bind_int64(st, 1, m.proc);
		sqlite3_bind_int64(st, 2, m.pages);
		sqlite3_bind_int64(st, 3, m.tick);
		if (!(err = step_done(s, st, "writing samples")))
			idmap_put(&s->peaks, m.proc, m.pages);
	}
	free(pk);
	return err;
}

int store_agg_put(struct store *s, const struct store_agg *a)
{
	sqlite3_stmt *st = s->st[ST_AGG_PUT];

	if (a->n <= 0)
		return 0;
	sqlite3_bind_int64(st, 1, a->proc);
	sqlite3_bind_int64(st, 2, a->bucket);
	sqlite3_bind_int64(st, 3, a->n);
	sqlite3_bind_int64(st, 4, a->rss_min);
	sqlite3_bind_int64(st, 5, a->rss_max);
	sqlite3_bind_int64(st, 6, (a->rss_sum + a->n / 2) / a->n);
	sqlite3_bind_int64(st, 7, (a->cpu_sum + a->n / 2) / a->n);
	sqlite3_bind_int64(st, 8, a->cpu_max);
	sqlite3_bind_int64(st, 9, a->threads_max);
	sqlite3_bind_int64(st, 10, a->rss_first);
	sqlite3_bind_int64(st, 11, a->rss_last);
	return step_done(s, st, "writing aggregates");
}

int store_agg_add(struct store *s, struct store_agg *a, int64_t proc,
		  int64_t bucket, int64_t rss, int64_t cpu, int64_t threads)
{
	int err = 0;

	if (a->n && (a->proc != proc || a->bucket != bucket)) {
		err = store_agg_put(s, a);
		a->n = a->rss_sum = a->cpu_sum = 0;
	}
	a->proc = proc;
	a->bucket = bucket;
	if (a->n == 0 || rss < a->rss_min)
		a->rss_min = rss;
	if (a->n == 0 || rss > a->rss_max)
		a->rss_max = rss;
	if (a->n == 0 || cpu > a->cpu_max)
		a->cpu_max = cpu;
	if (a->n == 0 || threads > a->threads_max)
		a->threads_max = threads;
	if (a->n == 0)
		a->rss_first = rss;
	a->rss_last = rss;
	a->rss_sum += rss;
	a->cpu_sum += cpu;
	a->n++;
	return err;
}

static int by_proc_tick(const void *a, const void *b)
{
	const struct store_sample *x = a, *y = b;

	if (x->proc != y->proc)
		return (x->proc > y->proc) - (x->proc < y->proc);
	return (x->tick > y->tick) - (x->tick < y->tick);
}

/* The sample_agg buckets of the n samples inserted (a batch holds about a
 * second of each process: a bucket or two each). */
static int update_aggregates(struct store *s, struct store_sample *v, size_t n)
{
	struct store_agg a = {0};
	int err = 0;

	qsort(v, n, sizeof *v, by_proc_tick);
	for (size_t i = 0; i < n && !err; i++)
		err = store_agg_add(s, &a, v[i].proc, v[i].tick / s->agg_ticks,
				    v[i].rss_pages, v[i].cpu_pm, v[i].threads);
	return err ? err : store_agg_put(s, &a);
}

int store_begin(struct store *s)
{
	return exec_sql(s, "BEGIN IMMEDIATE", "starting a transaction");
}

void store_rollback(struct store *s)
{
	/* An error may have rolled the transaction back already: then
	 * ROLLBACK fails, harmlessly. */
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	idmap_free(&s->peaks);
	idmap_free(&s->hwms);
}

int store_commit(struct store *s)
{
	int err = exec_sql(s, "COMMIT", "committing");

	if (err)
		store_rollback(s);
	return err;
}

/* Samples arrive grouped by tick (the sampler hands over whole ticks), so
 * the run's total at each tick is the sum of a contiguous stretch. */
int store_append(struct store *s, int64_t run, const struct store_sample *v,
		 size_t n)
{
	int64_t peak_pages = 0, tick_pages = 0, last_tick = -1, added = 0;
	/* Inside the caller's store_begin(), the caller commits. */
	int own = sqlite3_get_autocommit(s->db);
	/* The samples inserted, for sample_agg (a duplicate is not counted). */
	struct store_sample *ins = NULL;
	int err;

	if (n == 0)
		return 0;
	if (s->agg_ticks && !(ins = malloc(n * sizeof *ins)))
		return fail(s, -ENOMEM, "writing samples");
	if (own && (err = exec_sql(s, "BEGIN IMMEDIATE", "writing samples"))) {
		free(ins);
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = s->st[ST_SAMPLE];

		if (v[i].tick != last_tick) {
			tick_pages = 0;
			last_tick = v[i].tick;
		}
		tick_pages += v[i].rss_pages;
		if (tick_pages > peak_pages)
			peak_pages = tick_pages;
		sqlite3_bind_int64(st, 1, v[i].proc);
		sqlite3_bind_int64(st, 2, v[i].tick);
		sqlite3_bind_int64(st, 3, v[i].rss_pages);
		sqlite3_bind_int(st, 4, v[i].cpu_pm);
		sqlite3_bind_int(st, 5, v[i].threads);
		if ((err = step_done(s, st, "writing samples")))
			goto out;
		/* A second sample of a process at one tick is not stored: the
		 * run's count is of the rows there are. */
		if (sqlite3_changes(s->db) && ins)
			ins[added] = v[i];
		added += sqlite3_changes(s->db);
		if (v[i].pss_kib >= 0) {
			st = s->st[ST_SAMPLE_MEM];
			sqlite3_bind_int64(st, 1, v[i].proc);
			sqlite3_bind_int64(st, 2, v[i].tick);
			sqlite3_bind_int64(st, 3, v[i].pss_kib);
			sqlite3_bind_int64(st, 4, v[i].uss_kib);
			sqlite3_bind_int64(st, 5, v[i].swap_kib);
			if ((err = step_done(s, st, "writing samples")))
				goto out;
		}
	}
	if ((err = update_proc_peaks(s, v, n)))
		goto out;
	if (ins && (err = update_aggregates(s, ins, (size_t)added)))
		goto out;
	{
		sqlite3_stmt *st = s->st[ST_RUN_PROGRESS];

		sqlite3_bind_int64(st, 1, run);
		sqlite3_bind_int64(st, 2, added);
		sqlite3_bind_int64(st, 3, last_tick);
		sqlite3_bind_int64(st, 4, peak_pages);
		if ((err = step_done(s, st, "writing samples")))
			goto out;
	}
	if (own)
		err = exec_sql(s, "COMMIT", "writing samples");
out:
	if (err && own)
		store_rollback(s);
	free(ins);
	return err;
}

int store_run_resolve(struct store *s, const char *arg, int64_t *id)
{
	sqlite3_stmt *st;
	int rc;
	char *end;
	long long want = 0;

	if (arg && strcmp(arg, "last") != 0) {
		errno = 0;
		/* "-N" (mprof's relative index) or "~N": the Nth newest run. */
		want = strtoll(arg + (arg[0] == '~'), &end, 10);
		if (arg[0] == '~' && want > 0)
			want = -want;
		if (errno || *end || end == arg || want == 0) {
			snprintf(s->msg, sizeof s->msg,
				 "'%s' is not a run id (see memtide list)", arg);
			return -EINVAL;
		}
	}
	rc = sqlite3_prepare_v2(s->db,
				want > 0 ? "SELECT id FROM run WHERE id = ?"
				: want < 0 ? "SELECT id FROM run ORDER BY id DESC LIMIT 1 OFFSET ?"
					   : "SELECT max(id) FROM run",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "looking up run");
	if (want)
		sqlite3_bind_int64(st, 1, want > 0 ? want : -want - 1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, sql_code(rc), "looking up run");
	if (want < 0)
		snprintf(s->msg, sizeof s->msg, "no run %lld: fewer than %lld runs recorded",
			 want, -want);
	else if (want)
		snprintf(s->msg, sizeof s->msg, "no run %lld (see memtide list)", want);
	else
		snprintf(s->msg, sizeof s->msg, "no runs recorded yet");
	return -ENOENT;
}

int store_run_delete(struct store *s, int64_t run)
{
	static const char *const sql[] = {
		"DELETE FROM sample WHERE proc IN (SELECT id FROM proc WHERE run = ?1)",
		"DELETE FROM sample_mem WHERE proc IN (SELECT id FROM proc WHERE run = ?1)",
		"DELETE FROM sample_agg WHERE proc IN (SELECT id FROM proc WHERE run = ?1)",
		"DELETE FROM rollup WHERE proc IN (SELECT id FROM proc WHERE run = ?1)",
		"DELETE FROM proc_limit WHERE proc IN (SELECT id FROM proc WHERE run = ?1)",
		"DELETE FROM charge WHERE proc IN (SELECT id FROM proc WHERE run = ?1)",
		"DELETE FROM proc WHERE run = ?1",
		"DELETE FROM run WHERE id = ?1",
	};
	int err;

	if ((err = exec_sql(s, "BEGIN IMMEDIATE", "deleting run")))
		return err;
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
		if ((err = exec_bound(s, sql[i], "deleting run", run, 0, 0)))
			break;
	if (err) {
		store_rollback(s);
		return err;
	}
	/* Its proc ids may be given again: forget their peaks. */
	idmap_free(&s->peaks);
	idmap_free(&s->hwms);
	return exec_sql(s, "COMMIT", "deleting run");
}

int store_mark_add(struct store *s, const struct store_mark *m, int64_t *id)
{
	sqlite3_stmt *st;
	int rc, err;

	rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO mark(run, label, start, end, level, pid,"
				" mem_start, mem_end) VALUES (?,?,?,?,?,?,?,?)",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "adding marker");
	sqlite3_bind_int64(st, 1, m->run);
	sqlite3_bind_text(st, 2, m->label, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, m->start);
	if (m->end >= 0)
		sqlite3_bind_double(st, 4, m->end);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int(st, 5, m->level);
	if (m->pid > 0)
		sqlite3_bind_int(st, 6, m->pid);
	else
		sqlite3_bind_null(st, 6);
	if (m->mem_start >= 0)
		sqlite3_bind_int64(st, 7, m->mem_start);
	else
		sqlite3_bind_null(st, 7);
	if (m->mem_end >= 0)
		sqlite3_bind_int64(st, 8, m->mem_end);
	else
		sqlite3_bind_null(st, 8);
	err = step_done(s, st, "adding marker");
	sqlite3_finalize(st);
	if (!err && id)
		*id = sqlite3_last_insert_rowid(s->db);
	return err;
}

int store_mark_end(struct store *s, int64_t mark, double end, int64_t mem_end)
{
	sqlite3_stmt *st;
	int rc, err;

	rc = sqlite3_prepare_v2(s->db,
				"UPDATE mark SET end = ?2, mem_end = ?3 WHERE id = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "ending marker");
	sqlite3_bind_int64(st, 1, mark);
	sqlite3_bind_double(st, 2, end);
	if (mem_end >= 0)
		sqlite3_bind_int64(st, 3, mem_end);
	else
		sqlite3_bind_null(st, 3);
	err = step_done(s, st, "ending marker");
	sqlite3_finalize(st);
	return err;
}

int store_mark_end_label(struct store *s, int64_t run, const char *label,
			 long long uid, double end)
{
	sqlite3_stmt *st;
	int rc, err;

	rc = sqlite3_prepare_v2(s->db,
				"UPDATE mark SET end = ?3 WHERE id = (SELECT max(id) FROM mark"
				" WHERE run = ?1 AND label = ?2 AND end IS NULL"
				" AND (?4 IS NULL OR uid = ?4))",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "ending marker");
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, end);
	if (uid >= 0)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)uid);
	else
		sqlite3_bind_null(st, 4);
	err = step_done(s, st, "ending marker");
	sqlite3_finalize(st);
	if (err)
		return err;
	return sqlite3_changes(s->db) ? 0 : -ENOENT;
}

int store_mark_uid(struct store *s, int64_t mark, long long uid)
{
	sqlite3_stmt *st;
	int rc, err;

	if (uid < 0)
		return 0;
	rc = sqlite3_prepare_v2(s->db, "UPDATE mark SET uid = ?2 WHERE id = ?1", -1,
				&st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "recording a marker's sender");
	sqlite3_bind_int64(st, 1, mark);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)uid);
	err = step_done(s, st, "recording a marker's sender");
	sqlite3_finalize(st);
	return err;
}

int store_mark_expire(struct store *s, double cutoff, size_t max_rows,
		      size_t *deleted)
{
	sqlite3_stmt *st;
	int rc, err;

	*deleted = 0;
	/* mark_start (v5) makes this a range scan, not a walk of every mark. */
	rc = sqlite3_prepare_v2(s->db,
				"DELETE FROM mark WHERE id IN (SELECT id FROM mark"
				" WHERE start < ?1 LIMIT ?2)",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "expiring markers");
	sqlite3_bind_double(st, 1, cutoff);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max_rows);
	err = step_done(s, st, "expiring markers");
	sqlite3_finalize(st);
	if (!err)
		*deleted = (size_t)sqlite3_changes(s->db);
	return err;
}

int store_mark_outcome(struct store *s, int64_t mark, int64_t mem_peak,
		       const char *outcome)
{
	sqlite3_stmt *st;
	int rc, err;

	rc = sqlite3_prepare_v2(s->db,
				"UPDATE mark SET mem_peak = coalesce(?2, mem_peak),"
				" outcome = coalesce(?3, outcome) WHERE id = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "recording a marker's peak");
	sqlite3_bind_int64(st, 1, mark);
	if (mem_peak >= 0)
		sqlite3_bind_int64(st, 2, mem_peak);
	if (outcome)
		sqlite3_bind_text(st, 3, outcome, -1, SQLITE_STATIC);
	err = step_done(s, st, "recording a marker's peak");
	sqlite3_finalize(st);
	return err;
}

int store_pid_hwm(struct store *s, int64_t run, int pid, int64_t hwm_bytes)
{
	return exec_bound(s, "UPDATE proc SET hwm = max(coalesce(hwm, 0), ?3) WHERE id ="
			     " (SELECT max(id) FROM proc WHERE run = ?1 AND pid = CAST(?2 AS INTEGER))",
			  "recording high-water mark", run, pid, hwm_bytes);
}

/* ---- v5: how a process ended, its cgroup, group and memory limits. */

static void bind_positive_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	if (v > 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int store_proc_exit(struct store *s, int64_t proc, int status, int oom_killed)
{
	sqlite3_stmt *st;
	int rc, err;

	rc = sqlite3_prepare_v2(s->db,
				"UPDATE proc SET exit_code = ?2, exit_signal = ?3,"
				" oom_killed = ?4 WHERE id = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "recording how a process ended");
	sqlite3_bind_int64(st, 1, proc);
	if (status >= 0 && WIFEXITED(status))
		sqlite3_bind_int(st, 2, WEXITSTATUS(status));
	else if (status >= 0 && WIFSIGNALED(status))
		sqlite3_bind_int(st, 3, WTERMSIG(status));
	if (oom_killed >= 0)
		sqlite3_bind_int(st, 4, oom_killed);
	err = step_done(s, st, "recording how a process ended");
	sqlite3_finalize(st);
	return err;
}

int store_proc_cgroup(struct store *s, int64_t proc, const char *cgroup,
		      const char *group)
{
	sqlite3_stmt *st;
	int rc, err;

	rc = sqlite3_prepare_v2(s->db, "UPDATE proc SET cgroup = ?2, grp = ?3 WHERE id = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, sql_code(rc), "recording a process's cgroup");
	sqlite3_bind_int64(st, 1, proc);
	bind_text_or_null(st, 2, cgroup);
	bind_text_or_null(st, 3, group);
	err = step_done(s, st, "recording a process's cgroup");
	sqlite3_finalize(st);
	return err;
}

int store_proc_limit(struct store *s, int64_t proc, double t, int64_t limit,
		     int64_t high)
{
	static const char *const sql[] = {
		"INSERT OR REPLACE INTO proc_limit(proc, t, memory_limit, memory_high)"
		" VALUES (?1, ?2, ?3, ?4)",
		"UPDATE proc SET memory_limit = ?3, memory_high = ?4 WHERE id = ?1",
	};
	int err = 0;

	for (size_t i = 0; i < 2 && !err; i++) {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL);

		if (rc != SQLITE_OK)
			return fail(s, sql_code(rc), "recording a memory limit");
		sqlite3_bind_int64(st, 1, proc);
		sqlite3_bind_double(st, 2, t);
		bind_positive_or_null(st, 3, limit);
		bind_positive_or_null(st, 4, high);
		err = step_done(s, st, "recording a memory limit");
		sqlite3_finalize(st);
	}
	return err;
}

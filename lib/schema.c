/* schema.c - the SQL of each schema version and the forward migrations.
 *
 * "Write strictly the current version, read any": migrations[i] takes a
 * database from user_version i to i + 1, all of them run in one transaction.
 */
#include "schema.h"

#include <stddef.h>

static const char v1[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE run("
	" id INTEGER PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" command TEXT NOT NULL,"
	" label TEXT,"
	" started REAL NOT NULL,"
	" ended REAL,"
	" interval REAL NOT NULL,"
	" page_size INTEGER NOT NULL,"
	" backend TEXT NOT NULL DEFAULT 'rss',"
	" samples INTEGER NOT NULL DEFAULT 0,"
	" last_tick INTEGER,"
	" peak_rss INTEGER,"
	" kernel_peak_rss INTEGER,"
	" exit_status INTEGER,"
	" host TEXT,"
	" boot_id TEXT);"
	"CREATE TABLE proc("
	" id INTEGER PRIMARY KEY,"
	" run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,"
	" pid INTEGER NOT NULL,"
	" ppid INTEGER,"
	" parent INTEGER,"
	" start_ticks INTEGER NOT NULL,"
	" started REAL,"
	" ended REAL,"
	" first_tick INTEGER,"
	" last_tick INTEGER,"
	" exe TEXT,"
	" cmdline TEXT,"
	" argv BLOB,"
	" peak_rss INTEGER,"
	" hwm INTEGER);"
	"CREATE UNIQUE INDEX proc_ident ON proc(run, pid, start_ticks);"
	"CREATE TABLE sample("
	" proc INTEGER NOT NULL,"
	" tick INTEGER NOT NULL,"
	" rss INTEGER NOT NULL,"
	" cpu INTEGER NOT NULL,"
	" threads INTEGER NOT NULL,"
	" PRIMARY KEY(proc, tick)) WITHOUT ROWID;"
	"CREATE TABLE sample_mem("
	" proc INTEGER NOT NULL,"
	" tick INTEGER NOT NULL,"
	" pss INTEGER, uss INTEGER, swap INTEGER,"
	" PRIMARY KEY(proc, tick)) WITHOUT ROWID;"
	"CREATE VIEW runs AS SELECT id AS run, started, ended, command,"
	" peak_rss * page_size AS peak_rss, kernel_peak_rss, label, kind,"
	" interval, samples, exit_status, backend FROM run;"
	"CREATE VIEW processes AS SELECT p.run AS run, p.pid AS pid, p.ppid AS ppid,"
	" p.cmdline AS command, p.started AS started, p.ended AS ended, p.exe AS exe,"
	" p.peak_rss * r.page_size AS peak_rss, p.hwm AS kernel_peak_rss,"
	" p.id AS proc FROM proc p JOIN run r ON r.id = p.run;"
	"CREATE VIEW samples AS SELECT p.run AS run, p.pid AS pid,"
	" r.started + s.tick * r.interval AS t, s.rss * r.page_size AS rss,"
	" s.cpu / 10.0 AS cpu, s.threads AS threads, s.proc AS proc, s.tick AS tick"
	" FROM sample s JOIN proc p ON p.id = s.proc JOIN run r ON r.id = p.run;"
	"CREATE VIEW samples_mem AS SELECT p.run AS run, p.pid AS pid,"
	" r.started + m.tick * r.interval AS t, m.pss * 1024 AS pss,"
	" m.uss * 1024 AS uss, m.swap * 1024 AS swap, m.proc AS proc, m.tick AS tick"
	" FROM sample_mem m JOIN proc p ON p.id = m.proc JOIN run r ON r.id = p.run;";

/* v2: daemon history (rule, unit, Python-aware names, per-process
 * intervals), markers and per-minute rollups. */
static const char v2[] =
	"ALTER TABLE proc ADD COLUMN name TEXT;"
	"ALTER TABLE proc ADD COLUMN interpreter TEXT;"
	"ALTER TABLE proc ADD COLUMN script TEXT;"
	"ALTER TABLE proc ADD COLUMN module TEXT;"
	"ALTER TABLE proc ADD COLUMN venv TEXT;"
	"ALTER TABLE proc ADD COLUMN uid INTEGER;"
	"ALTER TABLE proc ADD COLUMN unit TEXT;"
	"ALTER TABLE proc ADD COLUMN rule TEXT;"
	"ALTER TABLE proc ADD COLUMN interval REAL;"
	"CREATE INDEX proc_started ON proc(started);"
	"CREATE TABLE mark("
	" id INTEGER PRIMARY KEY,"
	" run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,"
	" label TEXT NOT NULL,"
	" start REAL NOT NULL,"
	" end REAL,"
	" level INTEGER NOT NULL DEFAULT 0,"
	" pid INTEGER,"
	" mem_start INTEGER,"
	" mem_end INTEGER);"
	"CREATE INDEX mark_run ON mark(run, start);"
	"CREATE TABLE rollup("
	" proc INTEGER NOT NULL,"
	" minute INTEGER NOT NULL,"
	" n INTEGER NOT NULL,"
	" rss_min INTEGER NOT NULL,"
	" rss_max INTEGER NOT NULL,"
	" rss_mean INTEGER NOT NULL,"
	" cpu_mean INTEGER NOT NULL,"
	" cpu_max INTEGER NOT NULL,"
	" threads_max INTEGER NOT NULL,"
	" pss_min INTEGER, pss_max INTEGER, pss_mean INTEGER,"
	" uss_mean INTEGER, swap_max INTEGER,"
	" PRIMARY KEY(proc, minute)) WITHOUT ROWID;"
	"DROP VIEW processes;"
	"CREATE VIEW processes AS SELECT p.run AS run, p.pid AS pid, p.ppid AS ppid,"
	" p.cmdline AS command, p.started AS started, p.ended AS ended, p.exe AS exe,"
	" p.peak_rss * r.page_size AS peak_rss, p.hwm AS kernel_peak_rss,"
	" p.id AS proc, coalesce(p.name, p.cmdline) AS name, p.interpreter AS"
	" interpreter, p.script AS script, p.module AS module, p.venv AS venv,"
	" p.uid AS uid, p.unit AS unit, p.rule AS rule,"
	" coalesce(p.interval, r.interval) AS interval"
	" FROM proc p JOIN run r ON r.id = p.run;"
	"CREATE VIEW marks AS SELECT m.run AS run, m.label AS label,"
	" m.start AS start, m.end AS end, m.level AS level, m.pid AS pid,"
	" m.mem_start AS mem_start, m.mem_end AS mem_end, m.id AS mark FROM mark m;"
	"CREATE VIEW samples_minute AS SELECT p.run AS run, p.pid AS pid,"
	" u.minute * 60 AS t, u.n AS n, u.rss_min * r.page_size AS rss_min,"
	" u.rss_max * r.page_size AS rss_max, u.rss_mean * r.page_size AS rss_mean,"
	" u.cpu_mean / 10.0 AS cpu, u.cpu_max / 10.0 AS cpu_max,"
	" u.threads_max AS threads, u.pss_min * 1024 AS pss_min,"
	" u.pss_max * 1024 AS pss_max, u.pss_mean * 1024 AS pss_mean,"
	" u.uss_mean * 1024 AS uss_mean, u.swap_max * 1024 AS swap_max,"
	" u.proc AS proc, u.minute AS minute"
	" FROM rollup u JOIN proc p ON p.id = u.proc JOIN run r ON r.id = p.run;";

/* v3: per-second aggregates of runs sampled more often than every 0.25 s,
 * written with their samples, for charts of long windows. */
static const char v3[] =
	"CREATE TABLE sample_agg("
	" proc INTEGER NOT NULL,"
	" bucket INTEGER NOT NULL,"
	" n INTEGER NOT NULL,"
	" rss_min INTEGER NOT NULL,"
	" rss_max INTEGER NOT NULL,"
	" rss_mean INTEGER NOT NULL,"
	" cpu_mean INTEGER NOT NULL,"
	" cpu_max INTEGER NOT NULL,"
	" threads_max INTEGER NOT NULL,"
	" rss_first INTEGER NOT NULL,"
	" rss_last INTEGER NOT NULL,"
	" PRIMARY KEY(proc, bucket)) WITHOUT ROWID;";

/* v4: the ticks memtide run and attach skipped because they woke up too
 * late (a busy machine), so a hole in a run's samples is told apart from a
 * process that was not there. */
static const char v4[] =
	"ALTER TABLE run ADD COLUMN skipped INTEGER;"
	"DROP VIEW runs;"
	"CREATE VIEW runs AS SELECT id AS run, started, ended, command,"
	" peak_rss * page_size AS peak_rss, kernel_peak_rss, label, kind,"
	" interval, samples, exit_status, backend, skipped FROM run;";

static const char *const migrations[] = {v1, v2, v3, v4};

const char *schema_migration(int from_version)
{
	if (from_version < 0 ||
	    (size_t)from_version >= sizeof migrations / sizeof migrations[0])
		return NULL;
	return migrations[from_version];
}

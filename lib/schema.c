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

static const char *const migrations[] = {v1};

const char *schema_migration(int from_version)
{
	if (from_version < 0 ||
	    (size_t)from_version >= sizeof migrations / sizeof migrations[0])
		return NULL;
	return migrations[from_version];
}

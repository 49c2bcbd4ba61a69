/* config.h - memtided.conf: the [memtided] settings and the [track] rules.
 *
 * The file is INI:
 *
 *     [memtided]
 *     database = /var/lib/memtide/memtide.db
 *     interval = 1s          ; default sampling interval (multiple of 10 ms)
 *     scan = 2s              ; /proc scan period
 *     retention = 14d        ; raw samples older than this are rolled up
 *     rollup_retention = 400d ; per-minute rollups older than this are dropped
 *     log_level = info       ; error, warning, notice, info, debug
 *     metrics = 127.0.0.1:9756  ; stored for the metrics endpoint
 *     redact = (--db-pw)=(.*)  ; repeatable: a rule hiding secrets (redact.h)
 *     per_process_metrics = no  ; also one series per process (pid labels)
 *     [track "workers"]      ; a rule: every key present must match
 *     python = yes           ; exe basename python/pypy or libpython mapped
 *     cmdline = celery|gunicorn  ; POSIX ERE on argv joined by spaces
 *     user = www-data        ; a user name or a uid
 *     unit = myapp.service   ; systemd unit, from /proc/PID/cgroup
 *     pid = 1234
 *     children = yes         ; descendants of a match are tracked too
 *     interval = 200ms       ; this rule's sampling interval
 *     pss = yes              ; also read smaps_rollup (PSS, USS, swap)
 *     cgroup = ^/kubepods    ; POSIX ERE on the cgroup path (cgroup.h)
 *     group = {{.Script}}    ; the metrics group, a template (grouptpl.h);
 *                            ; default: the rule's name
 *     stacks = yes           ; read Python stacks, charge growth to code
 *
 * Lines: "key = value", "[section]", blank, or a comment starting with ';'
 * or '#'.  A value may be "double-quoted"; otherwise " ;" (whitespace then
 * ';') starts an inline comment.  A file without any [track] section tracks
 * every Python process (one implicit rule named "python").
 *
 * Every setting is one row of the table in config.c (name, type, default,
 * bounds), the only place that knows it.  Errors are one line,
 * "FILE:LINE: message", in the caller's buffer; the library prints nothing.
 */
#ifndef MEMTIDE_CONFIG_H
#define MEMTIDE_CONFIG_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH "/etc/memtide/memtided.conf"
#define CONFIG_DEFAULT_DB "/var/lib/memtide/memtide.db"
#define CONFIG_TICK_NS 10000000LL /* memtided's base tick: 10 ms */

/* syslog's numbers, so the daemon can prefix them for the journal. */
enum config_log_level {
	CONFIG_LOG_ERROR = 3,
	CONFIG_LOG_WARNING = 4,
	CONFIG_LOG_NOTICE = 5,
	CONFIG_LOG_INFO = 6,
	CONFIG_LOG_DEBUG = 7,
};

struct config_rule {
	char *name;
	int line;             /* the line of its [track "NAME"] */
	int python;           /* -1 unset, else 0 or 1 */
	char *cmdline;        /* the ERE as written, NULL unset */
	regex_t cmdline_re;   /* compiled when cmdline is set */
	long uid;             /* -1 unset */
	char *user;           /* as written, NULL unset */
	char *unit;           /* NULL unset */
	long pid;             /* 0 unset */
	int children;         /* 0 or 1 */
	int64_t interval_ns;  /* 0: the [memtided] interval */
	int pss;              /* 0 or 1 */
	char *cgroup;         /* the ERE on the cgroup path, NULL unset */
	regex_t cgroup_re;    /* compiled when cgroup is set */
	char *group;          /* a group template (grouptpl.h), NULL: the name */
	int stacks;           /* 0 or 1: Python stacks (stackwatch.h) */
};

struct config {
	char *path;           /* the file read, NULL for the built-in defaults */
	char *database;
	int64_t interval_ns;  /* a multiple of CONFIG_TICK_NS */
	int64_t scan_ns;
	int64_t retention_ns;
	int64_t rollup_retention_ns;
	int log_level;        /* enum config_log_level */
	char *metrics;        /* HOST:PORT, or NULL */
	char *markers;        /* the marker socket's path (marksock.h), or NULL */
	char **redact;        /* EREs (checked to compile) hiding secrets in command
			       * lines, after the default rules (redact.h) */
	size_t nredact;
	int per_process_metrics; /* 0 or 1: per-pid series on the metrics page */
	struct config_rule *rules;
	size_t nrules;        /* >= 1: the implicit "python" rule when none given */
};

/* Fills c with the defaults and the implicit rule.  Returns 0 or -ENOMEM. */
int config_defaults(struct config *c);

/* Parses text (len bytes) read from the file named path (used in messages).
 * Returns 0 and a config to config_free(), or -EINVAL with "PATH:LINE:
 * message" in err (c is then left empty), or -ENOMEM. */
int config_parse(const char *path, const char *text, size_t len,
		 struct config *c, char *err, size_t errlen);

/* Reads and parses the file at path.  A file that cannot be read gives
 * -errno and "PATH: reason" in err. */
int config_load(const char *path, struct config *c, char *err, size_t errlen);

void config_free(struct config *c);

/* The sampling interval of a rule, ns (its own or the default). */
int64_t config_rule_interval(const struct config *c, const struct config_rule *r);

/* The name of a log level ("info"), or NULL. */
const char *config_level_name(int level);

#endif
